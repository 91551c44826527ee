/*
 * sb_tls: client TLS contexts.  One SSL_CTX per account: the account's
 * certificate DIR/LOGIN.crt and key DIR/LOGIN.key, the server verified
 * against DIR/ca.crt, TLS 1.3 only, no session resumption (every connection
 * is a full handshake, as streetd allows no other).
 */
#ifndef STREETBENCH_SB_TLS_H
#define STREETBENCH_SB_TLS_H

#include <openssl/ssl.h>

/* The context for LOGIN (NULL: no client certificate, e.g. for HTTPS's public
 * endpoints), or NULL after printing why. */
SSL_CTX *sb_tls_client_ctx(const char *dir, const char *login);

/* Up to max contexts for a comma-separated list of logins; returns how many
 * were made, or -1 after printing why. */
int sb_tls_client_ctxs(const char *dir, const char *logins, SSL_CTX **out, int max);

#endif
