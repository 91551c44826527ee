#include "readpool.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "evtime.h"
#include "log.h"

#define READPOOL_POLL_MS 1000

/*
 * The lag query.  The standby has nothing it could compare with the
 * primary's clock but the commit time of the last transaction it replayed,
 * so: all it received is replayed -> lag 0 (the walreceiver streams, what it
 * has is what the primary has sent); otherwise the age of the last replayed
 * commit, which only overstates the lag.  Without a walreceiver (the primary
 * is out of reach) or outside recovery the lag is not known: not used.
 */
static const char lag_sql[] =
        "SELECT pg_is_in_recovery(),"
        " EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL),"
        " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
        " ELSE floor(1000 * extract(epoch FROM clock_timestamp() -"
        " pg_last_xact_replay_timestamp()))::bigint END";

struct readpool {
	const struct streetd_config *cfg;
	struct db_pool *pool;
	struct db_stmt *stmts; /* the main table, then the lag query */
	int lag_stmt;
	struct event *ev_poll;
	struct db_query *poll; /* the lag query in flight, NULL when none */
	bool usable;
	bool known; /* usable has been decided once (the first verdict is logged) */
};

/* Logs only the changes of verdict, not every poll. */
static void verdict(struct readpool *rp, bool usable, const char *why)
{
	if (rp->known && rp->usable == usable)
		return;
	if (usable)
		log_notice("standby used for the reports: %s", why);
	else
		log_warn("standby not used for the reports (they go to the primary): %s", why);
	rp->usable = usable;
	rp->known = true;
}

static void poll_done(void *arg, enum db_status status, const PGresult *res)
{
	struct readpool *rp = arg;
	long long lag, max = (long long)rp->cfg->database.read_max_lag_ms;
	char why[128];

	rp->poll = NULL;
	if (status != DB_OK || PQntuples(res) != 1 || PQnfields(res) != 3) {
		snprintf(why, sizeof(why), "the lag query failed%s%s",
		         status == DB_ERROR ? ": " : "",
		         status == DB_ERROR && db_error_message(res) ? db_error_message(res) : "");
		verdict(rp, false, why);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		verdict(rp, false, "it is not in recovery (not a standby)");
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		verdict(rp, false, "it is not streaming from the primary: its lag is unknown");
		return;
	}
	if (PQgetisnull(res, 0, 2)) {
		verdict(rp, false, "it has not replayed a transaction yet: its lag is unknown");
		return;
	}
	lag = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	snprintf(why, sizeof(why), "lag_ms=%lld read_max_lag_ms=%lld", lag, max);
	verdict(rp, lag <= max, why);
}

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct readpool *rp = arg;

	evtime_add_ms(rp->ev_poll, READPOOL_POLL_MS);
	if (rp->poll) {
		/* a standby that cannot answer this within a second is no place for a report */
		verdict(rp, false, "the lag query has not answered within a second");
		return;
	}
	if (db_pool_ready(rp->pool) == 0) {
		verdict(rp, false, "no connection to it");
		return;
	}
	rp->poll = db_query(rp->pool, rp->lag_stmt, 0, NULL, poll_done, rp);
}

static void pool_state(void *arg, int ready, int size)
{
	struct readpool *rp = arg;

	if (ready == 0)
		verdict(rp, false, "no connection to it");
}

struct readpool *readpool_new(struct event_base *base, const struct streetd_config *cfg,
                              const struct db_stmt *stmts, size_t nstmts)
{
	struct readpool *rp = calloc(1, sizeof(*rp));
	struct db_pool_config dbc = db_pool_config_of(cfg);

	if (!rp)
		return NULL;
	rp->cfg = cfg;
	rp->stmts = calloc(nstmts + 1, sizeof(*rp->stmts));
	rp->ev_poll = evtimer_new(base, poll_cb, rp);
	if (!rp->stmts || !rp->ev_poll)
		goto fail;
	/* the same indexes as the main pool's; no try forms: no action runs here */
	for (size_t i = 0; i < nstmts; i++) {
		rp->stmts[i] = stmts[i];
		rp->stmts[i].try_sql = NULL;
	}
	rp->lag_stmt = (int)nstmts;
	rp->stmts[nstmts] = (struct db_stmt){ "read_lag", lag_sql, 0, NULL };
	dbc.conninfo = cfg->database.read_conninfo;
	dbc.size = cfg->database.read_pool_size;
	dbc.max_queue = 1000;
	dbc.pipeline_depth = 8;
	dbc.application_name = "streetd-read";
	rp->pool = db_pool_new(base, &dbc, rp->stmts, nstmts + 1, pool_state, rp);
	if (!rp->pool)
		goto fail;
	evtime_add_ms(rp->ev_poll, READPOOL_POLL_MS);
	log_notice("standby for the reports: %d connections, read_max_lag_ms=%" PRId64, dbc.size,
	           cfg->database.read_max_lag_ms);
	return rp;
fail:
	readpool_free(rp);
	return NULL;
}

void readpool_free(struct readpool *rp)
{
	if (!rp)
		return;
	if (rp->ev_poll)
		event_free(rp->ev_poll);
	db_pool_free(rp->pool);
	free(rp->stmts);
	free(rp);
}

struct db_pool *readpool_pick(struct readpool *rp)
{
	return rp && rp->usable && db_pool_ready(rp->pool) > 0 ? rp->pool : NULL;
}

void readpool_failed(struct readpool *rp, const char *why)
{
	if (rp)
		verdict(rp, false, why);
}
