#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "evtime.h"
#include "log.h"

struct db_pool_config db_pool_config_of(const struct streetd_config *cfg)
{
	return (struct db_pool_config){
		.conninfo = cfg->database.conninfo,
		.size = cfg->database.pool_size,
		.connect_timeout_ms = cfg->database.connect_timeout_ms,
		.statement_timeout_ms = cfg->database.statement_timeout_ms,
		.reconnect_max_ms = cfg->database.reconnect_max_ms,
	};
}

/* One connection's life; changed only by conn_enter(). */
enum conn_state {
	CONN_DOWN,       /* not connected; the retry timer is armed */
	CONN_CONNECTING, /* PQconnectPoll in progress; the connect timer is armed */
	CONN_PREPARING,  /* connected; the pool's statements are being prepared */
	CONN_READY,      /* takes queries */
};

static const char *const conn_state_names[] = { "down", "connecting", "preparing", "ready" };

struct db_query {
	struct db_query *next;
	db_done_fn done;
	void *arg;
	PGresult *res;
	enum db_status status;
	int stmt;
	int nparams;
	bool prepare;     /* internal: prepares stmt on a new connection */
	bool prepare_try; /* ... its try form */
	bool cancelled;   /* the caller no longer wants the callback */
	/* A group (one transaction): the first member is on the wire list and
	 * links the others through batch; batch_n counts them, on the first. */
	struct db_query *batch;
	int batch_n;
	const char **params;
	/* the parameter strings follow, copied */
};

struct query_list {
	struct db_query *head, *tail;
	int n;
};

struct conn {
	struct db_pool *pool;
	int index;
	PGconn *pg;
	enum conn_state state;
	evutil_socket_t sock;
	struct event *ev_read;  /* persistent while connected */
	struct event *ev_write; /* armed only while libpq has unsent data */
	struct event *ev_timer; /* connect timeout, or the reconnect backoff */
	int64_t backoff_ms;
	struct query_list wire; /* units on the wire (single queries or groups), oldest first */
	int step;               /* the head unit's statement whose results are being read */
	bool got;               /* a result of that statement was seen */
	bool failed;            /* the head unit had an error: its transaction did not commit */
	int prepares_left;
	bool prepare_failed;
	bool dirty; /* sent since the last flush */
};

struct db_pool {
	struct event_base *base;
	struct db_pool_config cfg;
	char *conninfo;
	const struct db_stmt *stmts;
	size_t nstmts;
	char **try_names; /* "<name>_try" for statements with a try form, else NULL */
	struct conn *conns;
	int ready;
	struct query_list waiting;   /* not yet sent */
	struct query_list delivered; /* finished; callbacks to run */
	struct event *ev_deliver;
	db_state_fn on_state;
	void *state_arg;
	db_notify_fn on_notify;
	void *notify_arg;
	uint64_t groups[DB_BATCH_MAX + 1]; /* group commits sent, by size (/metrics) */
};

static void conn_start(struct conn *c);
static void conn_lost(struct conn *c, const char *why);

static void list_push(struct query_list *l, struct db_query *q)
{
	q->next = NULL;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->n++;
}

static struct db_query *list_pop(struct query_list *l)
{
	struct db_query *q = l->head;

	if (q) {
		l->head = q->next;
		if (!l->head)
			l->tail = NULL;
		l->n--;
		q->next = NULL;
	}
	return q;
}

static void query_free(struct db_query *q)
{
	if (q->res)
		PQclear(q->res);
	free(q);
}

/* Frees a unit: one query, or a group with all its members. */
static void unit_free(struct db_query *q)
{
	while (q) {
		struct db_query *next = q->batch;

		query_free(q);
		q = next;
	}
}

/* Hands a finished query to the deliver event, so that callbacks never run
 * inside db_query() or in the middle of reading a connection. */
static void deliver(struct db_pool *pool, struct db_query *q, enum db_status status)
{
	q->status = status;
	list_push(&pool->delivered, q);
	event_active(pool->ev_deliver, EV_TIMEOUT, 0);
}

