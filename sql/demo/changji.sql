-- Demo data modelled on Changji (昌吉市), Xinjiang: one district, two streets,
-- their communities and grids, the city departments, the three problem
-- categories of 街道派单、部门接单 with deadlines, routing rules and one account
-- per role.  docs/demo.md describes it for people trying scripts/run.
--
-- Runs after the migrations, with search_path = street already set (best in
-- one transaction: psql -1).  It runs on every start, so it only adds what is
-- missing: every insert is ON CONFLICT DO NOTHING on the row's natural key,
-- and rows are found by code or login, never by numeric id.  An admin's edits
-- to existing rows (a renamed place, changed deadlines, a rule pointed at
-- another department) are kept; a demo row that was deleted comes back.

-- ---------------------------------------------------------------------------
-- Places: district -> street -> community -> grid
-- ---------------------------------------------------------------------------

INSERT INTO district (code, name, name_en)
VALUES ('changji', '昌吉市', 'Changji City')
ON CONFLICT (code) DO NOTHING;

INSERT INTO street (district_id, code, name, name_en)
SELECT d.id, v.code, v.name, v.name_en
FROM (VALUES
	('jianguolu', '建国路街道', 'Jianguolu Street'),
	('beijingnanlu', '北京南路街道', 'Beijing South Road Street')
) AS v (code, name, name_en)
JOIN district d ON d.code = 'changji'
ON CONFLICT (code) DO NOTHING;

-- The first community of each street is the one the collectors below walk.
INSERT INTO community (street_id, code, name, name_en)
SELECT s.id, v.code, v.name, v.name_en
FROM (VALUES
	('jianguolu', 'jg-yanan', '延安北路社区', 'Yan''an North Road Community'),
	('jianguolu', 'jg-jianguo', '建国路社区', 'Jianguolu Community'),
	('jianguolu', 'jg-wenhua', '文化东路社区', 'Wenhua East Road Community'),
	('beijingnanlu', 'bn-beijingnan', '北京南路社区', 'Beijing South Road Community'),
	('beijingnanlu', 'bn-tunhe', '屯河社区', 'Tunhe Community')
) AS v (street_code, code, name, name_en)
JOIN street s ON s.code = v.street_code
ON CONFLICT (code) DO NOTHING;

-- Grids are numbered within their community: jg-yanan-01 is
-- 延安北路社区第1网格 / Yan'an North Road Community Grid 1.
INSERT INTO grid (community_id, street_id, code, name, name_en)
SELECT c.id, c.street_id,
	v.community_code || '-' || lpad(n::text, 2, '0'),
	c.name || '第' || n || '网格',
	c.name_en || ' Grid ' || n
FROM (VALUES
	('jg-yanan', 3),
	('jg-jianguo', 2),
	('jg-wenhua', 2),
	('bn-beijingnan', 3),
	('bn-tunhe', 2)
) AS v (community_code, grids)
JOIN community c ON c.code = v.community_code
CROSS JOIN LATERAL generate_series(1, v.grids) AS n
ON CONFLICT (code) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Departments
-- ---------------------------------------------------------------------------

INSERT INTO department (code, name, name_en)
VALUES
	('cgj', '城市管理局', 'Urban Management Bureau'),
	('sthj', '生态环境局', 'Ecology and Environment Bureau'),
	('yjgl', '应急管理局', 'Emergency Management Bureau'),
	('scjg', '市场监督管理局', 'Market Supervision Bureau'),
	('zjj', '住房和城乡建设局', 'Housing and Urban-Rural Development Bureau'),
	('zrzy', '自然资源局', 'Natural Resources Bureau'),
	('sw', '水务局', 'Water Bureau')
ON CONFLICT (code) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Categories and their deadlines
-- ---------------------------------------------------------------------------
--
-- Normal tickets count WORKING seconds on the calendar (09:00-17:00, so one
-- working day = 28800 s); urgent tickets count ELAPSED seconds.
--
-- The baseline:        dispatch  accept   resolve           feedback
--   normal (working)   7200 2h   14400 4h 144000 5 days     86400 3 days
--   urgent (elapsed)   1800 30m  3600 1h  86400 24h         86400 24h
-- Departures from it are commented on the category.

-- Top categories.  A ticket may be filed under a top category itself when no
-- sub-category fits, so they carry deadlines too.
INSERT INTO category (parent_id, code, name, name_en, urgent,
	dispatch_s, accept_s, resolve_s, feedback_s,
	urgent_dispatch_s, urgent_accept_s, urgent_resolve_s, urgent_feedback_s)
