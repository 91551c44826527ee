# shellcheck shell=bash
# bench/export.sh: the export rows of bench/run's growth section (issue 13,
# "How fast": export of 1 M tickets streams at >= 100,000 rows/s with the
# daemon's memory flat).  Sourced by bench/run after bench/lib.sh; functions
# start with bench_export_.
#
# streetctl export of a year of the growth database (the year before the last
# whole month, as bench_growth_time's series) through streetd, as the
# city-wide supervisor ma.jun: CSV to a file, then xlsx.  Each run: rows/s
# (the tickets streetctl wrote over its wall time), streetd's VmRSS before
# and after and its VmHWM (peak) at the end, streetctl's peak VmHWM (sampled
# every 0.2 s; VmHWM only grows, so the last sample is within 0.2 s of the
# end).  streetd is started for this (growth stopped it) with the sweeper
# off, so that it adds no events to the generated history, and stopped after.

# Runs instead of sourced: say so (it would do nothing).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	echo "bench/export.sh: bench/run sources it, do not run it (bench/run --help)" >&2
	exit 64
fi

# bench_export_kib PID FIELD: VmRSS or VmHWM of PID in KiB (empty once it is gone).
bench_export_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# bench_export_mib KIB: KiB as MiB with one decimal.
bench_export_mib() { bench_fmt "$(bench_calc "${1:-0} / 1024")" 1; }

# bench_export_one CONF FORMAT FILE FROM TO: one streetctl export; prints
# "rows=N secs=S ctl_hwm=KIB rc=RC".
bench_export_one() {
	local conf=$1 format=$2 file=$3 from=$4 to=$5 t0 t1 pid hwm=0 h rc=0 rows
	rm -f "$file"
	t0="$(date +%s.%N)"
	STREETCTL_CONFIG="$conf" HOME="$B_STATE" XDG_STATE_HOME="$B_STATE/streetctl-state" \
		"$B_CTL" export --from "$from" --to "$to" --format "$format" -o "$file" \
		2>"$B_STATE/export-$format.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		h="$(bench_export_kib "$pid" VmHWM)"
		[[ -n "$h" ]] && hwm=$h
		sleep 0.2
	done
	wait "$pid" || rc=$?
	t1="$(date +%s.%N)"
	rows="$(sed -n 's/^\([0-9]*\) tickets written.*/\1/p' "$B_STATE/export-$format.err")"
	printf 'rows=%s secs=%s ctl_hwm=%s rc=%s\n' "${rows:-0}" "$(bench_calc "$t1 - $t0")" "$hwm" "$rc"
}

# bench_export_time LABEL: the export rows for the tickets growth made.
bench_export_time() {
	local label=$1 conf m_to y_from fmt out rows secs rate rss0 rss1 hwm met target
	B_CTL="${STREETCTL:-$ST_ROOT/build/clients/streetctl}"
	if [[ ! -x "$B_CTL" ]]; then
		bench_row "5. export, $label tickets" "skipped: no streetctl at $B_CTL" "" "" \
			"≥ 100,000 rows/s" "no"
		return 0
	fi
	conf="$B_STATE/streetctl-ma.jun.conf"
	cat >"$conf" <<CONF
# Written by bench/run (bench/export.sh): the city-wide supervisor.
server = 127.0.0.1
port = $B_PORT
ca = $B_TLS/ca.crt
cert = $B_TLS/ma.jun.crt
key = $B_TLS/ma.jun.key
CONF
	m_to="$(bench_sql "SELECT date_trunc('month', (now() AT TIME ZONE INTERVAL '+08:00'))::date")"
	y_from="$(bench_sql "SELECT ('$m_to'::date - interval '1 year')::date")"
	bench_daemon_start --set sweeper.enabled=false
	for fmt in csv xlsx; do
		rss0="$(bench_export_kib "$B_DAEMON_PID" VmRSS)"
		st_log "growth: streetctl export --from $y_from --to $m_to --format $fmt (ma.jun)"
		out="$(bench_export_one "$conf" "$fmt" "$B_STATE/export.$fmt" "$y_from" "$m_to")"
		rss1="$(bench_export_kib "$B_DAEMON_PID" VmRSS)"
		hwm="$(bench_export_kib "$B_DAEMON_PID" VmHWM)"
		echo "  $out; streetd VmRSS $rss0 -> $rss1 KiB, VmHWM $hwm KiB; $(stat -c %s \
			"$B_STATE/export.$fmt" 2>/dev/null || echo 0) bytes" >&2
		rows="$(bench_kv "$out" rows)"
		secs="$(bench_kv "$out" secs)"
		rate="$(bench_calc "$rows / ($secs > 0 ? $secs : 1)")"
		target="≥ 100,000 rows/s"
		[[ "$fmt" == xlsx ]] && target="(reference)"
		met=""
		if [[ "$fmt" == csv ]]; then
			met=no
			bench_ge "$rate" 100000 && met=yes
		fi
		[[ "$(bench_kv "$out" rc)" == 0 ]] || met="no (exit $(bench_kv "$out" rc), see var-bench/export-$fmt.err)"
		bench_row "5. export --format $fmt, a year of $label tickets" \
			"$(bench_fmt "$rate") rows/s" \
			"$(bench_fmt "$rows") rows in $(bench_fmt "$secs" 1) s; streetd VmRSS $(bench_export_mib "$rss0") → $(bench_export_mib "$rss1") MiB (peak $(bench_export_mib "$hwm")); streetctl peak $(bench_export_mib "$(bench_kv "$out" ctl_hwm)") MiB" \
			"" "$target" "$met"
		rm -f "$B_STATE/export.$fmt"
	done
	bench_daemon_stop
}
