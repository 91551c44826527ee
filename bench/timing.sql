-- bench/timing.sql: the growth queries, timed inside the server (plpgsql and
-- clock_timestamp(), so no client round trip is counted), :runs times each
-- after one untimed run; prints "name median_ms max_ms p99_ms runs" per query.
-- Variables: street (zhang.wei's id), dept (yang.min's), sup (sun.li's),
-- ticket (a ticket with a full history), runs; for the assessment's reports
-- (81_measures.sql, read from the follower's rollups): city (ma.jun's, the
-- city-wide supervisor), m_from and m_to (the last whole month), y_from (a
-- year before m_to).
CREATE FUNCTION pg_temp.bench_ms(q text, n integer) RETURNS SETOF double precision
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	r jsonb;
BEGIN
	EXECUTE q INTO r;
	FOR i IN 1..n LOOP
		t0 := clock_timestamp();
		EXECUTE q INTO r;
		RETURN NEXT extract(epoch FROM clock_timestamp() - t0) * 1000;
	END LOOP;
END
$$;

-- name, median, max, 99th percentile (requests_json: its target is a p99,
-- so it runs :runs x 11 times, 99 with the default 9)
SELECT v.name, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 3),
	round(max(ms)::numeric, 3), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 3),
	count(*)
FROM (VALUES
	(1, 'overdue_street', format('SELECT street.st_overdue(%s, NULL, 50)', :street)),
	(2, 'dept_open_list', format('SELECT street.st_list(%s, %L, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 50)', :dept, 'accepted')),
	(3, 'ticket_history', format('SELECT street.st_get(%s, %s)', :sup, :ticket)),
	(4, 'ranking_departments', format('SELECT street.st_ranking(%s, %L, %L, %L)', :city, :'m_from', :'m_to', 'department')),
	(5, 'ranking_streets', format('SELECT street.st_ranking(%s, %L, %L, %L)', :city, :'m_from', :'m_to', 'street')),
	(6, 'stats_departments', format('SELECT street.st_stats(%s, %L, %L, %L)', :city, :'m_from', :'m_to', 'department')),
	(7, 'stats_streets', format('SELECT street.st_stats(%s, %L, %L, %L)', :city, :'m_from', :'m_to', 'street')),
	(8, 'stats_year_series', format('SELECT street.st_stats(%s, %L, %L, %L, %L)', :city, :'y_from', :'m_to', 'department', 'month')),
	-- Open311 GET requests.json with filters (a service, open ones, the
	-- default 90 days; at most 1000 rows); the length of its text: the reply
	-- is json, r holds jsonb, and parsing 500 KB into jsonb is not the query's
	-- cost
	(9, 'requests_json', 'SELECT to_jsonb(length(street.st_o311_requests(0, NULL, ''pollution.noise,pollution.dust'', NULL, NULL, ''open'')::text))')
) AS v (k, name, q)
CROSS JOIN LATERAL pg_temp.bench_ms(v.q,
	CASE v.name WHEN 'requests_json' THEN :runs * 11 ELSE :runs END) AS ms
GROUP BY v.k, v.name
ORDER BY v.k;
