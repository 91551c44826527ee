# shellcheck shell=bash
# bench/lib.sh: helpers of bench/run (source it after scripts/lib/common.sh).
# Functions start with bench_, variables set by bench/run with B_.

# Run instead of sourced: say so (it would do nothing).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	if [[ $# -eq 1 && ("$1" == -h || "$1" == --help) ]]; then
		echo "bench/lib.sh: helpers of bench/run; bench/run sources it, do not run it (bench/run --help)"
		exit 0
	fi
	echo "bench/lib.sh: helpers of bench/run; bench/run sources it, do not run it (bench/run --help)" >&2
	exit 64
fi

# bench_kv LINE KEY: the value of KEY=value (or KEY="value") in LINE.
bench_kv() {
	local line=$1 key=$2 re
	re="(^| )$key=\"([^\"]*)\""
	if [[ "$line" =~ $re ]]; then
		printf '%s\n' "${BASH_REMATCH[2]}"
		return 0
	fi
	re="(^| )$key=([^ ]*)"
	if [[ "$line" =~ $re ]]; then
		printf '%s\n' "${BASH_REMATCH[2]}"
		return 0
	fi
	printf '\n'
}

# bench_calc EXPR: floating-point arithmetic (awk), e.g. bench_calc "1/3".
bench_calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# bench_fmt NUMBER [DECIMALS]: NUMBER rounded, with thousands separators.
bench_fmt() {
	[[ -n "$1" ]] || {
		echo "-"
		return
	}
	awk -v x="$1" -v d="${2:-0}" 'BEGIN {
		s = sprintf("%." d "f", x); int_part = s; frac = ""
		if (index(s, ".")) { int_part = substr(s, 1, index(s, ".") - 1); frac = substr(s, index(s, ".")) }
		neg = substr(int_part, 1, 1) == "-"; if (neg) int_part = substr(int_part, 2)
		out = ""; while (length(int_part) > 3) { out = "," substr(int_part, length(int_part) - 2) out; int_part = substr(int_part, 1, length(int_part) - 3) }
		printf "%s%s%s%s", neg ? "-" : "", int_part, out, frac }'
}

