/*
 * Streets score departments (issue 13 §2) through the real daemon: the ops
 * criteria, score_set, score_get and period_lock, their refusals (each
 * checked to have written nothing: no score, no audit event), the scope of
 * score_get per role, the upsert and its audit rows, the lock and what it
 * refuses afterwards (in the functions and in the tables' triggers), and
 * paging.
 *
 * Other suites share the database and act now, so every test works in a
 * period of its own: [today - k, today + 1) for a k no other test uses
 * (today in Asia/Shanghai), which holds the dispatches the test makes.
 * Counts are always taken within that period.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdaemon.h"
#include "tdb.h"

static int category, grid_jg, grid_bn, grid_other;
static int cgj, sthj, none_dept;
static int street_jg, street_bn, street_other;

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
	grid_jg = tdb_grid(db, "jg-yanan-02");
	grid_bn = tdb_grid(db, "bn-beijingnan-01");
	grid_other = tdb_grid(db, "t-other-01");
	cgj = tdb_department(db, "cgj");
	sthj = tdb_department(db, "sthj");
	street_jg = (int)tdb_int(db, "SELECT id FROM street WHERE code = 'jianguolu'", 0, NULL);
	street_bn = (int)tdb_int(db, "SELECT id FROM street WHERE code = 'beijingnanlu'", 0, NULL);
	street_other = (int)tdb_int(db, "SELECT id FROM street WHERE code = 't-other-st'", 0, NULL);
	PQfinish(db);
	/* a department no ticket ever goes to (inactive: nothing routes there) */
	admin_sql("WITH i AS (INSERT INTO street.department (code, name, name_en, active)"
	          " VALUES ('t-scores-none', '测试无关部门', 'Test department nobody sends to',"
	          " false) ON CONFLICT (code) DO NOTHING RETURNING 1) SELECT count(*) FROM i");
	db = tdb_connect(false);
	none_dept = tdb_department(db, "t-scores-none");
	PQfinish(db);
}

/* "YYYY-MM-DD" of today + off in Asia/Shanghai, in one of 8 rotating buffers. */
static const char *day(int off)
{
	static char bufs[8][16];
	static int next;
	PGconn *db = tdb_connect(false);
	const char *p[] = { tdb_fmt("%d", off) };
	char *s = tdb_str(db,
	                  "SELECT to_char((now() AT TIME ZONE INTERVAL '+08:00')::date + $1::int,"
	                  " 'YYYY-MM-DD')",
	                  1, p);
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s", s);
	free(s);
	PQfinish(db);
	return b;
}

/* The test's period: [today - k, today + 1). */
struct period {
	char from[16], to[16];
};

static struct period period_of(int k)
{
	struct period p;

	snprintf(p.from, sizeof(p.from), "%s", day(-k));
	snprintf(p.to, sizeof(p.to), "%s", day(1));
	return p;
}

/* Scores and audit events of the period (to check that a refusal wrote nothing). */
static long long count_period(const struct period *p, const char *table)
{
	PGconn *db = tdb_connect(true);
	const char *params[] = { p->from, p->to };
	char sql[256];
	long long n;

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM street.%s WHERE period_from = $1::date"
	         " AND period_to = $2::date",
	         table);
	n = tdb_int(db, sql, 2, params);
	PQfinish(db);
	return n;
}

/* A ticket reported by reporter in grid, dispatched by street to dept. */
static void dispatch_one(struct tdaemon *d, const char *reporter, const char *street, int grid,
                         int dept)
{
	struct tclient *r = tclient_connect(d, reporter);
	struct tclient *s = tclient_connect(d, street);
	long long ticket = tj_ticket_id(tclient_ok(r,
	                                           "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
	                                           "\"description\":\"scores: a dispatch\"}",
	                                           category, grid));

	tclient_ok(s, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"department\":%d}",
	           ticket, dept);
	tclient_close(r);
	tclient_close(s);
}

static json_object *set_score(struct tclient *c, const struct period *p, int dept, const char *crit,
                              const char *score)
{
	return tclient_call(c,
	                    "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	                    "\"criterion\":\"%s\",\"score\":%s}",
	                    p->from, p->to, dept, crit, score);
}

