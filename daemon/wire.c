#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "caller.h"
#include "config.h"
#include "handlers.h"
#include "log.h"

/* A ready session as the request path sees it. */
struct wire_conn {
	struct caller c;
	struct session *s;
};

static struct session *session_of(struct caller *c)
{
	return ((struct wire_conn *)(void *)c)->s; /* c is the first member */
}

static const struct wire *wire_of(const struct session *s)
{
	return s->hub->proto_arg;
}

static void op_reply_ok(struct caller *c, const char *id, const char *result, size_t len)
{
	session_reply_ok(session_of(c), id, result, len);
}

static void op_reply_ok_parts(struct caller *c, const char *id, const struct caller_part *parts,
                              int n, size_t len)
{
	session_reply_ok_parts(session_of(c), id, parts, n, len);
}

static void op_reply_error(struct caller *c, const char *id, enum proto_error code, const char *msg)
{
	session_reply_error(session_of(c), id, code, msg);
}

static void op_push(struct caller *c, int64_t seq, const char *data, size_t len,
                    caller_cleanup_fn cleanup, void *arg)
{
	(void)seq; /* the line carries it */
	session_write_ref(session_of(c), data, len, cleanup, arg);
}

static void op_close(struct caller *c, const char *reason)
{
	session_close(session_of(c), reason, false);
}

static void op_request_started(struct caller *c)
{
	session_request_started(session_of(c));
}

static void op_request_done(struct caller *c)
{
	session_request_done(session_of(c));
}

static const struct caller_ops wire_caller_ops = {
	.reply_ok = op_reply_ok,
	.reply_ok_parts = op_reply_ok_parts,
	.reply_error = op_reply_error,
	.push = op_push,
	.close = op_close,
	.request_started = op_request_started,
	.request_done = op_request_done,
};

static enum proto_error wire_ready(struct session *s, char *msg, size_t cap)
{
	const struct wire *w = wire_of(s);
	struct wire_conn *wc;

	if (accounts_count(w->accounts, s->who.account_id) >=
	    s->hub->cfg->limits.max_sessions_per_account) {
		snprintf(msg, cap, "account %s already has %d sessions (the limit)", s->who.login,
		         s->hub->cfg->limits.max_sessions_per_account);
		return PROTO_ERR_RATE_LIMITED;
	}
	wc = calloc(1, sizeof(*wc));
	if (!wc || accounts_add(w->accounts, s) != 0) {
		free(wc);
		snprintf(msg, cap, "out of memory");
		return PROTO_ERR_INTERNAL;
	}
	caller_init(&wc->c, &s->who, &wire_caller_ops, s->id);
	wc->s = s;
	s->data = wc;
	return PROTO_OK;
}

static void wire_line(struct session *s, const char *line, size_t len)
{
	struct wire_conn *wc = s->data;
	const struct wire *w = wire_of(s);
	struct proto_request req;
	char err[256];
	int rc;

	memset(&req, 0, sizeof(req));
	rc = proto_decode(line, len, &req, err, sizeof(err));
	if (rc != 0) {
		char q[300];

		log_info("bad request session=%llu account=%s error=%s", (unsigned long long)s->id,
		         s->who.login, log_quote(q, sizeof(q), err));
		session_reply_error(s, req.id[0] ? req.id : "null", (enum proto_error)rc, err);
	} else if (s->inflight >= s->hub->cfg->limits.max_inflight) {
		snprintf(err, sizeof(err), "more than %d requests in flight; wait for replies",
		         s->hub->cfg->limits.max_inflight);
		session_reply_error(s, req.id, PROTO_ERR_RATE_LIMITED, err);
		/* the lines behind it wait until a reply is out: a client that
		 * answers each refusal with another request gets one refusal per
		 * reply, not as many as the CPU can make */
		session_throttle(s);
	} else {
		handlers_run(w->env, &wc->c, &req);
	}
	proto_request_free(&req);
}

static void wire_close(struct session *s)
{
	struct wire_conn *wc = s->data;
	const struct wire *w = wire_of(s);

	handlers_caller_gone(w->env, &wc->c);
	accounts_remove(w->accounts, s);
}

static void wire_release(struct session *s)
{
	free(s->data);
	s->data = NULL;
}

const struct session_proto wire_proto = {
	.ready = wire_ready,
	.line = wire_line,
	.close = wire_close,
	.release = wire_release,
};
