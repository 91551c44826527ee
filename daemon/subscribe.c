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

struct replay {
	const struct subscribe_env *env;
	struct caller *c;
	struct db_query *q;
	int64_t upto;
	struct push_filter f;
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

void subscribe_run(const struct subscribe_env *env, struct caller *c,
                   const struct proto_request *req)
{
	struct push_filter f = { 0, 0, TICKET_NONE };
	const char *const *p = req->params;
	int64_t head = events_position(env->events), since;
	char result[160];
	int n;
	bool resync = false, replay = false;

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
	if (since < head && head - since > MAX_REPLAY) {
		resync = true; /* too old: start live, the client re-reads its lists */
		since = head;
	}
	replay = since < head;
	if (c->replay)
		replay_free(c->replay);
	if (push_subscribe(env->push, c, &f, replay, since) != 0) {
		c->ops->reply_error(c, req->id, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	n = snprintf(result, sizeof(result), "{\"head\":%lld,\"replay\":%s,\"resync\":%s}",
	             (long long)head, replay ? "true" : "false", resync ? "true" : "false");
	c->ops->reply_ok(c, req->id, result, (size_t)n);
	if (replay && c->sub) {
		struct replay *r = calloc(1, sizeof(*r));

		if (!r) {
			c->ops->close(c, "out of memory");
			return;
		}
		r->env = env;
		r->c = c;
		r->upto = head;
		r->f = f;
		c->replay = r;
		replay_next(r, since);
	}
}

void subscribe_stop(const struct subscribe_env *env, struct caller *c,
                    const struct proto_request *req)
{
	subscribe_cancel(env, c);
	c->ops->reply_ok(c, req->id, "{}", 2);
}

void subscribe_cancel(const struct subscribe_env *env, struct caller *c)
{
	if (c->replay)
		replay_free(c->replay);
	push_unsubscribe(env->push, c);
}
