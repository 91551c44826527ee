/*
 * export and bulletin (sql/functions/87_export.sql) on the real database,
 * over the assessment's fixture month (tests/integration/fixtures_assessment.sql,
 * March 2025 in district ta-district; test_assessment.c has its figures).
 *
 * Tickets open at some time of March (reported before 4/1, not closed before
 * 3/1), by the fixture's comments:
 *   street 1: T1 T2 T3 T4 T5 T6 T7 T9 (T9 reported 2/28, closed 3/3)
 *   street 2: T8                (May's fifteen are not in March)
 *   department A held a step of T1 T2 T3 T4 T6 T7 T8 T9; B of T3 T4
 * Steps whose deadline fell in March and passed unmet (ended later, or still
 * open), by deadline:
 *   T2 dispatch 3/4 10:00 (street 1), T2 accept 3/4 13:00 (A),
 *   T3 dispatch after A's return 3/5 11:00 (street 1), T4 accept 3/6 13:00 (B),
 *   T4 resolve 3/7 15:00 (B), T7 accept 3/31 10:30 (A, still open)
 */
#include <check.h>
#include <json-c/json.h>
#include <stdint.h>
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

/* Calls a function on the suite's connection (tdb_json). */
static json_object *call(const char *sql, int n, const char *const *p, char state[6])
{
	return tdb_json(db, sql, n, p, state);
}

/* One compact array as an object of its columns' names (a page's "columns"
 * or "step_columns"). */
static json_object *zip(json_object *cols, json_object *arr)
{
	json_object *o = json_object_new_object();

	ck_assert_int_eq(json_object_array_length(cols), json_object_array_length(arr));
	for (size_t i = 0; i < json_object_array_length(cols); i++)
		json_object_object_add(o,
		                       json_object_get_string(json_object_array_get_idx(cols, i)),
		                       json_object_get(json_object_array_get_idx(arr, i)));
	return o;
}

/* A unit's name from the page's "names" (NULL for no code). */
static json_object *name_of(json_object *page, const char *kind, json_object *code)
{
	json_object *n = NULL;

	if (code == NULL)
		return NULL;
	n = json_object_object_get(json_object_object_get(page, "names"), kind);
	ck_assert_ptr_nonnull(n);
	n = json_object_object_get(n, json_object_get_string(code));
	ck_assert_ptr_nonnull(n);
	return json_object_get(n);
}

/* An export page with its compact rows as objects (what streetctl --json
 * prints): columns by name, steps likewise, and the names of the row's
 * category, street and department from the page's "names". */
static json_object *export_objects(json_object *page)
{
	json_object *rows = json_object_object_get(page, "rows"), *out = json_object_new_array();
	json_object *cols = json_object_object_get(page, "columns");
	json_object *scols = json_object_object_get(page, "step_columns");

	ck_assert_ptr_nonnull(rows);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *o = zip(cols, json_object_array_get_idx(rows, i));
		json_object *steps = json_object_object_get(o, "steps"),
		            *so = json_object_new_array();

		for (size_t k = 0; k < json_object_array_length(steps); k++)
			json_object_array_add(so, zip(scols, json_object_array_get_idx(steps, k)));
		json_object_object_add(o, "steps", so);
		json_object_object_add(
		        o, "category_name",
		        name_of(page, "category", json_object_object_get(o, "category")));
		json_object_object_add(
		        o, "street_name",
		        name_of(page, "street", json_object_object_get(o, "street")));
		json_object_object_add(
		        o, "department_name",
		        name_of(page, "department", json_object_object_get(o, "department")));
		json_object_array_add(out, o);
	}
	json_object_object_add(page, "rows", out);
	return page;
}

/* A page of the rows in (after, upto] (upto NULL: all after after). */
static json_object *export_window(const char *login, const char *from, const char *to,
                                  const char *after, const char *limit, const char *upto,
                                  char state[6])
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), from, to, after, limit, upto };
	json_object *r = call("SELECT street.st_export($1, $2, $3, $4, $5, $6)", 6, p, state);

	return r ? export_objects(r) : NULL;
}

static json_object *export_page(const char *login, const char *from, const char *to,
                                const char *after, const char *limit, char state[6])
{
	return export_window(login, from, to, after, limit, NULL, state);
}

static json_object *bulletin(const char *login, const char *from, const char *to, char state[6])
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), from, to };

	return call("SELECT street.st_bulletin($1, $2, $3)", 3, p, state);
}