# bench_ge A B: true if A >= B (floating point); false if either is empty.
bench_ge() { [[ -n "$1" && -n "$2" ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# bench_row CELLS...: appends one row to the result table.
bench_row() {
	local out="|" c
	for c in "$@"; do
		out+=" $c |"
	done
	B_ROWS+=("$out")
}

# bench_sql SQL: one value from the bench database, as the superuser.
bench_sql() { st_psql "$B_PGDIR" -d "$B_DB" -At -v ON_ERROR_STOP=1 -c "$1"; }

# bench_rss PID: VmRSS of PID in KiB.
bench_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# bench_wait_port PORT SECONDS: wait until 127.0.0.1:PORT accepts TCP.
bench_wait_port() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# bench_daemon_start [ARGS...]: start streetd with B_CONF, the bench limits
# and ARGS (more --set); waits until it listens.  Sets B_DAEMON_PID.
bench_daemon_start() {
	"$B_DAEMON" -c "$B_CONF" \
		--set limits.max_sessions=19000 \
		--set limits.max_sessions_per_account=1000 \
		--set limits.idle_timeout=30m \
		--set limits.drain_timeout=2s \
		"$@" >>"$B_STATE/streetd.log" 2>&1 &
	B_DAEMON_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$B_DAEMON_PID" 2>/dev/null || {
			tail -n 20 "$B_STATE/streetd.log" >&2
			st_die 70 "streetd exited at start (log: $B_STATE/streetd.log)"
		}
		if (exec 3<>"/dev/tcp/127.0.0.1/$B_PORT") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	st_die 70 "streetd does not listen on 127.0.0.1:$B_PORT after 30 s (log: $B_STATE/streetd.log)"
}

# bench_daemon_stop: SIGTERM, then wait (at most 15 s, then SIGKILL).
bench_daemon_stop() {
	[[ -n "${B_DAEMON_PID:-}" ]] || return 0
	if kill -0 "$B_DAEMON_PID" 2>/dev/null; then
		kill -TERM "$B_DAEMON_PID" 2>/dev/null || true
		local i
		for ((i = 0; i < 150; i++)); do
			kill -0 "$B_DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$B_DAEMON_PID" 2>/dev/null && kill -KILL "$B_DAEMON_PID" 2>/dev/null
	fi
	wait "$B_DAEMON_PID" 2>/dev/null || true
	B_DAEMON_PID=""
}

# bench_sb ARGS...: run streetbench against streetd (host, port, certificates
# and the loop's ids filled in); prints its stdout, stderr goes to the log.
bench_sb() {
	local mode=$1
	shift
	timeout -k 5 "${B_SB_TIMEOUT:-300}" "$B_SB" "$mode" --host 127.0.0.1 --port "$B_PORT" \
		--tls "$B_TLS" --category "$B_CATEGORY" --grid "$B_GRID" \
		${B_DAEMON_PID:+--server-pid "$B_DAEMON_PID"} "$@" \
		2>>"$B_STATE/streetbench.log" || true
}

# bench_pgbench CLIENTS: pgbench of bench/cycle.pgbench as role streetd over the
# unix socket for B_SECONDS; prints "tps=T failed=F" (T in cycles/s).
bench_pgbench() {
	local c=$1 j=2 out tps failed
	((c < j)) && j=$c
	out="$(PGHOST="$B_PGDIR/run" PGPORT="$B_PGPORT" timeout -k 5 $((B_SECONDS + 60)) \
		"$ST_PGBIN/pgbench" -n -M prepared -f "$ST_ROOT/bench/cycle.pgbench" \
		-D reporter="$B_ID_REPORTER" -D street="$B_ID_STREET" -D dept="$B_ID_DEPT" \
		-D category="$B_CATEGORY" -D grid="$B_GRID" \
		-c "$c" -j "$j" -T "$B_SECONDS" -U streetd "$B_DB" 2>&1)" || true
	printf '%s\n' "$out" >>"$B_STATE/pgbench.log"
	tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | tail -n 1)"
	failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
	printf 'tps=%s failed=%s\n' "$tps" "${failed:-0}"
}

# bench_cpu_snapshot: "pid ppid comm cpu_ticks" for every process (utime + stime).
bench_cpu_snapshot() {
	local f line comm rest
	for f in /proc/[0-9]*/stat; do
		# (braces: the 2> must be in place before the < that fails when the
		# process ended since the glob)
		{ read -r line <"$f"; } 2>/dev/null || continue
		# comm is in parentheses and may hold spaces: cut at the last ')'
		comm=${line#*(}
		comm=${comm%)*}
		rest=${line##*) }
		# shellcheck disable=SC2086 # split the numeric fields
		set -- $rest
		printf '%s %s %s %s\n' "${line%% *}" "$2" "${comm// /_}" $((${12} + ${13}))
	done
}

# bench_other_cpu BEFORE AFTER SECONDS ROOT...: the processes, other than the
# ROOTs and their descendants, that used over 5% of a core between the two
# snapshots (a process started meanwhile counts all its time).
bench_other_cpu() {
	local before=$1 after=$2 secs=$3 hz
	shift 3
	hz="$(getconf CLK_TCK)"
	awk -v hz="$hz" -v secs="$secs" -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) root[r[i]] = 1 }
		NR == FNR { t[$1] = $4; next }
		{ parent[$1] = $2; comm[$1] = $3; ticks[$1] = $4 }
		END {
			for (p in ticks) {
				q = p; ours = 0
				for (k = 0; k < 64 && q > 1; k++) {
					if (q in root) { ours = 1; break }
					q = parent[q]
				}
				if (ours) continue
				d = (ticks[p] - t[p]) / hz / secs * 100
				if (d >= 5) { printf "%s%s %.0f%%", sep, comm[p], d; sep = ", " }
			}
		}' "$before" "$after"
}