/* Delivers every query of a unit (one, or a group's members) with status. */
static void deliver_unit(struct db_pool *pool, struct db_query *q, enum db_status status)
{
	for (struct db_query *next; q; q = next) {
		next = q->batch;
		q->batch = NULL;
		deliver(pool, q, status);
	}
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	struct db_query *q;

	while ((q = list_pop(&pool->delivered)) != NULL) {
		if (!q->cancelled && q->done)
			q->done(q->arg, q->status, q->res);
		query_free(q);
	}
}

static void conn_enter(struct conn *c, enum conn_state to)
{
	struct db_pool *pool = c->pool;
	bool was_ready = c->state == CONN_READY;

	if (c->state == to)
		return;
	log_debug("database connection state conn=%d from=%s to=%s", c->index,
	          conn_state_names[c->state], conn_state_names[to]);
	c->state = to;
	if (was_ready != (to == CONN_READY)) {
		pool->ready += was_ready ? -1 : 1;
		if (pool->on_state)
			pool->on_state(pool->state_arg, pool->ready, pool->cfg.size);
	}
}

static void conn_unwatch(struct conn *c)
{
	if (c->ev_read) {
		event_free(c->ev_read);
		c->ev_read = NULL;
	}
	if (c->ev_write) {
		event_free(c->ev_write);
		c->ev_write = NULL;
	}
	c->sock = -1;
}

static void conn_io(evutil_socket_t fd, short what, void *arg);

/* Arms the socket events for libpq's current socket, which can change while
 * connecting. */
static int conn_watch(struct conn *c, bool want_read, bool want_write)
{
	evutil_socket_t s = PQsocket(c->pg);

	if (s < 0)
		return -1;
	if (s != c->sock) {
		conn_unwatch(c);
		c->ev_read = event_new(c->pool->base, s, EV_READ | EV_PERSIST, conn_io, c);
		c->ev_write = event_new(c->pool->base, s, EV_WRITE | EV_PERSIST, conn_io, c);
		if (!c->ev_read || !c->ev_write)
			return -1;
		c->sock = s;
	}
	if (want_read ? event_add(c->ev_read, NULL) : event_del(c->ev_read))
		return -1;
	if (want_write ? event_add(c->ev_write, NULL) : event_del(c->ev_write))
		return -1;
	return 0;
}

static void conn_flush(struct conn *c)
{
	int r = PQflush(c->pg);

	c->dirty = false;
	if (r < 0) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	/* 1: more to send; keep reading meanwhile, the server may be waiting for us */
	if (conn_watch(c, true, r == 1) < 0)
		conn_lost(c, "cannot watch the socket");
}

static void conn_push_unit(struct conn *c, struct db_query *q)
{
	list_push(&c->wire, q);
	c->dirty = true;
}

static int conn_send(struct conn *c, struct db_query *q)
{
	const struct db_stmt *st = &c->pool->stmts[q->stmt];
	int ok;

	if (q->prepare_try)
		ok = PQsendPrepare(c->pg, c->pool->try_names[q->stmt], st->try_sql, st->nparams,
		                   NULL);
	else if (q->prepare)
		ok = PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL);
	else
		ok = PQsendQueryPrepared(c->pg, st->name, q->nparams, q->params, NULL, NULL, 0);
	/* a sync per query: each runs in its own implicit transaction */
	if (!ok || !PQpipelineSync(c->pg))
		return -1;
	conn_push_unit(c, q);
	return 0;
}

/* Sends a group (q and the members linked by batch) with one sync point after
 * their try forms: statements up to a sync form one implicit transaction,
 * committed at the sync, or rolled back whole if one of them fails. */
static int conn_send_group(struct conn *c, struct db_query *q)
{
	bool ok = true;

	for (struct db_query *m = q; ok && m; m = m->batch)
		ok = PQsendQueryPrepared(c->pg, c->pool->try_names[m->stmt], m->nparams, m->params,
		                         NULL, NULL, 0);
	if (!ok || !PQpipelineSync(c->pg))
		return -1;
	log_debug("database group conn=%d size=%d", c->index, q->batch_n);
	conn_push_unit(c, q);
	return 0;
}

static bool groupable(const struct db_pool *pool, const struct db_query *q)
{
	return pool->try_names && pool->try_names[q->stmt] != NULL;
}

