-- The follower: work that must see every committed event in seq order but
-- must not sit in an action's transaction.  The leader instance's event
-- reader calls st_follow() on its own connection after each read that
-- delivered events and at least every second (daemon/events.c); anyone may
-- call it (a test, psql), since each advance takes its lock first and two
-- callers simply take turns.  st_follow returns the number of events
-- folded.
-- It advances, in turn, the hash chain (90_chain.sql) and the rollups of
-- the assessment (with export's rows, 87_export.sql), then fills export's
-- rows of the tickets older than migration 019 until there are none left.
CREATE OR REPLACE FUNCTION st_follow() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	n integer := 0;
BEGIN
	n := n + st_chain_advance(5000);
	n := n + st_rollup_advance(5000);
	n := n + st_export_backfill(5000);
	RETURN n;
END
$$;

-- Working-time histogram bucket upper bounds, in seconds (docs/assessment.md).
-- A value above the last bound falls in bucket cardinality + 1.
CREATE OR REPLACE FUNCTION st_assess_bounds() RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT '{60,120,300,600,900,1200,1800,2700,3600,5400,7200,10800,14400,18000,21600,25200,28800,43200,57600,86400,115200,144000,201600,288000,432000,576000,864000}'::integer[]
$$;

CREATE OR REPLACE FUNCTION st_assess_bucket(p_secs bigint) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
	-- the first bound >= p_secs: one more than the bounds below it
	SELECT (width_bucket(p_secs - 1, st_assess_bounds()) + 1)::smallint
$$;

-- The day (UTC+8, as the deadlines) an instant belongs to.
CREATE OR REPLACE FUNCTION st_assess_day(p_at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
	SELECT (p_at AT TIME ZONE INTERVAL '+08:00')::date
$$;

-- The fold is set-based: while it folds a batch, what each event adds goes
-- to two session-local tables with no index (an insert each, no WAL), and
-- st_assess_flush adds the batch's sums to the rollups at the end, one
-- INSERT … ON CONFLICT per table, instead of 3 to 6 upserts per event into
-- tables that already hold years.  Made on the first fold of a session;
-- their rows never outlive the transaction.
CREATE OR REPLACE FUNCTION st_assess_delta_tables() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF to_regclass('pg_temp.assess_delta') IS NULL THEN
		CREATE TEMP TABLE assess_delta (LIKE street.assess_day INCLUDING DEFAULTS)
			ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE assess_delta_hist (LIKE street.assess_day_hist INCLUDING DEFAULTS)
			ON COMMIT DELETE ROWS;
	END IF;
END
$$;

-- What one event adds to a rollup row; named arguments say which counters
-- move.
CREATE OR REPLACE FUNCTION st_assess_add(e ticket_event, p_day date, p_department integer,
	reported integer DEFAULT 0, dispatched integer DEFAULT 0, dispatched_ontime integer DEFAULT 0,
	dispatched_tickets integer DEFAULT 0, accept_ended integer DEFAULT 0, accepted integer DEFAULT 0,
	accepted_ontime integer DEFAULT 0, returned integer DEFAULT 0,
	returned_counted integer DEFAULT 0, resolved integer DEFAULT 0,
	resolved_ontime integer DEFAULT 0, reopened integer DEFAULT 0, closed integer DEFAULT 0,
	closed_ontime integer DEFAULT 0, confirmed integer DEFAULT 0, no_feedback integer DEFAULT 0,
	satisfied integer DEFAULT 0, dissatisfied integer DEFAULT 0, cancelled integer DEFAULT 0,
	cancelled_dispatched integer DEFAULT 0, urged integer DEFAULT 0,
	overdue_marks integer DEFAULT 0, open_delta integer DEFAULT 0,
	overdue_delta integer DEFAULT 0, ownerless_s bigint DEFAULT 0)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
BEGIN
	INSERT INTO pg_temp.assess_delta (day, grid_id, category_id, department_id, street_id,
		district_id, reported, dispatched, dispatched_ontime, dispatched_tickets,
		accept_ended, accepted, accepted_ontime, returned, returned_counted, resolved,
		resolved_ontime, reopened, closed, closed_ontime, confirmed, no_feedback, satisfied,
		dissatisfied, cancelled, cancelled_dispatched, urged, overdue_marks, open_delta,
		overdue_delta, ownerless_s)
	VALUES (p_day, e.grid_id, e.category_id, coalesce(p_department, 0), e.street_id,
		e.district_id, reported, dispatched, dispatched_ontime, dispatched_tickets,
		accept_ended, accepted, accepted_ontime, returned, returned_counted, resolved,
		resolved_ontime, reopened, closed, closed_ontime, confirmed, no_feedback, satisfied,
		dissatisfied, cancelled, cancelled_dispatched, urged, overdue_marks, open_delta,
		overdue_delta, ownerless_s);
END
$$;

CREATE OR REPLACE FUNCTION st_assess_hist_add(e ticket_event, p_day date, p_department integer,
	p_kind text, p_secs bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pg_temp.assess_delta_hist (day, grid_id, category_id, department_id, street_id,
		district_id, kind, bucket, n)
	VALUES (p_day, e.grid_id, e.category_id, coalesce(p_department, 0), e.street_id,
		e.district_id, p_kind, st_assess_bucket(p_secs), 1);
END
$$;

-- The rollups' counters: every column of assess_day but its key (the
-- table is their one list; assess_month has the same).
CREATE OR REPLACE FUNCTION st_assess_counters() RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
	WHERE attrelid = 'street.assess_day'::regclass AND attnum > 0 AND NOT attisdropped
		AND attname NOT IN ('day', 'grid_id', 'category_id', 'department_id', 'street_id',
			'district_id')
$$;

-- Adds the batch's deltas to the daily and monthly rollups and empties them.
CREATE OR REPLACE FUNCTION st_assess_flush() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c text[] := st_assess_counters();
	cols text := array_to_string(c, ', ');
	sums text;
	upd text;
BEGIN
	SELECT string_agg(format('sum(%I)', x), ', '), string_agg(format('%1$I = t.%1$I + excluded.%1$I', x), ', ')
	INTO sums, upd FROM unnest(c) x;
	EXECUTE format($q$
		WITH d AS (DELETE FROM pg_temp.assess_delta RETURNING *),
		by_day AS (
			INSERT INTO assess_day AS t (day, grid_id, category_id, department_id, street_id,
				district_id, %1$s)
			SELECT day, grid_id, category_id, department_id, street_id, district_id, %2$s
			FROM d GROUP BY 1, 2, 3, 4, 5, 6
			ON CONFLICT (day, grid_id, category_id, department_id) DO UPDATE SET %3$s)
		INSERT INTO assess_month AS t (month, street_id, category_id, department_id,
			district_id, %1$s)
		SELECT date_trunc('month', day)::date, street_id, category_id, department_id,
			district_id, %2$s
		FROM d GROUP BY 1, 2, 3, 4, 5
		ON CONFLICT (month, street_id, category_id, department_id) DO UPDATE SET %3$s
		$q$, cols, sums, upd);
	WITH d AS (DELETE FROM pg_temp.assess_delta_hist RETURNING *),
	by_day AS (
		INSERT INTO assess_day_hist AS t (day, grid_id, category_id, department_id, street_id,
			district_id, kind, bucket, n)
		SELECT day, grid_id, category_id, department_id, street_id, district_id, kind, bucket,
			sum(n)
		FROM d GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
		ON CONFLICT (day, grid_id, category_id, department_id, kind, bucket)
			DO UPDATE SET n = t.n + excluded.n)
	INSERT INTO assess_month_hist AS t (month, street_id, department_id, district_id, kind, bucket,
		n)
	SELECT date_trunc('month', day)::date, street_id, department_id, district_id, kind, bucket,
		sum(n)
	FROM d GROUP BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (month, street_id, department_id, kind, bucket)
		DO UPDATE SET n = t.n + excluded.n;
END
$$;

-- A step's working time: what its deadline counts (working seconds on the
-- calendar; elapsed seconds for an urgent ticket).
CREATE OR REPLACE FUNCTION st_assess_working(p_from timestamptz, p_to timestamptz, p_urgent boolean)
RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_urgent THEN greatest(floor(extract(epoch FROM p_to - p_from)), 0)::bigint
		ELSE sla_working_between(p_from, p_to) END
$$;

-- Folds one event into the facts and rollups (docs/assessment.md says what
-- counts where).
CREATE OR REPLACE FUNCTION st_assess_fold(e ticket_event) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_day date := st_assess_day(e.at);
	s assess_step;
	tk assess_ticket;
	r ticket_event;
	rs assess_step;
	old_holder integer;  -- 0: the street
	new_holder integer;
	ontime integer;
	rating integer;
BEGIN
	IF e.action = 'report' THEN
		INSERT INTO assess_ticket (ticket_id, urgent)
		VALUES (e.ticket_id, coalesce((e.data->>'urgent')::boolean, false))
		ON CONFLICT (ticket_id) DO NOTHING;
		PERFORM st_assess_add(e, v_day, 0, reported => 1, open_delta => 1);
		INSERT INTO assess_step (ticket_id, kind, start_seq, started_at, deadline)
		VALUES (e.ticket_id, 'dispatch', e.seq, e.at, (e.data->>'due_at')::timestamptz);
		RETURN;
	END IF;
	SELECT * INTO tk FROM assess_ticket WHERE ticket_id = e.ticket_id;
	IF NOT FOUND THEN
		RETURN; -- its report was never folded (cannot happen: report is its first event)
	END IF;
	-- the open step is the ticket's last, unless that has ended
	SELECT * INTO s FROM assess_step WHERE ticket_id = e.ticket_id ORDER BY id DESC LIMIT 1;
	IF s.ended_at IS NOT NULL THEN
		s := NULL;
	END IF;
	old_holder := coalesce(s.department_id, 0);

	-- events that leave the state alone
	IF e.action = 'urge' THEN
		PERFORM st_assess_add(e, v_day, old_holder, urged => 1);
	ELSIF e.action = 'overdue' THEN
		PERFORM st_assess_add(e, v_day, old_holder, overdue_marks => 1,
			overdue_delta => CASE WHEN s.id IS NOT NULL AND NOT s.overdue_marked THEN 1 ELSE 0 END);
		UPDATE assess_step SET overdue_marked = true WHERE id = s.id;
		s.overdue_marked := true;
	ELSIF e.action = 'extend_grant' AND s.kind = 'resolve' THEN
		IF s.overdue_marked THEN
			PERFORM st_assess_add(e, v_day, old_holder, overdue_delta => -1);
		END IF;
		UPDATE assess_step SET deadline = (e.data->>'until')::timestamptz, overdue_marked = false
		WHERE id = s.id;
		s.overdue_marked := false;
	ELSIF e.action = 'arbitrate' AND (e.data->>'upheld')::boolean THEN
		-- an upheld return does not count, nor does the ownerless time after it
		SELECT * INTO r FROM ticket_event WHERE seq = (e.data->>'return_seq')::bigint
			AND action = 'return';
		IF FOUND THEN
			PERFORM st_assess_add(r, st_assess_day(r.at), r.department_id, returned_counted => -1);
			SELECT * INTO rs FROM assess_step WHERE ticket_id = r.ticket_id
				AND start_seq = r.seq AND kind = 'dispatch'
				AND charged_department_id IS NOT NULL;
			IF FOUND THEN
				IF rs.ended_at IS NOT NULL THEN
					PERFORM st_assess_add(r, st_assess_day(rs.ended_at),
						rs.charged_department_id, ownerless_s => -rs.working_s);
				END IF;
				UPDATE assess_step SET charged_department_id = NULL WHERE id = rs.id;
				IF rs.id = s.id THEN
					s.charged_department_id := NULL;
				END IF;
			END IF;
		END IF;
	END IF;
	IF e.from_state IS NOT DISTINCT FROM e.to_state THEN
		RETURN;
	END IF;

	-- the step ends
	IF s.id IS NOT NULL THEN
		s.ended_at := e.at;
		s.met := s.deadline IS NULL OR e.at <= s.deadline;
		s.working_s := st_assess_working(s.started_at, e.at, tk.urgent);
		UPDATE assess_step SET end_seq = e.seq, ended_at = e.at, end_action = e.action,
			met = s.met, working_s = s.working_s
		WHERE id = s.id;
		ontime := CASE WHEN s.met THEN 1 ELSE 0 END;
		new_holder := CASE WHEN e.to_state IN ('dispatched', 'accepted', 'resolved')
			THEN coalesce(CASE WHEN e.to_state = 'dispatched'
				THEN (e.data->>'department_id')::integer END, e.department_id, 0)
			ELSE 0 END;
		IF s.kind = 'dispatch' AND e.action = 'dispatch' THEN
			PERFORM st_assess_add(e, v_day, new_holder, dispatched => 1,
				dispatched_ontime => ontime,
				dispatched_tickets => CASE WHEN tk.dispatched THEN 0 ELSE 1 END);
			PERFORM st_assess_hist_add(e, v_day, new_holder, 'dispatch', s.working_s);
			UPDATE assess_ticket SET dispatched = true WHERE ticket_id = e.ticket_id;
		ELSIF s.kind = 'dispatch' AND e.action = 'cancel' THEN
			PERFORM st_assess_add(e, v_day, 0, cancelled => 1,
				cancelled_dispatched => CASE WHEN tk.dispatched THEN 1 ELSE 0 END);
		ELSIF s.kind = 'accept' AND e.action = 'accept' THEN
			PERFORM st_assess_add(e, v_day, old_holder, accept_ended => 1, accepted => 1,
				accepted_ontime => ontime);
			PERFORM st_assess_hist_add(e, v_day, old_holder, 'accept', s.working_s);
		ELSIF s.kind = 'accept' AND e.action = 'return' THEN
			PERFORM st_assess_add(e, v_day, old_holder, accept_ended => 1, returned => 1,
				returned_counted => 1);
		ELSIF s.kind = 'resolve' AND e.action = 'resolve' THEN
			PERFORM st_assess_add(e, v_day, old_holder, resolved => 1, resolved_ontime => ontime);
			PERFORM st_assess_hist_add(e, v_day, old_holder, 'resolve', s.working_s);
			UPDATE assess_ticket SET last_resolve_met = s.met WHERE ticket_id = e.ticket_id;
			tk.last_resolve_met := s.met;
		ELSIF s.kind = 'feedback' AND e.action IN ('confirm', 'auto_close') THEN
			rating := (e.data->>'rating')::integer;
			PERFORM st_assess_add(e, v_day, old_holder, closed => 1,
				closed_ontime => CASE WHEN tk.last_resolve_met THEN 1 ELSE 0 END,
				confirmed => CASE WHEN e.action = 'confirm' THEN 1 ELSE 0 END,
				no_feedback => CASE WHEN e.action = 'auto_close' THEN 1 ELSE 0 END,
				satisfied => CASE WHEN rating >= 4 THEN 1 ELSE 0 END,
				dissatisfied => CASE WHEN rating <= 2 THEN 1 ELSE 0 END);
			IF e.action = 'confirm' THEN
				PERFORM st_assess_hist_add(e, v_day, old_holder, 'feedback', s.working_s);
			END IF;
		ELSIF s.kind = 'feedback' AND e.action = 'reopen' THEN
			PERFORM st_assess_add(e, v_day, old_holder, reopened => 1);
		END IF;
		-- time without an owner after a return: the returning department's
		IF s.charged_department_id IS NOT NULL AND s.working_s > 0 THEN
			PERFORM st_assess_add(e, v_day, s.charged_department_id, ownerless_s => s.working_s);
		END IF;
		-- the open and overdue tickets move to their new holder, or leave
		IF s.overdue_marked THEN
			PERFORM st_assess_add(e, v_day, old_holder, overdue_delta => -1);
		END IF;
		IF e.to_state IN ('closed', 'cancelled') THEN
			PERFORM st_assess_add(e, v_day, old_holder, open_delta => -1);
		ELSIF new_holder <> old_holder THEN
			PERFORM st_assess_add(e, v_day, old_holder, open_delta => -1);
			PERFORM st_assess_add(e, v_day, new_holder, open_delta => 1);
		END IF;
	ELSE
		new_holder := 0;
	END IF;

	-- the next step starts
	IF e.to_state IN ('reported', 'dispatched', 'accepted', 'resolved') THEN
		INSERT INTO assess_step (ticket_id, kind, start_seq, started_at, deadline, department_id,
			charged_department_id)
		VALUES (e.ticket_id, CASE e.to_state WHEN 'reported' THEN 'dispatch'
				WHEN 'dispatched' THEN 'accept' WHEN 'accepted' THEN 'resolve'
				ELSE 'feedback' END,
			e.seq, e.at, (e.data->>'due_at')::timestamptz, nullif(new_holder, 0),
			CASE WHEN e.action = 'return' THEN e.department_id END);
	END IF;
END
$$;

-- Folds up to p_limit events after the cursor, in seq order, and returns how
-- many.  Stops at a missing number until no transaction that may fill it is
-- still running (the probe rule of sql/functions/60_log.sql), then skips it.
CREATE OR REPLACE FUNCTION st_rollup_advance(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c assess_cursor;
	c0 assess_cursor;
	e ticket_event;
	v_xmin xid8;
	n integer := 0;
BEGIN
	-- one fold at a time (an advisory lock: locking the row would write it every call)
	PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup'));
	SELECT * INTO STRICT c FROM assess_cursor;
	c0 := c;
	-- taken before the events are read: an older xmin only waits longer
	v_xmin := pg_snapshot_xmin(pg_current_snapshot());
	PERFORM st_assess_delta_tables();
	FOR e IN SELECT * FROM ticket_event WHERE seq > c.position ORDER BY seq LIMIT p_limit LOOP
		IF e.seq <> c.position + 1 THEN
			IF c.hole_seq IS DISTINCT FROM c.position + 1 THEN
				-- first sight: whoever holds the missing numbers has an xid below ours
				c.hole_seq := c.position + 1;
				c.hole_probe := pg_current_xact_id();
				EXIT;
			END IF;
			EXIT WHEN v_xmin < c.hole_probe;
		END IF;
		c.hole_seq := NULL;
		c.hole_probe := NULL;
		PERFORM st_assess_fold(e);
		c.position := e.seq;
		n := n + 1;
	END LOOP;
	IF n > 0 THEN
		PERFORM st_assess_flush();
		-- export's rows of the tickets the batch touched, in the same transaction
		PERFORM st_export_refresh(ARRAY(SELECT DISTINCT ticket_id FROM ticket_event
			WHERE seq > c0.position AND seq <= c.position));
	END IF;
	-- nothing new (the usual call, every second): no write at all
	IF n > 0 OR c.hole_seq IS DISTINCT FROM c0.hole_seq THEN
		UPDATE assess_cursor SET position = c.position, hole_seq = c.hole_seq,
			hole_probe = c.hole_probe, updated_at = now();
	END IF;
	RETURN n;
END
$$;
