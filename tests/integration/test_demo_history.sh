#!/usr/bin/env bash
# The demo's generated history (sql/demo/history/generate.sql, docs/demo.md)
# on the test database, inside ONE transaction that is rolled back, so that no
# other suite ever sees it: six weeks of spring 2026 at a quarter of the
# demo's volume.  Checks that every event obeys the rule table for its
# actor's role and relation, that each ticket's events chain (state, version)
# and its row is what its last events leave (state, version, department,
# deadline, overdue mark, counters, rating, closing), that seq order is time
# order, that every kind of event and some open tickets are there, that the
# departments differ as documented, that the first month is scored and locked
# and the last one open, and that the same seed gives the same history (a
# digest of the rows, ids made relative) and another seed another.
# Runs alone (meson: is_parallel false): its transaction holds back the other
# suites' log readers while it runs.
# Needs the cluster of scripts/test (STREETD_TEST_ADMIN_DB, STREETD_TEST_SQL_DIR).
set -euo pipefail
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_SQL_DIR:?run through scripts/test}"
gen="$STREETD_TEST_SQL_DIR/demo/history/generate.sql"
pass=0 fail=0
check() { # name, expected, actual
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}

# Each check prints "name|value"; nothing is committed.
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v gen="$gen" "$STREETD_TEST_ADMIN_DB" <<'EOF'
BEGIN;
SET client_min_messages = warning;
SET ROLE streetd_owner;
SET search_path = street;
\i :gen

-- This transaction's events and tickets (other suites may write meanwhile).
CREATE TEMP VIEW mine_e AS SELECT * FROM ticket_event WHERE xid = pg_current_xact_id();
CREATE TEMP VIEW mine_t AS SELECT * FROM ticket WHERE id IN (SELECT ticket_id FROM mine_e);
-- A digest of everything generated, with ids made relative (ticket n of the
-- run, event n of the run) so that two runs compare.
CREATE FUNCTION pg_temp.t_digest() RETURNS text LANGUAGE sql AS $$
	WITH t AS (SELECT *, row_number() OVER (ORDER BY id) AS n FROM mine_t),
	e AS (SELECT *, row_number() OVER (ORDER BY seq) AS n FROM mine_e)
	SELECT md5(
		(SELECT string_agg(concat_ws('|', t.n, t.state, t.version, t.category_id, t.urgent,
			t.grid_id, t.description, t.address, t.lat, t.lon, t.reporter_id, t.department_id,
			d.n, t.created_at, t.updated_at, t.due_at, t.overdue, t.ext_until, t.rating,
			t.feedback, t.closed_at, t.close_kind, t.return_count, t.reopen_count,
			t.urge_count), E'\n' ORDER BY t.n)
		 FROM t LEFT JOIN t d ON d.id = t.duplicate_of) ||
		(SELECT string_agg(concat_ws('|', e.n, t.n, e.at, e.actor_id, e.action, e.from_state,
			e.to_state, e.version, e.department_id,
			e.data - 'return_seq' - 'duplicate_of', r.n, dt.n), E'\n' ORDER BY e.n)
		 FROM e JOIN t ON t.id = e.ticket_id
		 LEFT JOIN e r ON r.seq = (e.data->>'return_seq')::bigint
		 LEFT JOIN t dt ON dt.id = (e.data->>'duplicate_of')::bigint) ||
		(SELECT coalesce(string_agg(concat_ws('|', period_from, street_id, department_id,
			criterion_id, score, comment, set_by, set_at), E'\n'
			ORDER BY period_from, street_id, department_id, criterion_id), '')
		 FROM assessment_score WHERE period_from >= '2026-04-20' AND period_to <= '2026-06-01'))
$$;

SAVEPOINT fresh;
SELECT pg_temp.demo_history(7, '2026-04-20', '2026-06-01', 0.25) AS n \gset
SELECT 'tickets', count(*) = :n AND :n BETWEEN 150 AND 400 FROM mine_t;

