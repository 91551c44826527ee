/* tls_client: see tls_client.h. */
#include "tls_client.h"

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_ctx.h"
#include "tls_err.h"
#include "tls_files.h"

static const struct tls_labels tls_client_labels = { "certificate", "key", "CA file" };

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	const struct tls_labels *lb = &tls_client_labels;
	SSL_CTX *ctx;

	tls_fail(err, errlen, "unknown error");
	ERR_clear_error();
	if ((cert == NULL) != (key == NULL)) {
		tls_fail(err, errlen,
		         "a client certificate needs its key, and a key its certificate");
		return NULL;
	}
	ctx = tls_ctx_new(TLS_client_method(), TLS1_2_VERSION, err, errlen);
	if (ctx == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (tls_check_file(lb->ca, ca, err, errlen) != 0)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_fail_ssl(err, errlen, lb->ca, ca, "cannot load CA certificates");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	if (cert != NULL && tls_use_pair(ctx, lb, cert, key, err, errlen) != 0)
		goto fail;
	if (errlen > 0)
		err[0] = '\0';
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

int tls_client_set_host(SSL *ssl, const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (host == NULL || host[0] == '\0')
		return -1;
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
		/* RFC 6066: SNI carries names only, never address literals. */
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1)
			goto fail;
		return 0;
	}
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	return -1;
}
