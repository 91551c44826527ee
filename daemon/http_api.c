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

#include "http.h"
#include "http_call.h"
#include "http_conn.h"
#include "log.h"

static void reply(struct http_call *k, int status, const char *body, size_t len)
{
	http_respond(k->conn, k->req, status, "application/json; charset=utf-8", body, len);
}

static void render_ok(struct http_call *k, const char *id, const char *result, size_t len)
{
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

static void render_error(struct http_call *k, const char *id, enum proto_error code,
                         const char *msg)
{
	char body[600];
	size_t n = proto_format_error(body, sizeof(body), id, code, msg);

	reply(k, http_status_of(code), body, n);
}

static const struct http_call_render api_render = {
	.ok = render_ok,
	.error = render_error,
	.cleanup = NULL,
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
	if (!http_auth_require(c, req))
		return;
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
	k = http_call_new(c, req, http_env_of(c)->handlers, &c->who, &api_render, sizeof(*k));
	if (!k) {
		proto_request_free(&preq);
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	http_call_run(k, &preq);
	proto_request_free(&preq);
}
