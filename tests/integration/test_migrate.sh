#!/usr/bin/env bash
# Migrations on scratch databases: a fresh apply, a second apply that changes
# nothing, refusal of a database whose schema is newer than this code, the
# functions of sql/functions/ (re-applied every run, leftovers refused), and
# the upgrade of a database made by the code before sql/functions/ existed
# (when git can give that tree) to exactly what a fresh database gets.
# Needs the cluster of scripts/test (STREETD_TEST_ADMIN_DB, STREETD_TEST_SQL_DIR).
set -euo pipefail
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_SQL_DIR:?run through scripts/test}"
here=$(cd "$(dirname "$0")" && pwd)
migrate="$here/../../scripts/migrate"
db="streetd_migrate_$$"
old_db="streetd_migrate_old_$$"
tmp=$(mktemp -d)
admin() { psql -X -q -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB" "$@"; }
scratch() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" "$@"; }
on() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$1" "${@:2}"; }
pass=0 fail=0
check() { # name, expected, actual
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
cleanup() {
	admin -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	admin -c "DROP DATABASE IF EXISTS $old_db" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
# Every function of schema street: signature, privileges, definition.
functions_of() {
	on "$1" -c "SELECT p.oid::regprocedure::text || ' ' ||
		coalesce(array_to_string(p.proacl, ','), '-') || E'\n' || pg_get_functiondef(p.oid)
		FROM pg_proc p WHERE p.pronamespace = 'street'::regnamespace ORDER BY 1"
}
# The privileges of every table and sequence of schema street.
privileges_of() {
	on "$1" -c "SELECT c.relname || ' ' || coalesce(array_to_string(c.relacl, ','), '-')
		FROM pg_class c WHERE c.relnamespace = 'street'::regnamespace
		AND c.relkind IN ('r', 'S', 'v') ORDER BY 1"
}

admin -c "CREATE DATABASE $db"
newest=$(find "$STREETD_TEST_SQL_DIR/migrations" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' |
	sort | tail -n 1 | cut -c1-3 | sed 's/^0*//')
count=$(find "$STREETD_TEST_SQL_DIR/migrations" -name '[0-9][0-9][0-9]_*.sql' | wc -l)

out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1)
check "first apply lists every migration" "$count" "$(grep -c '^applied migration' <<<"$out" || true)"
check "schema version" "$newest" "$(scratch -c 'SELECT max(version) FROM street.schema_version')"
check "the functions are applied" 1 "$(grep -c '^functions applied from' <<<"$out" || true)"
before=$(scratch -c "SELECT count(*) || '/' || (SELECT count(*) FROM street.account) || '/' ||
	(SELECT count(*) FROM street.calendar_day) FROM street.schema_version")
fresh_functions=$(functions_of "$db")

out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1)
check "second apply is a no-op" "schema is up to date at version $newest" \
	"$(grep -o 'schema is up to date at version [0-9]*' <<<"$out")"
check "nothing doubled" "$before" "$(scratch -c "SELECT count(*) || '/' || (SELECT count(*) FROM
	street.account) || '/' || (SELECT count(*) FROM street.calendar_day) FROM street.schema_version")"
check "functions unchanged by a second apply" "$fresh_functions" "$(functions_of "$db")"

# Migrations hold schema only: a function defined there (other than a
# trigger's) would be overwritten or refused by the functions step.
check "no migration defines a function other than a trigger's" "" \
	"$(grep -HiE 'CREATE (OR REPLACE )?FUNCTION' "$STREETD_TEST_SQL_DIR"/migrations/*.sql |
		grep -viE 'RETURNS trigger' || true)"

# A function no file defines is refused, and the run leaves nothing behind.
scratch -c "CREATE FUNCTION street.st_leftover(integer) RETURNS integer LANGUAGE sql AS 'SELECT 1'"
set +e
out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1)
rc=$?
set -e
check "a leftover function is refused" 1 "$((rc != 0))"
check "the refusal names it" 1 "$(grep -c 'st_leftover(integer)' <<<"$out" || true)"
scratch -c "DROP FUNCTION street.st_leftover(integer)"
check "the refused run changed nothing" "$fresh_functions" "$(functions_of "$db")"

