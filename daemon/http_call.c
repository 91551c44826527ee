#include "http_call.h"

#include <stdlib.h>

#include "handlers.h"
#include "http_conn.h"

static struct http_call *call_of(struct caller *c)
{
	return (struct http_call *)(void *)c;
}

void http_call_free(struct http_call *k)
{
	if (k->render->cleanup)
		k->render->cleanup(k);
	if (k->conn)
		LIST_REMOVE(k, link);
	free(k);
}

static void answered(struct http_call *k)
{
	k->req = NULL;
	if (!k->started)
		http_call_free(k); /* answered at once: handlers_run holds nothing of it */
}

static void op_reply_ok(struct caller *c, const char *id, const char *result, size_t len)
{
	struct http_call *k = call_of(c);

	k->render->ok(k, id, result, len);
	answered(k);
}

static void op_reply_error(struct caller *c, const char *id, enum proto_error code, const char *msg)
{
	struct http_call *k = call_of(c);

	k->render->error(k, id, code, msg);
	answered(k);
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
	http_call_free(call_of(c));
}

static const struct caller_ops call_ops = {
	.reply_ok = op_reply_ok,
	.reply_error = op_reply_error,
	.push = NULL, /* subscribe is refused: GET /api/events streams */
	.close = op_close,
	.request_started = op_request_started,
	.request_done = op_request_done,
};

struct http_call *http_call_new(struct http_conn *conn, struct evhttp_request *req,
                                const struct handlers_env *env, const struct identity *who,
                                const struct http_call_render *render, size_t size)
{
	struct http_call *k = calloc(1, size < sizeof(*k) ? sizeof(*k) : size);

	if (!k)
		return NULL;
	k->conn = conn;
	k->req = req;
	k->env = env;
	k->render = render;
	k->who = *who;
	caller_init(&k->c, &k->who, &call_ops, conn ? conn->id : 0);
	if (conn)
		LIST_INSERT_HEAD(&conn->calls, k, link);
	return k;
}

void http_call_run(struct http_call *k, const struct proto_request *preq)
{
	handlers_run(k->env, &k->c, preq);
}

void http_call_closed(struct http_conn *c)
{
	struct http_call *k;

	while ((k = LIST_FIRST(&c->calls))) {
		handlers_caller_gone(k->env, &k->c);
		if (k->req)
			http_request_abandon(k->req);
		http_call_free(k);
	}
}
