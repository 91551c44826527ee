/*
 * The assessment's measures (docs/assessment.md) on the real database: the
 * follower folds the fixture month (tests/integration/fixtures_assessment.sql)
 * and every figure of st_stats, and the composite and ranks of st_ranking,
 * equal the hand calculation in the comments below.  Then scope, bad input,
 * ties, and the follower's hole rule.
 *
 * Other suites write events meanwhile: the fixture lives in its own district,
 * departments and past months, so its figures are exact whatever they do.
 */
#include <check.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdb.h"

static PGconn *db;

static void setup(void)
{
	db = tdb_connect(false);
}

static void teardown(void)
{
	PQfinish(db);
}

/* Calls a report function on the suite's connection (tdb_json). */
static json_object *call(const char *sql, int n, const char *const *p, char state[6])
{
	return tdb_json(db, sql, n, p, state);
}

static json_object *stats(const char *login, const char *from, const char *to, const char *group,
                          const char *series, char state[6])
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), from, to, group, series };

	return call("SELECT street.st_stats($1, $2, $3, $4, $5)", 5, p, state);
}

static json_object *ranking(const char *login, const char *from, const char *to, const char *group,
                            const char *top, char state[6])
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), from, to, group, top };

	return call("SELECT street.st_ranking($1, $2, $3, $4, $5)", 5, p, state);
}

/* The row of a unit (by code) in a reply's "rows", or NULL. */
static json_object *row_of(json_object *reply, const char *code)
{
	json_object *rows = json_object_object_get(reply, "rows");

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		json_object *u = json_object_object_get(r, "unit");

		if (strcmp(json_object_get_string(json_object_object_get(u, "code")), code) == 0)
			return r;
	}
	return NULL;
}

static size_t nrows(json_object *reply)
{
	return json_object_array_length(json_object_object_get(reply, "rows"));
}

/* An expected figure; NAN: null. */
struct fig {
	const char *key;
	double want;
};

