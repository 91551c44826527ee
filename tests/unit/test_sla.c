/* Unit tests for tests/oracle/sla.c on the 2026 China calendar and on random ones. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "sla.h"

/* "YYYY-MM-DD HH:MM:SS" Shanghai local time -> instant. */
static int64_t at(const char *s)
{
	char date[11];
	int32_t day;
	int h, m, sec, used = 0;

	ck_assert_msg(strlen(s) == 19 && s[10] == ' ', "bad test time %s", s);
	memcpy(date, s, 10);
	date[10] = '\0';
	ck_assert_msg(cal_parse_date(date, &day) == 0, "bad test date %s", s);
	ck_assert_msg(sscanf(s + 11, "%2d:%2d:%2d%n", &h, &m, &sec, &used) == 3 && used == 8,
	              "bad test time %s", s);
	return cal_instant_from_local(day, h * 3600 + m * 60 + sec);
}

static int32_t date(const char *s)
{
	int32_t day;

	ck_assert_msg(cal_parse_date(s, &day) == 0, "bad test date %s", s);
	return day;
}

/* The 2026 China calendar (State Council notice), 09:00-17:00. */
static const char *const holidays_2026[][2] = {
	{ "2026-01-01", "2026-01-03" }, { "2026-02-15", "2026-02-23" },
	{ "2026-04-04", "2026-04-06" }, { "2026-05-01", "2026-05-05" },
	{ "2026-06-19", "2026-06-21" }, { "2026-09-25", "2026-09-27" },
	{ "2026-10-01", "2026-10-07" },
};
static const char *const workdays_2026[] = {
	"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
};

static void china_2026(struct cal_calendar *cal)
{
	ck_assert_int_eq(cal_init(cal, 9 * 3600, 17 * 3600), 0);
	for (size_t i = 0; i < sizeof(holidays_2026) / sizeof(holidays_2026[0]); i++)
		for (int32_t d = date(holidays_2026[i][0]); d <= date(holidays_2026[i][1]); d++)
			ck_assert_int_eq(cal_add_day(cal, d, CAL_HOLIDAY), 0);
	for (size_t i = 0; i < sizeof(workdays_2026) / sizeof(workdays_2026[0]); i++)
		ck_assert_int_eq(cal_add_day(cal, date(workdays_2026[i]), CAL_WORKDAY), 0);
}

