#include "handlers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "readpool.h"
#include "stmts.h"
#include "subscribe.h"

/* One request in flight, on its caller's list until it completes.  A caller
 * has one request at a time in the database (c->db_running); the others wait
 * in its queue (wait_link), in order, their query made but not submitted. */
struct request {
	LIST_ENTRY(request) link;
	TAILQ_ENTRY(request) wait_link;
	const struct handlers_env *env;
	struct caller *c;
	struct db_query *q;
	/* a heavy read sent to the standby: the same query for the primary, sent
	 * if the standby fails it (standby_failed); NULL otherwise */
	struct db_query *retry;
	const char *served; /* heavy reads with a standby configured: where, for the log */
	enum proto_op op;
	struct timespec started;
	char id[PROTO_ID_JSON_MAX];
};

enum proto_error handlers_map_sqlstate(const char *st, int *log_level)
{
	static const struct {
		const char *state;
		enum proto_error code;
	} own[] = {
		{ "SD400", PROTO_ERR_BAD_REQUEST }, { "SD403", PROTO_ERR_FORBIDDEN },
		{ "SD404", PROTO_ERR_NOT_FOUND },   { "SD409", PROTO_ERR_CONFLICT },
		{ "SD412", PROTO_ERR_BAD_STATE },   { "SD413", PROTO_ERR_TOO_LARGE },
	};

	*log_level = LOG_DEBUG;
	if (!st)
		st = "";
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (strcmp(st, own[i].state) == 0)
			return own[i].code;
	}
	*log_level = LOG_NOTICE;
	/* 22: a value the database could not take (a date beyond its range…) */
	if (strncmp(st, "22", 2) == 0)
		return PROTO_ERR_BAD_REQUEST;
	/* statement timeout, shutdown, connection trouble, out of resources,
	 * serialization failure or deadlock: worth retrying later */
	if (strcmp(st, "57014") == 0 || strncmp(st, "57P", 3) == 0 || strncmp(st, "08", 2) == 0 ||
	    strncmp(st, "53", 2) == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0)
		return PROTO_ERR_UNAVAILABLE;
	*log_level = LOG_ERR;
	return PROTO_ERR_INTERNAL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A caller's requests reach the database one at a time, in order: a client
 * that pipelines many (up to limits.max_inflight) holds one place in the
 * pool's queue, not many, so it cannot push other callers' requests back.
 * One caller's requests also run in the order they were sent. */
static void request_submit(struct caller *c, struct request *r)
{
	struct db_pool *standby = r->retry ? readpool_pick(r->env->read) : NULL;

	c->db_running = r;
	if (standby) {
		r->served = "standby";
		db_query_submit(standby, r->q);
		return;
	}
	/* no fit standby now: the primary, and the spare copy is not needed */
	if (r->retry) {
		db_query_discard(r->retry);
		r->retry = NULL;
	}
	db_query_submit(r->env->sub.db, r->q);
}

/* Whether a report's failure on the standby is the standby's (not sent,
 * connection lost, a recovery conflict, shutting down, out of resources):
 * then the primary answers instead.  A report's own errors (bad_request,
 * forbidden...) are the same on both and go to the client. */
static bool standby_failed(enum db_status status, const PGresult *res)
{
	const char *st;

	if (status == DB_UNAVAILABLE || status == DB_UNKNOWN || status == DB_ROLLED_BACK)
		return true;
	if (status != DB_ERROR)
		return false;
	st = db_error_sqlstate(res);
	if (!st)
		return false;
	return strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strncmp(st, "57P", 3) == 0 ||
	       strncmp(st, "08", 2) == 0 || strncmp(st, "53", 2) == 0;
}

/* An sql_rows op's reply: its rows' texts one after the other, straight from
 * the result (a null row is nothing); false when out of memory. */