VALUES
	(NULL, 'construction', '违章违建', 'Illegal construction', false,
		7200, 14400, 144000, 86400, 1800, 3600, 86400, 86400),
	(NULL, 'pollution', '环境污染', 'Environmental pollution', false,
		7200, 14400, 144000, 86400, 1800, 3600, 86400, 86400),
	-- A safety hazard waits less than a nuisance: accept within 2 working
	-- hours, resolve within 3 working days.
	(NULL, 'safety', '安全生产', 'Production safety', false,
		7200, 7200, 86400, 86400, 1800, 3600, 86400, 86400)
ON CONFLICT (code) DO NOTHING;

INSERT INTO category (parent_id, code, name, name_en, urgent,
	dispatch_s, accept_s, resolve_s, feedback_s,
	urgent_dispatch_s, urgent_accept_s, urgent_resolve_s, urgent_feedback_s)
SELECT p.id, v.code, v.name, v.name_en, v.urgent,
	v.dispatch_s, v.accept_s, v.resolve_s, v.feedback_s,
	v.urgent_dispatch_s, v.urgent_accept_s, v.urgent_resolve_s, v.urgent_feedback_s
FROM (VALUES
	-- 违章违建 / illegal construction
	-- Demolishing an unlawful building follows a legal procedure (notice to
	-- the owner, time to answer, order): 10 working days to resolve.
	('construction', 'construction.building', '违法建设', 'Unlawful building', false,
		7200, 14400, 288000, 86400, 1800, 3600, 86400, 86400),
	('construction', 'construction.extension', '私搭乱建', 'Unauthorised sheds and extensions', false,
		7200, 14400, 144000, 86400, 1800, 3600, 86400, 86400),
	-- A stall or an obstruction is cleared on the spot, not by procedure:
	-- 2 working days to resolve.
	('construction', 'construction.road', '占道经营/占用道路', 'Street stalls and road occupation', false,
		7200, 14400, 57600, 86400, 1800, 3600, 86400, 86400),
	-- No routing rule of its own: shows a sub-category inheriting its
	-- parent's rule (construction -> cgj).
	('construction', 'construction.billboard', '违规户外广告', 'Unauthorised outdoor advertising', false,
		7200, 14400, 144000, 86400, 1800, 3600, 86400, 86400),

	-- 环境污染 / environmental pollution
	-- Dust harms while it lasts and covering a pile or wetting a site is
	-- quick: 3 working days.
	('pollution', 'pollution.dust', '扬尘', 'Dust', false,
		7200, 14400, 86400, 86400, 1800, 3600, 86400, 86400),
	-- A fire is put out or gone the same day: accept within 2 working hours,
	-- resolve within 1 working day.
	('pollution', 'pollution.burning', '露天焚烧', 'Open burning', false,
		7200, 7200, 28800, 86400, 1800, 3600, 86400, 86400),
	-- Tracing an outlet and ordering it closed takes the full 5 working days.
	('pollution', 'pollution.water', '污水直排', 'Sewage discharge', false,
		7200, 14400, 144000, 86400, 1800, 3600, 86400, 86400),
	-- Residents lose sleep every night it goes on: 2 working days.
	('pollution', 'pollution.noise', '噪声扰民', 'Noise nuisance', false,
		7200, 14400, 57600, 86400, 1800, 3600, 86400, 86400),
	-- A cleaning crew's job: 2 working days.
	('pollution', 'pollution.garbage', '垃圾乱堆', 'Dumped rubbish', false,
		7200, 14400, 57600, 86400, 1800, 3600, 86400, 86400),

	-- 安全生产 / production safety: accept within 2 working hours, resolve
	-- within 3 working days, like the parent.
	-- A blocked fire lane is cleared the same day: 1 working day.
	('safety', 'safety.fire', '消防通道堵塞/消防隐患', 'Blocked fire lanes and fire hazards', false,
		7200, 7200, 28800, 86400, 1800, 3600, 86400, 86400),
	-- Urgent by default.  A gas hazard can explode: dispatch within 15
	-- minutes, accept (someone on the way) within 30, made safe within 12
	-- hours, day or night.  The normal deadlines apply only if the street
	-- marks a ticket not urgent.
	('safety', 'safety.gas', '燃气安全隐患', 'Gas safety hazards', true,
		7200, 7200, 86400, 86400, 900, 1800, 43200, 86400),
	('safety', 'safety.chemicals', '危险化学品', 'Hazardous chemicals', false,
		7200, 7200, 86400, 86400, 1800, 3600, 86400, 86400),
	('safety', 'safety.site', '建筑施工安全', 'Construction site safety', false,
		7200, 7200, 86400, 86400, 1800, 3600, 86400, 86400),
	('safety', 'safety.equipment', '特种设备/电梯', 'Special equipment and lifts', false,
		7200, 7200, 86400, 86400, 1800, 3600, 86400, 86400)
) AS v (parent_code, code, name, name_en, urgent,
	dispatch_s, accept_s, resolve_s, feedback_s,
	urgent_dispatch_s, urgent_accept_s, urgent_resolve_s, urgent_feedback_s)
