/*
 * The heavy reads on a real streaming standby (scripts/test makes it with
 * pg_basebackup: $STREETD_TEST_STANDBY_*): stats, ranking, bulletin and
 * export are answered from it, equal to the primary's; while it lags beyond
 * database.read_max_lag they come from the primary; a standby that dies in
 * the middle of a report has that report answered by the primary, whole;
 * with both down the answer is `unavailable`; a standby that comes back is
 * used again.  Where a report was served shows in the daemon's request log
 * line (db=standby / primary / primary_retry) and, for the lag, in the
 * figures themselves: a paused standby still shows the old ones.
 *
 * Runs alone (meson: is_parallel false): it stops the shared cluster.
 */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

#define LOGIN    "ma.jun" /* the city supervisor: every report is in scope */
#define NOT_USED "standby not used for the reports (they go to the primary): "

static char today[16], tomorrow[16];
static int actor;

/* tdb_fmt with room for a conninfo: 8 rotating buffers. */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
	static char bufs[8][1024];
	static unsigned next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && v[0], "%s is not set (run the suite through scripts/test)", name);
	return v;
}

static PGconn *standby_admin(void)
{
	PGconn *c = PQconnectdb(env_or_die("STREETD_TEST_STANDBY_ADMIN_DB"));

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "standby: %s", PQerrorMessage(c));
	return c;
}

static bool standby_running(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s'%s/pg_ctl' -D '%s/data' status >/dev/null 2>&1",
	         geteuid() == 0 ? "cd / && runuser -u postgres -- " : "",
	         env_or_die("STREETD_TEST_PGBIN"), env_or_die("STREETD_TEST_STANDBY_PGDIR"));
	return system(cmd) == 0;
}

static void standby_stop_immediate(void)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "%s'%s/pg_ctl' -D '%s/data' -m immediate -w -t 60 stop >&2",
	         geteuid() == 0 ? "cd / && runuser -u postgres -- " : "",
	         env_or_die("STREETD_TEST_PGBIN"), env_or_die("STREETD_TEST_STANDBY_PGDIR"));
	ck_assert_int_eq(system(cmd), 0);
}

/* scripts/pg start: as the cluster was made (its streetd.conf is rewritten alike). */
static int standby_start(void)
{
	char cmd[2048], *port = tconninfo_get(env_or_die("STREETD_TEST_STANDBY_DB"), "port");

	snprintf(cmd, sizeof(cmd), "'%s/../scripts/pg' start '%s' '%s' >&2",
	         env_or_die("STREETD_TEST_SQL_DIR"), env_or_die("STREETD_TEST_STANDBY_PGDIR"),
	         port);
	free(port);
	return system(cmd);
}

/* Fixture: whatever a test did, both clusters run afterwards, the standby
 * replaying. */
static void clusters_ensure(void)
{
	const char *sb = getenv("STREETD_TEST_STANDBY_ADMIN_DB");
	PGconn *c;

	tcluster_ensure();
	if (!getenv("STREETD_TEST_STANDBY_PGDIR") || !sb)
		return;
	if (!standby_running()) {
		fprintf(stderr, "test_daemon_standby: starting the standby again\n");
		if (standby_start() != 0)
			fprintf(stderr, "test_daemon_standby: COULD NOT START THE STANDBY\n");
	}
	c = PQconnectdb(sb);
	if (PQstatus(c) == CONNECTION_OK)
		PQclear(PQexec(c, "SELECT pg_wal_replay_resume()"));
	PQfinish(c);
}

/* Waits until the standby has replayed all the primary has written now. */
static void standby_catch_up(void)
{
	PGconn *db = tdb_connect(true), *sb = standby_admin();
	char *lsn = tdb_str(db, "SELECT pg_current_wal_lsn()::text", 0, NULL);
	bool done = false;

	for (int i = 0; i < 400 && !done; i++) {
		done = tdb_int(sb, "SELECT (pg_last_wal_replay_lsn() >= $1::pg_lsn)::int", 1,
		               (const char *[]){ lsn }) == 1;
		if (!done)
			usleep(50000);
	}
	ck_assert_msg(done, "the standby did not replay up to %s within 20 s", lsn);
	free(lsn);
	PQfinish(sb);
	PQfinish(db);
}

