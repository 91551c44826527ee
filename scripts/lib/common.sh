# shellcheck shell=bash
# Functions shared by scripts/{migrate,pg,tls,run,test}.  Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Every name defined here starts with st_ (functions) or ST_ (variables).
# Exit codes follow sysexits.h: 64 usage, 65 data, 66 no input, 69 unavailable,
# 70 software, 77 no permission, 78 config.

# Run instead of sourced: say so (it would do nothing).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	if [[ $# -eq 1 && ("$1" == -h || "$1" == --help) ]]; then
		echo "scripts/lib/common.sh: functions for scripts/{migrate,pg,tls,run,test}; source it, do not run it"
		exit 0
	fi
	echo "scripts/lib/common.sh: functions for scripts/{migrate,pg,tls,run,test}; source it, do not run it" >&2
	exit 64
fi

# Guard against being sourced twice.
if [[ -n "${ST_COMMON_LOADED:-}" ]]; then
	return 0
fi
ST_COMMON_LOADED=1

# Repository root (this file lives in scripts/lib/).
ST_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly ST_ROOT

# PostgreSQL 15 server binaries: never rely on PATH for these.
ST_PGBIN="${STREETD_PGBIN:-/usr/lib/postgresql/15/bin}"
# The unprivileged user that owns private clusters when we run as root.
ST_PGUSER_OS=postgres

# Debian packages the project needs to build, test and run.
ST_PACKAGES=(
	gcc libc6-dev pkg-config meson ninja-build
	libevent-dev libpq-dev libjson-c-dev libssl-dev check libsystemd-dev libxlsxwriter-dev libxml2-dev
	postgresql-15 postgresql-client-15 openssl ca-certificates
	systemd python3 curl
	libjs-chart.js libjs-leaflet
)
# systemd: systemd-analyze and systemd-socket-activate for the service tests
# (nothing is started); python3: helpers of tests/integration/test_service.sh
# and the xlsx read-back of tests/integration/xlsx_cells.py; libxlsxwriter-dev:
# streetctl export --format xlsx (clients/xlsx.c); curl: the HTTPS tests
# (tests/integration/test_daemon_http.c) drive the listener with it;
# libjs-chart.js, libjs-leaflet: the web console's charts and grid map, served
# by streetd from /usr/share/javascript (docs/console.md).

# Debian packages only the browser tests need (scripts/test installs them,
# scripts/run does not): chromium, driven by playwright-core from npm
# (tests/browser/package.json); nodejs and npm only where node or npm is
# missing (a machine may have them from elsewhere); fonts-wqy-microhei: a CJK
# font, so that the screenshots show Chinese instead of boxes.
ST_TEST_PACKAGES=(chromium fonts-wqy-microhei)

# Globs sort bytewise, whatever the caller's locale.
LC_COLLATE=C

# Name used in messages: the script that sourced us.
ST_PROG="${ST_PROG:-scripts/$(basename "$0")}"

st_log() { printf '%s: %s\n' "$ST_PROG" "$*" >&2; }
st_warn() { printf '%s: warning: %s\n' "$ST_PROG" "$*" >&2; }

