#!/usr/bin/env bash
# The set-up scripts, on a copy of the checkout in a mktemp -d directory (mode
# 0700, which the postgres user cannot traverse):
#   1. every script answers --help (status 0, its usage on stdout) and refuses
#      an unknown argument with status 64 before doing anything (bench/run
#      used to start its 15-minute benchmark on any argument);
#   2. the cluster's socket is not for everyone: a user other than the
#      cluster's owner and root cannot connect to the test cluster (trust
#      authentication would make them a superuser);
#   3. as root, scripts/run works from that copy: its cluster lives in the
#      postgres user's home (var/pg a symlink to it), the socket is 0700,
#      streetd listens on STREETD_LISTEN, and the streetctl command it prints
#      works as printed (with the built streetctl) using the per-account config
#      it wrote; SIGHUP stops the daemon and the cluster and exits 0.
# Part 3 runs the built daemon (STREETD_DAEMON, so the copy builds nothing);
# parts 2 and 3 need root and are skipped otherwise.
set -euo pipefail
: "${STREETD_TEST_DAEMON:?run through meson test}"
: "${STREETD_TEST_STREETCTL:?run through meson test}"
: "${STREETD_SOURCE_ROOT:?run through meson test}"
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_DB:?run through scripts/test}"

src=$STREETD_SOURCE_ROOT
tmp="$(mktemp -d "${TMPDIR:-/tmp}/streetd-scripts.XXXXXX")"
copy="$tmp/checkout"
run_pid=""
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok   $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL $*"
}
check() { # name expected actual
	if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
skip() { echo "SKIP $*"; }

# the cluster scripts/run made in the copy, if any (var/pg is a symlink to it)
copy_cluster() {
	if [[ -L "$copy/var/pg" ]]; then readlink -m "$copy/var/pg"; fi
}
as_pg() { (cd / && runuser -u postgres -- "$@"); }

cleanup() {
	local real
	if [[ -n "$run_pid" ]]; then
		kill -TERM "$run_pid" 2>/dev/null || true
		wait "$run_pid" 2>/dev/null || true
	fi
	real="$(copy_cluster)"
	if [[ -n "$real" && -f "$real/data/postmaster.pid" ]]; then
		as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$real/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	# only the directory this test made, never the rest of ~postgres/streetd-dev
	if [[ -n "$real" && "$real" == */streetd-dev/checkout-var-pg-* ]]; then
		rm -rf -- "$real"
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT

# A copy of what the scripts need, as the working tree has it.
mkdir -p "$copy"
cp -a "$src/scripts" "$src/sql" "$src/bench" "$copy/"

# --- 1. --help and unknown arguments --------------------------------------
# (timeout: a script that ignored its argument could set up, build, or start
# a benchmark; the copy keeps that away from the real checkout)
help_and_refusal() { # script [how to run it]
	local s=$1 out rc
	shift
	rc=0
	out="$(cd "$tmp" && timeout 60 "$@" --help 2>/dev/null)" || rc=$?
	check "$s --help: status" 0 "$rc"
	if grep -q "${s##*/}" <<<"$out"; then ok "$s --help prints its usage"; else
		bad "$s --help: no usage on stdout: '${out:0:200}'"; fi
	rc=0
	(cd "$tmp" && timeout 60 "$@" --no-such-option >/dev/null 2>&1) || rc=$?
	check "$s --no-such-option: status" 64 "$rc"
}
for s in scripts/run scripts/test scripts/pg scripts/tls scripts/migrate scripts/streetd-admin \
	bench/run bench/build; do
	help_and_refusal "$s" "$copy/$s"
done
for s in scripts/lib/common.sh bench/lib.sh bench/measure.sh; do
	help_and_refusal "$s" bash "$copy/$s"
done

rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/run" extra >/dev/null 2>&1) || rc=$?
check "scripts/run with an argument: status" 64 "$rc"
rc=0
(cd "$tmp" && STREETD_LISTEN=127.0.0.1 timeout 60 "$copy/scripts/run" >/dev/null 2>&1) || rc=$?
check "scripts/run with STREETD_LISTEN lacking a port: status" 64 "$rc"
rc=0
(cd "$tmp" && STREETD_LISTEN='[::1]:70000' timeout 60 "$copy/scripts/run" >/dev/null 2>&1) || rc=$?
check "scripts/run with STREETD_LISTEN port 70000: status" 64 "$rc"
rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/test" -C elsewhere >/dev/null 2>&1) || rc=$?
check "scripts/test -C: status" 64 "$rc"
rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/test" --suite >/dev/null 2>&1) || rc=$?
check "scripts/test --suite without its value: status" 64 "$rc"
out="$(cd "$tmp" && timeout 60 "$copy/scripts/test" --help)"
check "scripts/test --help starts with our usage" yes \
	"$([[ "$(head -n 1 <<<"$out")" == "scripts/test — build"* ]] && echo yes || echo no)"
if grep -q -- '--suite SUITE' <<<"$out"; then ok "scripts/test --help lists meson test's options"; else
	bad "scripts/test --help lacks meson test's options"; fi
rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/pg" start "$tmp/pgx" 0 >/dev/null 2>&1) || rc=$?
check "scripts/pg start DIR 0: status" 64 "$rc"
rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/pg" stop >/dev/null 2>&1) || rc=$?
check "scripts/pg stop without DIR: status" 64 "$rc"
rc=0
(cd "$tmp" && timeout 60 "$copy/scripts/tls" --force >/dev/null 2>&1) || rc=$?
check "scripts/tls --force: status" 64 "$rc"
check "scripts/tls --force made no directory" no "$([[ -e "$tmp/--force" ]] && echo yes || echo no)"
rc=0
(cd "$tmp" && timeout 60 "$copy/bench/build" "$tmp/sb" extra >/dev/null 2>&1) || rc=$?
check "bench/build OUT extra: status" 64 "$rc"

if [[ $(id -u) -ne 0 ]]; then
	skip "parts 2 and 3 need root (the postgres user and another one)"
	echo "$pass passed, $fail failed"
	[[ $fail -eq 0 ]]
	exit
fi

# --- 2. nobody else on the test cluster's socket ---------------------------
rc=0
out="$(cd / && runuser -u nobody -- psql -X -At "$STREETD_TEST_ADMIN_DB" -c 'SELECT current_user' 2>&1)" || rc=$?
check "user nobody cannot use the test cluster's socket" 2 "$rc"
if grep -q -i 'permission denied' <<<"$out"; then ok "refused by the socket's permissions"; else
	bad "nobody's psql: '$out'"; fi
check "root still can" streetd "$(psql -X -At "$STREETD_TEST_DB" -c 'SELECT current_user')"

# --- 3. scripts/run from a checkout postgres cannot reach ------------------
check "the copy is out of the postgres user's reach" no \
	"$(as_pg test -x "$copy" && echo yes || echo no)"
pgport="$(psql -X -At "$STREETD_TEST_ADMIN_DB" -c 'SHOW port')" # any port: unix socket only
listen_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$tmp/run.log"
# HUP back to its default: a shell cannot trap a signal ignored when it
# starts, and a test run under nohup would ignore the HUP sent below (the
# run then hung until meson's timeout)
(cd "$tmp" && exec env --default-signal=HUP STREETD_DAEMON="$STREETD_TEST_DAEMON" \
	STREETD_PGPORT="$pgport" STREETD_LISTEN="127.0.0.1:$listen_port" "$copy/scripts/run") \
	>"$log" 2>&1 &
run_pid=$!

# Ready when the daemon accepts connections (the summary is printed before).
ready=no
for ((i = 0; i < 1200; i++)); do
	kill -0 "$run_pid" 2>/dev/null || break
	if grep -q '^try ' "$log" && (exec 3<>"/dev/tcp/127.0.0.1/$listen_port") 2>/dev/null; then
		ready=yes
		break
	fi
	sleep 0.1
done
check "scripts/run starts streetd on STREETD_LISTEN" yes "$ready"
if [[ $ready != yes ]]; then
	tail -n 40 "$log"
	echo "$pass passed, $fail failed"
	exit 1
fi

real="$(copy_cluster)"
check "var/pg is a symlink into ~postgres/streetd-dev" yes \
	"$([[ "$real" == "$(getent passwd postgres | cut -d: -f6)"/streetd-dev/checkout-var-pg-* ]] && echo yes || echo no)"
check "the socket is 0700" 700 "$(stat -c %a "$real/run/.s.PGSQL.$pgport")"
check "one streetctl config per account" \
	"$(psql -X -At "host=$real/run port=$pgport dbname=streetd user=postgres" -c 'SELECT count(*) FROM street.account')" \
	"$(find "$copy/var/streetctl" -name '*.conf' | wc -l)"
check "the config names the listen address" "server = 127.0.0.1|port = $listen_port" \
	"$(grep -E '^(server|port) ' "$copy/var/streetctl/zhang.wei.conf" | paste -sd '|')"

# The line to try, as printed, with the built streetctl for build/clients/streetctl.
read -r -a try <<<"$(sed -n 's/^try  *//p' "$log")"
check "the printed command uses build/clients/streetctl" "$copy/build/clients/streetctl" "${try[0]:-}"
rc=0
out="$("$STREETD_TEST_STREETCTL" "${try[@]:1}" 2>&1)" || rc=$?
check "the printed command works: status" 0 "$rc"
if grep -q 'wang.fang' <<<"$out"; then ok "it says who you are"; else bad "whoami said: '$out'"; fi

# SIGHUP (a closed terminal) stops everything and is a normal way out.
kill -HUP "$run_pid"
rc=0
wait "$run_pid" || rc=$?
run_pid=""
check "scripts/run after SIGHUP: status" 0 "$rc"
check "the cluster was stopped" no "$([[ -f "$real/data/postmaster.pid" ]] && echo yes || echo no)"
check "streetd was stopped" no \
	"$( (exec 3<>"/dev/tcp/127.0.0.1/$listen_port") 2>/dev/null && echo yes || echo no)"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
