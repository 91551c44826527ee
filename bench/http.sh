# shellcheck shell=bash
# bench/http.sh: measurement "http" of bench/run (BENCH_ONLY=http), issue 14:
# HTTPS keep-alive requests/s of streetd's GET /metrics and Open311's GET /open311/v2/services.json
# against nginx (Debian's nginx-light) serving the same bytes as static files,
# with the same certificate and TLS settings (TLS 1.2+, the same 1.2 ciphers,
# no tickets or session cache, a client certificate asked for but optional)
# and the same security headers, both driven by h2load --h1 (nghttp2-client)
# with $BENCH_HTTP_CLIENTS (16) keep-alive connections on one thread, taking
# turns for $BENCH_ROUNDS rounds of $BENCH_SECONDS s (2 s warm-up); the ratio
# is the median of the rounds'.  nginx runs as this user, one worker, on
# BENCH_PORT+3 with a config written under var-bench/nginx/; streetd's HTTPS
# listener is on BENCH_PORT+2.  If /open311/v2/services.json does not answer
# 200, its row measures GET /healthz instead and says so.
# Sourced by bench/run; functions start with bench_http, variables B_HTTP.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	echo "bench/http.sh: sourced by bench/run, do not run it (bench/run --help)" >&2
	exit 64
fi

# Bench-only packages (not in ST_PACKAGES): bench/run adds them to its package
# step when the http measurement runs.
# shellcheck disable=SC2034 # read by bench/run
B_HTTP_PACKAGES=(nginx-light nghttp2-client)
B_HTTP_CLIENTS="${BENCH_HTTP_CLIENTS:-16}"
B_HTTP_NGINX_PID=""

# The headers streetd puts on every answer (daemon/http.c), for nginx to send too.
bench_http_headers() {
	cat <<'HDR'
		add_header Content-Security-Policy "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'" always;
		add_header Strict-Transport-Security "max-age=31536000" always;
		add_header X-Content-Type-Options nosniff always;
		add_header X-Frame-Options DENY always;
		add_header Referrer-Policy no-referrer always;
		add_header Cross-Origin-Opener-Policy same-origin always;
		add_header Cross-Origin-Resource-Policy same-origin always;
		add_header Permissions-Policy "camera=(), microphone=(), geolocation=(self)" always;
		add_header Cache-Control no-store always;
HDR
}

# bench_http_nginx_start PORT ROOT: nginx as this user on 127.0.0.1:PORT.
bench_http_nginx_start() {
	local port=$1 root=$2 dir="$B_STATE/nginx" i
	mkdir -p "$dir/tmp" "$dir/logs"
	cat >"$dir/nginx.conf" <<CONF
# Written by bench/run (bench/http.sh); rewritten at every run.
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	types { text/plain metrics; application/json json; }
	keepalive_requests 100000000;
	keepalive_timeout 60s;
	server_tokens off;
	server {
		listen 127.0.0.1:$port ssl;
		root $root;
		ssl_certificate $B_TLS/server.crt;
		ssl_certificate_key $B_TLS/server.key;
		ssl_client_certificate $B_TLS/ca.crt;
		ssl_verify_client optional;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
		ssl_prefer_server_ciphers on;
		ssl_session_tickets off;
		ssl_session_cache off;
		location = /metrics { default_type "text/plain; version=0.0.4; charset=utf-8"; }
		location = /open311/v2/services.json { default_type "application/json; charset=utf-8"; }
		location = /healthz { default_type "text/plain; charset=utf-8"; }
$(bench_http_headers)
	}
}
CONF
	nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >>"$dir/logs/stderr.log" 2>&1 &
	B_HTTP_NGINX_PID=$!
	for ((i = 0; i < 100; i++)); do
		kill -0 "$B_HTTP_NGINX_PID" 2>/dev/null || st_die 70 "nginx exited at start (log: $dir/logs)"
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	st_die 70 "nginx does not listen on 127.0.0.1:$port (log: $dir/logs)"
}

bench_http_nginx_stop() {
	[[ -n "$B_HTTP_NGINX_PID" ]] || return 0
	kill -TERM "$B_HTTP_NGINX_PID" 2>/dev/null || true
	wait "$B_HTTP_NGINX_PID" 2>/dev/null || true
	B_HTTP_NGINX_PID=""
}

