/*
 * A change to an account takes effect on its open sessions at once: the real
 * streetd closes the sessions of an account moved to another department (or
 * given another role, CN or pin: anything that bumps account.revision) with
 * one unauthenticated line, and a new session gets the new scope's events
 * only. A change that leaves scope and identity alone closes nothing.
 *
 * Only this suite uses t.mover (tests/integration/fixtures.sql); an unchecked
 * fixture puts it back in department sthj whatever happens to a test.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static int category, grid_home, sthj, cgj;

static void admin_sql(const char *sql)
{
	PGconn *admin = tdb_connect(true);

	tdb_int(admin, sql, 0, NULL);
	PQfinish(admin);
}

static void setup(void)
{
	PGconn *db = tdb_connect(false);

	category = tdb_category(db, "pollution.dust");
	grid_home = tdb_grid(db, "jg-yanan-02");
	sthj = tdb_department(db, "sthj");
	cgj = tdb_department(db, "cgj");
	PQfinish(db);
	admin_sql("WITH u AS (UPDATE street.account SET role = 'department', department_id ="
	          " (SELECT id FROM street.department WHERE code = 'sthj'), cert_cn = 't.mover',"
	          " name_en = 'Test department staff who moves', disabled = false"
	          " WHERE login = 't.mover' RETURNING 1) SELECT count(*) FROM u");
}

/* A ticket reported by wang.fang and dispatched by zhang.wei to dept. */
static long long dispatched_to(struct tclient *reporter, struct tclient *street, int dept)
{
	json_object *r = tclient_ok(reporter,
	                            "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
	                            "\"description\":\"scope: moved\"}",
	                            category, grid_home);
	long long ticket = tj_ticket_id(r);

	tclient_ok(street, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"department\":%d}",
	           ticket, dept);
	return ticket;
}

/* Waits for the dispatch event of ticket `want`; fails if an event of ticket
 * `never` comes first (events arrive in log order, and `never` was dispatched
 * before `want`). */
static void expect_only(struct tclient *c, long long want, long long never)
{
	long long until = tnow_ms() + 10000;

	for (;;) {
		json_object *e = tclient_next_event(c, (int)(until - tnow_ms()));

		ck_assert_msg(e != NULL, "no event for ticket %lld within 10 s", want);
		ck_assert_msg(tj_int(e, "event.ticket_id") != never,
		              "got an event of ticket %lld, dispatched to the old department: %s",
		              never, tj_dump(e));
		if (tj_int(e, "event.ticket_id") == want &&
		    strcmp(tj_str(e, "event.action"), "dispatch") == 0)
			return;
	}
}

/* The session must get one unauthenticated line and be closed. */
static void expect_closed_changed(struct tclient *c)
{
	json_object *r;

	ck_assert_msg(tclient_wait_closed(c, 10000) >= 0,
	              "the session is still open 10 s after its account changed");
	/* events pushed before the change (other suites act in the same
	 * department) may come first */
	do
		r = tclient_recv(c, 0);
	while (r != NULL && json_object_object_get_ex(r, "event", NULL));
	ck_assert_msg(r != NULL, "closed without a line");
	ck_assert_reply_code(r, "unauthenticated");
	ck_assert_msg(strstr(tj_str(r, "error.message"), "account changed") != NULL, "%s",
	              tj_dump(r));
	ck_assert_msg(tclient_recv(c, 0) == NULL, "more lines after the refusal");
}