/* expect NULL means -1. */
static const struct {
	const char *what, *start;
	int64_t secs;
	const char *expect;
} add_cases[] = {
	{ "inside hours", "2026-03-10 10:30:00", 3600, "2026-03-10 11:30:00" },
	{ "inside hours, over night", "2026-03-10 15:00:00", 4 * 3600, "2026-03-11 11:00:00" },
	{ "before 09:00", "2026-03-10 07:15:00", 3600, "2026-03-10 10:00:00" },
	{ "at 09:00", "2026-03-10 09:00:00", 1, "2026-03-10 09:00:01" },
	{ "after 17:00", "2026-03-10 18:00:00", 3600, "2026-03-11 10:00:00" },
	{ "just before midnight", "2026-03-10 23:59:59", 60, "2026-03-11 09:01:00" },
	{ "on a Saturday", "2026-03-14 10:00:00", 3600, "2026-03-16 10:00:00" },
	{ "on a Sunday night", "2026-03-15 22:00:00", 3600, "2026-03-16 10:00:00" },
	{ "exactly at 17:00", "2026-03-10 17:00:00", 1, "2026-03-11 09:00:01" },
	{ "one second before 17:00", "2026-03-10 16:59:59", 2, "2026-03-11 09:00:01" },
	{ "landing at 17:00", "2026-03-10 16:00:00", 3600, "2026-03-10 17:00:00" },
	{ "a full day lands at 17:00", "2026-03-10 09:00:00", 8 * 3600, "2026-03-10 17:00:00" },
	{ "a full day from before 09:00", "2026-03-10 06:00:00", 8 * 3600, "2026-03-10 17:00:00" },
	{ "a full day from Friday night", "2026-03-13 20:00:00", 8 * 3600, "2026-03-16 17:00:00" },
	{ "zero seconds", "2026-03-10 10:00:00", 0, "2026-03-10 10:00:00" },
	{ "zero seconds at night", "2026-03-14 03:00:00", 0, "2026-03-14 03:00:00" },
	{ "zero seconds on a holiday", "2026-10-01 12:00:00", 0, "2026-10-01 12:00:00" },
	{ "National Day week", "2026-09-30 16:00:00", 2 * 3600, "2026-10-08 10:00:00" },
	{ "from inside National Day", "2026-10-03 11:00:00", 3600, "2026-10-08 10:00:00" },
	{ "make-up Saturday Oct 10", "2026-10-09 16:00:00", 2 * 3600, "2026-10-10 10:00:00" },
	{ "after make-up Saturday", "2026-10-10 16:00:00", 2 * 3600, "2026-10-12 10:00:00" },
	{ "make-up Sunday Sep 20", "2026-09-19 10:00:00", 3600, "2026-09-20 10:00:00" },
	{ "Friday into make-up Sunday", "2026-09-18 16:30:00", 3600, "2026-09-20 09:30:00" },
	{ "Mid-Autumn Sep 25-27", "2026-09-24 16:00:00", 2 * 3600, "2026-09-28 10:00:00" },
	{ "New Year into make-up Jan 4", "2025-12-31 16:00:00", 2 * 3600, "2026-01-04 10:00:00" },
	{ "Spring Festival via Feb 14", "2026-02-13 16:00:00", 10 * 3600, "2026-02-24 10:00:00" },
	{ "Spring Festival, 3 days", "2026-02-13 16:00:00", 3 * 8 * 3600, "2026-02-25 16:00:00" },
	{ "make-up Saturday Feb 28", "2026-02-27 16:30:00", 3600, "2026-02-28 09:30:00" },
	{ "Qingming Apr 4-6", "2026-04-03 16:00:00", 2 * 3600, "2026-04-07 10:00:00" },
	{ "Labour Day May 1-5", "2026-04-30 16:00:00", 2 * 3600, "2026-05-06 10:00:00" },
	{ "make-up Saturday May 9, full", "2026-05-08 17:00:00", 8 * 3600, "2026-05-09 17:00:00" },
	{ "Dragon Boat Jun 19-21", "2026-06-18 16:00:00", 2 * 3600, "2026-06-22 10:00:00" },
	{ "5 working days from Monday", "2026-03-09 09:00:00", 144000, "2026-03-13 17:00:00" },
	{ "5 working days from Wednesday", "2026-03-11 14:00:00", 144000, "2026-03-18 14:00:00" },
	{ "5 working days over National Day", "2026-09-29 10:00:00", 144000,
	  "2026-10-12 10:00:00" },
	{ "the whole working year", "2026-01-01 00:00:00", 248 * 28800, "2026-12-31 17:00:00" },
	{ "negative", "2026-03-10 10:00:00", -1, NULL },
	{ "very negative", "2026-03-10 10:00:00", INT64_MIN, NULL },
	{ "past the end of time", "2026-03-10 10:00:00", INT64_MAX, NULL },
};

START_TEST(test_add_table)
{
	struct cal_calendar cal;
	int64_t got = 42;
	int rc;

	china_2026(&cal);
	rc = sla_add(&cal, at(add_cases[_i].start), add_cases[_i].secs, &got);
	if (add_cases[_i].expect) {
		ck_assert_msg(rc == 0, "%s: rc %d", add_cases[_i].what, rc);
		ck_assert_msg(got == at(add_cases[_i].expect), "%s: got %lld, want %lld",
		              add_cases[_i].what, (long long)got,
		              (long long)at(add_cases[_i].expect));
	} else {
		ck_assert_msg(rc == -1, "%s: rc %d", add_cases[_i].what, rc);
		ck_assert_int_eq(got, 42);
	}
	cal_free(&cal);
}
END_TEST

