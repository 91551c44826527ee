#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "evtime.h"
#include "log.h"
#include "push.h"

/* Events read per query. */
#define READ_BATCH 1000
/* How soon a hole is looked at again, and how often the log is read when no
 * doorbell rings (writers that do not ring, e.g. a script calling the SQL). */
#define HOLE_RETRY_MS 5
#define FALLBACK_MS   500
/* At most one doorbell per this many milliseconds. */
#define RING_MS 5
/* How often the reader looks for other instances' readers (the doorbell rings
 * only if there is one), and the name they go by in pg_stat_activity. */
#define PEERS_MS       1000
#define READER_APPNAME "streetd events"
/* A local commit reads the log after this long, so that a busy instance
 * reads once for many commits instead of once per commit (each read is a
 * query competing with the actions for the database's CPU). */
#define COMMIT_READ_MS 2
/* The follower (sql/functions/80_follow.sql: rollups of the assessment) runs
 * on the leader at least this often, and after every read that delivered
 * events; a call that folded a full batch is followed by another at once. */
#define FOLLOW_MS    1000
#define FOLLOW_BATCH 5000

enum {
	ES_LISTEN,
	ES_LISTEN_CATALOG,
	ES_HEAD,
	ES_AFTER,
	ES_LOCK,
	ES_SWEEP_WAIT,
	ES_SWEEP,
	ES_PURGE,
	ES_PEERS,
	ES_FOLLOW,
	ES_NSTMTS
};

static const struct db_stmt events_stmts[ES_NSTMTS] = {
	[ES_LISTEN] = { "ev_listen", "LISTEN street_events", 0, NULL },
	[ES_LISTEN_CATALOG] = { "ev_listen_catalog", "LISTEN " EVENTS_CATALOG_CHANNEL, 0, NULL },
	[ES_HEAD] = { "ev_head", "SELECT head, snap_xmin FROM street.st_log_head()", 0, NULL },
	[ES_AFTER] = { "ev_after",
	               "SELECT seq, street_id, district_id, coalesce(department_id, 0), "
	               "reporter_id,"
	               " category_id, grid_id, to_state, event, snap_xmin"
	               " FROM street.st_log_after($1, $2)",
	               2, NULL },
	[ES_LOCK] = { "ev_lock", "SELECT street.st_sweeper_lock()", 0, NULL },
	[ES_SWEEP_WAIT] = { "ev_sweep_wait", "SELECT street.st_sweep_wait()", 0, NULL },
	[ES_SWEEP] = { "ev_sweep", "SELECT count(*) FROM street.st_sweep(now(), 500)", 0, NULL },
	[ES_PURGE] = { "ev_purge", "SELECT street.st_photo_purge()::text", 0, NULL },
	[ES_PEERS] = { "ev_peers",
	               "SELECT count(*) FROM pg_stat_activity"
	               " WHERE application_name = '" READER_APPNAME "'"
	               " AND datname = current_database() AND pid <> pg_backend_pid()",
	               0, NULL },
	[ES_FOLLOW] = { "ev_follow", "SELECT street.st_follow()", 0, NULL },
};

/* The doorbell rings on a connection of its own that does not wait for the
 * WAL flush at commit: a NOTIFY needs a transaction, and a lost ring costs
 * nothing (readers also read on a timer), while a flush per ring would add
 * one fsync for every few actions. */
static const struct db_stmt ring_stmts[] = {
	{ "ev_ring", "SELECT street.st_ring()", 0, NULL },
	/* A transaction id handed out now: greater than that of every transaction
	 * that already held an event number.  (A snapshot's xmax is not such a
	 * bound: a running transaction can have an xid at or above it.) */
	{ "ev_probe", "SELECT pg_current_xact_id()::text", 0, NULL },
};
enum { RING_RING, RING_PROBE };

/* The reader's life; changed only by events_enter(). */
enum events_phase {
	EVENTS_STARTING, /* waiting until every number below the log's head is settled */
	EVENTS_RUNNING,  /* reading and delivering in order */
};

