#!/bin/sh
# streetctl links tlsutil/, not the daemon's sources: no server context, CRL
# or peer-CN code and no daemon logger may end up in the client.
# Usage: test_streetctl_link.sh PATH-TO-STREETCTL
set -eu
exe=$1
syms=$(nm --defined-only "$exe")
for want in tls_client_ctx tls_client_set_host; do
	if ! printf '%s\n' "$syms" | grep -q " $want\$"; then
		echo "streetctl lacks $want" >&2
		exit 1
	fi
done
bad=$(printf '%s\n' "$syms" | grep -E ' (tls_server_ctx|tls_load_crl|tls_peer_cn|tls_verify_error|log_msg|log_quote|fatal)(\.|$)' || true)
if [ -n "$bad" ]; then
	printf 'streetctl carries daemon code:\n%s\n' "$bad" >&2
	exit 1
fi
echo "ok: streetctl has the client TLS code and none of the daemon's"
