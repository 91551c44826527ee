# shellcheck shell=bash
# bench/standby.sh: the assessment's report rows on a hot standby (issue 13:
# "README's performance table gains the rows, with the standby").  Sourced by
# bench/run after bench/measure.sh (it uses bench_sql, bench_row, bench_ge,
# B_PGDIR, B_DB, B_RUNS).
#
#   bench_standby_time LABEL   after bench_growth_time LABEL: makes (once) a
#                              streaming standby of the bench cluster in
#                              B_PGDIR-standby on the next port (scripts/pg
#                              standby's st_pg_standby), waits until it has
#                              replayed everything, then times the ranking_*
#                              and stats_* queries there (bench/standby_timing.sql,
#                              same method and targets as the primary's rows)
#   bench_standby_stop         stops that standby (bench/run's cleanup)

# The standby's directory: next to the bench cluster (reachable by postgres
# wherever that one is).
bench_standby_dir() { printf '%s-standby\n' "$(st_pg_dir "$B_PGDIR")"; }

bench_standby_time() {
	local label=$1 dir port lsn city m_from m_to y_from out name med max target met waited=0
	local need free
	dir="$(bench_standby_dir)"
	if ! st_pg_running "$dir"; then
		# the standby is a whole copy: refused, with a row that says so,
		# where it would leave less than 4 GiB free (a full disk would stop
		# the primary too)
		need=$(($(bench_sql "SELECT pg_database_size(current_database())") / 1048576 + 4096))
		free=$(($(df -Pk "$(dirname "$dir")" | awk 'NR == 2 { print $4 }') / 1024))
		if ((free < need)); then
			bench_row "5. the report rows on the standby, $label tickets" \
				"skipped: a standby is a copy of the $((need / 1024 - 4)) GiB database, and the disk has $((free / 1024)) GiB free" \
				"" "" "" ""
			B_NOTES+=("standby, $label tickets: not made (the disk has $((free / 1024)) GiB free, the copy needs $((need / 1024)) GiB with 4 GiB to spare); the primary's rows above are the same queries")
			return 0
		fi
		port=$(($(st_pg_port "$B_PGDIR") + 1))
		st_pg_standby "$B_PGDIR" "$dir" "$port"
	fi
	dir="$(st_pg_dir "$dir")"
	lsn="$(bench_sql "SELECT pg_current_wal_lsn()")"
	st_log "growth: waiting for the standby to replay up to $lsn"
	until [[ "$(st_psql "$dir" -d "$B_DB" -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" == t ]]; do
		((++waited <= 3600)) || st_die 70 "growth: the standby did not catch up within an hour"
		sleep 1
	done
	city="$(bench_sql "SELECT id FROM street.account WHERE login = 'ma.jun'")"
	m_to="$(bench_sql "SELECT date_trunc('month', (now() AT TIME ZONE INTERVAL '+08:00'))::date")"
	m_from="$(bench_sql "SELECT ('$m_to'::date - interval '1 month')::date")"
	y_from="$(bench_sql "SELECT ('$m_to'::date - interval '1 year')::date")"
	out="$(st_psql "$dir" -d "$B_DB" -q -At -v ON_ERROR_STOP=1 -v city="$city" -v runs="$B_RUNS" \
		-v m_from="$m_from" -v m_to="$m_to" -v y_from="$y_from" \
		-f "$ST_ROOT/bench/standby_timing.sql" 2>&1 >/dev/null | sed -n 's/^.*NOTICE: *//p')"
	printf '  standby: %s\n' "${out//$'\n'/$'\n'  standby: }" >&2
	target=$([[ "$label" == 10M ]] && echo 200 || echo 50)
	while read -r name med max; do
		[[ -n "$name" ]] || continue
		met=no
		bench_ge "$target" "$med" && met=yes
		bench_row "5. $name on the standby, $label tickets" \
			"$med ms (median of $B_RUNS; max $max)" \
			"the same query on a hot standby (streaming, caught up)" "" "< $target ms" "$met"
	done <<<"$out"
}

bench_standby_stop() { st_pg_stop "$(bench_standby_dir)" || true; }
