#!/usr/bin/env bash
# streetd as a service (issue 6), end to end:
#   1. `meson install --destdir` lays out the expected files (binary, units,
#      sysusers, tmpfiles, man pages, SQL, migration script, streetd-admin,
#      sample config), and a second install keeps an edited config;
#   2. --check-config: 0 on a good file, 78 naming file:line and key on broken ones;
#   3. the unit's exposure score (systemd-analyze security --offline, <= 1.5);
#   4. systemd-analyze verify on the units, ExecStart pointing at the built binary;
#   5. sd_notify: READY=1 (when the port accepts), STATUS=, RELOADING=1/READY=1
#      on SIGHUP, a withheld WATCHDOG=1 after a stall, STOPPING=1 on SIGTERM;
#   6. socket activation (systemd-socket-activate passes fd 3 the way systemd
#      does) and a TLS client served on it;
#   7. `streetd --migrate` from the installed tree on a scratch database
#      (applies, then no-op, then refuses a newer schema with 65);
#   8. streetd-admin: a CA, certificates, an account; `move`, `pin` (two CAs),
#      revoke-cert + reload end its live sessions; `disable` ends its live
#      session within seconds; a revoked certificate is refused after reload.
# Needs scripts/test's environment (cluster, certificates) and the build
# (STREETD_TEST_DAEMON, STREETD_BUILD_ROOT, STREETD_SOURCE_ROOT from meson).
# A part whose tool is missing (systemd-analyze, systemd-socket-activate) is
# skipped with a message; everything else must pass.
set -euo pipefail
: "${STREETD_TEST_DAEMON:?run through meson test}"
: "${STREETD_BUILD_ROOT:?run through meson test}"
: "${STREETD_SOURCE_ROOT:?run through meson test}"
: "${STREETD_TEST_DB:?run through scripts/test}"
: "${STREETD_TEST_ADMIN_DB:?run through scripts/test}"
: "${STREETD_TEST_TLS_DIR:?run through scripts/test}"
: "${STREETD_TEST_SQL_DIR:?run through scripts/test}"

src=$STREETD_SOURCE_ROOT
daemon=$STREETD_TEST_DAEMON
tls=$STREETD_TEST_TLS_DIR
tmp="$(mktemp -d "${TMPDIR:-/tmp}/streetd-service.XXXXXX")"
db="streetd_service_$$"
pids=()
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
check_match() { # name regex actual
	if [[ "$3" =~ $2 ]]; then ok "$1"; else bad "$1: '$3' does not match /$2/"; fi
}
skip() { echo "SKIP $*"; }
admin_sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB" "$@"; }

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	admin_sql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	if [[ $fail -eq 0 && -z "${STREETD_KEEP_TMP:-}" ]]; then
		rm -rf "$tmp"
	else
		echo "kept $tmp (logs: $tmp/*.log)"
	fi
}
trap cleanup EXIT

cat >"$tmp/helper.py" <<'PY'
"""Helpers for test_service.sh: a notify-socket receiver and a TLS client.

  service_helper.py free-port
      prints a free TCP port on 127.0.0.1

  service_helper.py notify SOCKET OUT PORT [TIMEOUT]
      binds a datagram socket at SOCKET (the daemon's NOTIFY_SOCKET) and writes
      one line per message to OUT (newlines inside a message shown as "|").
      When a message holds READY=1, it also tries a TCP connection to PORT on
      127.0.0.1 and writes "connect-ok" or "connect-failed" right after it.
      Stops after STOPPING=1 (plus one second for stragglers) or TIMEOUT s.

  service_helper.py whoami PORT CA CERT KEY
      TLS as CERT/KEY, sends whoami; prints the account's login and exits 0,
      or prints "refused: ..." and exits 1.

  service_helper.py hold PORT CA CERT KEY OUT [TIMEOUT]
      like whoami, then keeps the session open: writes "ready LOGIN" to OUT,
      waits for the server to close the connection, writes "closed T" (T =
      time.time() then) or "timeout", and exits.
"""
import json
import os
import socket
import ssl
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def notify(path, out, port, timeout=30.0):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    deadline = time.time() + timeout
    stop_at = None
    with open(out, "w", buffering=1) as f:
        while True:
            now = time.time()
            end = min(deadline, stop_at) if stop_at else deadline
            if now >= end:
                break
            s.settimeout(end - now)
            try:
                msg = s.recv(65536).decode("utf-8", "replace")
            except socket.timeout:
                break
            f.write(msg.replace("\n", "|") + "\n")
            fields = msg.split("\n")
            if "READY=1" in fields:
                try:
                    socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
                    f.write("connect-ok\n")
                except OSError as e:
                    f.write("connect-failed %s\n" % e)
            if "STOPPING=1" in fields and stop_at is None:
                stop_at = time.time() + 1.0
    s.close()
    os.unlink(path)


