-- The read side.  Every function returns one jsonb value shaped like the
-- "result" object of docs/protocol.md, which the daemon sends as it is.  Like
-- the actions (004) they take the acting account first, refuse an unknown or
-- disabled one (SD403), and answer SD404 for a ticket the account may not see,
-- never leaking whether it exists.  Bad arguments are SD400.
--
-- Who sees what is st_sees (20_helpers.sql), asked through st_visible.  The
-- lists below also state each role's scope as an equality on an indexed
-- column, only as the access path (so that a street's, a department's or a
-- reporter's tickets are read from their own index however many tickets
-- there are); what they return is filtered by st_visible, the one rule.
--
-- These are plpgsql functions where they read the photos of 006: plpgsql
-- resolves table names when a function first runs, not when it is created.

CREATE OR REPLACE FUNCTION st_account_json(a account) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'login', a.login, 'name', a.name,
		'name_en', a.name_en, 'role', a.role, 'district_id', a.district_id,
		'street_id', a.street_id, 'department_id', a.department_id, 'disabled', a.disabled,
		'grids', coalesce((SELECT jsonb_agg(g.grid_id ORDER BY g.grid_id)
			FROM account_grid g WHERE g.account_id = a.id), '[]'))
$$;

-- At TLS authentication: the account whose certificate name this is, or NULL.
-- p_issuer_spki, p_serial, p_spki describe the peer certificate as the pins
-- do.  A pinned account whose pin does not match is not returned: the result
-- is {"refused": why, "login": ...}.  Otherwise the account (disabled ones
-- too, with disabled = true: the daemon refuses them) with its revision and
-- whether it is pinned.
CREATE OR REPLACE FUNCTION st_account_by_cn(p_cn text, p_issuer_spki text DEFAULT NULL,
	p_serial text DEFAULT NULL, p_spki text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT CASE
		WHEN a.pin_issuer_spki IS NOT NULL AND a.pin_issuer_spki IS DISTINCT FROM p_issuer_spki
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not from the CA account ' || a.login || ' is pinned to')
		WHEN a.pin_serial IS NOT NULL AND a.pin_serial IS DISTINCT FROM p_serial
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not the one account ' || a.login || ' is pinned to (serial)')
		WHEN a.pin_spki IS NOT NULL AND a.pin_spki IS DISTINCT FROM p_spki
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not the one account ' || a.login || ' is pinned to (key)')
		ELSE st_account_json(a) || jsonb_build_object('revision', a.revision,
			'pinned', a.pin_issuer_spki IS NOT NULL)
	END
	FROM account a WHERE a.cert_cn = p_cn
$$;

-- Which of these sessions' accounts changed since login: p_ids[i] logged in
-- at revision p_revisions[i] (the oldest of its sessions).  Returns
-- [[id, revision, disabled], ...] for each account that is gone (revision
-- null, disabled true), disabled, or now at another revision; [] when none.
CREATE OR REPLACE FUNCTION st_changed_accounts(p_ids integer[], p_revisions bigint[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(x.id, a.revision,
		coalesce(a.disabled, true))), '[]')
	FROM unnest(p_ids, p_revisions) AS x (id, rev)
	LEFT JOIN account a ON a.id = x.id
	WHERE x.id IS NOT NULL
		AND (a.id IS NULL OR a.disabled OR a.revision IS DISTINCT FROM x.rev)
$$;

CREATE OR REPLACE FUNCTION st_whoami(p_actor integer) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
BEGIN
	a := st_actor(p_actor);
	-- street staff and collectors are in their street's district: say which
	RETURN jsonb_build_object('account', st_account_json(a) - 'disabled'
		|| jsonb_build_object('district_id', coalesce(a.district_id,
			(SELECT s.district_id FROM street s WHERE s.id = a.street_id))),
		'protocol', 1);
END
$$;

CREATE OR REPLACE FUNCTION st_categories(p_actor integer) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
BEGIN
	PERFORM st_actor(p_actor);
	RETURN jsonb_build_object('categories', coalesce((
		SELECT jsonb_agg(jsonb_build_object('id', c.id, 'parent_id', c.parent_id,
			'code', c.code, 'name', c.name, 'name_en', c.name_en, 'urgent', c.urgent,
			'dispatch_s', c.dispatch_s, 'accept_s', c.accept_s, 'resolve_s', c.resolve_s,
			'feedback_s', c.feedback_s, 'urgent_dispatch_s', c.urgent_dispatch_s,
			'urgent_accept_s', c.urgent_accept_s, 'urgent_resolve_s', c.urgent_resolve_s,
			'urgent_feedback_s', c.urgent_feedback_s) ORDER BY c.id)
		FROM category c), '[]'));
END
$$;

CREATE OR REPLACE FUNCTION st_departments(p_actor integer) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
BEGIN
	PERFORM st_actor(p_actor);
	RETURN jsonb_build_object('departments', coalesce((
		SELECT jsonb_agg(jsonb_build_object('id', d.id, 'code', d.code, 'name', d.name,
			'name_en', d.name_en, 'active', d.active) ORDER BY d.id)
		FROM department d), '[]'));
END
$$;

-- p_boundaries false (null: true) leaves each grid's "boundary" out, key and
-- all: the names are what a client needs at start-up, the polygons only on a map.
CREATE OR REPLACE FUNCTION st_places(p_actor integer, p_boundaries boolean DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	r jsonb;
BEGIN
	PERFORM st_actor(p_actor);
	r := jsonb_build_object(
		'districts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id,
			'code', d.code, 'name', d.name, 'name_en', d.name_en) ORDER BY d.id)
			FROM district d), '[]'),
		'streets', coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id,
			'code', s.code, 'name', s.name, 'name_en', s.name_en,
			'district_id', s.district_id) ORDER BY s.id)
			FROM street s), '[]'),
		'communities', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id,
			'code', c.code, 'name', c.name, 'name_en', c.name_en,
			'street_id', c.street_id) ORDER BY c.id)
			FROM community c), '[]'));
	IF NOT coalesce(p_boundaries, true) THEN
		RETURN r || jsonb_build_object('grids', coalesce((SELECT jsonb_agg(
			jsonb_build_object('id', g.id, 'code', g.code, 'name', g.name,
				'name_en', g.name_en, 'community_id', g.community_id) ORDER BY g.id)
			FROM grid g), '[]'));
	END IF;
	RETURN r || jsonb_build_object(
		-- boundary: the polygon of 020 as [[lon, lat]...] (the console's map), or null
		'grids', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id,
			'code', g.code, 'name', g.name, 'name_en', g.name_en,
			'community_id', g.community_id, 'boundary', (
				SELECT jsonb_agg(jsonb_build_array(m[1]::float8, m[2]::float8) ORDER BY n)
				FROM regexp_matches(b.boundary::text,
					'\(([-+0-9.eE]+),([-+0-9.eE]+)\)', 'g') WITH ORDINALITY AS x (m, n)))
			ORDER BY g.id)
			FROM grid g LEFT JOIN grid_boundary b ON b.grid_id = g.id), '[]'));
