#include "subscribe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "db.h"
#include "events.h"
#include "push.h"
#include "stmts.h"

/* Events per replay query, and the most a resuming client is replayed; older
 * resume points are told to re-sync instead of silently getting less. */
#define REPLAY_BATCH 1000
#define MAX_REPLAY   100000

/* A replay under way, or (checking) a subscribe waiting to learn the log's
 * head because its since is ahead of this server's reader. */
struct replay {
	const struct subscribe_env *env;
	struct caller *c;
	struct db_query *q;
	int64_t upto;
	struct push_filter f;
	bool checking;
	int64_t since;
	char id[PROTO_ID_JSON_MAX];
};

static long long val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void replay_free(struct replay *r)
{
	if (r->q)
		db_query_cancel(r->q);
	r->c->replay = NULL;
	free(r);
}

/* Ends r for a new subscribe or an unsubscribe of the same caller; a
 * subscribe still waiting for its reply gets one. */
static void replay_abandon(struct replay *r)
{
	struct caller *c = r->c;
	char id[PROTO_ID_JSON_MAX];
	bool checking = r->checking;

	memcpy(id, r->id, sizeof(id));
	replay_free(r);
	if (checking)
		c->ops->reply_error(c, id, PROTO_ERR_CONFLICT,
		                    "subscribe overtaken by a later subscribe or unsubscribe");
}

static void replay_next(struct replay *r, int64_t after);

static void replay_done(void *arg, enum db_status st, const PGresult *res)
{
	struct replay *r = arg;
	struct caller *c = r->c;
	int n = st == DB_OK ? PQntuples(res) : 0;
	int64_t last = 0;

	r->q = NULL;
	if (st != DB_OK) {
		replay_free(r);
		c->ops->close(c, "replay failed: the database is unavailable");
		return;
	}
	for (int i = 0; i < n && c->replay == r; i++) {
		enum ticket_state to = TICKET_NONE;

		last = val(res, i, 0);
		ticket_state_parse(PQgetvalue(res, i, 3), &to);
		if (push_filter_match(&r->f, (int)val(res, i, 1), (int)val(res, i, 2), to))
			push_send_replayed(c, last, PQgetvalue(res, i, 4),
			                   (size_t)PQgetlength(res, i, 4));
	}
	/* a write may have cut the caller off, which freed r */
	if (c->replay != r)
		return;
	if (n == REPLAY_BATCH) {
		replay_next(r, last);
		return;
	}
	push_replay_done(r->env->push, c);
	if (c->replay == r)
		replay_free(r);
}

static void replay_next(struct replay *r, int64_t after)
{
	struct caller *c = r->c;
	char actor[16], a[24], u[24], lim[16];

	snprintf(actor, sizeof(actor), "%d", c->who->account_id);
	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(u, sizeof(u), "%lld", (long long)r->upto);
	snprintf(lim, sizeof(lim), "%d", REPLAY_BATCH);
	r->q = db_query(r->env->db, STMTS_LOG_REPLAY, 4, (const char *[]){ actor, a, u, lim },
	                replay_done, r);
	if (!r->q) {
		replay_free(r);
		c->ops->close(c, "out of memory");
	}
}

/* Fields of the subscribe op, in proto's order. */
enum { SUB_SINCE, SUB_CATEGORY, SUB_GRID, SUB_STATE };

/* Subscribes c from since (the client has every event up to it): replays
 * (since, head] first when since is behind, then goes live. */