struct events {
	struct event_base *base;
	const struct streetd_config *cfg; /* the live configuration (sweeper) */
	struct push *push;
	void (*on_running)(void *arg);
	void *on_running_arg;
	struct db_pool *db;
	struct db_pool *ring_db;
	enum events_phase phase;
	int64_t position;                 /* every seq up to here is delivered or known missing */
	int64_t seen;                     /* the highest seq read from the log (/metrics) */
	struct timespec caught_up;        /* the last read that reached the log's end */
	int64_t start_head, start_settle; /* start_settle 0: not probed yet */
	bool start_seen, probing;
	int64_t hole_seq, hole_settle; /* hole_seq 0: no hole; hole_settle 0: not probed yet */
	bool reading, read_again;
	struct event *ev_read;        /* zero-timeout: coalesces requests to read */
	struct event *ev_commit_read; /* COMMIT_READ_MS after a local commit */
	struct event *ev_fallback;    /* periodic read; the hole retry */
	bool ring_armed;
	struct event *ev_ring;
	bool peers; /* another instance's reader was seen (or not looked for yet) */
	struct event *ev_peers;
	bool leader, sweeping;
	struct event *ev_sweep;
	struct timespec last_purge;
	bool following, follow_again; /* a st_follow() call is out; another is wanted after it */
	struct event *ev_follow;
	void (*on_catalog)(void *arg); /* events_on_catalog() */
	void *on_catalog_arg;
};

static void events_enter(struct events *ev, enum events_phase to)
{
	log_info("event reader %s position=%lld", to == EVENTS_RUNNING ? "running" : "starting",
	         (long long)ev->position);
	ev->phase = to;
	if (to == EVENTS_RUNNING && ev->on_running)
		ev->on_running(ev->on_running_arg);
}

static void read_soon(struct events *ev)
{
	event_active(ev->ev_read, EV_TIMEOUT, 0);
}

static long long val(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void ignore_done(void *arg, enum db_status st, const PGresult *res)
{
}

static void follow(struct events *ev);

/* ---- reading the log ---- */

static void deliver_row(struct events *ev, const PGresult *res, int i)
{
	struct push_event *pe = push_event_new(val(res, i, 0), PQgetvalue(res, i, 8),
	                                       (size_t)PQgetlength(res, i, 8));

	if (!pe) {
		log_err("out of memory: event seq=%lld not pushed", val(res, i, 0));
		return;
	}
	pe->street_id = (int)val(res, i, 1);
	pe->district_id = (int)val(res, i, 2);
	pe->department_id = (int)val(res, i, 3);
	pe->reporter_id = (int)val(res, i, 4);
	pe->category_id = (int)val(res, i, 5);
	pe->grid_id = (int)val(res, i, 6);
	if (!ticket_state_parse(PQgetvalue(res, i, 7), &pe->to_state))
		pe->to_state = TICKET_NONE;
	push_deliver(ev->push, pe);
	push_event_unref(pe);
}

static void probe_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	int64_t xid = st == DB_OK && PQntuples(res) == 1 ? val(res, 0, 0) : 0;

	ev->probing = false;
	if (xid <= 0)
		return; /* the next read probes again */
	if (ev->phase == EVENTS_STARTING)
		ev->start_settle = xid;
	else if (ev->hole_seq)
		ev->hole_settle = xid;
	read_soon(ev);
}

/* Learns a bound above the xid of every transaction holding a number now. */
static void probe(struct events *ev)
{
	if (!ev->probing)
		ev->probing = db_query(ev->ring_db, RING_PROBE, 0, NULL, probe_done, ev) != NULL;
}

static void after_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	int n = st == DB_OK ? PQntuples(res) : 0, delivered = 0;
	bool blocked = false;

	ev->reading = false;
	if (st != DB_OK) {
		log_warn("reading the event log failed status=%d", (int)st);
		return; /* the fallback timer or the reconnect reads again */
	}
	for (int i = 0; i < n; i++) {
		int64_t seq = val(res, i, 0);

		if (seq != ev->position + 1) {
			if (ev->hole_seq != ev->position + 1) {
				/* first sight: whoever holds the missing numbers has an xid
				 * below one handed out from now on */
				ev->hole_seq = ev->position + 1;
				ev->hole_settle = 0;
			}
			if (ev->hole_settle == 0) {
				probe(ev);
				blocked = true;
				break;
			}
			/* settled once every transaction below the bound has ended */
			if (val(res, i, 9) < ev->hole_settle) {
				blocked = true;
				break;
			}
			log_debug("event numbers never committed from=%lld to=%lld",
			          (long long)ev->position + 1, (long long)seq - 1);
			ev->position = seq - 1;
		}
		ev->hole_seq = 0;
		deliver_row(ev, res, i);
		ev->position = seq;
		delivered++;
	}
	if (n > 0 && val(res, n - 1, 0) > ev->seen)
		ev->seen = val(res, n - 1, 0);
	if (!blocked && n < READ_BATCH)
		clock_gettime(CLOCK_MONOTONIC, &ev->caught_up);
	if (delivered > 0)
		follow(ev);
	if (blocked)
		evtime_add_ms(ev->ev_fallback, HOLE_RETRY_MS);
	else if (n == READ_BATCH || ev->read_again)
		read_soon(ev);
	ev->read_again = false;
}

