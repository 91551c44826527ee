#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls_ctx.h"
#include "tls_err.h"
#include "tls_files.h"
#include "utf8.h"

static const struct tls_labels tls_server_labels = { "tls.cert", "tls.key", "tls.ca" };

/* Formats an ASN1_TIME as 2026-03-01T09:15:02Z. */
static void tls_time(const ASN1_TIME *t, char *buf, size_t cap)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "?");
}

/* The issuer of crl among the CA certificates in store, if it signed crl. */
static bool tls_crl_signed_by_ca(X509_STORE *store, X509_CRL *crl)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		EVP_PKEY *pub;

		if (ca == NULL ||
		    X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) != 0)
			continue;
		pub = X509_get0_pubkey(ca);
		if (pub != NULL && X509_CRL_verify(crl, pub) == 1)
			return true;
	}
	ERR_clear_error();
	return false;
}

/*
 * Loads every CRL in path into ctx's store and turns on CRL checking of the
 * client certificate. Each CRL must come from a CA in the store (loaded
 * first) and be valid now: otherwise every client would be refused.
 */
static int tls_load_crl(SSL_CTX *ctx, const char *ca, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_CRL *crl;
	BIO *bio;
	int count = 0, rc = -1;

	if (tls_check_file("tls.crl", path, err, errlen) != 0)
		return -1;
	bio = BIO_new_file(path, "r");
	if (bio == NULL) {
		tls_fail_ssl(err, errlen, "tls.crl", path, "cannot open");
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, tls_no_passphrase, NULL)) != NULL) {
		char issuer[256], when[32];
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
		const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl);

		count++;
		X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
		if (!tls_crl_signed_by_ca(store, crl)) {
			tls_fail(
			        err, errlen,
			        "tls.crl %s: CRL %d (issuer %s) is not signed by a CA in tls.ca %s",
			        path, count, issuer, ca);
			goto bad;
		}
		if (last == NULL || X509_cmp_current_time(last) > 0) {
			tls_time(last, when, sizeof(when));
			tls_fail(err, errlen,
			         "tls.crl %s: CRL %d (issuer %s) is not valid before %s; every "
			         "client would be refused",
			         path, count, issuer, when);
			goto bad;
		}
		if (next != NULL && X509_cmp_current_time(next) <= 0) {
			tls_time(next, when, sizeof(when));
			tls_fail(err, errlen,
			         "tls.crl %s: CRL %d (issuer %s) expired at %s; every client would "
			         "be refused: publish a new CRL",
			         path, count, issuer, when);
			goto bad;
		}
		if (X509_STORE_add_crl(store, crl) != 1) {
			tls_fail_ssl(err, errlen, "tls.crl", path, "cannot add the CRL");
			goto bad;
		}
		X509_CRL_free(crl);
	}
	crl = NULL;
	/* The loop ends on "no start line" after the last CRL: expected. */
	if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE && count > 0) {
		ERR_clear_error();
	} else {
		tls_fail_ssl(err, errlen, "tls.crl", path,
		             count == 0 ? "no CRL found (PEM)" : "cannot read a CRL");
		goto bad;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	rc = 0;
bad:
	X509_CRL_free(crl);
	BIO_free(bio);
	return rc;
}

SSL_CTX *tls_server_ctx(const struct streetd_config *cfg, char *err, size_t errlen)
{
	const struct tls_labels *lb = &tls_server_labels;
	STACK_OF(X509_NAME) * names;
	SSL_CTX *ctx;
	int min;

	tls_fail(err, errlen, "unknown error");
	ERR_clear_error(); /* an old error must not show up in our message */
	switch (cfg->tls.min_version) {
	case CONFIG_TLS_1_2:
		min = TLS1_2_VERSION;
		break;
	case CONFIG_TLS_1_3:
		min = TLS1_3_VERSION;
		break;
	default:
		tls_fail(err, errlen, "tls.min_version: 0x%04x is neither 1.2 nor 1.3",
		         (unsigned)cfg->tls.min_version);
		return NULL;
	}
	ctx = tls_ctx_new(TLS_server_method(), min, err, errlen);
	if (ctx == NULL) {
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * No read-ahead: a request read together with the client's Finished would
	 * sit in OpenSSL's buffer, unseen by libevent until more bytes came (the
	 * daemon_* suites fail with it); turned on after the handshake it saved
	 * nothing measurable (one read() per request instead of two).
	 */
	/*
	 * No resumption: every connection verifies the client certificate
	 * afresh, and a TLS 1.3 client that closes with unread tickets would
	 * provoke an RST. NO_TICKET covers TLS 1.2, num_tickets TLS 1.3.
	 */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"streetd", 7);

	if (tls_use_pair(ctx, lb, cfg->tls.cert, cfg->tls.key, err, errlen) != 0)
		goto fail;

	if (tls_check_file(lb->ca, cfg->tls.ca, err, errlen) != 0)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls.ca, NULL) != 1) {
		tls_fail_ssl(err, errlen, lb->ca, cfg->tls.ca, "cannot load CA certificates");
		goto fail;
	}
	names = SSL_load_client_CA_file(cfg->tls.ca);
	if (names == NULL) {
		tls_fail_ssl(err, errlen, lb->ca, cfg->tls.ca, "no CA certificate found");
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* ctx owns names */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);

	if (cfg->tls.crl != NULL && cfg->tls.crl[0] != '\0' &&
	    tls_load_crl(ctx, cfg->tls.ca, cfg->tls.crl, err, errlen) != 0)
		goto fail;

	if (errlen > 0)
		err[0] = '\0';
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

