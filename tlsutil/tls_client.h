/*
 * tls_client: the client side of streetd's mutual TLS, for streetctl and the
 * tests (the server side is daemon/tls.c).  The OpenSSL error queue is left
 * empty on return.
 */
#ifndef STREET_TLS_CLIENT_H
#define STREET_TLS_CLIENT_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * A client context (streetctl, tests): verifies the server against the CA
 * certificates in ca, presents cert/key (both NULL for no certificate; the
 * key file is checked like tls.key), TLS 1.2 or later, the same TLS 1.2
 * ciphers. Call tls_client_set_host() on every SSL made from it: without it
 * any server certificate from the CA is accepted.
 * Returns a new context (caller frees with SSL_CTX_free()), or NULL with a
 * one-line message in err.
 */
SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
                        size_t errlen);

/*
 * Makes ssl (a client) check that the server certificate is for host: an
 * IPv4 or IPv6 literal (without brackets) is matched against the IP SANs,
 * and no SNI is sent; a name is matched against the DNS SANs (no partial
 * wildcards) and sent as SNI. Call before SSL_connect(). Returns 0, or -1
 * (empty host, out of memory).
 */
int tls_client_set_host(SSL *ssl, const char *host);

#endif