END
$$;

-- The ticket the actor asked for, or SD404 if it is missing or not theirs to see.
CREATE OR REPLACE FUNCTION st_visible_ticket(a account, p_ticket bigint) RETURNS ticket
LANGUAGE plpgsql STABLE AS $$
DECLARE
	t ticket;
BEGIN
	SELECT * INTO t FROM ticket WHERE id = p_ticket;
	IF NOT FOUND OR NOT st_visible(a, t) THEN
		PERFORM st_fail('SD404', format('ticket %s not found', p_ticket));
	END IF;
	RETURN t;
END
$$;

-- How many bytes of JSON rows (events, tickets) one reply carries at most:
-- with the ticket of a get, or the keys around them, a reply stays far below
-- the daemon's limits.max_backlog (1 MiB), which disconnects a reader.
CREATE OR REPLACE FUNCTION st_page_bytes() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT 262144
$$;

-- A page of tickets as the lists return them.  p_ids are the candidates in
-- order, up to p_limit + 1 of them; each is checked against st_visible once
-- more.  The page is the first p_limit of them whose JSON fits in
-- st_page_bytes() (at least one ticket, so a page always moves on).  last_id
-- is the id of the page's last candidate when more follow (the cursor), else
-- null.
CREATE OR REPLACE FUNCTION st_tickets_page(a account, p_ids bigint[], p_limit integer,
	OUT tickets jsonb, OUT last_id bigint)