/* Checks the CN as UTF-8 text; returns NULL or what is wrong. */
static const char *tls_cn_text(const unsigned char *s, size_t n)
{
	if (n == 0)
		return "certificate CN is empty";
	if (n > TLS_CN_MAX)
		return "certificate CN is longer than 64 bytes";
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t len = utf8_decode((const char *)s + i, n - i, &c);

		if (len == 0)
			return "certificate CN is not UTF-8";
		if (c == 0)
			return "certificate CN holds a NUL";
		if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
			return "certificate CN holds a control character";
		i += len;
	}
	return NULL;
}

/* The whole check behind tls_peer_cn() and tls_verify_error(). */
static const char *tls_peer_check(const SSL *ssl, char *cn, size_t cap)
{
	X509 *cert;
	const X509_NAME *name;
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	const char *why;
	long result;
	int i, len;

	if (cap > 0)
		cn[0] = '\0';
	/* Verification may have failed before the certificate was kept. */
	result = SSL_get_verify_result(ssl);
	if (result != X509_V_OK)
		return X509_verify_cert_error_string(result);
	cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL)
		return "no peer certificate";
	if (!SSL_is_init_finished(ssl))
		return "handshake not finished";
	name = X509_get_subject_name(cert);
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return "certificate subject has no CN";
	if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return "certificate subject has more than one CN";
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	len = ASN1_STRING_to_UTF8(&utf8, data);
	if (len < 0) {
		ERR_clear_error();
		return "certificate CN is not a valid string";
	}
	why = tls_cn_text(utf8, (size_t)len);
	if (why == NULL && (size_t)len >= cap)
		why = "CN buffer too small";
	if (why == NULL) {
		memcpy(cn, utf8, (size_t)len);
		cn[len] = '\0';
	}
	OPENSSL_free(utf8);
	return why;
}

int tls_peer_cn(const SSL *ssl, char *cn, size_t cap)
{
	return tls_peer_check(ssl, cn, cap) == NULL ? 0 : -1;
}

const char *tls_verify_error(const SSL *ssl)
{
	char cn[TLS_CN_SIZE];
	const char *why = tls_peer_check(ssl, cn, sizeof(cn));

	return why != NULL ? why : "ok";
}

/* The SHA-256 of x's SubjectPublicKeyInfo (DER) as lower-case hex into hex[65]. */
static int tls_spki_sha256(X509 *x, char *hex)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	int ok = len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	         mdlen == 32;

	OPENSSL_free(der);
	if (!ok) {
		ERR_clear_error();
		return -1;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int tls_peer_pins(const SSL *ssl, struct tls_pins *p)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
	X509 *issuer;
	BIGNUM *bn;
	char *hex = NULL;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (leaf == NULL || chain == NULL || sk_X509_num(chain) < 1 ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	/* chain[0] is the leaf; the next one signed it (a self-signed leaf that
	 * tls.ca trusts directly is alone in its chain) */
	issuer = sk_X509_value(chain, sk_X509_num(chain) > 1 ? 1 : 0);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	if (bn != NULL)
		hex = BN_bn2hex(bn);
	if (hex != NULL && strlen(hex) <= TLS_SERIAL_HEX_MAX + (hex[0] == '-') &&
	    tls_spki_sha256(issuer, p->issuer_spki) == 0 && tls_spki_sha256(leaf, p->spki) == 0) {
		/* BN_bn2hex writes whole bytes ("0A"); the pin has no leading zeros */
		const char *digits = hex + (hex[0] == '-');

		while (digits[0] == '0' && digits[1] != '\0')
			digits++;
		snprintf(p->serial, sizeof(p->serial), "%s%s", hex[0] == '-' ? "-" : "", digits);
		rc = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
	if (rc != 0)
		memset(p, 0, sizeof(*p));
	return rc;
}

int tls_ctx_ca_count(SSL_CTX *ctx)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	int n = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
			n++;
	return n;
}

int tls_peer_recheck(SSL_CTX *ctx, const SSL *ssl)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	X509_STORE_CTX *v;
	int rc = X509_V_OK;

	if (leaf == NULL)
		return X509_V_ERR_UNSPECIFIED;
	v = X509_STORE_CTX_new();
	/* what ssl_verify_cert_chain() does for a server: the chain the client
	 * sent as untrusted certificates, the "ssl_client" purpose, ctx's
	 * parameters (depth) over the store's (CRL checking) */
	if (v == NULL ||
	    X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(ctx), leaf,
	                        SSL_get_peer_cert_chain(ssl)) != 1 ||
	    X509_STORE_CTX_set_default(v, "ssl_client") != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(v), SSL_CTX_get0_param(ctx)) != 1) {
		rc = X509_V_ERR_OUT_OF_MEM;
	} else if (X509_verify_cert(v) != 1) {
		rc = X509_STORE_CTX_get_error(v);
		if (rc == X509_V_OK)
			rc = X509_V_ERR_UNSPECIFIED;
	}
	X509_STORE_CTX_free(v);
	ERR_clear_error();
	return rc;
}

int tls_ctx_crl_next_update(SSL_CTX *ctx, long long *left, char *issuer, size_t issuer_cap,
                            char *when, size_t when_cap)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
	X509_CRL *first = NULL;
	long long first_left = 0;

	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
		const ASN1_TIME *next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
		int days, secs;

		if (next == NULL || ASN1_TIME_diff(&days, &secs, NULL, next) != 1)
			continue;
		if (first == NULL || (long long)days * 86400 + secs < first_left) {
			first = crl;
			first_left = (long long)days * 86400 + secs;
		}
	}
	ERR_clear_error();
	if (first == NULL)
		return 0;
	*left = first_left;
	if (issuer_cap > 0)
		X509_NAME_oneline(X509_CRL_get_issuer(first), issuer, (int)issuer_cap);
	tls_time(X509_CRL_get0_nextUpdate(first), when, when_cap);
	return 1;
}
