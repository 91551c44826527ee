#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "config.h"
#include "evtime.h"
#include "handlers.h"
#include "http_call.h"
#include "http_conn.h"
#include "log.h"
#include "metrics.h"

struct http_server {
	struct event_base *base;
	struct http_env env;
	struct evhttp *http;
	struct evconnlistener *listener;
	LIST_HEAD(, http_conn) conns;
	struct http_sse *sse; /* GET /api/events: the streams (http_sse.c) */
	int nconns, nhandshakes;
	uint64_t next_id;
	bool draining;
	bool accepting;
};

/* The SSL ex_data slot that holds a connection's state; its free callback
 * frees the state with the SSL object. */
static int conn_index = -1;

/* Every response: a strict CSP (scripts, styles and everything else from
 * this origin only, no inline script, no framing), HSTS, and no sniffing,
 * referrers or caching of what is per account. */
static const char *const common_headers[][2] = {
	{ "Content-Security-Policy",
	  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
	  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
	  "form-action 'self'" },
	{ "Strict-Transport-Security", "max-age=31536000" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
	{ "Permissions-Policy", "camera=(), microphone=(), geolocation=(self)" },
	{ "Cache-Control", "no-store" },
};

const struct http_env *http_env_of(const struct http_conn *c)
{
	return &c->srv->env;
}

/* Accepting resumes below both limits (and never while draining). */
static void accept_gate(struct http_server *h)
{
	bool want = !h->draining && h->nconns < h->env.cfg->http.max_connections &&
	            h->nhandshakes < h->env.cfg->http.max_handshakes;

	if (!h->listener || want == h->accepting)
		return;
	h->accepting = want;
	log_debug("http accepting=%s connections=%d handshakes=%d", want ? "yes" : "no", h->nconns,
	          h->nhandshakes);
	if (want)
		evconnlistener_enable(h->listener);
	else
		evconnlistener_disable(h->listener);
}

static void handshake_over(struct http_conn *c, bool ok)
{
	if (c->handshaken)
		return;
	c->handshaken = true;
	metrics_count_handshake(METRICS_HTTPS, ok);
	c->srv->nhandshakes--;
	accept_gate(c->srv);
}

static void ssl_info_cb(const SSL *ssl, int where, int ret)
{
	struct http_conn *c = SSL_get_ex_data(ssl, conn_index);

	(void)ret;
	if (c && (where & SSL_CB_HANDSHAKE_DONE))
		handshake_over(c, true);
}

/* The connection is going (closed by either side, or the server freed):
 * everything that waits on it ends, once; no route's callback reaches it
 * afterwards. */
static void conn_end(struct http_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	http_auth_closed(c);
	http_call_closed(c);
	http_sse_closed(c);
}

/* The connection's SSL object is being freed: so is its state. */
static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
	struct http_conn *c = ptr;

	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	if (!c)
		return;
	if (!c->srv) { /* outlived the server (http_free): only its memory is left */
		free(c);
		return;
	}
	conn_end(c);
	handshake_over(c, false); /* closed before its handshake completed */
	LIST_REMOVE(c, link);
	c->srv->nconns--;
	accept_gate(c->srv);
	if (c->deadline)
		event_free(c->deadline);
	log_debug("http connection closed conn=%llu peer=%s", (unsigned long long)c->id, c->peer);
	free(c);
}

/* Too slow to send its request (or, with keep-alive, its next one): closed
 * under evhttp, which then frees the connection as after any EOF. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	evutil_socket_t sock = bufferevent_getfd(c->bev);

	(void)fd, (void)what;
	if (c->busy > 0 || sock < 0)
		return;
	log_info("http connection timed out conn=%llu peer=%s stage=%s", (unsigned long long)c->id,
	         c->peer, c->handshaken ? "request" : "handshake");
	shutdown(sock, SHUT_RDWR);
}

/* A new connection: its TLS with the live context, the client certificate
 * asked for but optional.  (Returning NULL on ENOMEM makes evhttp fall back to
 * a plain socket; request_cb then finds no TLS state and answers 500.) */
static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct http_server *h = arg;
	SSL *ssl = SSL_new(*h->env.ssl_ctx);
	struct http_conn *c = calloc(1, sizeof(*c));
	struct bufferevent *bev = NULL;

	if (!ssl || !c)
		goto fail;
	SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_CTX_get_verify_callback(*h->env.ssl_ctx));
	c->srv = h;
	c->id = ++h->next_id;
	c->auth = HTTP_AUTH_UNKNOWN;
	snprintf(c->peer, sizeof(c->peer), "?");
	TAILQ_INIT(&c->waiting);
	LIST_INIT(&c->calls);
	c->deadline = evtimer_new(base, deadline_cb, c);
	if (!c->deadline || !SSL_set_ex_data(ssl, conn_index, c))
		goto fail;
	SSL_set_info_callback(ssl, ssl_info_cb);
	LIST_INSERT_HEAD(&h->conns, c, link);
	h->nconns++;
	h->nhandshakes++;
	/* from here the SSL owns c: freeing it frees c */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	c->bev = bev;
	evtime_add_ms(c->deadline, h->env.cfg->http.request_timeout_ms);
	accept_gate(h);
	return bev;
