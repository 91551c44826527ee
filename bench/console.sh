# shellcheck shell=bash
# bench/console.sh — sourced by bench/run: measurement "console" (issue 15,
# "How fast"): the first meaningful paint of the supervisor's overdue board
# with 1 M tickets in the database, in Chromium over loopback
# (bench/console.mjs, median of $BENCH_CONSOLE_LOADS loads, default 9, after
# one warm-up), as the city-wide supervisor ma.jun (every ticket in scope);
# and the console's JS + CSS size (what tests/unit/test_web.mjs's size mode
# sums).  The 1 M tickets: bench/growth.sql (bench_growth_add), no fold (the
# board reads tickets, not the rollups).  streetd runs without its sweeper
# here: the generated deadlines were never swept (bench/run's BENCH_REUSE_DB).
# Then a change made on streetd's socket appearing on an open ticket page
# (issue 15: "within 1 s"): $BENCH_CONSOLE_PUSHES (default 100) comments sent
# as ma.jun on the line protocol, one at a time, each timed from its write to
# its row in the page's timeline (bench/console.mjs); 0 skips it.
# BENCH_CONSOLE_VARIANTS="NAME=DIR …" (copies of clients/web): instead of the
# rows, the variants compared on the same daemon and browser, taking turns
# load by load ($BENCH_CONSOLE_LOADS each), their medians logged (and in
# var-bench/console.log): how a change to the console is measured.
# How Chromium holds ma.jun's certificate (bench/console.mjs's header): by
# default its own, from an NSS database in a private HOME (certutil and
# pk12util: libnss3-tools, installed here when missing), as a clerk's browser
# does; BENCH_CONSOLE_PROXY=1: playwright's TLS-terminating proxy (two
# handshakes a connection, sessions 6 and 7); BENCH_CONSOLE_PROXY=both: the
# two, load by load, the row native and the proxy's figure in the notes.

