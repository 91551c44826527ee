/*
 * Group commit (daemon/db.h): with one database connection, actions that
 * arrive while it is busy run together in one transaction, one
 * subtransaction each.  Each must still succeed or fail alone, a failure must
 * leave nothing behind, an idempotency key must hold inside a group, and a
 * group whose transaction cannot commit must report every member as not done.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

#define N 12 /* tickets per test */

static struct tdaemon *d;
static long long dust, grid02, sthj;

static void setup(void)
{
	PGconn *db = tdb_connect(false);

	dust = tdb_category(db, "pollution.dust");
	grid02 = tdb_grid(db, "jg-yanan-02");
	sthj = tdb_department(db, "sthj");
	PQfinish(db);
	/* one connection, so that requests queue behind the one running; a
	 * statement timeout for the test that holds a lock past it; sessions enough
	 * for one per request */
	d = tdaemon_start("database.pool_size=1\n"
	                  "database.statement_timeout=2s\n"
	                  "limits.max_sessions_per_account=32\n");
}

static void teardown(void)
{
	int status = tdaemon_stop(d, SIGTERM);

	ck_assert_msg(status >= 0 && status < 128, "streetd crashed or hung (status %d)", status);
}

static void report_n(long long *ids, int n)
{
	struct tclient *c = tclient_connect(d, "wang.fang");

	for (int i = 0; i < n; i++) {
		json_object *r = tclient_ok(c,
		                            "{\"op\":\"report\",\"category\":%lld,\"grid\":%lld,"
		                            "\"description\":\"group commit %d\"}",
		                            dust, grid02, i);

		ids[i] = tj_ticket_id(r);
	}
	tclient_close(c);
}

/*
 * A session's requests reach the database one at a time, so a group is made
 * of several sessions' actions.  To make sure they wait together, the one
 * connection is first held by a dispatch of a ticket that someone else has
 * locked (blocker); the actions are sent, one per session, and the lock is
 * let go (release, or left to the statement timeout when hold is set).
 */
struct blocker {
	PGconn *admin;
	struct tclient *c;
	long long ticket;
};

/* A connection of someone else's holding ticket's row lock until it ends
 * (ROLLBACK). */
static PGconn *lock_ticket(long long ticket)
{
	PGconn *admin = tdb_connect(true);
	char sql[128];
	PGresult *res = PQexec(admin, "BEGIN");

	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT 1 FROM street.ticket WHERE id = %lld FOR UPDATE",
	         ticket);
	res = PQexec(admin, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	return admin;
}

static void block(struct blocker *b)
{
	report_n(&b->ticket, 1);
	b->admin = lock_ticket(b->ticket);
	b->c = tclient_connect(d, "zhang.wei");
	ck_assert_int_eq(tclient_send(b->c, tdb_fmt("{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,"
	                                            "\"version\":1}",
	                                            b->ticket)),
	                 0);
	usleep(100 * 1000); /* the dispatch is on the connection, waiting for the lock */
}

static void unblock(struct blocker *b)
{
	PGresult *res = PQexec(b->admin, "ROLLBACK");
	json_object *r;

	PQclear(res);
	PQfinish(b->admin);
	r = tclient_recv(b->c, 10000);
	ck_assert_msg(r != NULL, "the blocking dispatch got no reply");
	tclient_close(b->c);
}

/* One request per session (lines[i] on z[i]), then the blocker lets go;
 * replies[i] is z[i]'s. */
static void send_each(struct tclient **z, char lines[][256], int n, json_object **replies,
                      struct blocker *b)
{
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(tclient_send(z[i], lines[i]), 0);
	usleep(100 * 1000); /* let every line reach the daemon and wait */
	if (b)
		unblock(b);
	for (int i = 0; i < n; i++) {
		replies[i] = tclient_recv(z[i], 10000);
		ck_assert_msg(replies[i] != NULL, "reply %d of %d missing", i + 1, n);
	}
}

static void open_sessions(struct tclient **z, int n)
{
	for (int i = 0; i < n; i++)
		z[i] = tclient_connect(d, "zhang.wei");
}

static void close_sessions(struct tclient **z, int n)
{
	for (int i = 0; i < n; i++)
		tclient_close(z[i]);
}

static void assert_ticket(struct tclient *c, long long ticket, const char *state, int version)
{
	json_object *r = tclient_ok(c, "{\"op\":\"get\",\"ticket\":%lld}", ticket);

	ck_assert_msg(strcmp(tj_str(r, "result.ticket.state"), state) == 0 &&
	                      tj_int(r, "result.ticket.version") == version,
	              "ticket %lld: want %s v%d, got %s", ticket, state, version, tj_dump(r));
}