fail:
	if (c && c->deadline)
		event_free(c->deadline);
	free(c);
	SSL_free(ssl);
	log_err("http: out of memory for a new connection");
	return NULL;
}

static void conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *c = arg;

	(void)evcon;
	conn_end(c);
}

void http_request_abandon(struct evhttp_request *req)
{
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

int http_status_of(enum proto_error code)
{
	switch (code) {
	case PROTO_OK:
		return 200;
	case PROTO_ERR_BAD_REQUEST:
		return 400;
	case PROTO_ERR_UNAUTHENTICATED:
		return 401;
	case PROTO_ERR_FORBIDDEN:
		return 403;
	case PROTO_ERR_NOT_FOUND:
		return 404;
	case PROTO_ERR_BAD_STATE:
	case PROTO_ERR_CONFLICT:
		return 409;
	case PROTO_ERR_TOO_LARGE:
		return 413;
	case PROTO_ERR_RATE_LIMITED:
		return 429;
	case PROTO_ERR_UNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}

static const char *reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

void http_add_common_headers(struct evhttp_request *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	/* a route that set one already keeps its own (static files: Cache-Control) */
	for (size_t i = 0; i < sizeof(common_headers) / sizeof(common_headers[0]); i++)
		if (!evhttp_find_header(out, common_headers[i][0]))
			evhttp_add_header(out, common_headers[i][0], common_headers[i][1]);
}

struct http_sse *http_sse_of(const struct http_conn *c)
{
	return c->srv->sse;
}

/* Answers up to this size leave as one TLS record (see http_respond). */
#define COALESCE_MAX 16384

void http_respond(struct http_conn *c, struct evhttp_request *req, int status,
                  const char *content_type, const char *body, size_t len)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evhttp_request_get_output_buffer(req);

	http_add_common_headers(req);
	if (content_type)
		evhttp_add_header(out, "Content-Type", content_type);
	if (body && len > 0 && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, reason_of(status), NULL);
	if (c && !c->closed) {
		/* evhttp leaves the head and the body as two chains of the output
		 * buffer, and the OpenSSL bufferevent makes a TLS record and a send()
		 * of each chain: one chain, one record, one system call (half the
		 * writes of a keep-alive request; nothing is sent before the loop
		 * turns, so the whole answer is there) */
		struct evbuffer *o = bufferevent_get_output(c->bev);

		if (evbuffer_get_length(o) <= COALESCE_MAX)
			evbuffer_pullup(o, -1);
		/* and written in this turn of the loop, not after epoll has said
		 * the socket is writable (it is: the client waits for this
		 * answer); with the loop's changelist (main.c) the write event is
		 * then enabled and disabled again without an epoll_ctl */
		if (event_pending(&c->bev->ev_write, EV_WRITE, NULL))
			event_active(&c->bev->ev_write, EV_WRITE, 1);
	}
	if (c && !c->closed && --c->busy == 0)
		evtime_add_ms(c->deadline, c->srv->env.cfg->http.keepalive_timeout_ms);
}

void http_respond_error(struct http_conn *c, struct evhttp_request *req, enum proto_error code,
                        const char *msg)
{
	char body[600];
	size_t n = proto_format_error(body, sizeof(body), "null", code, msg);

	http_respond(c, req, http_status_of(code), "application/json; charset=utf-8", body, n);
}

static void healthz(struct http_conn *c, struct evhttp_request *req)
{
	http_respond(c, req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void readyz(struct http_conn *c, struct evhttp_request *req)
{
	const struct http_env *e = http_env_of(c);

	if (e->ready && e->ready(e->ready_arg))
		http_respond(c, req, 200, "text/plain; charset=utf-8", "ready\n", 6);
	else
		http_respond(
		        c, req, 503, "text/plain; charset=utf-8",
		        "not ready: the database is unreachable or the event log is not read up "
		        "to date\n",
		        77);
}

/* The routes: exact paths (a path ending in '*' is a prefix: every path
 * that starts with what is before the '*', the route's file parses the
 * rest), the methods each takes, and whether the client's identity must be
 * known first (every route that may act as an account).  When several
 * match, the last one in the table wins. */
struct http_route {
	const char *path;
	int methods; /* EVHTTP_REQ_* */
	bool identify;
	http_route_fn fn;
};

static bool route_matches(const char *route, const char *path)
{
	size_t n = strlen(route);

	if (n > 0 && route[n - 1] == '*')
		return strncmp(route, path, n - 1) == 0;
	return strcmp(route, path) == 0;
}

static const struct http_route routes[] = {
	/* first, so that every route below wins over it: the console's files */
	{ "/*", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, false, http_static_get },
	{ "/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, false, healthz },
	{ "/readyz", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, false, readyz },
	{ "/api", EVHTTP_REQ_POST, true, http_api_post },
	/* Open311 is public: a post acts as its api_key's account, in SQL */
	{ "/open311/v2/*", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST, false,
	  http_open311 },
	{ "/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, false, http_metrics_get },
	{ "/api/events", EVHTTP_REQ_GET, true, http_sse_get },
};

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct http_conn *c = ssl ? SSL_get_ex_data(ssl, conn_index) : NULL;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const struct http_route *r = NULL;

	if (!c) { /* cannot happen: every connection is made by bev_cb */
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (!c->evcon) {
		char *addr = NULL;
		ev_uint16_t port = 0;

		c->evcon = evcon;
		evhttp_connection_set_closecb(evcon, conn_close_cb, c);
		/* answers are whole writes: Nagle would hold each one back for the
		 * client's delayed ACK (~40 ms a request on keep-alive) */
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
		           sizeof(int));
		evhttp_connection_get_peer(evcon, &addr, &port);
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr ? addr : "?", port);
	}
	event_del(c->deadline);
	c->busy++;
	for (size_t i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++)
		if (route_matches(routes[i].path, path))
			r = &routes[i];
	if (!r) {
		http_respond_error(c, req, PROTO_ERR_NOT_FOUND, "no such endpoint");
		return;
	}
	if (!(evhttp_request_get_command(req) & r->methods)) {
		char body[400];
		size_t n = proto_format_error(body, sizeof(body), "null", PROTO_ERR_BAD_REQUEST,
		                              "method not allowed here");

		http_respond(c, req, 405, "application/json; charset=utf-8", body, n);
		return;
	}
	if (r->identify)
		http_auth_then(c, req, r->fn);
	else
		r->fn(c, req);
}

static void apply_limits(struct http_server *h)
{
	const struct streetd_config *cfg = h->env.cfg;

	evhttp_set_max_headers_size(h->http, (ev_ssize_t)cfg->http.max_header);
	evhttp_set_max_body_size(h->http, (ev_ssize_t)cfg->limits.max_line);
	evhttp_set_timeout_tv(h->http,
	                      &(struct timeval){
	                              .tv_sec = cfg->http.keepalive_timeout_ms / 1000,
	                              .tv_usec = (cfg->http.keepalive_timeout_ms % 1000) * 1000,
	                      });
}

struct http_server *http_new(struct event_base *base, const struct http_env *env)
{
	struct http_server *h;

	if (conn_index < 0)
		conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
	if (conn_index < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->base = base;
	h->env = *env;
	LIST_INIT(&h->conns);
	h->http = evhttp_new(base);
	h->sse = http_sse_new(base, &h->env);
	if (!h->http || !h->sse) {
		if (h->http)
			evhttp_free(h->http);
		http_sse_free(h->sse);
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
	evhttp_set_bevcb(h->http, bev_cb, h);
	evhttp_set_gencb(h->http, request_cb, NULL);
	apply_limits(h);
	return h;
}

void http_listen(struct http_server *h)
{
	const struct config_listen *l = &h->env.cfg->http.listen;
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[16];
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", l->port);
	rc = getaddrinfo(l->host, port, &hints, &ai); /* start-up only */
	if (rc != 0 || !ai)
		fatal_exit(EX_CONFIG, "http.listen %s:%s: %s", l->host, port, gai_strerror(rc));
	h->listener = evconnlistener_new_bind(h->base, NULL, NULL,
	                                      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	                                              LEV_OPT_CLOSE_ON_EXEC,
	                                      1024, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (!h->listener)
		fatal_exit(EX_UNAVAILABLE, "cannot listen on http.listen %s:%s: %s", l->host, port,
		           strerror(errno));
	if (!evhttp_bind_listener(h->http, h->listener))
		fatal_exit(EX_SOFTWARE, "http: cannot serve the listener");
	h->accepting = true;
	accept_gate(h);
	log_notice("listening https address=%s:%s", l->host, port);
}

void http_apply_limits(struct http_server *h)
{
	apply_limits(h);
	accept_gate(h);
}

void http_after_reload(struct http_server *h)
{
	int n = 0;

	for (struct http_conn *c = LIST_FIRST(&h->conns); c; c = LIST_NEXT(c, link)) {
		if (!http_auth_revoked(c))
			continue;
		http_sse_end_with(c, PROTO_ERR_UNAUTHENTICATED,
		                  "your certificate is no longer accepted: certificate revoked");
		n++;
	}
	if (n > 0)
		log_notice("reload: refused https connections=%d whose certificate is revoked", n);
}

void http_drain(struct http_server *h)
{
	h->draining = true;
	accept_gate(h);
	http_sse_drain(h->sse);
}

int http_connections(const struct http_server *h)
{
	return h->nconns;
}

void http_free(struct http_server *h)
{
	struct http_conn *c;

	if (!h)
		return;
	evhttp_free(h->http); /* frees the connections, and with them their state */
	/* ... except that libevent may free a bufferevent, and so its SSL, only
	 * when the event base goes: such a connection is ended here, while what
	 * its state points to still exists, and left to free just its memory */
	while ((c = LIST_FIRST(&h->conns))) {
		conn_end(c);
		LIST_REMOVE(c, link);
		if (c->deadline)
			event_free(c->deadline);
		c->deadline = NULL;
		c->srv = NULL;
	}
	http_sse_free(h->sse);
	http_open311_shutdown(&h->env);
	free(h);
}