static void check_figs(json_object *row, const char *who, const struct fig *f, size_t n)
{
	ck_assert_msg(row != NULL, "%s: no row", who);
	for (size_t i = 0; i < n; i++) {
		json_object *v = NULL;

		ck_assert_msg(json_object_object_get_ex(row, f[i].key, &v), "%s: no %s", who,
		              f[i].key);
		if (isnan(f[i].want))
			ck_assert_msg(v == NULL, "%s: %s is %s, not null", who, f[i].key,
			              json_object_to_json_string(v));
		else
			ck_assert_msg(v != NULL &&
			                      fabs(json_object_get_double(v) - f[i].want) < 1e-9,
			              "%s: %s is %s, not %g", who, f[i].key,
			              v ? json_object_to_json_string(v) : "null", f[i].want);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Department A in March 2025 (the fixture; times UTC+8, working hours 9-17):
 *   dispatches to A: T1 3/3, T2 3/4, T3 3/5, T4 3/6, T6 3/11, T8 3/17, T7 3/28
 *     = 7 (T9's was in February); all first dispatches: dispatched_tickets 7;
 *     on time: all but T2 (11:00 > 10:00): 6/7 = 0.8571
 *   accept steps ended with A: accepted T1, T2, T6, T8, T9 (3/3; its dispatch
 *     was in February: the step's end counts) = 5, returned T3, T4 = 2;
 *     accepted on time: all but T2 (14:00 > 13:00): response 4/7 = 0.5714
 *   returns: 2; counted 1 (T4's upheld): return_rate 1/7 = 0.1429
 *   resolves: T1, T2, T6 twice, T8, T9 = 6, all on time (T2 by its granted
 *     extension to 3/6 17:00): 1.0; reopens T6: 1/6 = 0.1667
 *   closed: T1, T2, T6, T8, T9 = 5, all confirmed; close_rate 5/(7-0) =
 *     0.7143, on time the same (every last resolve on time)
 *   ratings 5, 2, 4, 5, 1: satisfied 3/5 = 0.6, dissatisfied (1-2) 2/5 = 0.4
 *   urged 1 (T6), overdue marks 1 (T7 3/31 10:30)
 *   open at 4/1 00:00: T7 (held by A), overdue: T7
 *   ownerless: T3's re-dispatch after A's return 10:00-11:30 = 5400 s; T4's
 *     3600 s is taken back by the upheld ruling
 *   working time, nearest rank on bucket upper bounds:
 *     dispatch 1800 600 1800 1800 1200 1800 1800 (T1 T2=7200 ...): buckets
 *       600 1200 1800 1800 1800 1800 7200: p50 = 4th = 1800, p90 = 7th = 7200
 *     accept 1800 10800 1200 1800 3600: 1200 1800 1800 3600 10800: p50 3rd
 *       = 1800, p90 5th = 10800
 *     resolve T1 18000, T2 64800 (bucket 86400), T6 7200, 21600, T8 7200,
 *       T9 9000 (bucket 10800): p50 3rd = 10800, p90 6th = 86400
 *     feedback T1 10800, T2 7200, T6 3600, T8 3600, T9 7200: p50 3rd = 7200,
 *       p90 5th = 10800
 */
static const struct fig dept_a[] = {
	{ "reported", 0 },
	{ "dispatched", 7 },
	{ "dispatched_tickets", 7 },
	{ "accepted", 5 },
	{ "returned", 2 },
	{ "returned_counted", 1 },
	{ "resolved", 6 },
	{ "reopened", 1 },
	{ "closed", 5 },
	{ "confirmed", 5 },
	{ "no_feedback", 0 },
	{ "cancelled", 0 },
	{ "cancelled_dispatched", 0 },
	{ "urged", 1 },
	{ "overdue_marks", 1 },
	{ "open_at_end", 1 },
	{ "overdue_at_end", 1 },
	{ "ownerless_s", 5400 },
	{ "dispatch_ontime_rate", 0.8571 },
	{ "response_rate", 0.5714 },
	{ "resolve_ontime_rate", 1 },
	{ "close_rate", 0.7143 },
	{ "close_ontime_rate", 0.7143 },
	{ "satisfaction_rate", 0.6 },
	{ "dissatisfaction_rate", 0.4 },
	{ "no_feedback_rate", 0 },
	{ "return_rate", 0.1429 },
	{ "reopen_rate", 0.1667 },
	{ "dispatch_n", 7 },
	{ "dispatch_p50_s", 1800 },
	{ "dispatch_p90_s", 7200 },
	{ "accept_n", 5 },
	{ "accept_p50_s", 1800 },
	{ "accept_p90_s", 10800 },
	{ "resolve_n", 6 },
	{ "resolve_p50_s", 10800 },
	{ "resolve_p90_s", 86400 },
	{ "feedback_n", 5 },
	{ "feedback_p50_s", 7200 },
	{ "feedback_p90_s", 10800 },
};

/*
 * Department B in March: T3 re-dispatched 11:30 (due 11:00: late, 5400 s),
 * T4 re-dispatched 11:00 (due 11:00: on time, 3600 s): 1/2; neither a first
 * dispatch, so close_rate has no denominator (null).  Accepts T3 12:00 (on
 * time, 1800 s), T4 15:00 (due 13:00, 14400 s): 1/2.  Resolves T3 on time
 * (25200 s), T4 late (32400 s, bucket 43200): 1/2.  Closed T3 (auto-close:
 * no feedback, never satisfied) and T4 (confirmed, rated 3: neither).
 * Overdue marks: T4's accept and resolve.  Nothing open at the end.
 */
static const struct fig dept_b[] = {
	{ "dispatched", 2 },
	{ "dispatched_tickets", 0 },
	{ "accepted", 2 },
	{ "returned", 0 },
	{ "resolved", 2 },
	{ "closed", 2 },
	{ "confirmed", 1 },
	{ "no_feedback", 1 },
	{ "overdue_marks", 2 },
	{ "open_at_end", 0 },
	{ "overdue_at_end", 0 },
	{ "ownerless_s", 0 },
	{ "dispatch_ontime_rate", 0.5 },
	{ "response_rate", 0.5 },
	{ "resolve_ontime_rate", 0.5 },
	{ "close_rate", NAN },
	{ "close_ontime_rate", NAN },
	{ "satisfaction_rate", 0 },
	{ "dissatisfaction_rate", 0 },
	{ "no_feedback_rate", 0.5 },
	{ "return_rate", 0 },
	{ "dispatch_p50_s", 3600 },
	{ "dispatch_p90_s", 5400 },
	{ "accept_p50_s", 1800 },
	{ "accept_p90_s", 14400 },
	{ "resolve_p50_s", 25200 },
	{ "resolve_p90_s", 43200 },
	{ "feedback_n", 1 },
	{ "feedback_p50_s", 5400 },
	{ "feedback_p90_s", 5400 },
};

/*
 * Street 1 in March: reported T1-T7 = 7 (T9 in February); dispatches T1, T2,
 * T3, T3 again, T4, T4 again, T6, T7 = 8, on time all but T2 and T3's second
 * (11:30 > 11:00): 6/8 = 0.75.  Cancelled T5 (never dispatched).  Closed T1,
 * T2, T3, T4, T6, T9 = 6 over first dispatches T1 T2 T3 T4 T6 T7 = 6: 1.0.
 * Ratings 5, 2, 3, 4, 1 (T3 auto-closed): satisfied 2/5 = 0.4.  Open at the
 * end: T7.
 */
static const struct fig street_1[] = {
	{ "reported", 7 },    { "dispatched", 8 },           { "dispatched_tickets", 6 },
	{ "cancelled", 1 },   { "cancelled_dispatched", 0 }, { "closed", 6 },
	{ "no_feedback", 1 }, { "open_at_end", 1 },          { "dispatch_ontime_rate", 0.75 },
	{ "close_rate", 1 },  { "satisfaction_rate", 0.4 },  { "dissatisfaction_rate", 0.4 },
};

START_TEST(test_hand_calculation)
{
	char st[6];
	json_object *r;

	tdb_follow_catch_up();
	r = stats("ta.super", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_str_eq(st, "");
	ck_assert_int_eq(nrows(r), 2); /* A and B; C, D, E worked only in May */
	check_figs(row_of(r, "ta-dept-a"), "dept A", dept_a, N(dept_a));
	check_figs(row_of(r, "ta-dept-b"), "dept B", dept_b, N(dept_b));
	json_object_put(r);

	r = stats("ta.super", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_str_eq(st, "");
	check_figs(row_of(r, "ta-street1"), "street 1", street_1, N(street_1));
	json_object_put(r);

	/* a step counts in the period it ended in: February has T9's report and
	 * dispatch (16:30, due 17:00: on time), and nothing else of A's */
	r = stats("ta.super", "2025-02-01", "2025-03-01", "department", NULL, st);
	ck_assert_str_eq(st, "");
	{
		const struct fig feb[] = { { "dispatched", 1 },
			                   { "accepted", 0 },
			                   { "dispatch_ontime_rate", 1 },
			                   { "response_rate", NAN },
			                   { "open_at_end", 1 } };

		check_figs(row_of(r, "ta-dept-a"), "dept A in February", feb, N(feb));
	}
	json_object_put(r);
}
END_TEST

/*
 * March's ranking of departments.  A (volume 7 >= min_volume 5):
 *   response 57.14 x 20, resolve on time 100 x 20, close 71.43 x 10,
 *   satisfaction 60 x 15, returns (1 - 0.1429) x 100 = 85.71 x 5, and the
 *   streets' score x 30: street 1 (80x25 + 90x25 + 70x30 + 100x20)/100 = 83.5,
 *   street 2 60, mean 71.75;
 *   (1142.8 + 2000 + 714.3 + 900 + 428.55 + 2152.5) / 100 = 73.3815 -> 73.38.
 * B (volume 2: listed, unranked): close rate and streets' score have no value
 *   and drop out: (50x20 + 50x20 + 0x15 + 100x5) / 60 = 41.67.
 */
START_TEST(test_ranking_composite)
{
	char st[6];
	json_object *r, *a, *b;

	tdb_follow_catch_up();
	r = ranking("ta.super", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_str_eq(st, "");
	a = row_of(r, "ta-dept-a");
	b = row_of(r, "ta-dept-b");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(a, "composite")),
	                        73.38, 1e-9);
	ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(a, "street_score")),
	                        71.75, 1e-9);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "rank")), 1);
	ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(b, "composite")),
	                        41.67, 1e-9);
	ck_assert_ptr_null(json_object_object_get(b, "rank"));
	ck_assert_ptr_null(json_object_object_get(b, "street_score"));
	/* red: A; black: nobody (a unit is never on both lists) */
	ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "red")), 1);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "black")), 0);
	json_object_put(r);

	/* streets: street 1 (7 reported): dispatch on time 75 x 40, close 100 x 20,
	 * satisfaction 40 x 40 = (3000 + 2000 + 1600) / 100 = 66; street 2 (one
	 * report) is unranked */
	r = ranking("ta.super", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_str_eq(st, "");
	a = row_of(r, "ta-street1");
	ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(a, "composite")), 66,
	                        1e-9);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(a, "rank")), 1);
	ck_assert_ptr_null(json_object_object_get(row_of(r, "ta-street2"), "rank"));
	json_object_put(r);
}
END_TEST