static json_object *get(json_object *o, const char *key)
{
	return json_object_object_get(o, key);
}

/* The fixture tickets' ids, in id order: T1..T9 as the fixture inserted them. */
static long long fixture_id(int n)
{
	static const char *const created[] = {
		NULL,
		"2025-03-03 09:00+08",
		"2025-03-04 09:00+08",
		"2025-03-05 09:00+08",
		"2025-03-06 09:00+08",
		"2025-03-10 09:00+08",
		"2025-03-11 09:00+08",
		"2025-03-28 16:00+08",
		"2025-03-17 09:00+08",
		"2025-02-28 16:00+08",
	};
	const char *p[] = { created[n] };

	return tdb_int(db,
	               "SELECT t.id FROM street.ticket t JOIN street.grid g ON g.id = t.grid_id "
	               "WHERE g.code IN ('ta-grid1', 'ta-grid2') AND t.created_at = $1",
	               1, p);
}

/* Every page of an account's export, concatenated: a space-separated list of
 * "T<n>" (fixture tickets) in order, each ticket id checked to come once and
 * in increasing order.  Other suites' tickets (outside the fixture) are
 * counted in *others. */
static void export_all(const char *login, const char *from, const char *to, const char *limit,
                       char *out, size_t outlen, int *pages, int *others)
{
	char after[32] = "";
	long long last = 0;
	char st[6];

	out[0] = 0;
	*pages = 0;
	*others = 0;
	for (;;) {
		json_object *r = export_page(login, from, to, after[0] ? after : NULL, limit, st);
		json_object *rows, *next;

		ck_assert_msg(r != NULL, "%s: export failed with %s", login, st);
		rows = get(r, "rows");
		(*pages)++;
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			long long id = json_object_get_int64(
			        get(json_object_array_get_idx(rows, i), "id"));
			int n = 0;

			ck_assert_int_gt(id, last);
			last = id;
			for (int k = 1; k <= 9; k++)
				if (fixture_id(k) == id)
					n = k;
			if (n == 0)
				(*others)++;
			else
				snprintf(out + strlen(out), outlen - strlen(out), "%sT%d",
				         out[0] ? " " : "", n);
		}
		next = get(r, "next");
		if (next == NULL) {
			json_object_put(r);
			break;
		}
		ck_assert_int_eq(json_object_get_int64(next), last);
		snprintf(after, sizeof after, "%lld", last);
		json_object_put(r);
		ck_assert_int_lt(*pages, 10000);
	}
}

/* Tickets sorted by id: T9 was inserted last but reported first. */
static const char *march_all(void)
{
	return "T1 T2 T3 T4 T5 T6 T7 T8 T9";
}

START_TEST(test_scope_and_paging)
{
	char got[256];
	int pages, others;

	tdb_follow_catch_up();
	/* the fixture inserts T1..T9 in that order (T9 last), so ids follow */
	export_all("ta.super", "2025-03-01", "2025-04-01", NULL, got, sizeof got, &pages, &others);
	ck_assert_str_eq(got, march_all());
	ck_assert_int_eq(others, 0);
	ck_assert_int_eq(pages, 1);
	/* pages of 2: each ticket once, in order, the cursor where the page ended */
	export_all("ta.super", "2025-03-01", "2025-04-01", "2", got, sizeof got, &pages, &others);
	ck_assert_str_eq(got, march_all());
	ck_assert_int_eq(pages, 5);
	export_all("ta.dept.a", "2025-03-01", "2025-04-01", "3", got, sizeof got, &pages, &others);
	ck_assert_str_eq(got, "T1 T2 T3 T4 T6 T7 T8 T9");
	ck_assert_int_eq(others, 0);
	export_all("ta.dept.b", "2025-03-01", "2025-04-01", NULL, got, sizeof got, &pages, &others);
	ck_assert_str_eq(got, "T3 T4");
	export_all("ta.street1", "2025-03-01", "2025-04-01", NULL, got, sizeof got, &pages,
	           &others);
	ck_assert_str_eq(got, "T1 T2 T3 T4 T5 T6 T7 T9");
	ck_assert_int_eq(others, 0);
	export_all("ta.street2", "2025-03-01", "2025-04-01", NULL, got, sizeof got, &pages,
	           &others);
	ck_assert_str_eq(got, "T8");
	/* February: only T9 (reported 2/28); T7, still open, is in every later month */
	export_all("ta.super", "2025-02-01", "2025-03-01", NULL, got, sizeof got, &pages, &others);
	ck_assert_str_eq(got, "T9");
	export_all("ta.street1", "2025-05-01", "2025-06-01", NULL, got, sizeof got, &pages,
	           &others);
	ck_assert_str_eq(got, "T7");
	/* a supervisor of another district sees none of them */
	export_all("t.supervisor.other", "2025-03-01", "2025-04-01", NULL, got, sizeof got, &pages,
	           &others);
	ck_assert_str_eq(got, "");
}
END_TEST

