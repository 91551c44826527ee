-- Reading the event log for live push and resume.
--
-- Sequence numbers are handed out before commit, not in commit order: a
-- transaction takes seq 7, another takes seq 8 and commits first, so seq 8
-- becomes visible while seq 7 is still missing (and 7 never appears if its
-- transaction rolls back).  A reader that remembered "the highest seq seen"
-- would skip 7 for good.  A reader
-- therefore hands out events strictly in seq order and stops at the first
-- missing number (a hole).  A hole is either a transaction still running or
-- one that rolled back.  When the reader first sees a hole it takes a fresh
-- transaction id (pg_current_xact_id() on a connection of its own): every
-- transaction that already held a number had its xid before that, so the hole
-- is settled once a later snapshot's xmin (st_log_after returns it) reaches
-- the probe.  A snapshot's xmax is not such a bound: a running transaction can
-- have an xid at or above it.  Every event is inserted after its
-- transaction's first write, so the holder of a number always has an xid.

-- The log after p_after, in seq order, with the statement's snapshot xmin.
-- Columns are what the daemon routes and filters on, plus the event as JSON.
CREATE OR REPLACE FUNCTION st_log_after(p_after bigint, p_limit integer)
RETURNS TABLE (seq bigint, street_id integer, district_id integer, department_id integer,
	reporter_id integer, category_id integer, grid_id integer, to_state text,
	event text, snap_xmin bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT e.seq, e.street_id, e.district_id, e.department_id, e.reporter_id,
		e.category_id, e.grid_id, e.to_state::text, st_event_json(e)::text,
		pg_snapshot_xmin(pg_current_snapshot())::text::bigint
	FROM ticket_event e
	WHERE e.seq > p_after
	ORDER BY e.seq
	LIMIT p_limit
$$;

-- The newest seq and the snapshot's xmin: where a starting reader begins.
CREATE OR REPLACE FUNCTION st_log_head()
RETURNS TABLE (head bigint, snap_xmin bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT coalesce((SELECT max(seq) FROM ticket_event), 0),
		pg_snapshot_xmin(pg_current_snapshot())::text::bigint
$$;

-- Replay for a subscriber that resumes: the events in (p_after, p_upto] that
-- the account may see (st_sees on the event's own columns: a department sees
-- the events that concern it), in seq order.
CREATE OR REPLACE FUNCTION st_log_replay(p_actor integer, p_after bigint, p_upto bigint, p_limit integer)
RETURNS TABLE (seq bigint, category_id integer, grid_id integer, to_state text, event text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account := st_actor(p_actor);
BEGIN
	RETURN QUERY
	SELECT e.seq, e.category_id, e.grid_id, e.to_state::text, st_event_json(e)::text
	FROM ticket_event e
	WHERE e.seq > p_after AND e.seq <= p_upto
		AND st_sees(a.role, a.id, a.street_id, a.district_id, a.department_id,
			e.street_id, e.district_id, e.department_id, e.reporter_id)
	ORDER BY e.seq
	LIMIT p_limit;
END
$$;

-- The sweeper runs in one instance at a time: the holder of this lock.
CREATE OR REPLACE FUNCTION st_sweeper_lock() RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT pg_try_advisory_lock(hashtext('streetd.sweeper'))
$$;

-- Seconds until the earliest unmarked deadline (NULL: none), in the database's clock.
CREATE OR REPLACE FUNCTION st_sweep_wait() RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT extract(epoch FROM st_next_due() - now())
$$;

-- The doorbell other instances LISTEN on; rung outside any action's transaction.
CREATE OR REPLACE FUNCTION st_ring() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT pg_notify('street_events', '')
$$;