/* Takes the waiting queries that go to c as one unit: the head alone, or, if
 * it has a try form, it and the groupable queries right behind it. */
static struct db_query *take_unit(struct db_pool *pool)
{
	struct db_query *q = list_pop(&pool->waiting), *last = q;

	q->batch_n = 1;
	if (!groupable(pool, q))
		return q;
	while (q->batch_n < DB_BATCH_MAX && pool->waiting.head &&
	       groupable(pool, pool->waiting.head)) {
		struct db_query *m = list_pop(&pool->waiting);

		if (m->cancelled) {
			query_free(m);
			continue;
		}
		last->batch = m;
		last = m;
		q->batch_n++;
	}
	return q;
}

/* Moves waiting queries onto the least busy ready connections, in order.  A
 * write with a try form waits for a connection with nothing on the wire (and
 * so does everything behind it): meanwhile others join it, and they commit
 * together. */
static void pool_dispatch(struct db_pool *pool)
{
	while (pool->waiting.head) {
		struct conn *best = NULL;
		struct db_query *q = pool->waiting.head;
		int limit = groupable(pool, q) ? 1 : pool->cfg.pipeline_depth;

		if (q->cancelled) {
			query_free(list_pop(&pool->waiting));
			continue;
		}
		for (int i = 0; i < pool->cfg.size; i++) {
			struct conn *c = &pool->conns[i];

			if (c->state == CONN_READY && c->wire.n < limit &&
			    (!best || c->wire.n < best->wire.n))
				best = c;
		}
		if (!best)
			break;
		q = take_unit(pool);
		if (groupable(pool, q))
			pool->groups[q->batch_n]++;
		if ((q->batch_n == 1 ? conn_send(best, q) : conn_send_group(best, q)) < 0) {
			deliver_unit(pool, q, DB_UNAVAILABLE);
			conn_lost(best, PQerrorMessage(best->pg));
		}
	}
	for (int i = 0; i < pool->cfg.size; i++) {
		if (pool->conns[i].dirty)
			conn_flush(&pool->conns[i]);
	}
}

static void conn_prepared(struct conn *c)
{
	if (c->prepare_failed) {
		conn_lost(c, "preparing the statements failed (is the schema migrated?)");
		return;
	}
	c->backoff_ms = 0;
	log_info("database connection ready conn=%d", c->index);
	conn_enter(c, CONN_READY);
	pool_dispatch(c->pool);
}

/* A member of a group that committed: its try form says how it went. */
static enum db_status member_status(const struct db_query *m)
{
	if (!m->res || PQresultStatus(m->res) != PGRES_TUPLES_OK || PQntuples(m->res) != 1 ||
	    PQnfields(m->res) != 3)
		return DB_ERROR;
	return PQgetisnull(m->res, 0, 1) ? DB_OK : DB_ERROR;
}

/* A group is done: if it committed, each member as its try form says; if not,
 * one that failed outside its subtransaction (a cancel, a timeout) says why,
 * and the rest were rolled back with it. */
static void complete_group(struct conn *c, struct db_query *q)
{
	bool committed = !c->failed;

	while (q) {
		struct db_query *next = q->batch;
		enum db_status st;

		q->batch = NULL;
		if (committed)
			st = member_status(q);
		else if (q->res && PQresultStatus(q->res) == PGRES_FATAL_ERROR)
			st = DB_ERROR;
		else
			st = DB_ROLLED_BACK;
		deliver(c->pool, q, st);
		q = next;
	}
}

static void conn_complete_head(struct conn *c)
{
	struct db_query *q = list_pop(&c->wire);
	ExecStatusType st = q->res ? PQresultStatus(q->res) : PGRES_FATAL_ERROR;
	enum db_status status =
	        (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) ? DB_OK : DB_ERROR;
	bool group = q->batch_n > 1;

	if (group)
		complete_group(c, q); /* reads c->failed */
	c->step = 0;
	c->got = false;
	c->failed = false;
	if (group)
		return;
	if (!q->prepare) {
		deliver(c->pool, q, status);
		return;
	}
	if (status != DB_OK) {
		log_err("preparing statement %s failed: %s", c->pool->stmts[q->stmt].name,
		        q->res ? PQresultErrorMessage(q->res) : "no result");
		c->prepare_failed = true;
	}
	query_free(q);
	if (--c->prepares_left == 0)
		conn_prepared(c);
}