LANGUAGE sql STABLE AS $$
	WITH sized AS (
		SELECT o.n, o.id, v.j, coalesce(octet_length(v.j::text), 0) AS size
		FROM unnest(p_ids) WITH ORDINALITY AS o(id, n)
		LEFT JOIN LATERAL (SELECT st_ticket_json(t) AS j FROM ticket t
			WHERE t.id = o.id AND st_visible(a, t)) v ON true),
	cand AS (
		SELECT *, sum(size) OVER (ORDER BY n) AS upto FROM sized),
	page AS (
		SELECT * FROM cand
		WHERE n <= p_limit AND (upto = size OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page WHERE j IS NOT NULL), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT id FROM page ORDER BY n DESC LIMIT 1) END
$$;

-- One page of a ticket's history: the ticket, its events with seq > p_after
-- (oldest first), and its photos.  A page holds at most 100 events and at most
-- st_page_bytes() of their JSON (always one, so a page always moves on); "next"
-- is the last seq of the page when more follow, else null.
CREATE OR REPLACE FUNCTION st_get(p_actor integer, p_ticket bigint, p_after bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	t ticket;
	evs jsonb;
	nxt bigint;
BEGIN
	t := st_visible_ticket(st_actor(p_actor), p_ticket);
	IF p_after < 0 THEN
		PERFORM st_fail('SD400', format('%s is not an event seq', p_after));
	END IF;
	-- one more than a page is read, to know whether more follow
	WITH cand AS (
		SELECT seq, j, row_number() OVER w AS n, sum(octet_length(j::text)) OVER w AS upto
		FROM (SELECT e.seq,
				-- each event names its actor, so a timeline reads as people, not ids
				st_event_json(e) || jsonb_build_object('actor', CASE WHEN a.id IS NULL
					THEN NULL ELSE jsonb_build_object('login', a.login, 'name', a.name,
					'name_en', a.name_en, 'role', a.role) END) AS j
			FROM ticket_event e LEFT JOIN account a ON a.id = e.actor_id
			WHERE e.ticket_id = t.id AND e.seq > coalesce(p_after, 0)
			ORDER BY e.seq LIMIT 101) x
		WINDOW w AS (ORDER BY seq)),
	page AS (
		SELECT * FROM cand WHERE n <= 100 AND (n = 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT max(seq) FROM page) END
	INTO evs, nxt;
	RETURN jsonb_build_object(
		'ticket', st_ticket_json(t),
		'events', evs,
		'next', nxt,
		'photos', coalesce((SELECT jsonb_agg(jsonb_build_object('id', p.id,
			'sha256', p.sha256, 'mime', p.mime, 'size', p.size, 'event_seq', p.event_seq)
			ORDER BY p.event_seq, p.id)
			FROM photo p WHERE p.ticket_id = t.id), '[]'));
END
$$;

-- The filters of st_list other than the scope.  A plain SQL expression, so
-- that the planner inlines it into each list query.
CREATE OR REPLACE FUNCTION st_list_match(t ticket, p_state ticket_state, p_categories integer[],
	p_grid integer, p_department integer, p_overdue boolean, p_pattern text,
	p_from timestamptz, p_to timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT (p_state IS NULL OR t.state = p_state)
		AND (p_categories IS NULL OR t.category_id = ANY (p_categories))
		AND (p_grid IS NULL OR t.grid_id = p_grid)
		AND (p_department IS NULL OR t.department_id = p_department)
		AND (p_overdue IS NULL OR coalesce(t.due_at < now(), false) = p_overdue)
		AND (p_pattern IS NULL OR t.description ILIKE p_pattern OR t.address ILIKE p_pattern)
		AND (p_from IS NULL OR t.created_at >= p_from)
		AND (p_to IS NULL OR t.created_at < p_to)
$$;

-- The tickets the actor may see, newest first, a page at a time: "next" is the
-- last id of this page when there are more, to be passed back as p_after.
-- p_category takes in its sub-categories; p_overdue means the current step's
-- deadline has passed (as st_overdue); p_text is a case-insensitive substring
-- of the description or the address; created_at in [p_from, p_to).
CREATE OR REPLACE FUNCTION st_list(p_actor integer, p_state text DEFAULT NULL,
	p_category integer DEFAULT NULL, p_grid integer DEFAULT NULL,
	p_department integer DEFAULT NULL, p_overdue boolean DEFAULT NULL,
	p_text text DEFAULT NULL, p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL,
	p_after bigint DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	st ticket_state;
	cats integer[];
	pat text;
	lim integer := coalesce(p_limit, 50);
	below bigint := coalesce(p_after, 9223372036854775807);
	ids bigint[];
	pg record;
BEGIN
	a := st_actor(p_actor);
	IF lim NOT BETWEEN 1 AND 200 THEN
		PERFORM st_fail('SD400', format('the limit is 1 to 200, not %s', lim));
	END IF;
	IF p_after IS NOT NULL AND p_after < 1 THEN
		PERFORM st_fail('SD400', format('%s is not a ticket id', p_after));
	END IF;
	IF p_state IS NOT NULL THEN
		IF NOT p_state = ANY (enum_range(NULL::ticket_state)::text[]) THEN
			PERFORM st_fail('SD400', format('%L is not a state (%s)', p_state,
				array_to_string(enum_range(NULL::ticket_state)::text[], ', ')));
		END IF;
		st := p_state::ticket_state;
	END IF;
	IF p_category IS NOT NULL THEN
		cats := ARRAY(
			WITH RECURSIVE down(id, depth) AS (
				SELECT id, 0 FROM category WHERE id = p_category
				UNION ALL
				SELECT c.id, down.depth + 1 FROM category c JOIN down ON c.parent_id = down.id
				WHERE down.depth < 32)
			SELECT id FROM down);
		IF cardinality(cats) = 0 THEN
			PERFORM st_fail('SD400', format('category %s does not exist', p_category));
		END IF;
	END IF;
	IF p_grid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grid WHERE id = p_grid) THEN
		PERFORM st_fail('SD400', format('grid %s does not exist', p_grid));
	END IF;
	IF p_department IS NOT NULL AND NOT EXISTS (SELECT 1 FROM department WHERE id = p_department) THEN
		PERFORM st_fail('SD400', format('department %s does not exist', p_department));
	END IF;
	IF p_text IS NOT NULL THEN
		IF length(p_text) > 100 THEN
			PERFORM st_fail('SD400', 'the search text is at most 100 characters');
		END IF;
		-- the user's text is matched literally: its LIKE wildcards are escaped
		pat := '%' || replace(replace(replace(p_text, E'\\', E'\\\\'), '%', E'\\%'), '_', E'\\_')
			|| '%';
	END IF;

	-- One query per scope, each an equality on the column its index leads with.
	IF a.role = 'collector' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.reporter_id = a.id AND t.id < below
				AND st_list_match(t, st, cats, p_grid, p_department, p_overdue, pat, p_from, p_to)
			ORDER BY t.id DESC LIMIT lim + 1);
	ELSIF a.role = 'street' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.street_id = a.street_id AND t.id < below
				AND st_list_match(t, st, cats, p_grid, p_department, p_overdue, pat, p_from, p_to)
			ORDER BY t.id DESC LIMIT lim + 1);
	ELSIF a.role = 'department' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.department_id = a.department_id AND t.id < below
				AND st_list_match(t, st, cats, p_grid, p_department, p_overdue, pat, p_from, p_to)
			ORDER BY t.id DESC LIMIT lim + 1);
	ELSIF a.role = 'supervisor' AND a.district_id IS NOT NULL THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.district_id = a.district_id AND t.id < below
				AND st_list_match(t, st, cats, p_grid, p_department, p_overdue, pat, p_from, p_to)
			ORDER BY t.id DESC LIMIT lim + 1);
	ELSIF a.role = 'supervisor' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.id < below
				AND st_list_match(t, st, cats, p_grid, p_department, p_overdue, pat, p_from, p_to)
			ORDER BY t.id DESC LIMIT lim + 1);
	ELSE
		ids := '{}'; -- an admin sees no tickets
	END IF;
	SELECT * INTO pg FROM st_tickets_page(a, ids, lim);
	RETURN jsonb_build_object('tickets', pg.tickets, 'next', pg.last_id);
