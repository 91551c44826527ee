-- The working-time calendar as data for clients (op `calendar`): the one
-- window of work_hours and the calendar_day exceptions of a span of days.
-- With these a client computes working time as sla_working_between does
-- (clients/web/worktime.js: a department's deadline counting down).
--
-- p_from, p_to: days 'YYYY-MM-DD' (Asia/Shanghai), [from, to); either may be
-- omitted: from defaults to 30 days before today, to to 400 days after from.
-- At most 3660 days; a bad date or an empty span is SD400.  Any account.
CREATE OR REPLACE FUNCTION st_calendar(p_actor integer, p_from text, p_to text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	v_from date;
	v_to date;
	v_starts time;
	v_ends time;
BEGIN
	PERFORM st_actor(p_actor);
	v_from := CASE WHEN p_from IS NULL
		THEN (now() AT TIME ZONE INTERVAL '+08:00')::date - 30
		ELSE st_assess_date(p_from, 'from') END;
	v_to := CASE WHEN p_to IS NULL THEN v_from + 400 ELSE st_assess_date(p_to, 'to') END;
	IF v_from >= v_to THEN
		PERFORM st_fail('SD400', format('the span is empty: from %s is not before to %s', v_from, v_to));
	END IF;
	IF v_to - v_from > 3660 THEN
		PERFORM st_fail('SD400', format('the span is %s days; at most 3660', v_to - v_from));
	END IF;
	SELECT starts, ends INTO v_starts, v_ends FROM work_hours;
	RETURN jsonb_build_object(
		'from', to_char(v_from, 'YYYY-MM-DD'),
		'to', to_char(v_to, 'YYYY-MM-DD'),
		'zone', '+08:00',
		'work_hours', jsonb_build_object(
			'starts', to_char(v_starts, 'HH24:MI:SS'), 'ends', to_char(v_ends, 'HH24:MI:SS'),
			'starts_s', extract(epoch FROM v_starts)::integer,
			'ends_s', extract(epoch FROM v_ends)::integer),
		'days', coalesce((SELECT jsonb_agg(jsonb_build_object('day', to_char(day, 'YYYY-MM-DD'),
				'kind', kind, 'name', name) ORDER BY day)
			FROM calendar_day WHERE day >= v_from AND day < v_to), '[]'));
END
$$;