/* expect < 0 means -1. */
static const struct {
	const char *what, *a, *b;
	int64_t expect;
} between_cases[] = {
	{ "inside hours", "2026-03-10 10:00:00", "2026-03-10 11:30:00", 5400 },
	{ "one second", "2026-03-10 09:00:00", "2026-03-10 09:00:01", 1 },
	{ "half-open at 17:00", "2026-03-10 16:59:59", "2026-03-10 17:00:00", 1 },
	{ "over night", "2026-03-10 16:00:00", "2026-03-11 10:00:00", 7200 },
	{ "before and after hours", "2026-03-10 06:00:00", "2026-03-10 20:00:00", 28800 },
	{ "after hours only", "2026-03-10 17:30:00", "2026-03-10 23:00:00", 0 },
	{ "before hours only", "2026-03-10 00:00:00", "2026-03-10 09:00:00", 0 },
	{ "a weekend", "2026-03-13 17:00:00", "2026-03-16 09:00:00", 0 },
	{ "a plain week", "2026-03-09 00:00:00", "2026-03-16 00:00:00", 144000 },
	{ "four plain weeks", "2026-03-09 00:00:00", "2026-04-03 17:00:00", 4 * 144000 },
	{ "National Day", "2026-10-01 00:00:00", "2026-10-08 00:00:00", 0 },
	{ "around National Day", "2026-09-30 00:00:00", "2026-10-09 00:00:00", 57600 },
	{ "make-up Saturday", "2026-10-09 00:00:00", "2026-10-12 00:00:00", 57600 },
	{ "make-up Sunday", "2026-09-19 00:00:00", "2026-09-21 00:00:00", 28800 },
	{ "Spring Festival", "2026-02-13 00:00:00", "2026-03-01 00:00:00", 7 * 28800 },
	{ "Spring Festival, partial", "2026-02-13 16:00:00", "2026-02-24 10:00:00", 36000 },
	{ "the year 2026", "2026-01-01 00:00:00", "2027-01-01 00:00:00", 248 * 28800 },
	{ "empty", "2026-03-10 10:00:00", "2026-03-10 10:00:00", 0 },
	{ "reversed", "2026-03-11 10:00:00", "2026-03-10 10:00:00", 0 },
};

START_TEST(test_between_table)
{
	struct cal_calendar cal;
	int64_t got = 42;
	int rc;

	china_2026(&cal);
	rc = sla_working_between(&cal, at(between_cases[_i].a), at(between_cases[_i].b), &got);
	if (between_cases[_i].expect >= 0) {
		ck_assert_msg(rc == 0, "%s: rc %d", between_cases[_i].what, rc);
		ck_assert_msg(got == between_cases[_i].expect, "%s: got %lld, want %lld",
		              between_cases[_i].what, (long long)got,
		              (long long)between_cases[_i].expect);
	} else {
		ck_assert_int_eq(rc, -1);
	}
	cal_free(&cal);
}
END_TEST

/* Instants outside PostgreSQL's timestamptz range are refused. */
static const struct {
	int64_t a, b;
	int ok;
} range_cases[] = {
	{ SLA_INSTANT_MIN, SLA_INSTANT_MIN + 86400 * 7, 1 },
	{ SLA_INSTANT_MAX - 86400 * 7, SLA_INSTANT_MAX, 1 },
	{ SLA_INSTANT_MIN - 1, 0, 0 },
	{ 0, SLA_INSTANT_MAX + 1, 0 },
	{ INT64_MIN, INT64_MAX, 0 },
	{ INT64_MAX, 0, 0 },
};

START_TEST(test_range)
{
	struct cal_calendar cal;
	int64_t got = 42;

	china_2026(&cal);
	ck_assert_int_eq(sla_working_between(&cal, range_cases[_i].a, range_cases[_i].b, &got),
	                 range_cases[_i].ok ? 0 : -1);
	if (range_cases[_i].ok) {
		ck_assert_int_eq(got, 5 * 28800);
		ck_assert_int_eq(sla_add(&cal, range_cases[_i].a, 1, &got), 0);
	} else {
		int64_t bad = range_cases[_i].a;

		if (bad >= SLA_INSTANT_MIN && bad <= SLA_INSTANT_MAX)
			bad = range_cases[_i].b;
		got = 42;
		ck_assert_int_eq(sla_add(&cal, bad, 1, &got), -1);
		ck_assert_int_eq(got, 42);
	}
	cal_free(&cal);
}
END_TEST

/* SLA_INSTANT_MAX is Monday 294277-01-01 07:59:59 local, so the last window
 * is Friday 294276-12-29; start on the Wednesday before, before 09:00. */
