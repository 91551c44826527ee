/*
 * Races on the real database: two departments' clicks on "accept" for the same
 * ticket, and a client retrying a report while its first attempt is still
 * running.  Exactly one wins; the other is told why; nothing happens twice.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdb.h"

static PGconn *a, *b;
static int wang, zhang, yang, category, grid;

static void setup(void)
{
	a = tdb_connect(false);
	b = tdb_connect(false);
	wang = tdb_account(a, "wang.fang");
	zhang = tdb_account(a, "zhang.wei");
	yang = tdb_account(a, "yang.min");
	category = tdb_category(a, "pollution.dust");
	grid = tdb_grid(a, "jg-yanan-02");
}

static void teardown(void)
{
	PQfinish(a);
	PQfinish(b);
}

/* A ticket dispatched to yang.min's department, at version 2. */
static long long dispatched_ticket(void)
{
	struct tdb_outcome o;
	const char *rp[] = { tdb_fmt("%d", wang),
		             tdb_fmt("%d", category),
		             tdb_fmt("%d", grid),
		             "race",
		             NULL,
		             NULL,
		             NULL,
		             NULL,
		             NULL,
		             NULL };
	long long id;

	tdb_call(a, "st_report", 10, rp, &o);
	ck_assert_msg(o.ok, "%s", o.message);
	id = o.ticket;
	{
		const char *dp[] = {
			tdb_fmt("%d", zhang), tdb_fmt("%lld", id), "1", NULL, NULL, NULL
		};
		tdb_call(a, "st_dispatch", 6, dp, &o);
		ck_assert_msg(o.ok, "%s", o.message);
	}
	return id;
}

/* Collects the single result of an async query: "" on success, else the SQLSTATE. */
static void collect(PGconn *c, char *state, size_t len)
{
	PGresult *r;

	state[0] = 0;
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			snprintf(state, len, "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
		PQclear(r);
	}
}

static const char accept_sql[] = "SELECT * FROM street.st_accept($1, $2, 2)";

START_TEST(second_accept_waits_then_conflicts)
{
	long long id = dispatched_ticket();
	char ids[32], actor[16], sb[8];
	const char *p[] = { actor, ids };
	PGresult *r;

	snprintf(ids, sizeof(ids), "%lld", id);
	snprintf(actor, sizeof(actor), "%d", yang);
	PQclear(PQexec(a, "BEGIN"));
	r = tdb_query(a, accept_sql, 2, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
	/* b's accept must wait for a's row lock */
	ck_assert_int_eq(PQsendQueryParams(b, accept_sql, 2, NULL, p, NULL, NULL, 0), 1);
	for (int i = 0; i < 20; i++) {
		PQconsumeInput(b);
		ck_assert_msg(PQisBusy(b), "the second accept did not wait for the first");
		usleep(10000);
	}
	PQclear(PQexec(a, "COMMIT"));
	collect(b, sb, sizeof(sb));
	ck_assert_str_eq(sb, "SD409");
	ck_assert_int_eq(tdb_int(a,
	                         "SELECT count(*) FROM street.ticket_event WHERE ticket_id = $1 AND"
	                         " action = 'accept'",
	                         1, (const char *[]){ ids }),
	                 1);
}
END_TEST

START_TEST(racing_accepts_one_wins)
{
	for (int round = 0; round < 25; round++) {
		long long id = dispatched_ticket();
		char ids[32], actor[16], sa[8], sb[8];
		const char *p[] = { actor, ids };

		snprintf(ids, sizeof(ids), "%lld", id);
		snprintf(actor, sizeof(actor), "%d", yang);
		ck_assert(PQsendQueryParams(a, accept_sql, 2, NULL, p, NULL, NULL, 0));
		ck_assert(PQsendQueryParams(b, accept_sql, 2, NULL, p, NULL, NULL, 0));
		collect(a, sa, sizeof(sa));
		collect(b, sb, sizeof(sb));
		ck_assert_msg((sa[0] == 0) != (sb[0] == 0), "round %d: a=%s b=%s", round, sa, sb);
		ck_assert_str_eq(sa[0] ? sa : sb, "SD409");
		ck_assert_int_eq(
		        tdb_int(a,
		                "SELECT count(*) FROM street.ticket_event WHERE ticket_id = $1"
		                " AND action = 'accept'",
		                1, (const char *[]){ ids }),
		        1);
		ck_assert_int_eq(tdb_int(a, "SELECT version FROM street.ticket WHERE id = $1", 1,
		                         (const char *[]){ ids }),
		                 3);
	}
}
END_TEST

START_TEST(concurrent_retry_replays)
{
	static const char sql[] =
	        "SELECT (ticket->>'id')::bigint, replayed FROM street.st_report($1, $2, $3,"
	        " 'retry race', NULL, NULL, NULL, NULL, NULL, NULL, $4)";

	for (int round = 0; round < 10; round++) {
		char key[64], w[16], c[16], g[16];
		const char *p[] = { w, c, g, key };
		PGresult *ra, *rb;

		snprintf(key, sizeof(key), "retry-%d-%d-%ld", (int)getpid(), round, random());
		snprintf(w, sizeof(w), "%d", wang);
		snprintf(c, sizeof(c), "%d", category);
		snprintf(g, sizeof(g), "%d", grid);
		ck_assert(PQsendQueryParams(a, sql, 4, NULL, p, NULL, NULL, 0));
		ck_assert(PQsendQueryParams(b, sql, 4, NULL, p, NULL, NULL, 0));
		ra = PQgetResult(a);
		rb = PQgetResult(b);
		ck_assert_int_eq(PQresultStatus(ra), PGRES_TUPLES_OK);
		ck_assert_int_eq(PQresultStatus(rb), PGRES_TUPLES_OK);
		ck_assert_str_eq(PQgetvalue(ra, 0, 0), PQgetvalue(rb, 0, 0));
		ck_assert_msg(strcmp(PQgetvalue(ra, 0, 1), PQgetvalue(rb, 0, 1)) != 0,
		              "exactly one of the two must be the replay");
		PQclear(ra);
		PQclear(rb);
		while ((ra = PQgetResult(a)) != NULL)
			PQclear(ra);
		while ((rb = PQgetResult(b)) != NULL)
			PQclear(rb);
		ck_assert_int_eq(
		        tdb_int(a,
		                "SELECT count(*) FROM street.idempotency i JOIN street.ticket t"
		                " ON t.id = i.ticket_id WHERE i.key = $1",
		                1, (const char *[]){ key }),
		        1);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("races");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, second_accept_waits_then_conflicts);
	tcase_add_test(tc, racing_accepts_one_wins);
	tcase_add_test(tc, concurrent_retry_replays);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