/* Successes and refusals mixed in one group: each gets its own answer, the
 * refused change nothing, the rest commit. */
START_TEST(members_succeed_and_fail_alone)
{
	long long t[N];
	char lines[N + 2][256];
	json_object *rep[N + 2];
	struct tclient *z[N + 2];
	struct blocker b;
	int n = 0;

	report_n(t, N);
	open_sessions(z, N + 2);
	for (int i = 0; i < N; i++) {
		int version = i == 3 ? 7 : 1; /* 3: a stale version */

		snprintf(lines[n++], sizeof(lines[0]),
		         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":%d}", t[i],
		         version);
	}
	/* 5 again, at the version it had: one of the two moves it, the other is late */
	snprintf(lines[n++], sizeof(lines[0]),
	         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t[5]);
	/* a ticket that does not exist */
	snprintf(lines[n++], sizeof(lines[0]),
	         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":999999999,\"version\":1}");
	block(&b);
	send_each(z, lines, n, rep, &b);
	for (int i = 0; i < N; i++) {
		if (i == 3) {
			ck_assert_str_eq(tj_code(rep[i]), "conflict");
			continue;
		}
		if (i == 5)
			continue;
		ck_assert_msg(tj_ok(rep[i]), "dispatch %d: %s", i, tj_dump(rep[i]));
		ck_assert_int_eq(tj_ticket_id(rep[i]), t[i]);
		ck_assert_int_eq(tj_ticket_version(rep[i]), 2);
	}
	/* of the two dispatches of 5, exactly one went through */
	ck_assert_msg(tj_ok(rep[5]) != tj_ok(rep[N]), "%s / %s", tj_dump(rep[5]), tj_dump(rep[N]));
	ck_assert_str_eq(tj_code(tj_ok(rep[5]) ? rep[N] : rep[5]), "conflict");
	ck_assert_str_eq(tj_code(rep[N + 1]), "not_found");
	ck_assert_msg(tdaemon_log_wait(d, "database group", 2000),
	              "the actions did not run as a group");
	for (int i = 0; i < N; i++)
		assert_ticket(z[0], t[i], i == 3 ? "reported" : "dispatched", i == 3 ? 1 : 2);
	/* 5 has one dispatch event, not two */
	{
		json_object *r = tclient_ok(z[0], "{\"op\":\"get\",\"ticket\":%lld}", t[5]);

		ck_assert_uint_eq(tj_len(r, "result.events"), 2);
	}
	close_sessions(z, N + 2);
}
END_TEST

/* The same key twice in one group: one is the other's replay. */
START_TEST(idempotency_key_inside_a_group)
{
	long long t[4];
	char lines[5][256];
	json_object *rep[5];
	struct tclient *z[5];
	struct blocker b;

	report_n(t, 4);
	open_sessions(z, 5);
	for (int i = 0; i < 5; i++) {
		long long ticket = t[i < 4 ? i : 2];

		snprintf(lines[i], sizeof(lines[0]),
		         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,"
		         "\"key\":\"grp-%lld\"}",
		         ticket, ticket);
	}
	block(&b);
	send_each(z, lines, 5, rep, &b);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(tj_ok(rep[i]), "dispatch %d: %s", i, tj_dump(rep[i]));
	ck_assert_msg(tdaemon_log_wait(d, "database group", 2000),
	              "the dispatches did not run as a group");
	ck_assert_msg(tj_bool(rep[2], "result.replayed") != tj_bool(rep[4], "result.replayed"),
	              "%s / %s", tj_dump(rep[2]), tj_dump(rep[4]));
	ck_assert_int_eq(tj_int(rep[4], "result.event.seq"), tj_int(rep[2], "result.event.seq"));
	assert_ticket(z[0], t[2], "dispatched", 2);
	close_sessions(z, 5);
}
END_TEST

/* A member held up past the statement timeout aborts the group's
 * transaction: it says why, every other member is reported not done, and
 * indeed nothing of theirs is in the database. */
