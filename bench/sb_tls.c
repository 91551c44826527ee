#include "sb_tls.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"

static void sb_tls_errors(const char *what)
{
	char buf[256];
	unsigned long e;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		sb_log("%s: %s", what, buf);
	}
}

SSL_CTX *sb_tls_client_ctx(const char *dir, const char *login)
{
	char crt[4096], key[4096], ca[4096];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, login ? login : "(none)");
	snprintf(key, sizeof(key), "%s/%s.key", dir, login ? login : "(none)");
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	if (!ctx)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    (login && (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
	               SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	               SSL_CTX_check_private_key(ctx) != 1)) ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
fail:
	sb_tls_errors(crt);
	sb_log("cannot make a TLS client context for %s (files %s, %s, %s)",
	       login ? login : "no certificate", crt, key, ca);
	SSL_CTX_free(ctx);
	return NULL;
}

int sb_tls_client_ctxs(const char *dir, const char *logins, SSL_CTX **out, int max)
{
	char *copy = strdup(logins), *save = NULL, *tok;
	int n = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			sb_log("too many logins (at most %d)", max);
			break;
		}
		out[n] = sb_tls_client_ctx(dir, tok);
		if (!out[n]) {
			while (n > 0)
				SSL_CTX_free(out[--n]);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	return n;
}