/*
 * May: C and D did the same (five tickets each, all on time, rated 5:
 * composite 100 from the rates alone, no street scored them); E the same but
 * rated 1: (20x100 + 20x100 + 10x100 + 15x0 + 5x100) / 70 = 78.57.  Ranks
 * 1, 1, 3; with top 1 the red list holds both C and D, the black list E.
 */
START_TEST(test_ranking_ties)
{
	char st[6];
	json_object *r, *red, *black;

	tdb_follow_catch_up();
	r = ranking("ta.super", "2025-05-01", "2025-06-01", "department", "1", st);
	ck_assert_str_eq(st, "");
	ck_assert_int_eq(nrows(r), 3);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-dept-c"), "rank")), 1);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-dept-d"), "rank")), 1);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-dept-e"), "rank")), 3);
	ck_assert_double_eq_tol(
	        json_object_get_double(json_object_object_get(row_of(r, "ta-dept-e"), "composite")),
	        78.57, 1e-9);
	red = json_object_object_get(r, "red");
	black = json_object_object_get(r, "black");
	ck_assert_int_eq(json_object_array_length(red), 2);
	ck_assert_int_eq(json_object_array_length(black), 1);
	ck_assert_str_eq(
	        json_object_get_string(json_object_object_get(
	                json_object_object_get(json_object_array_get_idx(black, 0), "unit"),
	                "code")),
	        "ta-dept-e");
	json_object_put(r);
}
END_TEST

