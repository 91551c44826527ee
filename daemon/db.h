/*
 * db: a small pool of non-blocking libpq connections driven by the event
 * loop.  Requests from every session share the connections; each query is
 * sent in pipeline mode with its own sync point, so it runs in its own
 * implicit transaction while many are on the wire at once.
 *
 * Group commit: a statement with a try form (see struct db_stmt) is a write
 * that goes only to a connection with nothing on the wire.  Those that
 * arrive meanwhile wait, and the next idle connection runs all of them (up to
 * DB_BATCH_MAX) in one transaction, each in its own subtransaction: one
 * commit, one WAL flush, for the lot.  A failing one is rolled back alone;
 * the others commit.  Nothing is reported done before the commit is.
 *
 * The loop never waits on the database: connecting, sending, flushing and
 * reading all happen on socket readiness.
 *
 * Ownership: the pool owns its connections and every query handed to it;
 * parameters are copied, so the caller's strings may go away at once.  A
 * query's done callback runs exactly once, always from the event loop (never
 * from inside db_query), unless the query was cancelled first.
 */
#ifndef STREETD_DB_H
#define STREETD_DB_H

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum db_status {
	DB_OK,          /* res is the statement's result */
	DB_ERROR,       /* res is the error (PG_DIAG_SQLSTATE, PG_DIAG_MESSAGE_PRIMARY) */
	DB_UNAVAILABLE, /* never sent: no connection to the database now; res is NULL */
	DB_UNKNOWN,     /* sent, then the connection was lost: the outcome is unknown */
	DB_ROLLED_BACK, /* ran in a group whose transaction did not commit: not done */
};

#define DB_BATCH_MAX 32 /* below PostgreSQL's 64 cached subtransactions */

/* res is valid only during the call; the pool frees it afterwards. */
typedef void (*db_done_fn)(void *arg, enum db_status status, const PGresult *res);

/* A statement the pool prepares on every connection it opens.  try_sql, if
 * set, is the same call made inside a subtransaction that catches its error,
 * with the same parameters; it returns one row (result, sqlstate, message)
 * where sqlstate is NULL on success and result is then what sql returns. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	const char *try_sql;
};

/* The SQLSTATE and message of a DB_ERROR result: raised by the server, or
 * caught by a try form.  NULL if there is none. */
const char *db_error_sqlstate(const PGresult *res);
const char *db_error_message(const PGresult *res);

struct db_pool_config {
	const char *conninfo; /* use a unix socket path or hostaddr: no DNS on the loop */
	int size;             /* connections */
	int64_t connect_timeout_ms;
	int64_t statement_timeout_ms;
	int64_t reconnect_max_ms;     /* ceiling of the reconnect backoff */
	int max_queue;                /* queries waiting for a connection before UNAVAILABLE */
	int pipeline_depth;           /* queries on the wire per connection */
	const char *options;          /* more "-c name=value" server settings, or NULL */
	const char *application_name; /* as other sessions see it; NULL: "streetd" */
};

struct streetd_config;

/* The [database] settings of cfg (conninfo, timeouts); the caller sets the
 * rest (size, max_queue, pipeline_depth, options, application_name). */
struct db_pool_config db_pool_config_of(const struct streetd_config *cfg);

struct db_pool;
struct db_query;

/* Called whenever the number of ready connections changes (0 = the database is gone). */
typedef void (*db_state_fn)(void *arg, int ready, int size);

/* Starts connecting at once.  stmts must outlive the pool.  NULL on ENOMEM. */
struct db_pool *db_pool_new(struct event_base *base, const struct db_pool_config *cfg,
                            const struct db_stmt *stmts, size_t nstmts, db_state_fn on_state,
                            void *state_arg);

/* Closes every connection; pending queries are dropped without their callbacks. */
void db_pool_free(struct db_pool *pool);

int db_pool_ready(const struct db_pool *pool);

/* Read-only figures for /metrics: the pool's size; connections with queries
 * on the wire; queries waiting for a connection; and the group commits sent
 * so far by size (index 1..DB_BATCH_MAX; a write sent alone is a group of 1). */
int db_pool_size(const struct db_pool *pool);
int db_pool_busy(const struct db_pool *pool);
int db_pool_waiting(const struct db_pool *pool);
const uint64_t *db_pool_group_sizes(const struct db_pool *pool);

/* Called for each NOTIFY the pool's connections receive (after a LISTEN
 * statement ran on them).  Runs while a connection is being read: defer work.
 * sender_pid is the backend process that sent it. */
typedef void (*db_notify_fn)(void *arg, const char *channel, int sender_pid);
void db_pool_set_notify(struct db_pool *pool, db_notify_fn fn, void *arg);

/* True if pid is the backend process of one of the pool's open connections. */
bool db_pool_has_backend(const struct db_pool *pool, int pid);

/* Changes the reloadable timeouts; they apply to connections opened from now on. */
void db_pool_set_timeouts(struct db_pool *pool, int64_t connect_ms, int64_t statement_ms,
                          int64_t reconnect_max_ms);

/*
 * Queues the prepared statement stmt (an index into the pool's table) with
 * text parameters (NULL = SQL NULL).  Returns a handle for db_query_cancel;
 * NULL only on ENOMEM (then done is not called).
 */
struct db_query *db_query(struct db_pool *pool, int stmt, int nparams, const char *const *params,
                          db_done_fn done, void *arg);

/* The callback will not be called; the query itself may still run. */
void db_query_cancel(struct db_query *q);

/* db_query() in two steps: a query made with db_query_new() is not sent (and
 * its callback never runs) until db_query_submit(); one never submitted is
 * freed with db_query_discard().  NULL on ENOMEM. */
struct db_query *db_query_new(int stmt, int nparams, const char *const *params, db_done_fn done,
                              void *arg);
void db_query_submit(struct db_pool *pool, struct db_query *q);
void db_query_discard(struct db_query *q);

#endif
