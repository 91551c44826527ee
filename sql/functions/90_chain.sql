-- The tamper-evident record: the hash chain over the event log, checkpoint
-- requests and their signed results, and the audit reads (docs/audit.md
-- defines the bytes; anyone can recompute them without streetd).
--
--   canonical(e)  one line of text per event (st_event_canonical)
--   h_0           32 zero bytes
--   h_n           SHA-256( hex(h_prev) || canonical(e_n) ), hex lower case,
--                 where h_prev is the hash of the event chained before e_n
--
-- The chain is advanced after commit, by the leader instance's follower
-- (st_follow, 80_follow.sql), never inside an action's transaction: actions
-- would otherwise serialise on the chain's head.

-- The canonical text of an event: its columns (all but xid, which is
-- PostgreSQL's bookkeeping) separated by tabs, NULL as the empty string, at
-- in UTC with microseconds, data as PostgreSQL prints jsonb (keys ordered,
-- no raw tab or newline: jsonb escapes them).  Changing this breaks every
-- chain already computed: never change it, add a version instead.  STABLE,
-- as to_char and enum output are: declared IMMUTABLE it would not be inlined
-- (2.5 times slower per event).
CREATE OR REPLACE FUNCTION st_event_canonical(e ticket_event) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT e.seq::text || E'\t' ||
		to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\t' ||
		e.ticket_id::text || E'\t' ||
		coalesce(e.actor_id::text, '') || E'\t' ||
		e.action || E'\t' ||
		coalesce(e.from_state::text, '') || E'\t' ||
		e.to_state::text || E'\t' ||
		e.version::text || E'\t' ||
		e.street_id::text || E'\t' ||
		e.district_id::text || E'\t' ||
		e.reporter_id::text || E'\t' ||
		coalesce(e.department_id::text, '') || E'\t' ||
		e.category_id::text || E'\t' ||
		e.grid_id::text || E'\t' ||
		e.data::text
$$;

CREATE OR REPLACE FUNCTION st_chain_hash(p_prev bytea, p_canonical text) RETURNS bytea
LANGUAGE sql STABLE AS $$
	SELECT sha256(convert_to(encode(p_prev, 'hex') || p_canonical, 'UTF8'))
$$;

-- Chains up to p_limit events after the chain's position, in seq order;
-- returns how many.  Holes (sql/functions/60_log.sql): a missing seq may
-- still be filled by a running transaction, so the chain stops there until
-- the hole is settled.  The rule, kept across calls in chain_state: when a
-- call is blocked it takes a fresh xid (probe) and notes the log's newest
-- seq at its snapshot (probe_seq).  Every transaction that held a seq <=
-- probe_seq had its xid before taking it, so before the probe; once a later
-- snapshot's xmin passes the probe, they have all ended and a seq <=
-- probe_seq still missing is a hole forever, skipped.  A blocked call keeps
-- an unsettled probe rather than taking a new one, so that a busy log still
-- settles.  Callers are serialised by an advisory lock (two leaders for a
-- moment chain once).
CREATE OR REPLACE FUNCTION st_chain_advance(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	st chain_state;
	snap_xmin xid8;
	newest bigint;
	settled bigint := 0;
	e record;
	h bytea;
	n integer := 0;
	blocked boolean := false;
	-- the batch's rows, inserted in one statement at the end
	seqs bigint[] := '{}';
	prevs bigint[] := '{}';
	hashes bytea[] := '{}';
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('streetd.chain'));
	SELECT * INTO STRICT st FROM chain_state;
	SELECT pg_snapshot_xmin(pg_current_snapshot()), coalesce(max(t.seq), 0)
		INTO snap_xmin, newest FROM ticket_event t;
	IF st.probe IS NOT NULL AND snap_xmin > st.probe THEN
		settled := st.probe_seq;
	END IF;
	-- each hash needs the one before it, so they are computed in turn; the
	-- canonical texts come with the events
	FOR e IN SELECT t.seq, st_event_canonical(t) AS canonical FROM ticket_event t
		WHERE t.seq > st.last_seq ORDER BY t.seq LIMIT p_limit
	LOOP
		IF e.seq > st.last_seq + 1 AND e.seq - 1 > settled THEN
			blocked := true;
			EXIT;
		END IF;
		h := st_chain_hash(st.head, e.canonical);
		n := n + 1;
		seqs[n] := e.seq;
		prevs[n] := nullif(st.head_seq, 0);
		hashes[n] := h;
		st.head := h;
		st.head_seq := e.seq;
		st.last_seq := e.seq;
	END LOOP;
	INSERT INTO event_hash (seq, prev_seq, hash)
	SELECT * FROM unnest(seqs, prevs, hashes);
	IF blocked THEN
		IF st.probe IS NULL OR snap_xmin > st.probe THEN
			st.probe := pg_current_xact_id();
			st.probe_seq := newest;
		END IF;
	ELSIF st.probe IS NOT NULL AND st.last_seq >= st.probe_seq THEN
		st.probe := NULL;
		st.probe_seq := NULL;
	END IF;
	UPDATE chain_state c SET last_seq = st.last_seq, head_seq = st.head_seq, head = st.head,
		probe = st.probe, probe_seq = st.probe_seq
	WHERE (c.last_seq, c.probe, c.probe_seq) IS DISTINCT FROM (st.last_seq, st.probe, st.probe_seq);
	RETURN n;
END
$$;

-- ---- checkpoints ----

-- The lines of a checkpoint that the signer and the store agree on; the
-- signed body is these and then "at TIME\n".
CREATE OR REPLACE FUNCTION st_checkpoint_prefix(p_seq bigint, p_head bytea, p_reason text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT 'streetd checkpoint v1' || E'\n' || 'seq ' || p_seq || E'\n' ||
		'head ' || encode(p_head, 'hex') || E'\n' || 'reason ' || p_reason || E'\n'
$$;

-- Asks for a signed checkpoint covering every event committed so far (as the
-- caller sees the log: its own transaction's events included).  For the
-- period lock (reason 'period_lock FROM..TO') and for operators.  Not
-- SECURITY DEFINER: the daemon's role cannot call it on its own, only
-- through a function that can (or as the owner).  Returns the request's id.
CREATE OR REPLACE FUNCTION st_checkpoint_request(p_reason text) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
	INSERT INTO checkpoint_request (reason, upto)
	VALUES (p_reason, coalesce((SELECT max(seq) FROM ticket_event), 0))
	RETURNING id
$$;

-- What the leader should sign now: every pending request the chain has
-- reached, each with the body to sign.  Adds a periodic request when the last
-- checkpoint is older than p_interval_ms or p_events events behind the head
-- (and the head has moved).
CREATE OR REPLACE FUNCTION st_checkpoint_due(p_interval_ms bigint, p_events bigint)
RETURNS TABLE (request_id bigint, seq bigint, body text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	st chain_state;
	last checkpoint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('streetd.checkpoint'));
	SELECT * INTO STRICT st FROM chain_state;
	IF st.head_seq = 0 THEN
		RETURN;
	END IF;
	SELECT * INTO last FROM checkpoint c ORDER BY c.id DESC LIMIT 1;
	IF NOT EXISTS (SELECT 1 FROM checkpoint_request r WHERE r.done_at IS NULL)
		AND (last.id IS NULL OR (st.head_seq > last.seq
			AND (now() - last.signed_at >= p_interval_ms * interval '1 millisecond'
				OR st.head_seq - last.seq >= p_events)))
	THEN
		INSERT INTO checkpoint_request (reason, upto) VALUES ('periodic', st.head_seq);
	END IF;
	RETURN QUERY
	SELECT r.id, st.head_seq, st_checkpoint_prefix(st.head_seq, st.head, r.reason) ||
		'at ' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
	FROM checkpoint_request r
	WHERE r.done_at IS NULL AND r.upto <= st.last_seq
	ORDER BY r.id;
END
$$;

-- Stores a checkpoint the daemon signed (p_body as st_checkpoint_due gave it,
-- p_signature over it, p_cert the PEM of the signing key's certificate).
-- Returns its id, or NULL when the request was already signed (two leaders
-- for a moment).  The body must name the chain's hash at p_seq.
CREATE OR REPLACE FUNCTION st_checkpoint_store(p_request bigint, p_seq bigint, p_body text,
	p_signature bytea, p_cert text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	r checkpoint_request;
	h bytea;
	pre text;
	id bigint;
BEGIN
	SELECT * INTO r FROM checkpoint_request c WHERE c.id = p_request FOR UPDATE;
	IF NOT FOUND OR r.done_at IS NOT NULL THEN
		RETURN NULL;
	END IF;
	SELECT x.hash INTO h FROM event_hash x WHERE x.seq = p_seq;
	pre := st_checkpoint_prefix(p_seq, h, r.reason);
	IF h IS NULL OR left(p_body, length(pre)) IS DISTINCT FROM pre OR length(p_signature) = 0
		OR p_cert NOT LIKE '-----BEGIN CERTIFICATE-----%'
	THEN
		PERFORM st_fail('SD400', format('checkpoint for request %s does not match the chain',
			p_request));
	END IF;
	INSERT INTO checkpoint (request_id, seq, head, reason, body, signature, cert)
	VALUES (p_request, p_seq, h, r.reason, p_body, p_signature, p_cert)
	RETURNING checkpoint.id INTO id;
	UPDATE checkpoint_request c SET done_at = now() WHERE c.id = p_request;
	RETURN id;
END
$$;

-- ---- the audit reads (ops audit_events, audit_checkpoints) ----

-- The chain covers every ticket's content, so reading it is for city-wide
-- supervisors (the auditors); checkpoints carry no ticket data and may also
-- be fetched by admins, to publish them.
CREATE OR REPLACE FUNCTION st_audit_check(a account, p_admin_ok boolean) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT ((a.role = 'supervisor' AND a.district_id IS NULL)
		OR (p_admin_ok AND a.role = 'admin'))
	THEN
		PERFORM st_fail('SD403', CASE WHEN p_admin_ok
			THEN 'checkpoints are for city-wide supervisors and admins'
			ELSE 'the audit log is for city-wide supervisors' END);
	END IF;
END
$$;

-- The chained part of the log after p_after, in seq order: every seq that
-- has an event or a hash (so a removed event shows as a hash without its
-- event, an inserted one as an event without its hash), each with the
-- canonical text of the event as it is now, the stored hash and the link.
-- A page holds at most p_limit (default 1000) rows and st_page_bytes().
-- after_seq, after_hash: the last chained event at or before p_after, where
-- an export that starts after p_after starts its chain (null: at h_0).
CREATE OR REPLACE FUNCTION st_audit_events(p_actor integer, p_after bigint, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	lim integer := coalesce(p_limit, 1000);
	after bigint := coalesce(p_after, 0);
	st chain_state;
	evs jsonb;
	nxt bigint;
	start event_hash;
BEGIN
	PERFORM st_audit_check(st_actor(p_actor), false);
	SELECT * INTO start FROM event_hash x WHERE x.seq <= after ORDER BY x.seq DESC LIMIT 1;
	SELECT * INTO STRICT st FROM chain_state;
	WITH s AS (
		SELECT u.seq FROM (
			(SELECT t.seq FROM ticket_event t WHERE t.seq > after AND t.seq <= st.last_seq
				ORDER BY t.seq LIMIT lim + 1)
			UNION
			(SELECT x.seq FROM event_hash x WHERE x.seq > after AND x.seq <= st.last_seq
				ORDER BY x.seq LIMIT lim + 1)) u
		ORDER BY u.seq LIMIT lim + 1),
	cand AS (
		SELECT y.seq, y.j, row_number() OVER w AS n,
			sum(octet_length(y.j::text) + 1) OVER w AS upto
		FROM (SELECT s.seq, jsonb_build_object('seq', s.seq, 'prev', x.prev_seq,
				'hash', encode(x.hash, 'hex'),
				'canonical', CASE WHEN t.seq IS NOT NULL THEN st_event_canonical(t) END) AS j
			FROM s LEFT JOIN ticket_event t ON t.seq = s.seq
			LEFT JOIN event_hash x ON x.seq = s.seq) y
		WINDOW w AS (ORDER BY y.seq)),
	page AS (
		SELECT * FROM cand WHERE n <= lim AND (n = 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT max(seq) FROM page) END
	INTO evs, nxt;
	RETURN jsonb_build_object('events', evs, 'next', nxt, 'chained', st.last_seq,
		'head_seq', st.head_seq, 'head', encode(st.head, 'hex'),
		'after_seq', start.seq, 'after_hash', encode(start.hash, 'hex'));
END
$$;

-- Signed checkpoints after id p_after, oldest first, paged like the events.
CREATE OR REPLACE FUNCTION st_audit_checkpoints(p_actor integer, p_after bigint, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	lim integer := coalesce(p_limit, 100);
	cps jsonb;
	nxt bigint;
BEGIN
	PERFORM st_audit_check(st_actor(p_actor), true);
	WITH cand AS (
		SELECT y.id, y.j, row_number() OVER w AS n,
			sum(octet_length(y.j::text) + 1) OVER w AS upto
		FROM (SELECT c.id, jsonb_build_object('id', c.id, 'seq', c.seq,
				'head', encode(c.head, 'hex'), 'reason', c.reason,
				'signed_at', c.signed_at, 'body', c.body,
				'signature', translate(encode(c.signature, 'base64'), E'\n', ''),
				'cert', c.cert) AS j
			FROM checkpoint c WHERE c.id > coalesce(p_after, 0)
			ORDER BY c.id LIMIT lim + 1) y
		WINDOW w AS (ORDER BY y.id)),
	page AS (
		SELECT * FROM cand WHERE n <= lim AND (n = 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT max(id) FROM page) END
	INTO cps, nxt;
	RETURN jsonb_build_object('checkpoints', cps, 'next', nxt);
END
$$;
