-- Test-only data on top of the demo: a second district for out-of-scope
-- checks, a disabled account, and a category with tiny deadlines for the
-- sweeper tests.  Loaded by scripts/test after the demo data (search_path street).
INSERT INTO district (code, name, name_en) VALUES ('t-other', '测试区', 'Test District')
ON CONFLICT (code) DO NOTHING;
INSERT INTO street (district_id, code, name, name_en)
SELECT id, 't-other-st', '测试街道', 'Test Street' FROM district WHERE code = 't-other'
ON CONFLICT (code) DO NOTHING;
INSERT INTO community (street_id, code, name, name_en)
SELECT id, 't-other-comm', '测试社区', 'Test Community' FROM street WHERE code = 't-other-st'
ON CONFLICT (code) DO NOTHING;
INSERT INTO grid (community_id, street_id, code, name, name_en)
SELECT id, street_id, 't-other-01', '测试网格', 'Test Grid' FROM community WHERE code = 't-other-comm'
ON CONFLICT (code) DO NOTHING;

INSERT INTO account (login, name, name_en, role, street_id, cert_cn)
SELECT 't.collector.other', '测试网格员', 'Test collector (other district)', 'collector', id,
	't.collector.other'
FROM street WHERE code = 't-other-st'
ON CONFLICT DO NOTHING;
INSERT INTO account_grid (account_id, street_id, grid_id)
SELECT a.id, a.street_id, g.id FROM account a, grid g
WHERE a.login = 't.collector.other' AND g.code = 't-other-01'
ON CONFLICT DO NOTHING;
INSERT INTO account (login, name, name_en, role, street_id, cert_cn)
SELECT 't.street.other', '测试街道干部', 'Test street staff (other district)', 'street', id,
	't.street.other'
FROM street WHERE code = 't-other-st'
ON CONFLICT DO NOTHING;
INSERT INTO account (login, name, name_en, role, district_id, cert_cn)
SELECT 't.supervisor.other', '测试督办', 'Test supervisor (other district)', 'supervisor', id,
	't.supervisor.other'
FROM district WHERE code = 't-other'
ON CONFLICT DO NOTHING;
INSERT INTO account (login, name, name_en, role, street_id, cert_cn, disabled)
SELECT 't.disabled', '停用账号', 'Disabled street staff', 'street', id, 't.disabled', true
FROM street WHERE code = 'jianguolu'
ON CONFLICT DO NOTHING;

-- Accounts that only their own suites touch: t.mover is moved between
-- departments (test_daemon_scope), t.pinned pinned to a CA (test_daemon_pin).
INSERT INTO account (login, name, name_en, role, department_id, cert_cn)
SELECT 't.mover', '调动干部', 'Test department staff who moves', 'department', id, 't.mover'
FROM department WHERE code = 'sthj'
ON CONFLICT DO NOTHING;
INSERT INTO account (login, name, name_en, role, street_id, cert_cn)
SELECT 't.pinned', '固定证书', 'Test street staff pinned to a CA', 'street', id, 't.pinned'
FROM street WHERE code = 'jianguolu'
ON CONFLICT DO NOTHING;

-- Deadlines of a second or two, counted in elapsed time (urgent), so that a
-- test can watch them pass; working-time ones of one second land on the next
-- working second.
INSERT INTO category (code, name, name_en, urgent, dispatch_s, accept_s, resolve_s, feedback_s,
	urgent_dispatch_s, urgent_accept_s, urgent_resolve_s, urgent_feedback_s)
VALUES ('t-tiny', '测试类别', 'Test category with tiny deadlines', true, 1, 1, 1, 1, 1, 1, 1, 1)
ON CONFLICT (code) DO NOTHING;
INSERT INTO routing_rule (category_id, department_id)
SELECT c.id, d.id FROM category c, department d WHERE c.code = 't-tiny' AND d.code = 'cgj'
AND NOT EXISTS (SELECT 1 FROM routing_rule r WHERE r.category_id = c.id);

-- The assessment's own month (tests/integration/test_assessment.c).
\ir fixtures_assessment.sql
