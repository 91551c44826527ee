/*
 * http_conn: what the HTTPS listener keeps per connection, and what its
 * route files (http_api.c, …) use of it: who the client is (http_auth.c),
 * the requests answered later, and the response helpers that put the
 * security headers on every answer (http.c).
 *
 * Lifetime: made when a connection is accepted, freed when its SSL object
 * is (evhttp frees the bufferevent, which frees the SSL).  When the
 * connection closes first, http_conn_closed() ends everything that waits on
 * it: no callback reaches a closed connection's requests afterwards.
 */
#ifndef STREETD_HTTP_CONN_H
#define STREETD_HTTP_CONN_H

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "identity.h"
#include "proto.h"
#include "tls.h"

struct db_query;
struct http_env;
struct http_server;
struct http_call;
struct http_sse;
struct http_sse_stream;
struct http_wait;

enum http_auth_state {
	HTTP_AUTH_UNKNOWN, /* not looked at yet */
	HTTP_AUTH_LOOKUP,  /* the account is being looked up; requests wait */
	HTTP_AUTH_NONE,    /* no client certificate: public endpoints only */
	HTTP_AUTH_OK,      /* who is the account */
	HTTP_AUTH_REFUSED, /* a certificate that maps to no usable account: refusal says why */
};

struct http_conn {
	LIST_ENTRY(http_conn) link;
	struct http_server *srv;
	struct bufferevent *bev;
	struct evhttp_connection *evcon; /* known from its first request */
	struct event *deadline;          /* the next request must arrive by then */
	uint64_t id;                     /* "conn=" in the log */
	int busy;                        /* requests taken, not yet answered */
	bool handshaken;
	bool closed;
	char peer[INET6_ADDRSTRLEN + 8];
	/* http_auth.c */
	enum http_auth_state auth;
	struct identity who;
	char cn[TLS_CN_SIZE];
	enum proto_error refusal_code;
	char refusal[200];
	struct db_query *auth_query;
	TAILQ_HEAD(, http_wait) waiting;
	/* ops being run for this connection's requests (http_call.h: POST /api,
	 * Open311), and Open311 requests waiting (a held 429, a cache fill):
	 * dropped on close */
	LIST_HEAD(, http_call) calls;
	/* the event stream served on this connection (http_sse.c), if any */
	struct http_sse_stream *sse;
};

/* The server's environment (configuration, handlers, database). */
const struct http_env *http_env_of(const struct http_conn *c);

/* Adds the headers every response carries (below) to req's output headers:
 * for answers not made by http_respond (a stream). */
void http_add_common_headers(struct evhttp_request *req);

/* Adds the headers every response carries (CSP, HSTS, nosniff, frame and
 * referrer policies, no caching) and sends status with body (may be NULL),
 * then waits up to http.keepalive_timeout for the connection's next request. */
void http_respond(struct http_conn *c, struct evhttp_request *req, int status,
                  const char *content_type, const char *body, size_t len);

/* A JSON error in the wire protocol's shape ({"id":null,"ok":false,
 * "error":{code,message}}) with the HTTP status of its code. */
void http_respond_error(struct http_conn *c, struct evhttp_request *req, enum proto_error code,
                        const char *msg);

/* The HTTP status for a wire error code. */
int http_status_of(enum proto_error code);

/* A request the connection can no longer answer: frees it if evhttp let go of
 * it (the client went away), else leaves it to evhttp. */
void http_request_abandon(struct evhttp_request *req);

/* http_auth.c: runs fn(c, req) once the client's identity is known (at once
 * when it is); a connection closed meanwhile drops the request. */
typedef void (*http_route_fn)(struct http_conn *c, struct evhttp_request *req);
void http_auth_then(struct http_conn *c, struct evhttp_request *req, http_route_fn fn);
/* The connection closed: stop the lookup, drop the waiting requests. */
void http_auth_closed(struct http_conn *c);
/* A reload swapped the context: true if the connection's certificate is
 * revoked by it (the connection is refused from now on). */
bool http_auth_revoked(struct http_conn *c);
/* Routes that need an account (POST /api, GET /api/events): true if the
 * connection has one; else answers the request with why not and is false. */
bool http_auth_require(struct http_conn *c, struct evhttp_request *req);

/* http_api.c */
void http_api_post(struct http_conn *c, struct evhttp_request *req);

/* http_open311.c: everything under /open311/v2/ (a prefix route) */
void http_open311(struct http_conn *c, struct evhttp_request *req);
/* The server is freed (after its connections): the rate-limit tables and
 * the cached answers go. */
void http_open311_shutdown(const struct http_env *env);
/* http_static.c: the web console's files, the route every GET or HEAD no
 * other route takes ("/" is index.html) */
void http_static_get(struct http_conn *c, struct evhttp_request *req);
/* http_metrics.c: GET /metrics, for loopback peers and admin certificates */
void http_metrics_get(struct http_conn *c, struct evhttp_request *req);
/* http_sse.c: GET /api/events, the account's pushed events as Server-Sent
 * Events.  The server owns one struct http_sse (made by http_new, freed by
 * http_free after the connections); http_sse_of() finds it. */
struct http_sse *http_sse_new(struct event_base *base, const struct http_env *env);
void http_sse_free(struct http_sse *s);
struct http_sse *http_sse_of(const struct http_conn *c);
void http_sse_get(struct http_conn *c, struct evhttp_request *req);
/* The connection closed: its stream (if any) ends, its subscription freed. */
void http_sse_closed(struct http_conn *c);
/* The connection's stream (if any) ends with an error event (code, msg). */
void http_sse_end_with(struct http_conn *c, enum proto_error code, const char *msg);
/* SIGTERM: every stream ends; new ones are refused (503). */
void http_sse_drain(struct http_sse *s);
/* Streams open now (for the benchmark and /metrics). */
size_t http_sse_streams(const struct http_sse *s);

#endif