static void keep_result(struct db_query *q, PGresult *r)
{
	if (q->res)
		PQclear(q->res);
	q->res = r;
}

/* A result of the head group's member number step (an error at commit time
 * comes after the last member's results: it goes to the last). */
static void group_result(struct conn *c, PGresult *r)
{
	struct db_query *m = c->wire.head;

	for (int i = 0; i < c->step && m->batch; i++)
		m = m->batch;
	keep_result(m, r);
}

/* Reads every result libpq has parsed.  In pipeline mode a query's results end
 * with NULL and its sync point with PGRES_PIPELINE_SYNC. */
static void conn_take_results(struct conn *c)
{
	int nulls = 0;

	while (c->state >= CONN_PREPARING && c->wire.head && !PQisBusy(c->pg)) {
		PGresult *r = PQgetResult(c->pg);

		if (!r) {
			/* the end of one statement's results */
			if (c->got)
				c->step++;
			c->got = false;
			if (++nulls > 1)
				break; /* nothing more until the server sends it */
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			conn_complete_head(c);
			continue;
		}
		c->got = true;
		if (PQresultStatus(r) == PGRES_FATAL_ERROR ||
		    PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
			c->failed = true;
		if (c->wire.head->batch_n > 1)
			group_result(c, r);
		else
			keep_result(c->wire.head, r);
	}
}

static void conn_read(struct conn *c)
{
	PGnotify *n;

	if (!PQconsumeInput(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->pool->on_notify)
			c->pool->on_notify(c->pool->notify_arg, n->relname, n->be_pid);
		PQfreemem(n);
	}
	conn_take_results(c);
	if (c->state >= CONN_PREPARING) {
		if (PQstatus(c->pg) == CONNECTION_BAD)
			conn_lost(c, PQerrorMessage(c->pg));
		else
			pool_dispatch(c->pool);
	}
}

static void conn_connected(struct conn *c)
{
	struct db_pool *pool = c->pool;

	evtimer_del(c->ev_timer);
	if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	conn_enter(c, CONN_PREPARING);
	c->prepare_failed = false;
	c->prepares_left = 0;
	for (size_t i = 0; i < 2 * pool->nstmts; i++) {
		bool try_form = i >= pool->nstmts;
		struct db_query *q;

		if (try_form && !pool->try_names[i - pool->nstmts])
			continue;
		q = calloc(1, sizeof(*q));
		if (!q) {
			conn_lost(c, strerror(ENOMEM));
			return;
		}
		q->stmt = (int)(try_form ? i - pool->nstmts : i);
		q->prepare = true;
		q->prepare_try = try_form;
		c->prepares_left++;
		if (conn_send(c, q) < 0) {
			free(q);
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (pool->nstmts == 0)
		conn_prepared(c);
	else
		conn_flush(c);
}

static void conn_poll_connect(struct conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		if (conn_watch(c, true, false) < 0)
			conn_lost(c, "cannot watch the socket");
		return;
	case PGRES_POLLING_WRITING:
		if (conn_watch(c, false, true) < 0)
			conn_lost(c, "cannot watch the socket");
		return;
	case PGRES_POLLING_OK:
		conn_connected(c);
		return;
	default:
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
}

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch (c->state) {
	case CONN_CONNECTING:
		conn_poll_connect(c);
		return;
	case CONN_PREPARING:
	case CONN_READY:
		if (what & EV_WRITE)
			conn_flush(c);
		if ((what & EV_READ) && c->state >= CONN_PREPARING)
			conn_read(c);
		return;
	case CONN_DOWN:
		return;
	}
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CONNECTING)
		conn_lost(c, "connect timed out");
	else if (c->state == CONN_DOWN)
		conn_start(c);
}

/* Drops the connection: queries on the wire have an unknown outcome; if no
 * connection is left, waiting queries fail at once.  Retries with backoff. */
static void conn_lost(struct conn *c, const char *why)
{
	struct db_pool *pool = c->pool;
	struct db_query *q;
	struct timeval tv;
	char reason[256], qr[400];

	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	reason[strcspn(reason, "\n")] = 0;
	log_warn("database connection lost conn=%d state=%s inflight=%d reason=%s", c->index,
	         conn_state_names[c->state], c->wire.n, log_quote(qr, sizeof(qr), reason));
	while ((q = list_pop(&c->wire)) != NULL) {
		if (q->prepare)
			query_free(q);
		else
			deliver_unit(pool, q, DB_UNKNOWN);
	}
	c->step = 0;
	c->got = false;
	c->failed = false;
	conn_unwatch(c);
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	evtimer_del(c->ev_timer);
	conn_enter(c, CONN_DOWN);
	if (pool->ready == 0) {
		while ((q = list_pop(&pool->waiting)) != NULL)
			deliver(pool, q, DB_UNAVAILABLE);
	}
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 100;
	if (c->backoff_ms > pool->cfg.reconnect_max_ms)
		c->backoff_ms = pool->cfg.reconnect_max_ms;
	tv = evtime_ms(c->backoff_ms);
	evtimer_add(c->ev_timer, &tv);
}

static void conn_start(struct conn *c)
{
	struct db_pool *pool = c->pool;
	char options[160];
	const char *keys[] = { "dbname", "application_name", "options", NULL };
	const char *values[] = { pool->conninfo,
		                 pool->cfg.application_name ? pool->cfg.application_name
		                                            : "streetd",
		                 options, NULL };
	struct timeval tv;

	/* the daemon's statement timeout wins over one in conninfo; times go out
	 * in the streets' own offset (+08:00) */
	snprintf(options, sizeof(options), "-c statement_timeout=%lld -c TimeZone=Asia/Shanghai %s",
	         (long long)pool->cfg.statement_timeout_ms,
	         pool->cfg.options ? pool->cfg.options : "");
	c->pg = PQconnectStartParams(keys, values, 1);
	if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_lost(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	conn_enter(c, CONN_CONNECTING);
	tv = evtime_ms(pool->cfg.connect_timeout_ms);
	evtimer_add(c->ev_timer, &tv);
	/* libpq: start as if PQconnectPoll had returned PGRES_POLLING_WRITING */
	if (conn_watch(c, false, true) < 0)
		conn_lost(c, "cannot watch the socket");
}

struct db_pool *db_pool_new(struct event_base *base, const struct db_pool_config *cfg,
                            const struct db_stmt *stmts, size_t nstmts, db_state_fn on_state,
                            void *state_arg)
{
	struct db_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->base = base;
	pool->cfg = *cfg;
	pool->stmts = stmts;
	pool->nstmts = nstmts;
	pool->on_state = on_state;
	pool->state_arg = state_arg;
	pool->conninfo = strdup(cfg->conninfo);
	pool->conns = calloc((size_t)cfg->size, sizeof(*pool->conns));
	pool->ev_deliver = event_new(base, -1, 0, deliver_cb, pool);
	pool->try_names = calloc(nstmts ? nstmts : 1, sizeof(*pool->try_names));
	if (!pool->conninfo || !pool->conns || !pool->ev_deliver || !pool->try_names)
		goto fail;
	for (size_t i = 0; i < nstmts; i++) {
		if (stmts[i].try_sql &&
		    asprintf(&pool->try_names[i], "%s_try", stmts[i].name) < 0) {
			pool->try_names[i] = NULL;
			goto fail;
		}
	}
	for (int i = 0; i < cfg->size; i++) {
		struct conn *c = &pool->conns[i];

		c->pool = pool;
		c->index = i;
		c->sock = -1;
		c->ev_timer = evtimer_new(base, conn_timer, c);
		if (!c->ev_timer)
			goto fail;
	}
	for (int i = 0; i < cfg->size; i++)
		conn_start(&pool->conns[i]);
	return pool;
fail:
	db_pool_free(pool);
	return NULL;
}

void db_pool_free(struct db_pool *pool)
{
	struct db_query *q;

	if (!pool)
		return;
	for (int i = 0; pool->conns && i < pool->cfg.size; i++) {
		struct conn *c = &pool->conns[i];

		while ((q = list_pop(&c->wire)) != NULL)
			unit_free(q);
		conn_unwatch(c);
		if (c->ev_timer)
			event_free(c->ev_timer);
		if (c->pg)
			PQfinish(c->pg);
	}
	while ((q = list_pop(&pool->waiting)) != NULL)
		query_free(q);
	while ((q = list_pop(&pool->delivered)) != NULL)
		query_free(q);
	if (pool->ev_deliver)
		event_free(pool->ev_deliver);
	for (size_t i = 0; pool->try_names && i < pool->nstmts; i++)
		free(pool->try_names[i]);
	free(pool->try_names);
	free(pool->conns);
	free(pool->conninfo);
	free(pool);
}

void db_pool_set_notify(struct db_pool *pool, db_notify_fn fn, void *arg)
{
	pool->on_notify = fn;
	pool->notify_arg = arg;
}

bool db_pool_has_backend(const struct db_pool *pool, int pid)
{
	for (int i = 0; i < pool->cfg.size; i++) {
		const struct conn *c = &pool->conns[i];

		if (c->pg && c->state >= CONN_PREPARING && PQbackendPID(c->pg) == pid)
			return true;
	}
	return false;
}

const char *db_error_sqlstate(const PGresult *res)
{
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 3)
		return PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1);
	return res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
}

