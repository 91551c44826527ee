/*
 * checkpoint: signs the event chain's checkpoints (docs/audit.md).
 *
 * The instance that leads (events_is_sweeper) asks the database every
 * second what to sign (st_checkpoint_due: requests made by a period lock,
 * and a periodic one every audit.checkpoint_interval or
 * audit.checkpoint_events chained events), signs each body with the private
 * key of the server's current TLS context (SHA-256; ECDSA, or RSA with
 * PKCS#1 v1.5: what `openssl dgst -sha256 -verify` checks) and stores body,
 * signature and the certificate chain (PEM) with st_checkpoint_store().
 * The key never leaves the process.  Its own database connection, so that
 * signing never delays the log reader.
 *
 * Ownership: the server owns the result; cfg, events and *ssl_ctx belong to
 * the server and outlive it (ssl_ctx is read at each signing: SIGHUP swaps it).
 */
#ifndef STREETD_CHECKPOINT_H
#define STREETD_CHECKPOINT_H

#include <openssl/ssl.h>
#include <stddef.h>

struct event_base;
struct events;
struct streetd_config;
struct checkpoint;

/* NULL on ENOMEM. */
struct checkpoint *checkpoint_new(struct event_base *base, const struct streetd_config *cfg,
                                  const struct events *events, SSL_CTX *const *ssl_ctx);
void checkpoint_free(struct checkpoint *cp);

/* Signs len bytes of data with ctx's private key over SHA-256.  Returns 0
 * with *sig (malloc'd DER signature, the caller frees it) and *siglen, or
 * -1.  Refuses data that does not start with "streetd checkpoint v1\n", so
 * the TLS key signs nothing but checkpoints. */
int checkpoint_sign(SSL_CTX *ctx, const char *data, size_t len, unsigned char **sig,
                    size_t *siglen);

/* ctx's certificate and its chain as PEM text (malloc'd), or NULL. */
char *checkpoint_cert_pem(SSL_CTX *ctx);

#endif
