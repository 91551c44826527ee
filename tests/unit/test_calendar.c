/* Unit tests for tests/oracle/calendar.c: civil dates, local time, the exception list. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "calendar.h"

static int month_days(int y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : len[m - 1];
}

/* Values checked against Python's datetime (proleptic Gregorian). */
static const struct {
	int y, m, d;
	int32_t days;
	int weekday;
} known_dates[] = {
	{ 1970, 1, 1, 0, 4 },         { 1969, 12, 31, -1, 3 },   { 2000, 2, 29, 11016, 2 },
	{ 2000, 3, 1, 11017, 3 },     { 2026, 10, 1, 20727, 4 }, { 1, 1, 1, -719162, 1 },
	{ 9999, 12, 31, 2932896, 5 }, { 1900, 3, 1, -25508, 4 }, { 1600, 2, 29, -135081, 2 },
	{ 2038, 1, 19, 24855, 2 },    { 2026, 2, 14, 20498, 6 },
};

START_TEST(test_known_dates)
{
	int y, m, d;

	ck_assert_int_eq(
	        cal_days_from_civil(known_dates[_i].y, known_dates[_i].m, known_dates[_i].d),
	        known_dates[_i].days);
	cal_civil_from_days(known_dates[_i].days, &y, &m, &d);
	ck_assert_int_eq(y, known_dates[_i].y);
	ck_assert_int_eq(m, known_dates[_i].m);
	ck_assert_int_eq(d, known_dates[_i].d);
	ck_assert_int_eq(cal_weekday(known_dates[_i].days), known_dates[_i].weekday);
}
END_TEST

/* Every day from about 3500 BC to 7400 AD: round trip, valid fields,
 * consecutive days are consecutive dates and weekdays.  Plain checks in the
 * loop (ck_assert writes to a pipe each time), then one assertion. */
START_TEST(test_round_trip)
{
	int py, pm, pd;
	int32_t bad = 0;
	int ok = 1;

	cal_civil_from_days(-2000001, &py, &pm, &pd);
	for (int32_t days = -2000000; days <= 2000000 && ok; days++) {
		int y, m, d;

		cal_civil_from_days(days, &y, &m, &d);
		ok = m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m) &&
		     cal_days_from_civil(y, m, d) == days &&
		     cal_weekday(days) == (cal_weekday(days - 1) + 1) % 7;
		if (d > 1)
			ok = ok && y == py && m == pm && d == pd + 1;
		else if (m > 1)
			ok = ok && y == py && m == pm + 1 && pd == month_days(py, pm);
		else
			ok = ok && y == py + 1 && pm == 12 && pd == 31;
		bad = days;
		py = y;
		pm = m;
		pd = d;
	}
	ck_assert_msg(ok, "day %d", bad);
}
END_TEST

START_TEST(test_extreme_days)
{
	static const int32_t days[] = { INT32_MIN, INT32_MIN + 1, -1, INT32_MAX - 1, INT32_MAX };
	int y, m, d;

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		cal_civil_from_days(days[i], &y, &m, &d);
		ck_assert_int_eq(cal_days_from_civil(y, m, d), days[i]);
		ck_assert(cal_weekday(days[i]) >= 0 && cal_weekday(days[i]) <= 6);
	}
}
END_TEST

static const struct {
	const char *s;
	int32_t days; /* expected when ok */
	int ok;
} parse_cases[] = {
	{ "1970-01-01", 0, 1 },
	{ "2026-10-01", 20727, 1 },
	{ "2000-02-29", 11016, 1 },
	{ "0001-01-01", -719162, 1 },
	{ "9999-12-31", 2932896, 1 },
	{ "2024-02-29", 19782, 1 },
	{ "2026-02-30", 0, 0 },
	{ "2026-02-29", 0, 0 },
	{ "1900-02-29", 0, 0 },
	{ "2026-04-31", 0, 0 },
	{ "2026-13-01", 0, 0 },
	{ "2026-00-10", 0, 0 },
	{ "2026-01-00", 0, 0 },
	{ "2026-01-32", 0, 0 },
	{ "0000-01-01", 0, 0 },
	{ "2026-10-01x", 0, 0 },
	{ "2026-10-01 ", 0, 0 },
	{ " 2026-10-01", 0, 0 },
	{ "2026-1-01", 0, 0 },
	{ "2026-10-1", 0, 0 },
	{ "26-10-01", 0, 0 },
	{ "2026/10/01", 0, 0 },
	{ "20261001", 0, 0 },
	{ "2026-+1-01", 0, 0 },
	{ "2026- 1-01", 0, 0 },
	{ "-026-10-01", 0, 0 },
	{ "2026-10-0a", 0, 0 },
	{ "12026-10-01", 0, 0 },
	{ "", 0, 0 },
	{ NULL, 0, 0 },
};

