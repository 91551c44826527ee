/*
 * The calendar op (sql/functions/15_calendar.sql) through the real daemon:
 * the work hours and the calendar_day exceptions of a span, as the tables
 * hold them, for every role; the defaults of a span left open; the
 * refusals of a bad span.  The console counts working time from this
 * (clients/web/worktime.js; tests/browser/worktime.mjs compares it with
 * sla_working_between).
 */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "tdaemon.h"
#include "tdb.h"

static json_object *at(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
	              json_object_to_json_string(o));
	return v;
}

static const char *str(json_object *o, const char *key)
{
	return json_object_get_string(at(o, key));
}

START_TEST(test_calendar_span)
{
	struct tdaemon *d = tdaemon_start(NULL);
	PGconn *db = tdb_connect(false);
	const char *logins[] = { "zhang.wei", "wang.fang", "chen.jing", "ma.jun" };

	for (size_t k = 0; k < sizeof(logins) / sizeof(logins[0]); k++) {
		struct tclient *c = tclient_connect(d, logins[k]);
		json_object *r = tclient_ok(
		        c, "{\"op\":\"calendar\",\"from\":\"2026-09-20\",\"to\":\"2026-10-20\"}");
		json_object *res = at(r, "result"), *days = at(res, "days"),
		            *wh = at(res, "work_hours");
		char *want;
		char got[4096] = "";

		ck_assert_str_eq(str(res, "from"), "2026-09-20");
		ck_assert_str_eq(str(res, "to"), "2026-10-20");
		ck_assert_str_eq(str(res, "zone"), "+08:00");
		ck_assert_int_eq(
		        tdb_int(db, "SELECT extract(epoch FROM starts)::int FROM street.work_hours",
		                0, NULL),
		        json_object_get_int(at(wh, "starts_s")));
		ck_assert_int_eq(
		        tdb_int(db, "SELECT extract(epoch FROM ends)::int FROM street.work_hours",
		                0, NULL),
		        json_object_get_int(at(wh, "ends_s")));
		want = tdb_str(db, "SELECT starts::text FROM street.work_hours", 0, NULL);
		ck_assert_str_eq(str(wh, "starts"), want);
		free(want);
		want = tdb_str(
		        db,
		        "SELECT coalesce(string_agg(day::text || ' ' || kind || ' ' || name, '|' "
		        "ORDER BY"
		        " day), '') FROM street.calendar_day WHERE day >= '2026-09-20' AND day < "
		        "'2026-10-20'",
		        0, NULL);
		for (size_t i = 0; i < json_object_array_length(days); i++) {
			json_object *x = json_object_array_get_idx(days, i);

			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s %s",
			         i ? "|" : "", str(x, "day"), str(x, "kind"), str(x, "name"));
		}
		/* the National Day week and its make-up days are in the data */
		ck_assert_msg(strstr(got, "2026-10-01 holiday") != NULL, "%s", got);
		ck_assert_str_eq(got, want);
		free(want);
		tclient_close(c);
	}
	PQfinish(db);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_calendar_defaults)
{
	struct tdaemon *d = tdaemon_start(NULL);
	PGconn *db = tdb_connect(false);
	struct tclient *c = tclient_connect(d, "chen.jing");
	json_object *res;
	char *from = tdb_str(db, "SELECT ((now() AT TIME ZONE INTERVAL '+08:00')::date - 30)::text",
	                     0, NULL);
	char *to = tdb_str(db, "SELECT ((now() AT TIME ZONE INTERVAL '+08:00')::date + 370)::text",
	                   0, NULL);

	res = at(tclient_ok(c, "{\"op\":\"calendar\"}"), "result");
	ck_assert_str_eq(str(res, "from"), from);
	ck_assert_str_eq(str(res, "to"), to);
	ck_assert_int_eq(
	        (long long)json_object_array_length(at(res, "days")),
	        tdb_int(db,
	                "SELECT count(*) FROM street.calendar_day WHERE day >= $1::date AND"
	                " day < $2::date",
	                2, (const char *[]){ from, to }));
	/* to alone: from is 30 days before today; from alone: to is 400 days later */
	res = at(tclient_ok(c, "{\"op\":\"calendar\",\"from\":\"2027-01-01\"}"), "result");
	ck_assert_str_eq(str(res, "to"), "2028-02-05");
	free(from);
	free(to);
	tclient_close(c);
	PQfinish(db);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_calendar_refusals)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *c = tclient_connect(d, "zhang.wei");

	tclient_err(c, "bad_request", "{\"op\":\"calendar\",\"from\":\"2026-13-01\"}");
	tclient_err(c, "bad_request", "{\"op\":\"calendar\",\"from\":\"2026-02-30\"}");
	tclient_err(c, "bad_request", "{\"op\":\"calendar\",\"from\":\"tomorrow\"}");
	tclient_err(c, "bad_request",
	            "{\"op\":\"calendar\",\"from\":\"2026-12-01\",\"to\":\"2026-12-01\"}");
	tclient_err(c, "bad_request",
	            "{\"op\":\"calendar\",\"from\":\"2020-01-01\",\"to\":\"2031-01-08\"}");
	tclient_err(c, "bad_request", "{\"op\":\"calendar\",\"from\":\"2026-12-01T00:00\"}");
	tclient_err(c, "bad_request", "{\"op\":\"calendar\",\"to\":7}");
	/* ten years is allowed, and the session is still fine */
	tclient_ok(c, "{\"op\":\"calendar\",\"from\":\"2020-01-01\",\"to\":\"2030-01-01\"}");
	tclient_close(c);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_calendar");
	TCase *tc = tcase_create("calendar");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_calendar_span);
	tcase_add_test(tc, test_calendar_defaults);
	tcase_add_test(tc, test_calendar_refusals);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
