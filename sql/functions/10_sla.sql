-- Working-time deadlines (SLA) computed in the database, from the
-- calendar_day and work_hours tables of 001.
--
-- The semantics are tests/oracle/sla.c's, to the second; a cross-check holds the two
-- together, so change both at once:
--
--   * Local time is Asia/Shanghai taken as a fixed UTC+8, as in C.  We convert
--     AT TIME ZONE INTERVAL '+08:00' rather than 'Asia/Shanghai' because the tz
--     database's zone differs before 1991 (DST 1986-1991, local mean time
--     before 1901) and would then disagree with C.  Neither depends on the
--     session's TimeZone.
--   * Monday to Friday are working days unless calendar_day lists a holiday;
--     Saturday and Sunday are rest days unless it lists a 'workday' (调休).
--     Every working day has the one window [work_hours.starts, .ends).
--   * sla_add(start, n): the earliest t >= start such that [start, t] holds n
--     working seconds.  n = 0 gives start itself, even outside hours; a start
--     outside hours begins counting at the next window; a deadline that lands
--     on the end of a window stays there (09:00 + 8 h = 17:00 that day).
--   * sla_working_between(a, b): the working seconds in [a, b), 0 if b <= a.
--   * Negative n raises SD400.  Meeting 3660 non-working days in a row (a
--     calendar of nothing but holidays) raises SD500 in sla_add where C
--     returns -1 (sla_working_between, a closed form, gives 0 then).
--     NULL in gives NULL out (STRICT).
--   * Microseconds of the inputs are kept: a deadline keeps the start's
--     fraction, and sla_working_between truncates its total to whole seconds.
--
-- Cost: the calendar exceptions for the days needed come in one query; the
-- walk then goes day by day, skipping at once any run of whole weeks without an
-- exception (seven ordinary days hold exactly five working days), so a long
-- span costs O(exceptions crossed), never O(seconds).  All arithmetic is in
-- whole microseconds (bigint) so nothing is rounded.

CREATE OR REPLACE FUNCTION sla_add(p_start timestamptz, p_secs bigint) RETURNS timestamptz
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
	SET search_path = street, pg_temp
AS $$
DECLARE
	c_us CONSTANT bigint := 1000000;
	v_local timestamp := p_start AT TIME ZONE INTERVAL '+08:00';
	v_day date := v_local::date;
	v_from bigint;          -- first day: µs after midnight counting may begin
	v_ws bigint;            -- the window, µs after local midnight
	v_we bigint;
	v_week bigint;          -- working µs in seven days without exceptions
	v_rem bigint;           -- working µs still to find; always > 0 in the loop
	v_xday date[];          -- exceptions on days in [loaded day, v_hi), sorted
	v_xwork boolean[];
	v_i int;                -- index of the first exception on or after v_day
	v_n int;
	v_hi date := v_day;     -- nothing loaded yet
	v_idle int := 0;        -- non-working days in a row
	v_working boolean;
	v_k bigint;
	v_lo bigint;
BEGIN
	IF p_secs < 0 THEN
		RAISE EXCEPTION 'sla_add: negative working time (% s)', p_secs
			USING ERRCODE = 'SD400';
	END IF;
	IF p_secs = 0 THEN
		RETURN p_start;
	END IF;
	SELECT (extract(epoch FROM starts) * c_us)::bigint, (extract(epoch FROM ends) * c_us)::bigint
		INTO v_ws, v_we FROM work_hours;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'sla_add: work_hours is empty' USING ERRCODE = 'SD500';
	END IF;
	v_week := 5 * (v_we - v_ws);
	v_from := (extract(epoch FROM v_local - v_day) * c_us)::bigint;
	v_rem := p_secs * c_us;
	LOOP
		IF v_day >= v_hi THEN
			-- The days still needed if every week had five working days, plus
			-- room for holidays; reloading is rare (a 2026-style year needs
			-- about a month extra).  Capped so the date cannot overflow.
			v_hi := v_day + least(v_rem / v_week * 7 + 60, 4000000)::int;
			SELECT coalesce(array_agg(day ORDER BY day), '{}'),
			       coalesce(array_agg(kind = 'workday' ORDER BY day), '{}')
				INTO v_xday, v_xwork
				FROM calendar_day WHERE day >= v_day AND day < v_hi;
			v_i := 1;
			v_n := cardinality(v_xday);
		END IF;
		IF v_from <= v_ws THEN
			-- Skip whole plain weeks while more than they hold is left, so
			-- the deadline never falls on a skipped day.
			v_k := least((v_rem - 1) / v_week,
				     (CASE WHEN v_i <= v_n THEN v_xday[v_i] ELSE v_hi END - v_day) / 7);
			IF v_k > 0 THEN
				v_day := v_day + (7 * v_k)::int;
				v_rem := v_rem - v_k * v_week;
				-- Only the block's final weekend days are non-working in a row.
				v_idle := CASE extract(dow FROM v_day - 1) WHEN 6 THEN 1 WHEN 0 THEN 2 ELSE 0 END;
				v_from := 0;
				CONTINUE;
			END IF;
		END IF;
		IF v_i <= v_n AND v_xday[v_i] = v_day THEN
			v_working := v_xwork[v_i];
			v_i := v_i + 1;
		ELSE
			v_working := extract(isodow FROM v_day) < 6;
		END IF;
		IF v_working THEN
			v_idle := 0;
			v_lo := greatest(v_from, v_ws);
			IF v_lo < v_we THEN
				IF v_rem <= v_we - v_lo THEN
					RETURN (v_day + interval '1 microsecond' * (v_lo + v_rem))
						AT TIME ZONE INTERVAL '+08:00';
				END IF;
				v_rem := v_rem - (v_we - v_lo);
			END IF;
		ELSE
			v_idle := v_idle + 1;
			IF v_idle >= 3660 THEN
				RAISE EXCEPTION 'sla_add: no working day in 3660 days from %', v_day - 3659
					USING ERRCODE = 'SD500';
			END IF;
		END IF;
		v_day := v_day + 1;
		v_from := 0;
	END LOOP;