# bench_http_h2load URL: requests/s of h2load --h1 for B_SECONDS (or empty).
bench_http_h2load() {
	local out
	out="$(timeout -k 5 $((B_SECONDS + 30)) h2load --h1 -c "$B_HTTP_CLIENTS" -t 1 \
		--warm-up-time 2 -D "$B_SECONDS" "$1" 2>>"$B_STATE/h2load.log")" || true
	printf '%s\n' "$out" >>"$B_STATE/h2load.log"
	# "finished in 10.00s, 12345.67 req/s, ..." and no failed request
	grep -q 'requests: .* 0 failed' <<<"$out" || return 0
	sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out"
}

# bench_http_row LABEL PATH: streetd and nginx take turns on PATH.
bench_http_row() {
	local label=$1 path=$2 round s n ratios="" ss="" ns="" ratio met
	for ((round = 1; round <= B_ROUNDS; round++)); do
		s="$(bench_http_h2load "https://127.0.0.1:$B_HTTP_PORT$path")"
		n="$(bench_http_h2load "https://127.0.0.1:$B_HTTP_NGINX_PORT$path")"
		st_log "http: $path round $round/$B_ROUNDS: streetd ${s:-failed} req/s, nginx ${n:-failed} req/s"
		[[ -n "$s" && -n "$n" ]] || continue
		ss+="$s "
		ns+="$n "
		ratios+="$(bench_calc "$s / $n") "
	done
	if [[ -z "$ratios" ]]; then
		bench_row "$label" "failed" "see $B_STATE/h2load.log" "" "≥ 0.8 × nginx" "no"
		return
	fi
	# shellcheck disable=SC2086 # word lists
	ratio="$(bench_median $ratios)"
	met=no
	bench_ge "$ratio" 0.8 && met=yes
	# shellcheck disable=SC2086
	bench_row "$label" "$(bench_fmt "$(bench_median $ss)") req/s" \
		"nginx $(bench_fmt "$(bench_median $ns)") req/s (same bytes, static file)" \
		"$(bench_fmt "$ratio" 2) (rounds: $(for x in $ratios; do printf '%s ' "$(bench_fmt "$x" 2)"; done | sed 's/ $//'))" \
		"≥ 0.8 × nginx" "$met"
}

bench_measure_http() {
	local root="$B_STATE/nginx/www" code spath="/open311/v2/services.json" slabel
	B_HTTP_PORT=$((B_PORT + 2))
	B_HTTP_NGINX_PORT=$((B_PORT + 3))
	st_log "http: restarting streetd with its HTTPS listener on 127.0.0.1:$B_HTTP_PORT"
	bench_daemon_stop
	bench_daemon_start --set http.enabled=true --set "http.listen=127.0.0.1:$B_HTTP_PORT"
	bench_wait_port "$B_HTTP_PORT" 30 || st_die 70 "streetd's HTTPS listener is not up on $B_HTTP_PORT"
	mkdir -p "$root/open311/v2"
	: >"$B_STATE/h2load.log"
	# the same bytes: what streetd answers now, as static files
	curl -sS --cacert "$B_TLS/ca.crt" -o "$root/metrics" "https://127.0.0.1:$B_HTTP_PORT/metrics"
	code="$(curl -sS --cacert "$B_TLS/ca.crt" -o "$root$spath" -w '%{http_code}' \
		"https://127.0.0.1:$B_HTTP_PORT$spath")"
	slabel="7. HTTPS keep-alive requests/s, GET $spath ($(wc -c <"$root$spath") bytes)"
	if [[ "$code" != 200 ]]; then
		spath=/healthz
		slabel="7. HTTPS keep-alive requests/s, GET /healthz (stand-in: $spath answered $code)"
		curl -sS --cacert "$B_TLS/ca.crt" -o "$root/healthz" "https://127.0.0.1:$B_HTTP_PORT/healthz"
	fi
	bench_http_nginx_start "$B_HTTP_NGINX_PORT" "$root"
	bench_http_row "7. HTTPS keep-alive requests/s, GET /metrics ($(wc -c <"$root/metrics") bytes)" /metrics
	bench_http_row "$slabel" "$spath"
	bench_http_nginx_stop
	B_NOTES+=("HTTPS: h2load --h1, $B_HTTP_CLIENTS keep-alive connections on one thread, ${B_SECONDS} s per turn after 2 s warm-up; nginx-light, one worker, the same certificate, TLS settings and headers (bench/http.sh). /metrics: the bytes of one scrape; streetd renders it anew for every request.")
}
