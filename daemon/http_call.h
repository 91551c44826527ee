/*
 * http_call: the one-shot caller (caller.h) of an HTTPS request: one op run
 * through handlers_run(), its reply written by the route's render callbacks
 * (http_api.c: the wire protocol's reply object; http_open311.c: the spec's
 * JSON or XML; http_o311_cache.c: a cache fill, which has no request).
 *
 * Lifetime: http_call_new() makes it, on its connection's list (c->calls)
 * when it has one.  http_call_run() hands it to handlers; it is freed once
 * handlers is done with it (request_done), or right after its answer when
 * handlers never took it.  A call that never runs (a held 429, a request
 * waiting on a cache fill) is freed by its route with http_call_free().
 * When the connection closes, http_call_closed() drops every call of it: no
 * render callback runs afterwards, and the request goes back to evhttp.
 */
#ifndef STREETD_HTTP_CALL_H
#define STREETD_HTTP_CALL_H

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "caller.h"
#include "identity.h"
#include "proto.h"

struct handlers_env;
struct http_conn;
struct http_call;

struct http_call_render {
	/* The op's result (JSON text) or error: answer k->req (NULL for a call
	 * without a request).  The call is freed after these return, unless
	 * handlers still holds it. */
	void (*ok)(struct http_call *k, const char *id, const char *result, size_t len);
	void (*error)(struct http_call *k, const char *id, enum proto_error code, const char *msg);
	/* Frees what the route keeps in its part of the call; may be NULL. */
	void (*cleanup)(struct http_call *k);
};

struct http_call {
	struct caller c; /* first: the request path's view */
	LIST_ENTRY(http_call) link;
	struct http_conn *conn;     /* NULL: the daemon's own call (a cache fill) */
	struct evhttp_request *req; /* NULL once answered, or for the daemon's own */
	const struct handlers_env *env;
	const struct http_call_render *render;
	struct identity who;
	bool started; /* handlers_run took it: request_done frees it */
};

/* A zeroed call of size bytes (>= sizeof(struct http_call): a route's own
 * struct with the call first), running as who (copied), listed on conn's
 * calls when conn is not NULL.  NULL on ENOMEM. */
struct http_call *http_call_new(struct http_conn *conn, struct evhttp_request *req,
                                const struct handlers_env *env, const struct identity *who,
                                const struct http_call_render *render, size_t size);

/* Runs the request (decoded; the caller still frees it) for the call. */
void http_call_run(struct http_call *k, const struct proto_request *preq);

/* Frees a call that handlers does not hold (never run, or answered). */
void http_call_free(struct http_call *k);

/* The connection closed: each of its calls is dropped (handlers lets go,
 * the request is abandoned) and freed. */
void http_call_closed(struct http_conn *c);

#endif
