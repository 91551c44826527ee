-- The demo's history: a few months of plausible, seeded tickets for Changji,
-- so that the assessment (rates, rankings, the bulletin) has something to
-- show at once.  docs/demo.md ("The generated history") describes its shape.
--
-- This file only DEFINES functions, in pg_temp: they last as long as the
-- session and leave nothing in the schema (scripts/migrate refuses functions
-- of schema street that sql/functions/ does not define, and the product has
-- no use for these).  It lives in a folder of its own so that scripts/migrate
-- --demo (which loads sql/demo/*.sql, also for the tests) never reads it.
-- scripts/run loads it once into a fresh demo database (st_demo_history in
-- scripts/lib/common.sh):
--
--   SET ROLE streetd_owner; SET search_path = street;
--   \i sql/demo/history/generate.sql
--   SELECT pg_temp.demo_history();          -- seed 20261130, Aug 1 to Dec 1 2026
--
-- pg_temp.demo_history(p_seed, p_from, p_to, p_scale) generates the days
-- [p_from, p_to) in Asia/Shanghai (UTC+8, as the deadlines count), cut at
-- now() if that is earlier, and returns the number of tickets it made.  The
-- same seed, period and scale on the same demo data and calendar give the
-- same history (setseed, and every random draw in one fixed order).
--
-- How: each ticket is simulated from its report to its end (or to the end of
-- the period) the way the action functions of sql/functions/40_actions.sql
-- would have moved it, with the times people would have taken; its events go
-- to a temporary table.  Then the tickets are inserted in report order and
-- the events in time order, so that the log's seq order is its time order.
-- Each event obeys the rule table (st_next for the actor's role, or the
-- whole call fails), deadlines come from st_due (sla_add on the calendar for
-- normal tickets), a deadline that passed is marked by an 'overdue' event at
-- the deadline, as the sweeper would, and a missed feedback deadline is the
-- sweeper's auto_close.  Each ticket row ends as its last event leaves it.
-- Finally the street offices' scores (assessment_score, assessment_event)
-- for every whole month of the period but the last, each locked by the
-- supervisor a few days after it ended; the last month stays open.
--
-- Run it as the tables' owner (or a superuser): it inserts directly, the
-- action functions would stamp now().

-- A standard normal draw (Box-Muller).
CREATE OR REPLACE FUNCTION pg_temp.h_norm() RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	u float8 := 1 - random(); -- (0, 1]: ln is finite
	v float8 := random();
BEGIN
	RETURN sqrt(-2 * ln(u)) * cos(2 * pi() * v);
END
$$;

-- A log-normal duration: half of the draws are below p_median.
CREATE OR REPLACE FUNCTION pg_temp.h_lognorm(p_median float8, p_sigma float8) RETURNS float8
LANGUAGE plpgsql AS $$
BEGIN
	RETURN p_median * exp(p_sigma * pg_temp.h_norm());
END
$$;

-- An index 1..n drawn with the given weights.
CREATE OR REPLACE FUNCTION pg_temp.h_pick(p_w float8[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	total float8 := 0;
	r float8;
	i integer;
BEGIN
	FOR i IN 1 .. cardinality(p_w) LOOP
		total := total + p_w[i];
	END LOOP;
	r := random() * total;
	FOR i IN 1 .. cardinality(p_w) LOOP
		r := r - p_w[i];
		IF r < 0 THEN
			RETURN i;
		END IF;
	END LOOP;
	RETURN cardinality(p_w);
END
$$;

-- One of the texts, uniformly.
CREATE OR REPLACE FUNCTION pg_temp.h_one(p_texts text[]) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN p_texts[1 + floor(random() * cardinality(p_texts))::integer];
END
$$;

-- A Poisson count (Knuth; the means here are small).
CREATE OR REPLACE FUNCTION pg_temp.h_poisson(p_mean float8) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	l float8 := exp(-p_mean);
	p float8 := 1;
	k integer := 0;
BEGIN
	LOOP
		p := p * random();
		EXIT WHEN p <= l;
		k := k + 1;
	END LOOP;
	RETURN k;
END
$$;

-- When someone acts p_secs after p_t: working time on the calendar for a
-- normal ticket (people act in office hours), elapsed time for an urgent one.
-- At least a minute.
CREATE OR REPLACE FUNCTION pg_temp.h_later(p_t timestamptz, p_secs float8, p_urgent boolean)
RETURNS timestamptz
LANGUAGE plpgsql SET search_path = street, pg_temp AS $$
DECLARE
	s bigint := greatest(60, round(p_secs))::bigint;
BEGIN
	IF p_urgent THEN
		RETURN p_t + make_interval(secs => s);
	END IF;
	RETURN sla_add(p_t, s);
END
$$;

-- The sweeper's mark: the current step's deadline passed before p_at.
CREATE OR REPLACE FUNCTION pg_temp.h_mark(t ticket, p_at timestamptz) RETURNS ticket
LANGUAGE plpgsql SET search_path = street, pg_temp AS $$
BEGIN
	IF t.state IN ('reported', 'dispatched', 'accepted') AND NOT t.overdue AND t.due_at < p_at THEN
		t.overdue := true;
		INSERT INTO pg_temp.h_event (tid, ord, at, actor_id, action, from_state, to_state, version,
			department_id, data)
		VALUES (t.id, nextval('pg_temp.h_ord'), t.due_at, NULL, 'overdue', t.state, t.state,
			t.version, t.department_id, jsonb_build_object('due_at', t.due_at));
	END IF;
	RETURN t;
END
$$;

-- One action, as st_move does it: the caller has applied the action's own
-- column changes to t (and called h_mark first); the rule table gives the
-- next state; a new state means a new version and the new step's deadline.
-- p_ref: for an arbitrate, the ord of the return it rules on.
CREATE OR REPLACE FUNCTION pg_temp.h_step(t ticket, p_at timestamptz, p_actor integer, p_role text,
	p_action text, p_department integer, p_data jsonb, p_ref bigint DEFAULT NULL)
RETURNS ticket
LANGUAGE plpgsql SET search_path = street, pg_temp AS $$
DECLARE
	old ticket_state := t.state;
	nxt ticket_state := st_next(p_action, t.state, p_role);
	data jsonb := p_data;
BEGIN
	IF nxt IS NULL THEN
		RAISE EXCEPTION 'demo history: % from % by a % is not in the rule table (ticket %)',
			p_action, t.state, p_role, t.id;
	END IF;
	IF nxt <> old THEN
		t.version := t.version + 1;
		t.overdue := false;
		t.due_at := st_due(p_at, t.category_id, t.urgent, nxt);
		IF nxt IN ('closed', 'cancelled') THEN
			t.closed_at := p_at;
		END IF;
		data := data || jsonb_build_object('due_at', t.due_at);
	END IF;
	t.state := nxt;
	t.updated_at := p_at;
	INSERT INTO pg_temp.h_event (tid, ord, at, actor_id, action, from_state, to_state, version,
		department_id, data, ref)
	VALUES (t.id, nextval('pg_temp.h_ord'), p_at, p_actor, p_action, old, nxt, t.version,
		coalesce(p_department, t.department_id), jsonb_strip_nulls(data), p_ref);
	RETURN t;
END
$$;

CREATE OR REPLACE FUNCTION pg_temp.demo_history(p_seed integer DEFAULT 20261130,
	p_from date DEFAULT '2026-08-01', p_to date DEFAULT '2026-12-01', p_scale float8 DEFAULT 1)
RETURNS integer
LANGUAGE plpgsql SET search_path = street, pg_temp SET client_min_messages = warning
	-- the daemon's sessions' zone (daemon/db.c): the times in events' data read the same
	SET TimeZone = 'Asia/Shanghai' AS $$
DECLARE
	v_end timestamptz := least(p_to::timestamp AT TIME ZONE INTERVAL '+08:00', now());
	v_day date;
	d_working boolean;
	month_factor float8;
	n integer;
	times timestamptz[];
	t0 timestamptz;
	k integer := 0;
	-- the demo, looked up by code and login
	cats record;
	cat_ids integer[];
	cat_codes text[];
	cat_w float8[];
	cat_texts text[];
	w float8[];
	grids record;
	grid_ids integer[];
	grid_street integer[];
	grid_district integer[];
	grid_collector integer[];
	grid_road text[];
	grid_w float8[];
	street_acc jsonb := '{}';   -- street id -> the street office's account
	street_disp jsonb := '{}';  -- street id -> median share of the dispatch deadline
	supervisor integer;
	routes jsonb := '{}';       -- 'category/grid' -> the routed department
	dp record;
	-- one ticket
	t ticket;
	c category;
	gi integer;
	ci integer;
	since timestamptz;
	at timestamptz;
	tr timestamptz;
	tu timestamptz;
	tf timestamptz;
	secs float8;
	target integer;
	routed integer;
	named integer;
	old_dept integer;
	ret_ord bigint;
	arb_to ticket_state;
	upheld boolean;
	no_return boolean;
	until timestamptz;
	granted boolean;
	actor integer;
	role text;
	rating integer;
	r record;
	rid bigint;
	real_ids bigint[] := '{}';
	ret_seqs jsonb := '{}';
	e record;
	seq bigint;
	m date;
BEGIN
	IF p_seed IS NULL OR p_from IS NULL OR p_to IS NULL OR p_scale IS NULL
			OR p_from >= p_to OR p_scale <= 0 OR p_scale > 20 THEN
		RAISE EXCEPTION 'demo history: needs a seed, p_from < p_to and 0 < p_scale <= 20';
	END IF;
	PERFORM setseed((p_seed % 2147483647)::float8 / 2147483647);

	DROP TABLE IF EXISTS pg_temp.h_ticket, pg_temp.h_event, pg_temp.h_dept;
	DROP SEQUENCE IF EXISTS pg_temp.h_ord;
	CREATE TEMP SEQUENCE h_ord;
	CREATE TEMP TABLE h_ticket (LIKE ticket);
	CREATE TEMP TABLE h_event (
		tid bigint NOT NULL, ord bigint NOT NULL, at timestamptz NOT NULL, actor_id integer,
		action text NOT NULL, from_state ticket_state, to_state ticket_state NOT NULL,
		version integer NOT NULL, department_id integer, data jsonb NOT NULL, ref bigint);
	CREATE INDEX ON h_ticket (grid_id, category_id, id);

	-- Departments: how fast they take and finish work (medians as shares of
	-- the step's deadline, log-normal spread), how often they return, ask for
	-- more time or are reopened, how reporters rate them (weights of 1..5
	-- stars) and how the streets score them.  sthj is the fast, well rated
	-- one; zjj the slow one with returns and overdue marks.
	CREATE TEMP TABLE h_dept AS
	SELECT d.id, d.code, d.name, a.id AS account_id, v.*
	FROM (VALUES
		('sthj', 'yang.min', 0.08, 0.7, 0.02, 0.30, 0.5, 0.02, 0.02, 0.25,
			ARRAY[1, 1, 3, 15, 80]::float8[], 94),
		('yjgl', 'huang.qiang', 0.12, 0.7, 0.04, 0.40, 0.5, 0.04, 0.03, 0.20,
			ARRAY[2, 2, 6, 25, 65]::float8[], 91),
		('cgj', 'chen.jing', 0.25, 0.8, 0.07, 0.55, 0.6, 0.05, 0.05, 0.15,
			ARRAY[4, 5, 11, 35, 45]::float8[], 86),
		('scjg', 'zhou.jie', 0.30, 0.8, 0.06, 0.55, 0.6, 0.05, 0.05, 0.15,
			ARRAY[3, 5, 12, 40, 40]::float8[], 85),
		('sw', 'xu.lin', 0.45, 0.8, 0.10, 0.75, 0.6, 0.08, 0.07, 0.10,
			ARRAY[6, 8, 16, 35, 35]::float8[], 80),
		('zjj', 'wu.hao', 0.85, 0.7, 0.20, 1.05, 0.6, 0.15, 0.12, 0.08,
			ARRAY[14, 14, 24, 30, 18]::float8[], 70)
	) AS v (dcode, login, acc_med, acc_sig, ret_p, res_med, res_sig, ext_p, reopen_p,
		comment_p, ratings, score_base)
	JOIN department d ON d.code = v.dcode
	JOIN account a ON a.login = v.login AND a.role = 'department' AND a.department_id = d.id;
	IF (SELECT count(*) FROM h_dept) <> 6 THEN
		RAISE EXCEPTION 'demo history: the demo departments and their accounts are not all there '
			'(sql/demo/changji.sql)';
	END IF;

	-- Categories: how often each is reported, and what people write.
	FOR cats IN
		SELECT c2.id, c2.code, v.w, v.texts
		FROM (VALUES
			('construction.building', 6, ARRAY['小区内违法加盖一层', '临街商铺违规扩建',
				'楼顶私自搭建彩钢房', '院内新建砖房未见审批']),
			('construction.extension', 8, ARRAY['一楼住户私搭阳光房', '楼道口私搭储物棚',
				'绿化带内私建围墙', '车棚被改建成住房']),
			('construction.road', 14, ARRAY['早市摊贩占道经营', '商户将货物堆放在人行道',
				'夜市烧烤摊占用车行道', '修车铺占道作业']),
			('construction.billboard', 5, ARRAY['楼体悬挂违规广告牌', '路灯杆上张贴小广告',
				'店招破损有坠落风险']),
			('pollution.dust', 10, ARRAY['工地渣土未覆盖，扬尘严重', '道路施工未洒水降尘',
				'渣土车沿路遗撒', '拆迁现场扬尘']),
			('pollution.burning', 3, ARRAY['居民在空地焚烧落叶', '有人焚烧垃圾，烟雾很大',
				'绿化带内焚烧枯草']),
			('pollution.water', 5, ARRAY['餐馆污水直排雨水井', '洗车店污水流到路面',
				'小区化粪池外溢']),
			('pollution.noise', 12, ARRAY['夜间施工噪声扰民', '商铺门口大音量喇叭促销',
				'广场舞音响声音过大', '夜市噪声到凌晨']),
			('pollution.garbage', 18, ARRAY['小区门口垃圾堆积未清运', '路边建筑垃圾乱倒',
				'垃圾桶满溢无人清理', '绿化带内生活垃圾堆积']),
			('safety.fire', 6, ARRAY['消防通道被车辆堵塞', '楼道堆放杂物阻碍疏散',
				'电动车在楼道内充电', '消火栓被遮挡']),
			('safety.gas', 2, ARRAY['楼道内有燃气味', '餐馆燃气管道老化漏气',
				'液化气瓶违规存放']),
			('safety.chemicals', 1, ARRAY['门店违规存放油漆稀料', '居民楼内存放大量酒精']),
			('safety.site', 4, ARRAY['工地脚手架未设防护网', '基坑周边无围挡',
				'塔吊作业区无警戒']),
			('safety.equipment', 4, ARRAY['小区电梯频繁停运', '电梯困人后未检修',
				'电梯年检标志过期'])
		) AS v (code, w, texts)
		JOIN category c2 ON c2.code = v.code
		ORDER BY c2.code
	LOOP
		cat_ids := cat_ids || cats.id;
		cat_codes := cat_codes || cats.code;
		cat_w := cat_w || cats.w::float8;
		cat_texts := cat_texts || array_to_string(cats.texts, '|');
	END LOOP;
	IF cardinality(cat_ids) IS DISTINCT FROM 14 THEN
		RAISE EXCEPTION 'demo history: the demo categories are not all there (sql/demo/changji.sql)';
	END IF;

	-- Grids, with the collector who walks each (none for jg-wenhua and
	-- bn-tunhe: their street office reports there) and its road.
	FOR grids IN
		SELECT g.id, g.street_id, s.district_id, g.code,
			(SELECT a.id FROM account_grid ag JOIN account a ON a.id = ag.account_id
			 WHERE ag.grid_id = g.id AND a.login IN ('wang.fang', 'zhao.lei', 'li.na')
			 ORDER BY a.login LIMIT 1) AS collector
		FROM grid g JOIN street s ON s.id = g.street_id
		WHERE s.code IN ('jianguolu', 'beijingnanlu')
		ORDER BY g.code
	LOOP
		grid_ids := grid_ids || grids.id;
		grid_street := grid_street || grids.street_id;
		grid_district := grid_district || grids.district_id;
		grid_collector := grid_collector || grids.collector;
		grid_road := grid_road || CASE split_part(grids.code, '-', 2)
			WHEN 'yanan' THEN '延安北路' WHEN 'jianguo' THEN '建国路'
			WHEN 'wenhua' THEN '文化东路' WHEN 'beijingnan' THEN '北京南路'
			WHEN 'tunhe' THEN '屯河路' ELSE '长宁路' END;
		-- the workshop zone of jg-yanan-01 and the market of bn-beijingnan-01 are busier
		grid_w := grid_w || CASE grids.code WHEN 'jg-yanan-01' THEN 1.5
			WHEN 'bn-beijingnan-01' THEN 1.4 ELSE 1 END::float8;
	END LOOP;
	IF cardinality(grid_ids) IS DISTINCT FROM 12 THEN
		RAISE EXCEPTION 'demo history: the demo grids are not all there (sql/demo/changji.sql)';
	END IF;

	-- The street offices: jianguolu dispatches quickly, beijingnanlu slower.
	SELECT jsonb_object_agg(s.id::text, a.id), jsonb_object_agg(s.id::text,
			CASE s.code WHEN 'jianguolu' THEN 0.2 ELSE 0.45 END)
		INTO street_acc, street_disp
	FROM street s JOIN account a ON a.street_id = s.id AND a.role = 'street'
		AND a.login = CASE s.code WHEN 'jianguolu' THEN 'zhang.wei' ELSE 'liu.yang' END
	WHERE s.code IN ('jianguolu', 'beijingnanlu');
	SELECT a.id INTO supervisor FROM account a WHERE a.login = 'sun.li' AND a.role = 'supervisor';
	IF supervisor IS NULL OR street_acc IS NULL OR (SELECT count(*) FROM jsonb_object_keys(street_acc)) <> 2 THEN
		RAISE EXCEPTION 'demo history: the demo accounts are not all there (sql/demo/changji.sql)';
	END IF;

	-- Day by day: how many reports, when, then each ticket's life.
	v_day := p_from;
	WHILE v_day < p_to LOOP
		d_working := coalesce((SELECT cd.kind = 'workday' FROM calendar_day cd WHERE cd.day = v_day),
			extract(isodow FROM v_day) < 6);
		month_factor := CASE extract(month FROM v_day) WHEN 8 THEN 1.15 WHEN 9 THEN 1.05
			WHEN 10 THEN 0.9 WHEN 11 THEN 0.85 ELSE 1 END;
		n := pg_temp.h_poisson(26 * p_scale * month_factor * CASE WHEN d_working THEN 1 ELSE 0.35 END);
		-- Seasons: dust in the dry summer, burning of leaves in autumn.
		w := cat_w;
		FOR ci IN 1 .. cardinality(cat_ids) LOOP
			IF cat_codes[ci] = 'pollution.dust' AND extract(month FROM v_day) IN (7, 8, 9) THEN
				w[ci] := w[ci] * 1.6;
			ELSIF cat_codes[ci] = 'pollution.burning' AND extract(month FROM v_day) IN (10, 11) THEN
				w[ci] := w[ci] * 2.5;
			END IF;
		END LOOP;
		times := '{}';
		FOR i IN 1 .. n LOOP
			-- mostly in the day (08:30-18:30), some in the evening (18:30-22:00)
			times := times || ((v_day + CASE WHEN random() < 0.85
					THEN interval '8 hours 30 minutes' + random() * interval '10 hours'
					ELSE interval '18 hours 30 minutes' + random() * interval '3 hours 30 minutes'
				END)::timestamp AT TIME ZONE INTERVAL '+08:00');
		END LOOP;
		SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO times FROM unnest(times) AS x;

		FOREACH t0 IN ARRAY times LOOP
			EXIT WHEN t0 >= v_end;
			k := k + 1;
			ci := pg_temp.h_pick(w);
			gi := pg_temp.h_pick(grid_w);
			SELECT * INTO STRICT c FROM category WHERE id = cat_ids[ci];
			t := NULL;
			t.id := k;
			t.state := 'reported';
			t.version := 1;
			t.category_id := c.id;
			t.urgent := c.urgent OR random() < 0.02;
			t.grid_id := grid_ids[gi];
			t.street_id := grid_street[gi];
			t.district_id := grid_district[gi];
			t.description := pg_temp.h_one(string_to_array(cat_texts[ci], '|'));
			t.address := grid_road[gi] || (1 + floor(random() * 180))::integer || '号'
				|| pg_temp.h_one(ARRAY['', '', '附近', '东侧', '小区门口', '对面']);
			IF random() < 0.6 THEN
				t.lat := round((44.011 + (random() - 0.5) * 0.03)::numeric, 6);
				t.lon := round((87.304 + (random() - 0.5) * 0.04)::numeric, 6);
			END IF;
			-- the grid's collector mostly; the street office where no one walks it
			IF grid_collector[gi] IS NOT NULL AND random() < 0.9 THEN
				t.reporter_id := grid_collector[gi];
			ELSE
				t.reporter_id := (street_acc->>t.street_id::text)::integer;
			END IF;
			t.created_at := t0;
			t.updated_at := t0;
			t.due_at := st_due(t0, c.id, t.urgent, 'reported');
			t.overdue := false;
			t.return_count := 0;
			t.reopen_count := 0;
			t.urge_count := 0;
			INSERT INTO h_event (tid, ord, at, actor_id, action, from_state, to_state, version,
				department_id, data)
			VALUES (k, nextval('h_ord'), t0, t.reporter_id, 'report', NULL, 'reported', 1, NULL,
				jsonb_build_object('category_id', c.id, 'grid_id', t.grid_id, 'urgent', t.urgent,
					'due_at', t.due_at));
			since := t0;
			target := NULL;
			no_return := false;

			<<sim>>
			LOOP
				IF t.state = 'reported' THEN
					secs := CASE WHEN t.urgent THEN c.urgent_dispatch_s ELSE c.dispatch_s END;
					-- a duplicate or a report outside the loop's remit: cancelled
					IF t.return_count = 0 AND random() < 0.04 THEN
						at := pg_temp.h_later(since, pg_temp.h_lognorm(0.3 * secs, 0.6), t.urgent);
						EXIT sim WHEN at >= v_end;
						t := pg_temp.h_mark(t, at);
						SELECT h.id INTO t.duplicate_of FROM h_ticket h
						WHERE h.grid_id = t.grid_id AND h.category_id = t.category_id
							AND h.created_at > t0 - interval '3 days'
						ORDER BY h.id DESC LIMIT 1;
						t.close_kind := 'cancelled';
						t := pg_temp.h_step(t, at, (street_acc->>t.street_id::text)::integer,
							'street', 'cancel', NULL, jsonb_build_object(
								'reason', CASE WHEN t.duplicate_of IS NOT NULL
									THEN '重复上报，已并入原工单处理'
									ELSE pg_temp.h_one(ARRAY['经核实不属于受理范围',
										'现场核查问题不存在', '上报人已自行解决']) END,
								'duplicate_of', t.duplicate_of));
						EXIT sim;
					END IF;
					at := pg_temp.h_later(since, pg_temp.h_lognorm(
						(street_disp->>t.street_id::text)::float8 * secs, 0.8), t.urgent);
					-- a slow street is pressed by the supervisor
					IF at > t.due_at AND random() < 0.3 THEN
						tu := pg_temp.h_later(t.due_at, pg_temp.h_lognorm(0.5 * secs, 0.5), t.urgent);
						IF tu < at AND tu < v_end THEN
							t := pg_temp.h_mark(t, tu);
							t.urge_count := t.urge_count + 1;
							t := pg_temp.h_step(t, tu, supervisor, 'supervisor', 'urge', NULL,
								jsonb_build_object('note', '请尽快派单'));
						END IF;
					END IF;
					EXIT sim WHEN at >= v_end;
					t := pg_temp.h_mark(t, at);
					-- the rules do not change while this runs: ask once per place and category
					routed := (routes->>(t.category_id || '/' || t.grid_id))::integer;
					IF routed IS NULL THEN
						routed := st_route(t.category_id, t.grid_id);
						routes := routes || jsonb_build_object(t.category_id || '/' || t.grid_id, routed);
					END IF;
					IF target IS NOT NULL THEN
						t.department_id := target;
					ELSIF random() < 0.04 THEN
						-- the street knows better than the rule, now and then
						SELECT h.id INTO t.department_id FROM h_dept h
						WHERE h.id <> routed ORDER BY h.code
						OFFSET floor(random() * 5)::integer LIMIT 1;
					ELSE
						t.department_id := routed;
					END IF;
					t := pg_temp.h_step(t, at, (street_acc->>t.street_id::text)::integer, 'street',
						'dispatch', NULL, jsonb_build_object('department_id', t.department_id,
							'routed_department_id', routed,
							'overridden', t.department_id IS DISTINCT FROM routed,
							'note', CASE WHEN target IS NOT NULL THEN '按退单意见重新派单' END));
					since := at;
					target := NULL;

				ELSIF t.state = 'dispatched' THEN
					SELECT * INTO STRICT dp FROM h_dept WHERE id = t.department_id;
					secs := CASE WHEN t.urgent THEN c.urgent_accept_s ELSE c.accept_s END;
					IF NOT no_return AND t.return_count < 2 AND random() < dp.ret_p THEN
						-- 退单: back to the street, naming who should have it
						at := pg_temp.h_later(since, pg_temp.h_lognorm(0.5 * dp.acc_med * secs, 0.5),
							t.urgent);
						EXIT sim WHEN at >= v_end;
						t := pg_temp.h_mark(t, at);
						SELECT h.id INTO STRICT named FROM h_dept h
						WHERE h.id <> t.department_id AND h.code = ANY (CASE split_part(c.code, '.', 1)
							WHEN 'construction' THEN ARRAY['cgj', 'zjj', 'scjg']
							WHEN 'pollution' THEN ARRAY['sthj', 'cgj', 'sw', 'zjj']
							ELSE ARRAY['yjgl', 'scjg', 'zjj'] END)
						ORDER BY h.code OFFSET floor(random() * 2)::integer LIMIT 1;
						old_dept := t.department_id;
						t.department_id := NULL;
						t.return_count := t.return_count + 1;
						t := pg_temp.h_step(t, at, dp.account_id, 'department', 'return', old_dept,
							jsonb_build_object('reason', format('不属于我单位职责范围，建议由%s办理',
								(SELECT h.name FROM h_dept h WHERE h.id = named)),
								'department_id', named));
						ret_ord := currval('h_ord');
						since := at;
						target := CASE WHEN random() < 0.7 THEN named ELSE old_dept END;
						-- the supervisor rules on some returns (a binding ruling
						-- moves the ticket itself; otherwise the street follows it)
						arb_to := st_next('arbitrate', 'reported', 'supervisor');
						IF arb_to IS NOT NULL AND random() < 0.45 THEN
							at := pg_temp.h_later(at, pg_temp.h_lognorm(5400, 0.5), false);
							EXIT sim WHEN at >= v_end;
							upheld := random() < CASE dp.code WHEN 'zjj' THEN 0.3 ELSE 0.65 END;
							target := CASE WHEN upheld THEN named ELSE old_dept END;
							no_return := NOT upheld;
							t := pg_temp.h_mark(t, at);
							IF arb_to = 'dispatched' THEN
								t.department_id := target;
							END IF;
							t := pg_temp.h_step(t, at, supervisor, 'supervisor', 'arbitrate', old_dept,
								jsonb_build_object('upheld', upheld, 'department_id', target,
									'note', CASE WHEN upheld THEN '退单理由成立' ELSE '退单理由不成立，由原单位办理' END),
								ret_ord);
							-- the street (or the department) acts after the ruling
							since := at;
							IF t.state <> 'reported' THEN
								target := NULL;
							END IF;
						END IF;
						CONTINUE sim;
					END IF;
					at := pg_temp.h_later(since, pg_temp.h_lognorm(dp.acc_med * secs, dp.acc_sig),
						t.urgent);
					IF at > t.due_at AND random() < 0.4 THEN
						tu := pg_temp.h_later(t.due_at, pg_temp.h_lognorm(0.5 * secs, 0.5), t.urgent);
						IF tu < at AND tu < v_end THEN
							t := pg_temp.h_mark(t, tu);
							t.urge_count := t.urge_count + 1;
							IF random() < 0.5 THEN
								t := pg_temp.h_step(t, tu, supervisor, 'supervisor', 'urge', NULL,
									jsonb_build_object('note', '请立即签收'));
							ELSE
								t := pg_temp.h_step(t, tu, (street_acc->>t.street_id::text)::integer,
									'street', 'urge', NULL, jsonb_build_object('note', '已超时，请尽快签收'));
							END IF;
						END IF;
					END IF;
					EXIT sim WHEN at >= v_end;
					t := pg_temp.h_mark(t, at);
					t := pg_temp.h_step(t, at, dp.account_id, 'department', 'accept', NULL, '{}');
					since := at;

				ELSIF t.state = 'accepted' THEN
					SELECT * INTO STRICT dp FROM h_dept WHERE id = t.department_id;
					secs := CASE WHEN t.urgent THEN c.urgent_resolve_s ELSE c.resolve_s END;
					tr := pg_temp.h_later(since, pg_temp.h_lognorm(
						dp.res_med * secs * CASE WHEN t.reopen_count > 0 THEN 0.5 ELSE 1 END,
						dp.res_sig), t.urgent);
					IF random() < dp.comment_p THEN
						at := pg_temp.h_later(since, 0.1 * secs * random(), t.urgent);
						IF at < tr AND at < v_end THEN
							t := pg_temp.h_mark(t, at);
							t := pg_temp.h_step(t, at, dp.account_id, 'department', 'comment', NULL,
								jsonb_build_object('text', pg_temp.h_one(ARRAY['已安排人员现场核查',
									'已联系当事人限期整改', '正在协调相关单位共同处置'])));
						END IF;
					END IF;
					-- 延期: asked before the deadline, decided by the street
					-- (now and then the supervisor)
					IF NOT t.urgent AND random() < dp.ext_p THEN
						at := pg_temp.h_later(since, secs * (0.3 + 0.4 * random()), false);
						IF at < t.due_at AND at < tr AND at < v_end THEN
							t := pg_temp.h_mark(t, at);
							t.ext_until := sla_add(t.due_at, (1 + floor(random() * 4))::bigint * 28800);
							t.ext_reason := pg_temp.h_one(ARRAY['需履行法定程序，送达整改通知后等待当事人答复',
								'需协调多个单位联合处置', '材料采购需要时间']);
							t := pg_temp.h_step(t, at, dp.account_id, 'department', 'extend_request',
								NULL, jsonb_build_object('until', t.ext_until, 'reason', t.ext_reason,
									'current_due_at', t.due_at));
							at := pg_temp.h_later(at, pg_temp.h_lognorm(7200, 0.6), false);
							EXIT sim WHEN at >= v_end;
							t := pg_temp.h_mark(t, at);
							until := t.ext_until;
							granted := random() < 0.75;
							IF granted THEN
								t.due_at := until;
								t.overdue := false;
								tr := pg_temp.h_later(at, pg_temp.h_lognorm(
									0.6 * sla_working_between(at, until), 0.4), false);
							ELSIF tr <= at THEN
								tr := pg_temp.h_later(at, 3600, false);
							END IF;
							t.ext_until := NULL;
							t.ext_reason := NULL;
							IF random() < 0.85 THEN
								actor := (street_acc->>t.street_id::text)::integer;
								role := 'street';
							ELSE
								actor := supervisor;
								role := 'supervisor';
							END IF;
							t := pg_temp.h_step(t, at, actor, role,
								CASE WHEN granted THEN 'extend_grant' ELSE 'extend_deny' END, NULL,
								jsonb_build_object('until', until, 'note',
									CASE WHEN granted THEN '同意延期' ELSE '理由不充分，请按期办结' END));
						END IF;
					END IF;
					IF tr > t.due_at AND random() < 0.5 THEN
						tu := pg_temp.h_later(t.due_at, pg_temp.h_lognorm(10800, 0.6), t.urgent);
						IF tu < tr AND tu < v_end THEN
							t := pg_temp.h_mark(t, tu);
							t.urge_count := t.urge_count + 1;
							IF random() < 0.5 THEN
								t := pg_temp.h_step(t, tu, supervisor, 'supervisor', 'urge', NULL,
									jsonb_build_object('note', '督办：已超期，请说明原因并尽快办结'));
							ELSE
								t := pg_temp.h_step(t, tu, (street_acc->>t.street_id::text)::integer,
									'street', 'urge', NULL, jsonb_build_object('note', '请加快办理'));
							END IF;
						END IF;
					END IF;
					EXIT sim WHEN tr >= v_end;
					t := pg_temp.h_mark(t, tr);
					t := pg_temp.h_step(t, tr, dp.account_id, 'department', 'resolve', NULL,
						jsonb_build_object('note', pg_temp.h_one(ARRAY['已现场处置完毕',
							'已责令整改，复查合格', '已清理完毕', '已拆除', '已协调解决'])));
					since := tr;

				ELSIF t.state = 'resolved' THEN
					SELECT * INTO STRICT dp FROM h_dept WHERE id = t.department_id;
					secs := CASE WHEN t.urgent THEN c.urgent_feedback_s ELSE c.feedback_s END;
					IF random() < 0.07 THEN
						tf := 'infinity';
					ELSE
						tf := pg_temp.h_later(since, pg_temp.h_lognorm(0.12 * secs, 0.8), t.urgent);
					END IF;
					IF tf >= t.due_at THEN
						-- no feedback in time: the sweeper closes it
						EXIT sim WHEN t.due_at >= v_end;
						t.close_kind := 'no_feedback';
						t := pg_temp.h_step(t, t.due_at, NULL, 'system', 'auto_close', NULL, '{}');
						EXIT sim;
					END IF;
					EXIT sim WHEN tf >= v_end;
					IF t.reporter_id <> (street_acc->>t.street_id::text)::integer AND random() < 0.8 THEN
						actor := t.reporter_id;
						role := 'collector';
					ELSE
						actor := (street_acc->>t.street_id::text)::integer;
						role := 'street';
					END IF;
					IF t.reopen_count = 0 AND random() < dp.reopen_p THEN
						t.reopen_count := t.reopen_count + 1;
						t := pg_temp.h_step(t, tf, actor, role, 'reopen', NULL,
							jsonb_build_object('reason', pg_temp.h_one(ARRAY['现场复查问题仍然存在',
								'整改不彻底，问题反弹', '群众反映仍未解决'])));
						since := tf;
						CONTINUE sim;
					END IF;
					rating := pg_temp.h_pick(dp.ratings);
					IF t.reopen_count > 0 AND random() < 0.5 THEN
						rating := greatest(1, rating - 1);
					END IF;
					t.rating := rating;
					t.feedback := CASE
						WHEN rating <= 2 THEN pg_temp.h_one(ARRAY['处理太慢', '问题没有根本解决',
							'态度敷衍'])
						WHEN rating = 5 AND random() < 0.4 THEN pg_temp.h_one(ARRAY['很满意',
							'处理及时，点赞'])
						END;
					t.close_kind := 'confirmed';
					t := pg_temp.h_step(t, tf, actor, role, 'confirm', NULL,
						jsonb_build_object('rating', rating, 'comment', t.feedback));
					EXIT sim;
				ELSE
					EXIT sim;
				END IF;
			END LOOP;
			-- the end of the period: a deadline that passed before it is marked
			t := pg_temp.h_mark(t, v_end);
			INSERT INTO h_ticket SELECT (t).*;
		END LOOP;
		v_day := v_day + 1;
	END LOOP;

	-- Into the real tables: tickets in report order, events in time order.
	FOR r IN SELECT * FROM h_ticket ORDER BY id LOOP
		INSERT INTO ticket (state, version, category_id, urgent, grid_id, street_id, district_id,
			description, address, lat, lon, reporter_id, department_id, duplicate_of, created_at,
			updated_at, due_at, overdue, ext_until, ext_reason, rating, feedback, closed_at,
			close_kind, return_count, reopen_count, urge_count)
		VALUES (r.state, r.version, r.category_id, r.urgent, r.grid_id, r.street_id, r.district_id,
			r.description, r.address, r.lat, r.lon, r.reporter_id, r.department_id,
			real_ids[r.duplicate_of], r.created_at, r.updated_at, r.due_at, r.overdue, r.ext_until,
			r.ext_reason, r.rating, r.feedback, r.closed_at, r.close_kind, r.return_count,
			r.reopen_count, r.urge_count)
		RETURNING id INTO rid;
		real_ids[r.id] := rid;
	END LOOP;
	FOR e IN SELECT h.*, ht.street_id, ht.district_id, ht.reporter_id, ht.category_id, ht.grid_id
		FROM h_event h JOIN h_ticket ht ON ht.id = h.tid ORDER BY h.at, h.tid, h.ord
	LOOP
		IF e.action = 'arbitrate' THEN
			e.data := e.data || jsonb_build_object('return_seq', ret_seqs->(e.ref::text));
		ELSIF e.action = 'cancel' AND e.data ? 'duplicate_of' THEN
			e.data := e.data || jsonb_build_object('duplicate_of',
				real_ids[(e.data->>'duplicate_of')::integer]);
		END IF;
		INSERT INTO ticket_event (at, ticket_id, actor_id, action, from_state, to_state, version,
			street_id, district_id, reporter_id, department_id, category_id, grid_id, data)
		VALUES (e.at, real_ids[e.tid], e.actor_id, e.action, e.from_state, e.to_state, e.version,
			e.street_id, e.district_id, e.reporter_id, e.department_id, e.category_id, e.grid_id,
			e.data)
		RETURNING ticket_event.seq INTO seq;
		IF e.action = 'return' THEN
			ret_seqs := ret_seqs || jsonb_build_object(e.ord::text, seq);
		END IF;
	END LOOP;
	-- Open311's status_notes, which the actions keep on the ticket (st_move):
	-- these events went in straight
	PERFORM st_o311_notes_fill((SELECT min(x) FROM unnest(real_ids) x) - 1);

	-- The streets' scores (考核赋分) of every department that handled their
	-- tickets in a month, entered on the third working day after it; the
	-- supervisor locks the month on the fifth.  Every whole month of the period
	-- but the last; one already locked is left alone.
	m := date_trunc('month', p_from)::date; -- the first whole month
	IF m < p_from THEN
		m := (m + interval '1 month')::date;
	END IF;
	WHILE (m + interval '2 months')::date <= p_to LOOP
		-- 10:00 on the fifth working day after the month
		tu := sla_add((m + interval '1 month')::timestamp AT TIME ZONE INTERVAL '+08:00',
			4 * 28800 + 3600);
		EXIT WHEN tu >= v_end;
		n := 0;
		IF NOT EXISTS (SELECT 1 FROM assessment_lock l
				WHERE l.period_from = m AND l.period_to = (m + interval '1 month')::date) THEN
			FOR r IN
				SELECT DISTINCT ht.street_id, h.department_id
				FROM h_event h JOIN h_ticket ht ON ht.id = h.tid
				WHERE h.action = 'dispatch'
					AND h.at >= m::timestamp AT TIME ZONE INTERVAL '+08:00'
					AND h.at < (m + interval '1 month')::timestamp AT TIME ZONE INTERVAL '+08:00'
				ORDER BY 1, 2
			LOOP
				SELECT * INTO STRICT dp FROM h_dept WHERE id = r.department_id;
				-- on the third working day after the month, one after the other
				n := n + 1;
				at := sla_add((m + interval '1 month')::timestamp AT TIME ZONE INTERVAL '+08:00',
					(2 * 28800 + 1800 + n * 900 + random() * 600)::bigint);
				actor := (street_acc->>r.street_id::text)::integer;
				INSERT INTO assessment_score (period_from, period_to, street_id, department_id,
					criterion_id, score, comment, set_by, set_at)
				SELECT m, (m + interval '1 month')::date, r.street_id, r.department_id, sc.id,
					least(100, greatest(40, round((dp.score_base + 4 * pg_temp.h_norm())::numeric * 2) / 2)),
					'', actor, at
				FROM score_criterion sc WHERE sc.active ORDER BY sc.code;
				UPDATE assessment_score s SET comment = CASE
						WHEN dp.score_base >= 90 THEN '响应迅速，处置到位'
						WHEN dp.score_base >= 80 THEN '总体配合较好'
						ELSE '签收和办结多次超时，退单偏多' END
				WHERE s.period_from = m AND s.street_id = r.street_id
					AND s.department_id = r.department_id;
				-- one event per criterion, shaped as st_score_set writes it
				INSERT INTO assessment_event (at, actor_id, action, period_from, period_to,
					street_id, department_id, data)
				SELECT at, actor, 'score_set', m, (m + interval '1 month')::date, r.street_id,
					r.department_id, jsonb_build_object('criterion', sc.code,
						'criterion_id', sc.id, 'old_score', NULL, 'new_score', s.score,
						'old_comment', NULL, 'comment', s.comment)
				FROM assessment_score s JOIN score_criterion sc ON sc.id = s.criterion_id
				WHERE s.period_from = m AND s.street_id = r.street_id
					AND s.department_id = r.department_id
				ORDER BY sc.code;
			END LOOP;
			INSERT INTO assessment_lock (period_from, period_to, locked_at, locked_by)
			VALUES (m, (m + interval '1 month')::date, tu, supervisor);
			-- as st_period_lock writes it: how many scores it froze and their digest
			INSERT INTO assessment_event (at, actor_id, action, period_from, period_to, data)
			SELECT tu, supervisor, 'period_lock', m, (m + interval '1 month')::date,
				jsonb_build_object('scores', dg.n, 'scores_sha256', dg.sha256)
			FROM st_score_digest(m, (m + interval '1 month')::date) dg;
		END IF;
		m := (m + interval '1 month')::date;
	END LOOP;

	DROP TABLE pg_temp.h_ticket, pg_temp.h_event, pg_temp.h_dept;
	DROP SEQUENCE pg_temp.h_ord;
	RETURN k;
END
$$;