-- The rule table: the action is legal from its from_state for the actor's
-- role (the daemon itself for the sweeper's), and the actor stands in the
-- rule's relation to the ticket as the event records it.
SELECT 'rule breaks', count(*) FROM mine_e e LEFT JOIN account a ON a.id = e.actor_id
WHERE st_next(e.action, e.from_state, coalesce(a.role::text, 'system')) IS DISTINCT FROM e.to_state;
SELECT 'relation breaks', count(*) FROM mine_e e LEFT JOIN account a ON a.id = e.actor_id
JOIN ticket_rule r ON r.action = e.action AND r.from_state IS NOT DISTINCT FROM e.from_state
	AND r.role = coalesce(a.role::text, 'system')
WHERE NOT coalesce(CASE r.relation
	WHEN 'grid' THEN EXISTS (SELECT 1 FROM account_grid g
		WHERE g.account_id = a.id AND g.grid_id = e.grid_id)
	WHEN 'street' THEN e.street_id = a.street_id
	WHEN 'assigned' THEN e.department_id = a.department_id
	WHEN 'reporter' THEN e.reporter_id = a.id
	WHEN 'district' THEN a.district_id IS NULL OR e.district_id = a.district_id
	WHEN 'system' THEN a.id IS NULL
	END, false);
SELECT 'unknown actors', count(*) FROM mine_e e LEFT JOIN account a ON a.id = e.actor_id
WHERE e.actor_id IS NOT NULL AND (a.id IS NULL OR a.login NOT IN ('wang.fang', 'zhao.lei',
	'li.na', 'zhang.wei', 'liu.yang', 'chen.jing', 'yang.min', 'huang.qiang', 'zhou.jie',
	'wu.hao', 'xu.lin', 'sun.li'));

-- Each ticket's events chain: a report at version 1 first, then each event
-- starts where the previous one ended, and a new state is a new version.
SELECT 'chain breaks', count(*) FROM (
	SELECT e.*, lag(to_state) OVER w AS prev_state, lag(version) OVER w AS prev_version,
		row_number() OVER w AS i
	FROM mine_e e WINDOW w AS (PARTITION BY ticket_id ORDER BY seq)) x
WHERE CASE WHEN i = 1 THEN action <> 'report' OR version <> 1
	ELSE from_state IS DISTINCT FROM prev_state
		OR version <> prev_version + (to_state <> from_state)::integer END;

-- Each ticket's row is what its events leave.
SELECT 'row breaks', count(*) FROM mine_t t
CROSS JOIN LATERAL (SELECT * FROM mine_e e WHERE e.ticket_id = t.id ORDER BY seq DESC LIMIT 1) l
CROSS JOIN LATERAL (SELECT * FROM mine_e e WHERE e.ticket_id = t.id
	AND (e.action = 'report' OR e.from_state <> e.to_state) ORDER BY seq DESC LIMIT 1) s
LEFT JOIN LATERAL (SELECT * FROM mine_e e WHERE e.ticket_id = t.id AND e.seq > s.seq
	AND e.action = 'extend_grant' ORDER BY seq DESC LIMIT 1) g ON true
LEFT JOIN LATERAL (SELECT * FROM mine_e e WHERE e.ticket_id = t.id AND e.seq > s.seq
	AND e.action IN ('extend_request', 'extend_grant', 'extend_deny')
	ORDER BY seq DESC LIMIT 1) x ON true
CROSS JOIN LATERAL (SELECT
	count(*) FILTER (WHERE action = 'return') AS returns,
	count(*) FILTER (WHERE action = 'reopen') AS reopens,
	count(*) FILTER (WHERE action = 'urge') AS urges,
	min(at) FILTER (WHERE action = 'report') AS reported,
	bool_or(action = 'overdue' AND seq > s.seq AND seq > coalesce(g.seq, 0)) AS marked
	FROM mine_e e WHERE e.ticket_id = t.id) c
WHERE t.state <> l.to_state OR t.version <> l.version
	OR t.created_at <> c.reported OR t.return_count <> c.returns
	OR t.reopen_count <> c.reopens OR t.urge_count <> c.urges
	OR t.overdue <> coalesce(c.marked, false)
	OR t.due_at IS DISTINCT FROM coalesce((g.data->>'until')::timestamptz,
		(s.data->>'due_at')::timestamptz)
	OR (t.state IN ('dispatched', 'accepted', 'resolved', 'closed')
		AND t.department_id IS DISTINCT FROM l.department_id)
	OR t.closed_at IS DISTINCT FROM CASE WHEN t.state IN ('closed', 'cancelled') THEN s.at END
	OR t.close_kind IS DISTINCT FROM CASE s.action WHEN 'confirm' THEN 'confirmed'
		WHEN 'auto_close' THEN 'no_feedback' WHEN 'cancel' THEN 'cancelled' END
	OR t.rating IS DISTINCT FROM CASE WHEN s.action = 'confirm' THEN (s.data->>'rating')::smallint END
	OR t.ext_until IS DISTINCT FROM CASE WHEN x.action = 'extend_request'
		THEN (x.data->>'until')::timestamptz END
	OR t.duplicate_of IS DISTINCT FROM CASE WHEN s.action = 'cancel'
		THEN (s.data->>'duplicate_of')::bigint END;

-- Times in events' data are written as the daemon writes them (its sessions
-- run in Asia/Shanghai), whatever the session that generated them.
SELECT 'zone breaks', count(*) FROM mine_e e, jsonb_each_text(e.data) AS d(k, v)
WHERE d.k IN ('due_at', 'until', 'current_due_at') AND d.v NOT LIKE '%+08:00';

