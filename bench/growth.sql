-- bench/growth.sql: add :n tickets, each with a history that is a legal path
-- of the loop, straight into street.ticket and street.ticket_event (as the
-- superuser: the action functions would take hours).  Run by bench/run with
--   psql -v n=1000000 -f bench/growth.sql
-- in one transaction (psql -1).  Tickets are spread over every grid (so both
-- streets), every leaf category, every department and every state, with the
-- columns the CHECK constraints of 001_schema.sql demand:
--   state       share  version  history
--   reported     10%      1     report
--   dispatched   10%      2     + dispatch
--   accepted     15%      3     + accept
--   resolved     10%      4     + resolve
--   closed       50%      5     + confirm (4 in 5 rated) or auto_close
--   cancelled     5%      2     report, cancel
-- One open ticket in four is past its deadline (overdue = true, as the
-- sweeper would have marked it).  created_at spreads over two years, in id
-- order; a ticket's steps are an hour apart and the events go in in time
-- order (seq follows at), so the assessment follower (80_follow.sql) folds
-- two years of months.  The events that start a step carry its deadline
-- (data.due_at, as the actions write it): two hours, or thirty minutes for
-- 10-30% of them depending on the department, so that some steps are late
-- and the departments' rates differ.  The event log is append-only: this
-- only inserts.

SET synchronous_commit = off;
-- Foreign keys are not checked row by row (replica mode skips their triggers,
-- and the event log's append-only triggers, which do not fire on INSERT
-- anyway): every id below is read from the table it refers to.  The CHECK
-- constraints still apply.
SET session_replication_role = replica;
-- the events are sorted by time before they go in
SET work_mem = '256MB';

CREATE TEMP TABLE g_grid AS
SELECT row_number() OVER (ORDER BY g.id) - 1 AS k, g.id AS grid_id, g.street_id,
	s.district_id,
	coalesce((SELECT min(a.id) FROM street.account a
		WHERE a.role = 'collector' AND a.street_id = g.street_id),
		(SELECT min(a.id) FROM street.account a WHERE a.role = 'collector')) AS reporter_id,
	coalesce((SELECT min(a.id) FROM street.account a
		WHERE a.role = 'street' AND a.street_id = g.street_id),
		(SELECT min(a.id) FROM street.account a WHERE a.role = 'street')) AS street_actor
FROM street.grid g JOIN street.street s ON s.id = g.street_id;

CREATE TEMP TABLE g_cat AS
SELECT row_number() OVER (ORDER BY c.id) - 1 AS k, c.id AS category_id
FROM street.category c
WHERE NOT EXISTS (SELECT 1 FROM street.category x WHERE x.parent_id = c.id);

CREATE TEMP TABLE g_dept AS
SELECT row_number() OVER (ORDER BY d.id) - 1 AS k, d.id AS department_id,
	coalesce((SELECT min(a.id) FROM street.account a
		WHERE a.role = 'department' AND a.department_id = d.id),
		(SELECT min(a.id) FROM street.account a WHERE a.role = 'department')) AS dept_actor
FROM street.department d;

-- bucket (g % 20) -> state
CREATE TEMP TABLE g_state (b integer PRIMARY KEY, state street.ticket_state, version integer);
INSERT INTO g_state
SELECT b, CASE
		WHEN b < 2 THEN 'reported'
		WHEN b < 4 THEN 'dispatched'
		WHEN b < 7 THEN 'accepted'
		WHEN b < 9 THEN 'resolved'
		WHEN b < 19 THEN 'closed'
		ELSE 'cancelled' END::street.ticket_state,
	CASE WHEN b < 2 THEN 1 WHEN b < 4 THEN 2 WHEN b < 7 THEN 3 WHEN b < 9 THEN 4
		WHEN b < 19 THEN 5 ELSE 2 END
FROM generate_series(0, 19) AS b;

CREATE TEMP TABLE g_base AS
SELECT coalesce(max(id), 0) AS base FROM street.ticket;

-- The tickets.
INSERT INTO street.ticket (id, state, version, category_id, urgent, grid_id, street_id,
	district_id, description, address, reporter_id, department_id, created_at, updated_at,
	due_at, overdue, rating, feedback, closed_at, close_kind)
