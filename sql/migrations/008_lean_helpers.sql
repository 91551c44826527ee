-- 008: the same helpers as 004 and 006, rewritten so that PostgreSQL does not
-- parse and plan them again on every call.
--
-- Measured with pg_stat_user_functions (track_functions = all) over bench/run's
-- cycle (report, dispatch, accept, resolve, confirm): ~1.3 ms of database CPU
-- per action, most of it in helpers written in LANGUAGE sql that the planner
-- could not inline, so each call parsed and planned its body afresh:
--   * st_route (a recursive CTE): 0.88 ms a call;
--   * st_relation_ok, st_next, st_idem_done: 0.07-0.17 ms a call each;
--   * st_ticket_json, st_event_json, st_result, st_photos_json: declared
--     IMMUTABLE around to_jsonb(), which is only STABLE (it formats timestamps
--     in the session's time zone), and the planner refuses to inline a function
--     whose body is more volatile than its declaration.
-- PL/pgSQL keeps each statement's plan for the life of the connection, and a
-- correctly labelled SQL expression is inlined into its caller.  Behaviour is
-- unchanged: the same results and the same errors, which the action and
-- routing tests check.

CREATE OR REPLACE FUNCTION st_relation_ok(p_relation text, a account, t ticket) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN coalesce(CASE p_relation
		WHEN 'grid' THEN EXISTS (SELECT 1 FROM account_grid g
			WHERE g.account_id = a.id AND g.grid_id = t.grid_id)
		WHEN 'street' THEN t.street_id = a.street_id
		WHEN 'assigned' THEN t.department_id = a.department_id
		WHEN 'reporter' THEN t.reporter_id = a.id
		WHEN 'district' THEN a.district_id IS NULL OR t.district_id = a.district_id
		ELSE false
	END, false);
END
$$;

CREATE OR REPLACE FUNCTION st_next(p_action text, p_from ticket_state, p_role text)
RETURNS ticket_state
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s ticket_state;
BEGIN
	SELECT to_state INTO s FROM ticket_rule
	WHERE action = p_action AND from_state IS NOT DISTINCT FROM p_from AND role = p_role;
	RETURN s;
END
$$;

CREATE OR REPLACE FUNCTION st_route(p_category integer, p_grid integer) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d integer;
BEGIN
	WITH RECURSIVE cats(id, depth) AS (
		SELECT id, 0 FROM category WHERE id = p_category
		UNION ALL
		SELECT c.parent_id, cats.depth + 1
		FROM category c JOIN cats ON c.id = cats.id
		WHERE c.parent_id IS NOT NULL AND cats.depth < 32
	), place AS (
		SELECT g.id AS grid_id, g.community_id, g.street_id, s.district_id
		FROM grid g JOIN street s ON s.id = g.street_id
		WHERE g.id = p_grid
	)
	SELECT r.department_id INTO d
	FROM routing_rule r
	JOIN cats ON cats.id = r.category_id
	JOIN department dep ON dep.id = r.department_id AND dep.active
	CROSS JOIN place p
	WHERE (r.grid_id IS NULL OR r.grid_id = p.grid_id)
		AND (r.community_id IS NULL OR r.community_id = p.community_id)
		AND (r.street_id IS NULL OR r.street_id = p.street_id)
		AND (r.district_id IS NULL OR r.district_id = p.district_id)
	ORDER BY cats.depth,
		CASE WHEN r.grid_id IS NOT NULL THEN 0
			WHEN r.community_id IS NOT NULL THEN 1
			WHEN r.street_id IS NOT NULL THEN 2
			WHEN r.district_id IS NOT NULL THEN 3
			ELSE 4 END
	LIMIT 1;
	RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION st_idem_done(a account, p_key text, e ticket_event) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_key IS NULL THEN
		RETURN; -- most actions carry no key: no statement at all
	END IF;
	UPDATE idempotency SET ticket_id = e.ticket_id, seq = e.seq
	WHERE account_id = a.id AND key = p_key;
END
$$;

ALTER FUNCTION st_ticket_json(ticket) STABLE;
ALTER FUNCTION st_event_json(ticket_event) STABLE;
ALTER FUNCTION st_result(ticket, ticket_event) STABLE;
ALTER FUNCTION st_photos_json(bigint[]) STABLE;