START_TEST(criteria_are_data_with_shares)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "chen.jing");
	json_object *r = tclient_ok(c, "{\"op\":\"criteria\"}");
	PGconn *db = tdb_connect(false);
	double shares = 0;

	ck_assert_int_eq((long long)tj_len(r, "result.criteria"),
	                 tdb_int(db, "SELECT count(*) FROM score_criterion WHERE active", 0, NULL));
	ck_assert_str_eq(tj_str(r, "result.criteria.0.code"), "response");
	ck_assert_str_eq(tj_str(r, "result.criteria.0.name"), "响应速度");
	for (size_t i = 0; i < tj_len(r, "result.criteria"); i++) {
		char path[64];

		snprintf(path, sizeof(path), "result.criteria.%zu.share", i);
		shares += json_object_get_double(tj_get(r, path));
	}
	ck_assert_double_eq_tol(shares, 1.0, 0.001);
	PQfinish(db);
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(set_upserts_and_audits_every_change)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = period_of(20);
	struct tclient *zw;
	PGconn *db = tdb_connect(false);
	const char *params[] = { p.from, p.to };
	json_object *r;
	char *s;

	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, cgj);
	zw = tclient_connect(d, "zhang.wei");
	/* start from a clean slate for this period (a re-run on the same cluster) */
	ck_assert_int_eq(count_period(&p, "assessment_score"), 0);

	r = tclient_ok(zw,
	               "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	               "\"criterion\":\"response\",\"score\":92.5,\"comment\":\"  接单及时  \"}",
	               p.from, p.to, cgj);
	ck_assert(tj_bool(r, "result.changed"));
	ck_assert_int_gt(tj_int(r, "result.seq"), 0);
	ck_assert_double_eq_tol(json_object_get_double(tj_get(r, "result.score.score")), 92.5,
	                        1e-9);
	ck_assert_str_eq(tj_str(r, "result.score.comment"), "接单及时");
	ck_assert_str_eq(tj_str(r, "result.score.criterion"), "response");
	ck_assert_str_eq(tj_str(r, "result.score.set_by.login"), "zhang.wei");
	ck_assert_int_eq(tj_int(r, "result.score.street_id"), street_jg);
	ck_assert_int_eq(count_period(&p, "assessment_score"), 1);
	ck_assert_int_eq(count_period(&p, "assessment_event"), 1);
	s = tdb_str(db,
	            "SELECT data::text FROM assessment_event WHERE period_from = $1::date"
	            " AND period_to = $2::date AND action = 'score_set'",
	            2, params);
	ck_assert_msg(strstr(s, "\"old_score\": null") && strstr(s, "\"new_score\": 92.50") &&
	                      strstr(s, "\"criterion\": \"response\""),
	              "%s", s);
	free(s);

	/* the same again: nothing changes, nothing is appended */
	r = tclient_ok(zw,
	               "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	               "\"criterion\":\"response\",\"score\":92.50,\"comment\":\"接单及时\"}",
	               p.from, p.to, cgj);
	ck_assert(!tj_bool(r, "result.changed"));
	ck_assert(tj_is_null(r, "result.seq"));
	ck_assert_int_eq(count_period(&p, "assessment_event"), 1);

	/* a change: one row still, a second event with the old and new score */
	ck_assert_reply_ok(set_score(zw, &p, cgj, "response", "88.35"));
	ck_assert_int_eq(count_period(&p, "assessment_score"), 1);
	ck_assert_int_eq(count_period(&p, "assessment_event"), 2);
	s = tdb_str(db,
	            "SELECT score::text || '|' || comment FROM assessment_score"
	            " WHERE period_from = $1::date AND period_to = $2::date",
	            2, params);
	ck_assert_str_eq(s, "88.35|");
	free(s);
	s = tdb_str(db,
	            "SELECT (data->>'old_score') || '>' || (data->>'new_score') || '|' ||"
	            " (data->>'old_comment') FROM assessment_event WHERE period_from = $1::date"
	            " AND period_to = $2::date ORDER BY seq DESC LIMIT 1",
	            2, params);
	ck_assert_str_eq(s, "92.50>88.35|接单及时");
	free(s);

	/* another criterion is another row; the edges 0 and 100 are scores */
	ck_assert_reply_ok(set_score(zw, &p, cgj, "attitude", "0"));
	ck_assert_reply_ok(set_score(zw, &p, cgj, "delivery", "100"));
	ck_assert_int_eq(count_period(&p, "assessment_score"), 3);
	ck_assert_int_eq(count_period(&p, "assessment_event"), 4);

	PQfinish(db);
	tclient_close(zw);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* Sends a score_set line, expects `code`, and checks the period has no new row or event. */
