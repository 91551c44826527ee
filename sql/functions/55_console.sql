-- What the web console's supervisor screens read beyond the lists (issue 15):
-- the arbitration queue and the open and overdue tickets per grid (the map).
-- Like 50_queries.sql: the acting account first, its scope as the access
-- path, st_visible as the rule.

-- The arbitration queue: the returns of the supervisor's district (or all,
-- city-wide) that no ruling has been given on, oldest first, a page at a
-- time (after: the seq of the last row of the previous page).  pending: the
-- ticket still waits on this return (reported, nothing since), so a ruling
-- dispatches it (st_arbitrate); otherwise a ruling only records whether the
-- return counts.  A page holds at most p_limit rows and st_page_bytes() of
-- their JSON (at least one).
CREATE OR REPLACE FUNCTION st_returns(p_actor integer, p_after bigint DEFAULT NULL,
	p_limit integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	lim integer := coalesce(p_limit, 50);
	rows jsonb;
	nxt bigint;
BEGIN
	a := st_actor(p_actor);
	IF a.role <> 'supervisor' THEN
		PERFORM st_fail('SD403', format('a %s account does not rule on returns', a.role));
	END IF;
	IF lim NOT BETWEEN 1 AND 200 THEN
		PERFORM st_fail('SD400', format('the limit is 1 to 200, not %s', lim));
	END IF;
	IF p_after IS NOT NULL AND p_after < 0 THEN
		PERFORM st_fail('SD400', format('%s is not an event seq', p_after));
	END IF;
	WITH cand AS (
		SELECT x.seq, x.j, row_number() OVER w AS n, sum(octet_length(x.j::text)) OVER w AS upto
		FROM (SELECT e.seq, jsonb_build_object('seq', e.seq, 'at', e.at,
				'ticket', st_ticket_json(t),
				'returned_by', e.department_id,
				'named', (e.data ->> 'department_id')::integer,
				'reason', e.data ->> 'reason',
				'actor', CASE WHEN ac.id IS NULL THEN NULL ELSE jsonb_build_object(
					'login', ac.login, 'name', ac.name, 'name_en', ac.name_en,
					'role', ac.role) END,
				'pending', t.state = 'reported' AND t.version = e.version) AS j
			FROM ticket_event e
			JOIN ticket t ON t.id = e.ticket_id
			LEFT JOIN account ac ON ac.id = e.actor_id
			WHERE e.action = 'return' AND e.seq > coalesce(p_after, 0)
				AND (a.district_id IS NULL OR e.district_id = a.district_id)
				AND NOT EXISTS (SELECT 1 FROM ticket_event r WHERE r.action = 'arbitrate'
					AND (r.data ->> 'return_seq')::bigint = e.seq)
				AND st_visible(a, t)
			ORDER BY e.seq LIMIT lim + 1) x
		WINDOW w AS (ORDER BY x.seq)),
	page AS (
		SELECT * FROM cand WHERE n <= lim AND (n = 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT max(seq) FROM page) END
	INTO rows, nxt;
	RETURN jsonb_build_object('returns', rows, 'next', nxt);
END
$$;

-- Per grid, the open tickets (a current step with a deadline) the account
-- may see and how many of them are past it: the map's colours.  Only grids
-- with an open ticket; grid order.
CREATE OR REPLACE FUNCTION st_grid_load(p_actor integer) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	res jsonb;
BEGIN
	a := st_actor(p_actor);
	-- the scope's column first (the *_open indexes), st_visible the rule
	SELECT coalesce(jsonb_agg(jsonb_build_object('grid', g.grid_id, 'open', g.open,
		'overdue', g.overdue) ORDER BY g.grid_id), '[]') INTO res
	FROM (SELECT t.grid_id, count(*) AS open, count(*) FILTER (WHERE t.due_at < now()) AS overdue
		FROM ticket t
		WHERE t.due_at IS NOT NULL
			AND CASE
				WHEN a.role = 'collector' THEN t.reporter_id = a.id
				WHEN a.role = 'street' THEN t.street_id = a.street_id
				WHEN a.role = 'department' THEN t.department_id = a.department_id
				WHEN a.role = 'supervisor' THEN a.district_id IS NULL
					OR t.district_id = a.district_id
				ELSE false END
			AND st_visible(a, t)
		GROUP BY t.grid_id) g;
	RETURN jsonb_build_object('grids', res);
END
$$;
