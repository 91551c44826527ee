/*
 * Deadlines in C (tests/oracle/sla.c) and in SQL (street.sla_add, used by every
 * action) agree to the second on the real calendar of the database, for
 * random starts around the 2026 holidays and random working spans; so do the
 * working seconds between two instants (street.sla_working_between, a closed
 * form in SQL, a walk in C) for random pairs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "calendar.h"
#include "sla.h"
#include "tdb.h"

static void load_calendar(PGconn *db, struct cal_calendar *cal)
{
	PGresult *r;

	ck_assert_int_eq(
	        cal_init(cal,
	                 (int32_t)tdb_int(db, "SELECT extract(epoch FROM starts) FROM work_hours",
	                                  0, NULL),
	                 (int32_t)tdb_int(db, "SELECT extract(epoch FROM ends) FROM work_hours", 0,
	                                  NULL)),
	        0);
	r = tdb_query(db, "SELECT day::text, kind FROM calendar_day", 0, NULL);
	ck_assert_int_gt(PQntuples(r), 40);
	for (int i = 0; i < PQntuples(r); i++) {
		int32_t day;

		ck_assert_int_eq(cal_parse_date(PQgetvalue(r, i, 0), &day), 0);
		ck_assert_int_eq(
		        cal_add_day(cal, day,
		                    PQgetvalue(r, i, 1)[0] == 'h' ? CAL_HOLIDAY : CAL_WORKDAY),
		        0);
	}
	PQclear(r);
}

START_TEST(c_and_sql_deadlines_alike)
{
	PGconn *db = tdb_connect(false);
	struct cal_calendar cal;
	/* 2025-12-20 .. 2027-01-10 local: both holiday seasons and every make-up day */
	int64_t from = cal_instant_from_local(cal_days_from_civil(2025, 12, 20), 0);
	int64_t to = cal_instant_from_local(cal_days_from_civil(2027, 1, 10), 0);
	unsigned seed = 20261001;
	PGresult *r;

	load_calendar(db, &cal);
	r = tdb_query(db,
	              "PREPARE s(bigint, bigint) AS SELECT extract(epoch FROM"
	              " sla_add(to_timestamp($1), $2))::bigint,"
	              " sla_working_between(to_timestamp($1), sla_add(to_timestamp($1), $2))",
	              0, NULL);
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	for (int i = 0; i < 2000; i++) {
		int64_t start = from + (int64_t)(rand_r(&seed) % (unsigned)(to - from));
		/* spans from a few seconds to three working weeks, often whole hours */
		int64_t secs = (i % 3 == 0) ? (rand_r(&seed) % 120) * 3600
		                            : rand_r(&seed) % (15 * 8 * 3600);
		int64_t want;
		char a[32], b[32];
		const char *p[] = { a, b };

		if (i % 7 == 0) /* exactly at the edges of the working window */
			start = cal_instant_from_local(cal_local_day(start),
			                               (i % 2) ? cal.work_start : cal.work_end);
		snprintf(a, sizeof(a), "%lld", (long long)start);
		snprintf(b, sizeof(b), "%lld", (long long)secs);
		ck_assert_int_eq(sla_add(&cal, start, secs, &want), 0);
		r = PQexecPrepared(db, "s", 2, p, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
		ck_assert_msg(strtoll(PQgetvalue(r, 0, 0), NULL, 10) == want,
		              "sla_add(%lld, %lld): SQL %s, C %lld", (long long)start,
		              (long long)secs, PQgetvalue(r, 0, 0), (long long)want);
		ck_assert_int_eq(strtoll(PQgetvalue(r, 0, 1), NULL, 10), secs);
		PQclear(r);
	}
	cal_free(&cal);
	PQfinish(db);
}
END_TEST

/* Random [a, b): often at window edges and midnights, across holidays and
 * make-up days, empty and reversed too. */
START_TEST(c_and_sql_working_time_alike)
{
	PGconn *db = tdb_connect(false);
	struct cal_calendar cal;
	int64_t from = cal_instant_from_local(cal_days_from_civil(2025, 12, 20), 0);
	int64_t to = cal_instant_from_local(cal_days_from_civil(2027, 1, 10), 0);
	unsigned seed = 20261207;
	PGresult *r;

	load_calendar(db, &cal);
	r = tdb_query(db,
	              "PREPARE w(bigint, bigint) AS SELECT"
	              " sla_working_between(to_timestamp($1), to_timestamp($2))",
	              0, NULL);
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	for (int i = 0; i < 3000; i++) {
		int64_t a = from + (int64_t)(rand_r(&seed) % (unsigned)(to - from));
		/* up to 60 days later; one in ten before a, one in ten the same day */
		int64_t b = a + (int64_t)(rand_r(&seed) % (60 * 86400));
		int64_t want;
		char sa[32], sb[32];
		const char *p[] = { sa, sb };

		if (i % 10 == 1)
			b = a - (int64_t)(rand_r(&seed) % 86400);
		else if (i % 10 == 2)
			b = a + (int64_t)(rand_r(&seed) % 36000);
		if (i % 5 == 3) /* at a window edge or midnight */
			a = cal_instant_from_local(cal_local_day(a), (i % 3 == 0)   ? cal.work_start
			                                             : (i % 3 == 1) ? cal.work_end
			                                                            : 0);
		if (i % 7 == 4)
			b = cal_instant_from_local(cal_local_day(b), (i % 2) ? cal.work_end : 0);
		snprintf(sa, sizeof(sa), "%lld", (long long)a);
		snprintf(sb, sizeof(sb), "%lld", (long long)b);
		ck_assert_int_eq(sla_working_between(&cal, a, b, &want), 0);
		r = PQexecPrepared(db, "w", 2, p, NULL, NULL, 0);
		ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
		ck_assert_msg(strtoll(PQgetvalue(r, 0, 0), NULL, 10) == want,
		              "sla_working_between(%lld, %lld): SQL %s, C %lld", (long long)a,
		              (long long)b, PQgetvalue(r, 0, 0), (long long)want);
		PQclear(r);
	}
	/* microseconds are truncated from the total, as before */
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT sla_working_between('2026-12-07 09:00:00.6+08',"
	                         " '2026-12-07 09:00:02.5+08')",
	                         0, NULL),
	                 1);
	cal_free(&cal);
	PQfinish(db);
}
END_TEST

/* No work hours configured: an internal error (SD500), never a made-up
 * figure (inside a transaction rolled back: the table is shared). */
START_TEST(working_time_without_hours_fails)
{
	PGconn *db = tdb_connect(true);
	PGresult *r;

	PQclear(PQexec(db, "BEGIN"));
	PQclear(PQexec(db, "DELETE FROM street.work_hours"));
	r = PQexec(
	        db,
	        "SELECT street.sla_working_between('2026-12-07 08:00+08', '2026-12-08 08:00+08')");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SD500");
	PQclear(r);
	PQclear(PQexec(db, "ROLLBACK"));
	PQfinish(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sla_sql");
	TCase *tc = tcase_create("sla_sql");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, c_and_sql_deadlines_alike);
	tcase_add_test(tc, c_and_sql_working_time_alike);
	tcase_add_test(tc, working_time_without_hours_fails);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
