/*
 * Deadlines on the real database: each step's deadline comes from the
 * category (working time for normal tickets, elapsed time for urgent ones),
 * and the sweep marks each passing exactly once, even with two sweepers, and
 * auto-closes a resolved ticket whose feedback deadline passed.
 *
 * The fixture category t-tiny has 1-second urgent deadlines; sweeps here look
 * a few seconds ahead, which reaches no other test's tickets (the shortest
 * demo deadline is 15 minutes).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdb.h"

static PGconn *db;
static int wang, zhang, chen, tiny, dust, gas, grid;

static void setup(void)
{
	db = tdb_connect(false);
	wang = tdb_account(db, "wang.fang");
	zhang = tdb_account(db, "zhang.wei");
	chen = tdb_account(db, "chen.jing"); /* t-tiny routes to cgj */
	tiny = tdb_category(db, "t-tiny");
	dust = tdb_category(db, "pollution.dust");
	gas = tdb_category(db, "safety.gas");
	grid = tdb_grid(db, "jg-yanan-02");
}

static void teardown(void)
{
	PQfinish(db);
}

static long long report(int category, const char *urgent)
{
	struct tdb_outcome o;
	const char *p[] = { tdb_fmt("%d", wang),
		            tdb_fmt("%d", category),
		            tdb_fmt("%d", grid),
		            "deadline test",
		            NULL,
		            NULL,
		            NULL,
		            urgent,
		            NULL,
		            NULL };

	tdb_call(db, "st_report", 10, p, &o);
	ck_assert_msg(o.ok, "report: %s", o.message);
	return o.ticket;
}

static void sweep(PGconn *c)
{
	PGresult *r = tdb_query(c, "SELECT count(*) FROM street.st_sweep(now() + interval '3 s')",
	                        0, NULL);

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
	PQclear(r);
}

static long long count_events(long long ticket, const char *action)
{
	const char *p[] = { tdb_fmt("%lld", ticket), action };

	return tdb_int(db,
	               "SELECT count(*) FROM ticket_event WHERE ticket_id = $1 AND action = $2"
	               " AND actor_id IS NULL",
	               2, p);
}

static void move(const char *func, int actor, long long ticket, int version, const char *arg)
{
	struct tdb_outcome o;
	const char *p[] = { tdb_fmt("%d", actor),
		            tdb_fmt("%lld", ticket),
		            tdb_fmt("%d", version),
		            arg,
		            NULL,
		            NULL };
	/* st_resolve takes its photos before the key */
	int n = !arg ? 4 : strcmp(func, "st_resolve") == 0 ? 6 : 5;

	tdb_call(db, func, n, arg ? p : (const char *[]){ p[0], p[1], p[2], NULL }, &o);
	ck_assert_msg(o.ok, "%s: %s", func, o.message);
}

START_TEST(due_dates_follow_the_category)
{
	long long normal = report(dust, NULL), urgent = report(gas, NULL),
	          forced = report(dust, "true");
	char b[3][32];
	const char *p[] = { b[0], b[1], b[2] };

	snprintf(b[0], sizeof(b[0]), "%lld", normal);
	snprintf(b[1], sizeof(b[1]), "%lld", urgent);
	snprintf(b[2], sizeof(b[2]), "%lld", forced);
	/* normal: working time on the calendar */
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT (t.due_at = sla_add(t.created_at, c.dispatch_s))::int FROM ticket"
	                " t JOIN category c ON c.id = t.category_id WHERE t.id = $1",
	                1, p),
	        1);
	/* urgent by category default, or asked for by the reporter: elapsed time */
	for (int i = 1; i < 3; i++) {
		ck_assert_int_eq(
		        tdb_int(db,
		                "SELECT (t.urgent AND t.due_at = t.created_at +"
		                " make_interval(secs => c.urgent_dispatch_s))::int FROM ticket t"
		                " JOIN category c ON c.id = t.category_id WHERE t.id = $1",
		                1, &p[i]),
		        1);
	}
	/* dispatch sets the accept deadline from the dispatch time */
	move("st_dispatch", zhang, normal, 1, NULL);
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT (t.due_at = sla_add(t.updated_at, c.accept_s))::int FROM ticket t"
	                " JOIN category c ON c.id = t.category_id WHERE t.id = $1",
	                1, p),
	        1);
}
END_TEST