static bool reply_rows(struct caller *c, const char *id, const PGresult *res)
{
	int n = PQntuples(res);
	struct caller_part *parts = malloc((size_t)n * sizeof(*parts));
	size_t len = 0;

	if (!parts)
		return false;
	for (int i = 0; i < n; i++) {
		parts[i].data = PQgetvalue(res, i, 0);
		parts[i].len = (size_t)PQgetlength(res, i, 0);
		len += parts[i].len;
	}
	if (c->ops->reply_ok_parts) {
		c->ops->reply_ok_parts(c, id, parts, n, len);
	} else {
		/* a transport that wants the result in one piece (HTTPS /api) */
		char *all = malloc(len + 1);
		char *p = all;

		if (!all) {
			free(parts);
			return false;
		}
		for (int i = 0; i < n; i++) {
			memcpy(p, parts[i].data, parts[i].len);
			p += parts[i].len;
		}
		c->ops->reply_ok(c, id, all, len);
		free(all);
	}
	free(parts);
	return true;
}

static void request_next(struct caller *c)
{
	struct request *r = TAILQ_FIRST(&c->db_waiting);

	c->db_running = NULL;
	if (r) {
		TAILQ_REMOVE(&c->db_waiting, r, wait_link);
		request_submit(c, r);
	}
}

static void request_done(void *arg, enum db_status status, const PGresult *res)
{
	struct request *r = arg;
	struct caller *c = r->c;
	const char *sqlstate = NULL, *msg = NULL;
	enum proto_error code = PROTO_OK;
	int level = LOG_DEBUG;
	double ms;

	if (r->retry) {
		struct db_query *q = r->retry;

		r->retry = NULL;
		if (standby_failed(status, res)) {
			char why[160], qid[PROTO_ID_JSON_MAX + 64];

			snprintf(why, sizeof(why),
			         "a %s failed there (%s%s); retried on the primary",
			         proto_op_name(r->op),
			         status == DB_ERROR         ? "sqlstate "
			         : status == DB_UNKNOWN     ? "connection lost"
			         : status == DB_UNAVAILABLE ? "not sent: no connection"
			                                    : "rolled back",
			         status == DB_ERROR ? db_error_sqlstate(res) : "");
			log_notice("request session=%llu req=%s op=%s: %s",
			           (unsigned long long)c->log_id,
			           log_quote(qid, sizeof(qid), r->id), proto_op_name(r->op), why);
			readpool_failed(r->env->read, why);
			r->served = "primary_retry";
			r->q = q;
			db_query_submit(r->env->sub.db, q);
			return;
		}
		db_query_discard(q);
	}
	LIST_REMOVE(r, link);
	request_next(c);
	switch (status) {
	case DB_OK:
		if (proto_op_spec(r->op)->sql_rows && PQntuples(res) >= 1) {
			if (!reply_rows(c, r->id, res)) {
				code = PROTO_ERR_INTERNAL;
				level = LOG_ERR;
				msg = "out of memory";
			}
		} else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
			c->ops->reply_ok(c, r->id, PQgetvalue(res, 0, 0),
			                 (size_t)PQgetlength(res, 0, 0));
			if (proto_op_is_action(r->op))
				events_committed(r->env->sub.events);
		} else {
			code = PROTO_ERR_INTERNAL;
			level = LOG_ERR;
			msg = "the database returned no result";
		}
		break;
	case DB_ERROR:
		sqlstate = db_error_sqlstate(res);
		code = handlers_map_sqlstate(sqlstate, &level);
		msg = db_error_message(res);
		if (code == PROTO_ERR_INTERNAL || !msg)
			msg = "internal error (logged)";
		else if (code == PROTO_ERR_UNAVAILABLE)
			msg = "the database is busy or restarting; try again";
		break;
	case DB_UNAVAILABLE:
		code = PROTO_ERR_UNAVAILABLE;
		level = LOG_INFO;
		msg = "the database is unavailable; try again shortly";
		break;
	case DB_ROLLED_BACK:
		code = PROTO_ERR_UNAVAILABLE;
		level = LOG_NOTICE;
		msg = "the database could not commit this request; nothing was done: try again";
		break;
	case DB_UNKNOWN:
		code = PROTO_ERR_UNAVAILABLE;
		level = LOG_NOTICE;
		msg = "the connection to the database was lost after the request was sent: its "
		      "outcome is unknown; retry with the same key";
		break;
	}
	if (code != PROTO_OK)
		c->ops->reply_error(c, r->id, code, msg);
	ms = ms_since(&r->started);
	metrics_count_request(r->op, code, ms / 1e3);
	if (log_enabled(level)) {
		char q[256], qst[32], qid[PROTO_ID_JSON_MAX + 64], qlogin[160];
		bool internal = status == DB_ERROR && code == PROTO_ERR_INTERNAL;

		/* the id is the client's choice: quoted, it cannot forge a key=value */
		log_msg(level,
		        "request session=%llu account=%s req=%s op=%s status=%s "
		        "ms=%.1f%s%s%s%s%s%s",
		        (unsigned long long)c->log_id,
		        log_quote(qlogin, sizeof(qlogin), c->who->login),
		        log_quote(qid, sizeof(qid), r->id), proto_op_name(r->op),
		        code == PROTO_OK ? "ok" : proto_error_name(code), ms,
		        r->served ? " db=" : "", r->served ? r->served : "",
		        sqlstate ? " sqlstate=" : "",
		        sqlstate ? log_quote(qst, sizeof(qst), sqlstate) : "",
		        internal ? " error=" : "",
		        internal ? log_quote(q, sizeof(q), db_error_message(res)) : "");
	}
	free(r);
	c->ops->request_done(c);
}