START_TEST(test_add_past_the_end)
{
	const int64_t start = SLA_INSTANT_MAX - 5 * 86400;
	struct cal_calendar cal;
	int64_t got = 42;

	china_2026(&cal);
	ck_assert_int_eq(sla_add(&cal, start, 28800, &got), 0);
	ck_assert_int_eq(got, cal_instant_from_local(cal_days_from_civil(294276, 12, 27), 61200));
	ck_assert_int_eq(sla_add(&cal, start, 3 * 28800, &got), 0);
	ck_assert_int_eq(got, cal_instant_from_local(cal_days_from_civil(294276, 12, 29), 61200));
	got = 42;
	ck_assert_int_eq(sla_add(&cal, start, 3 * 28800 + 1, &got), -1);
	ck_assert_int_eq(sla_add(&cal, start, 4 * 28800, &got), -1);
	ck_assert_int_eq(sla_add(&cal, 0, INT64_C(9000000000000), &got), -1);
	ck_assert_int_eq(got, 42);
	cal_free(&cal);
}
END_TEST

/*
 * The guard: 3659 non-working days in a row are crossed, 3660 are not.  Days
 * [d0, d0 + run) are holidays and the day after is a listed working day.
 */
static const struct {
	int32_t run;
	int ok;
} guard_cases[] = { { 3000, 1 }, { 3659, 1 }, { 3660, 0 }, { 5000, 0 } };

START_TEST(test_guard)
{
	struct cal_calendar cal;
	const int32_t d0 = date("2026-01-05"), run = guard_cases[_i].run;
	const int64_t start = cal_instant_from_local(d0, 36000);
	int64_t got = 42;

	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	for (int32_t d = d0; d < d0 + run; d++)
		ck_assert_int_eq(cal_add_day(&cal, d, CAL_HOLIDAY), 0);
	ck_assert_int_eq(cal_add_day(&cal, d0 + run, CAL_WORKDAY), 0);
	if (guard_cases[_i].ok) {
		ck_assert_int_eq(sla_add(&cal, start, 1, &got), 0);
		ck_assert_int_eq(got, cal_instant_from_local(d0 + run, 32401));
		ck_assert_int_eq(sla_working_between(&cal, start, got, &got), 0);
		ck_assert_int_eq(got, 1);
	} else {
		ck_assert_int_eq(sla_add(&cal, start, 1, &got), -1);
		ck_assert_int_eq(sla_working_between(&cal, start, start + 86400 * (run + 1), &got),
		                 -1);
		ck_assert_int_eq(got, 42);
	}
	/* Zero seconds and short spans never need to search. */
	ck_assert_int_eq(sla_add(&cal, start, 0, &got), 0);
	ck_assert_int_eq(got, start);
	ck_assert_int_eq(sla_working_between(&cal, start, start + 86400 * 365, &got), 0);
	ck_assert_int_eq(got, 0);
	cal_free(&cal);
}
END_TEST

/*
 * The weekend before the run counts too, also when the walk reaches the run
 * by skipping whole weeks: from two weeks earlier, 2 + 3657 days pass and
 * 2 + 3658 do not.
 */
static const struct {
	int32_t run;
	int ok;
} guard_weekend_cases[] = { { 3657, 1 }, { 3658, 0 } };

START_TEST(test_guard_after_weekend)
{
	struct cal_calendar cal;
	const int32_t d0 = date("2026-03-16"), run = guard_weekend_cases[_i].run;
	const int64_t start = cal_instant_from_local(d0 - 14, 8 * 3600);
	const int64_t n = 10 * 28800 + 1;
	int64_t got = 42;

	ck_assert_int_eq(cal_weekday(d0), 1);
	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	for (int32_t d = d0; d < d0 + run; d++)
		ck_assert_int_eq(cal_add_day(&cal, d, CAL_HOLIDAY), 0);
	ck_assert_int_eq(cal_add_day(&cal, d0 + run, CAL_WORKDAY), 0);
	if (guard_weekend_cases[_i].ok) {
		ck_assert_int_eq(sla_add(&cal, start, n, &got), 0);
		ck_assert_int_eq(got, cal_instant_from_local(d0 + run, 32401));
		ck_assert_int_eq(sla_working_between(&cal, start, got, &got), 0);
		ck_assert_int_eq(got, n);
	} else {
		ck_assert_int_eq(sla_add(&cal, start, n, &got), -1);
		ck_assert_int_eq(sla_working_between(&cal, start,
		                                     cal_instant_from_local(d0 + run + 1, 0), &got),
		                 -1);
		ck_assert_int_eq(got, 42);
	}
	cal_free(&cal);
}
END_TEST

