-- Streets score departments (考核赋分, issue 13 §2): the ops criteria,
-- score_get, score_set and period_lock, on the tables of 012 (and the
-- triggers and indexes of 016).  docs/assessment.md, "Scores and locks", is
-- the user's account of the rules below.
--
-- A period is [from, to) of calendar days in Asia/Shanghai (a fixed UTC+8, as
-- 10_sla.sql counts), given as 'YYYY-MM-DD' text.  Scores and locks belong to
-- exactly one period: a lock of [2026-11-01, 2026-12-01) freezes the scores
-- given for that period, and the composite of that period reads those.
--
-- Serialising score_set with period_lock: both take a transaction advisory
-- lock on the period (score_set shared, period_lock exclusive) before they
-- look at assessment_lock, so a score is either committed before the lock is
-- taken (and counted in its digest) or sees the lock and is refused; never
-- written after the lock in a race.

-- The period of a request: both dates required, real dates, from < to, at
-- most 366 days (SD400 otherwise).
CREATE OR REPLACE FUNCTION st_score_period(p_from text, p_to text, OUT d_from date, OUT d_to date)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_from IS NULL OR p_to IS NULL THEN
		PERFORM st_fail('SD400', 'a period needs from and to (YYYY-MM-DD)');
	END IF;
	IF p_from !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' OR p_to !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		PERFORM st_fail('SD400', format('a period is two dates YYYY-MM-DD, not %L to %L', p_from, p_to));
	END IF;
	BEGIN
		d_from := to_date(p_from, 'YYYY-MM-DD');
		d_to := to_date(p_to, 'YYYY-MM-DD');
	EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
		d_from := NULL;
	END;
	-- to_date is lenient about some values: the date must read back as given
	IF d_from IS NULL OR to_char(d_from, 'YYYY-MM-DD') <> p_from
		OR to_char(d_to, 'YYYY-MM-DD') <> p_to THEN
		PERFORM st_fail('SD400', format('%L to %L: not a real date', p_from, p_to));
	END IF;
	IF d_from >= d_to THEN
		PERFORM st_fail('SD400', format('the period must end after it begins (from %s, to %s)',
			p_from, p_to));
	END IF;
	IF d_to - d_from > 366 THEN
		PERFORM st_fail('SD400', format('a period is at most 366 days, not %s', d_to - d_from));
	END IF;
END
$$;

-- The instant a calendar day begins in Asia/Shanghai.
CREATE OR REPLACE FUNCTION st_score_day_start(p_day date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_day::timestamp AT TIME ZONE INTERVAL '+08:00'
$$;

-- Whether street p_street's tickets went to department p_department in
-- [p_since, p_until): a dispatch event of one of its tickets to it
-- (ticket_event.department_id), or an arbitration that sent one there
-- (data.department_id of an arbitrate event).  Both read a partial index of 016.
CREATE OR REPLACE FUNCTION st_score_handled(p_street integer, p_department integer,
	p_since timestamptz, p_until timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM ticket_event e
			WHERE e.action = 'dispatch' AND e.street_id = p_street
				AND e.department_id = p_department
				AND e.at >= p_since AND e.at < p_until)
		OR EXISTS (SELECT 1 FROM ticket_event e
			WHERE e.action = 'arbitrate' AND e.street_id = p_street
				AND e.data->>'department_id' = p_department::text
				AND e.at >= p_since AND e.at < p_until)
$$;

-- The advisory lock of a period (see the top of this file).
CREATE OR REPLACE FUNCTION st_score_period_key(p_from date, p_to date) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
	SELECT hashtext(p_from::text || '/' || p_to::text)
$$;

-- The lock of a period as JSON ({at, by: {login, name, name_en}}), or JSON null.
CREATE OR REPLACE FUNCTION st_score_lock_json(p_from date, p_to date) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT jsonb_build_object('at', l.locked_at, 'by',
			jsonb_build_object('login', a.login, 'name', a.name, 'name_en', a.name_en))
		FROM assessment_lock l JOIN account a ON a.id = l.locked_by
		WHERE l.period_from = p_from AND l.period_to = p_to), 'null'::jsonb)
$$;

CREATE OR REPLACE FUNCTION st_score_json(s assessment_score) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('street_id', s.street_id, 'department_id', s.department_id,
		'criterion', c.code, 'criterion_id', s.criterion_id, 'score', s.score,
		'comment', s.comment, 'set_at', s.set_at,
		'set_by', jsonb_build_object('login', a.login, 'name', a.name, 'name_en', a.name_en))
	FROM score_criterion c, account a
	WHERE c.id = s.criterion_id AND a.id = s.set_by
