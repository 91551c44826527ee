-- The follower: work that must see every committed event in seq order but
-- must not sit in an action's transaction.  The leader instance's event
-- reader calls st_follow() on its own connection after each read that
-- delivered events and at least every second (daemon/events.c); anyone may
-- call it (a test, psql), since each advance takes its lock first and two
-- callers simply take turns.  st_follow returns the number of events
-- folded.
-- It advances, in turn, the hash chain (90_chain.sql) and the rollups of
-- the assessment (with export's rows, 87_export.sql, and Open311's kept
-- requests, 88_open311.sql), then fills export's rows of the tickets older
-- than migration 019 and Open311's of those older than 024 until there are
-- none left.
CREATE OR REPLACE FUNCTION st_follow() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	n integer := 0;
BEGIN
	n := n + st_chain_advance(5000);
	n := n + st_rollup_advance(5000);
	n := n + st_export_backfill(5000);
	n := n + st_o311_backfill(5000);
	RETURN n;
END
$$;

-- Rows the follower keeps for every ticket, of the tickets that existed
-- before the migration that added them: p_fill is that migration's fill
-- table (one row: ids in (position, upto] are still to do), p_refresh the
-- function that builds the rows of an array of ticket ids.  Up to p_limit
-- tickets a call, in id order; returns how many, 0 once done.  Under the
-- follower's lock.  Export's rows (019) and Open311's kept requests (024)
-- are filled this way (st_export_backfill, st_o311_backfill).
CREATE OR REPLACE FUNCTION st_backfill(p_fill regclass, p_refresh regproc, p_limit integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	pos bigint;
	upto bigint;
	ids bigint[];
BEGIN
	EXECUTE format('SELECT position, upto FROM %s', p_fill) INTO STRICT pos, upto;
	IF pos >= upto THEN
		RETURN 0;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup'));
	EXECUTE format('SELECT position, upto FROM %s', p_fill) INTO STRICT pos, upto;
	ids := ARRAY(SELECT id FROM ticket WHERE id > pos AND id <= upto ORDER BY id LIMIT p_limit);
	EXECUTE format('SELECT %s($1)', p_refresh) USING ids;
	EXECUTE format('UPDATE %s SET position = $1', p_fill)
		USING CASE WHEN cardinality(ids) < p_limit THEN upto ELSE ids[cardinality(ids)] END;
	RETURN cardinality(ids);
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

-- A step's working time: what its deadline counts (working seconds on the
-- calendar; elapsed seconds for an urgent ticket).
CREATE OR REPLACE FUNCTION st_assess_working(p_from timestamptz, p_to timestamptz, p_urgent boolean)
RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_urgent THEN greatest(floor(extract(epoch FROM p_to - p_from)), 0)::bigint
		ELSE sla_working_between(p_from, p_to) END
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

-- The fold works a batch of events at a time, set-wise (st_assess_fold):
-- the batch's events, each with what the fold needs to know at it (the
-- step open before it, that step's overdue mark and deadline so far, the
-- ticket's facts so far), go to fold_ev; the steps and ticket facts are
-- written from there, and what each event adds to the rollups goes to
-- fold_delta and fold_hist, one row per unit it adds to, which
-- st_assess_flush adds up into the rollups.  Session-local tables with no
-- index (no WAL), made on the first fold of a session; their rows never
-- outlive the transaction.
CREATE OR REPLACE FUNCTION st_assess_fold_tables() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF to_regclass('pg_temp.fold_ev') IS NULL THEN
		CREATE TEMP TABLE fold_ev (
			seq bigint, at timestamptz, day date, ticket_id bigint, action text,
			to_state street.ticket_state, grid_id integer, category_id integer,
			street_id integer, district_id integer, rating integer,
			upheld_return bigint,      -- an upheld ruling: the seq of the return it rules on
			moves boolean,             -- from_state <> to_state (report included)
			ends boolean,              -- it ends the open step (a move with a step open)
			starts boolean,            -- it starts a step (a move to a state with one)
			seg_last boolean,          -- the last event of the batch that saw its open step
			seg_marked boolean,        -- an event of the batch changed that step's mark
			tk_last boolean,           -- the ticket's last event of the batch
			s_id bigint,               -- the open step (s_kind NULL: none); s_id NULL: new
			s_kind text, s_start_seq bigint, s_started_at timestamptz,
			s_deadline timestamptz, s_department integer, s_charged integer,
			n_kind text, n_deadline timestamptz, n_department integer, n_charged integer,
			old_holder integer, new_holder integer,
			marked_before boolean,     -- the open step's overdue mark before the event
			marked boolean,            -- and after it
			deadline timestamptz,      -- the open step's deadline after the event
			met boolean, working_s bigint, charged_end integer,
			urgent boolean, known boolean, t_dispatched boolean, t_resolve_met boolean,
			dispatched_before boolean, resolve_met_before boolean,
			dispatch_end boolean, resolve_end boolean
		) ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE fold_delta (LIKE street.assess_day INCLUDING DEFAULTS)
			ON COMMIT DELETE ROWS;
		CREATE TEMP TABLE fold_hist (LIKE street.assess_day_hist INCLUDING DEFAULTS)
			ON COMMIT DELETE ROWS;
	END IF;