START_TEST(test_all_holidays)
{
	struct cal_calendar cal;
	const int32_t d0 = date("2026-01-01");
	int64_t got = 42;

	ck_assert_int_eq(cal_init(&cal, 32400, 61200), 0);
	for (int32_t d = d0; d < d0 + 4000; d++)
		ck_assert_int_eq(cal_add_day(&cal, d, CAL_HOLIDAY), 0);
	ck_assert_int_eq(sla_add(&cal, at("2026-03-10 10:00:00"), 1, &got), -1);
	ck_assert_int_eq(sla_add(&cal, at("2025-12-31 17:00:00"), 3600, &got), -1);
	ck_assert_int_eq(got, 42);
	cal_free(&cal);
}
END_TEST

/* splitmix64: a fixed, portable sequence (rand() differs between libcs). */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t rng_range(int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* Straightforward day-by-day references, no week skipping and no guard. */
static int64_t ref_between(const struct cal_calendar *cal, int64_t a, int64_t b)
{
	int64_t total = 0;

	for (int32_t day = cal_local_day(a); b > a && cal_instant_from_local(day, 0) < b; day++) {
		int64_t lo = cal_instant_from_local(day, cal->work_start);
		int64_t hi = cal_instant_from_local(day, cal->work_end);

		if (!cal_is_working_day(cal, day))
			continue;
		lo = lo > a ? lo : a;
		hi = hi < b ? hi : b;
		if (hi > lo)
			total += hi - lo;
	}
	return total;
}

static int64_t ref_add(const struct cal_calendar *cal, int64_t start, int64_t n)
{
	if (n == 0)
		return start;
	for (int32_t day = cal_local_day(start);; day++) {
		int64_t lo = cal_instant_from_local(day, cal->work_start);
		int64_t hi = cal_instant_from_local(day, cal->work_end);

		lo = lo > start ? lo : start;
		if (!cal_is_working_day(cal, day) || hi <= lo)
			continue;
		if (n <= hi - lo)
			return lo + n;
		n -= hi - lo;
	}
}

/* Second by second, straight from the definition. */
static int64_t brute_between(const struct cal_calendar *cal, int64_t a, int64_t b)
{
	int64_t total = 0;
	int32_t day = cal_local_day(a);
	bool working = cal_is_working_day(cal, day);

	for (int64_t t = a; t < b; t++) {
		int32_t s = cal_local_seconds(t);

		if (s == 0)
			working = cal_is_working_day(cal, ++day);
		if (working && s >= cal->work_start && s < cal->work_end)
			total++;
	}
	return total;
}

static int64_t random_amount(void)
{
	switch (rng() % 4) {
	case 0:
		return rng_range(0, 3 * 28800);
	case 1:
		return 3600 * rng_range(0, 40);
	case 2:
		return rng_range(0, 30 * 28800);
	default:
		return rng_range(0, 400 * 28800);
	}
}

/*
 * sla_working_between(s, sla_add(s, n)) == n, and the deadline is the earliest
 * such instant: one second less leaves exactly one second undone.
 */
START_TEST(test_round_trip_2026)
{
	const int64_t lo = at("2025-12-01 00:00:00"), hi = at("2026-12-31 23:59:59");
	struct cal_calendar cal;

	china_2026(&cal);
	rng_state = 20261001;
	for (int i = 0; i < 4000; i++) {
		int64_t start = rng_range(lo, hi), n = random_amount(), t, w;

		if (i % 3 == 0) /* often on a round hour, where the edge cases live */
			start -= (start - lo) % 3600;
		ck_assert_int_eq(sla_add(&cal, start, n, &t), 0);
		ck_assert_int_eq(t, ref_add(&cal, start, n));
		ck_assert_int_ge(t, start);
		ck_assert_int_eq(sla_working_between(&cal, start, t, &w), 0);
		ck_assert_msg(w == n, "start %lld n %lld: t %lld gives %lld", (long long)start,
		              (long long)n, (long long)t, (long long)w);
		if (n > 0) {
			ck_assert_int_eq(sla_working_between(&cal, start, t - 1, &w), 0);
			ck_assert_int_eq(w, n - 1);
		}
	}
	cal_free(&cal);
}
END_TEST

/* Random windows and calendars, sparse to dense, against the references. */
START_TEST(test_random_calendars)
{
	const int32_t d0 = date("2025-01-01");

	rng_state = 12345;
	for (int c = 0; c < 150; c++) {
		static const unsigned density[] = { 2, 10, 50, 90 }; /* percent */
		struct cal_calendar cal;
		int32_t ws, we;

		switch (c % 3) {
		case 0:
			ws = 32400;
			we = 61200;
			break;
		case 1:
			ws = c % 2 ? 0 : (int32_t)rng_range(0, 86399);
			we = c % 5 ? 86400 : (int32_t)rng_range(ws + 1, 86400);
			break;
		default:
			ws = (int32_t)rng_range(0, 86399);
			we = (int32_t)rng_range(ws + 1, 86400);
		}
		ck_assert_int_eq(cal_init(&cal, ws, we), 0);
		for (int32_t d = d0; d < d0 + 1500; d++) {
			enum cal_day_kind kind = rng() % 2 ? CAL_HOLIDAY : CAL_WORKDAY;

			if (rng() % 100 < density[c % 4])
				ck_assert_int_eq(cal_add_day(&cal, d, kind), 0);
		}
		for (int i = 0; i < 25; i++) {
			int64_t a = cal_instant_from_local(d0 - 20, rng_range(0, 86399)) +
			            86400 * rng_range(0, 1500);
			int64_t n = random_amount(), b, t, w;

			if (i % 2)
				a -= a % 60;
			ck_assert_int_eq(sla_add(&cal, a, n, &t), 0);
			ck_assert_int_eq(t, ref_add(&cal, a, n));
			ck_assert_int_eq(sla_working_between(&cal, a, t, &w), 0);
			ck_assert_int_eq(w, n);

			b = a +
			    (i % 5 ? rng_range(-86400, 2 * 366 * 86400) : rng_range(0, 3 * 86400));
			ck_assert_int_eq(sla_working_between(&cal, a, b, &w), 0);
			ck_assert_int_eq(w, ref_between(&cal, a, b));
			if (i % 5 == 0)
				ck_assert_int_eq(w, brute_between(&cal, a, b));
		}
		cal_free(&cal);
	}
}
END_TEST

/* Large amounts take the week-skipping path through many exceptions. */
START_TEST(test_large_amounts)
{
	static const int64_t amounts[] = { 28800LL * 5000, 1000000000LL, 28800LL * 100000 + 1 };
	struct cal_calendar cal;

	china_2026(&cal);
	for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
		int64_t start = at("2026-02-13 16:00:00"), t, w;

		ck_assert_int_eq(sla_add(&cal, start, amounts[i], &t), 0);
		ck_assert_int_eq(t, ref_add(&cal, start, amounts[i]));
		ck_assert_int_eq(sla_working_between(&cal, start, t, &w), 0);
		ck_assert_int_eq(w, amounts[i]);
		ck_assert_int_eq(ref_between(&cal, start, t), amounts[i]);
	}
	cal_free(&cal);
}
END_TEST

static Suite *sla_suite(void)
{
	Suite *s = suite_create("sla");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_add_table, 0, sizeof(add_cases) / sizeof(add_cases[0]));
	tcase_add_loop_test(tc, test_between_table, 0,
	                    sizeof(between_cases) / sizeof(between_cases[0]));
	tcase_add_loop_test(tc, test_range, 0, sizeof(range_cases) / sizeof(range_cases[0]));
	tcase_add_test(tc, test_add_past_the_end);
	tcase_add_loop_test(tc, test_guard, 0, sizeof(guard_cases) / sizeof(guard_cases[0]));
	tcase_add_loop_test(tc, test_guard_after_weekend, 0,
	                    sizeof(guard_weekend_cases) / sizeof(guard_weekend_cases[0]));
	tcase_add_test(tc, test_all_holidays);
	tcase_add_test(tc, test_round_trip_2026);
	tcase_add_test(tc, test_random_calendars);
	tcase_add_test(tc, test_large_amounts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sla_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
