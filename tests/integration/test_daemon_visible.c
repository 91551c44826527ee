/*
 * One rule for who sees what (lib/visible.c and street.st_sees): the C
 * predicate against the SQL helper on a few thousand seeded random scopes and
 * items, then the real daemon's push: subscribers of every role receive
 * exactly the events the predicate allows (which checks daemon/push.c's index
 * from the outside).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdaemon.h"
#include "tdb.h"
#include "visible.h"

/* ---- the predicate against the SQL helper ---- */

#define NPAIRS 4000

/* A random id 0..3, 0 being NULL: small, so that equal ids are common. */
static long long rid(unsigned *seed)
{
	return rand_r(seed) % 4;
}

/* Appends "v," (or "NULL,") to an array literal. */
static void add(char *buf, size_t *n, size_t cap, long long v)
{
	*n += (size_t)snprintf(buf + *n, cap - *n, v ? "%lld," : "NULL,", v);
}

START_TEST(sql_and_c_agree)
{
	static const enum role roles[] = { ROLE_COLLECTOR, ROLE_STREET, ROLE_DEPARTMENT,
		                           ROLE_SUPERVISOR, ROLE_ADMIN };
	static struct visible_account acc[NPAIRS];
	static struct visible_item it[NPAIRS];
	enum { NCOL = 9, CAP = NPAIRS * 12 + 16 };
	char *col[NCOL];
	size_t len[NCOL] = { 0 };
	unsigned seed = 12;
	PGconn *db = tdb_connect(false);
	PGresult *r;
	int agree = 0, seen = 0;

	for (int c = 0; c < NCOL; c++) {
		col[c] = malloc(CAP);
		ck_assert_ptr_nonnull(col[c]);
		col[c][0] = '{';
		len[c] = 1;
	}
	for (int i = 0; i < NPAIRS; i++) {
		acc[i] = (struct visible_account){ roles[rand_r(&seed) % 5], rid(&seed), rid(&seed),
			                           rid(&seed), rid(&seed) };
		it[i] = (struct visible_item){ rid(&seed), rid(&seed), rid(&seed), rid(&seed) };
		len[0] += (size_t)snprintf(col[0] + len[0], CAP - len[0], "%s,",
		                           role_name(acc[i].role));
		add(col[1], &len[1], CAP, acc[i].id);
		add(col[2], &len[2], CAP, acc[i].street_id);
		add(col[3], &len[3], CAP, acc[i].district_id);
		add(col[4], &len[4], CAP, acc[i].department_id);
		add(col[5], &len[5], CAP, it[i].street_id);
		add(col[6], &len[6], CAP, it[i].district_id);
		add(col[7], &len[7], CAP, it[i].department_id);
		add(col[8], &len[8], CAP, it[i].reporter_id);
	}
	for (int c = 0; c < NCOL; c++)
		col[c][len[c] - 1] = '}';
	r = tdb_query(db,
	              "SELECT street.st_sees(u.r::street.account_role, u.a, u.s, u.d, u.dep, u.is_,"
	              " u.id_, u.idep, u.ir) FROM unnest($1::text[], $2::int[], $3::int[],"
	              " $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[])"
	              " WITH ORDINALITY AS u(r, a, s, d, dep, is_, id_, idep, ir, n) ORDER BY u.n",
	              NCOL, (const char *const *)col);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(db));
	ck_assert_int_eq(PQntuples(r), NPAIRS);
	for (int i = 0; i < NPAIRS; i++) {
		bool sql = strcmp(PQgetvalue(r, i, 0), "t") == 0;
		bool c = visible_to(&acc[i], &it[i]);

		ck_assert_msg(
		        sql == c,
		        "pair %d: %s %lld street %lld district %lld department %lld vs item "
		        "street %lld district %lld department %lld reporter %lld: SQL %d, C %d",
		        i, role_name(acc[i].role), acc[i].id, acc[i].street_id, acc[i].district_id,
		        acc[i].department_id, it[i].street_id, it[i].district_id,
		        it[i].department_id, it[i].reporter_id, sql, c);
		agree++;
		seen += c;
	}
	/* the random pairs are not all one answer */
	ck_assert_int_gt(seen, NPAIRS / 20);
	ck_assert_int_lt(seen, NPAIRS - NPAIRS / 20);
	ck_assert_int_eq(agree, NPAIRS);
	PQclear(r);
	for (int c = 0; c < NCOL; c++)
		free(col[c]);
	PQfinish(db);
}
END_TEST

