-- bench/standby_timing.sql: the assessment's report rows of bench/timing.sql
-- (ranking_* and stats_*), timed the same way inside the server, but on a hot
-- standby, where no function may be created: a DO block times them and
-- prints "name median_ms max_ms" as NOTICEs.  Variables: city, m_from, m_to,
-- y_from, runs (as bench/timing.sql); passed through session settings since
-- psql does not expand variables inside a dollar-quoted body.
SELECT set_config('bench.city', :'city', false), set_config('bench.m_from', :'m_from', false),
	set_config('bench.m_to', :'m_to', false), set_config('bench.y_from', :'y_from', false),
	set_config('bench.runs', :'runs', false);
DO $$
DECLARE
	city text := current_setting('bench.city');
	m_from text := current_setting('bench.m_from');
	m_to text := current_setting('bench.m_to');
	y_from text := current_setting('bench.y_from');
	runs integer := current_setting('bench.runs')::integer;
	q record;
	t0 timestamptz;
	r jsonb;
	ms double precision[];
BEGIN
	FOR q IN SELECT * FROM (VALUES
		(1, 'ranking_departments', format('SELECT street.st_ranking(%s, %L, %L, %L)', city, m_from, m_to, 'department')),
		(2, 'ranking_streets', format('SELECT street.st_ranking(%s, %L, %L, %L)', city, m_from, m_to, 'street')),
		(3, 'stats_departments', format('SELECT street.st_stats(%s, %L, %L, %L)', city, m_from, m_to, 'department')),
		(4, 'stats_streets', format('SELECT street.st_stats(%s, %L, %L, %L)', city, m_from, m_to, 'street')),
		(5, 'stats_year_series', format('SELECT street.st_stats(%s, %L, %L, %L, %L)', city, y_from, m_to, 'department', 'month'))
	) AS v (k, name, sql) ORDER BY k LOOP
		ms := '{}';
		EXECUTE q.sql INTO r; -- one untimed run, as bench/timing.sql
		FOR i IN 1..runs LOOP
			t0 := clock_timestamp();
			EXECUTE q.sql INTO r;
			ms := ms || extract(epoch FROM clock_timestamp() - t0)::double precision * 1000;
		END LOOP;
		RAISE NOTICE '% % %', q.name,
			(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m)::numeric, 3) FROM unnest(ms) m),
			(SELECT round(max(m)::numeric, 3) FROM unnest(ms) m);
	END LOOP;
END
$$;