const char *db_error_message(const PGresult *res)
{
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 3)
		return PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2);
	return res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
}

int db_pool_ready(const struct db_pool *pool)
{
	return pool->ready;
}

int db_pool_size(const struct db_pool *pool)
{
	return pool->cfg.size;
}

int db_pool_busy(const struct db_pool *pool)
{
	int n = 0;

	for (int i = 0; i < pool->cfg.size; i++)
		n += pool->conns[i].wire.n > 0;
	return n;
}

int db_pool_waiting(const struct db_pool *pool)
{
	return pool->waiting.n;
}

const uint64_t *db_pool_group_sizes(const struct db_pool *pool)
{
	return pool->groups;
}

void db_pool_set_timeouts(struct db_pool *pool, int64_t connect_ms, int64_t statement_ms,
                          int64_t reconnect_max_ms)
{
	pool->cfg.connect_timeout_ms = connect_ms;
	pool->cfg.statement_timeout_ms = statement_ms;
	pool->cfg.reconnect_max_ms = reconnect_max_ms;
}

struct db_query *db_query_new(int stmt, int nparams, const char *const *params, db_done_fn done,
                              void *arg)
{
	size_t size = sizeof(struct db_query) + (size_t)nparams * sizeof(char *);
	struct db_query *q;
	char *p;

	for (int i = 0; i < nparams; i++)
		size += params[i] ? strlen(params[i]) + 1 : 0;
	q = malloc(size);
	if (!q)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->done = done;
	q->arg = arg;
	q->stmt = stmt;
	q->nparams = nparams;
	q->params = (const char **)(q + 1);
	p = (char *)(q->params + nparams);
	for (int i = 0; i < nparams; i++) {
		if (!params[i]) {
			q->params[i] = NULL;
			continue;
		}
		size_t n = strlen(params[i]) + 1;

		memcpy(p, params[i], n);
		q->params[i] = p;
		p += n;
	}
	return q;
}

void db_query_submit(struct db_pool *pool, struct db_query *q)
{
	if (pool->ready == 0 || pool->waiting.n >= pool->cfg.max_queue) {
		deliver(pool, q, DB_UNAVAILABLE);
		return;
	}
	list_push(&pool->waiting, q);
	pool_dispatch(pool);
}

void db_query_discard(struct db_query *q)
{
	if (q)
		query_free(q);
}

struct db_query *db_query(struct db_pool *pool, int stmt, int nparams, const char *const *params,
                          db_done_fn done, void *arg)
{
	struct db_query *q = db_query_new(stmt, nparams, params, done, arg);

	if (q)
		db_query_submit(pool, q);
	return q;
}

void db_query_cancel(struct db_query *q)
{
	if (q)
		q->cancelled = true;
}