END
$$;

-- Open tickets whose current deadline has passed, most overdue first.  The
-- cursor is "<due_at in microseconds since 1970>:<id>" of the last ticket of
-- the page; clients pass it back as it is.
CREATE OR REPLACE FUNCTION st_overdue(p_actor integer, p_after text DEFAULT NULL,
	p_limit integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	lim integer := coalesce(p_limit, 50);
	m text[];
	after_due timestamptz := '-infinity';
	after_id bigint := 0;
	ids bigint[];
	pg record;
	nxt text;
BEGIN
	a := st_actor(p_actor);
	IF lim NOT BETWEEN 1 AND 200 THEN
		PERFORM st_fail('SD400', format('the limit is 1 to 200, not %s', lim));
	END IF;
	IF p_after IS NOT NULL THEN
		m := regexp_match(p_after, '^(-?[0-9]{1,18}):([0-9]{1,18})$');
		IF m IS NULL THEN
			PERFORM st_fail('SD400', format('%L is not a cursor this server gave out', p_after));
		END IF;
		BEGIN
			after_due := timestamptz 'epoch' + (m[1]::bigint / 1000000) * interval '1 second'
				+ (m[1]::bigint % 1000000) * interval '1 microsecond';
		EXCEPTION WHEN datetime_field_overflow OR interval_field_overflow
			OR numeric_value_out_of_range THEN
			PERFORM st_fail('SD400', format('%L is not a cursor this server gave out', p_after));
		END;
		after_id := m[2]::bigint;
	END IF;

	-- One query per scope, each read in deadline order from an index that
	-- leads with the scope's column (001 and above).
	IF a.role = 'collector' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.reporter_id = a.id AND t.due_at IS NOT NULL AND t.due_at < now()
				AND (t.due_at, t.id) > (after_due, after_id)
			ORDER BY t.due_at, t.id LIMIT lim + 1);
	ELSIF a.role = 'street' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.street_id = a.street_id AND t.due_at IS NOT NULL AND t.due_at < now()
				AND (t.due_at, t.id) > (after_due, after_id)
			ORDER BY t.due_at, t.id LIMIT lim + 1);
	ELSIF a.role = 'department' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.department_id = a.department_id AND t.due_at IS NOT NULL
				AND t.due_at < now() AND (t.due_at, t.id) > (after_due, after_id)
			ORDER BY t.due_at, t.id LIMIT lim + 1);
	ELSIF a.role = 'supervisor' AND a.district_id IS NOT NULL THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.district_id = a.district_id AND t.due_at IS NOT NULL AND t.due_at < now()
				AND (t.due_at, t.id) > (after_due, after_id)
			ORDER BY t.due_at, t.id LIMIT lim + 1);
	ELSIF a.role = 'supervisor' THEN
		ids := ARRAY(SELECT t.id FROM ticket t
			WHERE t.due_at IS NOT NULL AND t.due_at < now()
				AND (t.due_at, t.id) > (after_due, after_id)
			ORDER BY t.due_at, t.id LIMIT lim + 1);
	ELSE
		ids := '{}'; -- an admin sees no tickets
	END IF;
	SELECT * INTO pg FROM st_tickets_page(a, ids, lim);
	IF pg.last_id IS NOT NULL THEN
		SELECT (extract(epoch FROM t.due_at) * 1000000)::bigint || ':' || t.id INTO nxt
		FROM ticket t WHERE t.id = pg.last_id;
	END IF;
	RETURN jsonb_build_object('tickets', pg.tickets, 'next', nxt);
END
$$;

-- The department dispatch would choose for the ticket now (st_route), or null.
CREATE OR REPLACE FUNCTION st_route_ticket(p_actor integer, p_ticket bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	t ticket;
BEGIN
	t := st_visible_ticket(st_actor(p_actor), p_ticket);
	RETURN jsonb_build_object('department', (
		SELECT jsonb_build_object('id', d.id, 'code', d.code, 'name', d.name,
			'name_en', d.name_en)
		FROM department d WHERE d.id = st_route(t.category_id, t.grid_id)));
END
$$;