static void subscribe_from(const struct subscribe_env *env, struct caller *c, const char *id,
                           const struct push_filter *f, int64_t since, bool resync)
{
	int64_t head = events_position(env->events);
	bool replay = since < head;
	char result[160];
	int n;

	if (c->replay)
		replay_abandon(c->replay);
	if (push_subscribe(env->push, c, f, replay, since) != 0) {
		c->ops->reply_error(c, id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	n = snprintf(result, sizeof(result), "{\"head\":%lld,\"replay\":%s,\"resync\":%s}",
	             (long long)(since > head ? since : head), replay ? "true" : "false",
	             resync ? "true" : "false");
	c->ops->reply_ok(c, id, result, (size_t)n);
	if (replay && c->sub) {
		struct replay *r = calloc(1, sizeof(*r));

		if (!r) {
			c->ops->close(c, "out of memory");
			return;
		}
		r->env = env;
		r->c = c;
		r->upto = head;
		r->f = *f;
		c->replay = r;
		replay_next(r, since);
	}
}

/* since was ahead of the reader: legitimate if the database has it (another
 * instance delivered it first), else the log is not the one the client knew
 * (a recreated database): resync from head. */
static void head_done(void *arg, enum db_status st, const PGresult *res)
{
	struct replay *r = arg;
	struct caller *c = r->c;
	const struct subscribe_env *env = r->env;
	struct push_filter f = r->f;
	int64_t since = r->since, head = events_position(env->events);
	char id[PROTO_ID_JSON_MAX];

	r->q = NULL;
	memcpy(id, r->id, sizeof(id));
	replay_free(r);
	if (st != DB_OK || PQntuples(res) != 1) {
		c->ops->reply_error(c, id, PROTO_ERR_UNAVAILABLE,
		                    "the database is unavailable; try again shortly");
		return;
	}
	if (since <= val(res, 0, 0))
		subscribe_from(env, c, id, &f, since > head ? since : head, false);
	else
		subscribe_from(env, c, id, &f, head, true);
}

void subscribe_run(const struct subscribe_env *env, struct caller *c,
                   const struct proto_request *req)
{
	struct push_filter f = { 0, 0, TICKET_NONE };
	const char *const *p = req->params;
	int64_t head = events_position(env->events), since;
	struct replay *r;

	if (!c->ops->push) {
		c->ops->reply_error(c, req->id, PROTO_ERR_BAD_REQUEST,
		                    "subscribe needs a connection that stays open");
		return;
	}
	if (!events_running(env->events)) {
		c->ops->reply_error(c, req->id, PROTO_ERR_UNAVAILABLE,
		                    "the event reader is starting; try again shortly");
		return;
	}
	if (p[SUB_CATEGORY])
		f.category_id = atoi(p[SUB_CATEGORY]);
	if (p[SUB_GRID])
		f.grid_id = atoi(p[SUB_GRID]);
	if (p[SUB_STATE] && !ticket_state_parse(p[SUB_STATE], &f.state)) {
		c->ops->reply_error(c, req->id, PROTO_ERR_BAD_REQUEST, "unknown state");
		return;
	}
	since = p[SUB_SINCE] ? strtoll(p[SUB_SINCE], NULL, 10) : head;
	if (since <= head) {
		bool resync = head - since > MAX_REPLAY;

		/* too old: start live, the client re-reads its lists */
		subscribe_from(env, c, req->id, &f, resync ? head : since, resync);
		return;
	}
	/* ahead of this server's reader: ask the database what it holds */
	if (c->replay)
		replay_abandon(c->replay);
	push_unsubscribe(env->push, c);
	r = calloc(1, sizeof(*r));
	if (!r) {
		c->ops->reply_error(c, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	*r = (struct replay){ .env = env, .c = c, .f = f, .checking = true, .since = since };
	memcpy(r->id, req->id, sizeof(r->id));
	c->replay = r;
	r->q = db_query(env->db, STMTS_LOG_HEAD, 0, NULL, head_done, r);
	if (!r->q) {
		replay_free(r);
		c->ops->reply_error(c, req->id, PROTO_ERR_INTERNAL, "out of memory");
	}
}

void subscribe_stop(const struct subscribe_env *env, struct caller *c,
                    const struct proto_request *req)
{
	if (c->replay)
		replay_abandon(c->replay);
	subscribe_cancel(env, c);
	c->ops->reply_ok(c, req->id, "{}", 2);
}

void subscribe_cancel(const struct subscribe_env *env, struct caller *c)
{
	if (c->replay)
		replay_free(c->replay);
	push_unsubscribe(env->push, c);
}
