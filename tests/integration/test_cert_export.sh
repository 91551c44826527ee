#!/usr/bin/env bash
# streetd-admin cert-export (issue 15): an account's certificate, key and CA as
# PKCS#12 for a browser.  openssl reads it back with the password (and not
# without it); the password comes from a file or the environment, never the
# command line; no password and no terminal is a usage error; an existing
# file is never overwritten; the file is 0600.
set -euo pipefail
admin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$admin" ca-init "$tmp/ca" >/dev/null
"$admin" client-cert "$tmp/ca" wang.fang >/dev/null
printf 'correct horse battery\n' >"$tmp/pw"

"$admin" cert-export "$tmp/ca" wang.fang --password-file "$tmp/pw" </dev/null >/dev/null
p12="$tmp/ca/wang.fang.p12"
[[ -s "$p12" ]] && ok "wrote $p12" || bad "no $p12"
[[ "$(stat -c %a "$p12")" == 600 ]] && ok "mode 0600" || bad "mode $(stat -c %a "$p12")"
out="$(openssl pkcs12 -in "$p12" -passin file:"$tmp/pw" -nodes 2>/dev/null)"
grep -q 'CN = wang.fang' <<<"$out" && ok "holds the account's certificate" || bad "no CN wang.fang in: $out"
grep -q 'CN = streetd CA' <<<"$out" && ok "and the CA" || bad "no CA"
grep -q 'BEGIN PRIVATE KEY' <<<"$out" && ok "and the key" || bad "no key"
# the key in the file is the account's key
a="$(openssl pkey -in "$tmp/ca/wang.fang.key" -pubout)"
b="$(openssl pkcs12 -in "$p12" -passin file:"$tmp/pw" -nocerts -nodes 2>/dev/null | openssl pkey -pubout)"
[[ "$a" == "$b" ]] && ok "the same key pair" || bad "another key"
printf 'wrong password\n' >"$tmp/wrong"
if openssl pkcs12 -in "$p12" -passin file:"$tmp/wrong" -nodes >/dev/null 2>&1; then
	bad "opened with a wrong password"
else
	ok "a wrong password does not open it"
fi

rc=0
"$admin" cert-export "$tmp/ca" wang.fang --password-file "$tmp/pw" </dev/null >/dev/null 2>&1 || rc=$?
[[ $rc == 73 ]] && ok "refuses to overwrite (73)" || bad "overwrite: status $rc"

rc=0
STREETD_P12_PASSWORD='from the environment' "$admin" cert-export "$tmp/ca" wang.fang --out "$tmp/env.p12" </dev/null >/dev/null || rc=$?
[[ $rc == 0 ]] && openssl pkcs12 -in "$tmp/env.p12" -passin pass:'from the environment' -nodes >/dev/null 2>&1 &&
	ok "password from STREETD_P12_PASSWORD" || bad "env password (status $rc)"

rc=0
env -u STREETD_P12_PASSWORD "$admin" cert-export "$tmp/ca" wang.fang --out "$tmp/none.p12" </dev/null >/dev/null 2>&1 || rc=$?
[[ $rc == 64 && ! -e "$tmp/none.p12" ]] && ok "no password, no terminal: 64, nothing written" || bad "no password: status $rc"

printf 'short\n' >"$tmp/short"
rc=0
"$admin" cert-export "$tmp/ca" wang.fang --out "$tmp/short.p12" --password-file "$tmp/short" </dev/null >/dev/null 2>&1 || rc=$?
[[ $rc == 65 && ! -e "$tmp/short.p12" ]] && ok "a password under 8 characters: 65" || bad "short password: status $rc"

rc=0
"$admin" cert-export "$tmp/ca" nobody.here --password-file "$tmp/pw" </dev/null >/dev/null 2>&1 || rc=$?
[[ $rc == 66 ]] && ok "no such certificate: 66" || bad "missing certificate: status $rc"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
exit $((fails > 0))