-- The log in seq order is in time order, and inside the period.
SELECT 'time breaks', count(*) FROM (SELECT at, lag(at) OVER (ORDER BY seq) AS prev FROM mine_e) x
WHERE at < prev;
SELECT 'outside the period', count(*) FROM mine_e
WHERE at < timestamptz '2026-04-20 00:00+08' OR at >= timestamptz '2026-06-01 00:00+08';
SELECT 'rulings point at returns', count(*) = count(r.seq) FROM mine_e a
LEFT JOIN mine_e r ON r.seq = (a.data->>'return_seq')::bigint AND r.action = 'return'
	AND r.ticket_id = a.ticket_id AND r.seq < a.seq
WHERE a.action = 'arbitrate';

-- Every kind of event, and tickets still open at the end.
SELECT 'actions', string_agg(action, ',' ORDER BY action)
FROM (SELECT DISTINCT action FROM mine_e) x;
SELECT 'open at the end', count(*) > 0 FROM mine_t WHERE state NOT IN ('closed', 'cancelled');
-- The departments differ as docs/demo.md says: sthj fast and well rated, zjj not.
SELECT 'sthj above zjj', bool_and(s.rating > z.rating AND s.late < z.late) FROM
	(SELECT avg(t.rating) AS rating, avg(t.return_count + (o.n > 0)::integer) AS late
	 FROM mine_t t JOIN department d ON d.id = t.department_id AND d.code = 'sthj'
	 CROSS JOIN LATERAL (SELECT count(*) AS n FROM mine_e e WHERE e.ticket_id = t.id
		AND e.action = 'overdue') o) s,
	(SELECT avg(t.rating) AS rating, avg(t.return_count + (o.n > 0)::integer) AS late
	 FROM mine_t t JOIN department d ON d.id = t.department_id AND d.code = 'zjj'
	 CROSS JOIN LATERAL (SELECT count(*) AS n FROM mine_e e WHERE e.ticket_id = t.id
		AND e.action = 'overdue') o) z;
-- May (the last month) is open; no whole month before it in the period but
-- none before May either (the period starts on April 20): nothing locked.
SELECT 'locks', count(*) FROM assessment_lock WHERE period_from >= '2026-04-20'
	AND period_to <= '2026-06-01';
SELECT pg_temp.t_digest() AS d1 \gset
ROLLBACK TO SAVEPOINT fresh;
SELECT 'gone after the rollback', count(*) FROM mine_e;