/* ---- the daemon's push against the predicate ---- */

struct sub {
	const char *login;
	struct visible_account scope;
	struct tclient *c;
	long long head;     /* the subscription's start */
	long long sentinel; /* an event of its own scope, made last: 0 for admin */
};

static struct sub subs[] = {
	{ .login = "wang.fang" },
	{ .login = "zhao.lei" },
	{ .login = "t.collector.other" },
	{ .login = "zhang.wei" },
	{ .login = "liu.yang" },
	{ .login = "t.street.other" },
	{ .login = "yang.min" },
	{ .login = "chen.jing" },
	{ .login = "sun.li" },
	{ .login = "ma.jun" },
	{ .login = "t.supervisor.other" },
	{ .login = "admin" },
};
#define NSUBS (sizeof(subs) / sizeof(subs[0]))

static void load_scope(PGconn *db, struct sub *s)
{
	const char *p[] = { s->login };
	PGresult *r = tdb_query(db,
	                        "SELECT role, id, coalesce(street_id, 0), coalesce(district_id, 0),"
	                        " coalesce(department_id, 0) FROM street.account WHERE login = $1",
	                        1, p);

	ck_assert_msg(PQntuples(r) == 1, "no account %s", s->login);
	ck_assert(role_parse(PQgetvalue(r, 0, 0), &s->scope.role));
	s->scope.id = atoll(PQgetvalue(r, 0, 1));
	s->scope.street_id = atoll(PQgetvalue(r, 0, 2));
	s->scope.district_id = atoll(PQgetvalue(r, 0, 3));
	s->scope.department_id = atoll(PQgetvalue(r, 0, 4));
	PQclear(r);
}

/* An action through SQL that must succeed; returns its ticket (seq in *seq). */
static long long must(PGconn *db, const char *func, int n, const char *const *p, long long *seq)
{
	struct tdb_outcome o;

	tdb_call(db, func, n, p, &o);
	ck_assert_msg(o.ok, "%s: %s %s", func, o.sqlstate, o.message);
	if (seq)
		*seq = o.seq;
	return o.ticket;
}

static long long report(PGconn *db, const char *login, int grid)
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)),
		            tdb_fmt("%d", tdb_category(db, "pollution.dust")), tdb_fmt("%d", grid),
		            "visibility check" };

	return must(db, "st_report", 4, p, NULL);
}

static void dispatch(PGconn *db, const char *login, long long t, const char *dept)
{
	const char *p[] = { tdb_fmt("%d", tdb_account(db, login)), tdb_fmt("%lld", t), "1",
		            tdb_fmt("%d", tdb_department(db, dept)) };

	must(db, "st_dispatch", 4, p, NULL);
}

static int first_grid_of(PGconn *db, const char *login)
{
	const char *p[] = { login };

	return (int)tdb_int(db,
	                    "SELECT min(g.grid_id) FROM street.account_grid g JOIN street.account a"
	                    " ON a.id = g.account_id WHERE a.login = $1",
	                    1, p);
}