START_TEST(test_row)
{
	char st[6];
	json_object *r, *row = NULL, *steps, *s;
	const char *after = tdb_fmt("%lld", fixture_id(1) - 1);

	tdb_follow_catch_up();
	r = export_page("ta.super", "2025-03-01", "2025-04-01", after, "1", st);
	ck_assert_ptr_nonnull(r);
	row = json_object_array_get_idx(get(r, "rows"), 0);
	ck_assert_int_eq(json_object_get_int64(get(row, "id")), fixture_id(1));
	ck_assert_str_eq(json_object_get_string(get(row, "state")), "closed");
	ck_assert_str_eq(json_object_get_string(get(row, "street")), "ta-street1");
	ck_assert_str_eq(json_object_get_string(get(row, "department")), "ta-dept-a");
	ck_assert_str_eq(json_object_get_string(get(row, "department_name")), "考核甲局");
	ck_assert_str_eq(json_object_get_string(get(row, "street_name")), "考核一街道");
	ck_assert_str_eq(json_object_get_string(get(row, "reported_at")),
	                 "2025-03-03T09:00:00+08:00");
	ck_assert_str_eq(json_object_get_string(get(row, "closed_at")),
	                 "2025-03-04T10:00:00+08:00");
	ck_assert_str_eq(json_object_get_string(get(row, "close_kind")), "confirmed");
	ck_assert_int_eq(json_object_get_int(get(row, "rating")), 5);
	ck_assert(!json_object_get_boolean(get(row, "overdue")));
	/* every step, in order, with who ended it and its deadline */
	steps = get(row, "steps");
	ck_assert_int_eq(json_object_array_length(steps), 4);
	s = json_object_array_get_idx(steps, 1);
	ck_assert_str_eq(json_object_get_string(get(s, "kind")), "accept");
	ck_assert_str_eq(json_object_get_string(get(s, "department")), "ta-dept-a");
	ck_assert_str_eq(json_object_get_string(get(s, "started_at")), "2025-03-03T09:30:00+08:00");
	ck_assert_str_eq(json_object_get_string(get(s, "deadline")), "2025-03-03T11:30:00+08:00");
	ck_assert_str_eq(json_object_get_string(get(s, "ended_at")), "2025-03-03T10:00:00+08:00");
	ck_assert_str_eq(json_object_get_string(get(s, "actor")), "ta.dept.a");
	ck_assert(json_object_get_boolean(get(s, "met")));
	s = json_object_array_get_idx(steps, 3);
	ck_assert_str_eq(json_object_get_string(get(s, "kind")), "feedback");
	ck_assert_str_eq(json_object_get_string(get(s, "actor")), "ta.street1");
	json_object_put(r);

	/* T7: its accept step is open and overdue */
	r = export_page("ta.super", "2025-03-01", "2025-04-01", tdb_fmt("%lld", fixture_id(7) - 1),
	                "1", st);
	row = json_object_array_get_idx(get(r, "rows"), 0);
	ck_assert(json_object_get_boolean(get(row, "overdue")));
	steps = get(row, "steps");
	s = json_object_array_get_idx(steps, json_object_array_length(steps) - 1);
	ck_assert_str_eq(json_object_get_string(get(s, "kind")), "accept");
	ck_assert_ptr_null(get(s, "ended_at"));
	ck_assert(json_object_get_boolean(get(s, "overdue")));
	json_object_put(r);
}
END_TEST

