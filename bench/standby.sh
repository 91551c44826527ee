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
#                              (or, where the disk cannot hold a copy, a
#                              standby of the stopped primary's files through
#                              an overlay: bench_standby_overlay)
#   bench_standby_stop         stops that standby
#   bench_standby_cleanup KEEP bench/run's cleanup

# The standby's directory: next to the bench cluster (reachable by postgres
# wherever that one is).
bench_standby_dir() { printf '%s-standby\n' "$(st_pg_dir "$B_PGDIR")"; }

# Where the disk cannot hold a copy (10 M tickets: ~40 GiB), the standby is
# the primary's own files seen through an overlay (the kernel's overlayfs: the
# standby's writes go to a layer of their own, the primary's files are only
# read), started in standby mode while the primary is stopped, so that they
# do not change underneath: a hot standby at the primary's last LSN, serving
# read-only queries from the same pages.  Needs root and overlayfs.
bench_standby_layers() { printf '%s-layers\n' "$(bench_standby_dir)"; }

# bench_standby_overlay PORT: stops the primary and starts the overlay
# standby on PORT; false (the primary running again) where it cannot.
bench_standby_overlay() {
	local port=$1 primary dir layers
	st_is_root && grep -qw overlay /proc/filesystems || return 1
	primary="$(st_pg_dir "$B_PGDIR")"
	dir="$(bench_standby_dir)"
	layers="$(bench_standby_layers)"
	st_pg_stop "$dir" >/dev/null 2>&1 || true
	st_pg_stop "$B_PGDIR"
	rm -rf -- "$layers"
	mkdir -p "$dir/data" "$layers/upper" "$layers/work"
	# the upper layer's root is the data directory's: the owner's alone
	chown "$ST_PGUSER_OS:" "$dir" "$layers/upper"
	chmod 0700 "$layers/upper"
	if ! mount -t overlay overlay \
		-o "lowerdir=$primary/data,upperdir=$layers/upper,workdir=$layers/work" "$dir/data"; then
		rm -rf -- "$layers"
		st_pg_start "$B_PGDIR" "$B_PGPORT"
		return 1
	fi
	st_as_pg touch "$dir/data/standby.signal"
	st_log "growth: a hot standby of the stopped primary's files through an overlay on port $port"
	st_pg_start "$dir" "$port"
}

bench_standby_time() {
	local label=$1 dir port lsn city m_from m_to y_from out name med max target met waited=0
	local need free how="a hot standby (streaming, caught up)" overlay=0
	dir="$(bench_standby_dir)"
	# from the primary, before an overlay standby stops it
	lsn="$(bench_sql "SELECT pg_current_wal_lsn()")"
	city="$(bench_sql "SELECT id FROM street.account WHERE login = 'ma.jun'")"
	m_to="$(bench_sql "SELECT date_trunc('month', (now() AT TIME ZONE INTERVAL '+08:00'))::date")"
	m_from="$(bench_sql "SELECT ('$m_to'::date - interval '1 month')::date")"
	y_from="$(bench_sql "SELECT ('$m_to'::date - interval '1 year')::date")"
	if ! st_pg_running "$dir"; then
		port=$(($(st_pg_port "$B_PGDIR") + 1))
		# a copy must leave 4 GiB free (a full disk would stop the primary
		# too); else the overlay, else a row that says why not
		need=$(($(bench_sql "SELECT pg_database_size(current_database())") / 1048576 + 4096))
		free=$(($(df -Pk "$(dirname "$dir")" | awk 'NR == 2 { print $4 }') / 1024))
		if ((free >= need)); then
			st_pg_standby "$B_PGDIR" "$dir" "$port"
		elif bench_standby_overlay "$port"; then
			overlay=1
			how="a hot standby made of the stopped primary's files through an overlay, at its last LSN (no disk for a $((need / 1024 - 4)) GiB copy: $((free / 1024)) GiB free)"
			B_NOTES+=("standby, $label tickets: $how")
		else
			bench_row "5. the report rows on the standby, $label tickets" \
				"skipped: a standby is a copy of the $((need / 1024 - 4)) GiB database, and the disk has $((free / 1024)) GiB free (no overlayfs as root either)" \
				"" "" "" ""
			B_NOTES+=("standby, $label tickets: not made (the disk has $((free / 1024)) GiB free, the copy needs $((need / 1024)) GiB with 4 GiB to spare); the primary's rows above are the same queries")
			return 0
		fi
	fi
	dir="$(st_pg_dir "$dir")"
	st_log "growth: waiting for the standby to replay up to $lsn"
	until [[ "$(st_psql "$dir" -d "$B_DB" -At -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" == t ]]; do
		((++waited <= 3600)) || st_die 70 "growth: the standby did not catch up within an hour"
		sleep 1
	done
	out="$(st_psql "$dir" -d "$B_DB" -q -At -v ON_ERROR_STOP=1 -v city="$city" -v runs="$B_RUNS" \
		-v m_from="$m_from" -v m_to="$m_to" -v y_from="$y_from" \
		-f "$ST_ROOT/bench/standby_timing.sql" 2>&1 >/dev/null | sed -n 's/^.*NOTICE: *//p')"
	printf '  standby: %s\n' "${out//$'\n'/$'\n'  standby: }" >&2
	if ((overlay)); then
		bench_standby_stop
		st_pg_start "$B_PGDIR" "$B_PGPORT"
	fi
	target=$([[ "$label" == 10M ]] && echo 200 || echo 50)
	while read -r name med max; do
		[[ -n "$name" ]] || continue
		met=no
		bench_ge "$target" "$med" && met=yes
		bench_row "5. $name on the standby, $label tickets" \
			"$med ms (median of $B_RUNS; max $max)" \
			"the same query on $how" "" "< $target ms" "$met"
	done <<<"$out"
}

# Stops the standby; an overlay one is unmounted and its layer removed (the
# primary's files were only read).
bench_standby_stop() {
	local dir
	dir="$(bench_standby_dir)"
	st_pg_stop "$dir" || true
	if mountpoint -q "$dir/data" 2>/dev/null; then
		umount "$dir/data" && rm -rf -- "$(bench_standby_layers)" "$dir"
	fi
}

# bench/run's cleanup: KEEP (STREETD_KEEP_PG) 1 leaves a copied standby
# running; an overlay one (left by a failure) never stays, and the primary
# it stopped is started again.
bench_standby_cleanup() {
	if mountpoint -q "$(bench_standby_dir)/data" 2>/dev/null; then
		bench_standby_stop
		[[ "$1" != 1 ]] || st_pg_start "$B_PGDIR" "$B_PGPORT"
	elif [[ "$1" != 1 ]]; then
		bench_standby_stop
	fi
}
