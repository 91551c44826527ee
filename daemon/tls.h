/*
 * tls: the daemon's server contexts for streetd's mutual TLS, and the client
 * identity.  What the client side shares with it (context settings, key and
 * file checks, error messages) is in tlsutil/, which streetctl links too;
 * the client context is tlsutil/tls_client.h.
 *
 * A client proves who it is with its certificate: it must chain to tls.ca
 * (and not be revoked by tls.crl when one is set), and its subject CN is the
 * identity (docs/protocol.md). SANs are not consulted.
 *
 * Server contexts: TLS 1.2 or 1.3 (tls.min_version), TLS 1.2 only with ECDHE
 * + AES-GCM or ChaCha20-Poly1305, TLS 1.3 default suites; no renegotiation,
 * no resumption (no tickets, no session cache: every new connection is a full
 * handshake that verifies the client certificate again, against the CRL of
 * the context it was accepted on);
 * SSL_OP_IGNORE_UNEXPECTED_EOF (a peer that closes without close_notify is an
 * EOF, not an error: the line framing detects truncation) and
 * SSL_MODE_RELEASE_BUFFERS (~14 instead of ~22 KiB per idle session).
 *
 * Reload: on SIGHUP the daemon calls tls_server_ctx() again and, when it
 * succeeds, uses the new context for new connections. SSL_CTX is reference
 * counted: every SSL made from the old context holds its own reference, so
 * the daemon drops its reference with SSL_CTX_free(old) right after the swap
 * and the old context goes away with its last connection. When it fails, the
 * old context stays in use and err says why.
 *
 * Files are read here and in tlsutil/ (the key file's mode is checked: I/O,
 * so not lib/). Errors are one line naming the config key, the file
 * and OpenSSL's reason, e.g.
 *   tls.key /etc/streetd/server.key: mode 0644 is readable by others; chmod 600 it
 * and the OpenSSL error queue is left empty.
 */
#ifndef STREETD_TLS_H
#define STREETD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

/* Longest CN accepted, in bytes (X.509's ub-common-name is 64 characters). */
#define TLS_CN_MAX 64
/* A buffer that holds any accepted CN and its NUL. */
#define TLS_CN_SIZE (TLS_CN_MAX + 1)

/*
 * Builds a server context from cfg->tls:
 *   cert         certificate chain (PEM, leaf first)
 *   key          its private key (PEM, unencrypted); refused unless it is a
 *                regular file with no group or other permission bits
 *   ca           CA certificates (PEM) client certificates must chain to;
 *                also the CA names sent in the certificate request
 *   crl          "" for none, or PEM CRL(s), each signed by a CA in tls.ca
 *                and currently valid; only the client certificate itself is
 *                checked (X509_V_FLAG_CRL_CHECK). A CRL that passes its
 *                nextUpdate makes every client fail with "CRL has expired":
 *                publish a new one and SIGHUP before then.
 *   min_version  CONFIG_TLS_1_2 or CONFIG_TLS_1_3
 * Client certificates are required (verify depth 4) and must allow client
 * use (extendedKeyUsage clientAuth when present).
 * Returns a new context (the caller owns one reference: SSL_CTX_free()), or
 * NULL with a one-line message in err (errlen bytes, may be 0).
 */
SSL_CTX *tls_server_ctx(const struct streetd_config *cfg, char *err, size_t errlen);

/*
 * After a successful handshake: copies the peer certificate's subject CN
 * into cn (cap bytes: TLS_CN_SIZE is enough) and returns 0; or returns -1
 * (cn then "") when the handshake is not finished, there is no peer
 * certificate, SSL_get_verify_result() is not X509_V_OK, or the subject does
 * not hold exactly one CN of 1..TLS_CN_MAX bytes of UTF-8 without NUL or
 * control characters (C0, DEL, C1). tls_verify_error() tells which.
 */
int tls_peer_cn(const SSL *ssl, char *cn, size_t cap);

/*
 * Why the peer is not (or would not be) accepted, for the log: the
 * verification error ("certificate revoked", "unable to get local issuer
 * certificate"...), "no peer certificate", "handshake not finished", or what
 * is wrong with the CN; "ok" when tls_peer_cn() would succeed. Useful after a
 * failed handshake too. A static string: never freed.
 */
const char *tls_verify_error(const SSL *ssl);

/*
 * A certificate's identity as account pins record it
 * (sql/migrations/011_account_pin.sql): the SHA-256 of its issuer's and of
 * its own SubjectPublicKeyInfo (DER) as lower-case hex, and its serial number
 * as upper-case hex without leading zeros ("0" for zero).
 */
#define TLS_SERIAL_HEX_MAX 64 /* 32 bytes: RFC 5280 allows 20 */
struct tls_pins {
	char issuer_spki[65];
	char spki[65];
	char serial[TLS_SERIAL_HEX_MAX + 2]; /* a negative serial has a '-' */
};

/*
 * After a successful handshake: the pins of the peer certificate, its issuer
 * taken from the verified chain (the CA in tls.ca that vouched for it; a
 * certificate trusted directly is its own issuer). Returns 0, or -1 (p then
 * all "") without a verified chain or for a serial longer than 32 bytes.
 */
int tls_peer_pins(const SSL *ssl, struct tls_pins *p);

/* The number of CA certificates in ctx's trust store (tls.ca). */
int tls_ctx_ca_count(SSL_CTX *ctx);

/*
 * Verifies the peer certificate of ssl (a finished server-side handshake)
 * again, the way a new handshake on ctx would: ctx's CAs, CRLs, depth and
 * purpose, at the current time. For the sessions still open after a reload.
 * Returns X509_V_OK when it would be accepted, else the X509_V_ERR_* code
 * (X509_V_ERR_CERT_REVOKED...; X509_verify_cert_error_string() words it).
 * Revocation is checked before expiry, so a revoked certificate is reported
 * as revoked whatever else is wrong with it.
 */
int tls_peer_recheck(SSL_CTX *ctx, const SSL *ssl);

/*
 * The CRL in ctx's store (tls.crl) that expires first: its nextUpdate as
 * seconds from now (negative once passed) in *left, its issuer (one line)
 * and its nextUpdate (2026-03-01T09:15:02Z) in the buffers. Returns 1, or 0
 * when the store holds no CRL with a nextUpdate.
 */
int tls_ctx_crl_next_update(SSL_CTX *ctx, long long *left, char *issuer, size_t issuer_cap,
                            char *when, size_t when_cap);

#endif /* STREETD_TLS_H */