START_TEST(a_group_that_cannot_commit)
{
	long long t[4];
	char lines[4][256];
	json_object *rep[4];
	struct tclient *z[4];
	struct blocker b;
	PGconn *admin;
	PGresult *res;
	int timed_out = 0;

	report_n(t, 4);
	admin = lock_ticket(t[0]); /* until we let go */

	open_sessions(z, 4);
	for (int i = 0; i < 4; i++)
		snprintf(lines[i], sizeof(lines[0]),
		         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", t[i]);
	block(&b);
	send_each(z, lines, 4, rep, &b);
	for (int i = 0; i < 4; i++) {
		const char *m = tj_str(rep[i], "error.message");

		ck_assert_msg(!tj_ok(rep[i]) && strcmp(tj_code(rep[i]), "unavailable") == 0,
		              "member %d: %s", i, tj_dump(rep[i]));
		if (i > 0)
			ck_assert_msg(strstr(m, "nothing was done") || strstr(m, "busy"), "%s", m);
		timed_out += strstr(m, "busy") != NULL;
	}
	ck_assert_int_eq(timed_out, 1); /* the one that waited for the lock */
	res = PQexec(admin, "ROLLBACK");
	PQclear(res);
	PQfinish(admin);
	for (int i = 0; i < 4; i++)
		assert_ticket(z[0], t[i], "reported", 1);
	/* and a retry goes through */
	send_each(z, lines, 4, rep, NULL);
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(tj_ok(rep[i]), "%s", tj_dump(rep[i]));
		ck_assert_int_eq(tj_ticket_version(rep[i]), 2);
	}
	close_sessions(z, 4);
}
END_TEST

/* One session's requests run one at a time, in the order sent, even when
 * they are pipelined and another connection is free: on a daemon with two
 * connections, a dispatch held up by a lock is followed by a get that waits
 * for it (were it sent on the free connection, it would answer at once, with
 * the ticket still reported). */
START_TEST(a_sessions_requests_run_in_order)
{
	struct tdaemon *d2 = tdaemon_start("database.pool_size=2\ndatabase.statement_timeout=5s\n");
	long long t;
	PGconn *admin;
	PGresult *res;
	struct tclient *z;
	json_object *r;
	char buf[256];
	int status;

	report_n(&t, 1);
	admin = lock_ticket(t);
	z = tclient_connect(d2, "zhang.wei");
	snprintf(buf, sizeof(buf),
	         "{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}\n"
	         "{\"id\":2,\"op\":\"get\",\"ticket\":%lld}\n",
	         t, t);
	ck_assert_int_eq(tclient_send_raw(z, buf, strlen(buf)), 0);
	r = tclient_recv(z, 500);
	ck_assert_msg(r == NULL, "answered while the dispatch waits for the lock: %s", tj_dump(r));
	res = PQexec(admin, "ROLLBACK");
	PQclear(res);
	PQfinish(admin);
	r = tclient_recv(z, 10000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tj_int(r, "id"), 1);
	ck_assert_msg(tj_ok(r), "%s", tj_dump(r));
	r = tclient_recv(z, 10000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tj_int(r, "id"), 2);
	ck_assert_str_eq(tj_str(r, "result.ticket.state"), "dispatched");
	tclient_close(z);
	status = tdaemon_stop(d2, SIGTERM);
	ck_assert_msg(status == 0, "streetd exited with %d", status);
}
END_TEST

/* A line refused for max_inflight holds back the session's next lines until
 * a reply is out (instead of a refusal for each, as fast as the client sends
 * them); lines piling up meanwhile past max_line x max_inflight end the
 * session with too_large. */
