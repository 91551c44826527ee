-- Every action of the loop as one database function.  Each call is one
-- transaction that checks the actor (exists, enabled), what the actor may see,
-- the rule table (002) for role, state and relation, the expected version,
-- then updates the ticket and appends exactly one event.  Anything illegal
-- raises before a row is written, so it leaves nothing behind.
--
-- Errors carry these SQLSTATEs (docs/errors.md); the daemon maps them to the
-- wire's error codes:
--   SD400 invalid     bad argument (missing reason, unknown grid, rating 7…)
--   SD403 forbidden   the actor's role or scope does not allow it
--   SD404 not_found   no such ticket, or not one the actor may see
--   SD409 conflict    the ticket's version is not the one the actor saw
--   SD412 bad_state   the ticket's state does not allow it (or nothing is pending)
--
-- Versions: every state change adds one to the ticket's version.  Actions that
-- leave the state alone (urge, comment, extension requests and decisions,
-- a ruling on a return the ticket has moved on from, overdue marks) do not,
-- so that a note from a supervisor never makes a department's next step fail
-- as stale.  Those actions (and arbitrate, which moves a ticket only while
-- the return it rules on is pending) take an optional version and check it
-- when given.
--
-- Idempotency: with a key, the first call's outcome is stored per account; a
-- retry with the same key returns that outcome (replayed = true) instead of
-- acting again.  The key is claimed first, so a concurrent retry waits for
-- the first call and then replays it.  The outcome is stored as it was
-- answered (idempotency.result): a replay never shows the ticket as it is
-- now, which may be beyond what the caller may see (a department that
-- returned a ticket no longer sees it).

-- Claims an idempotency key; returns the first outcome (replayed = true) if
-- the key was used, NULL otherwise.
CREATE OR REPLACE FUNCTION st_idem_claim(a account, p_key text, p_action text, p_ticket bigint)
RETURNS action_result
LANGUAGE plpgsql AS $$
DECLARE
	i idempotency;
BEGIN
	IF p_key IS NULL THEN
		RETURN NULL;
	END IF;
	IF length(p_key) NOT BETWEEN 1 AND 100 THEN
		PERFORM st_fail('SD400', 'an idempotency key has 1 to 100 characters');
	END IF;
	INSERT INTO idempotency (account_id, key, action, ticket_id)
	VALUES (a.id, p_key, p_action, p_ticket)
	ON CONFLICT DO NOTHING;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	SELECT * INTO STRICT i FROM idempotency WHERE account_id = a.id AND key = p_key;
	IF i.action <> p_action OR (p_ticket IS NOT NULL AND i.ticket_id IS DISTINCT FROM p_ticket) THEN
		PERFORM st_fail('SD400', format('idempotency key %L was already used for another request', p_key));
	END IF;
	RETURN ROW(i.result->'ticket', i.result->'event', true)::action_result;
END
$$;

-- Records the outcome under the key (most actions carry none: no statement).
CREATE OR REPLACE FUNCTION st_idem_done(a account, p_key text, r action_result) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_key IS NULL THEN
		RETURN;
	END IF;
	UPDATE idempotency SET ticket_id = (r.ticket->>'id')::bigint, seq = (r.event->>'seq')::bigint,
		result = jsonb_build_object('ticket', r.ticket, 'event', r.event)
	WHERE account_id = a.id AND key = p_key;
END
$$;

-- The common start of every action on an existing ticket.  The order of the
-- checks decides which error a caller sees: a ticket the actor cannot see is
-- not_found (its existence is not leaked); a role that may never do this is
-- forbidden; a stale version is a conflict (the state the caller saw is gone);
-- a state the action does not start from is bad_state; a ticket outside the
-- rule's relation is forbidden.
CREATE OR REPLACE FUNCTION st_begin(p_actor integer, p_action text, p_ticket bigint, p_version integer,
	p_key text, p_version_required boolean)
RETURNS action_ctx
LANGUAGE plpgsql AS $$
DECLARE
	c action_ctx;
	a account;
	t ticket;
	r ticket_rule;
