-- The assessment's fixture (tests/integration/test_assessment.c computes its
-- figures by hand): a district of its own with two streets, departments
-- ta-dept-a .. ta-dept-e, and tickets with their events at fixed instants of
-- February, March and May 2025 (no calendar exceptions then: working hours
-- are 09:00-17:00, Monday to Friday).  Inserted as they would have been
-- written, state by state; deadlines (data.due_at) are the category's,
-- worked out by hand below.  Loaded from fixtures.sql; runs once.
INSERT INTO district (code, name, name_en) VALUES ('ta-district', '考核区', 'Assessment District')
ON CONFLICT (code) DO NOTHING;
INSERT INTO street (district_id, code, name, name_en)
SELECT d.id, v.code, v.name, v.name_en FROM district d,
	(VALUES ('ta-street1', '考核一街道', 'Assessment Street 1'),
		('ta-street2', '考核二街道', 'Assessment Street 2')) AS v (code, name, name_en)
WHERE d.code = 'ta-district'
ON CONFLICT (code) DO NOTHING;
INSERT INTO community (street_id, code, name, name_en)
SELECT s.id, s.code || '-c', s.name || '社区', s.name_en || ' Community' FROM street s
WHERE s.code IN ('ta-street1', 'ta-street2')
ON CONFLICT (code) DO NOTHING;
INSERT INTO grid (community_id, street_id, code, name, name_en)
SELECT c.id, c.street_id, replace(replace(c.code, '-street', '-grid'), '-c', ''), c.name || '网格', c.name_en || ' Grid'
FROM community c WHERE c.code IN ('ta-street1-c', 'ta-street2-c')
ON CONFLICT (code) DO NOTHING;
-- 1 working hour to dispatch, 2 to accept, 1 working day to resolve, 2 for feedback
INSERT INTO category (code, name, name_en, dispatch_s, accept_s, resolve_s, feedback_s,
	urgent_dispatch_s, urgent_accept_s, urgent_resolve_s, urgent_feedback_s)
VALUES ('ta.cat', '考核类', 'Assessment category', 3600, 7200, 28800, 57600, 600, 600, 3600, 3600)
ON CONFLICT (code) DO NOTHING;
INSERT INTO department (code, name, name_en)
VALUES ('ta-dept-a', '考核甲局', 'Assessment Dept A'), ('ta-dept-b', '考核乙局', 'Assessment Dept B'),
	('ta-dept-c', '考核丙局', 'Assessment Dept C'), ('ta-dept-d', '考核丁局', 'Assessment Dept D'),
	('ta-dept-e', '考核戊局', 'Assessment Dept E')
ON CONFLICT (code) DO NOTHING;
INSERT INTO account (login, name, name_en, role, district_id, street_id, department_id, cert_cn)
SELECT v.login, v.name, v.name_en, v.role::account_role, di.id, s.id, d.id, v.login
FROM (VALUES
	('ta.street1', '考核一街道干部', 'Assessment street 1 staff', 'street', NULL, 'ta-street1', NULL),
	('ta.street2', '考核二街道干部', 'Assessment street 2 staff', 'street', NULL, 'ta-street2', NULL),
	('ta.dept.a', '考核甲局干部', 'Assessment dept A staff', 'department', NULL, NULL, 'ta-dept-a'),
	('ta.dept.b', '考核乙局干部', 'Assessment dept B staff', 'department', NULL, NULL, 'ta-dept-b'),
	('ta.dept.c', '考核丙局干部', 'Assessment dept C staff', 'department', NULL, NULL, 'ta-dept-c'),
	('ta.dept.d', '考核丁局干部', 'Assessment dept D staff', 'department', NULL, NULL, 'ta-dept-d'),
	('ta.dept.e', '考核戊局干部', 'Assessment dept E staff', 'department', NULL, NULL, 'ta-dept-e'),
	('ta.super', '考核区督办', 'Assessment district supervisor', 'supervisor', 'ta-district', NULL, NULL)
) AS v (login, name, name_en, role, district_code, street_code, department_code)
LEFT JOIN district di ON di.code = v.district_code
LEFT JOIN street s ON s.code = v.street_code
LEFT JOIN department d ON d.code = v.department_code
ON CONFLICT DO NOTHING;