START_TEST(refused_past_max_inflight_waits_for_a_reply)
{
	struct tdaemon *d2 = tdaemon_start("limits.max_inflight=1\nlimits.max_line=1KiB\n"
	                                   "database.statement_timeout=5s\n");
	long long t[2];
	PGconn *admin;
	PGresult *res;
	struct tclient *z;
	json_object *r;
	char buf[4096];
	size_t len = 0;
	int status, ids = 0;

	report_n(t, 2);
	admin = lock_ticket(t[0]);
	z = tclient_connect(d2, "zhang.wei");
	ck_assert_int_eq(
	        tclient_send(z,
	                     tdb_fmt("{\"id\":1,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}",
	                             t[0])),
	        0);
	usleep(100 * 1000); /* the dispatch waits for the lock */
	ck_assert_int_eq(tclient_send(z, "{\"id\":2,\"op\":\"whoami\"}"), 0);
	r = tclient_recv(z, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tj_int(r, "id"), 2);
	ck_assert_str_eq(tj_code(r), "rate_limited");
	/* behind the refusal: no answer until the dispatch's */
	ck_assert_int_eq(tclient_send(z, "{\"id\":3,\"op\":\"whoami\"}"), 0);
	ck_assert_int_eq(tclient_send(z, "{\"id\":4,\"op\":\"whoami\"}"), 0);
	r = tclient_recv(z, 500);
	ck_assert_msg(r == NULL, "a line behind a refusal was answered: %s", tj_dump(r));
	res = PQexec(admin, "ROLLBACK");
	PQclear(res);
	PQfinish(admin);
	/* then every one is answered: the dispatch, 3 (now in flight alone), 4
	 * (refused again, or run once 3 is done) */
	for (int i = 0; i < 3; i++) {
		r = tclient_recv(z, 10000);
		ck_assert_msg(r != NULL, "reply %d of 3 missing", i + 1);
		ids |= 1 << tj_int(r, "id");
		if (tj_int(r, "id") != 4)
			ck_assert_msg(tj_ok(r), "%s", tj_dump(r));
	}
	ck_assert_int_eq(ids, (1 << 1) | (1 << 3) | (1 << 4));

	/* refused again, and more than 1 KiB sent behind it: too_large, closed */
	admin = lock_ticket(t[1]);
	ck_assert_int_eq(
	        tclient_send(z,
	                     tdb_fmt("{\"id\":5,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}",
	                             t[1])),
	        0);
	usleep(100 * 1000);
	ck_assert_int_eq(tclient_send(z, "{\"id\":6,\"op\":\"whoami\"}"), 0);
	r = tclient_recv(z, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(tj_code(r), "rate_limited");
	for (int i = 7; len < 2048; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		                        "{\"id\":%d,\"op\":\"whoami\"}\n", i);
	ck_assert_int_eq(tclient_send_raw(z, buf, len), 0);
	r = tclient_recv(z, 5000);
	ck_assert_msg(r != NULL && tj_code(r) && strcmp(tj_code(r), "too_large") == 0,
	              "want too_large, got %s", r ? tj_dump(r) : "nothing");
	ck_assert_msg(tclient_wait_closed(z, 5000) >= 0, "the flooding session is still open");
	res = PQexec(admin, "ROLLBACK");
	PQclear(res);
	PQfinish(admin);
	tclient_close(z);
	status = tdaemon_stop(d2, SIGTERM);
	ck_assert_msg(status == 0, "streetd exited with %d", status);
}
END_TEST

/* st_try itself: an action's error comes back as data, with its SQLSTATE. */
START_TEST(try_form_reports_errors_as_data)
{
	PGconn *db = tdb_connect(false);
	char actor[16];
	const char *p[] = { actor };
	char *s;

	snprintf(actor, sizeof(actor), "%d", tdb_account(db, "yang.min"));
	s = tdb_str(db, "SELECT sqlstate FROM street.st_try('accept', ARRAY['x', '1', '1', NULL])",
	            0, NULL);
	ck_assert_str_eq(s, "22P02");
	free(s);
	s = tdb_str(db,
	            "SELECT sqlstate || ' ' || (result IS NULL)::text FROM street.st_try('accept', "
	            "ARRAY[$1, '999999999', '1', NULL])",
	            1, p);
	ck_assert_str_eq(s, "SD404 true");
	free(s);
	s = tdb_str(db, "SELECT sqlstate FROM street.st_try('no_such_action', ARRAY[]::text[])", 0,
	            NULL);
	ck_assert_str_eq(s, "20000");
	free(s);
	PQfinish(db);
}
END_TEST

/* st_try(action, args) with args as text, as the daemon sends them; returns
 * the result text, failing the test with the SQLSTATE and message if the
 * action refused. */
static char *try_ok(PGconn *db, const char *action, int n, const char *const *args)
{
	char sql[512];
	size_t len;
	const char *params[12];
	PGresult *res;
	char *out;

	ck_assert_int_le(n, 10);
	len = (size_t)snprintf(sql, sizeof(sql),
	                       "SELECT result, sqlstate, message FROM street.st_try($1, ARRAY[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s$%d::text", i ? ", " : "",
		                        i + 2);
	snprintf(sql + len, sizeof(sql) - len, "%s]::text[])", n ? "" : "NULL");
	params[0] = action;
	for (int i = 0; i < n; i++)
		params[i + 1] = args[i];
	res = PQexecParams(db, sql, n + 1, NULL, params, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", action,
	              PQresultErrorMessage(res));
	ck_assert_msg(PQgetisnull(res, 0, 1), "%s refused: %s %s", action, PQgetvalue(res, 0, 1),
	              PQgetvalue(res, 0, 2));
	out = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

/* "version" and "seq" out of an action result's text (ticket.version,
 * event.seq); enough for the walk below. */
static long long field_after(const char *json, const char *object, const char *key)
{
	const char *o = strstr(json, object), *k = o ? strstr(o, key) : NULL;

	ck_assert_msg(k != NULL, "no %s.%s in %s", object, key, json);
	return strtoll(k + strlen(key), NULL, 10);
}

#define TRY(action, ...)                                                                           \
	do {                                                                                       \
		const char *a_[] = { __VA_ARGS__ };                                                \
		free(last);                                                                        \
		last = try_ok(db, action, (int)(sizeof(a_) / sizeof(a_[0])), a_);                  \
		snprintf(v, sizeof(v), "%lld", field_after(last, "\"ticket\"", "\"version\": "));  \
	} while (0)

/* Every action through its try form, with arguments in the daemon's order and
 * types (a cast or an argument out of place would refuse or misread one):
 * the whole loop, a return arbitrated, an extension granted and one denied,
 * urging, comments, a reopen, and a cancel. */
START_TEST(every_action_has_a_try_form)
{
	PGconn *db = tdb_connect(false);
	char wang[16], zhang[16], yang[16], sun[16], cgj[16], cat[24], grid[24], t[24], v[24];
	char seq[24];
	char until[64];
	char *last = NULL;

	snprintf(wang, sizeof(wang), "%d", tdb_account(db, "wang.fang"));
	snprintf(zhang, sizeof(zhang), "%d", tdb_account(db, "zhang.wei"));
	snprintf(yang, sizeof(yang), "%d", tdb_account(db, "yang.min"));
	snprintf(sun, sizeof(sun), "%d", tdb_account(db, "sun.li"));
	snprintf(cgj, sizeof(cgj), "%d", tdb_department(db, "cgj"));
	snprintf(cat, sizeof(cat), "%lld", dust);
	snprintf(grid, sizeof(grid), "%lld", grid02);

	TRY("report", wang, cat, grid, "try form", "延安北路", "43.9", "87.3", "false", "{}", NULL);
	snprintf(t, sizeof(t), "%lld", field_after(last, "\"ticket\"", "\"id\": "));
	TRY("dispatch", zhang, t, v, NULL, "note", NULL);
	TRY("return", yang, t, v, "not ours", cgj, NULL);
	snprintf(seq, sizeof(seq), "%lld", field_after(last, "\"event\"", "\"seq\": "));
	TRY("dispatch", zhang, t, v, NULL, NULL, "try-key");
	TRY("arbitrate", sun, t, seq, "true", "fair", NULL, NULL, NULL);
	TRY("urge", zhang, t, "hurry", v, NULL);
	TRY("accept", yang, t, v, NULL);
	{
		char *s = tdb_str(db,
		                  "SELECT (due_at + interval '3 days')::text FROM street.ticket "
		                  "WHERE id = $1",
		                  1, (const char *[]){ t });

		snprintf(until, sizeof(until), "%s", s);
		free(s);
	}
	TRY("extend_request", yang, t, until, "rain", v, NULL);
	TRY("extend_grant", zhang, t, "ok", v, NULL);
	{
		char *s = tdb_str(db,
		                  "SELECT (due_at + interval '3 days')::text FROM street.ticket "
		                  "WHERE id = $1",
		                  1, (const char *[]){ t });

		snprintf(until, sizeof(until), "%s", s);
		free(s);
	}
	TRY("extend_request", yang, t, until, "more rain", v, NULL);
	TRY("extend_deny", sun, t, "no", v, NULL);
	TRY("comment", wang, t, "thanks", v, NULL);
	TRY("resolve", yang, t, v, "done", "{}", NULL);
	TRY("reopen", wang, t, v, "still dusty", NULL);
	TRY("resolve", yang, t, v, "done now", NULL, NULL);
	TRY("confirm", wang, t, v, "5", "good", NULL);
	ck_assert_ptr_nonnull(strstr(last, "\"closed\""));
	TRY("report", wang, cat, grid, "to cancel", NULL, NULL, NULL, NULL, NULL, NULL);
	snprintf(t, sizeof(t), "%lld", field_after(last, "\"ticket\"", "\"id\": "));
	TRY("cancel", zhang, t, v, "duplicate", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(last, "\"cancelled\""));
	free(last);
	PQfinish(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_group");
	TCase *tc = tcase_create("group");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, members_succeed_and_fail_alone);
	tcase_add_test(tc, idempotency_key_inside_a_group);
	tcase_add_test(tc, a_group_that_cannot_commit);
	tcase_add_test(tc, try_form_reports_errors_as_data);
	tcase_add_test(tc, a_sessions_requests_run_in_order);
	tcase_add_test(tc, refused_past_max_inflight_waits_for_a_reply);
	tcase_add_test(tc, every_action_has_a_try_form);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
