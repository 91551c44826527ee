#!/usr/bin/env bash
# The benchmark's load generator keeps building (with -Werror, as bench/run
# builds it) and its daemon-free measurement works: bench/run is not part of
# the suite, so without this test a change could break it unnoticed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/../.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/benchtool.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { # name, expected, actual
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
}

"$root/bench/build" "$tmp/streetbench"
check "builds" "yes" "$([ -x "$tmp/streetbench" ] && echo yes || echo no)"

"$tmp/streetbench" --help >"$tmp/help"
for mode in actions idle push handshakes hostile rtt pingpong; do
	check "--help names $mode" "1" "$(grep -c "^  $mode " "$tmp/help" || true)"
done

check "--help names hostile's --http" "1" "$(grep -c '^  hostile .*--http PORT' "$tmp/help" || true)"

rc=0
"$tmp/streetbench" nosuchmode 2>/dev/null || rc=$?
check "unknown mode is a usage error" "64" "$rc"

out=$("$tmp/streetbench" pingpong --warmup 0 --seconds 0.3)
echo "$out"
check "pingpong prints its line" "pingpong" "${out%% *}"
n=$(sed -n 's/.* round_trips=\([0-9]*\) .*/\1/p' <<<"$out")
check "pingpong made round trips" "yes" "$([ "${n:-0}" -gt 0 ] && echo yes || echo no)"

# rtt against a port nobody listens on: a clear failure line, status 1
rc=0
out=$("$tmp/streetbench" rtt --port 1 --tls "$tmp" --seconds 0.2 --setup-timeout 5 2>/dev/null) || rc=$?
check "rtt without a daemon fails" "1" "$rc"
check "rtt says so" "rtt status=failed" "$(cut -d' ' -f1-2 <<<"$out")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
