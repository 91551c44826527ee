-- 018: a monthly rollup beside the daily one (docs/assessment.md, "How they
-- are kept"), so that a month's or a year's report reads a few hundred rows
-- per month instead of every day's: per (month in UTC+8, street, category,
-- department; 0: none), district riding along.  The follower adds to both
-- in the same transaction (sql/functions/80_follow.sql); the reports read
-- whole months here and the days at a period's edges from assess_day
-- (81_measures.sql).  Grids are not kept per month: a grid's report reads
-- the days.

-- The follower must not fold while the rollup is filled from the days:
-- its lock, held to the end of the migration's transaction, by which time
-- the functions that add to both tables are in place.
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('streetd.rollup')); END $$;

CREATE TABLE assess_month (
	month date NOT NULL CHECK (month = date_trunc('month', month)::date),
	street_id integer NOT NULL,
	category_id integer NOT NULL,
	department_id integer NOT NULL,
	district_id integer NOT NULL,
	reported integer NOT NULL DEFAULT 0,
	dispatched integer NOT NULL DEFAULT 0,
	dispatched_ontime integer NOT NULL DEFAULT 0,
	dispatched_tickets integer NOT NULL DEFAULT 0,
	accept_ended integer NOT NULL DEFAULT 0,
	accepted integer NOT NULL DEFAULT 0,
	accepted_ontime integer NOT NULL DEFAULT 0,
	returned integer NOT NULL DEFAULT 0,
	returned_counted integer NOT NULL DEFAULT 0,
	resolved integer NOT NULL DEFAULT 0,
	resolved_ontime integer NOT NULL DEFAULT 0,
	reopened integer NOT NULL DEFAULT 0,
	closed integer NOT NULL DEFAULT 0,
	closed_ontime integer NOT NULL DEFAULT 0,
	confirmed integer NOT NULL DEFAULT 0,
	no_feedback integer NOT NULL DEFAULT 0,
	satisfied integer NOT NULL DEFAULT 0,
	dissatisfied integer NOT NULL DEFAULT 0,
	cancelled integer NOT NULL DEFAULT 0,
	cancelled_dispatched integer NOT NULL DEFAULT 0,
	urged integer NOT NULL DEFAULT 0,
	overdue_marks integer NOT NULL DEFAULT 0,
	open_delta integer NOT NULL DEFAULT 0,
	overdue_delta integer NOT NULL DEFAULT 0,
	ownerless_s bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (month, street_id, category_id, department_id)
);

-- The working-time histograms per month, without the category: a histogram
-- row per category multiplied them tenfold for the year's series (44,000
-- rows to sum at 1M tickets); a category's percentiles read the days.
CREATE TABLE assess_month_hist (
	month date NOT NULL CHECK (month = date_trunc('month', month)::date),
	street_id integer NOT NULL,
	department_id integer NOT NULL,
	district_id integer NOT NULL,
	kind text NOT NULL CHECK (kind IN ('dispatch', 'accept', 'resolve', 'feedback')),
	bucket smallint NOT NULL,
	n integer NOT NULL DEFAULT 0,
	PRIMARY KEY (month, street_id, department_id, kind, bucket)
);

-- What the days hold so far (nothing on a new database).
INSERT INTO assess_month (month, street_id, category_id, department_id, district_id, reported,
	dispatched, dispatched_ontime, dispatched_tickets, accept_ended, accepted, accepted_ontime,
	returned, returned_counted, resolved, resolved_ontime, reopened, closed, closed_ontime,
	confirmed, no_feedback, satisfied, dissatisfied, cancelled, cancelled_dispatched, urged,
	overdue_marks, open_delta, overdue_delta, ownerless_s)
SELECT date_trunc('month', day)::date, street_id, category_id, department_id, district_id,
	sum(reported), sum(dispatched), sum(dispatched_ontime), sum(dispatched_tickets),
	sum(accept_ended), sum(accepted), sum(accepted_ontime), sum(returned),
	sum(returned_counted), sum(resolved), sum(resolved_ontime), sum(reopened), sum(closed),
	sum(closed_ontime), sum(confirmed), sum(no_feedback), sum(satisfied), sum(dissatisfied),
	sum(cancelled), sum(cancelled_dispatched), sum(urged), sum(overdue_marks),
	sum(open_delta), sum(overdue_delta), sum(ownerless_s)
FROM assess_day
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO assess_month_hist (month, street_id, department_id, district_id, kind, bucket, n)
SELECT date_trunc('month', day)::date, street_id, department_id, district_id, kind, bucket, sum(n)
FROM assess_day_hist
GROUP BY 1, 2, 3, 4, 5, 6;

-- The fold finds a ticket's open step as its last (by the index of 017) and
-- an upheld return's dispatch step by ticket too, so two indexes that every
-- step paid for on insert go; ending a step now changes no indexed column,
-- and with room left in each page the update stays on it (a HOT update:
-- no new index entries).
DROP INDEX assess_step_open, assess_step_start;
ALTER TABLE assess_step SET (fillfactor = 90);