def connect(port, ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=15)
    tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.settimeout(15)
    tls.sendall(b'{"id":1,"op":"whoami"}\n')
    f = tls.makefile("rb")
    line = f.readline()
    if not line:
        raise OSError("connection closed without a reply")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise OSError("error reply: %s" % line.decode().strip())
    return tls, f, reply["result"]["account"]["login"]


def whoami(port, ca, cert, key):
    try:
        tls, _, login = connect(port, ca, cert, key)
    except (OSError, ssl.SSLError, ValueError) as e:
        print("refused: %s" % e)
        return 1
    print(login)
    tls.close()
    return 0


def hold(port, ca, cert, key, out, timeout=20.0):
    with open(out, "w", buffering=1) as o:
        try:
            tls, f, login = connect(port, ca, cert, key)
        except (OSError, ssl.SSLError, ValueError) as e:
            o.write("refused %s\n" % e)
            return 1
        o.write("ready %s\n" % login)
        tls.settimeout(float(timeout))
        try:
            while f.readline():
                pass
            o.write("closed %.3f\n" % time.time())
        except socket.timeout:
            o.write("timeout\n")
        except (OSError, ssl.SSLError):
            o.write("closed %.3f\n" % time.time())
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "free-port":
        free_port()
        return 0
    if cmd == "notify":
        notify(argv[2], argv[3], argv[4], float(argv[5]) if len(argv) > 5 else 30.0)
        return 0
    if cmd == "whoami":
        return whoami(*argv[2:6])
    if cmd == "hold":
        return hold(*argv[2:7], *(argv[7:8] or []))
    print("unknown command", cmd, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
PY
helper() { python3 "$tmp/helper.py" "$@"; }

# write_conf FILE PORT [EXTRA...]: a config for the test cluster and certificates.
write_conf() {
	local file=$1 port=$2
	shift 2
	{
		printf '[server]\nlisten = 127.0.0.1:%s\n' "$port"
		printf '[tls]\ncert = %s\nkey = %s\nca = %s\n' "$tls/server.crt" "$tls/server.key" "$tls/ca.crt"
		printf '[database]\nconninfo = "%s"\npool_size = 2\n' "$STREETD_TEST_DB"
		printf '[sweeper]\nenabled = false\n[log]\nlevel = info\n'
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$file"
}

# wait_for FILE REGEX SECONDS: true once FILE has a line matching REGEX.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		if [[ -f "$1" ]] && grep -qE "$2" "$1"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop PID: SIGTERM, wait (<= 15 s, then SIGKILL); the exit status in $stopped.
stopped=""
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	stopped=0
	wait "$pid" 2>/dev/null || stopped=$?
}

# ---- 1. install layout --------------------------------------------------------
dest="$tmp/dest"
if meson install -C "$STREETD_BUILD_ROOT" --destdir "$dest" --no-rebuild >"$tmp/install.log" 2>&1; then
	ok "meson install --destdir"
else
	bad "meson install --destdir (log: $tmp/install.log)"
	tail -n 20 "$tmp/install.log"
fi
# The directories as meson resolved them.
{
	read -r opt_prefix
	read -r opt_sbindir
	read -r opt_libexecdir
	read -r opt_datadir
	read -r opt_mandir
	read -r opt_sysconfdir
} < <(meson introspect "$STREETD_BUILD_ROOT" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
for k in ("prefix", "sbindir", "libexecdir", "datadir", "mandir", "sysconfdir"):
    print(o[k])
')
under() { # a directory option, absolute
	if [[ "$1" == /* ]]; then echo "$1"; else echo "$opt_prefix/$1"; fi
}
if [[ "$opt_prefix" == /usr ]]; then
	unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
	sysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null || echo /usr/lib/sysusers.d)
	tmpfilesdir=$(pkg-config --variable=tmpfilesdir systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)
else
	unitdir=$opt_prefix/lib/systemd/system
	sysusersdir=$opt_prefix/lib/sysusers.d
	tmpfilesdir=$opt_prefix/lib/tmpfiles.d
fi
sbin=$(under "$opt_sbindir")
libexec=$(under "$opt_libexecdir")/streetd
share=$(under "$opt_datadir")
man=$(under "$opt_mandir")
conf=$(under "$opt_sysconfdir")/streetd
expect_exec=("$sbin/streetd" "$sbin/streetd-admin" "$libexec/streetd-migrate")
expect_file=("$libexec/lib/common.sh" "$share/streetd/sql/bootstrap.sql"
	"$share/streetd/sql/data/calendar_cn.sql" "$unitdir/streetd.service" "$unitdir/streetd.socket"
	"$sysusersdir/streetd.conf" "$tmpfilesdir/streetd.conf" "$man/man8/streetd.8"
	"$man/man5/streetd.conf.5" "$man/man8/streetd-admin.8"
	"$share/doc/streetd/examples/streetd.conf" "$conf/streetd.conf")
for f in "$src"/sql/migrations/*.sql; do
	expect_file+=("$share/streetd/sql/migrations/$(basename "$f")")
done
if [[ -f "$src/clients/streetctl.1" ]]; then
	expect_file+=("$man/man1/streetctl.1")
fi
missing=()
for f in "${expect_exec[@]}"; do
	[[ -f "$dest$f" && -x "$dest$f" ]] || missing+=("$f (executable)")
done
for f in "${expect_file[@]}"; do
	[[ -f "$dest$f" ]] || missing+=("$f")
done
check "installed files (${#expect_exec[@]} programs, ${#expect_file[@]} files)" "" "${missing[*]}"
check "installed config is 0640" 640 "$(stat -c %a "$dest$conf/streetd.conf" 2>/dev/null)"
check "installed unit starts the installed binary" \
	"ExecStart=$sbin/streetd -c $conf/streetd.conf --set tls.key=%d/server.key" \
	"$(grep '^ExecStart=' "$dest$unitdir/streetd.service" 2>/dev/null)"
check "installed tmpfiles snippet names the installed config" \
	"z $conf/streetd.conf 0640 root streetd -" \
	"$(grep '^z .*streetd.conf ' "$dest$tmpfilesdir/streetd.conf" 2>/dev/null)"
check "sysusers snippet" 'u streetd - "streetd daemon" /var/lib/streetd' \
	"$(grep '^u ' "$dest$sysusersdir/streetd.conf" 2>/dev/null)"
echo "# edited by the admin" >>"$dest$conf/streetd.conf"
meson install -C "$STREETD_BUILD_ROOT" --destdir "$dest" --no-rebuild >>"$tmp/install.log" 2>&1 || true
check "a second install keeps the admin's config" "# edited by the admin" "$(tail -n 1 "$dest$conf/streetd.conf")"
if have_man=$(command -v man) && [[ -n "$have_man" ]]; then
	for page in "$dest$man/man8/streetd.8" "$dest$man/man5/streetd.conf.5" "$dest$man/man8/streetd-admin.8"; do
		warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
		check "man page $(basename "$page") renders without warnings" "" "$warn"
	done
fi

# streetd.conf(5) lists every key of docs/config.md with the same type, default
# and reload flag.
keys_md=$(python3 - "$src/docs/config.md" <<'PY'
import re, sys
section = None
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^### \[(\w+)\]", line)
    if m:
        section = m.group(1)
        continue
    m = re.match(r"^\| `(\w+)` \| ([^|]+?) \| `([^`]*)` \|([^|]*)\| \**(yes|no)\**", line)
    if m and section:
        print("%s.%s|%s|%s|%s|%s" % (section, m.group(1), m.group(2), m.group(3),
                                     m.group(4).strip().replace("`", ""), m.group(5)))
PY
)
keys_man=$(python3 - "$src/docs/man/streetd.conf.5" <<'PY'
import re, sys
section = key = None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    m = re.match(r"^\.SS \[(\w+)\]", line)
    if m:
        section = m.group(1)
        continue
    if line.startswith(".SH"):
        section = None
    m = re.match(r"^\.B (\w+)$", line)
    if m and section:
        key, typ, default, rng = m.group(1), None, None, ""
        continue
    m = re.match(r"^Type: (.+)\.$", line)
    if m and key:
        typ = m.group(1)
    m = re.match(r"^Default: \\fB(.*)\\fR\.$", line)
    if m and key:
        default = m.group(1)
    m = re.match(r"^Range: (.+)\.$", line)
    if m and key:
        rng = m.group(1)
    m = re.match(r"^Reload: (yes|no)\.$", line)
    if m and key:
        print("%s.%s|%s|%s|%s|%s" % (section, key, typ, default, rng, m.group(1)))
        key = None
PY
)
nkeys=$(grep -c . <<<"$keys_md" || true)
check "streetd.conf(5) documents the $nkeys keys of docs/config.md alike (type, default, range, reload)" \
	"$keys_md" "$keys_man"
if [[ $nkeys -lt 20 ]]; then
	bad "docs/config.md: only $nkeys keys parsed (the table format changed?)"
fi

# ---- 2. --check-config ---------------------------------------------------------
port=$(helper free-port)
write_conf "$tmp/good.conf" "$port"
rc=0
out=$("$daemon" -c "$tmp/good.conf" --check-config 2>&1) || rc=$?
check "--check-config on a good file: status" 0 "$rc"
check "--check-config on a good file: message" "$tmp/good.conf: configuration OK" "$out"

printf '[server]\nlisten = 127.0.0.1:7443\n[limits]\nmax_line = 64XB\n' >"$tmp/bad-size.conf"
rc=0
out=$("$daemon" -c "$tmp/bad-size.conf" --check-config 2>&1) || rc=$?
check "--check-config on a bad value: status" 78 "$rc"
check_match "--check-config on a bad value: file, line and key" \
	'bad-size\.conf:4: \[limits\] max_line: "64XB" is not a size' "$out"

printf '[server]\nlisten = 127.0.0.1:7443\nlisten_backlog = 5\n' >"$tmp/bad-key.conf"
rc=0
out=$("$daemon" -c "$tmp/bad-key.conf" --check-config 2>&1) || rc=$?
check "--check-config on an unknown key: status" 78 "$rc"
check_match "--check-config on an unknown key: file, line and key" \
	'bad-key\.conf:3: .*listen_backlog' "$out"

rc=0
out=$("$daemon" -c "$tmp/good.conf" --set limits.idle_timeout=10 --check-config 2>&1) || rc=$?
check "--check-config on a bad --set: status" 78 "$rc"

# The sample as installed parses (TLS paths pointed at real files).
rc=0
out=$("$daemon" -c "$dest$share/doc/streetd/examples/streetd.conf" --set "tls.cert=$tls/server.crt" \
	--set "tls.key=$tls/server.key" --set "tls.ca=$tls/ca.crt" --check-config 2>&1) || rc=$?
check "--check-config on the installed sample" 0 "$rc"

# A key the way systemd 252 hands it over (LoadCredential=: mode 0400, owned by
# the service user) is accepted.
mkdir -m 0700 "$tmp/credentials"
cp "$tls/server.key" "$tmp/credentials/server.key"
chmod 0400 "$tmp/credentials/server.key"
rc=0
out=$("$daemon" -c "$tmp/good.conf" --set "tls.key=$tmp/credentials/server.key" --check-config 2>&1) || rc=$?
check "a credential key (mode 0400) is accepted" 0 "$rc"

# ---- 3. exposure score ---------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	rc=0
	out=$(systemd-analyze security --offline=true --threshold=15 "$src/systemd/streetd.service" 2>&1) || rc=$?
	score=$(grep -o 'Overall exposure level for streetd.service: [0-9.]*' <<<"$out" | grep -o '[0-9.]*$' || true)
	check "exposure score <= 1.5 (it is ${score:-?})" 0 "$rc"
	check_match "the score is OK" 'exposure level for streetd.service: [0-9.]+ OK' "$out"
else
	skip "exposure score: systemd-analyze is not installed (apt-get install systemd)"
fi
check "the unit grants no capabilities" "CapabilityBoundingSet=|AmbientCapabilities=" \
	"$(grep -E '^(CapabilityBoundingSet|AmbientCapabilities)=' "$src/systemd/streetd.service" | paste -sd '|')"

# ---- 4. systemd-analyze verify -------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	for u in streetd.service streetd.socket; do
		sed "s|/usr/sbin/streetd|$daemon|g" "$src/systemd/$u" >"$tmp/units/$u"
	done
	rc=0
	out=$(cd "$tmp/units" && systemd-analyze verify --man=no ./streetd.service ./streetd.socket 2>&1) || rc=$?
	check "systemd-analyze verify on the units: status" 0 "$rc"
	check "systemd-analyze verify on the units: no complaint" "" "$out"
else
	skip "systemd-analyze verify: systemd-analyze is not installed"
fi

# ---- 5. sd_notify ----------------------------------------------------------------
port=$(helper free-port)
write_conf "$tmp/notify.conf" "$port"
helper notify "$tmp/notify.sock" "$tmp/notify.txt" "$port" 40 &
receiver=$!
pids+=("$receiver")
wait_for_socket() { for ((i = 0; i < 50; i++)); do [[ -S "$1" ]] && return 0; sleep 0.1; done; return 1; }
wait_for_socket "$tmp/notify.sock" || bad "the notify receiver did not start"
# WATCHDOG_USEC=2 s: a ping every second while the loop turns.
NOTIFY_SOCKET="$tmp/notify.sock" WATCHDOG_USEC=2000000 "$daemon" -c "$tmp/notify.conf" 2>"$tmp/notify.log" &
dpid=$!
pids+=("$dpid")
if wait_for "$tmp/notify.txt" '^READY=1' 15; then
	ok "READY=1 sent"
else
	bad "no READY=1 within 15 s"
fi
wait_for "$tmp/notify.txt" '^connect-' 5 || true
check "the port accepts connections when READY=1 arrives" connect-ok \
	"$(grep -m1 -o '^connect-[a-z]*' "$tmp/notify.txt")"
check_match "READY=1 comes with a STATUS= naming the database" \
	'^READY=1\|STATUS=[0-9]+ sessions, [0-9]+ subscribed; database [1-9][0-9]* of 2 connections ready; deadline sweeper: off$' \
	"$(grep -m1 '^READY=1' "$tmp/notify.txt")"
wait_for "$tmp/notify.txt" '^WATCHDOG=1' 5 || true
check "WATCHDOG=1 pings" yes "$(grep -q '^WATCHDOG=1' "$tmp/notify.txt" && echo yes || echo no)"
kill -HUP "$dpid"
wait_for "$tmp/notify.log" 'reloaded' 10 || bad "no reload logged"
for ((i = 0; i < 50; i++)); do
	[[ $(grep -c '^READY=1' "$tmp/notify.txt") -ge 2 ]] && break
	sleep 0.1
done
# A stall: the stopped loop cannot ping; once it runs again, the late timer
# withholds its ping and says why.
kill -STOP "$dpid"
sleep 2.5
kill -CONT "$dpid"
if wait_for "$tmp/notify.log" 'event loop stalled: watchdog timer [0-9]+ ms late' 5; then
	ok "a stalled loop withholds WATCHDOG=1 (and logs it)"
else
	bad "no 'event loop stalled' after a 2.5 s stop"
fi
stop "$dpid"
check "SIGTERM: exit status" 0 "$stopped"
wait "$receiver" 2>/dev/null || true
seq=$(grep -oE '^(READY=1|RELOADING=1|STOPPING=1)' "$tmp/notify.txt" | paste -sd ' ')
check "notifications in order" "READY=1 RELOADING=1 READY=1 STOPPING=1" "$seq"
check_match "STOPPING=1 says it is shutting down" '^STOPPING=1\|STATUS=shutting down' \
	"$(grep -m1 '^STOPPING=1' "$tmp/notify.txt")"
check "STATUS= before READY=1 says it waits for the database" yes \
	"$(sed -n '1,/^READY=1/p' "$tmp/notify.txt" | grep -q 'STATUS=starting: waiting for the database' && echo yes || echo no)"
# Without NOTIFY_SOCKET nothing changes (the other suites run it that way).

# ---- 6. socket activation -------------------------------------------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
	port=$(helper free-port)
	unused=$(helper free-port)
	write_conf "$tmp/activate.conf" "$unused"
	systemd-socket-activate -l "127.0.0.1:$port" "$daemon" -c "$tmp/activate.conf" 2>"$tmp/activate.log" &
	apid=$!
	pids+=("$apid")
	wait_for "$tmp/activate.log" "Listening on 127.0.0.1:$port" 10 || true
	# The first connection starts the daemon; it waits in the socket's queue
	# until the daemon has its database and serves the socket.
	out=$(helper whoami "$port" "$tls/ca.crt" "$tls/wang.fang.crt" "$tls/wang.fang.key" 2>&1 || true)
	check "a TLS client is served on the socket passed as fd 3" wang.fang "$out"
	check_match "the daemon logs that it serves systemd's socket" \
		"listening address=127\.0\.0\.1:$port on the socket passed by systemd" "$(cat "$tmp/activate.log")"
	rc=0
	out=$(helper whoami "$unused" "$tls/ca.crt" "$tls/wang.fang.crt" "$tls/wang.fang.key" 2>&1) || rc=$?
	check "server.listen is not bound under socket activation" 1 "$rc"
	stop "$apid"
	check "socket-activated daemon: SIGTERM exit status" 0 "$stopped"
else
	skip "socket activation: systemd-socket-activate is not installed (apt-get install systemd)"
fi

# ---- 7. --migrate from the installed tree -----------------------------------------
admin_sql -c "CREATE DATABASE $db" >/dev/null
mig=(env "STREETD_MIGRATE_PROGRAM=$dest$libexec/streetd-migrate"
	"STREETD_SQL_DIR=$dest$share/streetd/sql" "$dest$sbin/streetd")
newest=$(find "$src/sql/migrations" -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -n 1 |
	cut -c1-3 | sed 's/^0*//')
rc=0
out=$("${mig[@]}" --migrate --migrate-conninfo "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1) || rc=$?
check "--migrate on an empty database: status" 0 "$rc"
check_match "--migrate applies every migration and the calendar" \
	"schema is now at version $newest .*loaded data data/calendar_cn.sql" "$(tr '\n' ' ' <<<"$out")"
rc=0
out=$("${mig[@]}" --migrate --migrate-conninfo "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1) || rc=$?
check "--migrate again: nothing to do" "0 schema is up to date at version $newest" \
	"$rc $(grep -o 'schema is up to date at version [0-9]*' <<<"$out")"
psql -X -q -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" \
	-c "INSERT INTO street.schema_version (version, name) VALUES (999, 'from the future')"
rc=0
out=$("${mig[@]}" --migrate --migrate-conninfo "$STREETD_TEST_ADMIN_DB dbname=$db" 2>&1) || rc=$?
check "--migrate refuses a newer database" 65 "$rc"
check_match "--migrate says why" "schema is at version 999, newer than" "$out"
psql -X -q -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" \
	-c "DELETE FROM street.schema_version WHERE version = 999"

# ---- 8. streetd-admin ---------------------------------------------------------------
sa=("$dest$sbin/streetd-admin")
sadb=("${sa[@]}" -d "$STREETD_TEST_ADMIN_DB dbname=$db")
ca="$tmp/ca"
"$src/scripts/migrate" --sql-dir "$STREETD_TEST_SQL_DIR" --demo -- -d "$STREETD_TEST_ADMIN_DB dbname=$db" \
	>"$tmp/demo.log" 2>&1 || bad "loading the demo into $db"
rc=0
{
	"${sa[@]}" ca-init "$ca" --org "streetd test" &&
		"${sa[@]}" server-cert "$ca" localhost 127.0.0.1 ::1 &&
		"${sadb[@]}" add-account --login li.qiang --name 李强 --name-en "Li Qiang" \
			--role collector --street jianguolu --grid jg-yanan-01 &&
		"${sa[@]}" client-cert "$ca" li.qiang
} >"$tmp/admin.log" 2>&1 || rc=$?
check "streetd-admin: CA, server and client certificates, account" 0 "$rc"
rc=0
"${sa[@]}" ca-init "$ca" >>"$tmp/admin.log" 2>&1 || rc=$?
check "streetd-admin ca-init refuses to overwrite a CA" 73 "$rc"
rc=0
"${sadb[@]}" add-account --login li.qiang --name x --name-en x --role collector --street jianguolu \
	>>"$tmp/admin.log" 2>&1 || rc=$?
check "streetd-admin add-account refuses a duplicate" 65 "$rc"
rc=0
"${sadb[@]}" add-account --login x.y --name x --name-en x --role department >>"$tmp/admin.log" 2>&1 || rc=$?
check "streetd-admin add-account refuses a department without one" 64 "$rc"
check "the account as stored" "collector|jianguolu|jg-yanan-01|f" \
	"$(psql -X -At "$STREETD_TEST_ADMIN_DB dbname=$db" -c "SELECT a.role, s.code, g.code, a.disabled
		FROM street.account a JOIN street.street s ON s.id = a.street_id
		JOIN street.account_grid ag ON ag.account_id = a.id JOIN street.grid g ON g.id = ag.grid_id
		WHERE a.login = 'li.qiang'")"

port=$(helper free-port)
tls=$ca write_conf "$tmp/admin.conf" "$port" "[tls]" "crl = $ca/crl.pem"
sed -i "s|conninfo = \"$STREETD_TEST_DB\"|conninfo = \"$STREETD_TEST_DB dbname=$db\"|" "$tmp/admin.conf"
"$daemon" -c "$tmp/admin.conf" 2>"$tmp/admin-daemon.log" &
dpid=$!
pids+=("$dpid")
wait_for "$tmp/admin-daemon.log" 'listening address=' 15 || bad "the daemon for streetd-admin did not listen"
client=("$ca/ca.crt" "$ca/li.qiang.crt" "$ca/li.qiang.key")
helper hold "$port" "${client[@]}" "$tmp/hold.txt" 20 &
hpid=$!
pids+=("$hpid")
wait_for "$tmp/hold.txt" '^(ready|refused)' 15 || true
check "the new account connects with its new certificate" "ready li.qiang" "$(head -n 1 "$tmp/hold.txt")"
t0=$(date +%s.%N)
"${sadb[@]}" disable li.qiang >>"$tmp/admin.log" 2>&1 || bad "streetd-admin disable"
wait "$hpid" 2>/dev/null || true
closed=$(sed -n 's/^closed //p' "$tmp/hold.txt")
if [[ -n "$closed" ]]; then
	secs=$(python3 -c "print('%.1f' % ($closed - $t0))")
	check "disable ends the live session within 5 s (took $secs s)" yes \
		"$(python3 -c "print('yes' if $closed - $t0 <= 5 else 'no')")"
else
	bad "disable: the live session stayed open ($(tail -n 1 "$tmp/hold.txt"))"
fi
rc=0
helper whoami "$port" "${client[@]}" >/dev/null 2>&1 || rc=$?
check "a disabled account cannot connect" 1 "$rc"
"${sadb[@]}" enable li.qiang >>"$tmp/admin.log" 2>&1 || bad "streetd-admin enable"
check "an enabled account connects again" li.qiang "$(helper whoami "$port" "${client[@]}" 2>&1)"
# move: the live session is closed at once, the account has its new scope
sadb_sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$STREETD_TEST_ADMIN_DB dbname=$db" "$@"; }
helper hold "$port" "${client[@]}" "$tmp/hold-move.txt" 20 &
hpid=$!
pids+=("$hpid")
wait_for "$tmp/hold-move.txt" '^(ready|refused)' 15 || true
check "move: connected first" "ready li.qiang" "$(head -n 1 "$tmp/hold-move.txt")"
"${sadb[@]}" move li.qiang --street beijingnanlu >>"$tmp/admin.log" 2>&1 || bad "streetd-admin move"
wait "$hpid" 2>/dev/null || true
check_match "move ends the live session" '^closed ' "$(sed -n 2p "$tmp/hold-move.txt")"
check "move: the new street, the old grids gone" "collector|beijingnanlu|0" \
	"$(sadb_sql -c "SELECT a.role, s.code, (SELECT count(*) FROM street.account_grid g WHERE g.account_id = a.id)
		FROM street.account a JOIN street.street s ON s.id = a.street_id WHERE a.login = 'li.qiang'")"
check "move: connects again" li.qiang "$(helper whoami "$port" "${client[@]}" 2>&1)"
rc=0
"${sadb[@]}" move li.qiang --role department >>"$tmp/admin.log" 2>&1 || rc=$?
check "move refuses a department without one" 64 "$rc"
rc=0
"${sadb[@]}" move li.qiang --street no-such-street >>"$tmp/admin.log" 2>&1 || rc=$?
check "move refuses an unknown street" 65 "$rc"
rc=0
"${sadb[@]}" move li.qiang --street jianguolu --grid bn-beijingnan-01 >>"$tmp/admin.log" 2>&1 || rc=$?
check "move refuses a grid outside the street" 65 "$rc"
"${sadb[@]}" move li.qiang --street jianguolu --grid jg-yanan-01 >>"$tmp/admin.log" 2>&1 ||
	bad "streetd-admin move back with a grid"
check "move back: street and grid" "jianguolu|jg-yanan-01" \
	"$(sadb_sql -c "SELECT s.code, g.code FROM street.account a JOIN street.street s ON s.id = a.street_id
		JOIN street.account_grid ag ON ag.account_id = a.id JOIN street.grid g ON g.id = ag.grid_id
		WHERE a.login = 'li.qiang'")"
"${sadb[@]}" move li.qiang --role supervisor --city >>"$tmp/admin.log" 2>&1 || bad "move to supervisor"
check "move: a city-wide supervisor" "supervisor|||0" \
	"$(sadb_sql -c "SELECT a.role, a.street_id, a.district_id, (SELECT count(*) FROM street.account_grid g
		WHERE g.account_id = a.id) FROM street.account a WHERE a.login = 'li.qiang'")"
"${sadb[@]}" move li.qiang --role collector --street jianguolu --grid jg-yanan-01 >>"$tmp/admin.log" 2>&1 ||
	bad "move back to collector"

# pin: a second CA in tls.ca (a changeover) mints li.qiang's CN; the pin refuses it
ca2="$tmp/ca2"
"${sa[@]}" ca-init "$ca2" --org "streetd test" >>"$tmp/admin.log" 2>&1 || bad "a second CA"
"${sa[@]}" client-cert "$ca2" li.qiang >>"$tmp/admin.log" 2>&1 || bad "a certificate from the second CA"
cat "$ca/ca.crt" "$ca2/ca.crt" >"$tmp/ca-both.crt"
port2=$(helper free-port)
tls=$ca write_conf "$tmp/pin.conf" "$port2"
sed -i "s|conninfo = \"$STREETD_TEST_DB\"|conninfo = \"$STREETD_TEST_DB dbname=$db\"|; s|^ca = .*|ca = $tmp/ca-both.crt|" "$tmp/pin.conf"
"$daemon" -c "$tmp/pin.conf" 2>"$tmp/pin-daemon.log" &
ppid2=$!
pids+=("$ppid2")
wait_for "$tmp/pin-daemon.log" 'listening address=' 15 || bad "the daemon with two CAs did not listen"
both1=("$tmp/ca-both.crt" "$ca/li.qiang.crt" "$ca/li.qiang.key")
both2=("$tmp/ca-both.crt" "$ca2/li.qiang.crt" "$ca2/li.qiang.key")
rc=0
helper whoami "$port2" "${both1[@]}" >/dev/null 2>&1 || rc=$?
check "two CAs: an unpinned account is refused" 1 "$rc"
"${sadb[@]}" pin li.qiang "$ca/li.qiang.crt" --ca "$tmp/ca-both.crt" >>"$tmp/admin.log" 2>&1 || bad "streetd-admin pin"
check "pinned: its certificate gets in" li.qiang "$(helper whoami "$port2" "${both1[@]}" 2>&1)"
rc=0
helper whoami "$port2" "${both2[@]}" >/dev/null 2>&1 || rc=$?
check "pinned: its CN from the other CA is refused" 1 "$rc"
check_match "the refusal is logged" 'not from the CA account li.qiang is pinned to' "$(cat "$tmp/pin-daemon.log")"
"${sadb[@]}" pin li.qiang "$ca2/li.qiang.crt" --ca "$tmp/ca-both.crt" --serial --key >>"$tmp/admin.log" 2>&1 ||
	bad "streetd-admin pin --serial --key"
check "re-pinned to the second CA's certificate" li.qiang "$(helper whoami "$port2" "${both2[@]}" 2>&1)"
rc=0
helper whoami "$port2" "${both1[@]}" >/dev/null 2>&1 || rc=$?
check "re-pinned: the first CA's certificate is refused" 1 "$rc"
rc=0
"${sadb[@]}" pin li.qiang "$ca/server.crt" --ca "$tmp/ca-both.crt" >>"$tmp/admin.log" 2>&1 || rc=$?
check "pin refuses a certificate with another CN" 65 "$rc"
rc=0
"${sadb[@]}" pin li.qiang "$ca/li.qiang.crt" --ca "$ca2/ca.crt" >>"$tmp/admin.log" 2>&1 || rc=$?
check "pin refuses a certificate of a CA not in --ca" 65 "$rc"
"${sadb[@]}" unpin li.qiang >>"$tmp/admin.log" 2>&1 || bad "streetd-admin unpin"
rc=0
helper whoami "$port2" "${both2[@]}" >/dev/null 2>&1 || rc=$?
check "unpinned again: refused while tls.ca holds two CAs" 1 "$rc"
"${sa[@]}" revoke-cert "$ca2" li.qiang >>"$tmp/admin.log" 2>&1 || bad "revoke-cert in the second CA"
"${sadb[@]}" client-cert "$ca2" li.qiang --pin >>"$tmp/admin.log" 2>&1 || bad "client-cert --pin"
check "client-cert --pin pins at issue" li.qiang "$(helper whoami "$port2" "${both2[@]}" 2>&1)"
check "client-cert --pin pins the issuer, serial and key" "t|t|t" \
	"$(sadb_sql -c "SELECT pin_issuer_spki IS NOT NULL, pin_serial IS NOT NULL, pin_spki IS NOT NULL
		FROM street.account WHERE login = 'li.qiang'")"
stop "$ppid2"
"${sadb[@]}" unpin li.qiang >>"$tmp/admin.log" 2>&1 || bad "streetd-admin unpin"

# revoked while connected: the reload closes the live session too
helper hold "$port" "${client[@]}" "$tmp/hold-revoke.txt" 20 &
hpid=$!
pids+=("$hpid")
wait_for "$tmp/hold-revoke.txt" '^(ready|refused)' 15 || true
check "revoke: connected first" "ready li.qiang" "$(head -n 1 "$tmp/hold-revoke.txt")"
"${sa[@]}" revoke-cert "$ca" li.qiang >>"$tmp/admin.log" 2>&1 || bad "streetd-admin revoke-cert"
kill -HUP "$dpid"
wait "$hpid" 2>/dev/null || true
check_match "a reload after revoke-cert ends the live session" '^closed ' "$(sed -n 2p "$tmp/hold-revoke.txt")"
check_match "the close names the account and serial" 'certificate no longer accepted: closing session=[0-9]+ account=li.qiang cn=li.qiang serial=[1-9A-F][0-9A-F]* reason="certificate revoked"' \
	"$(cat "$tmp/admin-daemon.log")"
wait_for "$tmp/admin-daemon.log" 'reloaded' 10 || bad "reload after revoke-cert"
revoked=("$ca/ca.crt" "$(ls "$ca"/revoked/li.qiang-*.crt)" "$(ls "$ca"/revoked/li.qiang-*.key)")
rc=0
helper whoami "$port" "${revoked[@]}" >/dev/null 2>&1 || rc=$?
check "a revoked certificate is refused after reload" 1 "$rc"
stop "$dpid"
check "streetd-admin daemon: SIGTERM exit status" 0 "$stopped"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