START_TEST(test_parse_date)
{
	int32_t out = 12345;
	int rc = cal_parse_date(parse_cases[_i].s, &out);

	if (parse_cases[_i].ok) {
		ck_assert_msg(rc == 0, "rejected %s", parse_cases[_i].s);
		ck_assert_int_eq(out, parse_cases[_i].days);
	} else {
		ck_assert_msg(rc == -1, "accepted %s",
		              parse_cases[_i].s ? parse_cases[_i].s : "NULL");
		ck_assert_int_eq(out, 12345);
	}
}
END_TEST

/* 2026-10-01 00:00 in Shanghai is 1790784000 (2026-09-30 16:00 UTC). */
static const struct {
	int64_t instant;
	int32_t day, secs;
} local_cases[] = {
	{ 0, 0, 28800 },
	{ -28800, 0, 0 },
	{ -28801, -1, 86399 },
	{ 57599, 0, 86399 },
	{ 57600, 1, 0 },
	{ -86400 - 28800, -1, 0 },
	{ 1790784000, 20727, 0 },
	{ 1790784000 + 9 * 3600, 20727, 32400 },
	{ 1790784000 - 1, 20726, 86399 },
	{ INT64_C(-210866803200), -2440588, 28800 },
};

START_TEST(test_local_time)
{
	ck_assert_int_eq(cal_local_day(local_cases[_i].instant), local_cases[_i].day);
	ck_assert_int_eq(cal_local_seconds(local_cases[_i].instant), local_cases[_i].secs);
	ck_assert_int_eq(cal_instant_from_local(local_cases[_i].day, local_cases[_i].secs),
	                 local_cases[_i].instant);
}
END_TEST

static const struct {
	int32_t start, end;
	int ok;
} init_cases[] = {
	{ 32400, 61200, 1 }, { 0, 86400, 1 },     { 0, 1, 1 },      { 86399, 86400, 1 },
	{ 61200, 32400, 0 }, { 32400, 32400, 0 }, { -1, 61200, 0 }, { 0, 86401, 0 },
	{ 0, 0, 0 },         { 86400, 86400, 0 }, { -100, -50, 0 },
};

START_TEST(test_init)
{
	struct cal_calendar cal;
	int rc = cal_init(&cal, init_cases[_i].start, init_cases[_i].end);

	ck_assert_int_eq(rc, init_cases[_i].ok ? 0 : -1);
	/* Either way the calendar is empty and safe to free. */
	ck_assert_uint_eq(cal.n, 0);
	ck_assert_ptr_null(cal.days);
	cal_free(&cal);
}
END_TEST

/* 2026: Oct 1 (Thu) holiday, Oct 10 (Sat) make-up, a holiday on a Sunday and
 * a make-up day on a Wednesday (both no-ops, but allowed). */
static const struct {
	const char *date;
	int working;
} working_cases[] = {
	{ "2026-09-30", 1 }, /* Wednesday */
	{ "2026-10-01", 0 }, /* Thursday, holiday */
	{ "2026-10-03", 0 }, /* Saturday */
	{ "2026-10-04", 0 }, /* Sunday, also listed as holiday */
	{ "2026-10-08", 1 }, /* Thursday */
	{ "2026-10-09", 1 }, /* Friday */
	{ "2026-10-10", 1 }, /* Saturday, make-up */
	{ "2026-10-11", 0 }, /* Sunday */
	{ "2026-10-14", 1 }, /* Wednesday, listed as workday */
	{ "2026-10-17", 0 }, /* Saturday */
};

