-- The assessment's documents (docs/assessment.md, "Export" and "Bulletin";
-- docs/protocol.md, "Assessment"): export, the ticket-level rows behind the
-- figures, paged by ticket id; bulletin, the monthly 通报 in one reply.
-- Both read the facts the follower keeps (assess_step, 80_follow.sql) and the
-- ticket table, never the event log (but for a step's actor, by seq).

-- An instant as local time of the period rule (a fixed UTC+8), so an export
-- reads the same whatever the session's time zone.  STABLE as to_char is, so
-- that the planner inlines it (an IMMUTABLE wrapper of a STABLE function is
-- called, not inlined: four times the cost, and an export row has ~18 times).
CREATE OR REPLACE FUNCTION st_export_ts(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p_at AT TIME ZONE INTERVAL '+08:00', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

-- Whether ticket t is in an account's assessment scope (st_assess_scope):
-- a department's are the tickets one of whose steps it held.
CREATE OR REPLACE FUNCTION st_export_in_scope(a account, t ticket) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT CASE a.role
		WHEN 'department' THEN t.department_id = a.department_id
			OR EXISTS (SELECT 1 FROM assess_step s WHERE s.ticket_id = t.id
				AND s.department_id = a.department_id)
		WHEN 'street' THEN t.street_id = a.street_id
		WHEN 'supervisor' THEN a.district_id IS NULL OR t.district_id = a.district_id
		ELSE false END
$$;

-- The export rows of the next p_n tickets of the period [p_from, p_to) in
-- a's scope after ticket id p_after, in id order: each ticket and every step
-- the follower has folded, built for the p_n at once (joins and one
-- aggregate over their steps, not a query per ticket).
CREATE OR REPLACE FUNCTION st_export_rows(a account, p_from timestamptz, p_to timestamptz,
	p_after bigint, p_n integer)
RETURNS TABLE (id bigint, j jsonb)
LANGUAGE sql STABLE AS $$
	WITH cand AS (
		SELECT t.* FROM ticket t
		WHERE t.id > p_after AND t.created_at < p_to
			AND (t.closed_at IS NULL OR t.closed_at >= p_from)
			AND st_export_in_scope(a, t)
		ORDER BY t.id LIMIT p_n),
	st AS (
		SELECT x.ticket_id, bool_or(x.overdue_marked OR x.met IS false) AS overdue,
			jsonb_agg(jsonb_build_object('kind', x.kind,
				'started_at', st_export_ts(x.started_at), 'deadline', st_export_ts(x.deadline),
				'department', xd.code, 'ended_at', st_export_ts(x.ended_at),
				'end_action', x.end_action, 'actor', ac.login, 'met', x.met,
				'overdue', x.overdue_marked OR x.met IS false, 'working_s', x.working_s)
				ORDER BY x.id) AS steps
		FROM cand JOIN assess_step x ON x.ticket_id = cand.id
		LEFT JOIN department xd ON xd.id = x.department_id
		LEFT JOIN ticket_event e ON e.seq = x.end_seq
		LEFT JOIN account ac ON ac.id = e.actor_id
		GROUP BY x.ticket_id)
	SELECT t.id, jsonb_build_object(
		'id', t.id, 'state', t.state, 'urgent', t.urgent,
		'category', c.code, 'category_name', c.name,
		'district', di.code, 'street', s.code, 'street_name', s.name, 'grid', g.code,
		'reported_at', st_export_ts(t.created_at),
		'department', d.code, 'department_name', d.name,
		'closed_at', st_export_ts(t.closed_at), 'close_kind', t.close_kind, 'rating', t.rating,
		'returns', t.return_count, 'reopens', t.reopen_count, 'urges', t.urge_count,
		'overdue', coalesce(st.overdue, false),
		'steps', coalesce(st.steps, '[]'))
	FROM cand t
	JOIN category c ON c.id = t.category_id
	JOIN street s ON s.id = t.street_id
	JOIN district di ON di.id = t.district_id
	JOIN grid g ON g.id = t.grid_id
	LEFT JOIN department d ON d.id = t.department_id
	LEFT JOIN st ON st.ticket_id = t.id
	ORDER BY t.id
$$;

-- export: the tickets of the caller's scope that were open at some time of
-- the period [from, to) (reported before its end, not closed or cancelled
-- before its start), one row each in id order, after ticket id p_after; a
-- page holds at most p_limit (1..1000, default 500) rows and st_page_bytes()
-- of them (always one); "next" is the cursor to pass on, null at the end.
-- Rows are built a chunk at a time and the page stops at its bytes, so a
-- page of ~200 rows does not build 1,000 to throw most away.
CREATE OR REPLACE FUNCTION st_export(p_actor integer, p_from text, p_to text,
	p_after bigint DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account := st_actor(p_actor);
	sc record := st_assess_scope(a);
	per record := st_assess_period(p_from, p_to);
	lim integer := coalesce(p_limit, 500);
	t_from timestamptz := st_score_day_start(per.d_from);
	t_to timestamptz := st_score_day_start(per.d_to);
	chunk constant integer := 64;
	acc jsonb[] := '{}';
	bytes bigint := 0;
	cur bigint := coalesce(p_after, 0);
	want integer;
	got integer;
	len integer;
	r record;
	nxt bigint;
BEGIN
	IF lim NOT BETWEEN 1 AND 1000 THEN
		PERFORM st_fail('SD400', format('the limit is 1 to 1000, not %s', lim));
	END IF;
	IF p_after < 0 THEN
		PERFORM st_fail('SD400', 'after must not be negative');
	END IF;
	<<pages>>
	LOOP
		-- one more than the page can take: whether there is a next
		want := least(chunk, lim - cardinality(acc) + 1);
		got := 0;
		FOR r IN SELECT * FROM st_export_rows(a, t_from, t_to, cur, want) LOOP
			got := got + 1;
			len := octet_length(r.j::text);
			IF cardinality(acc) >= lim
				OR (cardinality(acc) > 0 AND bytes + len > st_page_bytes()) THEN
				nxt := cur;
				EXIT pages;
			END IF;
			acc := acc || r.j;
			bytes := bytes + len;
			cur := r.id;
		END LOOP;
		EXIT WHEN got < want;
	END LOOP;
	RETURN jsonb_build_object('from', per.d_from, 'to', per.d_to,
		'rows', to_jsonb(acc), 'next', nxt);
END
$$;

-- The headline figures of a bulletin's unit row (st_stats has them all).
CREATE OR REPLACE FUNCTION st_bulletin_figures(p_row jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_object_agg(k, p_row->k)
	FROM unnest(ARRAY['unit', 'reported', 'dispatched', 'accepted', 'resolved', 'closed',
		'confirmed', 'no_feedback', 'cancelled', 'returned', 'reopened', 'urged',
		'overdue_marks', 'open_at_end', 'overdue_at_end', 'dispatch_ontime_rate',
		'response_rate', 'resolve_ontime_rate', 'close_rate', 'close_ontime_rate',
		'satisfaction_rate', 'dissatisfaction_rate', 'return_rate', 'reopen_rate']) k
$$;

-- Every page of st_stats for one grouping, cut to the headline figures.
CREATE OR REPLACE FUNCTION st_bulletin_units(p_actor integer, p_from text, p_to text,
	p_group text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	pg jsonb;
	acc jsonb := '[]';
	aft integer;
BEGIN
	LOOP
		pg := st_stats(p_actor, p_from, p_to, p_group, NULL, NULL, aft);
		acc := acc || coalesce((SELECT jsonb_agg(st_bulletin_figures(r) ORDER BY n)
			FROM jsonb_array_elements(pg->'rows') WITH ORDINALITY AS x(r, n)), '[]');
		EXIT WHEN jsonb_typeof(pg->'next') IS DISTINCT FROM 'number';
		aft := (pg->>'next')::integer;
	END LOOP;
	RETURN acc;
END
$$;

-- bulletin: the monthly 通报 of a period as one document, in the caller's
-- scope: figures per department and per street (st_stats), the rankings with
-- their red and black lists (st_ranking; a department gets no street
-- ranking), and the steps whose deadline passed in the period unmet (ended
-- after it, or still open), the first p_top_overdue by deadline with the
-- count of all.
CREATE OR REPLACE FUNCTION st_bulletin(p_actor integer, p_from text, p_to text)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account := st_actor(p_actor);
	sc record := st_assess_scope(a);
	per record := st_assess_period(p_from, p_to);
	t_from timestamptz := st_score_day_start(per.d_from);
	t_to timestamptz := st_score_day_start(per.d_to);
	shown constant integer := 200;
	overdue jsonb;
	n_overdue bigint;
BEGIN
	WITH od AS (
		SELECT x.id, x.ticket_id, x.kind, x.deadline, x.ended_at, x.department_id, t.street_id
		FROM assess_step x JOIN ticket t ON t.id = x.ticket_id
		WHERE x.deadline >= t_from AND x.deadline < t_to AND x.deadline < now()
			AND (x.ended_at IS NULL OR x.ended_at > x.deadline)
			AND CASE a.role
				WHEN 'department' THEN x.department_id = a.department_id
				WHEN 'street' THEN t.street_id = a.street_id
				ELSE a.district_id IS NULL OR t.district_id = a.district_id END),
	firsts AS (
		SELECT od.* FROM od ORDER BY od.deadline, od.ticket_id, od.id LIMIT shown)
	SELECT (SELECT count(*) FROM od),
		coalesce((SELECT jsonb_agg(jsonb_build_object('ticket', f.ticket_id, 'kind', f.kind,
			'street', s.code, 'street_name', s.name, 'department', d.code,
			'department_name', d.name, 'deadline', st_export_ts(f.deadline),
			'ended_at', st_export_ts(f.ended_at),
			'late_s', extract(epoch FROM coalesce(f.ended_at, least(now(), t_to)) - f.deadline)::bigint)
			ORDER BY f.deadline, f.ticket_id, f.id)
			FROM firsts f JOIN street s ON s.id = f.street_id
			LEFT JOIN department d ON d.id = f.department_id), '[]')
	INTO n_overdue, overdue;
	RETURN jsonb_build_object('from', per.d_from, 'to', per.d_to,
		'departments', st_bulletin_units(p_actor, p_from, p_to, 'department'),
		'streets', st_bulletin_units(p_actor, p_from, p_to, 'street'),
		'department_ranking', st_ranking(p_actor, p_from, p_to, 'department', NULL),
		'street_ranking', CASE WHEN a.role = 'department' THEN NULL
			ELSE st_ranking(p_actor, p_from, p_to, 'street', NULL) END,
		'overdue', jsonb_build_object('count', n_overdue, 'shown', jsonb_array_length(overdue),
			'tickets', overdue));
END
$$;