# The daemon's role calls and reads; it never advances a sequence.
check "streetd_daemon may advance no sequence" 0 "$(scratch -c "SELECT count(*) FROM (SELECT oid
	FROM pg_class WHERE relnamespace = 'street'::regnamespace AND relkind = 'S' OFFSET 0) c
	WHERE has_sequence_privilege('streetd_daemon', c.oid, 'USAGE')")"
check "streetd_daemon may write no table" 0 "$(scratch -c "SELECT count(*) FROM (SELECT oid
	FROM pg_class WHERE relnamespace = 'street'::regnamespace AND relkind = 'r' OFFSET 0) c
	WHERE has_table_privilege('streetd_daemon', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')")"
check "streetd_daemon may call every function, PUBLIC none" "0/0" "$(scratch -c "SELECT
	count(*) FILTER (WHERE NOT has_function_privilege('streetd_daemon', p.oid, 'EXECUTE'))
	|| '/' || count(*) FILTER (WHERE p.proacl IS NULL OR
		array_to_string(p.proacl, ',') ~ '(^|,)=X')
	FROM pg_proc p WHERE p.pronamespace = 'street'::regnamespace
	AND p.prorettype <> 'trigger'::regtype")"

# Upgrade: a database made by the code before the functions left the
# migrations (main at ded5175), with tickets and idempotency keys in it.
base=ded51755991e3924602e2bb7eae06faccba5ea44
if git -C "$here/../.." cat-file -e "$base^{commit}" 2>/dev/null; then
	git -C "$here/../.." archive "$base" sql scripts | tar -x -C "$tmp"
	admin -c "CREATE DATABASE $old_db"
	"$tmp/scripts/migrate" --sql-dir "$tmp/sql" --data --demo \
		-- -d "$STREETD_TEST_ADMIN_DB dbname=$old_db" >/dev/null
	on "$old_db" -c "SELECT count(*) FROM street.st_report(
		(SELECT id FROM street.account WHERE login = 'wang.fang'),
		(SELECT id FROM street.category WHERE code = 'pollution.dust'),
		(SELECT id FROM street.grid WHERE code = 'jg-yanan-02'), 'old ticket',
		p_key => 'old-key')" >/dev/null
	out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo \
		-- -d "$STREETD_TEST_ADMIN_DB dbname=$old_db" 2>&1) || echo "$out"
	check "upgrade reaches the newest version" "$newest" \
		"$(on "$old_db" -c 'SELECT max(version) FROM street.schema_version')"
	check "upgraded functions are a fresh database's" "$fresh_functions" "$(functions_of "$old_db")"
	check "upgraded privileges are a fresh database's" "$(privileges_of "$db")" \
		"$(privileges_of "$old_db")"
	check "the old ticket is still there" 1 \
		"$(on "$old_db" -c "SELECT count(*) FROM street.ticket WHERE description = 'old ticket'")"
	check "its key still replays" "t" "$(on "$old_db" -c "SELECT replayed FROM street.st_report(
		(SELECT id FROM street.account WHERE login = 'wang.fang'),
		(SELECT id FROM street.category WHERE code = 'pollution.dust'),
		(SELECT id FROM street.grid WHERE code = 'jg-yanan-02'), 'old ticket',
		p_key => 'old-key')")"
else
	echo "SKIP upgrade from $base: no git history here"
fi

scratch -c "INSERT INTO street.schema_version (version, name) VALUES (999, 'from the future')"
set +e
"$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" >/dev/null 2>&1
rc=$?
set -e
check "a newer schema is refused" 65 "$rc"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