START_TEST(test_scope)
{
	char st[6];
	json_object *r;

	tdb_follow_catch_up();
	/* a department: its own row only, whatever the grouping */
	r = stats("ta.dept.a", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_str_eq(st, "");
	ck_assert_int_eq(nrows(r), 1);
	ck_assert_ptr_nonnull(row_of(r, "ta-dept-a"));
	json_object_put(r);
	/* grouped by street: its own work in each street (T8 in street 2) */
	r = stats("ta.dept.a", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_int_eq(nrows(r), 2);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-street2"), "dispatched")),
	        1);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-street1"), "reported")),
	        0);
	json_object_put(r);
	/* in a ranking, its row and rank, no other department, nor lists it is not on */
	r = ranking("ta.dept.b", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_str_eq(st, "");
	ck_assert_int_eq(nrows(r), 1);
	ck_assert_ptr_nonnull(row_of(r, "ta-dept-b"));
	ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "red")), 0);
	json_object_put(r);
	ranking("ta.dept.a", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_str_eq(st, "SD403");

	/* a street: the departments that handled its tickets, over its tickets:
	 * A without T8 (street 2's) */
	r = stats("ta.street1", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_int_eq(nrows(r), 2);
	ck_assert_int_eq(
	        json_object_get_int(json_object_object_get(row_of(r, "ta-dept-a"), "dispatched")),
	        6);
	json_object_put(r);
	r = stats("ta.street1", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_int_eq(nrows(r), 1);
	ck_assert_ptr_nonnull(row_of(r, "ta-street1"));
	json_object_put(r);
	/* May's departments handled street 2's tickets, not street 1's */
	r = ranking("ta.street1", "2025-05-01", "2025-06-01", "department", NULL, st);
	ck_assert_int_eq(nrows(r), 0);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "red")), 0);
	json_object_put(r);
	r = ranking("ta.street2", "2025-05-01", "2025-06-01", "department", NULL, st);
	ck_assert_int_eq(nrows(r), 3);
	json_object_put(r);

	/* a supervisor of another district sees none of it */
	r = stats("t.supervisor.other", "2025-03-01", "2025-04-01", "department", NULL, st);
	ck_assert_ptr_null(row_of(r, "ta-dept-a"));
	json_object_put(r);
	r = ranking("t.supervisor.other", "2025-03-01", "2025-04-01", "street", NULL, st);
	ck_assert_ptr_null(row_of(r, "ta-street1"));
	json_object_put(r);

	/* collectors and admins: no figures */
	ck_assert_ptr_null(stats("wang.fang", "2025-03-01", "2025-04-01", "street", NULL, st));
	ck_assert_str_eq(st, "SD403");
	ck_assert_ptr_null(ranking("admin", "2025-03-01", "2025-04-01", "street", NULL, st));
	ck_assert_str_eq(st, "SD403");
}
END_TEST