BEGIN
	a := st_actor(p_actor);
	c.actor := a;
	c.replay := st_idem_claim(a, p_key, p_action, p_ticket);
	IF (c.replay).replayed THEN
		RETURN c;
	END IF;
	IF p_version IS NULL AND p_version_required THEN
		PERFORM st_fail('SD400', format('%s needs the ticket''s version', p_action));
	END IF;
	SELECT * INTO t FROM ticket WHERE id = p_ticket FOR UPDATE;
	IF NOT FOUND OR NOT st_visible(a, t) THEN
		PERFORM st_fail('SD404', format('ticket %s not found', p_ticket));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM ticket_rule WHERE action = p_action AND role = a.role::text) THEN
		PERFORM st_fail('SD403', format('a %s account may not %s a ticket', a.role, p_action));
	END IF;
	IF p_version IS NOT NULL AND p_version <> t.version THEN
		PERFORM st_fail('SD409', format('ticket %s is at version %s, not %s; refresh and try again',
			t.id, t.version, p_version));
	END IF;
	SELECT * INTO r FROM ticket_rule
	WHERE action = p_action AND from_state = t.state AND role = a.role::text;
	IF NOT FOUND THEN
		PERFORM st_fail('SD412', format('ticket %s is %s, not %s; %s is not possible now',
			t.id, t.state, (SELECT string_agg(DISTINCT from_state::text, ' or ')
				FROM ticket_rule WHERE action = p_action AND role = a.role::text),
			p_action));
	END IF;
	IF NOT st_relation_ok(r.relation, a, t) THEN
		PERFORM st_fail('SD403', format('ticket %s is not yours to %s', t.id, p_action));
	END IF;
	c.ticket := t;
	RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION st_append(t ticket, p_actor integer, p_action text, p_from ticket_state,
	p_department integer, p_data jsonb)
RETURNS ticket_event
LANGUAGE plpgsql AS $$
DECLARE
	e ticket_event;
BEGIN
	INSERT INTO ticket_event (ticket_id, actor_id, action, from_state, to_state, version,
		street_id, district_id, reporter_id, department_id, category_id, grid_id, data)
	VALUES (t.id, p_actor, p_action, p_from, t.state, t.version,
		t.street_id, t.district_id, t.reporter_id, coalesce(p_department, t.department_id),
		t.category_id, t.grid_id, jsonb_strip_nulls(coalesce(p_data, '{}')))
	RETURNING * INTO e;
	RETURN e;
END
$$;

-- Moves a ticket along a rule of the table and appends the event; the caller has
-- already applied its own column changes to t.
CREATE OR REPLACE FUNCTION st_move(c action_ctx, p_action text, t ticket, p_department integer, p_data jsonb,
	p_key text)
RETURNS action_result
LANGUAGE plpgsql AS $$
DECLARE
	old ticket := c.ticket;
	e ticket_event;
	r action_result;
BEGIN
	t.state := st_next(p_action, old.state, (c.actor).role::text);
	IF t.state IS DISTINCT FROM old.state THEN
		t.version := old.version + 1;
		t.overdue := false;
		t.due_at := st_due(now(), t.category_id, t.urgent, t.state);
		IF t.state IN ('closed', 'cancelled') THEN
			t.closed_at := now();
		END IF;
	END IF;
	t.updated_at := now();
	-- Open311's status_notes (migration 022): the note of this step if it is
	-- one a person takes to move the ticket, kept with the ticket
	IF p_action IN ('dispatch', 'return', 'resolve', 'confirm', 'reopen', 'cancel') THEN
		t.status_notes := coalesce(p_data->>'note', p_data->>'reason', p_data->>'comment');
	END IF;
	UPDATE ticket SET state = t.state, version = t.version, department_id = t.department_id,
		duplicate_of = t.duplicate_of, updated_at = t.updated_at, due_at = t.due_at,
		overdue = t.overdue, ext_until = t.ext_until, ext_reason = t.ext_reason,
		rating = t.rating, feedback = t.feedback, closed_at = t.closed_at,
		close_kind = t.close_kind, return_count = t.return_count,
		reopen_count = t.reopen_count, urge_count = t.urge_count, status_notes = t.status_notes
	WHERE id = t.id;
	e := st_append(t, (c.actor).id, p_action, old.state, p_department,
		p_data || CASE WHEN t.state IS DISTINCT FROM old.state
			THEN jsonb_build_object('due_at', t.due_at) ELSE '{}' END);
	r := st_result(t, e);
	PERFORM st_idem_done(c.actor, p_key, r);
	RETURN r;
