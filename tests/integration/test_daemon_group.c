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
	/* one connection, so that requests queue behind the one running; a short
	 * statement timeout for the test that holds a lock */
	d = tdaemon_start("database.pool_size=1\n"
	                  "database.statement_timeout=300ms\n"
	                  "limits.max_inflight=64\n");
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

/* Sends every line in one write, so that the daemon reads them at once; then
 * collects the replies by id (1..n). */
static void send_all(struct tclient *c, char lines[][256], int n, json_object **replies)
{
	char buf[N * 4 * 256];
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\n", lines[i]);
	ck_assert_uint_lt(len, sizeof(buf));
	ck_assert_int_eq(tclient_send_raw(c, buf, len), 0);
	for (int i = 0; i < n; i++)
		replies[i] = NULL;
	for (int got = 0; got < n; got++) {
		json_object *r = tclient_recv(c, 10000);
		long long id;

		ck_assert_msg(r != NULL, "reply %d of %d missing", got + 1, n);
		id = tj_int(r, "id");
		ck_assert_msg(id >= 1 && id <= n && replies[id - 1] == NULL, "unexpected reply %s",
		              tj_dump(r));
		replies[id - 1] = r;
	}
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
	char lines[N + 4][256];
	json_object *rep[N + 4];
	struct tclient *z;
	int n = 0;

	report_n(t, N);
	z = tclient_connect(d, "zhang.wei");
	for (int i = 0; i < N; i++) {
		int version = i == 3 ? 7 : 1; /* 3: a stale version */

		snprintf(lines[n], sizeof(lines[n]),
		         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":%d}", n + 1,
		         t[i], version);
		n++;
	}
	/* 5 again, at the version it had: the first dispatch in this group moved it */
	snprintf(lines[n], sizeof(lines[n]),
	         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", n + 1, t[5]);
	n++;
	/* a ticket that does not exist */
	snprintf(lines[n], sizeof(lines[n]),
	         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":999999999,\"version\":1}", n + 1);
	n++;
	send_all(z, lines, n, rep);
	for (int i = 0; i < N; i++) {
		if (i == 3) {
			ck_assert_str_eq(tj_code(rep[i]), "conflict");
			continue;
		}
		ck_assert_msg(tj_ok(rep[i]), "dispatch %d: %s", i, tj_dump(rep[i]));
		ck_assert_int_eq(tj_ticket_id(rep[i]), t[i]);
		ck_assert_int_eq(tj_ticket_version(rep[i]), 2);
	}
	ck_assert_str_eq(tj_code(rep[N]), "conflict");
	ck_assert_str_eq(tj_code(rep[N + 1]), "not_found");
	ck_assert_msg(tdaemon_log_wait(d, "database group", 2000),
	              "the actions did not run as a group");
	for (int i = 0; i < N; i++)
		assert_ticket(z, t[i], i == 3 ? "reported" : "dispatched", i == 3 ? 1 : 2);
	/* 5 has one dispatch event, not two */
	{
		json_object *r = tclient_ok(z, "{\"op\":\"get\",\"ticket\":%lld}", t[5]);

		ck_assert_uint_eq(tj_len(r, "result.events"), 2);
	}
	tclient_close(z);
}
END_TEST

/* The same key twice in one group: the second is the first's replay. */
START_TEST(idempotency_key_inside_a_group)
{
	long long t[N];
	char lines[N][256];
	json_object *rep[N];
	struct tclient *z;
	int n = 0;

	report_n(t, 4);
	z = tclient_connect(d, "zhang.wei");
	for (int i = 0; i < 4; i++) {
		snprintf(lines[n], sizeof(lines[n]),
		         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,"
		         "\"key\":\"grp-%lld\"}",
		         n + 1, t[i], t[i]);
		n++;
	}
	snprintf(lines[n], sizeof(lines[n]),
	         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,"
	         "\"key\":\"grp-%lld\"}",
	         n + 1, t[2], t[2]);
	n++;
	send_all(z, lines, n, rep);
	for (int i = 0; i < n; i++)
		ck_assert_msg(tj_ok(rep[i]), "dispatch %d: %s", i, tj_dump(rep[i]));
	ck_assert(!tj_bool(rep[2], "result.replayed"));
	ck_assert(tj_bool(rep[4], "result.replayed"));
	ck_assert_int_eq(tj_int(rep[4], "result.event.seq"), tj_int(rep[2], "result.event.seq"));
	assert_ticket(z, t[2], "dispatched", 2);
	tclient_close(z);
}
END_TEST

/* A member held up past the statement timeout aborts the group's
 * transaction: it says why, every other member is reported not done, and
 * indeed nothing of theirs is in the database. */
START_TEST(a_group_that_cannot_commit)
{
	long long t[5];
	char lines[5][256];
	json_object *rep[5];
	struct tclient *z;
	PGconn *admin = tdb_connect(true);
	PGresult *res;
	char sql[128];

	report_n(t, 5);
	/* t[1] is locked by someone else until we let go */
	res = PQexec(admin, "BEGIN");
	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT 1 FROM street.ticket WHERE id = %lld FOR UPDATE", t[1]);
	res = PQexec(admin, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);

	z = tclient_connect(d, "zhang.wei");
	for (int i = 0; i < 5; i++)
		snprintf(lines[i], sizeof(lines[i]),
		         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", i + 1,
		         t[i]);
	/* 1 runs alone (the connection is idle), 2..5 wait and go as one group
	 * whose first member waits for the lock */
	send_all(z, lines, 5, rep);
	ck_assert_msg(tj_ok(rep[0]), "%s", tj_dump(rep[0]));
	for (int i = 1; i < 5; i++) {
		ck_assert_msg(!tj_ok(rep[i]) && strcmp(tj_code(rep[i]), "unavailable") == 0,
		              "member %d: %s", i, tj_dump(rep[i]));
	}
	ck_assert_ptr_nonnull(strstr(tj_str(rep[2], "error.message"), "nothing was done"));
	res = PQexec(admin, "ROLLBACK");
	PQclear(res);
	PQfinish(admin);
	for (int i = 1; i < 5; i++)
		assert_ticket(z, t[i], "reported", 1);
	/* and a retry goes through */
	for (int i = 0; i < 4; i++)
		snprintf(lines[i], sizeof(lines[i]),
		         "{\"id\":%d,\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", i + 1,
		         t[i + 1]);
	send_all(z, lines, 4, rep);
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(tj_ok(rep[i]), "%s", tj_dump(rep[i]));
		ck_assert_int_eq(tj_ticket_version(rep[i]), 2);
	}
	tclient_close(z);
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
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
