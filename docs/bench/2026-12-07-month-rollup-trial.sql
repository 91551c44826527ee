-- The monthly rollup tried by hand in bench/run's database on 2026-12-07 (docs/assessment.md,
-- "How fast"): assess_month / assess_month_hist built from assess_day, and a copy of
-- st_assess_figures reading them. Not applied anywhere: the starting point for making the
-- reports meet < 50 ms at 1 M tickets (issue 13). Run as the owner in a bench database.
-- Prototype C (bench database only): a coarse rollup per (month, street,
-- department), the follower would add to it as it adds to assess_day; here
-- built from assess_day.  The same query over it, unchanged otherwise.
SET search_path = street, pg_temp;
DROP TABLE IF EXISTS assess_month, assess_month_hist;
CREATE TABLE assess_month AS
SELECT date_trunc('month', day)::date AS day, 0 AS grid_id, 0 AS category_id, department_id,
	street_id, district_id,
	sum(reported)::integer reported, sum(dispatched)::integer dispatched,
	sum(dispatched_ontime)::integer dispatched_ontime, sum(dispatched_tickets)::integer dispatched_tickets,
	sum(accept_ended)::integer accept_ended, sum(accepted)::integer accepted,
	sum(accepted_ontime)::integer accepted_ontime, sum(returned)::integer returned,
	sum(returned_counted)::integer returned_counted, sum(resolved)::integer resolved,
	sum(resolved_ontime)::integer resolved_ontime, sum(reopened)::integer reopened,
	sum(closed)::integer closed, sum(closed_ontime)::integer closed_ontime,
	sum(confirmed)::integer confirmed, sum(no_feedback)::integer no_feedback,
	sum(satisfied)::integer satisfied, sum(dissatisfied)::integer dissatisfied,
	sum(cancelled)::integer cancelled, sum(cancelled_dispatched)::integer cancelled_dispatched,
	sum(urged)::integer urged, sum(overdue_marks)::integer overdue_marks,
	sum(open_delta)::integer open_delta, sum(overdue_delta)::integer overdue_delta,
	sum(ownerless_s)::bigint ownerless_s
FROM assess_day GROUP BY 1, 4, 5, 6;
ALTER TABLE assess_month ADD PRIMARY KEY (day, street_id, department_id);
CREATE TABLE assess_month_hist AS
SELECT date_trunc('month', day)::date AS day, 0 AS grid_id, 0 AS category_id, department_id,
	street_id, district_id, kind, bucket, sum(n)::integer AS n
FROM assess_day_hist GROUP BY 1, 4, 5, 6, 7, 8;
ALTER TABLE assess_month_hist ADD PRIMARY KEY (day, street_id, department_id, kind, bucket);
ANALYZE assess_month; ANALYZE assess_month_hist;
-- The same query as st_assess_figures (sql/functions/81_measures.sql) over the
-- monthly tables: its definition with the two table names swapped.
DO $$
DECLARE
	src text := pg_get_functiondef('street.st_assess_figures(date, date, text, text,
		integer, integer, integer, integer)'::regprocedure);
BEGIN
	src := replace(src, 'street.st_assess_figures(', 'street.st_assess_figures_m(');
	src := regexp_replace(src, '\massess_day\M', 'assess_month', 'g');
	src := regexp_replace(src, '\massess_day_hist\M', 'assess_month_hist', 'g');
	EXECUTE src;
END
$$;