-- A ticket as it stands after its last event.
CREATE FUNCTION pg_temp.ta_ticket(p_grid text, p_created timestamptz, p_state ticket_state,
	p_dept text, p_kind text DEFAULT NULL, p_rating integer DEFAULT NULL,
	p_closed timestamptz DEFAULT NULL, p_due timestamptz DEFAULT NULL,
	p_overdue boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
BEGIN
	INSERT INTO ticket (state, category_id, urgent, grid_id, street_id, district_id, description,
		reporter_id, department_id, created_at, updated_at, due_at, overdue, rating, closed_at,
		close_kind)
	SELECT p_state, (SELECT id FROM category WHERE code = 'ta.cat'), false, g.id, g.street_id,
		s.district_id, 'assessment fixture', (SELECT id FROM account WHERE login =
			replace(s.code, '-', '.')), (SELECT id FROM department WHERE code = p_dept),
		p_created, coalesce(p_closed, p_created), p_due, p_overdue, p_rating, p_closed, p_kind
	FROM grid g JOIN street s ON s.id = g.street_id WHERE g.code = p_grid
	RETURNING id INTO STRICT r;
	RETURN r;
END
$$;


-- One event of a ticket; returns its seq.
CREATE FUNCTION pg_temp.ta_ev(p_ticket bigint, p_action text, p_from ticket_state,
	p_to ticket_state, p_at timestamptz, p_actor text, p_dept text, p_data jsonb DEFAULT '{}')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
BEGIN
	INSERT INTO ticket_event (at, ticket_id, actor_id, action, from_state, to_state, version,
		street_id, district_id, reporter_id, department_id, category_id, grid_id, data)
	SELECT p_at, t.id, (SELECT id FROM account WHERE login = p_actor), p_action, p_from, p_to,
		1 + (SELECT count(*) FROM ticket_event e WHERE e.ticket_id = t.id
			AND e.from_state IS DISTINCT FROM e.to_state AND e.action <> 'report')
		+ CASE WHEN p_from IS DISTINCT FROM p_to AND p_action <> 'report' THEN 1 ELSE 0 END,
		t.street_id, t.district_id, t.reporter_id, (SELECT id FROM department WHERE code = p_dept),
		t.category_id, t.grid_id, p_data
	FROM ticket t WHERE t.id = p_ticket
	RETURNING seq INTO STRICT r;
	RETURN r;
END
$$;

DO $$
DECLARE
	t bigint;
	ret bigint;
	a constant text := 'ta-dept-a';
	b constant text := 'ta-dept-b';
	dept text;
	d date;
BEGIN
	IF EXISTS (SELECT 1 FROM ticket t JOIN grid g ON g.id = t.grid_id WHERE g.code = 'ta-grid1') THEN
		RETURN;
	END IF;
	-- T1: everything on time, rated 5
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-03 09:00+08', 'closed', a, 'confirmed', 5, '2025-03-04 10:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-03 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-03T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-03 09:30+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-03T11:30:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-03 10:00+08', 'ta.dept.a', a,
		'{"due_at": "2025-03-04T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-03 15:00+08', 'ta.dept.a', a,
		'{"note": "done", "due_at": "2025-03-05T15:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-04 10:00+08', 'ta.street1', a,
		'{"rating": 5}');

	-- T2: dispatched and accepted late, resolved within a granted extension, rated 2
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-04 09:00+08', 'closed', a, 'confirmed', 2, '2025-03-07 10:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-04 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-04T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-04 11:00+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-04T13:00:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-04 14:00+08', 'ta.dept.a', a,
		'{"due_at": "2025-03-05T14:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'extend_request', 'accepted', 'accepted', '2025-03-05 10:00+08', 'ta.dept.a', a,
		'{"until": "2025-03-06T17:00:00+08:00", "reason": "parts"}');
	PERFORM pg_temp.ta_ev(t, 'extend_grant', 'accepted', 'accepted', '2025-03-05 10:30+08', 'ta.street1', a,
		'{"until": "2025-03-06T17:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-06 16:00+08', 'ta.dept.a', a,
		'{"note": "done", "due_at": "2025-03-10T16:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-07 10:00+08', 'ta.street1', a,
		'{"rating": 2}');

	-- T3: returned by A (not arbitrated: counts), dispatched late to B, auto-closed
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-05 09:00+08', 'closed', b, 'no_feedback', NULL, '2025-03-10 11:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-05 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-05T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-05 09:10+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-05T11:10:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'return', 'dispatched', 'reported', '2025-03-05 10:00+08', 'ta.dept.a', a,
		'{"reason": "not ours", "due_at": "2025-03-05T11:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-05 11:30+08', 'ta.street1', b,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = b), 'due_at', '2025-03-05T13:30:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-05 12:00+08', 'ta.dept.b', b,
		'{"due_at": "2025-03-06T12:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-06 11:00+08', 'ta.dept.b', b,
		'{"note": "done", "due_at": "2025-03-10T11:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'auto_close', 'resolved', 'closed', '2025-03-10 11:00+08', NULL, b, '{}');

	-- T4: returned by A, upheld by the supervisor; B accepts and resolves late
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-06 09:00+08', 'closed', b, 'confirmed', 3, '2025-03-10 09:30+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-06 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-06T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-06 09:30+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-06T11:30:00+08:00'));
	ret := pg_temp.ta_ev(t, 'return', 'dispatched', 'reported', '2025-03-06 10:00+08', 'ta.dept.a', a,
		'{"reason": "not ours", "due_at": "2025-03-06T11:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-06 11:00+08', 'ta.street1', b,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = b), 'due_at', '2025-03-06T13:00:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'overdue', 'dispatched', 'dispatched', '2025-03-06 13:00+08', NULL, b,
		'{"due_at": "2025-03-06T13:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'arbitrate', 'dispatched', 'dispatched', '2025-03-06 14:00+08', 'ta.super', a,
		jsonb_build_object('return_seq', ret, 'upheld', true));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-06 15:00+08', 'ta.dept.b', b,
		'{"due_at": "2025-03-07T15:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'overdue', 'accepted', 'accepted', '2025-03-07 15:00+08', NULL, b,
		'{"due_at": "2025-03-07T15:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-07 16:00+08', 'ta.dept.b', b,
		'{"note": "done", "due_at": "2025-03-11T16:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-10 09:30+08', 'ta.street1', b,
		'{"rating": 3}');

	-- T5: cancelled before dispatch
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-10 09:00+08', 'cancelled', NULL, 'cancelled', NULL, '2025-03-10 09:20+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-10 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-10T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'cancel', 'reported', 'cancelled', '2025-03-10 09:20+08', 'ta.street1', NULL,
		'{"reason": "duplicate"}');

	-- T6: reopened once, urged, rated 4
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-11 09:00+08', 'closed', a, 'confirmed', 4, '2025-03-13 09:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-11 09:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-11T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-11 09:20+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-11T11:20:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-11 09:40+08', 'ta.dept.a', a,
		'{"due_at": "2025-03-12T09:40:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-11 11:40+08', 'ta.dept.a', a,
		'{"note": "done", "due_at": "2025-03-13T11:40:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'reopen', 'resolved', 'accepted', '2025-03-12 10:00+08', 'ta.street1', a,
		'{"reason": "still broken", "due_at": "2025-03-13T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'urge', 'accepted', 'accepted', '2025-03-12 11:00+08', 'ta.street1', a,
		'{"note": "hurry"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-12 16:00+08', 'ta.dept.a', a,
		'{"note": "done again", "due_at": "2025-03-14T16:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-13 09:00+08', 'ta.street1', a,
		'{"rating": 4}');

	-- T7: dispatched on a Friday afternoon, not accepted by the end of March (overdue)
	t := pg_temp.ta_ticket('ta-grid1', '2025-03-28 16:00+08', 'dispatched', a, NULL, NULL, NULL,
		'2025-03-31 10:30+08', true);
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-28 16:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-03-28T17:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-28 16:30+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-31T10:30:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'overdue', 'dispatched', 'dispatched', '2025-03-31 10:30+08', NULL, a,
		'{"due_at": "2025-03-31T10:30:00+08:00"}');

	-- T8: street 2's, all on time, rated 5
	t := pg_temp.ta_ticket('ta-grid2', '2025-03-17 09:00+08', 'closed', a, 'confirmed', 5, '2025-03-17 13:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-03-17 09:00+08', 'ta.street2', NULL,
		'{"urgent": false, "due_at": "2025-03-17T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-03-17 09:30+08', 'ta.street2', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-17T11:30:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-17 10:00+08', 'ta.dept.a', a,
		'{"due_at": "2025-03-18T10:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-17 12:00+08', 'ta.dept.a', a,
		'{"note": "done", "due_at": "2025-03-19T12:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-17 13:00+08', 'ta.street2', a,
		'{"rating": 5}');

	-- T9: reported and dispatched in February, accepted and closed in March, rated 1
	t := pg_temp.ta_ticket('ta-grid1', '2025-02-28 16:00+08', 'closed', a, 'confirmed', 1, '2025-03-03 14:00+08');
	PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', '2025-02-28 16:00+08', 'ta.street1', NULL,
		'{"urgent": false, "due_at": "2025-02-28T17:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', '2025-02-28 16:30+08', 'ta.street1', a,
		jsonb_build_object('department_id', (SELECT id FROM department WHERE code = a), 'due_at', '2025-03-03T10:30:00+08:00'));
	PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', '2025-03-03 09:30+08', 'ta.dept.a', a,
		'{"due_at": "2025-03-04T09:30:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', '2025-03-03 12:00+08', 'ta.dept.a', a,
		'{"note": "done", "due_at": "2025-03-05T12:00:00+08:00"}');
	PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', '2025-03-03 14:00+08', 'ta.street1', a,
		'{"rating": 1}');

	-- May: departments C, D and E get five tickets each from street 2, all on
	-- time; C's and D's are rated 5, E's 1 (the ties test)
	FOREACH dept IN ARRAY ARRAY['ta-dept-c', 'ta-dept-d', 'ta-dept-e'] LOOP
		FOR i IN 0..4 LOOP
			d := date '2025-05-05' + i;
			t := pg_temp.ta_ticket('ta-grid2', (d + time '09:00')::timestamp AT TIME ZONE INTERVAL '+08:00', 'closed', dept,
				'confirmed', CASE WHEN dept = 'ta-dept-e' THEN 1 ELSE 5 END,
				(d + time '11:00')::timestamp AT TIME ZONE INTERVAL '+08:00');
			PERFORM pg_temp.ta_ev(t, 'report', NULL, 'reported', (d + time '09:00')::timestamp AT TIME ZONE INTERVAL '+08:00', 'ta.street2', NULL,
				jsonb_build_object('urgent', false, 'due_at', (d + time '10:00')::timestamp AT TIME ZONE INTERVAL '+08:00'));
			PERFORM pg_temp.ta_ev(t, 'dispatch', 'reported', 'dispatched', (d + time '09:10')::timestamp AT TIME ZONE INTERVAL '+08:00', 'ta.street2', dept,
				jsonb_build_object('department_id', (SELECT id FROM department WHERE code = dept),
					'due_at', (d + time '11:10')::timestamp AT TIME ZONE INTERVAL '+08:00'));
			PERFORM pg_temp.ta_ev(t, 'accept', 'dispatched', 'accepted', (d + time '09:20')::timestamp AT TIME ZONE INTERVAL '+08:00', replace(dept, '-', '.'), dept,
				jsonb_build_object('due_at', (d + 1 + time '09:20')::timestamp AT TIME ZONE INTERVAL '+08:00'));
			PERFORM pg_temp.ta_ev(t, 'resolve', 'accepted', 'resolved', (d + time '10:00')::timestamp AT TIME ZONE INTERVAL '+08:00', replace(dept, '-', '.'), dept,
				jsonb_build_object('note', 'done', 'due_at', (d + 2 + time '10:00')::timestamp AT TIME ZONE INTERVAL '+08:00'));
			PERFORM pg_temp.ta_ev(t, 'confirm', 'resolved', 'closed', (d + time '11:00')::timestamp AT TIME ZONE INTERVAL '+08:00', 'ta.street2', dept,
				jsonb_build_object('rating', CASE WHEN dept = 'ta-dept-e' THEN 1 ELSE 5 END));
		END LOOP;
	END LOOP;

	-- March: the streets score department A (street 1: 83.5 weighted, street 2: 60)
	INSERT INTO assessment_score (period_from, period_to, street_id, department_id, criterion_id,
		score, set_by)
	SELECT '2025-03-01', '2025-04-01', s.id, (SELECT id FROM department WHERE code = a), c.id,
		CASE WHEN s.code = 'ta-street2' THEN 60 ELSE
			CASE c.code WHEN 'response' THEN 80 WHEN 'cooperation' THEN 90 WHEN 'delivery' THEN 70
				ELSE 100 END END,
		(SELECT id FROM account WHERE login = replace(s.code, '-', '.'))
	FROM street s, score_criterion c
	WHERE s.code IN ('ta-street1', 'ta-street2')
		AND c.code IN ('response', 'cooperation', 'delivery', 'attitude');
END
$$;
