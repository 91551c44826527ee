/* tls_ctx: see tls_ctx.h. */
#include "tls_ctx.h"

#include <openssl/err.h>

#include "tls_err.h"
#include "tls_files.h"

int tls_use_pair(SSL_CTX *ctx, const struct tls_labels *lb, const char *cert, const char *key,
                 char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	int ok;

	if (tls_check_file(lb->cert, cert, err, errlen) != 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_fail_ssl(err, errlen, lb->cert, cert, "cannot load the certificate chain");
		return -1;
	}
	pkey = tls_load_key(lb->key, key, err, errlen);
	if (pkey == NULL)
		return -1;
	ok = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(pkey);
	if (!ok) {
		char reasons[512];

		tls_reasons(reasons, sizeof(reasons));
		tls_fail(err, errlen, "%s %s does not match the certificate in %s %s: %s", lb->key,
		         key, lb->cert, cert, reasons);
		return -1;
	}
	return 0;
}

static int tls_common(SSL_CTX *ctx, int min_version, char *err, size_t errlen)
{
	if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
		char reasons[512];

		tls_reasons(reasons, sizeof(reasons));
		tls_fail(err, errlen, "cannot set the TLS version or ciphers: %s", reasons);
		return -1;
	}
	/*
	 * IGNORE_UNEXPECTED_EOF: a close without close_notify is EOF, not an
	 * error (libevent would report BEV_EVENT_ERROR); our line framing
	 * notices a truncated message. Renegotiation is never needed.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_NO_COMPRESSION);
	/* bufferevent_openssl may retry a write from a moved buffer. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

SSL_CTX *tls_ctx_new(const SSL_METHOD *method, int min_version, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL) {
		char reasons[512];

		tls_reasons(reasons, sizeof(reasons));
		tls_fail(err, errlen, "cannot create a TLS context: %s", reasons);
		return NULL;
	}
	if (tls_common(ctx, min_version, err, errlen) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