JOIN category p ON p.code = v.parent_code
ON CONFLICT (code) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Routing rules: (category, place) -> department
-- ---------------------------------------------------------------------------
--
-- The most specific rule wins: the deeper category first, then the smaller
-- place (grid > community > street > district > city).  A rule with no place
-- covers the whole city.  The conflict target is the unique index
-- routing_rule_one_per_place (one rule per category and place).

-- City-wide rules.
INSERT INTO routing_rule (category_id, department_id)
SELECT c.id, d.id
FROM (VALUES
	-- Illegal construction in general is urban management's (城管执法).
	('construction', 'cgj'),
	-- Unlawful buildings are the housing and construction bureau's, which
	-- issues building permits and orders.
	('construction.building', 'zjj'),
	-- Pollution in general is the ecology and environment bureau's.
	('pollution', 'sthj'),
	-- Dumped rubbish is city cleaning, under urban management.
	('pollution.garbage', 'cgj'),
	-- Sewage outlets and drains are the water bureau's.
	('pollution.water', 'sw'),
	-- Production safety in general is emergency management's.
	('safety', 'yjgl'),
	-- Lifts and other special equipment are inspected by market supervision.
	('safety.equipment', 'scjg'),
	-- Building sites are supervised by the housing and construction bureau.
	('safety.site', 'zjj')
) AS v (category_code, department_code)
JOIN category c ON c.code = v.category_code
JOIN department d ON d.code = v.department_code
ON CONFLICT (category_id, coalesce(district_id, 0), coalesce(street_id, 0),
	coalesce(community_id, 0), coalesce(grid_id, 0)) DO NOTHING;

-- Street rules.
INSERT INTO routing_rule (category_id, street_id, department_id)
SELECT c.id, s.id, d.id
FROM (VALUES
	-- In both streets, noise comes mostly from street vendors, night
	-- markets and loudspeakers at shop doors: urban management's, not the
	-- environment bureau's (beats the city-wide pollution -> sthj).
	('pollution.noise', 'beijingnanlu', 'cgj'),
	('pollution.noise', 'jianguolu', 'cgj')
) AS v (category_code, street_code, department_code)
JOIN category c ON c.code = v.category_code
JOIN street s ON s.code = v.street_code
JOIN department d ON d.code = v.department_code
ON CONFLICT (category_id, coalesce(district_id, 0), coalesce(street_id, 0),
	coalesce(community_id, 0), coalesce(grid_id, 0)) DO NOTHING;

-- Grid rules.
INSERT INTO routing_rule (category_id, grid_id, department_id)
SELECT c.id, g.id, d.id
FROM (VALUES
	-- Grid jg-yanan-01 holds a small workshop zone: noise there is industrial,
	-- the environment bureau's.  Beats the jianguolu street rule (-> cgj), so
	-- the demo shows a grid rule winning over a street rule.
	('pollution.noise', 'jg-yanan-01', 'sthj')
) AS v (category_code, grid_code, department_code)
JOIN category c ON c.code = v.category_code
JOIN grid g ON g.code = v.grid_code
JOIN department d ON d.code = v.department_code
ON CONFLICT (category_id, coalesce(district_id, 0), coalesce(street_id, 0),
	coalesce(community_id, 0), coalesce(grid_id, 0)) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Accounts: one or more per role.  cert_cn = login: the demo certificates are
-- issued with the login as their common name.
-- ---------------------------------------------------------------------------

-- No conflict target: a login or a certificate name already in use (the
-- account exists, or an admin gave its certificate to someone else) both mean
-- "leave it alone".
INSERT INTO account (login, name, name_en, role, district_id, street_id, department_id, cert_cn)
SELECT v.login, v.name, v.name_en, v.role::account_role, di.id, s.id, d.id, v.login
FROM (VALUES
	('wang.fang', '王芳', 'Wang Fang (grid worker)', 'collector', NULL, 'jianguolu', NULL),
	('zhao.lei', '赵磊', 'Zhao Lei (street steward)', 'collector', NULL, 'jianguolu', NULL),
	('li.na', '李娜', 'Li Na (grid worker)', 'collector', NULL, 'beijingnanlu', NULL),
	('zhang.wei', '张伟', 'Zhang Wei (Jianguolu Street office)', 'street', NULL, 'jianguolu', NULL),
	('liu.yang', '刘洋', 'Liu Yang (Beijing South Road Street office)', 'street', NULL, 'beijingnanlu', NULL),
	('chen.jing', '陈静', 'Chen Jing (Urban Management Bureau)', 'department', NULL, NULL, 'cgj'),
	('yang.min', '杨敏', 'Yang Min (Ecology and Environment Bureau)', 'department', NULL, NULL, 'sthj'),
	('huang.qiang', '黄强', 'Huang Qiang (Emergency Management Bureau)', 'department', NULL, NULL, 'yjgl'),
	('zhou.jie', '周杰', 'Zhou Jie (Market Supervision Bureau)', 'department', NULL, NULL, 'scjg'),
	('wu.hao', '吴昊', 'Wu Hao (Housing and Construction Bureau)', 'department', NULL, NULL, 'zjj'),
	('xu.lin', '徐林', 'Xu Lin (Water Bureau)', 'department', NULL, NULL, 'sw'),
	('sun.li', '孙丽', 'Sun Li (Changji supervisor)', 'supervisor', 'changji', NULL, NULL),
	('ma.jun', '马军', 'Ma Jun (city supervisor)', 'supervisor', NULL, NULL, NULL),
	('admin', '系统管理员', 'System administrator', 'admin', NULL, NULL, NULL)
) AS v (login, name, name_en, role, district_code, street_code, department_code)
LEFT JOIN district di ON di.code = v.district_code
LEFT JOIN street s ON s.code = v.street_code
LEFT JOIN department d ON d.code = v.department_code
ON CONFLICT DO NOTHING;