static void head_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;

	ev->reading = false;
	if (st != DB_OK || PQntuples(res) != 1)
		return;
	if (!ev->start_seen) {
		ev->start_seen = true;
		ev->start_head = val(res, 0, 0);
		ev->start_settle = 0;
	}
	if (ev->start_settle == 0) {
		probe(ev);
		evtime_add_ms(ev->ev_fallback, HOLE_RETRY_MS);
		return;
	}
	/* every transaction that could hold a number below the head has ended */
	if (val(res, 0, 1) >= ev->start_settle) {
		ev->position = ev->start_head;
		if (ev->seen < ev->start_head)
			ev->seen = ev->start_head;
		events_enter(ev, EVENTS_RUNNING);
		read_soon(ev);
	} else {
		evtime_add_ms(ev->ev_fallback, HOLE_RETRY_MS);
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	char after[24], limit[16];
	struct db_query *q;

	if (db_pool_ready(ev->db) == 0)
		return;
	if (ev->reading) {
		ev->read_again = true;
		return;
	}
	if (ev->phase == EVENTS_STARTING) {
		q = db_query(ev->db, ES_HEAD, 0, NULL, head_done, ev);
	} else {
		snprintf(after, sizeof(after), "%lld", (long long)ev->position);
		snprintf(limit, sizeof(limit), "%d", READ_BATCH);
		q = db_query(ev->db, ES_AFTER, 2, (const char *[]){ after, limit }, after_done, ev);
	}
	ev->reading = q != NULL;
}

static void fallback_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;

	read_cb(fd, what, ev);
	evtime_add_ms(ev->ev_fallback, FALLBACK_MS);
}

/* ---- the doorbell ---- */

static void ring_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;

	ev->ring_armed = false;
	if (ev->peers)
		db_query(ev->ring_db, RING_RING, 0, NULL, ignore_done, NULL);
}

/* Rings only while another instance reads: alone, a doorbell is a transaction
 * every RING_MS that nobody hears.  An instance that starts meanwhile reads on
 * its fallback timer until this one sees it (within PEERS_MS). */
static void peers_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	bool seen = st != DB_OK || PQntuples(res) != 1 || val(res, 0, 0) > 0;

	if (seen != ev->peers)
		log_info("other streetd instances %s: %s the doorbell", seen ? "seen" : "gone",
		         seen ? "ringing" : "not ringing");
	ev->peers = seen;
}

static void peers_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;

	if (db_pool_ready(ev->db) > 0)
		db_query(ev->db, ES_PEERS, 0, NULL, peers_done, ev);
	evtime_add_ms(ev->ev_peers, PEERS_MS);
}

/* Whether anyone here waits for events now.  Without subscribers the reader
 * only keeps its position current on the fallback timer: a read per commit or
 * per doorbell would cost the database a query that delivers nothing.  A first
 * subscriber is told the position the reader has reached ("head") and gets
 * everything after it, so nothing is lost by reading late. */
static bool wanted(const struct events *ev)
{
	return push_subscribers(ev->push) > 0;
}

void events_committed(struct events *ev)
{
	if (wanted(ev) && !evtimer_pending(ev->ev_commit_read, NULL))
		evtime_add_ms(ev->ev_commit_read, COMMIT_READ_MS);
	if (!ev->ring_armed) {
		ev->ring_armed = true;
		evtime_add_ms(ev->ev_ring, RING_MS);
	}
}