void handlers_run(const struct handlers_env *env, struct caller *c, const struct proto_request *req)
{
	const struct proto_op_spec *o = proto_op_spec(req->op);
	const char *params[PROTO_MAX_FIELDS + 2];
	char actor[16], max_photo[24];
	struct request *r;
	int n = 0;

	if (req->op == PROTO_OP_SUBSCRIBE) {
		subscribe_run(&env->sub, c, req);
		return;
	}
	if (req->op == PROTO_OP_UNSUBSCRIBE) {
		subscribe_stop(&env->sub, c, req);
		return;
	}
	if (!o || stmts_of_op(req->op) < 0) {
		c->ops->reply_error(c, req->id, PROTO_ERR_BAD_REQUEST, "unknown op");
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		c->ops->reply_error(c, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	snprintf(actor, sizeof(actor), "%d", c->who->account_id);
	params[n++] = actor;
	for (int i = 0; i < req->nparams; i++)
		params[n++] = req->params[i];
	if (o->sql_max_photo) {
		snprintf(max_photo, sizeof(max_photo), "%lld",
		         (long long)env->cfg->limits.max_photo);
		params[n++] = max_photo;
	}
	r->env = env;
	r->c = c;
	r->op = req->op;
	memcpy(r->id, req->id, sizeof(r->id));
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->q = db_query_new(stmts_of_op(req->op), n, params, request_done, r);
	if (r->q && env->read && proto_op_is_heavy_read(req->op)) {
		r->served = "primary";
		r->retry = db_query_new(stmts_of_op(req->op), n, params, request_done, r);
		if (!r->retry) {
			db_query_discard(r->q);
			r->q = NULL;
		}
	}
	if (!r->q) {
		free(r);
		c->ops->reply_error(c, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	LIST_INSERT_HEAD(&c->requests, r, link);
	c->ops->request_started(c);
	if (c->db_running)
		TAILQ_INSERT_TAIL(&c->db_waiting, r, wait_link);
	else
		request_submit(c, r);
}

/* Drops a request whose caller is going: no reply, no callback. */
static void request_cancel(struct request *r)
{
	struct caller *c = r->c;

	if (c->db_running == r) {
		db_query_cancel(r->q);
		c->db_running = NULL;
	} else {
		TAILQ_REMOVE(&c->db_waiting, r, wait_link);
		db_query_discard(r->q);
	}
	db_query_discard(r->retry);
	LIST_REMOVE(r, link);
	free(r);
}

void handlers_caller_gone(const struct handlers_env *env, struct caller *c)
{
	struct request *r;

	while ((r = LIST_FIRST(&c->requests)) != NULL)
		request_cancel(r);
	subscribe_cancel(&env->sub, c);
}
