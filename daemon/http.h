/*
 * http: the HTTPS listener (docs/http.md), on the daemon's event loop with
 * libevent's evhttp over OpenSSL bufferevents, with the server certificate
 * and TLS policy of the main listener.  A client certificate is asked for
 * but optional: endpoints that act as an account need one that maps to an
 * account (the CN rule of the socket protocol, http_auth.c); public ones
 * (Open311's reads, /healthz) do not.
 *
 * This file is the transport: connections and their limits (count,
 * handshakes, a deadline for each request to arrive, keep-alive), the
 * headers every response carries, and the route table.  What a request
 * means is in the route's file: http_api.c (the wire protocol's ops as
 * POST /api), and the others named in the table.
 *
 * Ownership: the server owns its evhttp, listener and every connection's
 * state (struct http_conn, freed with the connection's SSL object).
 */
#ifndef STREETD_HTTP_H
#define STREETD_HTTP_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>

struct streetd_config;
struct db_pool;
struct accounts;
struct handlers_env;
struct http_server;

struct http_env {
	const struct streetd_config *cfg; /* the live configuration (http.*, limits.max_line) */
	SSL_CTX *const *ssl_ctx;          /* the live server context (a reload swaps it) */
	struct db_pool *db;               /* account lookups */
	struct accounts *accounts;        /* per-account limit, shared with sessions */
	const struct handlers_env *handlers;
	/* /readyz: the database is reachable and the log reader caught up */
	bool (*ready)(void *arg);
	void *ready_arg;
};

/* NULL on ENOMEM.  env is copied; what it points to must outlive the server. */
struct http_server *http_new(struct event_base *base, const struct http_env *env);

/* Binds http.listen; fatal on failure (start-up only). */
void http_listen(struct http_server *h);

/* SIGHUP: the reloadable http.* limits apply to connections from now on. */
void http_apply_limits(struct http_server *h);

/* After a reload swapped the context: a connection whose client certificate
 * the new CRL revokes is refused from its next request on, and its event
 * stream (if any) ends, as revoke.c closes sessions. */
void http_after_reload(struct http_server *h);

/* SIGTERM: stop accepting; open connections finish or time out. */
void http_drain(struct http_server *h);

/* Connections open now. */
int http_connections(const struct http_server *h);

void http_free(struct http_server *h);

#endif
