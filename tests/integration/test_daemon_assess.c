/*
 * The assessment through a real daemon: the leader's event reader runs the
 * follower (st_follow) by itself, so the rollups catch up with actions
 * without anyone calling it, and stats / ranking answer over the wire with
 * their refusals.  The sweeper is enabled here: the follower runs on the
 * instance that holds the sweeper's lock.
 */
#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static json_object *at(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
	              json_object_to_json_string(o));
	return v;
}

START_TEST(test_follower_catches_up)
{
	struct tdaemon *d = tdaemon_start("sweeper.enabled = true");
	struct tclient *c = tclient_connect(d, "ta.street1");
	PGconn *db = tdb_connect(false);
	int cat = tdb_category(db, "ta.cat"), grid = tdb_grid(db, "ta-grid1");
	int dept = tdb_department(db, "ta-dept-a");
	char *today =
	        tdb_str(db, "SELECT (now() AT TIME ZONE INTERVAL '+08:00')::date::text", 0, NULL);
	char *tomorrow = tdb_str(
	        db, "SELECT ((now() AT TIME ZONE INTERVAL '+08:00')::date + 1)::text", 0, NULL);
	json_object *r, *res;
	long long ticket, seq = 0;
	bool folded = false;

	r = tclient_ok(c,
	               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"follower "
	               "test\"}",
	               cat, grid);
	res = at(r, "result");
	ticket = json_object_get_int64(at(at(res, "ticket"), "id"));
	r = tclient_ok(c, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1,\"department\":%d}",
	               ticket, dept);
	seq = json_object_get_int64(at(at(at(r, "result"), "event"), "seq"));
	/* nobody calls st_follow here: the leader's reader does, within a second or so */
	for (int i = 0; i < 300 && !folded; i++) {
		folded = tdb_int(db, "SELECT count(*) FROM street.assess_step WHERE start_seq = $1",
		                 1, (const char *[]){ tdb_fmt("%lld", seq) }) == 1;
		if (!folded)
			usleep(50000);
	}
	ck_assert_msg(folded, "the dispatch (seq %lld) was not folded", seq);

	/* and the figures over the wire include it */
	r = tclient_ok(c,
	               "{\"op\":\"stats\",\"from\":\"%s\",\"to\":\"%s\",\"group\":\"department\"}",
	               today, tomorrow);
	res = at(r, "result");
	ck_assert_int_ge(json_object_array_length(at(res, "rows")), 1);
	ck_assert_int_ge(json_object_get_int(
	                         at(json_object_array_get_idx(at(res, "rows"), 0), "dispatched")),
	                 1);
	r = tclient_ok(c, "{\"op\":\"ranking\",\"from\":\"%s\",\"to\":\"%s\",\"group\":\"street\"}",
	               today, tomorrow);
	ck_assert_int_eq(json_object_array_length(at(at(r, "result"), "rows")), 1);

	/* refusals, with the wire's codes */
	tclient_err(c, "bad_request",
	            "{\"op\":\"stats\",\"from\":\"2025-03-02\",\"to\":\"2025-03-01\",\"group\":"
	            "\"street\"}");
	tclient_err(c, "bad_request",
	            "{\"op\":\"stats\",\"from\":\"2025-03-01\",\"to\":\"2025-04-01\",\"group\":"
	            "\"city\"}");
	tclient_err(c, "bad_request",
	            "{\"op\":\"ranking\",\"from\":\"2024-01-01\",\"to\":\"2025-03-01\",\"group\":"
	            "\"street\"}");
	tclient_close(c);
	c = tclient_connect(d, "wang.fang");
	tclient_err(c, "forbidden",
	            "{\"op\":\"ranking\",\"from\":\"2025-03-01\",\"to\":\"2025-04-01\",\"group\":"
	            "\"street\"}");
	tclient_close(c);
	free(today);
	free(tomorrow);
	PQfinish(db);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_assess");
	TCase *tc = tcase_create("assess");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_follower_catches_up);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