static void refused(struct tclient *c, const struct period *p, const char *code, const char *line)
{
	long long scores = count_period(p, "assessment_score");
	long long events = count_period(p, "assessment_event");
	json_object *r = tclient_call(c, "%s", line);

	ck_assert_msg(tj_code(r) != NULL && strcmp(tj_code(r), code) == 0,
	              "%s: expected %s, got %s", line, code, tj_dump(r));
	ck_assert_int_eq(count_period(p, "assessment_score"), scores);
	ck_assert_int_eq(count_period(p, "assessment_event"), events);
}

START_TEST(refusals_write_nothing)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = period_of(21);
	struct tclient *zw, *other;
	const char *not_street[] = { "wang.fang", "chen.jing", "sun.li", "ma.jun", "admin" };
	char line[512];

	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, cgj);
	zw = tclient_connect(d, "zhang.wei");
	/* one score there, so that "nothing changed" is about a real row */
	ck_assert_reply_ok(set_score(zw, &p, cgj, "response", "90"));

	for (size_t i = 0; i < sizeof(not_street) / sizeof(not_street[0]); i++) {
		other = tclient_connect(d, not_street[i]);
		snprintf(line, sizeof(line),
		         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
		         "\"criterion\":\"response\",\"score\":10}",
		         p.from, p.to, cgj);
		refused(other, &p, "forbidden", line);
		tclient_close(other);
	}
	/* bad periods */
	{
		const char *bad[][2] = {
			{ "2026-11-01", "2026-11-01" }, /* empty */
			{ "2026-12-01", "2026-11-01" }, /* backwards */
			{ "2026-02-29", "2026-03-01" }, /* not a date */
			{ "2026-01-01", "2027-01-03" }, /* 367 days */
			{ "2026/11/01", "2026-12-01" }, /* not the format */
			{ "2026-11-1", "2026-12-01" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(line, sizeof(line),
			         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\","
			         "\"department\":%d,\"criterion\":\"response\",\"score\":10}",
			         bad[i][0], bad[i][1], cgj);
			refused(zw, &p, "bad_request", line);
		}
	}
	/* unknown department and criterion, out of range, too many decimals */
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":999999,"
	         "\"criterion\":\"response\",\"score\":10}",
	         p.from, p.to);
	refused(zw, &p, "bad_request", line);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"speed\",\"score\":10}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_request", line);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"response\",\"score\":100.5}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_request", line);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"response\",\"score\":-0.5}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_request", line);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"response\",\"score\":90.125}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_request", line);
	/* no relation: a department none of the street's tickets went to in the
	 * period, and cgj in a period before any ticket */
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"response\",\"score\":10}",
	         p.from, p.to, none_dept);
	refused(zw, &p, "forbidden", line);
	{
		struct period old = { "2020-01-01", "2020-02-01" };

		snprintf(line, sizeof(line),
		         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
		         "\"criterion\":\"response\",\"score\":10}",
		         old.from, old.to, cgj);
		refused(zw, &old, "forbidden", line);
	}
	/* the row set first is as it was */
	{
		PGconn *db = tdb_connect(false);
		const char *params[] = { p.from, p.to };
		char *s = tdb_str(db,
		                  "SELECT string_agg(score::text, ',') FROM assessment_score"
		                  " WHERE period_from = $1::date AND period_to = $2::date",
		                  2, params);

		ck_assert_str_eq(s, "90.00");
		free(s);
		PQfinish(db);
	}
	tclient_close(zw);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* score_get's scores as "street/department/criterion" lines, in reply order. */