$$;

-- criteria: the active criteria, with each one's share of the streets' score
-- (its weight over the sum of the active weights).  Any account may read them.
CREATE OR REPLACE FUNCTION st_criteria(p_actor integer) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
BEGIN
	PERFORM st_actor(p_actor);
	RETURN jsonb_build_object('criteria', coalesce((
		SELECT jsonb_agg(jsonb_build_object('id', c.id, 'code', c.code, 'name', c.name,
			'name_en', c.name_en, 'weight', c.weight,
			'share', round(c.weight / t.total, 4)) ORDER BY c.id)
		FROM score_criterion c,
			(SELECT sum(weight) AS total FROM score_criterion WHERE active) t
		WHERE c.active), '[]'));
END
$$;

-- score_set: a street office scores a department on one criterion for a
-- period (0 to 100, at most 2 decimals), with an optional comment.  Refusals,
-- in this order, all before anything is written:
--   not a street account                                   SD403
--   a bad period, an unknown department or criterion,
--   a score missing, out of range or with more decimals     SD400
--   the period is locked                                    SD412
--   no ticket of the street went to the department in the
--   period (st_score_handled)                               SD403
-- Upsert: a new score or a changed score or comment appends one score_set
-- event to assessment_event, with the old and new values; setting what is
-- already there changes nothing and appends nothing ("changed": false), so a
-- retry is harmless.
CREATE OR REPLACE FUNCTION st_score_set(p_actor integer, p_from text, p_to text,
	p_department integer, p_criterion text, p_score numeric, p_comment text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	per record;
	crit score_criterion;
	sc numeric(5, 2);
	cmt text;
	prev assessment_score;
	cur assessment_score;
	ev bigint;
BEGIN
	a := st_actor(p_actor);
	IF a.role <> 'street' THEN
		PERFORM st_fail('SD403', format('only a street office scores departments, not a %s account',
			a.role));
	END IF;
	per := st_score_period(p_from, p_to);
	IF p_department IS NULL OR NOT EXISTS (SELECT 1 FROM department WHERE id = p_department) THEN
		PERFORM st_fail('SD400', format('department %s does not exist', coalesce(p_department::text, '(none)')));
	END IF;
	SELECT * INTO crit FROM score_criterion WHERE code = p_criterion AND active;
	IF NOT FOUND THEN
		PERFORM st_fail('SD400', format('%L is not a criterion (%s)', p_criterion,
			(SELECT string_agg(code, ', ' ORDER BY id) FROM score_criterion WHERE active)));
	END IF;
	IF p_score IS NULL THEN
		PERFORM st_fail('SD400', 'a score (0 to 100) is required');
	END IF;
	IF p_score < 0 OR p_score > 100 THEN
		PERFORM st_fail('SD400', format('a score is 0 to 100, not %s', p_score));
	END IF;
	-- the wire carries a double ("92.35" arrives as 92.349999999999994)
	IF abs(p_score - round(p_score, 2)) > 0.000001 THEN
		PERFORM st_fail('SD400', format('a score has at most 2 decimals, not %s', p_score));
	END IF;
	sc := round(p_score, 2);
	cmt := coalesce(st_text(p_comment, 'the comment', false), '');

	PERFORM pg_advisory_xact_lock_shared(hashtext('street.assessment_period'),
		st_score_period_key(per.d_from, per.d_to));
	IF EXISTS (SELECT 1 FROM assessment_lock
			WHERE period_from = per.d_from AND period_to = per.d_to) THEN
		PERFORM st_fail('SD412', format('the period %s to %s is locked: its scores cannot change',
			per.d_from, per.d_to));
	END IF;
	IF NOT st_score_handled(a.street_id, p_department, st_score_day_start(per.d_from),
			st_score_day_start(per.d_to)) THEN
		PERFORM st_fail('SD403', format('no ticket of your street went to department %s between %s and %s: only a department that handled your tickets can be scored',
			(SELECT code FROM department WHERE id = p_department), per.d_from, per.d_to));
	END IF;

	SELECT * INTO prev FROM assessment_score
	WHERE period_from = per.d_from AND period_to = per.d_to AND street_id = a.street_id
		AND department_id = p_department AND criterion_id = crit.id
	FOR UPDATE;
	IF FOUND AND prev.score = sc AND prev.comment = cmt THEN
		RETURN jsonb_build_object('score', st_score_json(prev), 'changed', false, 'seq', NULL);
	END IF;
	INSERT INTO assessment_score (period_from, period_to, street_id, department_id, criterion_id,
		score, comment, set_by)
	VALUES (per.d_from, per.d_to, a.street_id, p_department, crit.id, sc, cmt, a.id)
	ON CONFLICT (period_from, period_to, street_id, department_id, criterion_id) DO UPDATE
		SET score = EXCLUDED.score, comment = EXCLUDED.comment, set_by = EXCLUDED.set_by,
			set_at = now()
	RETURNING * INTO cur;
	INSERT INTO assessment_event (actor_id, action, period_from, period_to, street_id,
		department_id, data)
	VALUES (a.id, 'score_set', per.d_from, per.d_to, a.street_id, p_department,
		jsonb_build_object('criterion', crit.code, 'criterion_id', crit.id,
			'old_score', prev.score, 'new_score', sc,
			'old_comment', prev.comment, 'comment', cmt))
	RETURNING seq INTO ev;
	RETURN jsonb_build_object('score', st_score_json(cur), 'changed', true, 'seq', ev);
END
$$;

-- The scores of a period, canonical text in key order: what a lock's digest
-- is taken over (docs/assessment.md says how to recompute it).
CREATE OR REPLACE FUNCTION st_score_digest(p_from date, p_to date, OUT n integer, OUT sha256 text)
LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer,
		encode(sha256(convert_to(coalesce(string_agg(s.street_id || '|' || s.department_id
			|| '|' || c.code || '|' || s.score || '|' || s.comment, E'\n'
			ORDER BY s.street_id, s.department_id, c.code), ''), 'UTF8')), 'hex')
	FROM assessment_score s JOIN score_criterion c ON c.id = s.criterion_id
	WHERE s.period_from = p_from AND s.period_to = p_to
$$;

-- period_lock: a city-wide supervisor locks a period.  A lock is city-wide
-- (every street's scores of that period) because the ranking of departments
-- it freezes is city-wide, so a district supervisor may not lock (SD403);
-- other roles SD403; a bad period SD400; a period already locked SD412.  The
-- lock and a period_lock event (with how many scores it froze and their
-- SHA-256, st_score_digest) are written together.
CREATE OR REPLACE FUNCTION st_period_lock(p_actor integer, p_from text, p_to text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	per record;
	dg record;
	ev bigint;
BEGIN
	a := st_actor(p_actor);
	IF a.role <> 'supervisor' THEN
		PERFORM st_fail('SD403', format('only a supervisor locks a period, not a %s account', a.role));
	END IF;
	IF a.district_id IS NOT NULL THEN
		PERFORM st_fail('SD403', 'a lock holds for the whole city: only a city-wide supervisor may lock a period');
	END IF;
	per := st_score_period(p_from, p_to);
	PERFORM pg_advisory_xact_lock(hashtext('street.assessment_period'),
		st_score_period_key(per.d_from, per.d_to));
	IF EXISTS (SELECT 1 FROM assessment_lock
			WHERE period_from = per.d_from AND period_to = per.d_to) THEN
		PERFORM st_fail('SD412', format('the period %s to %s is already locked', per.d_from, per.d_to));
	END IF;
	dg := st_score_digest(per.d_from, per.d_to);
	INSERT INTO assessment_lock (period_from, period_to, locked_by)
	VALUES (per.d_from, per.d_to, a.id);
	INSERT INTO assessment_event (actor_id, action, period_from, period_to, data)
	VALUES (a.id, 'period_lock', per.d_from, per.d_to,
		jsonb_build_object('scores', dg.n, 'scores_sha256', dg.sha256))
	RETURNING seq INTO ev;
	-- a signed checkpoint of the event log at every lock (90_chain.sql): the
	-- leader signs the chain head once it has chained past this commit
	PERFORM st_checkpoint_request(format('period_lock %s..%s', per.d_from, per.d_to));
	RETURN jsonb_build_object('period', jsonb_build_object('from', per.d_from, 'to', per.d_to),
		'locked', st_score_lock_json(per.d_from, per.d_to), 'scores', dg.n,
		'scores_sha256', dg.sha256, 'seq', ev);
END
$$;

-- score_get: the scores of a period in the caller's scope, a page at a time,
-- in (street, department, criterion) order:
--   street      the scores it gave
--   department  the scores given to it
--   supervisor  those of its district's streets, or all when city-wide
--   collector, admin: SD403
-- p_street and p_department narrow it; naming one outside the scope is SD403
-- (an unknown one SD400).  A page holds at most 500 scores and at most
-- st_page_bytes() of their JSON (always one); "next" is the cursor
-- "street:department:criterion" of its last score when more follow.
CREATE OR REPLACE FUNCTION st_score_get(p_actor integer, p_from text, p_to text,
	p_street integer DEFAULT NULL, p_department integer DEFAULT NULL, p_after text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
DECLARE
	a account;
	per record;
	m text[];
	k_street integer := 0;
	k_dept integer := 0;
	k_crit integer := 0;
	only_street integer := p_street;
	only_dept integer := p_department;
	only_district integer;
	rows jsonb;
	nxt text;
BEGIN
	a := st_actor(p_actor);
	IF a.role NOT IN ('street', 'department', 'supervisor') THEN
		PERFORM st_fail('SD403', format('a %s account sees no scores', a.role));
	END IF;
	per := st_score_period(p_from, p_to);
	IF p_street IS NOT NULL AND NOT EXISTS (SELECT 1 FROM street WHERE id = p_street) THEN
		PERFORM st_fail('SD400', format('street %s does not exist', p_street));
	END IF;
	IF p_department IS NOT NULL AND NOT EXISTS (SELECT 1 FROM department WHERE id = p_department) THEN
		PERFORM st_fail('SD400', format('department %s does not exist', p_department));
	END IF;
	IF p_after IS NOT NULL THEN
		m := regexp_match(p_after, '^([0-9]{1,9}):([0-9]{1,9}):([0-9]{1,9})$');
		IF m IS NULL THEN
			PERFORM st_fail('SD400', format('%L is not a cursor this server gave out', p_after));
		END IF;
		k_street := m[1]::integer;
		k_dept := m[2]::integer;
		k_crit := m[3]::integer;
	END IF;
	IF a.role = 'street' THEN
		IF p_street IS DISTINCT FROM NULL AND p_street <> a.street_id THEN
			PERFORM st_fail('SD403', 'a street office sees the scores it gave, not another street''s');
		END IF;
		only_street := a.street_id;
	ELSIF a.role = 'department' THEN
		IF p_department IS DISTINCT FROM NULL AND p_department <> a.department_id THEN
			PERFORM st_fail('SD403', 'a department sees the scores given to it, not another department''s');
		END IF;
		only_dept := a.department_id;
	ELSIF a.district_id IS NOT NULL THEN
		IF p_street IS NOT NULL AND NOT EXISTS (SELECT 1 FROM street
				WHERE id = p_street AND district_id = a.district_id) THEN
			PERFORM st_fail('SD403', format('street %s is not in your district', p_street));
		END IF;
		only_district := a.district_id;
	END IF;

	WITH cand AS (
		SELECT s.street_id, s.department_id, s.criterion_id, j,
			row_number() OVER w AS n, sum(octet_length(j::text)) OVER w AS upto
		FROM (SELECT s.*, st_score_json(s) AS j
			FROM assessment_score s
			WHERE s.period_from = per.d_from AND s.period_to = per.d_to
				AND (only_street IS NULL OR s.street_id = only_street)
				AND (only_dept IS NULL OR s.department_id = only_dept)
				AND (only_district IS NULL OR s.street_id IN
					(SELECT id FROM street WHERE district_id = only_district))
				AND (s.street_id, s.department_id, s.criterion_id) > (k_street, k_dept, k_crit)
			ORDER BY s.street_id, s.department_id, s.criterion_id
			LIMIT 501) s
		WINDOW w AS (ORDER BY s.street_id, s.department_id, s.criterion_id)),
	page AS (
		SELECT * FROM cand WHERE n <= 500 AND (n = 1 OR upto <= st_page_bytes()))
	SELECT coalesce((SELECT jsonb_agg(j ORDER BY n) FROM page), '[]'),
		CASE WHEN (SELECT count(*) FROM cand) > (SELECT count(*) FROM page)
			THEN (SELECT street_id || ':' || department_id || ':' || criterion_id
				FROM page ORDER BY n DESC LIMIT 1) END
	INTO rows, nxt;
	RETURN jsonb_build_object('period', jsonb_build_object('from', per.d_from, 'to', per.d_to),
		'locked', st_score_lock_json(per.d_from, per.d_to), 'scores', rows, 'next', nxt);
END
$$;