START_TEST(each_passing_marked_once_then_auto_close)
{
	long long t = report(tiny, NULL);
	char idbuf[32];
	const char *p[] = { idbuf };

	snprintf(idbuf, sizeof(idbuf), "%lld", t);
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT (st_next_due() <= due_at)::int FROM ticket WHERE id = $1",
	                         1, p),
	                 1);
	sweep(db);
	sweep(db);
	ck_assert_int_eq(count_events(t, "overdue"), 1);
	ck_assert_int_eq(tdb_int(db, "SELECT overdue::int FROM ticket WHERE id = $1", 1, p), 1);
	/* the next step has its own deadline, marked once again */
	move("st_dispatch", zhang, t, 1, NULL);
	ck_assert_int_eq(tdb_int(db, "SELECT overdue::int FROM ticket WHERE id = $1", 1, p), 0);
	sweep(db);
	ck_assert_int_eq(count_events(t, "overdue"), 2);
	move("st_accept", chen, t, 2, NULL);
	sweep(db);
	sweep(db);
	ck_assert_int_eq(count_events(t, "overdue"), 3);
	move("st_resolve", chen, t, 3, "done");
	sweep(db);
	sweep(db);
	ck_assert_int_eq(count_events(t, "overdue"), 3);
	ck_assert_int_eq(count_events(t, "auto_close"), 1);
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM ticket WHERE id = $1 AND state = 'closed' AND"
	                " close_kind = 'no_feedback' AND rating IS NULL AND version = 5 AND"
	                " due_at IS NULL",
	                1, p),
	        1);
	/* the overdue marks do not bump the version; the auto-close does */
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT (string_agg(version::text, ',' ORDER BY seq) = "
	                         "'1,1,2,2,3,3,4,5')::int"
	                         " FROM ticket_event WHERE ticket_id = $1",
	                         1, p),
	                 1);
}
END_TEST

START_TEST(two_sweepers_mark_once)
{
	PGconn *other = tdb_connect(false);
	long long first = 0, last = 0;
	char b0[32], b1[32];
	const char *p[] = { b0, b1 };

	for (int i = 0; i < 30; i++) {
		last = report(tiny, NULL);
		if (!first)
			first = last;
	}
	snprintf(b0, sizeof(b0), "%lld", first);
	snprintf(b1, sizeof(b1), "%lld", last);
	for (int round = 0; round < 3; round++) {
		static const char sql[] =
		        "SELECT count(*) FROM street.st_sweep(now() + interval '3 s', 7)";
		PGresult *r;

		ck_assert(PQsendQuery(db, sql));
		ck_assert(PQsendQuery(other, sql));
		while ((r = PQgetResult(db)) != NULL) {
			ck_assert(PQresultStatus(r) == PGRES_TUPLES_OK);
			PQclear(r);
		}
		while ((r = PQgetResult(other)) != NULL) {
			ck_assert(PQresultStatus(r) == PGRES_TUPLES_OK);
			PQclear(r);
		}
	}
	sweep(db);
	sweep(other);
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM ticket_event WHERE ticket_id BETWEEN $1 AND $2"
	                " AND action = 'overdue' AND ticket_id IN (SELECT id FROM ticket WHERE"
	                " description = 'deadline test')",
	                2, p),
	        tdb_int(db,
	                "SELECT count(*) FROM ticket WHERE id BETWEEN $1 AND $2 AND"
	                " description = 'deadline test' AND category_id = (SELECT id FROM"
	                " category WHERE code = 't-tiny')",
	                2, p));
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM (SELECT ticket_id FROM ticket_event WHERE ticket_id"
	                " BETWEEN $1 AND $2 AND action = 'overdue' GROUP BY ticket_id"
	                " HAVING count(*) > 1) x",
	                2, p),
	        0);
	PQfinish(other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deadlines");
	TCase *tc = tcase_create("deadlines");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, due_dates_follow_the_category);
	tcase_add_test(tc, each_passing_marked_once_then_auto_close);
	tcase_add_test(tc, two_sweepers_mark_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