static void seen(json_object *r, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tj_len(r, "result.scores") && o < cap; i++) {
		json_object *s = json_object_array_get_idx(tj_get(r, "result.scores"), i);

		o += (size_t)snprintf(buf + o, cap - o, "%s%lld/%lld/%s", i ? " " : "",
		                      tj_int(s, "street_id"), tj_int(s, "department_id"),
		                      tj_str(s, "criterion"));
	}
}

static void expect_seen(struct tdaemon *d, const char *login, const struct period *p,
                        const char *want)
{
	struct tclient *c = tclient_connect(d, login);
	json_object *r = tclient_ok(c, "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}",
	                            p->from, p->to);
	char got[1024];

	seen(r, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s sees [%s], want [%s]", login, got, want);
	ck_assert(tj_is_null(r, "result.locked"));
	ck_assert(tj_is_null(r, "result.next"));
	ck_assert_str_eq(tj_str(r, "result.period.from"), p->from);
	tclient_close(c);
}

START_TEST(get_scope_per_role)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = period_of(22);
	struct tclient *zw, *ly, *so;
	char w_jg[64], w_all[256], w_cgj[128], w_sthj[128], w_changji[128], w_other[64];

	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, cgj);
	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, sthj);
	dispatch_one(d, "li.na", "liu.yang", grid_bn, sthj);
	dispatch_one(d, "t.collector.other", "t.street.other", grid_other, cgj);
	zw = tclient_connect(d, "zhang.wei");
	ly = tclient_connect(d, "liu.yang");
	so = tclient_connect(d, "t.street.other");
	ck_assert_reply_ok(set_score(zw, &p, cgj, "response", "91"));
	ck_assert_reply_ok(set_score(zw, &p, sthj, "delivery", "81"));
	ck_assert_reply_ok(set_score(ly, &p, sthj, "response", "71"));
	ck_assert_reply_ok(set_score(so, &p, cgj, "attitude", "61"));

	snprintf(w_jg, sizeof(w_jg), "%d/%d/response %d/%d/delivery", street_jg, cgj, street_jg,
	         sthj);
	snprintf(w_cgj, sizeof(w_cgj), "%d/%d/response %d/%d/attitude", street_jg, cgj,
	         street_other, cgj);
	snprintf(w_sthj, sizeof(w_sthj), "%d/%d/delivery %d/%d/response", street_jg, sthj,
	         street_bn, sthj);
	snprintf(w_changji, sizeof(w_changji), "%s %d/%d/response", w_jg, street_bn, sthj);
	snprintf(w_other, sizeof(w_other), "%d/%d/attitude", street_other, cgj);
	snprintf(w_all, sizeof(w_all), "%s %s", w_changji, w_other);
	expect_seen(d, "zhang.wei", &p, w_jg);
	expect_seen(d, "chen.jing", &p, w_cgj);
	expect_seen(d, "yang.min", &p, w_sthj);
	expect_seen(d, "sun.li", &p, w_changji);
	expect_seen(d, "t.supervisor.other", &p, w_other);
	expect_seen(d, "ma.jun", &p, w_all);

	/* filters within the scope narrow it; outside it they are refused */
	{
		struct tclient *c = tclient_connect(d, "ma.jun");
		json_object *r = tclient_ok(c,
		                            "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\","
		                            "\"department\":%d,\"street\":%d}",
		                            p.from, p.to, sthj, street_bn);
		char got[256];

		seen(r, got, sizeof(got));
		ck_assert_str_eq(got, tdb_fmt("%d/%d/response", street_bn, sthj));
		tclient_close(c);
	}
	tclient_err(zw, "forbidden",
	            "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"street\":%d}", p.from,
	            p.to, street_bn);
	{
		struct tclient *c = tclient_connect(d, "chen.jing");

		tclient_err(
		        c, "forbidden",
		        "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d}",
		        p.from, p.to, sthj);
		tclient_close(c);
		c = tclient_connect(d, "sun.li");
		tclient_err(c, "forbidden",
		            "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"street\":%d}",
		            p.from, p.to, street_other);
		tclient_err(
		        c, "bad_request",
		        "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"street\":999999}",
		        p.from, p.to);
		tclient_err(c, "bad_request",
		            "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}", p.to, p.from);
		tclient_err(
		        c, "bad_request",
		        "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"after\":\"x:y\"}",
		        p.from, p.to);
		tclient_close(c);
		c = tclient_connect(d, "wang.fang");
		tclient_err(c, "forbidden", "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}",
		            p.from, p.to);
		tclient_close(c);
		c = tclient_connect(d, "admin");
		tclient_err(c, "forbidden", "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}",
		            p.from, p.to);
		tclient_close(c);
	}
	tclient_close(zw);
	tclient_close(ly);
	tclient_close(so);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(lock_freezes_the_period)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = period_of(23);
	struct tclient *zw, *mj, *c;
	PGconn *admin = tdb_connect(true);
	const char *params[] = { p.from, p.to };
	const char *who[] = { "sun.li",    "t.supervisor.other", "zhang.wei",
		              "chen.jing", "wang.fang",          "admin" };
	char lock[256], line[512], *digest;
	json_object *r;
	PGresult *pr;

	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, cgj);
	zw = tclient_connect(d, "zhang.wei");
	mj = tclient_connect(d, "ma.jun");
	ck_assert_reply_ok(set_score(zw, &p, cgj, "response", "77"));
	ck_assert_reply_ok(set_score(zw, &p, cgj, "delivery", "66.5"));
	snprintf(lock, sizeof(lock), "{\"op\":\"period_lock\",\"from\":\"%s\",\"to\":\"%s\"}",
	         p.from, p.to);

	/* only a city-wide supervisor locks; a refusal writes no lock and no event */
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++) {
		c = tclient_connect(d, who[i]);
		tclient_err(c, "forbidden", "%s", lock);
		tclient_close(c);
	}
	tclient_err(mj, "bad_request", "{\"op\":\"period_lock\",\"from\":\"%s\",\"to\":\"%s\"}",
	            p.to, p.from);
	ck_assert_int_eq(count_period(&p, "assessment_lock"), 0);
	ck_assert_int_eq(count_period(&p, "assessment_event"), 2);

	r = tclient_ok(mj, "%s", lock);
	ck_assert_int_eq(tj_int(r, "result.scores"), 2);
	ck_assert_str_eq(tj_str(r, "result.locked.by.login"), "ma.jun");
	ck_assert_int_gt(tj_int(r, "result.seq"), 0);
	/* the digest is the one docs/assessment.md tells how to recompute */
	digest = tdb_str(admin,
	                 "SELECT encode(sha256(convert_to(string_agg(s.street_id || '|' ||"
	                 " s.department_id || '|' || c.code || '|' || s.score || '|' || s.comment,"
	                 " E'\\n' ORDER BY s.street_id, s.department_id, c.code), 'UTF8')), 'hex')"
	                 " FROM assessment_score s JOIN score_criterion c ON c.id = s.criterion_id"
	                 " WHERE s.period_from = $1::date AND s.period_to = $2::date",
	                 2, params);
	ck_assert_str_eq(tj_str(r, "result.scores_sha256"), digest);
	free(digest);
	ck_assert_int_eq(count_period(&p, "assessment_lock"), 1);
	ck_assert_int_eq(
	        tdb_int(admin,
	                "SELECT count(*) FROM assessment_event WHERE action = 'period_lock'"
	                " AND period_from = $1::date AND period_to = $2::date"
	                " AND (data->>'scores')::int = 2",
	                2, params),
	        1);
	/* and a signed checkpoint of the event log is requested (docs/audit.md) */
	ck_assert_int_eq(tdb_int(admin,
	                         "SELECT count(*) FROM checkpoint_request WHERE reason ="
	                         " format('period_lock %s..%s', $1::date, $2::date)",
	                         2, params),
	                 1);

	/* a second lock, and every change of the period's scores: bad_state, nothing written */
	tclient_err(mj, "bad_state", "%s", lock);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"response\",\"score\":99}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_state", line);
	snprintf(line, sizeof(line),
	         "{\"op\":\"score_set\",\"from\":\"%s\",\"to\":\"%s\",\"department\":%d,"
	         "\"criterion\":\"attitude\",\"score\":99}",
	         p.from, p.to, cgj);
	refused(zw, &p, "bad_state", line);
	ck_assert_int_eq(count_period(&p, "assessment_lock"), 1);
	r = tclient_ok(zw, "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}", p.from, p.to);
	ck_assert_str_eq(tj_str(r, "result.locked.by.login"), "ma.jun");
	ck_assert_double_eq_tol(json_object_get_double(tj_get(r, "result.scores.0.score")), 77,
	                        1e-9);
	/* a neighbouring period is not locked by it */
	{
		struct period q = period_of(24);

		ck_assert_reply_ok(set_score(zw, &q, cgj, "response", "99"));
	}

	/* the tables hold the lock too, even for the superuser (without disabling triggers) */
	pr = tdb_query(admin,
	               "UPDATE assessment_score SET score = 1 WHERE period_from = $1::date"
	               " AND period_to = $2::date",
	               2, params);
	ck_assert_str_eq(PQresultErrorField(pr, PG_DIAG_SQLSTATE) ?: "", "SD412");
	PQclear(pr);
	pr = tdb_query(admin,
	               "DELETE FROM assessment_score WHERE period_from = $1::date"
	               " AND period_to = $2::date",
	               2, params);
	ck_assert_str_eq(PQresultErrorField(pr, PG_DIAG_SQLSTATE) ?: "", "SD412");
	PQclear(pr);
	pr = tdb_query(admin,
	               "DELETE FROM assessment_lock WHERE period_from = $1::date"
	               " AND period_to = $2::date",
	               2, params);
	ck_assert_str_eq(PQresultErrorField(pr, PG_DIAG_SQLSTATE) ?: "", "SD412");
	PQclear(pr);
	ck_assert_int_eq(count_period(&p, "assessment_score"), 2);

	PQfinish(admin);
	tclient_close(zw);
	tclient_close(mj);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/*
 * A score_set whose transaction is still open when the lock comes: the lock
 * waits for it and counts it, so no score of a locked period is ever written
 * after its lock (both take the period's advisory lock).
 */