static void on_notify(void *arg, const char *channel, int sender_pid)
{
	struct events *ev = arg;

	if (strcmp(channel, EVENTS_CATALOG_CHANNEL) == 0) {
		if (ev->on_catalog)
			ev->on_catalog(ev->on_catalog_arg);
		return;
	}
	/* our own doorbell: the commit read already covers those commits */
	if (db_pool_has_backend(ev->ring_db, sender_pid) || !wanted(ev))
		return;
	read_soon(ev);
}

/* ---- the follower ---- */

/* Never two calls at once: st_follow() locks its cursors, and a second call
 * would only wait for the first on the database. */
static void follow_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	long long folded = st == DB_OK && PQntuples(res) == 1 ? val(res, 0, 0) : 0;

	ev->following = false;
	if (st != DB_OK)
		log_warn("the follower (st_follow) failed");
	if (folded >= FOLLOW_BATCH || ev->follow_again) {
		ev->follow_again = false;
		follow(ev);
	}
}

static void follow(struct events *ev)
{
	if (!ev->leader || db_pool_ready(ev->db) == 0)
		return;
	if (ev->following) {
		ev->follow_again = true;
		return;
	}
	ev->following = db_query(ev->db, ES_FOLLOW, 0, NULL, follow_done, ev) != NULL;
}

static void follow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;

	follow(ev);
	evtime_add_ms(ev->ev_follow, FOLLOW_MS);
}

/* ---- the deadline sweeper ---- */

static void sweep_cb(evutil_socket_t fd, short what, void *arg);
static void try_lock(struct events *ev);

static void sweep_wait_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	int64_t max = ev->cfg->sweeper.max_interval_ms, ms = max;

	ev->sweeping = false;
	if (!ev->leader)
		return;
	if (st == DB_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		double secs = strtod(PQgetvalue(res, 0, 0), NULL);

		ms = secs <= 0 ? 0 : (int64_t)(secs * 1000.0) + 1;
	}
	/* never sleep past max_interval: a clock jump or a new, earlier deadline
	 * set by another instance is noticed within that time */
	evtime_add_ms(ev->ev_sweep, ms < max ? ms : max);
}

static void sweep_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;
	long long marked = st == DB_OK && PQntuples(res) == 1 ? val(res, 0, 0) : 0;

	ev->sweeping = false;
	if (st != DB_OK) {
		log_warn("deadline sweep failed");
		evtime_add_ms(ev->ev_sweep, 1000);
		return;
	}
	if (marked > 0) {
		log_info("deadlines marked count=%lld", marked);
		events_committed(ev);
	}
	if (marked >= 500) {
		event_active(ev->ev_sweep, EV_TIMEOUT, 0);
		return;
	}
	ev->sweeping = db_query(ev->db, ES_SWEEP_WAIT, 0, NULL, sweep_wait_done, ev) != NULL;
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	struct timespec now;

	if (!ev->cfg->sweeper.enabled || db_pool_ready(ev->db) == 0 || ev->sweeping)
		return;
	if (!ev->leader) {
		/* try again to become the sweeper: the one holding the lock may be gone */
		try_lock(ev);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - ev->last_purge.tv_sec > 3600) {
		ev->last_purge = now;
		db_query(ev->db, ES_PURGE, 0, NULL, ignore_done, NULL);
	}
	ev->sweeping = db_query(ev->db, ES_SWEEP, 0, NULL, sweep_done, ev) != NULL;
}

static void lock_done(void *arg, enum db_status st, const PGresult *res)
{
	struct events *ev = arg;

	if (st == DB_OK && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't') {
		if (!ev->leader)
			log_notice("this instance now sweeps deadlines");
		ev->leader = true;
		event_active(ev->ev_sweep, EV_TIMEOUT, 0);
	} else {
		evtime_add_ms(ev->ev_sweep, ev->cfg->sweeper.max_interval_ms);
	}
}

static void try_lock(struct events *ev)
{
	if (ev->cfg->sweeper.enabled)
		db_query(ev->db, ES_LOCK, 0, NULL, lock_done, ev);
}