END
$$;

-- Folds the events with seq in (p_after, p_upto] into the facts
-- (assess_step, assess_ticket) and fold_delta / fold_hist, as if one at a
-- time in seq order (docs/assessment.md says what counts where).  The caller
-- has settled that no event can still appear in that range.
CREATE OR REPLACE FUNCTION st_assess_fold(p_after bigint, p_upto bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	-- a batch's rows are gone at commit; a second batch in the same
	-- transaction must not see the first's
	DELETE FROM pg_temp.fold_ev;
	-- planned for the range at hand each time (EXECUTE): a kept generic plan
	-- would guess the range's size.  Not by SET plan_cache_mode on the
	-- function: that would hold for the working-time function it calls too,
	-- and plan its queries at every call.
	EXECUTE $fold$
	INSERT INTO pg_temp.fold_ev (seq, at, day, ticket_id, action, to_state, grid_id,
		category_id, street_id, district_id, rating, upheld_return, moves, ends, starts, seg_last,
		seg_marked, tk_last, s_id, s_kind, s_start_seq, s_started_at, s_deadline, s_department,
		s_charged, n_kind, n_deadline, n_department, n_charged, old_holder, new_holder,
		marked_before, marked, deadline, met, working_s, charged_end, urgent, known,
		t_dispatched, t_resolve_met, dispatched_before, resolve_met_before, dispatch_end,
		resolve_end)
	WITH b0 AS (
		-- the batch, with what the fold knew of each ticket before it
		SELECT e.seq, e.at, e.ticket_id, e.action, e.from_state, e.to_state, e.department_id,
			e.data, e.grid_id, e.category_id, e.street_id, e.district_id,
			t.ticket_id IS NOT NULL AS known, t.urgent AS t_urgent,
			coalesce(t.dispatched, false) AS t_dispatched, t.last_resolve_met AS t_resolve_met,
			bool_or(e.action = 'report') OVER (PARTITION BY e.ticket_id ORDER BY e.seq)
				AS reported
		FROM ticket_event e
		-- a lookup per event (LIMIT keeps it a lookup): as a join, the
		-- planner hashed the whole of assess_ticket for every batch (640,000
		-- rows, 200 of a batch's ~900 ms), a cost growing with the city
		LEFT JOIN LATERAL (SELECT * FROM assess_ticket t WHERE t.ticket_id = e.ticket_id
			LIMIT 1) t ON true
		WHERE e.seq > $1 AND e.seq <= $2),
	b1 AS (
		-- an event of a ticket whose report was never folded changes nothing
		-- (cannot happen: report is a ticket's first event)
		SELECT b0.*, b0.from_state IS DISTINCT FROM b0.to_state AS moves
		FROM b0 WHERE b0.known OR b0.reported),
	open0 AS MATERIALIZED (
		-- each ticket's step open before the batch: its last, unless ended
		SELECT x.* FROM (SELECT DISTINCT b1.ticket_id FROM b1) k
		CROSS JOIN LATERAL (SELECT * FROM assess_step x WHERE x.ticket_id = k.ticket_id
			ORDER BY x.id DESC LIMIT 1) x
		WHERE x.ended_at IS NULL),
	b AS (
		-- sgrp: which step is open at the event: 0 the one open before the
		-- batch, k the one the ticket's k-th move of the batch started;
		-- prev: the last move before it (seq * 2 + 1 if it started a step)
		SELECT b1.*,
			count(*) FILTER (WHERE b1.moves) OVER wp AS sgrp,
			max(b1.seq * 2 + CASE WHEN b1.to_state IN ('reported', 'dispatched', 'accepted',
				'resolved') THEN 1 ELSE 0 END) FILTER (WHERE b1.moves) OVER wp AS prev,
			coalesce(b1.t_urgent, (array_agg(coalesce((b1.data->>'urgent')::boolean, false))
				FILTER (WHERE b1.action = 'report') OVER wi)[1]) AS urgent,
			o.id IS NOT NULL AS open_before
		FROM b1 LEFT JOIN open0 o ON o.ticket_id = b1.ticket_id
		WINDOW wi AS (PARTITION BY b1.ticket_id ORDER BY b1.seq),
			wp AS (wi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
	bh AS (
		-- the holder the event hands the ticket to (0: the street, or none)
		SELECT b.*,
			CASE WHEN b.action <> 'report'
				AND CASE WHEN b.prev IS NULL THEN b.open_before ELSE b.prev % 2 = 1 END
				AND b.to_state IN ('dispatched', 'accepted', 'resolved')
			THEN coalesce(CASE WHEN b.to_state = 'dispatched'
				THEN (b.data->>'department_id')::integer END, b.department_id, 0)
			ELSE 0 END AS new_holder
		FROM b),
	arb AS (
		-- the batch's upheld rulings: the return's step has no charge from then on
		SELECT (bh.data->>'return_seq')::bigint AS return_seq, min(bh.seq) AS seq
		FROM bh WHERE bh.action = 'arbitrate' AND (bh.data->>'upheld')::boolean
		GROUP BY 1),
	st AS (
		SELECT s.*, arb.seq AS cleared_seq FROM (
			SELECT o.ticket_id, 0::bigint AS k, o.id, o.kind, o.start_seq, o.started_at,
				o.deadline, o.department_id, o.charged_department_id, o.overdue_marked
			FROM open0 o
			UNION ALL
			SELECT bh.ticket_id, bh.sgrp + 1, NULL, st_assess_step_kind(bh.to_state), bh.seq,
				bh.at, (bh.data->>'due_at')::timestamptz, nullif(bh.new_holder, 0),
				CASE WHEN bh.action = 'return' THEN bh.department_id END, false
			FROM bh
			WHERE bh.moves AND bh.to_state IN ('reported', 'dispatched', 'accepted', 'resolved')
		) s LEFT JOIN arb ON arb.return_seq = s.start_seq),
	ev AS (
		-- each event with its open step; mark: what it does to the step's
		-- overdue mark (1 sets, 0 clears), until: the deadline it grants
		SELECT bh.*, s.id AS s_id, s.kind AS s_kind, s.start_seq AS s_start_seq,
			s.started_at AS s_started_at, s.deadline AS s_deadline,
			s.department_id AS s_department, s.charged_department_id AS s_charged,
			s.overdue_marked AS s_marked, s.cleared_seq,
			CASE WHEN s.kind IS NOT NULL AND bh.action = 'overdue' THEN 1
				WHEN s.kind = 'resolve' AND bh.action = 'extend_grant' THEN 0 END AS mark,
			CASE WHEN s.kind = 'resolve' AND bh.action = 'extend_grant'
				THEN (bh.data->>'until')::timestamptz END AS until
		FROM bh LEFT JOIN st s ON s.ticket_id = bh.ticket_id AND s.k = bh.sgrp
			AND bh.action <> 'report'),
	ew AS (
		-- the step's mark and deadline before and after each event (the
		-- last change so far: seq * 2 + mark, the granted deadlines in order)
		SELECT ev.*,
			max(ev.seq * 2 + ev.mark) OVER ws_prev AS mark_prev,
			max(ev.seq * 2 + ev.mark) OVER ws AS mark_now,
			array_agg(ev.until) FILTER (WHERE ev.mark = 0) OVER ws_prev AS until_prev,
			array_agg(ev.until) FILTER (WHERE ev.mark = 0) OVER ws AS until_now,
			bool_or(ev.mark IS NOT NULL) OVER wseg AS seg_marked,
			ev.seq = max(ev.seq) OVER wseg AS seg_last,
			ev.seq = max(ev.seq) OVER (PARTITION BY ev.ticket_id) AS tk_last
		FROM ev
		WINDOW wseg AS (PARTITION BY ev.ticket_id, ev.sgrp),
			ws AS (wseg ORDER BY ev.seq ROWS UNBOUNDED PRECEDING),
			ws_prev AS (wseg ORDER BY ev.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)),
	ee AS (
		-- the step ends: on time against its deadline so far, its working time
		SELECT ew.*,
			ew.moves AND ew.action <> 'report' AND ew.s_kind IS NOT NULL AS ends,
			CASE WHEN ew.mark_prev IS NULL THEN ew.s_marked ELSE ew.mark_prev % 2 = 1 END
				AS marked_before,
			CASE WHEN ew.mark_now IS NULL THEN ew.s_marked ELSE ew.mark_now % 2 = 1 END
				AS marked,
			CASE WHEN ew.until_prev IS NULL THEN ew.s_deadline
				ELSE ew.until_prev[cardinality(ew.until_prev)] END AS deadline_before,
			CASE WHEN ew.until_now IS NULL THEN ew.s_deadline
				ELSE ew.until_now[cardinality(ew.until_now)] END AS deadline
		FROM ew),
	em AS (
		SELECT ee.*,
			CASE WHEN ee.ends THEN ee.deadline_before IS NULL OR ee.at <= ee.deadline_before
				END AS met,
			CASE WHEN ee.ends THEN st_assess_working(ee.s_started_at, ee.at, ee.urgent)
				END AS working_s,
			-- time without an owner after a return: the returning department's,
			-- unless a ruling upheld the return before the step ended
			CASE WHEN ee.ends AND (ee.cleared_seq IS NULL OR ee.cleared_seq > ee.seq)
				THEN ee.s_charged END AS charged_end,
			ee.ends AND ee.s_kind = 'dispatch' AND ee.action = 'dispatch' AS dispatch_end,
			ee.ends AND ee.s_kind = 'resolve' AND ee.action = 'resolve' AS resolve_end
		FROM ee)
	SELECT em.seq, em.at, st_assess_day(em.at), em.ticket_id, em.action, em.to_state,
		em.grid_id, em.category_id, em.street_id, em.district_id,
		CASE WHEN em.action IN ('confirm', 'auto_close') THEN (em.data->>'rating')::integer END,
		CASE WHEN em.action = 'arbitrate' AND (em.data->>'upheld')::boolean
			THEN (em.data->>'return_seq')::bigint END,
		em.moves, em.ends,
		em.moves AND em.to_state IN ('reported', 'dispatched', 'accepted', 'resolved'),
		em.seg_last, em.seg_marked, em.tk_last,
		em.s_id, em.s_kind, em.s_start_seq, em.s_started_at, em.s_deadline, em.s_department,
		em.s_charged,
		CASE WHEN em.moves AND em.to_state IN ('reported', 'dispatched', 'accepted', 'resolved')
			THEN st_assess_step_kind(em.to_state) END,
		CASE WHEN em.moves AND em.to_state IN ('reported', 'dispatched', 'accepted', 'resolved')
			THEN (em.data->>'due_at')::timestamptz END,
		nullif(em.new_holder, 0),
		CASE WHEN em.moves AND em.action = 'return' THEN em.department_id END,
		coalesce(em.s_department, 0), em.new_holder,
		em.marked_before, em.marked, em.deadline, em.met, em.working_s, em.charged_end,
		em.urgent, em.known, em.t_dispatched, em.t_resolve_met,
		em.t_dispatched OR coalesce(bool_or(em.dispatch_end) OVER wt_prev, false),
		CASE WHEN max(em.seq * 2 + CASE WHEN em.resolve_end THEN em.met::integer END)
				OVER wt_prev IS NULL THEN em.t_resolve_met
			ELSE max(em.seq * 2 + CASE WHEN em.resolve_end THEN em.met::integer END)
				OVER wt_prev % 2 = 1 END,
		em.dispatch_end, em.resolve_end
	FROM em
	WINDOW wt_prev AS (PARTITION BY em.ticket_id ORDER BY em.seq
		ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
	$fold$ USING p_after, p_upto;

	-- the steps open before the batch: their mark and deadline now, their end
	UPDATE assess_step x
	SET deadline = f.deadline, overdue_marked = f.marked,
		end_seq = CASE WHEN f.ends THEN f.seq ELSE x.end_seq END,
		ended_at = CASE WHEN f.ends THEN f.at ELSE x.ended_at END,
		end_action = CASE WHEN f.ends THEN f.action ELSE x.end_action END,
		met = CASE WHEN f.ends THEN f.met ELSE x.met END,
		working_s = CASE WHEN f.ends THEN f.working_s ELSE x.working_s END
	FROM pg_temp.fold_ev f
	WHERE f.seg_last AND f.s_id IS NOT NULL AND (f.ends OR f.seg_marked) AND x.id = f.s_id;
	-- the steps the batch started, in the order they started: those an event
	-- of the batch saw (as it left them), and those none did
	INSERT INTO assess_step (ticket_id, kind, start_seq, started_at, deadline, department_id,
		charged_department_id, overdue_marked, end_seq, ended_at, end_action, met, working_s)
	SELECT ticket_id, kind, start_seq, started_at, deadline, department_id, charged,
		marked, end_seq, ended_at, end_action, met, working_s
	FROM (
		SELECT f.ticket_id, f.s_kind AS kind, f.s_start_seq AS start_seq,
			f.s_started_at AS started_at, f.deadline, f.s_department AS department_id,
			f.s_charged AS charged, f.marked,
			CASE WHEN f.ends THEN f.seq END AS end_seq,
			CASE WHEN f.ends THEN f.at END AS ended_at,
			CASE WHEN f.ends THEN f.action END AS end_action, f.met, f.working_s
		FROM pg_temp.fold_ev f
		WHERE f.seg_last AND f.s_kind IS NOT NULL AND f.s_id IS NULL
		UNION ALL
		SELECT f.ticket_id, f.n_kind, f.seq, f.at, f.n_deadline, f.n_department, f.n_charged,
			false, NULL, NULL, NULL, NULL, NULL
		FROM pg_temp.fold_ev f
		WHERE f.starts AND f.tk_last) s
	ORDER BY start_seq;

	-- the tickets' facts: reported, dispatched at least once, the last resolve on time
	INSERT INTO assess_ticket AS t (ticket_id, urgent, dispatched, last_resolve_met)
	SELECT f.ticket_id, bool_or(f.urgent),
		bool_or(f.t_dispatched) OR bool_or(f.dispatch_end),
		coalesce((array_agg(f.met ORDER BY f.seq DESC) FILTER (WHERE f.resolve_end))[1],
			bool_or(f.t_resolve_met))
	FROM pg_temp.fold_ev f
	GROUP BY f.ticket_id
	HAVING NOT bool_or(f.known) OR bool_or(f.dispatch_end) OR bool_or(f.resolve_end)
	ON CONFLICT (ticket_id) DO UPDATE
	SET dispatched = excluded.dispatched, last_resolve_met = excluded.last_resolve_met;

	-- upheld rulings: the return no longer counts, nor does the time without
	-- an owner after it (already added if its step had ended), wherever the
	-- return is; its step (folded by now) is charged to no one
	WITH a AS (
		SELECT f.seq AS arb_seq, r.seq, r.at, r.ticket_id, r.department_id, r.grid_id,
			r.category_id, r.street_id, r.district_id
		FROM pg_temp.fold_ev f
		JOIN ticket_event r ON r.seq = f.upheld_return AND r.action = 'return'),
	rs AS (
		SELECT a.*, x.id AS step_id, x.end_seq, x.ended_at, x.working_s,
			x.charged_department_id
		FROM a JOIN assess_step x ON x.ticket_id = a.ticket_id AND x.start_seq = a.seq
			AND x.kind = 'dispatch' AND x.charged_department_id IS NOT NULL),
	cleared AS (
		UPDATE assess_step x SET charged_department_id = NULL FROM rs WHERE x.id = rs.step_id)
	INSERT INTO pg_temp.fold_delta (day, grid_id, category_id, department_id, street_id,
		district_id, returned_counted, ownerless_s)
	SELECT st_assess_day(a.at), a.grid_id, a.category_id, coalesce(a.department_id, 0),
		a.street_id, a.district_id, -1, 0
	FROM a
	UNION ALL
	SELECT st_assess_day(rs.ended_at), rs.grid_id, rs.category_id, rs.charged_department_id,
		rs.street_id, rs.district_id, 0, -rs.working_s
	FROM rs WHERE rs.end_seq < rs.arb_seq;

	-- what each event adds, one row for each unit it adds to: the street
	-- (report, cancel), the holder before it, the one after it, the department
	-- charged with the time without an owner that it ended
	INSERT INTO pg_temp.fold_delta (day, grid_id, category_id, department_id, street_id,
		district_id, reported, cancelled, cancelled_dispatched, open_delta)
	SELECT f.day, f.grid_id, f.category_id, 0, f.street_id, f.district_id,
		(f.action = 'report')::integer, (f.action = 'cancel')::integer,
		(f.action = 'cancel' AND f.dispatched_before)::integer, (f.action = 'report')::integer
	FROM pg_temp.fold_ev f
	WHERE f.action = 'report' OR (f.ends AND f.s_kind = 'dispatch' AND f.action = 'cancel');
	INSERT INTO pg_temp.fold_delta (day, grid_id, category_id, department_id, street_id,
		district_id, urged, overdue_marks, overdue_delta, accept_ended, accepted,
		accepted_ontime, returned, returned_counted, resolved, resolved_ontime, closed,
		closed_ontime, confirmed, no_feedback, satisfied, dissatisfied, reopened, open_delta)
	SELECT f.day, f.grid_id, f.category_id, f.old_holder, f.street_id, f.district_id,
		(f.action = 'urge')::integer, (f.action = 'overdue')::integer,
		CASE WHEN f.action = 'overdue' AND f.s_kind IS NOT NULL AND NOT f.marked_before THEN 1
			WHEN f.action = 'extend_grant' AND f.s_kind = 'resolve' AND f.marked_before THEN -1
			ELSE 0 END
			- CASE WHEN f.ends AND f.marked THEN 1 ELSE 0 END,
		CASE WHEN f.x_accept OR f.x_return THEN 1 ELSE 0 END, f.x_accept::integer,
		(f.x_accept AND f.met)::integer, f.x_return::integer, f.x_return::integer,
		f.resolve_end::integer, (f.resolve_end AND f.met)::integer,
		f.x_close::integer, CASE WHEN f.x_close AND f.resolve_met_before THEN 1 ELSE 0 END,
		(f.x_close AND f.action = 'confirm')::integer,
		(f.x_close AND f.action = 'auto_close')::integer,
		CASE WHEN f.x_close AND f.rating >= 4 THEN 1 ELSE 0 END,
		CASE WHEN f.x_close AND f.rating <= 2 THEN 1 ELSE 0 END,
		(f.ends AND f.s_kind = 'feedback' AND f.action = 'reopen')::integer,
		CASE WHEN f.ends AND (f.to_state IN ('closed', 'cancelled')
			OR f.new_holder <> f.old_holder) THEN -1 ELSE 0 END
	FROM (SELECT f.*,
			f.ends AND f.s_kind = 'accept' AND f.action = 'accept' AS x_accept,
			f.ends AND f.s_kind = 'accept' AND f.action = 'return' AS x_return,
			f.ends AND f.s_kind = 'feedback' AND f.action IN ('confirm', 'auto_close') AS x_close
		FROM pg_temp.fold_ev f) f
	WHERE f.action IN ('urge', 'overdue')
		OR (f.action = 'extend_grant' AND f.s_kind = 'resolve' AND f.marked_before)
		OR f.x_accept OR f.x_return OR f.resolve_end OR f.x_close
		OR (f.ends AND (f.s_kind = 'feedback' AND f.action = 'reopen' OR f.marked
			OR f.to_state IN ('closed', 'cancelled') OR f.new_holder <> f.old_holder));
	INSERT INTO pg_temp.fold_delta (day, grid_id, category_id, department_id, street_id,
		district_id, dispatched, dispatched_ontime, dispatched_tickets, open_delta)
	SELECT f.day, f.grid_id, f.category_id, f.new_holder, f.street_id, f.district_id,
		f.dispatch_end::integer, (f.dispatch_end AND f.met)::integer,
		(f.dispatch_end AND NOT f.dispatched_before)::integer,
		CASE WHEN f.to_state NOT IN ('closed', 'cancelled') AND f.new_holder <> f.old_holder
			THEN 1 ELSE 0 END
	FROM pg_temp.fold_ev f
	WHERE f.dispatch_end OR (f.ends AND f.to_state NOT IN ('closed', 'cancelled')
		AND f.new_holder <> f.old_holder);
	-- time without an owner after a return: the returning department's
	INSERT INTO pg_temp.fold_delta (day, grid_id, category_id, department_id, street_id,
		district_id, ownerless_s)
	SELECT f.day, f.grid_id, f.category_id, f.charged_end, f.street_id, f.district_id,
		f.working_s
	FROM pg_temp.fold_ev f
	WHERE f.charged_end IS NOT NULL AND f.working_s > 0;
	-- the working time of the steps ended by the event that counts them
	INSERT INTO pg_temp.fold_hist (day, grid_id, category_id, department_id, street_id,
		district_id, kind, bucket, n)
	SELECT f.day, f.grid_id, f.category_id,
		CASE WHEN f.s_kind = 'dispatch' THEN f.new_holder ELSE f.old_holder END, f.street_id,
		f.district_id, f.s_kind, st_assess_bucket(f.working_s), 1
	FROM pg_temp.fold_ev f
	WHERE f.dispatch_end OR f.resolve_end
		OR (f.ends AND f.s_kind = 'accept' AND f.action = 'accept')
		OR (f.ends AND f.s_kind = 'feedback' AND f.action = 'confirm');
END
$$;

-- The kind of the step a state starts (the ones that have one).
CREATE OR REPLACE FUNCTION st_assess_step_kind(p_state ticket_state) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_state WHEN 'reported' THEN 'dispatch' WHEN 'dispatched' THEN 'accept'
		WHEN 'accepted' THEN 'resolve' WHEN 'resolved' THEN 'feedback' END
$$;

-- Adds the batch's deltas to the daily and monthly rollups and empties them:
-- one INSERT … ON CONFLICT per table, the deltas summed per row.
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
		WITH d AS (DELETE FROM pg_temp.fold_delta RETURNING *),
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
	WITH d AS (DELETE FROM pg_temp.fold_hist RETURNING *),
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

-- Folds up to p_limit events after the cursor, in seq order, and returns how
-- many.  Stops at a missing number until no transaction that may fill it is
-- still running (the probe rule of sql/functions/60_log.sql), then skips it.
-- The batch is settled first (which numbers it takes), then folded whole.
CREATE OR REPLACE FUNCTION st_rollup_advance(p_limit integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	c assess_cursor;
	c0 assess_cursor;
	v_seq bigint;
	v_xmin xid8;
	touched bigint[];
	n integer := 0;
BEGIN
	-- one fold at a time (an advisory lock: locking the row would write it every call)
	PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup'));
	SELECT * INTO STRICT c FROM assess_cursor;
	c0 := c;
	-- taken before the events are read: an older xmin only waits longer
	v_xmin := pg_snapshot_xmin(pg_current_snapshot());
	FOR v_seq IN SELECT seq FROM ticket_event WHERE seq > c.position ORDER BY seq LIMIT p_limit LOOP
		IF v_seq <> c.position + 1 THEN
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
		c.position := v_seq;
		n := n + 1;
	END LOOP;
	IF n > 0 THEN
		-- every number in (c0.position, c.position] is an event read above or
		-- a hole settled for good: the fold reads the same events again
		PERFORM st_assess_fold_tables();
		PERFORM st_assess_fold(c0.position, c.position);
		PERFORM st_assess_flush();
		-- export's rows and Open311's pieces (88_open311.sql) of the tickets
		-- the batch touched, in the same transaction
		touched := ARRAY(SELECT DISTINCT ticket_id FROM ticket_event
			WHERE seq > c0.position AND seq <= c.position);
		PERFORM st_export_refresh(touched);
		PERFORM st_o311_refresh(touched);
	END IF;
	-- nothing new (the usual call, every second): no write at all
	IF n > 0 OR c.hole_seq IS DISTINCT FROM c0.hole_seq THEN
		UPDATE assess_cursor SET position = c.position, hole_seq = c.hole_seq,
			hole_probe = c.hole_probe, updated_at = now();
	END IF;
	RETURN n;
END
$$;