START_TEST(lock_waits_for_a_score_in_flight)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = period_of(25);
	PGconn *a = tdb_connect(false), *b = tdb_connect(false), *admin = tdb_connect(true);
	char street[16], mj[16], dept[16];
	const char *set[] = { street, p.from, p.to, dept };
	const char *lock[] = { mj, p.from, p.to };
	const char *bpid[1];
	char pidbuf[16];
	PGresult *r;
	long long waiting = 0;

	dispatch_one(d, "wang.fang", "zhang.wei", grid_jg, cgj);
	snprintf(street, sizeof(street), "%d", tdb_account(a, "zhang.wei"));
	snprintf(mj, sizeof(mj), "%d", tdb_account(a, "ma.jun"));
	snprintf(dept, sizeof(dept), "%d", cgj);
	snprintf(pidbuf, sizeof(pidbuf), "%d", PQbackendPID(b));
	bpid[0] = pidbuf;

	tdb_int(a, "BEGIN", 0, NULL);
	tdb_int(a, "SELECT 1 FROM street.st_score_set($1::int, $2, $3, $4::int, 'response', 55)", 4,
	        set);
	ck_assert_int_eq(PQsendQueryParams(b, "SELECT street.st_period_lock($1::int, $2, $3)::text",
	                                   3, NULL, lock, NULL, NULL, 0),
	                 1);
	/* the lock is waiting on the period's advisory lock (up to 10 s to get there) */
	for (long long until = tnow_ms() + 10000; tnow_ms() < until && !waiting;)
		waiting =
		        tdb_int(admin,
		                "SELECT count(*) FROM pg_locks WHERE pid = $1::int AND NOT granted"
		                " AND locktype = 'advisory'",
		                1, bpid);
	ck_assert_msg(waiting == 1, "period_lock did not wait for the score in flight");
	tdb_int(a, "COMMIT", 0, NULL);
	r = PQgetResult(b);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
	ck_assert_msg(strstr(PQgetvalue(r, 0, 0), "\"scores\": 1,") != NULL, "%s",
	              PQgetvalue(r, 0, 0));
	PQclear(r);
	while ((r = PQgetResult(b)) != NULL)
		PQclear(r);
	PQfinish(a);
	PQfinish(b);
	PQfinish(admin);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* A city's scores page: 256 KiB of JSON at most per reply, each score once, in order. */