static int log_count(struct tdaemon *d, const char *needle)
{
	int n = 0;

	for (const char *p = tdaemon_log(d); (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Waits (<= 60 s: a standby that comes back must first catch up with a
 * primary that restarted too, on a machine other suites keep busy) until
 * the log holds needle more than `than` times. */
static void log_wait_more(struct tdaemon *d, const char *needle, int than)
{
	for (int i = 0; i < 1200; i++) {
		if (log_count(d, needle) > than)
			return;
		usleep(50000);
	}
	fprintf(stderr, "the daemon's log:\n%s\n", tdaemon_log(d));
	ck_abort_msg("\"%s\" did not appear (again) in the log (printed above)", needle);
}

/* The four heavy reads, as a request and as the statement the daemon runs. */
enum report { R_STATS, R_RANKING, R_BULLETIN, R_EXPORT, R_COUNT };

static const char *request_of(enum report r)
{
	switch (r) {
	case R_STATS:
		return fmt("{\"op\":\"stats\",\"from\":\"%s\",\"to\":\"%s\",\"group\":"
		           "\"department\"}",
		           today, tomorrow);
	case R_RANKING:
		return fmt("{\"op\":\"ranking\",\"from\":\"%s\",\"to\":\"%s\",\"group\":"
		           "\"street\"}",
		           today, tomorrow);
	case R_BULLETIN:
		return fmt("{\"op\":\"bulletin\",\"from\":\"%s\",\"to\":\"%s\"}", today, tomorrow);
	default:
		return fmt("{\"op\":\"export\",\"from\":\"%s\",\"to\":\"%s\"}", today, tomorrow);
	}
}

/* The primary's answer to the same report, as JSON (the caller puts it). */
static json_object *primary_answer(enum report r)
{
	static const char *const sql[R_COUNT] = {
		"SELECT street.st_stats($1, $2, $3, 'department')::text",
		"SELECT street.st_ranking($1, $2, $3, 'street')::text",
		"SELECT street.st_bulletin($1, $2, $3)::text",
		"SELECT street.st_export($1, $2, $3)::text",
	};
	PGconn *db = tdb_connect(false);
	char *text =
	        tdb_str(db, sql[r], 3, (const char *[]){ tdb_fmt("%d", actor), today, tomorrow });
	json_object *o = json_tokener_parse(text);

	ck_assert_ptr_nonnull(o);
	free(text);
	PQfinish(db);
	return o;
}

/* Drops every "late_s" (a bulletin's overdue items: seconds late as of the
 * moment of asking, so two answers a moment apart differ there). */
static void drop_late_s(json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			drop_late_s(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_del(o, "late_s");
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			drop_late_s(v);
		}
	}
}

/* The daemon's answer equals the primary's now (in place: the reply's
 * late_s go). */
static bool same_as_primary(json_object *reply, enum report r)
{
	json_object *want = primary_answer(r);
	bool same;

	drop_late_s(want);
	drop_late_s(tj_get(reply, "result"));
	same = tj_ok(reply) && json_object_equal(tj_get(reply, "result"), want);

	if (!same) /* too long for a Check message */
		fprintf(stderr, "report %d differs:\n daemon:  %s\n primary: %s\n", (int)r,
		        tj_dump(reply), tj_dump(want));

	json_object_put(want);
	return same;
}

/* A ticket reported and dispatched today (the figures change), folded. */
static void some_activity(struct tdaemon *d)
{
	struct tclient *c = tclient_connect(d, "ta.street1");
	PGconn *db = tdb_connect(false);
	json_object *r;

	r = tclient_ok(c,
	               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"standby "
	               "test\"}",
	               tdb_category(db, "ta.cat"), tdb_grid(db, "ta-grid1"));
	tclient_ok(c, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"department\":%d}",
	           tj_ticket_id(r), tdb_department(db, "ta-dept-a"));
	tclient_close(c);
	PQfinish(db);
	tdb_follow_catch_up();
}

static void setup(void)
{
	PGconn *db = tdb_connect(false);
	char *s;

	actor = tdb_account(db, LOGIN);
	s = tdb_str(db, "SELECT (now() AT TIME ZONE INTERVAL '+08:00')::date::text", 0, NULL);
	snprintf(today, sizeof(today), "%s", s);
	free(s);
	s = tdb_str(db, "SELECT ((now() AT TIME ZONE INTERVAL '+08:00')::date + 1)::text", 0, NULL);
	snprintf(tomorrow, sizeof(tomorrow), "%s", s);
	free(s);
	PQfinish(db);
}

static const char *overrides(const char *max_lag)
{
	return fmt("database.read_conninfo = \"%s\"\ndatabase.read_max_lag = %s\n",
	           env_or_die("STREETD_TEST_STANDBY_DB"), max_lag);
}

START_TEST(test_reports_from_the_standby)
{
	struct tdaemon *d;
	struct tclient *c;
	PGconn *sb;
	json_object *before, *r;
	int used, served, unused;

	setup();
	d = tdaemon_start(overrides("1h"));
	ck_assert_msg(tdaemon_log_wait(d, "standby used for the reports", 15000), "%s",
	              tdaemon_log(d));
	some_activity(d);
	standby_catch_up();

	/* each report, served by the standby, equals the primary's */
	c = tclient_connect(d, LOGIN);
	for (int i = 0; i < R_COUNT; i++) {
		served = log_count(d, " db=standby");
		r = tclient_call(c, "%s", request_of((enum report)i));
		ck_assert_msg(same_as_primary(r, (enum report)i), "report %d differs (above)", i);
		log_wait_more(d, " db=standby", served);
	}
	sb = standby_admin();
	ck_assert_int_ge(tdb_int(sb,
	                         "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
	                         "'streetd-read'",
	                         0, NULL),
	                 1);

	/* the standby stops replaying; the primary moves on */
	before = primary_answer(R_STATS);
	tdb_int(sb, "SELECT 1 FROM pg_wal_replay_pause()", 0, NULL);
	some_activity(d);
	r = primary_answer(R_STATS);
	ck_assert_msg(!json_object_equal(r, before), "the activity did not change the figures");
	json_object_put(r);

	/* within read_max_lag (1h) the reports still come from the standby: the old figures */
	r = tclient_call(c, "%s", request_of(R_STATS));
	ck_assert_msg(tj_ok(r) && json_object_equal(tj_get(r, "result"), before), "%s", tj_dump(r));

	/* read_max_lag 1s (reloaded): once the lag is over it, the primary answers */
	unused = log_count(d, NOT_USED "lag_ms=");
	tdaemon_rewrite_config(d, overrides("1s"));
	tdaemon_signal(d, SIGHUP);
	log_wait_more(d, NOT_USED "lag_ms=", unused);
	served = log_count(d, " db=primary");
	r = tclient_call(c, "%s", request_of(R_STATS));
	ck_assert(same_as_primary(r, R_STATS));
	ck_assert_int_gt(log_count(d, " db=primary"), served);

	/* replay resumes: the standby is used again, with the new figures */
	used = log_count(d, "standby used for the reports");
	tdb_int(sb, "SELECT 1 FROM pg_wal_replay_resume()", 0, NULL);
	log_wait_more(d, "standby used for the reports", used);
	served = log_count(d, " db=standby");
	r = tclient_call(c, "%s", request_of(R_STATS));
	ck_assert(same_as_primary(r, R_STATS));
	log_wait_more(d, " db=standby", served);

	json_object_put(before);
	PQfinish(sb);
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_standby_dies_mid_report)
{
	struct tdaemon *d;
	struct tclient *c, *other;
	PGconn *lock, *sb, *flush;
	json_object *r;
	long long id;
	bool waiting = false;
	int used;

	setup();
	d = tdaemon_start(overrides("1h"));
	ck_assert_msg(tdaemon_log_wait(d, "standby used for the reports", 15000), "%s",
	              tdaemon_log(d));
	c = tclient_connect(d, LOGIN);
	other = tclient_connect(d, "ta.street1");

	/* Hold a report on the standby: an ACCESS EXCLUSIVE lock taken on the
	 * primary is replayed there, and the report's st_actor waits for it. */
	lock = tdb_connect(true);
	tdb_int(lock, "BEGIN", 0, NULL);
	tdb_int(lock, "LOCK TABLE street.account IN ACCESS EXCLUSIVE MODE", 0, NULL);
	/* the lock's WAL record reaches the standby once WAL is flushed past it:
	 * the WAL writer does not flush a lone record in a partly filled page,
	 * so commit a transaction with an xid (its commit is flushed, and
	 * everything before it) until the standby holds the lock; waiting for
	 * other tests' commits to do it failed in a quiet moment */
	flush = tdb_connect(true);
	sb = standby_admin();
	for (int i = 0; i < 400 && !waiting; i++) {
		tdb_int(flush, "SELECT 1 FROM pg_current_xact_id()", 0, NULL);
		waiting =
		        tdb_int(sb,
		                "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' "
		                "AND relation = 'street.account'::regclass",
		                0, NULL) == 1;
		if (!waiting)
			usleep(50000);
	}
	ck_assert_msg(waiting, "the primary's lock did not reach the standby");
	waiting = false;
	id = tclient_next_id(c);
	ck_assert_int_eq(tclient_send(c, fmt("{\"id\":%lld,\"op\":\"stats\",\"from\":\"%s\","
	                                     "\"to\":\"%s\",\"group\":\"department\"}",
	                                     id, today, tomorrow)),
	                 0);
	for (int i = 0; i < 400 && !waiting; i++) {
		waiting = tdb_int(sb,
		                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
		                  "'streetd-read' AND wait_event_type = 'Lock'",
		                  0, NULL) > 0;
		if (!waiting)
			usleep(50000);
	}
	PQfinish(sb);
	ck_assert_msg(waiting, "the report did not wait on the standby");

	/* the standby dies under it; then the primary lets go */
	standby_stop_immediate();
	PQclear(tdb_query(lock, "ROLLBACK", 0, NULL));
	PQfinish(lock);
	PQfinish(flush);
	r = tclient_recv(c, 20000);
	ck_assert_int_eq(tj_int(r, "id"), id);
	ck_assert(same_as_primary(r, R_STATS));
	/* (the log is printed at exit if this fails: too long for a message) */
	ck_assert(strstr(tdaemon_log(d), "op=stats: a stats failed there (connection lost); "
	                                 "retried on the primary") != NULL);
	ck_assert(strstr(tdaemon_log(d), "op=stats status=ok") != NULL);
	ck_assert(strstr(tdaemon_log(d), " db=primary_retry") != NULL);

	/* the others never noticed; the reports go to the primary meanwhile */
	tclient_ok(other, "{\"op\":\"whoami\"}");
	tclient_ok(other, "{\"op\":\"list\"}");
	r = tclient_call(c, "%s", request_of(R_BULLETIN));
	ck_assert(same_as_primary(r, R_BULLETIN));

	/* both down: unavailable, nothing partial */
	ck_assert_int_eq(tcluster_stop("immediate"), 0);
	tclient_err(c, "unavailable", "%s", request_of(R_STATS));
	tclient_err(c, "unavailable", "%s", request_of(R_EXPORT));

	/* the primary back: it answers */
	ck_assert_int_eq(tcluster_start(), 0);
	r = NULL;
	for (int i = 0; i < 300 && !(r && tj_ok(r)); i++) {
		r = tclient_call(c, "%s", request_of(R_STATS));
		if (!tj_ok(r))
			usleep(100000);
	}
	ck_assert(same_as_primary(r, R_STATS));

	/* the standby back: used again */
	used = log_count(d, "standby used for the reports");
	ck_assert_int_eq(standby_start(), 0);
	log_wait_more(d, "standby used for the reports", used);
	used = log_count(d, " db=standby");
	r = tclient_call(c, "%s", request_of(R_RANKING));
	ck_assert(same_as_primary(r, R_RANKING));
	log_wait_more(d, " db=standby", used);

	tclient_close(other);
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_standby");
	TCase *tc = tcase_create("standby");

	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, NULL, clusters_ensure);
	tcase_add_checked_fixture(tc, clusters_ensure, clusters_ensure);
	tcase_add_test(tc, test_reports_from_the_standby);
	tcase_add_test(tc, test_standby_dies_mid_report);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
