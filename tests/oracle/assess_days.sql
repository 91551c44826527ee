-- Test oracle (tests/integration/test_assessment.c, "month rollup"): the
-- assessment's figures computed from the daily rollup alone, every day from
-- the beginning, as st_assess_figures did before the monthly rollup
-- (migration 018).  Slow and simple; the test checks that the real one,
-- reading whole months from assess_month and an opening balance, gives the
-- same rows.  Made in the test session's pg_temp: it never ships.
CREATE FUNCTION pg_temp.st_assess_figures_days(p_from date, p_to date, p_group text, p_series text,
	p_unit integer, p_department integer, p_street integer, p_district integer)
RETURNS TABLE (unit_id integer, period_from date, period_to date, f jsonb)
LANGUAGE plpgsql STABLE SET search_path = street AS $$
DECLARE
	b_from date[];
	b_to date[];
	step interval := CASE p_series WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '1 week'
		WHEN 'month' THEN interval '1 month' END;
	bounds integer[] := st_assess_bounds();
BEGIN
	IF p_series IS NULL THEN
		b_from := ARRAY[p_from];
		b_to := ARRAY[p_to];
	ELSE
		SELECT array_agg(greatest(g::date, p_from) ORDER BY g),
			array_agg(least((g + step)::date, p_to) ORDER BY g)
		INTO b_from, b_to
		FROM generate_series(date_trunc(CASE p_series WHEN 'day' THEN 'day' WHEN 'week' THEN 'week'
			ELSE 'month' END, p_from::timestamp), (p_to - 1)::timestamp, step) g;
	END IF;
	RETURN QUERY
	WITH bk AS MATERIALIZED (
		SELECT x.b_from, x.b_to FROM unnest(b_from, b_to) AS x(b_from, b_to)),
	data AS MATERIALIZED (
		SELECT st_assess_unit(p_group, d.department_id, d.street_id, d.district_id,
			d.category_id, d.grid_id) AS u, d.*
		FROM assess_day d
		WHERE d.day < p_to
			AND (p_department IS NULL OR d.department_id = p_department)
			AND (p_street IS NULL OR d.street_id = p_street)
			AND (p_district IS NULL OR d.district_id = p_district)),
	sums AS (
		SELECT d.u, bk.b_from, bk.b_to,
			sum(d.reported) AS reported, sum(d.dispatched) AS dispatched,
			sum(d.dispatched_ontime) AS dispatched_ontime,
			sum(d.dispatched_tickets) AS dispatched_tickets, sum(d.accept_ended) AS accept_ended,
			sum(d.accepted) AS accepted, sum(d.accepted_ontime) AS accepted_ontime,
			sum(d.returned) AS returned, sum(d.returned_counted) AS returned_counted,
			sum(d.resolved) AS resolved, sum(d.resolved_ontime) AS resolved_ontime,
			sum(d.reopened) AS reopened, sum(d.closed) AS closed,
			sum(d.closed_ontime) AS closed_ontime, sum(d.confirmed) AS confirmed,
			sum(d.no_feedback) AS no_feedback, sum(d.satisfied) AS satisfied,
			sum(d.dissatisfied) AS dissatisfied, sum(d.cancelled) AS cancelled,
			sum(d.cancelled_dispatched) AS cancelled_dispatched, sum(d.urged) AS urged,
			sum(d.overdue_marks) AS overdue_marks, sum(d.ownerless_s) AS ownerless_s
		FROM data d JOIN bk ON d.day >= bk.b_from AND d.day < bk.b_to
		WHERE d.u IS NOT NULL AND (p_unit IS NULL OR d.u = p_unit)
		GROUP BY d.u, bk.b_from, bk.b_to),
	hist AS (
		SELECT st_assess_unit(p_group, h.department_id, h.street_id, h.district_id,
			h.category_id, h.grid_id) AS u, bk.b_from, h.kind, h.bucket, sum(h.n) AS n
		FROM assess_day_hist h JOIN bk ON h.day >= bk.b_from AND h.day < bk.b_to
		WHERE (p_department IS NULL OR h.department_id = p_department)
			AND (p_street IS NULL OR h.street_id = p_street)
			AND (p_district IS NULL OR h.district_id = p_district)
		GROUP BY 1, 2, 3, 4),
	cum AS (
		SELECT hist.*, sum(hist.n) OVER (PARTITION BY hist.u, hist.b_from, hist.kind ORDER BY hist.bucket) AS upto,
			sum(hist.n) OVER (PARTITION BY hist.u, hist.b_from, hist.kind) AS total
		FROM hist),
	pct AS (
		SELECT cum.u, cum.b_from, jsonb_object_agg(cum.kind, jsonb_build_object('n', cum.total,
			'p50', bounds[cum.p50], 'p90', bounds[cum.p90])) AS j
		FROM (SELECT cum.u, cum.b_from, cum.kind, max(cum.total) AS total,
				min(cum.bucket) FILTER (WHERE cum.upto >= ceil(0.5 * cum.total)) AS p50,
				min(cum.bucket) FILTER (WHERE cum.upto >= ceil(0.9 * cum.total)) AS p90
			FROM cum GROUP BY 1, 2, 3) cum
		GROUP BY 1, 2)
	SELECT s.u, s.b_from, s.b_to,
		jsonb_build_object(
			'reported', s.reported, 'dispatched', s.dispatched,
			'dispatched_tickets', s.dispatched_tickets, 'accepted', s.accepted,
			'returned', s.returned, 'returned_counted', s.returned_counted,
			'resolved', s.resolved, 'reopened', s.reopened, 'closed', s.closed,
			'confirmed', s.confirmed, 'no_feedback', s.no_feedback,
			'cancelled', s.cancelled, 'cancelled_dispatched', s.cancelled_dispatched,
			'urged', s.urged, 'overdue_marks', s.overdue_marks,
			'open_at_end', o.open_at_end, 'overdue_at_end', o.overdue_at_end,
			'ownerless_s', s.ownerless_s)
		|| jsonb_build_object(
			'dispatch_ontime_rate', st_assess_rate(s.dispatched_ontime, s.dispatched),
			'response_rate', st_assess_rate(s.accepted_ontime, s.accept_ended),
			'resolve_ontime_rate', st_assess_rate(s.resolved_ontime, s.resolved),
			'close_rate', st_assess_rate(s.closed, s.dispatched_tickets - s.cancelled_dispatched),
			'close_ontime_rate', st_assess_rate(s.closed_ontime,
				s.dispatched_tickets - s.cancelled_dispatched),
			'satisfaction_rate', st_assess_rate(s.satisfied, s.confirmed),
			'dissatisfaction_rate', st_assess_rate(s.dissatisfied, s.confirmed),
			'no_feedback_rate', st_assess_rate(s.no_feedback, s.closed),
			'return_rate', st_assess_rate(s.returned_counted, s.dispatched),
			'reopen_rate', st_assess_rate(s.reopened, s.resolved))
		|| (SELECT jsonb_object_agg(k || '_n', coalesce((p.j->k->>'n')::bigint, 0))
			|| jsonb_object_agg(k || '_p50_s', p.j->k->'p50')
			|| jsonb_object_agg(k || '_p90_s', p.j->k->'p90')
			FROM unnest(ARRAY['dispatch', 'accept', 'resolve', 'feedback']) k)
	FROM sums s
	LEFT JOIN pct p ON p.u = s.u AND p.b_from = s.b_from
	CROSS JOIN LATERAL (
		SELECT coalesce(sum(d.open_delta), 0) AS open_at_end,
			coalesce(sum(d.overdue_delta), 0) AS overdue_at_end
		FROM data d WHERE d.u = s.u AND d.day < s.b_to) o;
END
$$;