# st_die [CODE] MESSAGE...: print to stderr and exit (default code 1).
st_die() {
	local code=1
	if [[ $# -gt 1 && "$1" =~ ^[0-9]+$ ]]; then
		code=$1
		shift
	fi
	printf '%s: error: %s\n' "$ST_PROG" "$*" >&2
	exit "$code"
}

st_is_root() { [[ ${EUID:-$(id -u)} -eq 0 ]]; }

st_have() { command -v "$1" >/dev/null 2>&1; }

# st_usage: print the calling script's header comment (line 2 up to "set
# -euo"), which is its usage; found as ST_PROG under the repository, so that
# it works whatever the caller's working directory.
st_usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$ST_ROOT/$ST_PROG"
}

# st_usage_error MESSAGE...: "MESSAGE" and a pointer to --help on stderr, exit 64.
st_usage_error() {
	printf '%s: %s (%s --help for the usage)\n' "$ST_PROG" "$*" "$ST_PROG" >&2
	exit 64
}

# st_no_args "$@": for scripts that take no arguments: --help/-h prints the
# header comment of the calling script and exits 0; anything else exits 64.
st_no_args() {
	[[ $# -eq 0 ]] && return 0
	if [[ $# -eq 1 && ("$1" == -h || "$1" == --help) ]]; then
		st_usage
		exit 0
	fi
	st_usage_error "takes no arguments, got: $*"
}

# st_abspath PATH: absolute form of PATH (which need not exist yet), without
# resolving symlinks of the missing part.
st_abspath() {
	local p=$1
	if [[ "$p" != /* ]]; then
		p="$PWD/$p"
	fi
	# Drop "/./" and trailing "/." and "/"; ".." is left alone on purpose.
	while [[ "$p" == */./* ]]; do p="${p//\/.\//\/}"; done
	p="${p%/.}"
	while [[ "$p" == *//* ]]; do p="${p//\/\//\/}"; done
	[[ "$p" == / ]] || p="${p%/}"
	printf '%s\n' "$p"
}

# st_mkdir_shared DIR: create DIR (mode 0755, whatever the umask) if missing,
# so that the postgres user can traverse it.
st_mkdir_shared() {
	if [[ ! -d "$1" ]]; then
		mkdir -p "$1"
		chmod 0755 "$1"
	fi
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------

# st_pkg_installed PKG: true if dpkg says PKG is installed.
st_pkg_installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" || return 1
	[[ "$status" == "install ok installed" ]]
}

# st_missing_packages [PKG...]: print (one line) the packages that are not
# installed, from the arguments or from ST_PACKAGES.
st_missing_packages() {
	local pkg missing=()
	if [[ $# -eq 0 ]]; then
		set -- "${ST_PACKAGES[@]}"
	fi
	for pkg in "$@"; do
		st_pkg_installed "$pkg" || missing+=("$pkg")
	done
	printf '%s\n' "${missing[*]}"
}

# st_ensure_deps [PKG...]: install whatever of the packages (default
# ST_PACKAGES) is missing.  As root: apt-get.
# Otherwise: sudo apt-get if sudo exists, else fail with exit 69 naming the
# packages.  apt-get update runs once, and only if something is missing.
# With ST_DEPS_DRY_RUN=1 it only says what it would do.
st_ensure_deps() {
	st_have dpkg-query || st_die 69 "dpkg-query not found: this set-up needs Debian 12 (bookworm)"
	local missing
	missing="$(st_missing_packages "$@")"
	if [[ -z "$missing" ]]; then
		return 0
	fi
	local -a pkgs sudo=()
	read -r -a pkgs <<<"$missing"
	if ! st_is_root; then
		if st_have sudo; then
			sudo=(sudo)
		else
			st_die 69 "missing packages: ${pkgs[*]} (not root and no sudo; install them with: apt-get install ${pkgs[*]})"
		fi
	fi
	st_log "installing missing packages: ${pkgs[*]}"
	local -a update=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q)
	local -a install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends "${pkgs[@]}")
	if [[ "${ST_DEPS_DRY_RUN:-0}" == 1 ]]; then
		st_log "dry run: would run: ${update[*]}"
		st_log "dry run: would run: ${install[*]}"
		return 0
	fi
	"${update[@]}" </dev/null || st_die 69 "apt-get update failed"
	"${install[@]}" </dev/null || st_die 69 "apt-get install failed for: ${pkgs[*]}"
	missing="$(st_missing_packages "${pkgs[@]}")"
	[[ -z "$missing" ]] || st_die 69 "still missing after apt-get install: $missing"
}

# ---------------------------------------------------------------------------
# Meson
# ---------------------------------------------------------------------------

# st_meson_options_match BUILDDIR -Dname=value...: true if BUILDDIR already has
# every one of these option values.
st_meson_options_match() {
	local dir=$1
	shift
	meson introspect "$dir" --buildoptions 2>/dev/null | python3 -c '
import json, sys
have = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for arg in sys.argv[1:]:
    name, _, value = arg[2:].partition("=")
    cur = have.get(name)
    if isinstance(cur, bool):
        cur = "true" if cur else "false"
    if str(cur) != value:
        sys.exit(1)
' "$@"
}

# st_meson_build BUILDDIR [MESON_OPTION...]: configure BUILDDIR if it is not
# configured yet (else apply the options, if any, with meson configure), then
# build it with ninja.
st_meson_build() {
	local dir=$1
	shift
	if [[ -f "$dir/meson-private/coredata.dat" ]]; then
		# Reconfigure only if an option differs (meson configure regenerates).
		if [[ $# -gt 0 ]] && ! st_meson_options_match "$dir" "$@"; then
			meson configure "$dir" "$@" >/dev/null
		fi
	else
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
}

# ---------------------------------------------------------------------------
# Private PostgreSQL clusters
#
# Layout of a cluster directory DIR:
#   DIR/data                   the data directory (initdb)
#   DIR/data/streetd.conf      our settings, rewritten at every start
#   DIR/run                    the unix socket (no TCP at all), mode 0700:
#                              only the cluster's owner and root connect
#   DIR/log/postgresql.log     the server log
#
# As root the cluster belongs to the postgres user, which must reach DIR.  When
# it cannot (a checkout under /root or in a mktemp -d directory), DIR becomes
# a symlink to ~postgres/streetd-dev/NAME (see st_pg_place and
# docs/decisions.md, "Development clusters"); st_pg_dir resolves it.
# ---------------------------------------------------------------------------

# st_as_pg CMD...: run CMD as the cluster's owner: the postgres system user
# when we are root (initdb and postgres refuse to run as root), else ourselves.
st_as_pg() {
	if st_is_root; then
		(cd / && runuser -u "$ST_PGUSER_OS" -- "$@")
	else
		"$@"
	fi
}

# st_pg_dir DIR: the absolute directory that holds DIR's cluster: DIR, or the
# target of DIR when st_pg_place made DIR a symlink.  Commands run as the
# postgres user must be given this path: the symlink sits where it cannot go.
st_pg_dir() {
	local dir
	dir="$(st_abspath "$1")"
	if [[ -L "$dir" ]]; then
		dir="$(readlink -m -- "$dir")"
	fi
	printf '%s\n' "$dir"
}

# st_pg_place DIR: where the cluster asked for in DIR (absolute) is to live;
# prints that directory.  Not root, or the postgres user can reach DIR's
# parent: DIR itself.  Otherwise (root, checkout out of postgres's reach) a
# directory of its own in the postgres user's home, ~postgres/streetd-dev/NAME
# (NAME from the checkout and DIR, plus a hash of DIR's path), with DIR made a
# symlink to it, so that every path under the checkout still works for root.
# Why there and not /var/tmp or an ACL on the checkout: docs/decisions.md.
st_pg_place() {
	local dir=$1 parent home spool name hash real
	if [[ -L "$dir" ]] || ! st_is_root; then
		st_pg_dir "$dir"
		return 0
	fi
	parent="$(dirname "$dir")"
	mkdir -p "$parent"
	if st_as_pg test -x "$parent"; then
		printf '%s\n' "$dir"
		return 0
	fi
	home="$(getent passwd "$ST_PGUSER_OS" | cut -d: -f6)"
	if [[ -z "$home" || "$home" != /* ]] || ! st_as_pg test -x "$home" -a -w "$home"; then
		st_die 77 "user '$ST_PGUSER_OS' cannot reach $parent, and has no home directory of its own" \
			"to hold the cluster instead; put the checkout somewhere world-traversable"
	fi
	if [[ -e "$dir" ]]; then
		# An empty directory (an earlier run that stopped here) may go; data may not.
		rmdir -- "$dir" 2>/dev/null ||
			st_die 78 "user '$ST_PGUSER_OS' cannot reach $dir, which is not empty; move it away"
	fi
	spool="$home/streetd-dev"
	st_as_pg mkdir -p "$spool"
	st_as_pg chmod 0700 "$spool"
	if [[ "$dir" == "$ST_ROOT"/* ]]; then
		name="$(basename "$ST_ROOT" | cut -c1-40)-${dir#"$ST_ROOT"/}"
	else
		name="$(basename "$dir" | cut -c1-40)"
	fi
	name="${name//\//-}"
	hash="$(printf '%s' "$dir" | sha256sum | cut -c1-8)"
	real="$spool/$name-$hash"
	ln -s -- "$real" "$dir"
	st_log "user '$ST_PGUSER_OS' cannot reach $parent: the cluster lives in $real ($dir points there)"
	printf '%s\n' "$real"
}

# st_pg_check_reachable DIR: fail clearly if the cluster's owner cannot reach DIR.
st_pg_check_reachable() {
	local dir=$1 p=""
	st_is_root || return 0
	getent passwd "$ST_PGUSER_OS" >/dev/null ||
		st_die 69 "system user '$ST_PGUSER_OS' does not exist (is postgresql-common installed?)"
	if st_as_pg test -x "$dir" && st_as_pg test -w "$dir"; then
		return 0
	fi
	local part
	local -a parts
	IFS=/ read -r -a parts <<<"${dir#/}"
	for part in "${parts[@]}"; do
		p="$p/$part"
		if ! st_as_pg test -x "$p"; then
			st_die 77 "user '$ST_PGUSER_OS' cannot traverse $p ($(stat -c '%A %U:%G' "$p")), so it cannot" \
				"reach the cluster directory $dir; put the checkout somewhere world-traversable" \
				"or run: chmod o+x $p"
		fi
	done
	st_die 77 "user '$ST_PGUSER_OS' cannot write to $dir"
}

# st_pg_running DIR: true if the cluster in DIR is running.
st_pg_running() {
	local dir
	dir="$(st_pg_dir "$1")"
	[[ -f "$dir/data/PG_VERSION" ]] || return 1
	st_as_pg "$ST_PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# st_pg_port DIR: port of the running cluster (line 4 of postmaster.pid).
st_pg_port() {
	local port
	port="$(sed -n 4p "$(st_pg_dir "$1")/data/postmaster.pid" 2>/dev/null)" || true
	[[ "$port" =~ ^[0-9]+$ ]] || st_die 70 "cannot read the port of the cluster in $1 (is it running?)"
	printf '%s\n' "$port"
}

# st_sql_quote STRING: STRING as a single-quoted SQL/postgresql.conf literal.
st_sql_quote() {
	local s=${1//\'/\'\'}
	printf "'%s'\n" "$s"
}

# st_pg_start DIR PORT: create the cluster in DIR if there is none, then start
# it unless it is already running.
st_pg_start() {
	local dir port=$2
	dir="$(st_pg_place "$(st_abspath "$1")")"
	[[ "$port" =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || st_die 64 "bad port: $port"
	[[ -x "$ST_PGBIN/pg_ctl" ]] || st_die 69 "$ST_PGBIN/pg_ctl not found (is postgresql-15 installed?)"

	if st_pg_running "$dir"; then
		local running
		running="$(st_pg_port "$dir")"
		if [[ "$running" != "$port" ]]; then
			st_warn "cluster $dir is already running on port $running (not $port); using it as it is"
		fi
		st_log "cluster $dir already running (socket $dir/run, port $running)"
		return 0
	fi

	mkdir -p "$dir"
	if st_is_root; then
		# The cluster directory belongs to the postgres user, all of it.
		chown "$ST_PGUSER_OS:" "$dir"
		find "$dir" ! -user "$ST_PGUSER_OS" -exec chown "$ST_PGUSER_OS:" {} +
	fi
	st_pg_check_reachable "$dir"
	st_as_pg mkdir -p "$dir/run" "$dir/log"
	st_as_pg chmod 0755 "$dir/run"

	if [[ ! -f "$dir/data/PG_VERSION" ]]; then
		if [[ -e "$dir/data" ]] && [[ -n "$(ls -A "$dir/data")" ]]; then
			st_die 78 "$dir/data exists but is not a PostgreSQL data directory; remove it"
		fi
		st_log "creating a PostgreSQL cluster in $dir/data"
		st_as_pg "$ST_PGBIN/initdb" -D "$dir/data" --auth=trust --encoding=UTF8 \
			--locale=C.UTF-8 -U postgres >"$dir/log/initdb.log" 2>&1 ||
			{
				cat "$dir/log/initdb.log" >&2
				st_die 70 "initdb failed (log above, also in $dir/log/initdb.log)"
			}
		printf '\n# streetd: settings for this private cluster (rewritten at every start)\ninclude_if_exists = %s\n' \
			"$(st_sql_quote streetd.conf)" | st_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	fi

	# Our settings, rewritten every time so that a new port or path takes effect.
	st_as_pg tee "$dir/data/streetd.conf" >/dev/null <<EOF
# Written by scripts/pg; edits are lost at the next start.
listen_addresses = ''
unix_socket_directories = $(st_sql_quote "$dir/run")
# Authentication is trust: only the cluster's owner (and root) may use the socket.
unix_socket_permissions = 0700
port = $port
max_connections = 300
shared_buffers = 256MB
fsync = on
# A standby (scripts/pg standby, no replication slot) that was stopped or
# fell behind must find the WAL it missed: without this a checkpoint may
# recycle it ("requested WAL segment ... has already been removed") and the
# standby never catches up again.
wal_keep_size = 1GB
EOF

	st_log "starting PostgreSQL (socket $dir/run, port $port, log $dir/log/postgresql.log)"
	if ! st_as_pg "$ST_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log/postgresql.log" -w -t 60 start >/dev/null; then
		tail -n 30 "$dir/log/postgresql.log" >&2 || true
		st_die 70 "PostgreSQL did not start (log: $dir/log/postgresql.log)"
	fi
}

# st_pg_stop DIR: stop the cluster in DIR (fast mode) if it is running.
st_pg_stop() {
	local dir
	dir="$(st_pg_dir "$1")"
	if ! st_pg_running "$dir"; then
		st_log "cluster $dir is not running"
		return 0
	fi
	st_log "stopping PostgreSQL in $dir"
	st_as_pg "$ST_PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

# st_pg_standby PRIMARY_DIR DIR PORT: make DIR a fresh hot standby of the
# running cluster in PRIMARY_DIR (pg_basebackup -R over its socket: the
# primary's defaults suffice, wal_level replica and the "local replication"
# trust line of initdb --auth=trust) and start it on PORT, streaming from
# the primary without a replication slot.  DIR's old cluster, if any, is
# stopped and replaced; DIR is placed like any cluster (st_pg_place), so a
# checkout the postgres user cannot reach gets ~postgres/streetd-dev too.
st_pg_standby() {
	local primary dir port=$3 pport
	primary="$(st_pg_dir "$1")"
	st_pg_running "$primary" || st_die 69 "the primary cluster in $primary is not running"
	pport="$(st_pg_port "$primary")"
	[[ "$port" =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || st_die 64 "bad port: $port"
	dir="$(st_pg_place "$(st_abspath "$2")")"
	[[ "$dir" != "$primary" ]] || st_die 64 "the standby cannot live in the primary's directory"
	st_pg_stop "$dir" >/dev/null 2>&1 || true
	mkdir -p "$dir"
	if st_is_root; then
		chown "$ST_PGUSER_OS:" "$dir"
	fi
	st_pg_check_reachable "$dir"
	if [[ -e "$dir/data" ]]; then
		[[ -f "$dir/data/PG_VERSION" || -z "$(ls -A "$dir/data")" ]] ||
			st_die 78 "$dir/data exists but is not a PostgreSQL data directory; remove it"
		st_as_pg rm -rf -- "$dir/data"
	fi
	st_as_pg mkdir -p "$dir/run" "$dir/log"
	st_log "making a standby of $primary in $dir/data (pg_basebackup)"
	st_as_pg "$ST_PGBIN/pg_basebackup" -D "$dir/data" -R -X stream -c fast \
		-d "host=$primary/run port=$pport user=postgres application_name=streetd_standby" \
		>"$dir/log/basebackup.log" 2>&1 || {
		cat "$dir/log/basebackup.log" >&2
		st_die 70 "pg_basebackup failed (log above, also in $dir/log/basebackup.log)"
	}
	# the copied streetd.conf names the primary's socket and port: st_pg_start rewrites it
	st_pg_start "$dir" "$port"
}

# st_psql DIR [PSQL_ARG...]: psql as the superuser postgres on the running
# cluster in DIR (database postgres unless the arguments say -d DB).
st_psql() {
	local dir port
	dir="$(st_pg_dir "$1")"
	shift
	port="$(st_pg_port "$dir")"
	PGCLIENTENCODING=UTF8 PGDATABASE=postgres \
		"$ST_PGBIN/psql" -X -h "$dir/run" -p "$port" -U postgres "$@"
}

# ---------------------------------------------------------------------------
# Database set-up
# ---------------------------------------------------------------------------

# st_migrate DIR DB [MIGRATE_ARG...]: scripts/migrate as postgres on database DB.
st_migrate() {
	local dir port db=$2
	dir="$(st_pg_dir "$1")"
	shift 2
	port="$(st_pg_port "$dir")"
	PGHOST="$dir/run" PGPORT="$port" PGDATABASE="$db" PGUSER=postgres \
		"$ST_ROOT/scripts/migrate" "$@"
}

# st_db_setup DIR DB [fresh] [EXTRA_SQL_FILE...]: make database DB on the
# cluster in DIR ready for the daemon: create it (dropping it first if "fresh"),
# bootstrap + migrate it, load the calendar data, the demo, then each extra
# file (same way as the demo), and create the daemon's login role "streetd".
st_db_setup() {
	local dir=$1 db=$2 fresh=0
	shift 2
	if [[ "${1:-}" == fresh ]]; then
		fresh=1
		shift
	fi
	[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || st_die 64 "bad database name: $db"

	if [[ $fresh == 1 ]]; then
		st_log "recreating database $db"
		st_psql "$dir" -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
			-c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
			-c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
	elif [[ -z "$(st_psql "$dir" -At -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
		st_log "creating database $db"
		st_psql "$dir" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
	fi

	# Bootstrap, migrations, data: bootstrap creates the role streetd_daemon.
	local -a args=(--data --demo) f
	for f in "$@"; do
		args+=(--file "$f")
	done
	st_migrate "$dir" "$db" "${args[@]}"

	# The daemon's login role (roles are per cluster, so it may exist already).
	st_psql "$dir" -d "$db" -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streetd') THEN
		CREATE ROLE streetd LOGIN IN ROLE streetd_daemon;
	END IF;
END
$$;
ALTER ROLE streetd LOGIN;
GRANT streetd_daemon TO streetd;
EOF
}

# st_demo_history DIR DB: load the demo's generated history (four months of
# Changji tickets, events, scores and locks: sql/demo/history/generate.sql,
# docs/demo.md) into database DB, once: only while the event log holds
# nothing before the history's end (2026-12-01, Asia/Shanghai), so a restart
# never adds it twice.  Prints the number of tickets made, or "loaded" when it
# was there already.  scripts/test never calls it: the suites expect the
# small demo.
st_demo_history() {
	local out
	out="$(st_psql "$1" -d "$2" -q -At -v ON_ERROR_STOP=1 -1 \
		-c "SET client_min_messages = warning" \
		-c "SELECT pg_advisory_xact_lock(hashtext('streetd.demo_history'))" \
		-c "SET ROLE streetd_owner" -c "SET search_path = street" \
		-f "$ST_ROOT/sql/demo/history/generate.sql" \
		-c "SELECT CASE WHEN EXISTS (SELECT 1 FROM ticket_event
			WHERE at < timestamptz '2026-12-01 00:00+08') THEN 'loaded'
			ELSE pg_temp.demo_history()::text END")" ||
		st_die "$?" "loading the demo history failed and was rolled back"
	# the lock's empty line, then the answer
	printf '%s\n' "$out" | sed '/^$/d' | tail -n 1
}

# st_account_logins DIR DB: the accounts' logins, one per line (none if the
# table does not exist yet).
st_account_logins() {
	st_psql "$1" -d "$2" -At -v ON_ERROR_STOP=1 \
		-c "SELECT login FROM street.account ORDER BY login" 2>/dev/null || true
}

# st_account_table DIR DB: print the accounts (login, role, scope, name).
st_account_table() {
	local q
	q="SELECT a.login AS login, a.role AS role,
	          coalesce(s.name, dep.name, d.name,
	                   CASE a.role WHEN 'supervisor' THEN '全市 (city)' ELSE '-' END) AS scope,
	          a.name AS name
	     FROM street.account a
	     LEFT JOIN street.street s ON s.id = a.street_id
	     LEFT JOIN street.department dep ON dep.id = a.department_id
	     LEFT JOIN street.district d ON d.id = a.district_id
	    ORDER BY a.role, a.login"
	st_psql "$1" -d "$2" -P footer=off -v ON_ERROR_STOP=1 -c "$q" 2>/dev/null ||
		st_psql "$1" -d "$2" -P footer=off -c "SELECT login, role FROM street.account ORDER BY login" 2>/dev/null ||
		echo "  (no accounts: street.account is not there yet)"
}