START_TEST(test_bad_input)
{
	char st[6];

	ck_assert_ptr_null(export_page("ta.super", "2025-04-01", "2025-03-01", NULL, NULL, st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(export_page("ta.super", "2025-02-30", "2025-03-01", NULL, NULL, st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(export_page("ta.super", "2024-01-01", "2025-03-01", NULL, NULL, st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(export_page("ta.super", "2025-03-01", "2025-04-01", NULL, "0", st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(export_page("ta.super", "2025-03-01", "2025-04-01", "-1", NULL, st));
	ck_assert_str_eq(st, "SD400");
	/* a window that ends where it starts, or before */
	ck_assert_ptr_null(
	        export_window("ta.super", "2025-03-01", "2025-04-01", "5", NULL, "5", st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(
	        export_window("ta.super", "2025-03-01", "2025-04-01", NULL, NULL, "0", st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(export_page("wang.fang", "2025-03-01", "2025-04-01", NULL, NULL, st));
	ck_assert_str_eq(st, "SD403");
	ck_assert_ptr_null(export_page("admin", "2025-03-01", "2025-04-01", NULL, NULL, st));
	ck_assert_str_eq(st, "SD403");
	ck_assert_ptr_null(bulletin("ta.super", "2025-03-01", "2025-03-01", st));
	ck_assert_str_eq(st, "SD400");
	ck_assert_ptr_null(bulletin("wang.fang", "2025-03-01", "2025-04-01", st));
	ck_assert_str_eq(st, "SD403");
}
END_TEST

/* The ids of a page's rows, appended to out as " <id>", each checked to be
 * in (after, upto]; the page's "next" (0: null). */
static long long page_ids(json_object *page, long long after, long long upto, char *out,
                          size_t outlen)
{
	json_object *rows = get(page, "rows"), *next = get(page, "next");

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		long long id = json_object_get_int64(get(json_object_array_get_idx(rows, i), "id"));

		ck_assert_int_gt(id, after);
		ck_assert_int_le(id, upto);
		snprintf(out + strlen(out), outlen - strlen(out), " %lld", id);
	}
	return next ? json_object_get_int64(next) : 0;
}

/* Windows (docs/protocol.md, "export"): the first page by cursor names the
 * next ticket and the end (the largest id of a ticket reported before the
 * period's end); windows of
 * width ids from there, each read by cursor within it while its pages are
 * cut, then the next window from the end of this one, give the one-page export's rows in order,
 * none skipped or repeated, for windows narrower and wider than a page and pages of one row. */
START_TEST(test_windows)
{
	static const struct {
		const char *limit;
		long long width;
	} runs[] = { { "1000", 1 }, { "1000", 3 }, { "2", 5 }, { "1", 40 }, { "3", 1000000 } };
	char st[6], all[4096] = "";
	json_object *one = export_page("ta.super", "2025-01-01", "2025-06-01", NULL, "1000", st);
	long long end, max_id;

	tdb_follow_catch_up();
	ck_assert_ptr_nonnull(one);
	(void)page_ids(one, 0, INT64_MAX, all, sizeof all);
	ck_assert_ptr_null(get(one, "next"));
	end = json_object_get_int64(get(one, "end"));
	max_id = tdb_int(db,
	                 "SELECT max(ticket_id) FROM street.assess_export"
	                 " WHERE created_at < '2025-06-01 00:00+08'",
	                 0, NULL);
	ck_assert_int_eq(end, max_id);
	json_object_put(one);
	ck_assert_int_gt((long long)strlen(all), 20);

	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		char got[4096] = "";
		json_object *first = export_page("ta.super", "2025-01-01", "2025-06-01", NULL,
		                                 runs[r].limit, st);
		long long cur = page_ids(first, 0, INT64_MAX, got, sizeof got);
		int pages = 1;

		json_object_put(first);
		while (cur != 0 && cur < end) {
			long long upto = cur + runs[r].width < end ? cur + runs[r].width : end;
			long long a = cur, next;

			do {
				json_object *pg = export_window(
				        "ta.super", "2025-01-01", "2025-06-01", tdb_fmt("%lld", a),
				        runs[r].limit, tdb_fmt("%lld", upto), st);

				ck_assert_msg(pg != NULL, "window (%lld, %lld]: %s", a, upto, st);
				ck_assert_ptr_null(get(pg, "end")); /* the first page's only */
				next = page_ids(pg, a, upto, got, sizeof got);
				json_object_put(pg);
				ck_assert_int_lt(next, upto); /* cut inside the window, or done */
				a = next;
				ck_assert_int_lt(++pages, 100000);
			} while (next != 0);
			cur = upto;
		}
		ck_assert_msg(strcmp(got, all) == 0, "limit %s width %lld:\n%s\nnot\n%s",
		              runs[r].limit, runs[r].width, got, all);
	}
}
END_TEST

/* ---- the rows the follower keeps (assess_export) ---- */

/* Runs a statement on c that must succeed. */
static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	              "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* After the follower caught up, ticket's kept row is its fresh build, in
 * every column, and shows state. */
static void check_kept(PGconn *admin, long long ticket, const char *state)
{
	const char *p[] = { tdb_fmt("%lld", ticket) };
	char *got;

	tdb_follow_catch_up();
	ck_assert_int_eq(
	        tdb_int(admin,
	                "SELECT count(*) FROM street.assess_export x"
	                " JOIN street.st_export_build(ARRAY[$1::bigint]) b USING (ticket_id)"
	                " WHERE x.row_json::text = b.row_json::text"
	                " AND x.department_ids = b.department_ids AND x.created_at = b.created_at"
	                " AND x.ended_at IS NOT DISTINCT FROM b.ended_at"
	                " AND (x.district_id, x.street_id, x.category_id)"
	                " = (b.district_id, b.street_id, b.category_id)",
	                1, p),
	        1);
	got = tdb_str(admin, "SELECT row_json->>1 FROM street.assess_export WHERE ticket_id = $1",
	              1, p);
	ck_assert_str_eq(got, state);
	free(got);
}

/* One action that must succeed; returns its outcome. */
static struct tdb_outcome must_call(const char *func, int n, const char *const *p)
{
	struct tdb_outcome o;

	tdb_call(db, func, n, p, &o);
	ck_assert_msg(o.ok, "%s failed: %s %s", func, o.sqlstate, o.message);
	return o;
}

START_TEST(test_kept_row_follows_every_step)
{
	PGconn *admin = tdb_connect(true);
	/* tdb_fmt's buffers rotate: these are kept across many calls */
	char street[16], reporter[16], sthj_staff[16], cgj_staff[16], super[16];
	char t[32], v[16], rseq[32];
	struct tdb_outcome o;

	snprintf(street, sizeof street, "%d", tdb_account(db, "zhang.wei"));
	snprintf(reporter, sizeof reporter, "%d", tdb_account(db, "wang.fang"));
	snprintf(sthj_staff, sizeof sthj_staff, "%d", tdb_account(db, "yang.min"));
	snprintf(cgj_staff, sizeof cgj_staff, "%d", tdb_account(db, "chen.jing"));
	snprintf(super, sizeof super, "%d", tdb_account(db, "sun.li"));
#define V() (snprintf(v, sizeof v, "%d", o.version), v)
	{
		const char *p[] = { reporter,
			            tdb_fmt("%d", tdb_category(db, "pollution.dust")),
			            tdb_fmt("%d", tdb_grid(db, "jg-yanan-02")),
			            "export kept row",
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL,
			            NULL };
		o = must_call("st_report", 11, p);
	}
	snprintf(t, sizeof t, "%lld", o.ticket);
	check_kept(admin, o.ticket, "reported");
	o = must_call("st_dispatch", 6, (const char *[]){ street, t, V(), NULL, NULL, NULL });
	check_kept(admin, o.ticket, "dispatched");
	o = must_call("st_return", 6,
	              (const char *[]){ sthj_staff, t, V(), "不属于本部门职责",
	                                tdb_fmt("%d", tdb_department(db, "cgj")), NULL });
	snprintf(rseq, sizeof rseq, "%lld", o.seq);
	check_kept(admin, o.ticket, "reported");
	o = must_call("st_arbitrate", 8,
	              (const char *[]){ super, t, rseq, "true", "退单合理", V(), NULL, NULL });
	check_kept(admin, o.ticket, "dispatched");
	o = must_call("st_accept", 4, (const char *[]){ cgj_staff, t, V(), NULL });
	check_kept(admin, o.ticket, "accepted");
	o = must_call(
	        "st_extend_request", 6,
	        (const char *[]){ cgj_staff, t, "2099-01-01 00:00+08", "需要采购材料", V(), NULL });
	check_kept(admin, o.ticket, "accepted");
	o = must_call("st_extend_grant", 5, (const char *[]){ super, t, "同意", V(), NULL });
	check_kept(admin, o.ticket, "accepted");
	o = must_call("st_urge", 5, (const char *[]){ street, t, "请尽快办理", V(), NULL });
	check_kept(admin, o.ticket, "accepted");
	o = must_call("st_resolve", 6, (const char *[]){ cgj_staff, t, V(), "已整改", NULL, NULL });
	check_kept(admin, o.ticket, "resolved");
	o = must_call("st_reopen", 5, (const char *[]){ reporter, t, V(), "问题仍然存在", NULL });
	check_kept(admin, o.ticket, "accepted");
	o = must_call("st_resolve", 6, (const char *[]){ cgj_staff, t, V(), "已整改", NULL, NULL });
	check_kept(admin, o.ticket, "resolved");
	o = must_call("st_confirm", 6, (const char *[]){ reporter, t, V(), "4", "满意", NULL });
	check_kept(admin, o.ticket, "closed");
#undef V
	/* both departments that held a step have it in their scope; the row's
	 * counts, its steps and who ended the last */
	ck_assert_int_eq(
	        tdb_int(admin,
	                "SELECT count(*) FROM street.assess_export WHERE ticket_id = $1"
	                " AND department_ids @> ARRAY[$2::int, $3::int]"
	                " AND (row_json->>12, row_json->>13, row_json->>14) = ('1', '1', '1')"
	                " AND json_array_length(row_json->16) = 8"
	                " AND row_json->16->7->>6 = 'wang.fang'",
	                3,
	                (const char *[]){ t, tdb_fmt("%d", tdb_department(db, "sthj")),
	                                  tdb_fmt("%d", tdb_department(db, "cgj")) }),
	        1);
	PQfinish(admin);
}
END_TEST

/* A page cut by its bytes (st_export_page_bytes), not its limit: shrunk
 * for the test, inside a transaction rolled back, to a little more than two
 * of the fixture's rows.  Each page holds at least one row and no more rows
 * than fit, and the pages' rows are the one-page export's, in order, none
 * skipped or repeated. */
START_TEST(test_page_bytes)
{
	PGconn *admin = tdb_connect(true);
	const char *acct = tdb_fmt("%d", tdb_account(db, "ta.super"));
	char *all, *paged;
	int budget;

	tdb_follow_catch_up();
	exec_ok(admin, "BEGIN");
	all = tdb_str(admin,
	              "SELECT string_agg(r::text, ',' ORDER BY n) FROM json_array_elements("
	              "(street.st_export($1, '2025-03-01', '2025-04-01', NULL, 1000))->'rows')"
	              " WITH ORDINALITY AS x (r, n)",
	              1, (const char *const[]){ acct });
	ck_assert_ptr_nonnull(all);
	/* two and a half of the first rows */
	budget = (int)tdb_int(admin,
	                      "SELECT (octet_length(((street.st_export($1, '2025-03-01',"
	                      " '2025-04-01', NULL, 1000))->'rows'->0)::text) + 1) * 5 / 2",
	                      1, (const char *const[]){ acct });
	exec_ok(admin, tdb_fmt("CREATE OR REPLACE FUNCTION street.st_export_page_bytes()"
	                       " RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT %d'",
	                       budget));
	exec_ok(admin, "CREATE TEMP TABLE pages (n serial, p json)");
	exec_ok(admin, "DO $$ DECLARE a bigint; p json; BEGIN LOOP"
	               " p := street.st_export((SELECT id FROM street.account"
	               " WHERE login = 'ta.super'), '2025-03-01', '2025-04-01', a, 1000);"
	               " INSERT INTO pages (p) VALUES (p);"
	               " EXIT WHEN p->>'next' IS NULL OR (SELECT count(*) FROM pages) > 100;"
	               " a := (p->>'next')::bigint; END LOOP; END $$");
	/* more than one page, each of one row at least and within the budget but
	 * for a page of one row */
	ck_assert_int_gt(tdb_int(admin, "SELECT count(*) FROM pages", 0, NULL), 1);
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT count(*) FROM pages WHERE json_array_length(p->'rows') = 0"
	                         " OR (json_array_length(p->'rows') > 1 AND (SELECT sum("
	                         "octet_length(r::text) + 1) FROM json_array_elements(p->'rows')"
	                         " r) > $1::int)",
	                         1, (const char *const[]){ tdb_fmt("%d", budget) }),
	                 0);
	/* a page ends before the row that would not fit: the next one's first
	 * row would have passed the budget */
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT count(*) FROM pages a JOIN pages b ON b.n = a.n + 1"
	                         " WHERE (SELECT sum(octet_length(r::text) + 1) FROM"
	                         " json_array_elements(a.p->'rows') r) + octet_length("
	                         "(b.p->'rows'->0)::text) + 1 <= $1::int",
	                         1, (const char *const[]){ tdb_fmt("%d", budget) }),
	                 0);
	paged = tdb_str(admin,
	                "SELECT string_agg(r::text, ',' ORDER BY pages.n, x.k) FROM pages,"
	                " json_array_elements(p->'rows') WITH ORDINALITY AS x (r, k)",
	                0, NULL);
	ck_assert_ptr_nonnull(paged);
	ck_assert_str_eq(paged, all);
	free(all);
	free(paged);
	exec_ok(admin, "ROLLBACK");
	PQfinish(admin);
}
END_TEST

START_TEST(test_renamed_unit)
{
	PGconn *admin = tdb_connect(true);
	const char *p[] = { tdb_fmt("%d", tdb_account(db, "ta.super")),
		            tdb_fmt("%lld", fixture_id(1) - 1) };
	char *name;

	tdb_follow_catch_up();
	exec_ok(admin, "BEGIN");
	exec_ok(admin,
	        "UPDATE street.department SET name = '考核甲局（新）' WHERE code = 'ta-dept-a'");
	exec_ok(admin,
	        "UPDATE street.street SET name = '考核一街道（新）' WHERE code = 'ta-street1'");
	/* the kept row has codes only: the page names them as they are now */
	name = tdb_str(admin,
	               "SELECT (p->'names'->'department'->>'ta-dept-a') || ' '"
	               " || (p->'names'->'street'->>'ta-street1') || ' ' || (p->'rows'->0->>3)"
	               " FROM street.st_export($1, '2025-03-01', '2025-04-01', $2, 1) p",
	               2, p);
	ck_assert_str_eq(name, "考核甲局（新） 考核一街道（新） ta.cat");
	free(name);
	exec_ok(admin, "ROLLBACK");
	PQfinish(admin);
}
END_TEST

/* The backfill of migration 019 (st_export_backfill, a batch per st_follow)
 * builds the rows the follower keeps; export refuses until it is done. */
START_TEST(test_backfill)
{
	PGconn *admin = tdb_connect(true);
	const char *p[] = { tdb_fmt("%d", tdb_account(db, "ta.super")) };
	PGresult *r;
	int rounds = 0;

	tdb_follow_catch_up();
	exec_ok(admin, "BEGIN");
	/* no fold meanwhile (other suites' catch-ups wait for the rollback) */
	exec_ok(admin, "SELECT pg_advisory_xact_lock(hashtext('streetd.rollup'))");
	exec_ok(admin, "CREATE TEMP TABLE kept AS SELECT * FROM street.assess_export");
	exec_ok(admin, "DELETE FROM street.assess_export");
	exec_ok(admin, "UPDATE street.assess_export_fill"
	               " SET position = 0, upto = (SELECT max(id) FROM street.ticket)");
	exec_ok(admin, "SAVEPOINT s");
	r = tdb_query(admin, "SELECT street.st_export($1, '2025-03-01', '2025-04-01')", 1, p);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "SD412");
	PQclear(r);
	exec_ok(admin, "ROLLBACK TO SAVEPOINT s");
	while (tdb_int(admin, "SELECT street.st_export_backfill(7)", 0, NULL) > 0)
		ck_assert_int_lt(++rounds, 100000);
	ck_assert_int_gt(rounds, 1);
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT count(*) FROM street.assess_export_fill"
	                         " WHERE position = upto",
	                         0, NULL),
	                 1);
	/* the fixture's tickets (no other suite acts on them): the same rows */
	ck_assert_int_ge(tdb_int(admin,
	                         "SELECT count(*) FROM kept k JOIN street.district d"
	                         " ON d.id = k.district_id AND d.code = 'ta-district'",
	                         0, NULL),
	                 24);
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT count(*) FROM kept k"
	                         " FULL JOIN street.assess_export x USING (ticket_id)"
	                         " WHERE coalesce(k.district_id, x.district_id)"
	                         " = (SELECT id FROM street.district WHERE code = 'ta-district')"
	                         " AND (k.ticket_id IS NULL OR x.ticket_id IS NULL"
	                         " OR k.row_json::text <> x.row_json::text"
	                         " OR k.department_ids <> x.department_ids"
	                         " OR k.created_at <> x.created_at"
	                         " OR k.ended_at IS DISTINCT FROM x.ended_at)",
	                         0, NULL),
	                 0);
	exec_ok(admin, "ROLLBACK");
	PQfinish(admin);
}
END_TEST

/* The overdue list as "T<n> kind" items. */
static void overdue_list(json_object *b, char *out, size_t outlen)
{
	json_object *t = get(get(b, "overdue"), "tickets");

	out[0] = 0;
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		json_object *o = json_object_array_get_idx(t, i);
		long long id = json_object_get_int64(get(o, "ticket"));
		int n = 0;

		for (int k = 1; k <= 9; k++)
			if (fixture_id(k) == id)
				n = k;
		snprintf(out + strlen(out), outlen - strlen(out), "%sT%d %s", out[0] ? ", " : "", n,
		         json_object_get_string(get(o, "kind")));
	}
}

