-- The assessment's documents (docs/assessment.md, "Export" and "Bulletin";
-- docs/protocol.md, "Assessment"): export, the ticket-level rows behind the
-- figures, paged by ticket id; bulletin, the monthly 通报 in one reply.
-- Both read what the follower keeps (80_follow.sql), never the event log:
-- export its ready rows (assess_export, built here by st_export_build from
-- the ticket and assess_step), bulletin the steps.

-- An instant as local time of the period rule (a fixed UTC+8), so an export
-- reads the same whatever the session's time zone.  STABLE as to_char is, so
-- that the planner inlines it (an IMMUTABLE wrapper of a STABLE function is
-- called, not inlined: four times the cost, and an export row has ~18 times).
CREATE OR REPLACE FUNCTION st_export_ts(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT to_char(p_at AT TIME ZONE INTERVAL '+08:00', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

-- An export row's columns, in the order of its array (docs/protocol.md,
-- "export"), and a step's; the page names them, so a client reads a row by
-- name once per page, not by a position it hardcodes.
CREATE OR REPLACE FUNCTION st_export_columns() RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT '["id","state","urgent","category","district","street","grid","reported_at","department","closed_at","close_kind","rating","returns","reopens","urges","overdue","steps"]'::json
$$;

CREATE OR REPLACE FUNCTION st_export_step_columns() RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT '["kind","started_at","deadline","department","ended_at","end_action","actor","met","overdue","working_s"]'::json
$$;

-- The export rows of the tickets p_ids, built from the ticket, every step
-- the follower has folded (assess_step) and who ended each (by seq), all at
-- once (joins and one aggregate of the steps).  The one builder of
-- assess_export's rows: the follower's refresh and the backfill use it.
CREATE OR REPLACE FUNCTION st_export_build(p_ids bigint[])
RETURNS TABLE (ticket_id bigint, created_at timestamptz, ended_at timestamptz,
	district_id integer, street_id integer, category_id integer, department_ids integer[],
	row_json json)
LANGUAGE sql STABLE AS $$
	WITH st AS (
		SELECT x.ticket_id, bool_or(x.overdue_marked OR x.met IS false) AS overdue,
			json_agg(json_build_array(x.kind, st_export_ts(x.started_at),
				st_export_ts(x.deadline), xd.code, st_export_ts(x.ended_at), x.end_action,
				ac.login, x.met, x.overdue_marked OR x.met IS false, x.working_s)
				ORDER BY x.id) AS steps,
			array_agg(DISTINCT x.department_id) FILTER (WHERE x.department_id IS NOT NULL)
				AS deps
		FROM assess_step x
		LEFT JOIN department xd ON xd.id = x.department_id
		LEFT JOIN ticket_event e ON e.seq = x.end_seq
		LEFT JOIN account ac ON ac.id = e.actor_id
		WHERE x.ticket_id = ANY (p_ids)
		GROUP BY x.ticket_id)
	SELECT t.id, t.created_at, t.closed_at, t.district_id, t.street_id, t.category_id,
		CASE WHEN t.department_id IS NULL OR t.department_id = ANY (st.deps)
			THEN coalesce(st.deps, '{}') ELSE coalesce(st.deps, '{}') || t.department_id END,
		json_build_array(t.id, t.state, t.urgent, c.code, di.code, s.code, g.code,
			st_export_ts(t.created_at), d.code, st_export_ts(t.closed_at), t.close_kind,
			t.rating, t.return_count, t.reopen_count, t.urge_count,
			coalesce(st.overdue, false), coalesce(st.steps, '[]'))
	FROM ticket t
	JOIN category c ON c.id = t.category_id
	JOIN street s ON s.id = t.street_id
	JOIN district di ON di.id = t.district_id
	JOIN grid g ON g.id = t.grid_id
	LEFT JOIN department d ON d.id = t.department_id
	LEFT JOIN st ON st.ticket_id = t.id
	WHERE t.id = ANY (p_ids)
$$;

-- Rebuilds the kept rows of the tickets p_ids (the follower, at its flush,
-- for the tickets of the events it folded; the backfill).  Callers hold the
-- follower's lock, so two rebuilds of a ticket never race.  PL/pgSQL, so
-- that the session keeps the statement's plan: a SQL function is planned at
-- every call, ~12 ms here, more than the work of a small batch.
CREATE OR REPLACE FUNCTION st_export_refresh(p_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO assess_export AS x (ticket_id, created_at, ended_at, district_id, street_id,
		category_id, department_ids, row_json)
	SELECT * FROM st_export_build(p_ids)
	ON CONFLICT (ticket_id) DO UPDATE SET created_at = excluded.created_at,
		ended_at = excluded.ended_at, district_id = excluded.district_id,
		street_id = excluded.street_id, category_id = excluded.category_id,
		department_ids = excluded.department_ids, row_json = excluded.row_json;
END
$$;

-- Fills the rows of up to p_limit of the tickets that existed before
-- migration 019 (assess_export_fill) and returns how many; 0 once done
-- (st_backfill, 80_follow.sql).
CREATE OR REPLACE FUNCTION st_export_backfill(p_limit integer) RETURNS integer
LANGUAGE sql AS $$
	SELECT street.st_backfill('street.assess_export_fill', 'street.st_export_refresh', p_limit)
$$;

-- How many bytes of rows an export page carries at most: more than the
-- other ops' st_page_bytes() (256 KiB), so that a page is cut by its 1000
-- rows (~700 bytes each), not by its size: with 256 KiB a page took ~400
-- rows of the 1001 it read (the cut can only be made after the window has
-- seen them all), and each row was read 2.4 times.  The reply stays under
-- 1 MiB, limits.max_backlog's default (docs/protocol.md, "export").
CREATE OR REPLACE FUNCTION st_export_page_bytes() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT 983040
$$;

-- export: the tickets of the caller's scope that were open at some time of
-- the period [from, to) (reported before its end, not closed or cancelled
-- before its start), one row each in id order, after ticket id p_after and,
-- given p_upto, up to that id (a window: docs/protocol.md, "export"); a
-- page holds at most p_limit (1..1000, default 500) rows and
-- st_export_page_bytes() of them (always one); "next" is the cursor to pass
-- on, null when (p_after, p_upto] (or all after p_after) is done.  The
-- first page (no p_after) has "end", the largest id of a ticket reported
-- before the period's end: a client's windows stop there (a ticket reported
-- since, or later given an earlier time, is not in this export).  Found
-- from the largest id down (index-only), past the tickets reported since.
-- The op's function (lib/proto_ops.c, sql_rows): the page's JSON text comes
-- as rows that the daemon writes one after the other into its reply, never
-- as one value: the first row is the page's head ("end" and "next" before
-- "rows") with the first ticket's row, each other row "," and a ticket's
-- row, the last one closes the page.  st_export below is the same page as
-- json, for SQL.
-- It reads only what the follower keeps, twice, by index range from the
-- cursor: first the candidates' ids, units, period and sizes, from the index
-- that holds them (assess_export_page: an index-only scan, migration 025),
-- to find where the page ends and which units it names, then the page's
-- rows, each sent as it is read.  Measured on a 200,000-ticket database (the
-- backend's CPU a row, a year of it, under load): the page as one text value
-- (string_agg, then the head put before it) took 12-15 µs a row, a third of
-- it page faults, since each copy of the ~700 KB page was a fresh allocation
-- (the aggregate, the concatenations, plpgsql's assignment and return, the
-- output); as rows 8-10 µs; with the first statement index-only (1 M
-- tickets, session 9) ~7.5.  The names are those of the units the page's
-- rows name, from the small tables, as they are now (a renamed unit shows
-- its name now).
CREATE OR REPLACE FUNCTION st_export_page(p_actor integer, p_from text, p_to text,
	p_after bigint DEFAULT NULL, p_limit integer DEFAULT NULL, p_upto bigint DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp
-- the same plans every page (both are index range scans from the cursor
-- whatever the values): planned anew for each call's values, the first
-- statement (its inlined helpers parsed again) cost ~1.5 ms a page
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	a account := st_actor(p_actor);
	sc record := st_assess_scope(a);
	per record := st_assess_period(p_from, p_to);
	lim integer := coalesce(p_limit, 500);
	t_from timestamptz := st_score_day_start(per.d_from);
	t_to timestamptz := st_score_day_start(per.d_to);
	aft bigint := coalesce(p_after, 0);
	till bigint := coalesce(p_upto, 9223372036854775807);
	f assess_export_fill;
	first_id bigint;
	last_id bigint;
	head text;
BEGIN
	IF lim NOT BETWEEN 1 AND 1000 THEN
		PERFORM st_fail('SD400', format('the limit is 1 to 1000, not %s', lim));
	END IF;
	IF p_after < 0 THEN
		PERFORM st_fail('SD400', 'after must not be negative');
	END IF;
	IF till <= aft THEN
		PERFORM st_fail('SD400', format('upto (%s) must be greater than after (%s)', till, aft));
	END IF;
	SELECT * INTO STRICT f FROM assess_export_fill;
	IF f.position < f.upto THEN
		PERFORM st_fail('SD412', format('the export rows of the tickets before migration 019 are '
			'still being built (%s of %s); try again in a minute', f.position, f.upto));
	END IF;
	-- where the page ends: the candidates (one more than a page can take, to
	-- know whether there is a next), narrow, their running size, the cut;
	-- the page's head, with the names of the units its rows name
	WITH num AS MATERIALIZED (
		SELECT c.ticket_id, c.category_id, c.street_id, c.department_ids,
			row_number() OVER w AS n, sum(c.row_len) OVER w AS upto
		FROM (SELECT x.ticket_id, x.category_id, x.street_id, x.department_ids, x.row_len
			FROM assess_export x
			WHERE x.ticket_id > aft AND x.ticket_id <= till AND x.created_at < t_to
				AND (x.ended_at IS NULL OR x.ended_at >= t_from)
				AND st_export_in_scope(a, x.department_ids, x.street_id, x.district_id)
			ORDER BY x.ticket_id
			LIMIT lim + 1) c
		WINDOW w AS (ORDER BY c.ticket_id ROWS UNBOUNDED PRECEDING)),
	page AS MATERIALIZED (
		SELECT * FROM num WHERE n <= lim AND (n = 1 OR upto <= st_export_page_bytes()))
	SELECT min(p.ticket_id), max(p.ticket_id),
		'{"from":' || to_json(per.d_from)::text || ',"to":' || to_json(per.d_to)::text
		|| ',"columns":' || st_export_columns()::text
		|| ',"step_columns":' || st_export_step_columns()::text
		|| ',"names":' || json_build_object(
			'category', (SELECT coalesce(json_object_agg(code, name), '{}') FROM category
				WHERE id IN (SELECT category_id FROM page)),
			'street', (SELECT coalesce(json_object_agg(code, name), '{}') FROM street
				WHERE id IN (SELECT street_id FROM page)),
			'department', (SELECT coalesce(json_object_agg(code, name), '{}') FROM department
				WHERE id IN (SELECT unnest(department_ids) FROM page)))::text
		|| CASE WHEN aft = 0 THEN ',"end":' || (SELECT coalesce(max(e.ticket_id), 0)
			FROM assess_export e WHERE e.created_at < t_to)::text ELSE '' END
		|| ',"next":' || CASE WHEN (SELECT count(*) FROM num) > count(*)
			THEN max(p.ticket_id)::text ELSE 'null' END
		|| ',"rows":['
	INTO first_id, last_id, head
	FROM page p;
	IF last_id IS NULL THEN
		RETURN NEXT head || ']}';
		RETURN;
	END IF;
	-- the page's rows: the same filter over (aft, last_id], in id order from
	-- the index, each row's text as it is stored (the cast of json to text
	-- is its text)
	RETURN QUERY
	SELECT CASE WHEN x.ticket_id = first_id THEN head ELSE ',' END || x.row_json::text
		|| CASE WHEN x.ticket_id = last_id THEN ']}' ELSE '' END
	FROM assess_export x
	WHERE x.ticket_id > aft AND x.ticket_id <= last_id AND x.created_at < t_to
		AND (x.ended_at IS NULL OR x.ended_at >= t_from)
		AND st_export_in_scope(a, x.department_ids, x.street_id, x.district_id)
	ORDER BY x.ticket_id;
END
$$;

-- An export row in a's scope (a department's: a step it held or the ticket
-- now; a street's: its tickets; a supervisor's: the district's, or all).
-- Inlined (a plain SQL expression).
CREATE OR REPLACE FUNCTION st_export_in_scope(a account, p_departments integer[],
	p_street integer, p_district integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE a.role
		WHEN 'department' THEN a.department_id = ANY (p_departments)
		WHEN 'street' THEN p_street = a.street_id
		WHEN 'supervisor' THEN a.district_id IS NULL OR p_district = a.district_id
		ELSE false END
$$;

-- The same page as json, for SQL (tests, psql): st_export_page's rows put
-- together, as the daemon puts them into its reply.
CREATE OR REPLACE FUNCTION st_export(p_actor integer, p_from text, p_to text,
	p_after bigint DEFAULT NULL, p_limit integer DEFAULT NULL, p_upto bigint DEFAULT NULL)
RETURNS json
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT string_agg(r.t, '' ORDER BY r.n)::json
	FROM st_export_page(p_actor, p_from, p_to, p_after, p_limit, p_upto)
		WITH ORDINALITY AS r(t, n)
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
