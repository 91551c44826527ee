#include "handlers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "events.h"
#include "log.h"
#include "push.h"
#include "server.h"
#include "session.h"

#ifndef STREETD_VERSION
#define STREETD_VERSION "0.0.0"
#endif

/* The daemon's own statements first, then one per op that calls the
 * database (proto's op table names the function). */
enum { STMT_ACCOUNT_BY_CN, STMT_DISABLED_ACCOUNTS, STMT_LOG_REPLAY, NOWN };
#define NSTMTS (NOWN + PROTO_OP_COUNT)

static struct db_stmt stmts[NSTMTS];
static size_t nstmts;
static char *owned[3 * NSTMTS];        /* the names and SQL texts stmts[] points to */
static int stmt_of_op[PROTO_OP_COUNT]; /* -1: no statement */

static char *build_sql(const struct proto_op_spec *o, int nparams)
{
	char args[128] = "";
	size_t n = 0;
	char *sql;
	int len;

	for (int i = 1; i <= nparams; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, "%s$%d", i > 1 ? ", " : "", i);
	if (o->op == PROTO_OP_WHOAMI)
		len = asprintf(&sql,
		               "SELECT (street.st_whoami(%s) || jsonb_build_object('server',"
		               " 'streetd %s'))::text",
		               args, STREETD_VERSION);
	else if (proto_op_is_action(o->op))
		len = asprintf(&sql, "SELECT to_jsonb(r)::text FROM street.%s(%s) r", o->sql_func,
		               args);
	else
		len = asprintf(&sql, "SELECT street.%s(%s)::text", o->sql_func, args);
	return len < 0 ? NULL : sql;
}

/* An action's try form (sql/migrations/009_try.sql), for group commit. */
static char *build_try_sql(const struct proto_op_spec *o, int nparams)
{
	char args[192] = "";
	size_t n = 0;
	char *sql;

	for (int i = 1; i <= nparams; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, "%s$%d::text", i > 1 ? ", " : "",
		                      i);
	if (asprintf(&sql, "SELECT result, sqlstate, message FROM street.st_try('%s', ARRAY[%s])",
	             o->sql_func + strlen("st_"), args) < 0)
		return NULL;
	return sql;
}

int handlers_init(void)
{
	stmts[STMT_ACCOUNT_BY_CN] =
	        (struct db_stmt){ "account_by_cn", "SELECT street.st_account_by_cn($1)::text", 1,
		                  NULL };
	stmts[STMT_DISABLED_ACCOUNTS] =
	        (struct db_stmt){ "disabled_accounts",
		                  "SELECT street.st_disabled_accounts($1)::text", 1, NULL };
	stmts[STMT_LOG_REPLAY] = (struct db_stmt){ "log_replay",
		                                   "SELECT seq, category_id, grid_id, to_state, "
		                                   "event FROM street.st_log_replay($1, $2, $3,"
		                                   " $4)",
		                                   4, NULL };
	nstmts = NOWN;
	for (int op = 0; op < PROTO_OP_COUNT; op++) {
		const struct proto_op_spec *spec = proto_op_spec((enum proto_op)op);
		size_t i = nstmts;
		int nparams;
		char *name;

		stmt_of_op[op] = -1;
		if (!spec || !spec->sql_func)
			continue;
		nparams = 1 + spec->nfields + (spec->sql_max_photo ? 1 : 0);
		if (asprintf(&name, "op_%s", spec->name) < 0)
			return -1;
		owned[3 * i] = name;
		owned[3 * i + 1] = build_sql(spec, nparams);
		if (!owned[3 * i + 1])
			return -1;
		if (spec->action && !(owned[3 * i + 2] = build_try_sql(spec, nparams)))
			return -1;
		stmts[i] = (struct db_stmt){ name, owned[3 * i + 1], nparams, owned[3 * i + 2] };
		stmt_of_op[op] = (int)i;
		nstmts++;
	}
	return 0;
}

void handlers_free(void)
{
	for (size_t i = 0; i < 3 * NSTMTS; i++) {
		free(owned[i]);
		owned[i] = NULL;
	}
}

const struct db_stmt *handlers_statements(size_t *n)
{
	*n = nstmts;
	return stmts;
}

int handlers_stmt_account_by_cn(void)
{
	return STMT_ACCOUNT_BY_CN;
}

