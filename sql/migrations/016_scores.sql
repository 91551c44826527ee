-- 016: what the scores of 012 need besides their tables.
--
-- A lock holds in the tables themselves, not only in the functions that write
-- them (sql/functions/86_scores.sql): once a period is locked, no writer that
-- goes through the tables (the daemon's functions, a script, an admin at psql
-- without disabling triggers) can insert, change or delete a score of that
-- period, and the lock itself can be neither changed nor removed.  (As with
-- the event log, the table's owner or a superuser can still disable the
-- triggers: the audit log and the hash chain are what show that.)
--
-- The relation a street needs to score a department (a dispatch of one of its
-- tickets to that department in the period, or an arbitration that sent one
-- there) is looked up by street, department and time: the partial indexes
-- below hold only those events, so no other action pays for them.

CREATE FUNCTION assessment_score_unlocked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r assessment_score;
BEGIN
	r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	IF EXISTS (SELECT 1 FROM assessment_lock l
			WHERE l.period_from = r.period_from AND l.period_to = r.period_to)
		OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM assessment_lock l
			WHERE l.period_from = OLD.period_from AND l.period_to = OLD.period_to)) THEN
		RAISE EXCEPTION 'the period % to % is locked: its scores cannot change',
			r.period_from, r.period_to USING ERRCODE = 'SD412';
	END IF;
	RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER assessment_score_locked BEFORE INSERT OR UPDATE OR DELETE ON assessment_score
	FOR EACH ROW EXECUTE FUNCTION assessment_score_unlocked();

CREATE FUNCTION assessment_lock_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'period locks are final (% on % refused)', TG_OP, TG_TABLE_NAME
		USING ERRCODE = 'SD412';
END
$$;
CREATE TRIGGER assessment_lock_no_update BEFORE UPDATE OR DELETE ON assessment_lock
	FOR EACH ROW EXECUTE FUNCTION assessment_lock_immutable();
CREATE TRIGGER assessment_lock_no_truncate BEFORE TRUNCATE ON assessment_lock
	FOR EACH STATEMENT EXECUTE FUNCTION assessment_lock_immutable();
CREATE TRIGGER assessment_score_no_truncate BEFORE TRUNCATE ON assessment_score
	FOR EACH STATEMENT EXECUTE FUNCTION assessment_lock_immutable();

CREATE INDEX ticket_event_dispatch_to ON ticket_event (street_id, department_id, at)
	WHERE action = 'dispatch';
CREATE INDEX ticket_event_arbitrate_street ON ticket_event (street_id, at)
	WHERE action = 'arbitrate';