static void on_state(void *arg, int ready, int size)
{
	struct events *ev = arg;

	if (ready == 0) {
		if (ev->leader)
			log_warn("lost the event connection: no longer the deadline sweeper");
		ev->leader = false;
		ev->sweeping = false;
		ev->reading = false;
		ev->following = false;
		ev->follow_again = false;
		evtimer_del(ev->ev_sweep);
		return;
	}
	/* LISTEN first, then catch up from the log: nothing rung meanwhile is lost */
	db_query(ev->db, ES_LISTEN, 0, NULL, ignore_done, NULL);
	db_query(ev->db, ES_LISTEN_CATALOG, 0, NULL, ignore_done, NULL);
	if (ev->on_catalog) /* changes while the connection was down went unheard */
		ev->on_catalog(ev->on_catalog_arg);
	read_soon(ev);
	try_lock(ev);
}

/* ---- life ---- */

struct events *events_new(struct event_base *base, const struct streetd_config *cfg,
                          struct push *push, void (*on_running)(void *arg), void *arg)
{
	struct events *ev = calloc(1, sizeof(*ev));
	struct db_pool_config c = db_pool_config_of(cfg);

	c.size = 1;
	c.max_queue = 1000;
	c.pipeline_depth = 16;
	c.application_name = READER_APPNAME;
	if (!ev)
		return NULL;
	ev->base = base;
	clock_gettime(CLOCK_MONOTONIC, &ev->caught_up); /* the lag counts from the start */
	ev->cfg = cfg;
	ev->push = push;
	ev->on_running = on_running;
	ev->on_running_arg = arg;
	ev->peers = true;
	ev->ev_peers = evtimer_new(ev->base, peers_cb, ev);
	ev->ev_read = event_new(ev->base, -1, 0, read_cb, ev);
	ev->ev_commit_read = evtimer_new(ev->base, read_cb, ev);
	ev->ev_fallback = evtimer_new(ev->base, fallback_cb, ev);
	ev->ev_ring = evtimer_new(ev->base, ring_cb, ev);
	ev->ev_sweep = evtimer_new(ev->base, sweep_cb, ev);
	ev->ev_follow = evtimer_new(ev->base, follow_cb, ev);
	if (!ev->ev_follow || !ev->ev_read || !ev->ev_commit_read || !ev->ev_fallback ||
	    !ev->ev_ring || !ev->ev_sweep || !ev->ev_peers)
		goto fail;
	ev->db = db_pool_new(ev->base, &c, events_stmts, ES_NSTMTS, on_state, ev);
	if (!ev->db)
		goto fail;
	c.options = "-c synchronous_commit=off";
	c.application_name = "streetd ring";
	ev->ring_db = db_pool_new(ev->base, &c, ring_stmts, 2, NULL, NULL);
	if (!ev->ring_db)
		goto fail;
	db_pool_set_notify(ev->db, on_notify, ev);
	evtime_add_ms(ev->ev_fallback, FALLBACK_MS);
	evtime_add_ms(ev->ev_peers, PEERS_MS);
	evtime_add_ms(ev->ev_follow, FOLLOW_MS);
	return ev;
fail:
	events_free(ev);
	return NULL;
}

void events_on_catalog(struct events *ev, void (*fn)(void *arg), void *arg)
{
	ev->on_catalog = fn;
	ev->on_catalog_arg = arg;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	db_pool_free(ev->db);
	db_pool_free(ev->ring_db);
	if (ev->ev_read)
		event_free(ev->ev_read);
	if (ev->ev_commit_read)
		event_free(ev->ev_commit_read);
	if (ev->ev_peers)
		event_free(ev->ev_peers);
	if (ev->ev_fallback)
		event_free(ev->ev_fallback);
	if (ev->ev_ring)
		event_free(ev->ev_ring);
	if (ev->ev_sweep)
		event_free(ev->ev_sweep);
	if (ev->ev_follow)
		event_free(ev->ev_follow);
	free(ev);
}

int64_t events_position(const struct events *ev)
{
	return ev->position;
}

int64_t events_seen(const struct events *ev)
{
	return ev->seen;
}

double events_lag_seconds(const struct events *ev)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - ev->caught_up.tv_sec) +
	       (double)(now.tv_nsec - ev->caught_up.tv_nsec) / 1e9;
}

bool events_running(const struct events *ev)
{
	return ev->phase == EVENTS_RUNNING;
}

bool events_is_sweeper(const struct events *ev)
{
	return ev->leader;
}