# bench_console_size: bytes of the console's .js/.mjs/.css files.
bench_console_size() {
	find "$ST_ROOT/clients/web" -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.css' \) \
		-printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# bench_console_variants LOADS: see the header.
bench_console_variants() {
	local link="$B_STATE/console-web" first
	first="${BENCH_CONSOLE_VARIANTS%% *}"
	ln -sfn "${first#*=}" "$link"
	st_log "console: variants $BENCH_CONSOLE_VARIANTS, $1 loads each, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	bench_daemon_start --set sweeper.enabled=false --set "http.web_root=$link"
	bench_wait_port "$B_HTTP_PORT" 30 || st_die 70 "streetd's HTTPS listener is not up on $B_HTTP_PORT"
	BENCH_CONSOLE_ROOT="$link" node "$ST_ROOT/bench/console.mjs" "https://127.0.0.1:$B_HTTP_PORT" "$B_TLS" ma.jun "$1" \
		2>>"$B_STATE/console.log" | tee -a "$B_STATE/console.log" | grep -E '^(variant|client certificate)' | while read -r line; do st_log "console: $line"; done
	st_log "console: load average after $(cut -d' ' -f1-3 /proc/loadavg)"
	bench_daemon_stop
	bench_daemon_start
}

bench_measure_console() {
	local have out median min max rows size met push pmed pp99 pmax pn prtt how modes line
	local loads=${BENCH_CONSOLE_LOADS:-9} pushes=${BENCH_CONSOLE_PUSHES:-100}
	command -v chromium >/dev/null || st_die 69 "console: no chromium (apt-get install chromium)"
	[[ "${BENCH_CONSOLE_PROXY:-}" == 1 ]] || st_ensure_deps libnss3-tools
	if [[ ! -d "$ST_ROOT/tests/browser/node_modules/playwright-core" ]]; then
		st_log "console: npm ci in tests/browser (playwright-core)"
		(cd "$ST_ROOT/tests/browser" && npm ci --no-audit --no-fund >/dev/null)
	fi
	bench_daemon_stop # no sweeper while the tickets are made
	have="$(bench_sql "SELECT count(*) FROM street.ticket")"
	if ((have < 1000000)); then
		st_log "console: adding $((1000000 - have)) tickets (to 1,000,000)"
		bench_growth_add $((1000000 - have))
	fi
	have="$(bench_sql "SELECT count(*) FROM street.ticket")"
	if [[ -n "${BENCH_CONSOLE_VARIANTS:-}" ]]; then
		bench_console_variants "$loads"
		return
	fi
	st_log "console: streetd with the console (http.web_root clients/web) on https://127.0.0.1:$B_HTTP_PORT"
	bench_daemon_start --set sweeper.enabled=false --set "http.web_root=$ST_ROOT/clients/web"
	bench_wait_port "$B_HTTP_PORT" 30 || st_die 70 "streetd's HTTPS listener is not up on $B_HTTP_PORT"
	out="$(node "$ST_ROOT/bench/console.mjs" "https://127.0.0.1:$B_HTTP_PORT" "$B_TLS" ma.jun "$loads" \
		"127.0.0.1:$B_PORT" "$pushes" 2>>"$B_STATE/console.log" | tee -a "$B_STATE/console.log" |
		grep -E '^(client certificate:|mode |push |median )')"
	push="$(grep '^push ' <<<"$out" || true)"
	how="$(grep '^client certificate' <<<"$out" || true)"
	st_log "console: $how"
	modes="$(grep '^mode ' <<<"$out" || true)"
	out="$(grep '^median ' <<<"$out" | tail -n 1)"
	read -r _ median _ min _ max _ rows <<<"$out"
	[[ -n "$median" ]] || st_die 70 "console: no figure (log: var-bench/console.log)"
	met=no
	bench_ge 1000 "$median" && met=yes
	bench_row "8. console: supervisor board, first rows drawn ($(bench_fmt "$have") tickets, $rows rows, Chromium, median of $loads loads)" \
		"$(bench_fmt "$median" 0) ms (min $(bench_fmt "$min" 0), max $(bench_fmt "$max" 0))" "—" "—" "< 1000 ms" "$met"
	if [[ -n "$push" ]]; then
		read -r _ _ pmed _ pp99 _ pmax _ pn _ prtt <<<"$push"
		met=no
		bench_ge 1000 "$pp99" && met=yes
		bench_row "8c. console: a comment sent on streetd's socket shown on an open ticket page, request written to row drawn (Chromium, $pn comments one at a time)" \
			"median $(bench_fmt "$pmed" 0) ms, p99 $(bench_fmt "$pp99" 0) ms (max $(bench_fmt "$pmax" 0); the comment's own round trip $(bench_fmt "$prtt" 0) ms)" "—" "—" "< 1000 ms" "$met"
	fi
	size="$(bench_console_size)"
	met=no
	((size < 204800)) && met=yes
	bench_row "8b. console: JS + CSS of clients/web (uncompressed, Debian's libraries excluded)" \
		"$(bench_fmt "$(bench_calc "$size / 1024")" 1) KiB" "—" "—" "< 200 KiB" "$met"
	if [[ "${BENCH_CONSOLE_PROXY:-}" == 1 ]]; then
		how="Playwright gives Chromium the client certificate through a TLS-terminating proxy in its node process (BENCH_CONSOLE_PROXY=1): each of the page's connections is two handshakes there, and that proxy's CPU is part of the figure."
	else
		how="Chromium holds the client certificate itself, as a clerk's browser does: ma.jun's PKCS#12 (scripts/streetd-admin cert-export) imported into the NSS database of a private HOME, the bench's CA trusted there, the certificate selected for the origin without a prompt by the profile's auto-select-certificate setting (what the AutoSelectCertificateForUrls policy sets; nothing written outside a temporary folder)."
	fi
	while read -r line; do
		[[ -n "$line" ]] || continue
		st_log "console: $line"
		how+=" Same run, loads taking turns: ${line#mode }."
	done <<<"$modes"
	B_NOTES+=("Console: a fresh Chromium context per load (new connections, TLS handshakes with ma.jun's certificate, no cache), from navigation start to performance.mark('board-first-rows'), which the board sets in the animation frame after its first page of the overdue op (100 tickets, most overdue first, city-wide) is in the DOM (bench/console.mjs; the page asks whoami, categories, departments, places without the grids' boundaries and that first page all at once). $how BENCH_CONSOLE_DETAIL=1 logs each load's waterfall to var-bench/console.log.")
	bench_daemon_stop
	bench_daemon_start
}