START_TEST(push_matches_predicate)
{
	PGconn *db = tdb_connect(false);
	struct tdaemon *d = tdaemon_start(NULL);
	long long t_home, t_other_street, t_other_district;
	int total = 0;

	for (size_t i = 0; i < NSUBS; i++) {
		load_scope(db, &subs[i]);
		subs[i].c = tclient_connect(d, subs[i].login);
		subs[i].head =
		        tj_int(tclient_ok(subs[i].c, "{\"op\":\"subscribe\"}"), "result.head");
	}

	/* Events across two streets, two districts and two departments, with a
	 * return (an event of a department that no longer sees the ticket). */
	t_home = report(db, "wang.fang", tdb_grid(db, "jg-yanan-02"));
	report(db, "zhao.lei", first_grid_of(db, "zhao.lei"));
	t_other_street = report(db, "liu.yang", tdb_grid(db, "bn-beijingnan-01"));
	t_other_district = report(db, "t.collector.other", tdb_grid(db, "t-other-01"));
	dispatch(db, "zhang.wei", t_home, "sthj");
	{
		const char *p[] = { tdb_fmt("%d", tdb_account(db, "yang.min")),
			            tdb_fmt("%lld", t_home), "2", "不属于本部门",
			            tdb_fmt("%d", tdb_department(db, "cgj")) };
		must(db, "st_return", 5, p, NULL);
	}
	dispatch(db, "liu.yang", t_other_street, "sthj");
	dispatch(db, "t.street.other", t_other_district, "cgj");
	dispatch(db, "zhang.wei", report(db, "zhang.wei", tdb_grid(db, "jg-yanan-02")), "cgj");

	/* Each account comments last on a ticket of its own scope: once that
	 * arrives, everything before it has (events go out in seq order). */
	for (size_t i = 0; i < NSUBS; i++) {
		const char *p[] = { tdb_fmt("%lld", subs[i].scope.id) };
		long long t;

		if (subs[i].scope.role == ROLE_ADMIN)
			continue;
		t = tdb_int(
		        db,
		        "SELECT max(t.id) FROM street.ticket t, street.account a WHERE a.id = $1"
		        " AND street.st_visible(a, t)",
		        1, p);
		ck_assert_msg(t > 0, "%s sees no ticket", subs[i].login);
		{
			const char *c[] = { p[0], tdb_fmt("%lld", t), "sentinel" };
			must(db, "st_comment", 3, c, &subs[i].sentinel);
		}
	}

	for (size_t i = 0; i < NSUBS; i++) {
		struct sub *s = &subs[i];
		long long last = s->head;
		char *got;
		size_t n = 0;
		PGresult *r;

		if (!s->sentinel)
			continue;
		got = calloc(1, 1 << 16);
		while (last < s->sentinel) {
			json_object *e = tclient_next_event(s->c, 15000);
			struct visible_item it;

			ck_assert_msg(e != NULL, "%s: no event after %lld (waiting for %lld)",
			              s->login, last, s->sentinel);
			it = (struct visible_item){ tj_int(e, "event.street_id"),
				                    tj_int(e, "event.district_id"),
				                    tj_int(e, "event.department_id"),
				                    tj_int(e, "event.reporter_id") };
			ck_assert_msg(tj_int(e, "event.seq") > last, "%s: out of order", s->login);
			last = tj_int(e, "event.seq");
			ck_assert_msg(visible_to(&s->scope, &it), "%s was pushed %s", s->login,
			              tj_dump(e));
			n += (size_t)snprintf(got + n, (1 << 16) - n, "%lld,", last);
		}
		/* everything in (head, sentinel] the predicate allows, and nothing else */
		{
			const char *p[] = { tdb_fmt("%lld", s->head),
				            tdb_fmt("%lld", s->sentinel) };
			char *want = calloc(1, 1 << 16);
			size_t m = 0;

			r = tdb_query(
			        db,
			        "SELECT seq, street_id, district_id, coalesce(department_id, 0),"
			        " reporter_id FROM street.ticket_event WHERE seq > $1 AND seq <= $2"
			        " ORDER BY seq",
			        2, p);
			for (int k = 0; k < PQntuples(r); k++) {
				struct visible_item it = { atoll(PQgetvalue(r, k, 1)),
					                   atoll(PQgetvalue(r, k, 2)),
					                   atoll(PQgetvalue(r, k, 3)),
					                   atoll(PQgetvalue(r, k, 4)) };

				if (visible_to(&s->scope, &it))
					m += (size_t)snprintf(want + m, (1 << 16) - m, "%s,",
					                      PQgetvalue(r, k, 0));
			}
			PQclear(r);
			ck_assert_msg(strcmp(got, want) == 0, "%s: pushed %s, allowed %s", s->login,
			              got, want);
			total += m > 0;
			free(want);
		}
		free(got);
	}
	/* every account with a scope got something; the admin sees nothing */
	ck_assert_int_eq(total, (int)NSUBS - 1);
	for (size_t i = 0; i < NSUBS; i++) {
		if (subs[i].scope.role == ROLE_ADMIN)
			ck_assert_msg(tclient_queued(subs[i].c) == 0, "admin was pushed an event");
		tclient_close(subs[i].c);
	}
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
	PQfinish(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("visible");
	TCase *tc = tcase_create("visible");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sql_and_c_agree);
	tcase_add_test(tc, push_matches_predicate);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
