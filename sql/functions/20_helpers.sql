-- Helpers every action and query uses: errors, the actor, who sees what, the
-- rule table, deadlines, routing, text arguments, and the JSON of tickets and
-- events.  Not SECURITY DEFINER: they run with the rights of the function that
-- calls them.
--
-- Most are PL/pgSQL, or SQL expressions labelled with their true volatility,
-- so that PostgreSQL plans them once per connection or inlines them into the
-- caller instead of parsing and planning their body on every call (measured
-- with pg_stat_user_functions over bench/run's cycle: st_route as a SQL
-- function with a recursive CTE cost 0.88 ms a call; to_jsonb() is STABLE,
-- not IMMUTABLE, and the planner refuses to inline a function whose body is
-- more volatile than its declaration).

CREATE OR REPLACE FUNCTION st_fail(p_code text, p_msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_msg;
END
$$;

CREATE OR REPLACE FUNCTION st_actor(p_actor integer) RETURNS account
LANGUAGE plpgsql STABLE AS $$
DECLARE
	a account;
BEGIN
	SELECT * INTO a FROM account WHERE id = p_actor;
	IF NOT FOUND THEN
		PERFORM st_fail('SD403', format('account %s does not exist', p_actor));
	END IF;
	IF a.disabled THEN
		PERFORM st_fail('SD403', format('account %s is disabled', a.login));
	END IF;
	RETURN a;
END
$$;

-- Who sees what: THE rule, written once.  Every query, the actions' checks and
-- the log replay ask it; lib/visible.c is the same rule in C (the daemon's
-- push index must agree; tests/integration/test_daemon_visible.c checks the two
-- against each other).  The account's scope: its role, id, street, district
-- (a supervisor's; NULL: the whole city) and department; the item's (a
-- ticket's or an event's): its street, district, department and reporter.
--   collector   the tickets they reported
--   street      their street's
--   department  those assigned to their department (for an event: the
--               department it concerns, so a return reaches the returner)
--   supervisor  their district's, or all with no district
--   admin       none
-- A plain SQL expression, so that it is inlined into its callers.
CREATE OR REPLACE FUNCTION st_sees(p_role account_role, p_account integer, p_street integer,
	p_district integer, p_department integer, p_item_street integer, p_item_district integer,
	p_item_department integer, p_item_reporter integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce(CASE p_role
		WHEN 'collector' THEN p_item_reporter = p_account
		WHEN 'street' THEN p_item_street = p_street
		WHEN 'department' THEN p_item_department = p_department
		WHEN 'supervisor' THEN p_district IS NULL OR p_item_district = p_district
		ELSE false
	END, false)
$$;

CREATE OR REPLACE FUNCTION st_visible(a account, t ticket) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT st_sees(a.role, a.id, a.street_id, a.district_id, a.department_id,
		t.street_id, t.district_id, t.department_id, t.reporter_id)
$$;

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

-- The deadline of a step that starts at p_from: working time on the calendar
-- for normal tickets, elapsed time for urgent ones.
CREATE OR REPLACE FUNCTION st_due(p_from timestamptz, p_category integer, p_urgent boolean, p_state ticket_state)
RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c category;
	secs integer;
BEGIN
	SELECT * INTO STRICT c FROM category WHERE id = p_category;
	secs := CASE p_state
		WHEN 'reported' THEN CASE WHEN p_urgent THEN c.urgent_dispatch_s ELSE c.dispatch_s END
		WHEN 'dispatched' THEN CASE WHEN p_urgent THEN c.urgent_accept_s ELSE c.accept_s END
		WHEN 'accepted' THEN CASE WHEN p_urgent THEN c.urgent_resolve_s ELSE c.resolve_s END
		WHEN 'resolved' THEN CASE WHEN p_urgent THEN c.urgent_feedback_s ELSE c.feedback_s END
	END;
	IF secs IS NULL THEN
		RETURN NULL; -- closed and cancelled tickets have no deadline
	END IF;
	IF p_urgent THEN
		RETURN p_from + make_interval(secs => secs);
	END IF;
	RETURN sla_add(p_from, secs);
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

-- Text a person must give (a reason, a note): trimmed, required or optional, bounded.
CREATE OR REPLACE FUNCTION st_text(p_value text, p_what text, p_required boolean, p_max integer DEFAULT 4000)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v text := btrim(coalesce(p_value, ''));
BEGIN
	IF v = '' AND p_required THEN
		PERFORM st_fail('SD400', format('%s is required', p_what));
	END IF;
	IF length(v) > p_max THEN
		PERFORM st_fail('SD400', format('%s is longer than %s characters', p_what, p_max));
	END IF;
	RETURN nullif(v, '');
END
$$;

-- status_notes (migration 022) is Open311's, not a field of the protocol's ticket.
CREATE OR REPLACE FUNCTION st_ticket_json(t ticket) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT to_jsonb(t) - 'status_notes'
$$;

CREATE OR REPLACE FUNCTION st_event_json(e ticket_event) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT to_jsonb(e) - 'xid'
$$;

CREATE OR REPLACE FUNCTION st_result(t ticket, e ticket_event) RETURNS action_result
LANGUAGE sql STABLE AS $$
	SELECT ROW(st_ticket_json(t), st_event_json(e), false)::action_result
$$;