/* A bulletin's section equals what stats/ranking answer on their own. */
static void check_same(json_object *b, const char *key, const char *sql, const char *login,
                       const char *group)
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), group };
	char st[6];
	json_object *want = call(sql, 2, p, st);

	ck_assert_ptr_nonnull(want);
	ck_assert_msg(json_object_equal(get(b, key), want), "%s: %s differs from %s", login, key,
	              json_object_to_json_string(want));
	json_object_put(want);
}

START_TEST(test_bulletin)
{
	char st[6], got[512];
	json_object *b;

	tdb_follow_catch_up();
	b = bulletin("ta.super", "2025-03-01", "2025-04-01", st);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(json_object_get_string(get(b, "from")), "2025-03-01");
	ck_assert_int_eq(json_object_get_int(get(get(b, "overdue"), "count")), 6);
	overdue_list(b, got, sizeof got);
	ck_assert_str_eq(got,
	                 "T2 dispatch, T2 accept, T3 dispatch, T4 accept, T4 resolve, T7 accept");
	/* the sections are stats' and ranking's own answers */
	check_same(b, "department_ranking",
	           "SELECT street.st_ranking($1, '2025-03-01', '2025-04-01', $2)", "ta.super",
	           "department");
	check_same(b, "street_ranking",
	           "SELECT street.st_ranking($1, '2025-03-01', '2025-04-01', $2)", "ta.super",
	           "street");
	{
		const char *p[] = { tdb_fmt("%d", tdb_account(db, "ta.super")) };
		json_object *s =
		        call("SELECT street.st_stats($1, '2025-03-01', '2025-04-01', 'department')",
		             1, p, st);
		json_object *rows = get(s, "rows"), *deps = get(b, "departments");

		ck_assert_ptr_null(get(s, "next"));
		ck_assert_int_eq(json_object_array_length(deps), json_object_array_length(rows));
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			json_object *w = json_object_array_get_idx(rows, i);
			json_object *g = json_object_array_get_idx(deps, i);

			ck_assert(json_object_equal(get(w, "unit"), get(g, "unit")));
			ck_assert(json_object_equal(get(w, "dispatched"), get(g, "dispatched")));
			ck_assert(json_object_equal(get(w, "response_rate"),
			                            get(g, "response_rate")));
			ck_assert(json_object_equal(get(w, "satisfaction_rate"),
			                            get(g, "satisfaction_rate")));
		}
		json_object_put(s);
	}
	ck_assert_int_eq(json_object_array_length(get(b, "streets")), 2);
	json_object_put(b);

	/* a department: its own overdue steps, no street ranking */
	b = bulletin("ta.dept.a", "2025-03-01", "2025-04-01", st);
	ck_assert_ptr_nonnull(b);
	overdue_list(b, got, sizeof got);
	ck_assert_str_eq(got, "T2 accept, T7 accept");
	ck_assert_ptr_null(get(b, "street_ranking"));
	ck_assert_int_eq(json_object_array_length(get(b, "departments")), 1);
	json_object_put(b);
	b = bulletin("ta.dept.b", "2025-03-01", "2025-04-01", st);
	overdue_list(b, got, sizeof got);
	ck_assert_str_eq(got, "T4 accept, T4 resolve");
	json_object_put(b);
	b = bulletin("ta.street2", "2025-03-01", "2025-04-01", st);
	ck_assert_int_eq(json_object_get_int(get(get(b, "overdue"), "count")), 0);
	json_object_put(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("export");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scope_and_paging);
	tcase_add_test(tc, test_row);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_windows);
	tcase_add_test(tc, test_bulletin);
	tcase_add_test(tc, test_kept_row_follows_every_step);
	tcase_add_test(tc, test_renamed_unit);
	tcase_add_test(tc, test_page_bytes);
	tcase_add_test(tc, test_backfill);
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