START_TEST(get_pages_large_periods)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct period p = { "2019-03-01", "2019-04-01" };
	struct tclient *c = tclient_connect(d, "ma.jun");
	PGconn *admin = tdb_connect(true);
	const char *params[] = { p.from, p.to };
	long long total, got = 0, pages = 0;
	char after[64] = "";

	/* written directly (no ticket of 2019 relates them): every street x
	 * department x criterion, with comments of 4000 characters */
	tdb_int(admin,
	        "WITH i AS (INSERT INTO assessment_score (period_from, period_to, street_id,"
	        " department_id, criterion_id, score, comment, set_by)"
	        " SELECT $1::date, $2::date, s.id, d.id, c.id, 50, repeat('评', 4000),"
	        " (SELECT id FROM account WHERE login = 'zhang.wei')"
	        " FROM street s, department d, score_criterion c"
	        " ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM i",
	        2, params);
	total = tdb_int(admin,
	                "SELECT count(*) FROM assessment_score WHERE period_from = $1::date AND"
	                " period_to = $2::date",
	                2, params);
	ck_assert_int_gt(total * 12000, 2 * 262144);
	for (;;) {
		json_object *r;
		char *line;

		if (after[0])
			r = tclient_ok(
			        c,
			        "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\",\"after\":"
			        "\"%s\"}",
			        p.from, p.to, after);
		else
			r = tclient_ok(c, "{\"op\":\"score_get\",\"from\":\"%s\",\"to\":\"%s\"}",
			               p.from, p.to);
		line = strdup(tj_dump(r));
		ck_assert_int_lt(strlen(line), 262144 + 16384);
		free(line);
		ck_assert_int_gt(tj_len(r, "result.scores"), 0);
		for (size_t i = 0; i < tj_len(r, "result.scores"); i++) {
			json_object *s = json_object_array_get_idx(tj_get(r, "result.scores"), i);
			char key[64];

			snprintf(key, sizeof(key), "%lld:%lld:%lld", tj_int(s, "street_id"),
			         tj_int(s, "department_id"), tj_int(s, "criterion_id"));
			/* strictly after the cursor: none repeated, none skipped (counted) */
			if (after[0]) {
				long long a1, a2, a3, b1, b2, b3;

				sscanf(after, "%lld:%lld:%lld", &a1, &a2, &a3);
				sscanf(key, "%lld:%lld:%lld", &b1, &b2, &b3);
				ck_assert(b1 > a1 ||
				          (b1 == a1 && (b2 > a2 || (b2 == a2 && b3 > a3))));
			}
			snprintf(after, sizeof(after), "%s", key);
			got++;
		}
		pages++;
		if (tj_is_null(r, "result.next"))
			break;
		ck_assert_str_eq(tj_str(r, "result.next"), after);
	}
	ck_assert_int_eq(got, total);
	ck_assert_int_gt(pages, 2);
	PQfinish(admin);
	tclient_close(c);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scores");
	TCase *tc = tcase_create("scores");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, criteria_are_data_with_shares);
	tcase_add_test(tc, set_upserts_and_audits_every_change);
	tcase_add_test(tc, refusals_write_nothing);
	tcase_add_test(tc, get_scope_per_role);
	tcase_add_test(tc, lock_freezes_the_period);
	tcase_add_test(tc, lock_waits_for_a_score_in_flight);
	tcase_add_test(tc, get_pages_large_periods);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