-- The grids each collector walks: all grids of one community.  Only grids in
-- the collector's current street are linked, so that the file still runs if an
-- admin has moved a demo collector to another street.
INSERT INTO account_grid (account_id, street_id, grid_id)
SELECT a.id, a.street_id, g.id
FROM (VALUES
	('wang.fang', 'jg-yanan'),
	('zhao.lei', 'jg-jianguo'),
	('li.na', 'bn-beijingnan')
) AS v (login, community_code)
JOIN account a ON a.login = v.login AND a.role = 'collector'
JOIN community c ON c.code = v.community_code
JOIN grid g ON g.community_id = c.id AND g.street_id = a.street_id
ON CONFLICT (account_id, grid_id) DO NOTHING;

-- ---------------------------------------------------------------------------
-- Open311 (docs/open311.md): where each grid is, and what two categories ask
-- ---------------------------------------------------------------------------

-- Grid boundaries, x = longitude, y = latitude: rectangles around the centre
-- of Changji (44.01 N, 87.30 E), Jianguolu Street west of 87.30 E and Beijing
-- South Road Street east of it, each community a band of latitude split into
-- its grids from west to east.  Neighbours share an edge, none overlap.
INSERT INTO grid_boundary (grid_id, boundary)
SELECT g.id, polygon(box(
	point(v.lon_lo + (v.lon_hi - v.lon_lo) / v.grids * (n - 1), v.lat_lo),
	point(v.lon_lo + (v.lon_hi - v.lon_lo) / v.grids * n, v.lat_hi)))
FROM (VALUES
	('jg-yanan', 3, 44.015, 44.025, 87.280, 87.300),
	('jg-jianguo', 2, 44.005, 44.015, 87.280, 87.300),
	('jg-wenhua', 2, 43.995, 44.005, 87.280, 87.300),
	('bn-beijingnan', 3, 44.010, 44.025, 87.300, 87.320),
	('bn-tunhe', 2, 43.995, 44.010, 87.300, 87.320)
) AS v (community_code, grids, lat_lo, lat_hi, lon_lo, lon_hi)
CROSS JOIN LATERAL generate_series(1, v.grids) AS n
JOIN grid g ON g.code = v.community_code || '-' || lpad(n::text, 2, '0')
ON CONFLICT (grid_id) DO NOTHING;

-- Service definitions: a noise complaint says when it happens (the night
-- patrol or the day shift goes), a fire hazard what kind it is.
INSERT INTO category_attribute (category_id, code, datatype, required, datatype_description,
	ord, description, choices)
SELECT c.id, v.code, v.datatype, v.required, v.datatype_description, v.ord, v.description,
	v.choices::jsonb
FROM (VALUES
	('pollution.noise', 'when', 'singlevaluelist', true, NULL, 1,
		'何时发生 / When does it happen?',
		'[{"key": "day", "name": "白天 / in the daytime"},'
		' {"key": "night", "name": "夜间(22:00-06:00) / at night (22:00-06:00)"},'
		' {"key": "always", "name": "全天 / all day"}]'),
	('pollution.noise', 'source', 'string', false, 'a few words', 2,
		'噪声来源 / What makes the noise?', '[]'),
	('safety.fire', 'hazard', 'multivaluelist', false, NULL, 1,
		'隐患类型 / What kind of hazard?',
		'[{"key": "blocked_lane", "name": "消防通道堵塞 / a blocked fire lane"},'
		' {"key": "blocked_exit", "name": "安全出口堵塞 / a blocked exit"},'
		' {"key": "extinguisher", "name": "灭火器缺失 / missing extinguishers"}]')
) AS v (category_code, code, datatype, required, datatype_description, ord, description, choices)
JOIN category c ON c.code = v.category_code
ON CONFLICT DO NOTHING;