OVERRIDING SYSTEM VALUE
SELECT b.base + x.g, st.state, st.version, c.category_id, (x.g % 50 = 0), gr.grid_id,
	gr.street_id, gr.district_id, 'growth ticket ' || x.g, '', gr.reporter_id,
	CASE WHEN st.state IN ('dispatched', 'accepted', 'resolved', 'closed')
		THEN d.department_id END,
	x.created, x.created + interval '1 hour' * st.version,
	CASE WHEN st.state IN ('reported', 'dispatched', 'accepted', 'resolved') THEN
		CASE WHEN x.g % 4 = 0 THEN now() - interval '1 minute' * (1 + x.g % 100000)
			ELSE now() + interval '1 minute' * (1 + x.g % 100000) END END,
	st.state IN ('reported', 'dispatched', 'accepted', 'resolved') AND x.g % 4 = 0,
	CASE WHEN st.state = 'closed' AND x.g % 5 <> 0 THEN 1 + x.g % 5 END,
	CASE WHEN st.state = 'closed' AND x.g % 5 <> 0 THEN 'ok' END,
	CASE WHEN st.state IN ('closed', 'cancelled') THEN x.created + interval '5 hours' END,
	CASE WHEN st.state = 'cancelled' THEN 'cancelled'
		WHEN st.state = 'closed' AND x.g % 5 <> 0 THEN 'confirmed'
		WHEN st.state = 'closed' THEN 'no_feedback' END
FROM g_base b
CROSS JOIN LATERAL (
	SELECT g, now() - interval '730 days' * (1 - g::double precision / :n)
		- interval '1 day' AS created
	FROM generate_series(1, :n) AS g) x
JOIN g_state st ON st.b = x.g % 20
JOIN g_grid gr ON gr.k = x.g % (SELECT count(*) FROM g_grid)
JOIN g_cat c ON c.k = (x.g / 7) % (SELECT count(*) FROM g_cat)
JOIN g_dept d ON d.k = (x.g / 3) % (SELECT count(*) FROM g_dept);

-- Their histories: step k of the path of the ticket's state.
INSERT INTO street.ticket_event (at, ticket_id, actor_id, action, from_state, to_state,
	version, street_id, district_id, reporter_id, department_id, category_id, grid_id, data)
SELECT t.created_at + interval '1 hour' * (s.k - 1), t.id,
	CASE WHEN s.action IN ('report', 'confirm') THEN t.reporter_id
		WHEN s.action IN ('dispatch', 'cancel') THEN gr.street_actor
		WHEN s.action = 'auto_close' THEN NULL
		ELSE d.dept_actor END,
	s.action, s.from_state, s.to_state, s.k, t.street_id, t.district_id, t.reporter_id,
	CASE WHEN s.k > 1 THEN t.department_id END, t.category_id, t.grid_id,
	CASE WHEN s.action = 'confirm' THEN jsonb_build_object('rating', t.rating)
		WHEN s.action IN ('report', 'dispatch', 'accept', 'resolve') THEN
			jsonb_build_object('due_at', t.created_at + interval '1 hour' * (s.k - 1)
				+ CASE WHEN (t.id + s.k) % 10 < 1 + coalesce(t.department_id, 0) % 3
					THEN interval '30 minutes' ELSE interval '2 hours' END)
			|| CASE WHEN s.action = 'report' THEN jsonb_build_object('urgent', t.urgent)
				ELSE '{}' END
		ELSE '{}' END
FROM g_base b
JOIN street.ticket t ON t.id > b.base
JOIN g_grid gr ON gr.grid_id = t.grid_id
LEFT JOIN g_dept d ON d.department_id = t.department_id
JOIN LATERAL (
	SELECT k, a.action, a.from_state::street.ticket_state, a.to_state::street.ticket_state
	FROM (VALUES
		(1, 'report', NULL, 'reported'),
		(2, 'dispatch', 'reported', 'dispatched'),
		(3, 'accept', 'dispatched', 'accepted'),
		(4, 'resolve', 'accepted', 'resolved'),
		(5, CASE WHEN t.close_kind = 'confirmed' THEN 'confirm' ELSE 'auto_close' END,
			'resolved', 'closed')
	) AS a (k, action, from_state, to_state)
	WHERE t.state <> 'cancelled' AND a.k <= t.version
	UNION ALL
	SELECT k, a.action, a.from_state::street.ticket_state, a.to_state::street.ticket_state
	FROM (VALUES
		(1, 'report', NULL, 'reported'),
		(2, 'cancel', 'reported', 'cancelled')
	) AS a (k, action, from_state, to_state)
	WHERE t.state = 'cancelled'
) s ON true
-- in time order, as a live log is (within a ticket, step order too)
ORDER BY t.created_at + interval '1 hour' * (s.k - 1), t.id, s.k;

SELECT setval(pg_get_serial_sequence('street.ticket', 'id'), (SELECT max(id) FROM street.ticket));