-- Same seed, same history; another seed, another.
SELECT pg_temp.demo_history(7, '2026-04-20', '2026-06-01', 0.25) AS ignored \gset
SELECT 'same seed', pg_temp.t_digest() = :'d1';
ROLLBACK TO SAVEPOINT fresh;
SELECT pg_temp.demo_history(8, '2026-04-20', '2026-06-01', 0.25) AS ignored \gset
SELECT 'another seed', pg_temp.t_digest() <> :'d1';
ROLLBACK TO SAVEPOINT fresh;

-- Scores and locks: a period of two whole months, October and November 2025
-- (out of the way of other suites' periods): October is scored by each
-- street for each department it dispatched to, and locked by the
-- supervisor; November, the last month, stays open.
SELECT pg_temp.demo_history(11, '2025-10-01', '2025-12-01', 0.1) AS ignored \gset
SELECT 'october locked', count(*) FROM assessment_lock l JOIN account a ON a.id = l.locked_by
WHERE l.period_from = '2025-10-01' AND l.period_to = '2025-11-01' AND a.login = 'sun.li'
	AND l.locked_at > timestamptz '2025-11-01 00:00+08';
SELECT 'november open', count(*) FROM assessment_lock WHERE period_from = '2025-11-01';
SELECT 'october scored', count(*) = (SELECT count(DISTINCT (e.street_id, e.department_id))
	* (SELECT count(*) FROM score_criterion WHERE active)
	FROM mine_e e WHERE e.action = 'dispatch' AND e.at >= timestamptz '2025-10-01 00:00+08'
		AND e.at < timestamptz '2025-11-01 00:00+08') AND count(*) > 0
FROM assessment_score WHERE period_from = '2025-10-01' AND period_to = '2025-11-01';
SELECT 'scores by the street', count(*) FROM assessment_score s JOIN account a ON a.id = s.set_by
WHERE s.period_from = '2025-10-01' AND (a.role <> 'street' OR a.street_id <> s.street_id);
SELECT 'score events', count(*) = (SELECT count(*)
	FROM assessment_score WHERE period_from = '2025-10-01')
FROM assessment_event WHERE action = 'score_set' AND period_from = '2025-10-01';
ROLLBACK;
EOF
)

val() { sed -n "s/^$1|//p" <<<"$out"; }
check "the tickets made are the tickets found" t "$(val tickets)"
check "every event follows the rule table" 0 "$(val 'rule breaks')"
check "every actor stands in the rule's relation" 0 "$(val 'relation breaks')"
check "every actor is a demo account" 0 "$(val 'unknown actors')"
check "each ticket's events chain" 0 "$(val 'chain breaks')"
check "each ticket's row is what its events leave" 0 "$(val 'row breaks')"
check "times in the data are in the daemon's zone" 0 "$(val 'zone breaks')"
check "seq order is time order" 0 "$(val 'time breaks')"
check "every event is in the period" 0 "$(val 'outside the period')"
check "every ruling points at an earlier return" t "$(val 'rulings point at returns')"
check "every kind of event" "accept,arbitrate,auto_close,cancel,comment,confirm,dispatch,extend_deny,extend_grant,extend_request,overdue,reopen,report,resolve,return,urge" "$(val actions)"
check "tickets still open at the end" t "$(val 'open at the end')"
check "sthj is rated better and late less often than zjj" t "$(val 'sthj above zjj')"
check "no whole month but the last: nothing locked" 0 "$(val locks)"
check "the rollback leaves nothing" 0 "$(val 'gone after the rollback')"
check "the same seed gives the same history" t "$(val 'same seed')"
check "another seed gives another" t "$(val 'another seed')"
check "October is locked by the supervisor after its end" 1 "$(val 'october locked')"
check "November, the last month, is open" 0 "$(val 'november open')"
check "October is scored for every street and department that worked together" t "$(val 'october scored')"
check "scores are set by the street's office" 0 "$(val 'scores by the street')"
check "one audit event per street and department scored" t "$(val 'score events')"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
