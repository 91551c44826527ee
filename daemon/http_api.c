/*
 * http_api: POST /api, the wire protocol over HTTPS (docs/http.md).  The
 * body is one request object of docs/protocol.md; it runs through the same
 * request path as a socket session's line (handlers_run, for a caller made
 * here), and the answer is the same reply object, with an HTTP status for
 * its error code.  One request per POST; no subscription (GET /api/events
 * carries the stream).
 *
 * CSRF: a browser on another site can make a cross-origin POST only with a
 * form's content types, and says where it comes from in Origin: the body
 * must be application/json and an Origin, when sent, must be this origin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "caller.h"
#include "handlers.h"
#include "http.h"
#include "http_conn.h"
#include "log.h"

struct http_call {
	struct caller c; /* first: the request path's view */
	LIST_ENTRY(http_call) link;
	struct http_conn *conn;
	struct evhttp_request *req;
	struct identity who;
	bool started; /* handlers_run took it: request_done ends it */
};

static struct http_call *call_of(struct caller *c)
{
	return (struct http_call *)(void *)c;
}

static void call_free(struct http_call *k)
{
	LIST_REMOVE(k, link);
	free(k);
}

static void reply(struct http_call *k, int status, const char *body, size_t len)
{
	http_respond(k->conn, k->req, status, "application/json; charset=utf-8", body, len);
	k->req = NULL;
	if (!k->started)
		call_free(k); /* answered at once: handlers_run holds nothing of it */
}

static void op_reply_ok(struct caller *c, const char *id, const char *result, size_t len)
{
	struct http_call *k = call_of(c);
	char prefix[PROTO_ID_JSON_MAX + 64];
	size_t n = proto_format_ok_prefix(prefix, sizeof(prefix), id);
	char *body = malloc(n + len + 2);

	if (!body) {
		char err[200];
		size_t m = proto_format_error(err, sizeof(err), id, PROTO_ERR_INTERNAL,
		                              "out of memory");

		reply(k, 500, err, m);
		return;
	}
	memcpy(body, prefix, n);
	memcpy(body + n, result, len);
	memcpy(body + n + len, "}\n", 2);
	reply(k, 200, body, n + len + 2);
	free(body);
}

static void op_reply_error(struct caller *c, const char *id, enum proto_error code, const char *msg)
{
	char body[600];
	size_t n = proto_format_error(body, sizeof(body), id, code, msg);

	reply(call_of(c), http_status_of(code), body, n);
}

static void op_close(struct caller *c, const char *reason)
{
	(void)c, (void)reason; /* a one-shot call has no stream to end */
}

static void op_request_started(struct caller *c)
{
	call_of(c)->started = true;
}

static void op_request_done(struct caller *c)
{
	call_free(call_of(c));
}

static const struct caller_ops api_caller_ops = {
	.reply_ok = op_reply_ok,
	.reply_error = op_reply_error,
	.push = NULL, /* subscribe is refused: GET /api/events streams */
	.close = op_close,
	.request_started = op_request_started,
	.request_done = op_request_done,
};

/* application/json, with or without parameters (charset=utf-8). */
static bool is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* No Origin (curl, streetctl), or exactly https://<Host>. */
static bool same_origin(struct evkeyvalq *in)
{
	const char *origin = evhttp_find_header(in, "Origin");
	const char *host = evhttp_find_header(in, "Host");

	if (!origin)
		return true;
	return host && strncmp(origin, "https://", 8) == 0 && strcmp(origin + 8, host) == 0;
}

void http_api_post(struct http_conn *c, struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	struct proto_request preq;
	struct http_call *k;
	char err[256];
	int rc;

	if (!is_json(evhttp_find_header(in, "Content-Type"))) {
		char msg[400];
		size_t n = proto_format_error(msg, sizeof(msg), "null", PROTO_ERR_BAD_REQUEST,
		                              "the body must be Content-Type: application/json");

		http_respond(c, req, 415, "application/json; charset=utf-8", msg, n);
		return;
	}
	if (!same_origin(in)) {
		http_respond_error(c, req, PROTO_ERR_FORBIDDEN, "cross-origin request refused");
		return;
	}
	if (c->auth == HTTP_AUTH_NONE) {
		http_respond_error(c, req, PROTO_ERR_UNAUTHENTICATED,
		                   "a client certificate that maps to an account is required");
		return;
	}
	if (c->auth != HTTP_AUTH_OK) {
		http_respond_error(c, req, c->refusal_code, c->refusal);
		return;
	}
	memset(&preq, 0, sizeof(preq));
	rc = proto_decode((const char *)evbuffer_pullup(body, -1), len, &preq, err, sizeof(err));
	if (rc != 0) {
		char msg[400];
		size_t n = proto_format_error(msg, sizeof(msg), preq.id[0] ? preq.id : "null",
		                              (enum proto_error)rc, err);

		http_respond(c, req, http_status_of((enum proto_error)rc),
		             "application/json; charset=utf-8", msg, n);
		proto_request_free(&preq);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		proto_request_free(&preq);
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	k->conn = c;
	k->req = req;
	k->who = c->who;
	caller_init(&k->c, &k->who, &api_caller_ops, c->id);
	LIST_INSERT_HEAD(&c->calls, k, link);
	handlers_run(http_env_of(c)->handlers, &k->c, &preq);
	proto_request_free(&preq);
}

void http_api_closed(struct http_conn *c)
{
	struct http_call *k;

	while ((k = LIST_FIRST(&c->calls))) {
		handlers_caller_gone(http_env_of(c)->handlers, &k->c);
		if (k->req)
			http_request_abandon(k->req);
		call_free(k);
	}
}