START_TEST(test_series)
{
	char st[6];
	json_object *r, *rows;
	const char *p[] = { tdb_fmt("%d", tdb_account(db, "ta.super")),
		            "2025-03-01",
		            "2025-04-01",
		            "department",
		            "week",
		            tdb_fmt("%d", tdb_department(db, "ta-dept-a")) };
	int dispatched = 0;

	tdb_follow_catch_up();
	r = call("SELECT street.st_stats($1, $2, $3, $4, $5, $6)", 6, p, st);
	ck_assert_str_eq(st, "");
	rows = json_object_object_get(r, "rows");
	/* weeks from Monday, cut to the period: [3/1, 3/3) has nothing of A's;
	 * 3/3 (T1-T4 dispatched, T9 accepted), 3/10 (T6), 3/17 (T8), 3/24 (T7
	 * dispatched), [3/31, 4/1) (T7's overdue mark) */
	ck_assert_int_eq(json_object_array_length(rows), 5);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	                         json_object_array_get_idx(rows, 0), "from")),
	                 "2025-03-03");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
	                         json_object_array_get_idx(rows, 4), "from")),
	                 "2025-03-31");
	ck_assert_str_eq(json_object_get_string(
	                         json_object_object_get(json_object_array_get_idx(rows, 4), "to")),
	                 "2025-04-01");
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		dispatched += json_object_get_int(
		        json_object_object_get(json_object_array_get_idx(rows, i), "dispatched"));
	ck_assert_int_eq(dispatched, 7);
	/* the state at each bucket's end: T7 open from its dispatch on 3/28 */
	ck_assert_int_eq(json_object_get_int(json_object_object_get(
	                         json_object_array_get_idx(rows, 0), "open_at_end")),
	                 0);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(
	                         json_object_array_get_idx(rows, 3), "open_at_end")),
	                 1);
	json_object_put(r);
}
END_TEST

START_TEST(test_bad_input)
{
	static const struct {
		const char *from, *to, *group, *series, *state;
	} cases[] = {
		{ "2025-03-01", "2025-03-01", "street", NULL, "SD400" },   /* from = to */
		{ "2025-04-01", "2025-03-01", "street", NULL, "SD400" },   /* from > to */
		{ "2025-01-01", "2026-01-03", "street", NULL, "SD400" },   /* 367 days */
		{ "2025-02-30", "2025-03-01", "street", NULL, "SD400" },   /* no such day */
		{ "2025-3-1", "2025-04-01", "street", NULL, "SD400" },     /* not YYYY-MM-DD */
		{ "2025-03-01", "2025-04-01", "city", NULL, "SD400" },     /* unknown group */
		{ "2025-03-01", "2025-04-01", "street", "hour", "SD400" }, /* unknown series */
		{ "2024-01-01", "2024-12-31", "street", NULL, "" },        /* 365 days: fine */
		{ "2024-01-01", "2025-01-01", "street", "month", "" },     /* 366: fine */
	};
	char st[6];

	for (size_t i = 0; i < N(cases); i++) {
		json_object *r = stats("ta.super", cases[i].from, cases[i].to, cases[i].group,
		                       cases[i].series, st);

		ck_assert_msg(strcmp(st, cases[i].state) == 0, "case %zu: %s, not %s", i, st,
		              cases[i].state);
		json_object_put(r);
	}
	ranking("ta.super", "2025-03-01", "2025-04-01", "grid", NULL, st);
	ck_assert_str_eq(st, "SD400");
	ranking("ta.super", "2025-03-01", "2025-04-01", "department", "0", st);
	ck_assert_str_eq(st, "SD400");
	ranking("ta.super", "2025-04-01", "2025-03-01", "department", NULL, st);
	ck_assert_str_eq(st, "SD400");
}
END_TEST

