/*
 * readpool: the standby that serves the heavy reads (stats, ranking,
 * bulletin, export: proto_op_is_heavy_read) when database.read_conninfo
 * names one.  It keeps a db pool of its own on the standby, preparing the
 * same statements as the main pool, and every second asks the standby how
 * far behind it is (docs/assessment.md, "Heavy reads"): the pool is handed
 * out only while that answer is fresh, the standby is streaming and its lag
 * is at most database.read_max_lag.  Otherwise readpool_pick() says no and
 * the report goes to the primary.
 *
 * Ownership: the server owns the readpool (one per process, made only when
 * read_conninfo is not empty); the readpool owns its db pool and its copy of
 * the statement table (the SQL texts stay the caller's and must outlive it).
 * cfg is the server's live configuration, read at each poll, so a reload of
 * read_max_lag applies at once.  Every function takes NULL (no standby).
 */
#ifndef STREETD_READPOOL_H
#define STREETD_READPOOL_H

#include <event2/event.h>
#include <stddef.h>

struct db_pool;
struct db_stmt;
struct streetd_config;
struct readpool;

/* Starts connecting to cfg->database.read_conninfo and polling; NULL on ENOMEM. */
struct readpool *readpool_new(struct event_base *base, const struct streetd_config *cfg,
                              const struct db_stmt *stmts, size_t nstmts);

/* Closes the standby's connections; its pending queries are dropped without
 * their callbacks (db_pool_free). */
void readpool_free(struct readpool *rp);

/* The standby's pool if a report may go there now, else NULL. */
struct db_pool *readpool_pick(struct readpool *rp);

/* A report failed on the standby for a reason of the standby's (connection,
 * recovery conflict): not used again until a poll finds it fit. */
void readpool_failed(struct readpool *rp, const char *why);

#endif