END
$$;

-- 1 collect: a collector in one of their grids, or street staff in their street.
-- Urgency: the category's unless p_urgent says otherwise.  Anyone may raise
-- it; only street staff may lower it below the category's (a gas leak is
-- urgent whatever the reporter says), and only with p_urgent_reason, which
-- the event records.
-- p_photos: up to 9 finished uploads of the actor's, attached to the ticket and
-- its report event (006).
CREATE OR REPLACE FUNCTION st_report(p_actor integer, p_category integer, p_grid integer,
	p_description text, p_address text DEFAULT NULL, p_lat double precision DEFAULT NULL,
	p_lon double precision DEFAULT NULL, p_urgent boolean DEFAULT NULL,
	p_photos bigint[] DEFAULT NULL, p_urgent_reason text DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	urgent boolean;
	urgent_reason text;
	replay action_result;
	r action_result;
	rel text;
	c category;
	g grid;
	t ticket;
	e ticket_event;
BEGIN
	a := st_actor(p_actor);
	replay := st_idem_claim(a, p_key, 'report', NULL);
	IF replay.replayed THEN
		RETURN replay;
	END IF;
	SELECT relation INTO rel FROM ticket_rule
	WHERE action = 'report' AND from_state IS NULL AND role = a.role::text;
	IF NOT FOUND THEN
		PERFORM st_fail('SD403', format('a %s account may not report a ticket', a.role));
	END IF;
	SELECT * INTO c FROM category WHERE id = p_category;
	IF NOT FOUND THEN
		PERFORM st_fail('SD400', format('category %s does not exist', p_category));
	END IF;
	SELECT * INTO g FROM grid WHERE id = p_grid;
	IF NOT FOUND THEN
		PERFORM st_fail('SD400', format('grid %s does not exist', p_grid));
	END IF;
	IF rel = 'grid' AND NOT EXISTS (SELECT 1 FROM account_grid
			WHERE account_id = a.id AND grid_id = g.id) THEN
		PERFORM st_fail('SD403', format('grid %s is not one of your grids', g.code));
	ELSIF rel = 'street' AND g.street_id <> a.street_id THEN
		PERFORM st_fail('SD403', format('grid %s is not in your street', g.code));
	END IF;
	IF (p_lat IS NULL) <> (p_lon IS NULL) THEN
		PERFORM st_fail('SD400', 'latitude and longitude go together');
	END IF;
	IF p_lat IS NOT NULL AND NOT (p_lat BETWEEN -90 AND 90 AND p_lon BETWEEN -180 AND 180) THEN
		PERFORM st_fail('SD400', 'latitude is -90..90 and longitude -180..180');
	END IF;
	urgent := coalesce(p_urgent, c.urgent);
	urgent_reason := st_text(p_urgent_reason, 'the reason for lowering urgency', false);
	IF c.urgent AND NOT urgent THEN
		IF a.role <> 'street' THEN
			PERFORM st_fail('SD403', format('category %s is urgent; only a street office may '
				'report it as not urgent', c.code));
		END IF;
		IF urgent_reason IS NULL THEN
			PERFORM st_fail('SD400', format('category %s is urgent; reporting it as not urgent '
				'needs urgent_reason', c.code));
		END IF;
	ELSIF urgent_reason IS NOT NULL THEN
		PERFORM st_fail('SD400', 'urgent_reason goes only with "urgent": false for an urgent category');
	END IF;
	PERFORM st_photos_check(a, p_photos);
	INSERT INTO ticket (state, category_id, urgent, grid_id, street_id, district_id,
		description, address, lat, lon, reporter_id, due_at)
	SELECT 'reported', c.id, urgent, g.id, g.street_id, s.district_id,
		st_text(p_description, 'a description', true),
		coalesce(st_text(p_address, 'the address', false, 400), ''),
		p_lat, p_lon, a.id, st_due(now(), c.id, urgent, 'reported')
	FROM street s WHERE s.id = g.street_id
	RETURNING * INTO t;
	e := st_append(t, a.id, 'report', NULL, NULL, jsonb_build_object('category_id', c.id,
		'grid_id', g.id, 'urgent', t.urgent, 'urgent_reason', urgent_reason, 'due_at', t.due_at,
		'photos', st_photos_json(p_photos)));
	PERFORM st_photos_attach(a, p_photos, t.id, e.seq);
	r := st_result(t, e);
	PERFORM st_idem_done(a, p_key, r);
	RETURN r;
END
$$;

-- 2 dispatch: to the routed department unless the street names another.
CREATE OR REPLACE FUNCTION st_dispatch(p_actor integer, p_ticket bigint, p_version integer,
	p_department integer DEFAULT NULL, p_note text DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	routed integer;
BEGIN
	c := st_begin(p_actor, 'dispatch', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	t := c.ticket;
	routed := st_route(t.category_id, t.grid_id);
	t.department_id := coalesce(p_department, routed);
	IF t.department_id IS NULL THEN
		PERFORM st_fail('SD400', format('no routing rule covers ticket %s; name a department', t.id));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM department WHERE id = t.department_id AND active) THEN
		PERFORM st_fail('SD400', format('department %s does not exist or is inactive', t.department_id));
	END IF;
	RETURN st_move(c, 'dispatch', t, NULL, jsonb_build_object('department_id', t.department_id,
		'routed_department_id', routed, 'overridden', t.department_id IS DISTINCT FROM routed,
		'note', st_text(p_note, 'the note', false)), p_key);
END
$$;

-- A department a return names or a ruling sends the ticket to: SD400 unless
-- it exists and is active (the same words as dispatch's check).
CREATE OR REPLACE FUNCTION st_department_active(p_department integer) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM department WHERE id = p_department AND active) THEN
		PERFORM st_fail('SD400', format('department %s does not exist or is inactive', p_department));
	END IF;
END
$$;

-- 3 return (退单): back to the street with a reason and the department the
-- returner believes responsible (active, not itself); the event names the
-- department that returned it (which can no longer see the ticket afterwards)
-- and, in its data, the one it named.  The return waits for the street office
-- or a supervisor's ruling (st_arbitrate).
CREATE OR REPLACE FUNCTION st_return(p_actor integer, p_ticket bigint, p_version integer, p_reason text,
	p_department integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	reason text;
BEGIN
	c := st_begin(p_actor, 'return', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	reason := st_text(p_reason, 'a reason', true);
	IF p_department IS NULL THEN
		PERFORM st_fail('SD400', 'a return names the department responsible (department)');
	END IF;
	IF p_department = (c.ticket).department_id THEN
		PERFORM st_fail('SD400', 'a return names another department than the one returning it');
	END IF;
	PERFORM st_department_active(p_department);
	t := c.ticket;
	t.department_id := NULL;
	t.return_count := t.return_count + 1;
	RETURN st_move(c, 'return', t, (c.ticket).department_id,
		jsonb_build_object('reason', reason, 'department_id', p_department), p_key);
END
$$;

CREATE OR REPLACE FUNCTION st_accept(p_actor integer, p_ticket bigint, p_version integer,
	p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
BEGIN
	c := st_begin(p_actor, 'accept', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	RETURN st_move(c, 'accept', c.ticket, NULL, '{}', p_key);
END
$$;

-- A pending extension request dies with the step it was for.  p_photos, as
-- for a report, are attached to the ticket and the resolve event.
CREATE OR REPLACE FUNCTION st_resolve(p_actor integer, p_ticket bigint, p_version integer, p_note text,
	p_photos bigint[] DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	note text;
	r action_result;
BEGIN
	c := st_begin(p_actor, 'resolve', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	note := st_text(p_note, 'a resolution note', true);
	PERFORM st_photos_check(c.actor, p_photos);
	t := c.ticket;
	t.ext_until := NULL;
	t.ext_reason := NULL;
	r := st_move(c, 'resolve', t, NULL, jsonb_build_object('note', note,
		'dropped_extension', (c.ticket).ext_until, 'photos', st_photos_json(p_photos)), p_key);
	PERFORM st_photos_attach(c.actor, p_photos, t.id, (r.event->>'seq')::bigint);
	RETURN r;
END
$$;

-- 4 feedback: confirmed with a rating, or reopened to the same department.
CREATE OR REPLACE FUNCTION st_confirm(p_actor integer, p_ticket bigint, p_version integer, p_rating integer,
	p_comment text DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
BEGIN
	c := st_begin(p_actor, 'confirm', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	IF p_rating IS NULL OR p_rating NOT BETWEEN 1 AND 5 THEN
		PERFORM st_fail('SD400', 'a satisfaction rating from 1 to 5 is required');
	END IF;
	t := c.ticket;
	t.rating := p_rating;
	t.feedback := st_text(p_comment, 'the comment', false);
	t.close_kind := 'confirmed';
	RETURN st_move(c, 'confirm', t, NULL,
		jsonb_build_object('rating', p_rating, 'comment', t.feedback), p_key);
END
$$;

CREATE OR REPLACE FUNCTION st_reopen(p_actor integer, p_ticket bigint, p_version integer, p_reason text,
	p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	reason text;
BEGIN
	c := st_begin(p_actor, 'reopen', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	reason := st_text(p_reason, 'a reason', true);
	t := c.ticket;
	t.reopen_count := t.reopen_count + 1;
	RETURN st_move(c, 'reopen', t, NULL, jsonb_build_object('reason', reason), p_key);
END
$$;

-- Invalid or duplicate: a duplicate points at a ticket the street can see.
CREATE OR REPLACE FUNCTION st_cancel(p_actor integer, p_ticket bigint, p_version integer, p_reason text,
	p_duplicate_of bigint DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	reason text;
	dup ticket;
BEGIN
	c := st_begin(p_actor, 'cancel', p_ticket, p_version, p_key, true);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	reason := st_text(p_reason, 'a reason', p_duplicate_of IS NULL);
	IF p_duplicate_of IS NOT NULL THEN
		SELECT * INTO dup FROM ticket WHERE id = p_duplicate_of;
		IF NOT FOUND OR NOT st_visible(c.actor, dup) OR dup.id = p_ticket THEN
			PERFORM st_fail('SD400', format('ticket %s is not a ticket this one can duplicate',
				p_duplicate_of));
		END IF;
	END IF;
	t := c.ticket;
	t.duplicate_of := p_duplicate_of;
	t.close_kind := 'cancelled';
	RETURN st_move(c, 'cancel', t, NULL,
		jsonb_build_object('reason', reason, 'duplicate_of', p_duplicate_of), p_key);
END
$$;

-- 督办: no state change; a notice to whoever holds the step.
CREATE OR REPLACE FUNCTION st_urge(p_actor integer, p_ticket bigint, p_note text DEFAULT NULL,
	p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
BEGIN
	c := st_begin(p_actor, 'urge', p_ticket, p_version, p_key, false);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	t := c.ticket;
	t.urge_count := t.urge_count + 1;
	RETURN st_move(c, 'urge', t, NULL,
		jsonb_build_object('note', st_text(p_note, 'the note', false)), p_key);
END
$$;

-- The department asks for a later resolve deadline; one request at a time.
CREATE OR REPLACE FUNCTION st_extend_request(p_actor integer, p_ticket bigint, p_until timestamptz,
	p_reason text, p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
BEGIN
	c := st_begin(p_actor, 'extend_request', p_ticket, p_version, p_key, false);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	t := c.ticket;
	IF t.ext_until IS NOT NULL THEN
		PERFORM st_fail('SD412', format('ticket %s already has an extension request pending', t.id));
	END IF;
	IF p_until IS NULL OR p_until <= t.due_at THEN
		PERFORM st_fail('SD400', format('the new deadline must be later than the current one (%s)',
			t.due_at));
	END IF;
	t.ext_reason := st_text(p_reason, 'a reason', true);
	t.ext_until := p_until;
	RETURN st_move(c, 'extend_request', t, NULL, jsonb_build_object('until', p_until,
		'reason', t.ext_reason, 'current_due_at', t.due_at), p_key);
END
$$;

-- The street or a supervisor decides a pending request.
CREATE OR REPLACE FUNCTION st_extend_decide(p_actor integer, p_ticket bigint, p_grant boolean,
	p_note text, p_version integer, p_key text)
RETURNS action_result
LANGUAGE plpgsql AS $$
DECLARE
	act text := CASE WHEN p_grant THEN 'extend_grant' ELSE 'extend_deny' END;
	c action_ctx;
	t ticket;
	until timestamptz;
BEGIN
	c := st_begin(p_actor, act, p_ticket, p_version, p_key, false);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	t := c.ticket;
	until := t.ext_until;
	IF until IS NULL THEN
		PERFORM st_fail('SD412', format('ticket %s has no extension request pending', t.id));
	END IF;
	IF p_grant THEN
		t.due_at := until;
		t.overdue := false; -- a new deadline; its passing is marked again
	END IF;
	t.ext_until := NULL;
	t.ext_reason := NULL;
	RETURN st_move(c, act, t, NULL, jsonb_build_object('until', until,
		'note', st_text(p_note, 'the note', false)), p_key);
END
$$;

CREATE OR REPLACE FUNCTION st_extend_grant(p_actor integer, p_ticket bigint, p_note text DEFAULT NULL,
	p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE sql SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT st_extend_decide(p_actor, p_ticket, true, p_note, p_version, p_key)
$$;

CREATE OR REPLACE FUNCTION st_extend_deny(p_actor integer, p_ticket bigint, p_note text DEFAULT NULL,
	p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE sql SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT st_extend_decide(p_actor, p_ticket, false, p_note, p_version, p_key)
$$;

CREATE OR REPLACE FUNCTION st_comment(p_actor integer, p_ticket bigint, p_text text,
	p_version integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
BEGIN
	c := st_begin(p_actor, 'comment', p_ticket, p_version, p_key, false);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	RETURN st_move(c, 'comment', c.ticket, NULL,
		jsonb_build_object('text', st_text(p_text, 'the comment', true)), p_key);
END
$$;

-- A supervisor rules on a return, once per return (docs/decisions.md, "A
-- ruling on a return binds").  Upheld: the department was right to return it,
-- and the return is not counted against it.  Rejected: it counts.
--
-- While the return is pending (the ticket is 'reported' and nothing has moved
-- it since the return: its version is the return's), the ruling moves it to
-- 'dispatched' with a new accept deadline: upheld, to p_department or else the
-- department the return named (never the returning one); rejected, back to the
-- returning department (p_department, if given, must be that one).  Once the
-- street office has re-dispatched or cancelled the ticket, the ruling records
-- whether the return counts and moves nothing (p_department is then
-- bad_state: the ticket is no longer the ruling's to send).  A ticket waiting
-- on a later return takes the ruling on that one first.
--
-- The event: data has return_seq, upheld and, when the ticket moved,
-- department_id (where it went); the department_id column is where the ticket
-- went, or else the returning department (so the ruling reaches it).
CREATE OR REPLACE FUNCTION st_arbitrate(p_actor integer, p_ticket bigint, p_return_seq bigint,
	p_upheld boolean, p_note text DEFAULT NULL, p_version integer DEFAULT NULL,
	p_department integer DEFAULT NULL, p_key text DEFAULT NULL)
RETURNS action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c action_ctx;
	t ticket;
	ret ticket_event;
	pending bigint;
	dest integer;
	note text;
BEGIN
	c := st_begin(p_actor, 'arbitrate', p_ticket, p_version, p_key, false);
	IF (c.replay).replayed THEN
		RETURN c.replay;
	END IF;
	IF p_upheld IS NULL THEN
		PERFORM st_fail('SD400', 'upheld (true or false) is required');
	END IF;
	note := st_text(p_note, 'the note', false);
	SELECT * INTO ret FROM ticket_event
	WHERE seq = p_return_seq AND ticket_id = p_ticket AND action = 'return';
	IF NOT FOUND THEN
		PERFORM st_fail('SD400', format('event %s is not a return of ticket %s', p_return_seq, p_ticket));
	END IF;
	IF EXISTS (SELECT 1 FROM ticket_event WHERE ticket_id = p_ticket AND action = 'arbitrate'
			AND (data->>'return_seq')::bigint = p_return_seq) THEN
		PERFORM st_fail('SD412', format('the return in event %s was already arbitrated', p_return_seq));
	END IF;
	t := c.ticket;
	IF t.state <> 'reported' THEN
		-- the street office has acted on it: recorded only
		IF p_department IS NOT NULL THEN
			PERFORM st_fail('SD412', format('ticket %s is %s: it has moved on since the return,'
				' so the ruling is recorded only and sends it nowhere; leave out department',
				t.id, t.state));
		END IF;
		RETURN st_move(c, 'arbitrate', t, ret.department_id,
			jsonb_build_object('return_seq', p_return_seq, 'upheld', p_upheld, 'note', note),
			p_key);
	END IF;
	IF t.version <> ret.version THEN
		SELECT max(seq) INTO pending FROM ticket_event
		WHERE ticket_id = t.id AND action = 'return' AND version = t.version;
		PERFORM st_fail('SD412', format('ticket %s waits on a later return (event %s); rule on'
			' that one first', t.id, pending));
	END IF;
	IF p_upheld THEN
		dest := coalesce(p_department, (ret.data->>'department_id')::integer);
		IF dest IS NULL THEN
			PERFORM st_fail('SD400', format('the return in event %s names no department;'
				' name the one the ticket goes to (department)', p_return_seq));
		END IF;
		IF dest = ret.department_id THEN
			PERFORM st_fail('SD400', 'an upheld return does not go back to the department'
				' that returned it (reject the return for that)');
		END IF;
	ELSE
		dest := ret.department_id;
		IF p_department IS NOT NULL AND p_department <> dest THEN
			PERFORM st_fail('SD400', format('a rejected return goes back to the department'
				' that returned it (%s); another department goes with upheld', dest));
		END IF;
	END IF;
	PERFORM st_department_active(dest);
	t.department_id := dest;
	RETURN st_move(c, 'arbitrate', t, dest, jsonb_build_object('return_seq', p_return_seq,
		'upheld', p_upheld, 'department_id', dest, 'note', note), p_key);
END
$$;

-- The daemon's deadline sweep: marks each passed deadline once (overdue), and
-- closes resolved tickets whose feedback deadline passed ("no feedback", not
-- satisfied).  Rows locked by another sweeper or an action are skipped and
-- picked up by the next sweep, so several daemons never mark a deadline twice.
CREATE OR REPLACE FUNCTION st_sweep(p_now timestamptz DEFAULT now(), p_limit integer DEFAULT 500)
RETURNS SETOF action_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	t ticket;
	nxt ticket_state;
	act text;
	e ticket_event;
BEGIN
	FOR t IN SELECT * FROM ticket WHERE due_at <= p_now AND NOT overdue
		ORDER BY due_at LIMIT p_limit FOR UPDATE SKIP LOCKED
	LOOP
		act := CASE WHEN t.state = 'resolved' THEN 'auto_close' ELSE 'overdue' END;
		nxt := st_next(act, t.state, 'system');
		CONTINUE WHEN nxt IS NULL;
		IF nxt = t.state THEN
			UPDATE ticket SET overdue = true WHERE id = t.id RETURNING * INTO t;
			e := st_append(t, NULL, act, t.state, NULL, jsonb_build_object('due_at', t.due_at));
		ELSE
			UPDATE ticket SET state = nxt, version = version + 1, due_at = NULL,
				overdue = false, closed_at = now(), close_kind = 'no_feedback',
				updated_at = now()
			WHERE id = t.id RETURNING * INTO t;
			e := st_append(t, NULL, act, 'resolved', NULL, '{}');
		END IF;
		RETURN NEXT st_result(t, e);
	END LOOP;
END
$$;

-- When the sweeper should next look: the earliest deadline not yet marked.
CREATE OR REPLACE FUNCTION st_next_due() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT min(due_at) FROM ticket WHERE NOT overdue AND due_at IS NOT NULL
$$;