START_TEST(moved_account_session_closed_new_scope_only)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *mover = tclient_connect(d, "t.mover");
	struct tclient *reporter = tclient_connect(d, "wang.fang");
	struct tclient *street = tclient_connect(d, "zhang.wei");
	long long to_sthj, to_cgj;
	json_object *r;

	r = tclient_ok(mover, "{\"op\":\"subscribe\"}");
	ck_assert(!tj_bool(r, "result.resync"));
	/* before the move: the department's events come */
	to_sthj = dispatched_to(reporter, street, sthj);
	expect_only(mover, to_sthj, -1);

	admin_sql("WITH u AS (UPDATE street.account SET department_id = (SELECT id FROM"
	          " street.department WHERE code = 'cgj') WHERE login = 't.mover' RETURNING 1)"
	          " SELECT count(*) FROM u");
	expect_closed_changed(mover);
	tclient_close(mover);
	ck_assert_msg(tdaemon_log_wait(d, "account changed: closed its sessions", 3000),
	              "the close is not logged:\n%s", tdaemon_log(d));

	/* a new session has the new scope, and only it */
	mover = tclient_connect(d, "t.mover");
	r = tclient_ok(mover, "{\"op\":\"whoami\"}");
	ck_assert_int_eq(tj_int(r, "result.account.department_id"), cgj);
	tclient_ok(mover, "{\"op\":\"subscribe\"}");
	to_sthj = dispatched_to(reporter, street, sthj);
	to_cgj = dispatched_to(reporter, street, cgj);
	expect_only(mover, to_cgj, to_sthj);
	/* and it stays open: its revision is the current one */
	usleep(2500 * 1000);
	tclient_ok(mover, "{\"op\":\"whoami\"}");

	tclient_close(mover);
	tclient_close(reporter);
	tclient_close(street);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(role_and_cn_changes_close_too)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "t.mover");

	tclient_ok(c, "{\"op\":\"whoami\"}");
	/* department -> supervisor of the whole city: a wider scope */
	admin_sql("WITH u AS (UPDATE street.account SET role = 'supervisor', department_id = NULL"
	          " WHERE login = 't.mover' RETURNING 1) SELECT count(*) FROM u");
	expect_closed_changed(c);
	tclient_close(c);
	c = tclient_connect(d, "t.mover");
	ck_assert_str_eq(tj_str(tclient_ok(c, "{\"op\":\"whoami\"}"), "result.account.role"),
	                 "supervisor");
	/* another certificate CN: this certificate no longer names the account */
	admin_sql("WITH u AS (UPDATE street.account SET cert_cn = 't.mover.2', role = 'department',"
	          " department_id = (SELECT id FROM street.department WHERE code = 'sthj')"
	          " WHERE login = 't.mover' RETURNING 1) SELECT count(*) FROM u");
	expect_closed_changed(c);
	tclient_close(c);
	admin_sql("WITH u AS (UPDATE street.account SET cert_cn = 't.mover' WHERE login = 't.mover'"
	          " RETURNING 1) SELECT count(*) FROM u");
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(other_changes_close_nothing)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "t.mover");
	PGconn *admin = tdb_connect(true);
	long long before = tdb_int(admin,
	                           "SELECT revision FROM street.account WHERE login = "
	                           "'t.mover'",
	                           0, NULL);

	tclient_ok(c, "{\"op\":\"whoami\"}");
	admin_sql("WITH u AS (UPDATE street.account SET name_en = 'Renamed' WHERE login = 't.mover'"
	          " RETURNING 1) SELECT count(*) FROM u");
	/* the revision is the trigger's: an UPDATE cannot set it either */
	admin_sql("WITH u AS (UPDATE street.account SET revision = 1 WHERE login = 't.mover'"
	          " RETURNING 1) SELECT count(*) FROM u");
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT revision FROM street.account WHERE login = 't.mover'", 0,
	                         NULL),
	                 before);
	usleep(4500 * 1000); /* two of the daemon's account checks */
	ck_assert_msg(!tclient_closed(c) && tclient_queued(c) == 0, "the session was disturbed");
	tclient_ok(c, "{\"op\":\"whoami\"}");
	PQfinish(admin);
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_scope");
	TCase *tc = tcase_create("scope");

	tcase_add_unchecked_fixture(tc, setup, setup);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, moved_account_session_closed_new_scope_only);
	tcase_add_test(tc, role_and_cn_changes_close_too);
	tcase_add_test(tc, other_changes_close_nothing);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