END
$$;

-- Working seconds in [a, b) as a closed form rather than a walk: the partial
-- first and last days, plus the working days between them counted as the
-- weekdays (a formula) less the weekday holidays plus the make-up days that
-- calendar_day lists in that range (one index range read).  The follower calls
-- it for every step that ends (80_follow.sql), so it must be cheap.  PL/pgSQL
-- rather than SQL: its statements' plans are kept for the session, where a
-- SQL function's would be made again at every call from the follower.
-- Unlike sla_add it needs no walk, so a calendar of nothing but holidays gives
-- 0 rather than SD500.
CREATE OR REPLACE FUNCTION sla_working_between(p_a timestamptz, p_b timestamptz) RETURNS bigint
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
-- no SET search_path (it costs as much again per call): every name is qualified
DECLARE
	c_us CONSTANT bigint := 1000000;
	c_monday CONSTANT date := date '0001-01-01'; -- a Monday: weekdays are counted from it
	v_la timestamp := p_a AT TIME ZONE INTERVAL '+08:00';
	v_lb timestamp := p_b AT TIME ZONE INTERVAL '+08:00';
	v_da date := v_la::date;
	v_db date := v_lb::date;
	v_sa bigint := (extract(epoch FROM v_la - v_da) * c_us)::bigint;
	v_sb bigint := (extract(epoch FROM v_lb - v_db) * c_us)::bigint;
	v_ws bigint;
	v_we bigint;
	v_kind_a text;          -- calendar_day's kind of a's day and b's day, if listed
	v_kind_b text;
	v_adjust bigint;        -- make-up days less weekday holidays strictly between
	v_work_a boolean;
	v_work_b boolean;
	v_weekdays bigint;
	v_total bigint;
BEGIN
	IF p_b <= p_a THEN
		RETURN 0;
	END IF;
	-- the hours and the listed days in one statement: two cost ~45 us a
	-- call, one ~25 (the follower calls this for every step that ends)
	SELECT (extract(epoch FROM w.starts) * c_us)::bigint, (extract(epoch FROM w.ends) * c_us)::bigint,
	       c.kind_a, c.kind_b, c.adjust
		INTO v_ws, v_we, v_kind_a, v_kind_b, v_adjust
		FROM street.work_hours w,
		LATERAL (SELECT max(kind) FILTER (WHERE day = v_da) AS kind_a,
		                max(kind) FILTER (WHERE day = v_db) AS kind_b,
		                count(*) FILTER (WHERE day > v_da AND day < v_db AND kind = 'workday')
		                - count(*) FILTER (WHERE day > v_da AND day < v_db AND kind = 'holiday'
		                                   AND extract(isodow FROM day) < 6) AS adjust
		         FROM street.calendar_day WHERE day BETWEEN v_da AND v_db) c;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'sla_working_between: work_hours is empty' USING ERRCODE = 'SD500';
	END IF;
	v_work_a := coalesce(v_kind_a = 'workday', extract(isodow FROM v_da) < 6);
	v_work_b := coalesce(v_kind_b = 'workday', extract(isodow FROM v_db) < 6);
	IF v_da = v_db THEN
		v_total := CASE WHEN v_work_a THEN greatest(least(v_sb, v_we) - greatest(v_sa, v_ws), 0)
			ELSE 0 END;
	ELSE
		-- weekdays in [da + 1, db): F(db) - F(da + 1), F(d) those in [monday, d)
		v_weekdays := (v_db - c_monday) / 7 * 5 + least((v_db - c_monday) % 7, 5)
			- ((v_da + 1 - c_monday) / 7 * 5 + least((v_da + 1 - c_monday) % 7, 5));
		v_total := CASE WHEN v_work_a THEN greatest(v_we - greatest(v_sa, v_ws), 0) ELSE 0 END
			+ CASE WHEN v_work_b THEN greatest(least(v_sb, v_we) - v_ws, 0) ELSE 0 END
			+ (v_we - v_ws) * (v_weekdays + v_adjust);
	END IF;
	RETURN v_total / c_us;
END
$$;
