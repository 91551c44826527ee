#!/usr/bin/env bash
# The follower folds the same whatever its batches (sql/functions/80_follow.sql,
# 90_chain.sql).  On a scratch database: the demo's generated history (returns,
# rulings upheld and rejected, before and after the street acted, extensions
# granted and denied, overdue marks, reopens, cancels, urges, urgent tickets;
# sql/demo/history/generate.sql) and the assessment's hand-computed fixture
# (a ruling upheld after the ticket was dispatched again), folded in batches
# of 1 event, of 7 (two batches a transaction) and all at once, each time
# from nothing: assess_step,
# assess_ticket, assess_day, assess_month, both *_hist, assess_export and the
# hash chain (event_hash) must be identical.  Batches of 1 and of 7 cut every
# step and every ruling from the return it rules on, so this checks that what
# the fold carries from one batch to the next is all it needs.
# Needs the cluster of scripts/test (STREETD_TEST_ADMIN_DB, STREETD_TEST_SQL_DIR).
set -euo pipefail
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_SQL_DIR:?run through scripts/test}"
here=$(cd "$(dirname "$0")" && pwd)
migrate="$here/../../scripts/migrate"
db="streetd_fold_$$"
tmp=$(mktemp -d)
admin() { psql -X -q -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB" "$@"; }
scratch() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" "$@"; }
pass=0 fail=0
check() { # name, expected, actual
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
cleanup() {
	admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

admin -c "CREATE DATABASE $db" >/dev/null
"$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" \
	>/dev/null
scratch -v gen="$STREETD_TEST_SQL_DIR/demo/history/generate.sql" \
	-v fixture="$here/fixtures_assessment.sql" >/dev/null <<'EOF'
SET client_min_messages = warning;
SET ROLE streetd_owner;
SET search_path = street;
\i :gen
SELECT pg_temp.demo_history(20261130, '2026-09-01', '2026-09-15', 0.5);
\i :fixture
-- and a ticket with what neither has: an urgent report marked overdue and
-- urged before dispatch, a return ruled on (rejected) after the street sent
-- the ticket back, an overdue mark cleared by a granted extension and set
-- again, a reopen and a second extension
DO $$
DECLARE
	a constant text := 'ta-dept-a';
	t bigint := pg_temp.ta_ticket('ta-grid2', '2025-06-02 09:00+08', 'closed', a, 'confirmed', 4,
		'2025-06-05 15:00+08');
	ev constant text[] := ARRAY[
		-- action, from, to, at (June 2025, UTC+8), actor, department, data
		'report||reported|02 09:00|ta.street2||{"urgent": true, "due_at": "2025-06-02T09:10:00+08:00"}',
		'overdue|reported|reported|02 09:10|||{"due_at": "2025-06-02T09:10:00+08:00"}',
		'urge|reported|reported|02 09:12|ta.super||{"note": "dispatch it"}',
		'dispatch|reported|dispatched|02 09:30|ta.street2|ta-dept-a|{"due_at": "2025-06-02T09:40:00+08:00"}',
		'return|dispatched|reported|02 09:35|ta.dept.a|ta-dept-a|{"reason": "not ours", "due_at": "2025-06-02T09:45:00+08:00"}',
		'dispatch|reported|dispatched|02 10:00|ta.street2|ta-dept-a|{"due_at": "2025-06-02T10:10:00+08:00"}',
		'arbitrate|dispatched|dispatched|02 10:05|ta.super|ta-dept-a|{"upheld": false}',
		'accept|dispatched|accepted|02 10:08|ta.dept.a|ta-dept-a|{"due_at": "2025-06-02T11:08:00+08:00"}',
		'overdue|accepted|accepted|02 11:08||ta-dept-a|{"due_at": "2025-06-02T11:08:00+08:00"}',
		'extend_request|accepted|accepted|02 11:10|ta.dept.a|ta-dept-a|{"until": "2025-06-03T12:00:00+08:00", "reason": "parts"}',
		'extend_grant|accepted|accepted|02 11:20|ta.street2|ta-dept-a|{"until": "2025-06-03T12:00:00+08:00"}',
		'overdue|accepted|accepted|03 12:00||ta-dept-a|{"due_at": "2025-06-03T12:00:00+08:00"}',
		'resolve|accepted|resolved|03 13:00|ta.dept.a|ta-dept-a|{"note": "done", "due_at": "2025-06-03T14:00:00+08:00"}',
		'reopen|resolved|accepted|04 10:00|ta.street2|ta-dept-a|{"reason": "not done", "due_at": "2025-06-04T11:00:00+08:00"}',
		'extend_grant|accepted|accepted|04 10:30|ta.street2|ta-dept-a|{"until": "2025-06-05T11:00:00+08:00"}',
		'resolve|accepted|resolved|05 10:00|ta.dept.a|ta-dept-a|{"note": "done", "due_at": "2025-06-05T11:00:00+08:00"}',
		'confirm|resolved|closed|05 15:00|ta.street2|ta-dept-a|{"rating": 4}'];
	f text[];
	seq bigint;
	ret bigint;
BEGIN
	FOR i IN 1 .. cardinality(ev) LOOP
		f := string_to_array(ev[i], '|');
		seq := pg_temp.ta_ev(t, f[1], nullif(f[2], '')::ticket_state, f[3]::ticket_state,
			('2025-06-' || f[4] || '+08')::timestamptz, nullif(f[5], ''), nullif(f[6], ''),
			CASE WHEN f[1] = 'dispatch' THEN f[7]::jsonb || jsonb_build_object('department_id',
					(SELECT id FROM department WHERE code = a))
				WHEN f[1] = 'arbitrate' THEN f[7]::jsonb || jsonb_build_object('return_seq', ret)
				ELSE f[7]::jsonb END);
		IF f[1] = 'return' THEN
			ret := seq;
		END IF;
	END LOOP;
END
$$;
EOF

# The workload has what the fold treats apart (else this proves little).
check "kinds of events" "arbitrate rejected|arbitrate upheld|cancel|extend_grant|overdue|reopen|report urgent|return|urge" \
	"$(scratch -c "SELECT string_agg(k, '|' ORDER BY k) FROM (SELECT DISTINCT CASE
		WHEN action = 'arbitrate' THEN action || CASE WHEN (data->>'upheld')::boolean
			THEN ' upheld' ELSE ' rejected' END
		WHEN action = 'report' AND (data->>'urgent')::boolean THEN 'report urgent'
		ELSE action END AS k
	FROM street.ticket_event
	WHERE action IN ('arbitrate', 'cancel', 'extend_grant', 'overdue', 'reopen', 'return', 'urge')
		OR (action = 'report' AND (data->>'urgent')::boolean)) x")"
check "rulings both before and after the street acted" "dispatched|reported" \
	"$(scratch -c "SELECT string_agg(DISTINCT from_state::text, '|' ORDER BY from_state::text)
		FROM street.ticket_event WHERE action = 'arbitrate'
			AND from_state IN ('reported', 'dispatched')")"

# Folds everything from nothing in batches of $1 events, $2 batches a
# transaction (the daemon's calls: 1; a caller may make more), then writes
# the tables sorted.
fold() {
	scratch >/dev/null <<EOF
SET client_min_messages = warning;
SET session_replication_role = replica; -- past event_hash's append-only triggers
DELETE FROM street.event_hash;
SET session_replication_role = origin;
UPDATE street.chain_state SET last_seq = 0, head_seq = 0, head = decode(repeat('00', 32), 'hex'),
	probe = NULL, probe_seq = NULL;
TRUNCATE street.assess_step, street.assess_ticket, street.assess_day, street.assess_day_hist,
	street.assess_month, street.assess_month_hist, street.assess_export;
UPDATE street.assess_cursor SET position = 0, hole_seq = NULL, hole_probe = NULL;
CREATE PROCEDURE pg_temp.fold_all(p_batch integer) LANGUAGE plpgsql AS \$\$
DECLARE
	head bigint := (SELECT max(seq) FROM street.ticket_event);
BEGIN
	FOR i IN 1 .. 3 * head LOOP
		FOR j IN 1 .. $2 LOOP
			PERFORM street.st_chain_advance(p_batch);
			PERFORM street.st_rollup_advance(p_batch);
		END LOOP;
		COMMIT;
		EXIT WHEN (SELECT position FROM street.assess_cursor) >= head
			AND (SELECT last_seq FROM street.chain_state) >= head;
	END LOOP;
END
\$\$;
CALL pg_temp.fold_all($1);
EOF
	scratch >"$tmp/fold-$1" <<'EOF'
SELECT 'cursor', position, (SELECT last_seq FROM street.chain_state) FROM street.assess_cursor;
-- ids differ from run to run; a ticket's steps are in the order they started
SELECT 'step', ticket_id, row_number() OVER (PARTITION BY ticket_id ORDER BY id), kind,
	start_seq, started_at, deadline, department_id, charged_department_id, overdue_marked,
	end_seq, ended_at, end_action, met, working_s
FROM street.assess_step ORDER BY ticket_id, 3;
SELECT 'ticket', * FROM street.assess_ticket ORDER BY ticket_id;
SELECT 'day', * FROM street.assess_day ORDER BY day, grid_id, category_id, department_id;
SELECT 'day_hist', * FROM street.assess_day_hist
ORDER BY day, grid_id, category_id, department_id, kind, bucket;
SELECT 'month', * FROM street.assess_month ORDER BY month, street_id, category_id, department_id;
SELECT 'month_hist', * FROM street.assess_month_hist
ORDER BY month, street_id, department_id, kind, bucket;
SELECT 'export', ticket_id, created_at, ended_at, district_id, street_id, category_id,
	department_ids, row_json::text
FROM street.assess_export ORDER BY ticket_id;
SELECT 'hash', seq, prev_seq, encode(hash, 'hex') FROM street.event_hash ORDER BY seq;
EOF
}

fold 1000000 1
head=$(scratch -c "SELECT max(seq) FROM street.ticket_event")
check "all at once: folded and chained to the head" "cursor|$head|$head" "$(grep '^cursor|' "$tmp/fold-1000000")"
check "all at once: a step for every move into a state that has one" \
	"$(scratch -c "SELECT count(*) FROM street.ticket_event WHERE from_state IS DISTINCT FROM
		to_state AND to_state IN ('reported', 'dispatched', 'accepted', 'resolved')")" \
	"$(grep -c '^step|' "$tmp/fold-1000000")"
check "all at once: rows for export" \
	"$(scratch -c "SELECT count(*) FROM street.ticket")" "$(grep -c '^export|' "$tmp/fold-1000000")"
# the chain is the one docs/audit.md defines, computed here one event at a time
check "all at once: the chain's last hash" \
	"$(scratch -c "WITH RECURSIVE c AS (
		(SELECT seq, street.st_chain_hash(decode(repeat('00', 32), 'hex'),
			street.st_event_canonical(e)) AS h
		 FROM street.ticket_event e ORDER BY seq LIMIT 1)
		UNION ALL
		SELECT n.seq, street.st_chain_hash(c.h, street.st_event_canonical(n))
		FROM c CROSS JOIN LATERAL (SELECT * FROM street.ticket_event e WHERE e.seq > c.seq
			ORDER BY e.seq LIMIT 1) n)
		SELECT encode(h, 'hex') FROM c ORDER BY seq DESC LIMIT 1")" \
	"$(grep '^hash|' "$tmp/fold-1000000" | tail -n 1 | cut -d'|' -f4)"
for b in 7 1; do
	fold "$b" "$((b == 7 ? 2 : 1))"
	if cmp -s "$tmp/fold-1000000" "$tmp/fold-$b"; then pass=$((pass + 1)); else
		fail=$((fail + 1))
		echo "FAIL batches of $b differ from one batch:"
		diff "$tmp/fold-1000000" "$tmp/fold-$b" | head -n 40
	fi
done

echo "fold_batches: $pass passed, $fail failed"
[ "$fail" = 0 ]