START_TEST(test_is_working_day)
{
	struct cal_calendar cal;
	int32_t day;

	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	ck_assert_int_eq(cal_parse_date("2026-10-14", &day), 0);
	ck_assert_int_eq(cal_add_day(&cal, day, CAL_WORKDAY), 0);
	ck_assert_int_eq(cal_parse_date("2026-10-01", &day), 0);
	ck_assert_int_eq(cal_add_day(&cal, day, CAL_HOLIDAY), 0);
	ck_assert_int_eq(cal_parse_date("2026-10-10", &day), 0);
	ck_assert_int_eq(cal_add_day(&cal, day, CAL_WORKDAY), 0);
	ck_assert_int_eq(cal_parse_date("2026-10-04", &day), 0);
	ck_assert_int_eq(cal_add_day(&cal, day, CAL_HOLIDAY), 0);

	ck_assert_int_eq(cal_parse_date(working_cases[_i].date, &day), 0);
	ck_assert_msg(cal_is_working_day(&cal, day) == (working_cases[_i].working != 0), "%s",
	              working_cases[_i].date);
	cal_free(&cal);
}
END_TEST

START_TEST(test_add_day_errors)
{
	struct cal_calendar cal;

	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	ck_assert_int_eq(cal_add_day(&cal, 20727, CAL_HOLIDAY), 0);
	errno = 0;
	ck_assert_int_eq(cal_add_day(&cal, 20727, CAL_HOLIDAY), -1);
	ck_assert_int_eq(errno, EEXIST);
	errno = 0;
	ck_assert_int_eq(cal_add_day(&cal, 20727, CAL_WORKDAY), -1);
	ck_assert_int_eq(errno, EEXIST);
	errno = 0;
	ck_assert_int_eq(cal_add_day(&cal, 20728, (enum cal_day_kind)7), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(cal.n, 1);
	ck_assert(!cal_is_working_day(&cal, 20727));
	cal_free(&cal);
	ck_assert_uint_eq(cal.n, 0);
	ck_assert_ptr_null(cal.days);
	/* The window survives cal_free, so the calendar can be refilled. */
	ck_assert_int_eq(cal.work_start, 32400);
	ck_assert_int_eq(cal_add_day(&cal, 20727, CAL_WORKDAY), 0);
	cal_free(&cal);
}
END_TEST

/* Inserting in a scrambled order keeps the list sorted, without duplicates. */
START_TEST(test_add_day_sorted)
{
	struct cal_calendar cal;
	const int32_t n = 1000;

	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	for (int32_t i = 0; i < n; i++) {
		/* 389 is prime to 1000: a permutation of 0..999. */
		int32_t day = 20000 + (i * 389) % n;

		ck_assert_int_eq(cal_add_day(&cal, day, i % 2 ? CAL_WORKDAY : CAL_HOLIDAY), 0);
	}
	ck_assert_uint_eq(cal.n, (size_t)n);
	for (size_t i = 0; i < cal.n; i++)
		ck_assert_int_eq(cal.days[i].day, 20000 + (int32_t)i);
	ck_assert_uint_eq(cal_lower_bound(&cal, 19999), 0);
	ck_assert_uint_eq(cal_lower_bound(&cal, 20500), 500);
	ck_assert_uint_eq(cal_lower_bound(&cal, 30000), (size_t)n);
	for (int32_t i = 0; i < n; i++)
		ck_assert_int_eq(cal_add_day(&cal, 20000 + i, CAL_HOLIDAY), -1);
	cal_free(&cal);
}
END_TEST

static Suite *calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_known_dates, 0, sizeof(known_dates) / sizeof(known_dates[0]));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_extreme_days);
	tcase_add_loop_test(tc, test_parse_date, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_loop_test(tc, test_local_time, 0, sizeof(local_cases) / sizeof(local_cases[0]));
	tcase_add_loop_test(tc, test_init, 0, sizeof(init_cases) / sizeof(init_cases[0]));
	tcase_add_loop_test(tc, test_is_working_day, 0,
	                    sizeof(working_cases) / sizeof(working_cases[0]));
	tcase_add_test(tc, test_add_day_errors);
	tcase_add_test(tc, test_add_day_sorted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calendar_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
