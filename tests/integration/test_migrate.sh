#!/usr/bin/env bash
# Migrations on a scratch database: a fresh apply, a second apply that changes
# nothing, and refusal of a database whose schema is newer than this code.
# Needs the cluster of scripts/test (STREETD_TEST_ADMIN_DB, STREETD_TEST_SQL_DIR).
set -euo pipefail
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_SQL_DIR:?run through scripts/test}"
here=$(cd "$(dirname "$0")" && pwd)
migrate="$here/../../scripts/migrate"
db="streetd_migrate_$$"
admin() { psql -X -q -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB" "$@"; }
scratch() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" "$@"; }
pass=0 fail=0
check() { # name, expected, actual
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}
trap 'admin -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

admin -c "CREATE DATABASE $db"
newest=$(find "$STREETD_TEST_SQL_DIR/migrations" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' |
	sort | tail -n 1 | cut -c1-3 | sed 's/^0*//')
count=$(find "$STREETD_TEST_SQL_DIR/migrations" -name '[0-9][0-9][0-9]_*.sql' | wc -l)

out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1)
check "first apply lists every migration" "$count" "$(grep -c '^applied migration' <<<"$out" || true)"
check "schema version" "$newest" "$(scratch -c 'SELECT max(version) FROM street.schema_version')"
before=$(scratch -c "SELECT count(*) || '/' || (SELECT count(*) FROM street.account) || '/' ||
	(SELECT count(*) FROM street.calendar_day) FROM street.schema_version")

out=$("$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --data --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1)
check "second apply is a no-op" "schema is up to date at version $newest" \
	"$(grep -o 'schema is up to date at version [0-9]*' <<<"$out")"
check "nothing doubled" "$before" "$(scratch -c "SELECT count(*) || '/' || (SELECT count(*) FROM
	street.account) || '/' || (SELECT count(*) FROM street.calendar_day) FROM street.schema_version")"

scratch -c "INSERT INTO street.schema_version (version, name) VALUES (999, 'from the future')"
set +e
"$migrate" --sql-dir "$STREETD_TEST_SQL_DIR" -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" >/dev/null 2>&1
rc=$?
set -e
check "a newer schema is refused" 65 "$rc"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
