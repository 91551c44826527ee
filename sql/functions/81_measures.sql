-- The assessment's reports, stats and ranking (docs/assessment.md defines
-- every figure; docs/protocol.md, "Assessment", the ops).  They read the
-- rollups the follower keeps (80_follow.sql), never the event log.

-- A period from the request's text fields: 'YYYY-MM-DD' each, a real date,
-- from < to, at most 366 days.
CREATE OR REPLACE FUNCTION st_assess_period(p_from text, p_to text, OUT d_from date, OUT d_to date)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	d_from := st_assess_date(p_from, 'from');
	d_to := st_assess_date(p_to, 'to');
	IF d_from >= d_to THEN
		PERFORM st_fail('SD400', format('the period is empty: from %s is not before to %s', d_from, d_to));
	END IF;
	IF d_to - d_from > 366 THEN
		PERFORM st_fail('SD400', format('the period spans %s days; at most 366', d_to - d_from));
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION st_assess_date(p_text text, p_what text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	d date;
BEGIN
	IF p_text IS NULL OR p_text !~ '^\d{4}-\d{2}-\d{2}$' THEN
		PERFORM st_fail('SD400', format('%s must be a date YYYY-MM-DD', p_what));
	END IF;
	BEGIN
		d := to_date(p_text, 'YYYY-MM-DD');
	EXCEPTION WHEN OTHERS THEN
		d := NULL;
	END;
	IF d IS NULL OR to_char(d, 'YYYY-MM-DD') <> p_text THEN
		PERFORM st_fail('SD400', format('%s: %s is not a calendar date', p_what, p_text));
	END IF;
	RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION st_assess_rate(p_num bigint, p_den bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN p_den > 0 THEN round(p_num::numeric / p_den, 4) END
$$;

-- The unit a rollup row belongs to under a grouping.
CREATE OR REPLACE FUNCTION st_assess_unit(p_group text, p_department integer, p_street integer,
	p_district integer, p_category integer, p_grid integer)
RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_group WHEN 'department' THEN nullif(p_department, 0) WHEN 'street' THEN p_street
		WHEN 'district' THEN p_district WHEN 'category' THEN p_category WHEN 'grid' THEN p_grid END
$$;

-- The units of a grouping as the reports show them, every one in one query
-- (joined to a report's rows instead of a lookup per row).
CREATE OR REPLACE FUNCTION st_assess_units(p_group text) RETURNS TABLE (id integer, j jsonb)
LANGUAGE sql STABLE AS $$
	SELECT x.id, jsonb_build_object('id', x.id, 'code', x.code, 'name', x.name,
		'name_en', x.name_en)
	FROM (SELECT d.id, d.code, d.name, d.name_en FROM department d WHERE p_group = 'department'
		UNION ALL
		SELECT s.id, s.code, s.name, s.name_en FROM street s WHERE p_group = 'street'
		UNION ALL
		SELECT di.id, di.code, di.name, di.name_en FROM district di WHERE p_group = 'district'
		UNION ALL
		SELECT c.id, c.code, c.name, c.name_en FROM category c WHERE p_group = 'category'
		UNION ALL
		SELECT g.id, g.code, g.name, g.name_en FROM grid g WHERE p_group = 'grid') x
$$;

-- A unit that no longer exists still shows, by its id.
CREATE OR REPLACE FUNCTION st_assess_unit_gone(p_id integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('id', p_id, 'code', p_id::text, 'name', p_id::text,
		'name_en', p_id::text)
$$;

-- The bucket holding the p_frac quantile of a histogram given as its counts
-- and buckets in bucket order: the first whose running count reaches
-- ceil(p_frac * total).  (One pass over at most 28 entries, instead of two
-- window functions over every histogram row of a report.)
CREATE OR REPLACE FUNCTION st_assess_pctl(p_n bigint[], p_bucket smallint[], p_total numeric,
	p_frac numeric) RETURNS smallint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	need numeric := ceil(p_frac * p_total);
	upto numeric := 0;
BEGIN
	FOR i IN 1 .. cardinality(p_n) LOOP
		upto := upto + p_n[i];
		IF upto >= need THEN
			RETURN p_bucket[i];
		END IF;
	END LOOP;
	RETURN NULL;
END
$$;

-- The figures per unit (and per series bucket) of a period, over the rollup
-- rows of a data scope (NULL: no restriction on that column).  A unit has a
-- row for a bucket when something of it happened in that bucket.
-- Whole months come from assess_month when no bucket splits one (no series,
-- or by month) and the grouping is not by grid (nor, for the percentiles'
-- histograms, by category); the other days from assess_day.  open_at_end / overdue_at_end: the balance at the period's
-- start (the months before it, then its month's first days) plus the deltas
-- of the buckets up to each bucket's end.
CREATE OR REPLACE FUNCTION st_assess_figures(p_from date, p_to date, p_group text, p_series text,
	p_unit integer, p_department integer, p_street integer, p_district integer)
RETURNS TABLE (unit_id integer, period_from date, period_to date, f jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	bounds integer[] := st_assess_bounds();
	step interval := ('1 ' || coalesce(p_series, 'day'))::interval;
	by_month boolean := p_group <> 'grid';
	-- the whole months [m_from, m_to) read from assess_month (NULL: none)
	m_from date;
	m_to date;
	-- the same for the histograms, which have no category per month
	h_from date;
	h_to date;
	-- the opening balance: months before o_month, then the days to p_from
	o_month date := CASE WHEN by_month THEN date_trunc('month', p_from)::date END;
BEGIN
	IF by_month AND coalesce(p_series, 'month') = 'month' THEN
		m_from := CASE WHEN o_month = p_from THEN p_from
			ELSE (o_month + interval '1 month')::date END;
		m_to := date_trunc('month', p_to)::date;
		IF m_from >= m_to THEN
			m_from := NULL;
			m_to := NULL;
		END IF;
	END IF;
	IF p_group <> 'category' THEN
		h_from := m_from;
		h_to := m_to;
	END IF;
	RETURN QUERY
	WITH rollup AS (
		SELECT m.month AS day, 0 AS grid_id, m.category_id, m.department_id, m.street_id,
			m.district_id, m.reported, m.dispatched, m.dispatched_ontime, m.dispatched_tickets,
			m.accept_ended, m.accepted, m.accepted_ontime, m.returned, m.returned_counted,
			m.resolved, m.resolved_ontime, m.reopened, m.closed, m.closed_ontime,
			m.confirmed, m.no_feedback, m.satisfied, m.dissatisfied, m.cancelled,
			m.cancelled_dispatched, m.urged, m.overdue_marks, m.open_delta,
			m.overdue_delta, m.ownerless_s
		FROM assess_month m
		WHERE m.month >= m_from AND m.month < m_to
		UNION ALL
		SELECT d.day, d.grid_id, d.category_id, d.department_id, d.street_id,
			d.district_id, d.reported, d.dispatched, d.dispatched_ontime, d.dispatched_tickets,
			d.accept_ended, d.accepted, d.accepted_ontime, d.returned, d.returned_counted,
			d.resolved, d.resolved_ontime, d.reopened, d.closed, d.closed_ontime,
			d.confirmed, d.no_feedback, d.satisfied, d.dissatisfied, d.cancelled,
			d.cancelled_dispatched, d.urged, d.overdue_marks, d.open_delta,
			d.overdue_delta, d.ownerless_s
		FROM assess_day d
		WHERE (d.day >= p_from AND d.day < coalesce(m_from, p_to))
			OR (d.day >= m_to AND d.day < p_to)),
	data AS (
		SELECT st_assess_unit(p_group, r.department_id, r.street_id, r.district_id,
			r.category_id, r.grid_id) AS u,
			-- the series' bucket: weeks start on Monday; the first and last are cut
			CASE WHEN p_series IS NULL THEN p_from
				ELSE greatest(date_trunc(p_series, r.day::timestamp)::date, p_from) END AS b_from,
			CASE WHEN p_series IS NULL THEN p_to
				ELSE least((date_trunc(p_series, r.day::timestamp) + step)::date, p_to) END AS b_to,
			r.*
		FROM rollup r
		WHERE (p_department IS NULL OR r.department_id = p_department)
			AND (p_street IS NULL OR r.street_id = p_street)
			AND (p_district IS NULL OR r.district_id = p_district)),
	opening AS (
		SELECT o.u, sum(o.open_delta) AS open_at, sum(o.overdue_delta) AS overdue_at
		FROM (SELECT st_assess_unit(p_group, m.department_id, m.street_id, m.district_id,
					m.category_id, 0) AS u, m.open_delta, m.overdue_delta
				FROM assess_month m
				WHERE m.month < o_month
					AND (p_department IS NULL OR m.department_id = p_department)
					AND (p_street IS NULL OR m.street_id = p_street)
					AND (p_district IS NULL OR m.district_id = p_district)
			UNION ALL
			SELECT st_assess_unit(p_group, d.department_id, d.street_id, d.district_id,
					d.category_id, d.grid_id), d.open_delta, d.overdue_delta
				FROM assess_day d
				WHERE d.day >= coalesce(o_month, '-infinity'::date) AND d.day < p_from
					AND (p_department IS NULL OR d.department_id = p_department)
					AND (p_street IS NULL OR d.street_id = p_street)
					AND (p_district IS NULL OR d.district_id = p_district)) o
		GROUP BY o.u),
	sums AS (
		SELECT d.u, d.b_from, d.b_to,
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
			sum(d.overdue_marks) AS overdue_marks, sum(d.ownerless_s) AS ownerless_s,
			sum(d.open_delta) AS open_delta, sum(d.overdue_delta) AS overdue_delta
		FROM data d
		WHERE d.u IS NOT NULL AND (p_unit IS NULL OR d.u = p_unit)
		GROUP BY d.u, d.b_from, d.b_to),
	balance AS (
		SELECT s.*,
			coalesce(o.open_at, 0) + sum(s.open_delta) OVER w AS open_at_end,
			coalesce(o.overdue_at, 0) + sum(s.overdue_delta) OVER w AS overdue_at_end
		FROM sums s LEFT JOIN opening o ON o.u = s.u
		WINDOW w AS (PARTITION BY s.u ORDER BY s.b_from)),
	hist AS (
		SELECT st_assess_unit(p_group, h.department_id, h.street_id, h.district_id,
			h.category_id, h.grid_id) AS u,
			CASE WHEN p_series IS NULL THEN p_from
				ELSE greatest(date_trunc(p_series, h.day::timestamp)::date, p_from) END AS b_from,
			h.kind, h.bucket, sum(h.n) AS n
		FROM (SELECT m.month AS day, 0 AS grid_id, 0 AS category_id, m.department_id,
					m.street_id, m.district_id, m.kind, m.bucket, m.n
				FROM assess_month_hist m
				WHERE m.month >= h_from AND m.month < h_to
			UNION ALL
			SELECT d.day, d.grid_id, d.category_id, d.department_id, d.street_id,
					d.district_id, d.kind, d.bucket, d.n
				FROM assess_day_hist d
				WHERE (d.day >= p_from AND d.day < coalesce(h_from, p_to))
					OR (d.day >= h_to AND d.day < p_to)) h
		WHERE (p_department IS NULL OR h.department_id = p_department)
			AND (p_street IS NULL OR h.street_id = p_street)
			AND (p_district IS NULL OR h.district_id = p_district)
		GROUP BY 1, 2, 3, 4),
	pct AS (
		SELECT h.u, h.b_from, jsonb_object_agg(h.kind, jsonb_build_object('n', h.total,
			'p50', bounds[st_assess_pctl(h.ns, h.bs, h.total, 0.5)],
			'p90', bounds[st_assess_pctl(h.ns, h.bs, h.total, 0.9)])) AS j
		FROM (SELECT hist.u, hist.b_from, hist.kind, sum(hist.n) AS total,
				array_agg(hist.n ORDER BY hist.bucket) AS ns,
				array_agg(hist.bucket ORDER BY hist.bucket) AS bs
			FROM hist GROUP BY 1, 2, 3) h
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
			'open_at_end', s.open_at_end, 'overdue_at_end', s.overdue_at_end,
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
	FROM balance s
	LEFT JOIN pct p ON p.u = s.u AND p.b_from = s.b_from;
END
$$;

-- The data scope of an account for the reports: (department, street,
-- district) to restrict on; collectors and admins see no figures.
CREATE OR REPLACE FUNCTION st_assess_scope(a account, OUT department_id integer,
	OUT street_id integer, OUT district_id integer)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	CASE a.role
	WHEN 'department' THEN department_id := a.department_id;
	WHEN 'street' THEN street_id := a.street_id;
	WHEN 'supervisor' THEN district_id := a.district_id;
	ELSE
		PERFORM st_fail('SD403', format('a %s account has no assessment figures', a.role));
	END CASE;
END
$$;

-- stats: the figures of a period per unit of a grouping, optionally as a
-- series, over the caller's data (docs/assessment.md, "Who sees what").
-- Paged: rows after p_after (a row count) up to st_page_bytes(); "next" is the
-- count to pass on, null at the end.
CREATE OR REPLACE FUNCTION st_stats(p_actor integer, p_from text, p_to text, p_group text,
	p_series text DEFAULT NULL, p_unit integer DEFAULT NULL, p_after integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account := st_actor(p_actor);
	sc record := st_assess_scope(a);
	per record := st_assess_period(p_from, p_to);
	rows jsonb;
	nxt integer;
BEGIN
	IF p_group IS NULL OR p_group NOT IN ('department', 'street', 'district', 'category', 'grid') THEN
		PERFORM st_fail('SD400', format('group must be department, street, district, category or grid, not %s',
			coalesce(p_group, 'nothing')));
	END IF;
	IF p_series IS NOT NULL AND p_series NOT IN ('day', 'week', 'month') THEN
		PERFORM st_fail('SD400', format('series must be day, week or month, not %s', p_series));
	END IF;
	IF p_after < 0 THEN
		PERFORM st_fail('SD400', 'after must not be negative');
	END IF;
	WITH fig AS (
		SELECT coalesce(un.j, st_assess_unit_gone(x.unit_id)) AS unit, x.period_from,
			x.period_to, x.f
		FROM st_assess_figures(per.d_from, per.d_to, p_group, p_series, p_unit,
			sc.department_id, sc.street_id, sc.district_id) x
		LEFT JOIN st_assess_units(p_group) un ON un.id = x.unit_id),
	numbered AS (
		SELECT row_number() OVER (ORDER BY unit->>'code', period_from) AS n,
			jsonb_build_object('unit', unit, 'from', period_from, 'to', period_to) || f AS j
		FROM fig),
	cand AS (
		SELECT n, j, sum(octet_length(j::text)) OVER (ORDER BY n) AS upto
		FROM numbered WHERE n > coalesce(p_after, 0) AND n <= coalesce(p_after, 0) + 1001),
	page AS (
		SELECT * FROM cand WHERE n <= coalesce(p_after, 0) + 1000
			AND (n = coalesce(p_after, 0) + 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT max(n) FROM page) END
	INTO rows, nxt;
	RETURN jsonb_build_object('from', per.d_from, 'to', per.d_to, 'group', p_group,
		'series', p_series, 'rows', rows, 'next', nxt);
END
$$;

-- ranking: the composite of every department or street of a period, ranked
-- city-wide, cut to what the caller may see (docs/assessment.md, "Ranking").
CREATE OR REPLACE FUNCTION st_ranking(p_actor integer, p_from text, p_to text, p_group text,
	p_top integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account := st_actor(p_actor);
	sc record := st_assess_scope(a);
	per record := st_assess_period(p_from, p_to);
	top integer := coalesce(p_top, 3);
	min_volume numeric := coalesce((SELECT value FROM assessment_setting WHERE key = 'min_volume'), 0);
	rows jsonb;
BEGIN
	IF p_group IS NULL OR p_group NOT IN ('department', 'street') THEN
		PERFORM st_fail('SD400', format('a ranking is of department or street, not %s',
			coalesce(p_group, 'nothing')));
	END IF;
	IF top NOT BETWEEN 1 AND 50 THEN
		PERFORM st_fail('SD400', 'top is 1 to 50');
	END IF;
	IF a.role = 'department' AND p_group = 'street' THEN
		PERFORM st_fail('SD403', 'a department sees the departments'' ranking, not the streets''');
	END IF;
	WITH fig AS (
		SELECT x.unit_id AS u, x.f FROM st_assess_figures(per.d_from, per.d_to, p_group, NULL,
			NULL, NULL, NULL, NULL) x),
	street_scores AS (
		SELECT s.department_id AS u, round(avg(s.per_street), 2) AS score
		FROM (SELECT sc2.street_id, sc2.department_id,
				sum(sc2.score * c.weight) / sum(c.weight) AS per_street
			FROM assessment_score sc2 JOIN score_criterion c ON c.id = sc2.criterion_id
			WHERE sc2.period_from = per.d_from AND sc2.period_to = per.d_to
			GROUP BY 1, 2) s
		WHERE p_group = 'department'
		GROUP BY 1),
	measured AS (
		SELECT fig.u, fig.f, ss.score,
			(fig.f->>(CASE p_group WHEN 'department' THEN 'dispatched' ELSE 'reported' END))::bigint AS volume,
			m.comp, m.parts
		FROM fig LEFT JOIN street_scores ss ON ss.u = fig.u
		CROSS JOIN LATERAL (
			SELECT round(sum(w.weight * v.val) / nullif(sum(w.weight) FILTER (WHERE v.val IS NOT NULL), 0), 2) AS comp,
				jsonb_object_agg(w.measure, CASE WHEN w.measure = 'street_score' THEN to_jsonb(ss.score)
					ELSE fig.f->w.measure END) AS parts
			FROM assessment_weight w
			-- (least() ignores NULL: a rate without a denominator must stay NULL)
			CROSS JOIN LATERAL (SELECT (fig.f->>w.measure)::numeric AS rate) r
			CROSS JOIN LATERAL (SELECT CASE
				WHEN w.measure = 'street_score' THEN ss.score
				WHEN r.rate IS NULL THEN NULL
				WHEN w.invert THEN (1 - least(r.rate, 1)) * 100
				ELSE least(r.rate, 1) * 100 END AS val) v
			WHERE w.grp = p_group) m),
	ranked AS (
		SELECT measured.*, volume >= min_volume AND comp IS NOT NULL AS is_ranked
		FROM measured),
	ranks AS (
		SELECT ranked.*,
			CASE WHEN is_ranked THEN rank() OVER (PARTITION BY is_ranked ORDER BY comp DESC) END AS rnk,
			CASE WHEN is_ranked THEN rank() OVER (PARTITION BY is_ranked ORDER BY comp ASC) END AS rnk_up
		FROM ranked),
	listed AS (
		SELECT ranks.*, coalesce(un.j, st_assess_unit_gone(u)) AS unit,
			coalesce(rnk <= top, false) AS red,
			coalesce(rnk_up <= top AND rnk > top, false) AS black
		FROM ranks
		LEFT JOIN st_assess_units(p_group) un ON un.id = ranks.u
		WHERE CASE a.role
			WHEN 'department' THEN u = a.department_id
			WHEN 'street' THEN CASE p_group WHEN 'street' THEN u = a.street_id
				ELSE EXISTS (SELECT 1 FROM assess_day d WHERE d.street_id = a.street_id
					AND d.department_id = u AND d.day >= per.d_from AND d.day < per.d_to) END
			ELSE a.district_id IS NULL OR CASE p_group
				WHEN 'street' THEN EXISTS (SELECT 1 FROM street s WHERE s.id = u
					AND s.district_id = a.district_id)
				ELSE EXISTS (SELECT 1 FROM assess_day d WHERE d.district_id = a.district_id
					AND d.department_id = u AND d.day >= per.d_from AND d.day < per.d_to) END
			END)
	SELECT jsonb_build_object(
		'rows', coalesce(jsonb_agg(jsonb_build_object('unit', unit, 'rank', rnk, 'composite', comp,
			'volume', volume, 'street_score', score, 'measures', parts, 'red', red, 'black', black)
			ORDER BY rnk NULLS LAST, unit->>'code'), '[]'),
		'red', coalesce(jsonb_agg(jsonb_build_object('unit', unit, 'rank', rnk, 'composite', comp)
			ORDER BY rnk, unit->>'code') FILTER (WHERE red), '[]'),
		'black', coalesce(jsonb_agg(jsonb_build_object('unit', unit, 'rank', rnk, 'composite', comp)
			ORDER BY rnk DESC, unit->>'code') FILTER (WHERE black), '[]'))
	INTO rows
	FROM listed;
	RETURN jsonb_build_object('from', per.d_from, 'to', per.d_to, 'group', p_group, 'top', top,
		'min_volume', min_volume) || rows;
END
$$;