int handlers_stmt_disabled_accounts(void)
{
	return STMT_DISABLED_ACCOUNTS;
}

int handlers_stmt_log_replay(void)
{
	return STMT_LOG_REPLAY;
}

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

/* A session's requests reach the database one at a time, in order: a client
 * that pipelines many (up to limits.max_inflight) holds one place in the
 * pool's queue, not many, so it cannot push other sessions' requests back.
 * One session's requests also run in the order they were sent. */
static void request_submit(struct session *s, struct request *r)
{
	s->db_running = r;
	db_query_submit(s->srv->db, r->q);
}

static void request_next(struct session *s)
{
	struct request *r = TAILQ_FIRST(&s->db_waiting);

	s->db_running = NULL;
	if (r) {
		TAILQ_REMOVE(&s->db_waiting, r, wait_link);
		request_submit(s, r);
	}
}

static void request_done(void *arg, enum db_status status, const PGresult *res)
{
	struct request *r = arg;
	struct session *s = r->s;
	const char *sqlstate = NULL, *msg = NULL;
	enum proto_error code = PROTO_OK;
	int level = LOG_DEBUG;

	LIST_REMOVE(r, link);
	request_next(s);
	switch (status) {
	case DB_OK:
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
			session_reply_ok(s, r->id, PQgetvalue(res, 0, 0),
			                 (size_t)PQgetlength(res, 0, 0));
			if (proto_op_is_action(r->op))
				events_committed(s->srv->events);
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
		session_reply_error(s, r->id, code, msg);
	if (log_enabled(level)) {
		char q[256];

		log_msg(level,
		        "request session=%llu account=%s req=%s op=%s status=%s ms=%.1f%s%s%s",
		        (unsigned long long)s->id, s->login, r->id, proto_op_name(r->op),
		        code == PROTO_OK ? "ok" : proto_error_name(code), ms_since(&r->started),
		        sqlstate ? " sqlstate=" : "", sqlstate ? sqlstate : "",
		        status == DB_ERROR && code == PROTO_ERR_INTERNAL
		                ? log_quote(q, sizeof(q), db_error_message(res))
		                : "");
	}
	free(r);
	session_request_done(s);
}

void handlers_run(struct session *s, const struct proto_request *req)
{
	const struct proto_op_spec *o = proto_op_spec(req->op);
	const char *params[PROTO_MAX_FIELDS + 2];
	char actor[16], max_photo[24];
	struct request *r;
	int n = 0;

	if (req->op == PROTO_OP_SUBSCRIBE) {
		events_subscribe(s->srv->events, s, req);
		return;
	}
	if (req->op == PROTO_OP_UNSUBSCRIBE) {
		push_unsubscribe(s->srv->push, s);
		session_reply_ok(s, req->id, "{}", 2);
		return;
	}
	if (!o || !o->sql_func) {
		session_reply_error(s, req->id, PROTO_ERR_BAD_REQUEST, "unknown op");
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		session_reply_error(s, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	snprintf(actor, sizeof(actor), "%d", s->account_id);
	params[n++] = actor;
	for (int i = 0; i < req->nparams; i++)
		params[n++] = req->params[i];
	if (o->sql_max_photo) {
		snprintf(max_photo, sizeof(max_photo), "%lld",
		         (long long)s->srv->cfg.limits.max_photo);
		params[n++] = max_photo;
	}
	r->s = s;
	r->op = req->op;
	memcpy(r->id, req->id, sizeof(r->id));
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->q = db_query_new(stmt_of_op[req->op], n, params, request_done, r);
	if (!r->q) {
		free(r);
		session_reply_error(s, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	LIST_INSERT_HEAD(&s->requests, r, link);
	session_request_started(s);
	if (s->db_running)
		TAILQ_INSERT_TAIL(&s->db_waiting, r, wait_link);
	else
		request_submit(s, r);
}

void handlers_cancel(struct request *r)
{
	struct session *s = r->s;

	if (s->db_running == r) {
		db_query_cancel(r->q);
		s->db_running = NULL;
	} else {
		TAILQ_REMOVE(&s->db_waiting, r, wait_link);
		db_query_discard(r->q);
	}
	LIST_REMOVE(r, link);
	s->inflight--;
	free(r);
}