/*
 * The hole rule: an event whose transaction is still running holds the fold
 * back (a later event committed meanwhile is not folded past it); once it
 * commits, both are folded.
 */
START_TEST(test_follow_waits_for_holes)
{
	PGconn *held = tdb_connect(false), *other = tdb_connect(false);
	const char *street = tdb_fmt("%d", tdb_account(db, "ta.street1"));
	const char *cat = tdb_fmt("%d", tdb_category(db, "ta.cat"));
	const char *grid = tdb_fmt("%d", tdb_grid(db, "ta-grid1"));
	const char *p[] = { street, cat, grid };
	const char *sql =
	        "SELECT (r.event->>'seq') FROM street.st_report($1, $2, $3, 'hole test') r";
	long long seq_held, seq_later;
	PGresult *r;

	r = tdb_query(held, "BEGIN", 0, NULL);
	PQclear(r);
	seq_held = tdb_int(held, sql, 3, p);
	seq_later = tdb_int(other, sql, 3, p);
	ck_assert_int_gt(seq_later, seq_held);
	for (int i = 0; i < 3; i++)
		tdb_int(db, "SELECT street.st_follow()", 0, NULL);
	ck_assert_int_lt(tdb_int(db, "SELECT position FROM street.assess_cursor", 0, NULL),
	                 seq_held);
	r = tdb_query(held, "COMMIT", 0, NULL);
	PQclear(r);
	tdb_follow_catch_up();
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT count(*) FROM street.assess_step s JOIN street.ticket_event e"
	                " ON e.seq = s.start_seq WHERE e.seq IN ($1, $2)",
	                2,
	                (const char *[]){ tdb_fmt("%lld", seq_held), tdb_fmt("%lld", seq_later) }),
	        2);
	PQfinish(held);
	PQfinish(other);
}
END_TEST

/* A whole file's text; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/*
 * The monthly rollup (migration 018) holds the sums of the daily one, and
 * the figures read from it (whole months from assess_month, the days at the
 * edges, the balance at the period's start plus running deltas) equal those
 * of the day-only computation (tests/oracle/assess_days.sql) for periods with
 * and without whole months, every grouping and series, and three scopes.
 * One snapshot for all, since other suites write (and the follower folds)
 * meanwhile.
 */
