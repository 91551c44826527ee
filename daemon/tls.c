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

/* A key file is a few hundred bytes; anything this large is not one. */
#define TLS_KEY_FILE_MAX (64 * 1024)

/* Names used in messages: the config keys for the server, plain words for clients. */
struct tls_labels {
	const char *cert, *key, *ca;
};

static const struct tls_labels tls_server_labels = { "tls.cert", "tls.key", "tls.ca" };
static const struct tls_labels tls_client_labels = { "certificate", "key", "CA file" };

/*
 * Drains this thread's OpenSSL error queue into buf as "reason (library)"
 * pieces joined by ": ", root cause last, so the message reads from what
 * failed to why; "unknown error" when the queue was empty.
 */
static void tls_reasons(char *buf, size_t cap)
{
	char pieces[4][160];
	int n = 0;
	unsigned long e;
	const char *data;
	int flags;
	size_t used = 0;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *reason = ERR_reason_error_string(e);
		const char *lib = ERR_lib_error_string(e);
		char *p;

		if (n == (int)(sizeof(pieces) / sizeof(pieces[0])))
			continue; /* still drained */
		p = pieces[n++];
		snprintf(p, sizeof(pieces[0]), "%s", reason != NULL ? reason : "error");
		if (lib != NULL)
			snprintf(p + strlen(p), sizeof(pieces[0]) - strlen(p), " (%s)", lib);
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0')
			snprintf(p + strlen(p), sizeof(pieces[0]) - strlen(p), " [%s]", data);
	}
	if (cap == 0)
		return;
	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, cap, "unknown error");
		return;
	}
	/* OpenSSL queues the root cause first; print the outermost error first. */
	for (int i = n - 1; i >= 0 && used < cap; i--) {
		int r = snprintf(buf + used, cap - used, "%s%s", i == n - 1 ? "" : ": ", pieces[i]);

		if (r < 0)
			break;
		used += (size_t)r;
	}
}

__attribute__((format(printf, 3, 4))) static void tls_fail(char *err, size_t errlen,
                                                           const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Fails with "LABEL PATH: WHAT: <OpenSSL reasons>", draining the queue. */
static void tls_fail_ssl(char *err, size_t errlen, const char *label, const char *path,
                         const char *what)
{
	char reasons[512];

	tls_reasons(reasons, sizeof(reasons));
	tls_fail(err, errlen, "%s %s: %s: %s", label, path, what, reasons);
}

/* The file exists and is a regular file: a clear message before OpenSSL's own. */
static int tls_check_file(const char *label, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path == NULL || path[0] == '\0') {
		tls_fail(err, errlen, "%s: no file given", label);
		return -1;
	}
	if (stat(path, &st) != 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		tls_fail(err, errlen, "%s %s: not a regular file", label, path);
		return -1;
	}
	return 0;
}

static int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1; /* never prompt on a terminal: a daemon has none */
}

/*
 * Opens the key file, checks through the same descriptor that it is a
 * regular file nobody but its owner may read or write, and parses it.
 * Returns the key, or NULL with err filled.
 */

/*
 * systemd hands LoadCredential= files to the service in a directory only it
 * can reach; where it cannot use ramfs it grants access with an ACL, which
 * stat shows as group bits.  There, only "others" matter.
 */
static bool in_credentials_dir(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t n = dir ? strlen(dir) : 0;

	return n > 1 && strncmp(path, dir, n) == 0 && path[n] == '/' && !strstr(path + n, "/..");
}

static EVP_PKEY *tls_load_key(const char *label, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int fd;

	if (path == NULL || path[0] == '\0') {
		tls_fail(err, errlen, "%s: no file given", label);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO must not hang start-up; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		tls_fail(err, errlen, "%s %s: not a regular file", label, path);
		goto out;
	}
	if (st.st_mode & (in_credentials_dir(path) ? 007 : 077)) {
		mode_t m = st.st_mode;
		const char *how, *who;

		if (m & 044)
			how = "readable", who = (m & 004) ? "others" : "group";
		else if (m & 022)
			how = "writable", who = (m & 002) ? "others" : "group";
		else
			how = "accessible", who = (m & 007) ? "others" : "group";
		tls_fail(err, errlen, "%s %s: mode 0%03o is %s by %s; chmod 600 it", label, path,
		         (unsigned)(m & 07777), how, who);
		goto out;
	}
	if (st.st_size > TLS_KEY_FILE_MAX) {
		tls_fail(err, errlen, "%s %s: %lld bytes is too large for a key file", label, path,
		         (long long)st.st_size);
		goto out;
	}
	text = malloc(TLS_KEY_FILE_MAX + 1);
	if (text == NULL) {
		tls_fail(err, errlen, "%s %s: out of memory", label, path);
		goto out;
	}
	while (len < TLS_KEY_FILE_MAX) {
		ssize_t r = read(fd, text + len, TLS_KEY_FILE_MAX - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	if (strstr(text, "ENCRYPTED") != NULL) {
		tls_fail(err, errlen,
		         "%s %s: the key is encrypted; give streetd an unencrypted key (mode 600)",
		         label, path);
		goto out;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL) {
		tls_fail_ssl(err, errlen, label, path, "cannot read the private key");
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		tls_fail_ssl(err, errlen, label, path, "cannot read the private key (PEM)");
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	close(fd);
	return pkey;
}

/* Loads cert and key into ctx and checks that they belong together. */
static int tls_use_pair(SSL_CTX *ctx, const struct tls_labels *lb, const char *cert,
                        const char *key, char *err, size_t errlen)
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

/* Settings both sides share: protocol floor, TLS 1.2 ciphers, options. */
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
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		char reasons[512];

		tls_reasons(reasons, sizeof(reasons));
		tls_fail(err, errlen, "cannot create a TLS context: %s", reasons);
		return NULL;
	}
	if (tls_common(ctx, min, err, errlen) != 0)
		goto fail;
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
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		char reasons[512];

		tls_reasons(reasons, sizeof(reasons));
		tls_fail(err, errlen, "cannot create a TLS context: %s", reasons);
		return NULL;
	}
	if (tls_common(ctx, TLS1_2_VERSION, err, errlen) != 0)
		goto fail;
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

/*
 * Decodes the UTF-8 character at s (n bytes left) into *cp; returns its
 * length, or 0 when s does not start a valid, shortest-form character.
 */
static size_t tls_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2, c = s[0] & 0x1F, min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3, c = s[0] & 0x0F, min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
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
		size_t len = tls_utf8(s + i, n - i, &c);

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
