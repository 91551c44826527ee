/*
 * tls_ctx: what the daemon's server contexts (daemon/tls.c) and the client
 * contexts (tls_client.c) set up alike: protocol floor, TLS 1.2 ciphers,
 * options, and the certificate and key pair.
 */
#ifndef STREET_TLS_CTX_H
#define STREET_TLS_CTX_H

#include <stddef.h>

#include <openssl/ssl.h>

/* The TLS 1.2 cipher list (TLS 1.3 keeps OpenSSL's default suites). */
#define TLS_CIPHERS_12                                                                             \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Names used in messages: the config keys for the server, plain words for clients. */
struct tls_labels {
	const char *cert, *key, *ca;
};

/*
 * A new context of method (TLS_server_method() or TLS_client_method()) with
 * the settings both sides share: min_version (TLS1_2_VERSION or
 * TLS1_3_VERSION) as the floor, TLS_CIPHERS_12, no renegotiation or
 * compression, an EOF without close_notify read as EOF, moving write buffers
 * (bufferevent_openssl).  The caller frees it; NULL with err filled.
 */
SSL_CTX *tls_ctx_new(const SSL_METHOD *method, int min_version, char *err, size_t errlen);

/*
 * Loads the certificate chain cert (PEM, leaf first) and the key (checked by
 * tls_load_key()) into ctx and checks that they belong together; lb names
 * them in messages.  0, or -1 with err filled.
 */
int tls_use_pair(SSL_CTX *ctx, const struct tls_labels *lb, const char *cert, const char *key,
                 char *err, size_t errlen);

#endif