START_TEST(test_month_rollup_matches_days)
{
	PGconn *admin = tdb_connect(true);
	const char *oracle = getenv("STREETD_TEST_ORACLE_ASSESS");
	char *sql;
	static const char *const periods[][2] = {
		{ "2025-03-01", "2025-04-01" }, /* one whole month */
		{ "2025-02-10", "2025-05-20" }, /* edges and whole months */
		{ "2025-03-15", "2025-04-10" }, /* no whole month */
		{ "2025-01-01", "2026-01-01" }, /* a year */
		{ NULL, NULL },                 /* around today: the other suites' tickets */
	};
	static const char *const groups[] = { "department", "street", "district", "category",
		                              "grid" };
	static const char *const series[] = { NULL, "month", "week", "day" };
	const char *scopes[3][3] = { { NULL, NULL, NULL } };
	long long rows = 0;

	ck_assert_msg(oracle != NULL, "STREETD_TEST_ORACLE_ASSESS is not set (meson sets it)");
	tdb_follow_catch_up();
	sql = slurp(oracle);
	exec_ok(admin, sql);
	free(sql);
	scopes[1][0] = tdb_fmt("%d", tdb_department(db, "ta-dept-a"));
	scopes[2][2] = tdb_fmt("%lld", tdb_int(db,
	                                       "SELECT id FROM street.district"
	                                       " WHERE code = 'ta-district'",
	                                       0, NULL));
	exec_ok(admin, "BEGIN ISOLATION LEVEL REPEATABLE READ");

	/* every counter of every (month, street, category, department) */
	ck_assert_int_eq(
	        tdb_int(admin,
	                "WITH dm AS (SELECT date_trunc('month', d.day)::date AS month, d.street_id,"
	                "  d.category_id, d.department_id, j.key, sum(j.value::numeric) AS v"
	                " FROM street.assess_day d, jsonb_each_text(to_jsonb(d) - 'day' - 'grid_id'"
	                "  - 'category_id' - 'department_id' - 'street_id' - 'district_id') j"
	                " GROUP BY 1, 2, 3, 4, 5),"
	                " mm AS (SELECT m.month, m.street_id, m.category_id, m.department_id, "
	                "j.key,"
	                "  j.value::numeric AS v FROM street.assess_month m,"
	                "  jsonb_each_text(to_jsonb(m) - 'month' - 'category_id' - 'department_id'"
	                "  - 'street_id' - 'district_id') j)"
	                " SELECT count(*) FROM dm FULL JOIN mm"
	                " USING (month, street_id, category_id, department_id, key)"
	                " WHERE dm.v IS DISTINCT FROM mm.v",
	                0, NULL),
	        0);
	ck_assert_int_eq(
	        tdb_int(admin,
	                "WITH dm AS (SELECT date_trunc('month', day)::date AS month, street_id,"
	                "  department_id, kind, bucket, sum(n) AS n"
	                " FROM street.assess_day_hist GROUP BY 1, 2, 3, 4, 5)"
	                " SELECT count(*) FROM dm FULL JOIN street.assess_month_hist mm"
	                " USING (month, street_id, department_id, kind, bucket)"
	                " WHERE dm.n IS DISTINCT FROM mm.n",
	                0, NULL),
	        0);
	ck_assert_int_gt(tdb_int(admin, "SELECT count(*) FROM street.assess_month", 0, NULL), 0);

	for (size_t p = 0; p < N(periods); p++)
		for (size_t g = 0; g < N(groups); g++)
			for (size_t k = 0; k < N(series); k++)
				for (size_t c = 0; c < N(scopes); c++) {
					const char *from = periods[p][0], *to = periods[p][1];
					const char *args[] = { from,         to,
						               groups[g],    series[k],
						               scopes[c][0], scopes[c][1],
						               scopes[c][2] };
					PGresult *r;

					if (series[k] && strcmp(series[k], "day") == 0 && p == 3)
						continue; /* a year of days: slow, and the same path
						           */
					r = tdb_query(
					        admin,
					        "WITH per AS (SELECT coalesce($1::date, "
					        "date_trunc('month',"
					        "  current_date - 40)::date) AS f, "
					        "coalesce($2::date,"
					        "  current_date + 2) AS t),"
					        " a AS (SELECT x.* FROM per, "
					        "street.st_assess_figures(per.f,"
					        "  per.t, $3, $4, NULL, $5, $6, $7) x),"
					        " b AS (SELECT x.* FROM per, "
					        "pg_temp.st_assess_figures_days("
					        "  per.f, per.t, $3, $4, NULL, $5, $6, $7) x)"
					        " SELECT (SELECT count(*) FROM ((TABLE a EXCEPT "
					        "ALL TABLE b)"
					        "  UNION ALL (TABLE b EXCEPT ALL TABLE a)) x),"
					        " (SELECT count(*) FROM a)",
					        7, args);
					ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
					              PQresultErrorMessage(r));
					ck_assert_msg(strcmp(PQgetvalue(r, 0, 0), "0") == 0,
					              "%s..%s by %s, series %s, scope %zu: %s rows "
					              "differ",
					              from ? from : "recent", to ? to : "now",
					              groups[g], series[k] ? series[k] : "none", c,
					              PQgetvalue(r, 0, 0));
					rows += atoll(PQgetvalue(r, 0, 1));
					PQclear(r);
				}
	ck_assert_int_gt(rows, 100); /* not vacuous */
	exec_ok(admin, "COMMIT");
	PQfinish(admin);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("assessment");
	TCase *tc = tcase_create("measures");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hand_calculation);
	tcase_add_test(tc, test_ranking_composite);
	tcase_add_test(tc, test_ranking_ties);
	tcase_add_test(tc, test_scope);
	tcase_add_test(tc, test_series);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_follow_waits_for_holes);
	tcase_add_test(tc, test_month_rollup_matches_days);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
