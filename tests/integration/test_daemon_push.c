/*
 * Live push over real TLS: subscribers see what others do the moment it
 * commits, resume with "since" to get exactly what they missed, daemons on
 * one database push each other's changes, a deadline passing is marked once
 * with two daemons running, and a subscriber that never reads is cut off
 * without slowing the others.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static int category, tiny, grid_home, grid_other, zhang;

static void lookup_ids(void)
{
	PGconn *db = tdb_connect(false);

	category = tdb_category(db, "pollution.dust");
	tiny = tdb_category(db, "t-tiny");
	grid_home = tdb_grid(db, "jg-yanan-02");
	grid_other = tdb_grid(db, "bn-beijingnan-01");
	zhang = tdb_account(db, "zhang.wei");
	PQfinish(db);
}

/* Reports as login in grid; returns the reply (caller puts it). */
static json_object *report(struct tclient *c, int cat, int grid, const char *what)
{
	return tclient_ok(c,
	                  "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"%s\"}",
	                  cat, grid, what);
}

static long long subscribe(struct tclient *c, long long since)
{
	json_object *r = since < 0 ? tclient_ok(c, "{\"op\":\"subscribe\"}")
	                           : tclient_ok(c, "{\"op\":\"subscribe\",\"since\":%lld}", since);
	long long head = tj_int(r, "result.head");

	ck_assert(!tj_bool(r, "result.resync"));
	return head;
}

/* The next pushed event for ticket, skipping others; NULL on timeout. */
static json_object *event_for(struct tclient *c, long long ticket, int timeout_ms)
{
	long long until = tnow_ms() + timeout_ms;

	for (;;) {
		long long left = until - tnow_ms();
		json_object *e;

		if (left <= 0)
			return NULL;
		e = tclient_next_event(c, (int)left);
		if (!e)
			return NULL;
		if (tj_int(e, "event.ticket_id") == ticket)
			return e;
	}
}

START_TEST(subscriber_sees_dispatch)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *dept = tclient_connect(d, "yang.min");
	struct tclient *reporter = tclient_connect(d, "wang.fang");
	struct tclient *street = tclient_connect(d, "zhang.wei");
	json_object *r, *e;
	long long ticket, seq;

	subscribe(dept, -1);
	subscribe(reporter, -1);
	r = report(reporter, category, grid_home, "push: dispatch");
	ticket = tj_ticket_id(r);
	/* the reporter sees her own report pushed */
	e = event_for(reporter, ticket, 5000);
	ck_assert_msg(e != NULL, "no report event for the reporter");
	ck_assert_str_eq(tj_str(e, "event.action"), "report");
	r = tclient_ok(street, "{\"op\":\"dispatch\",\"ticket\":%lld,\"version\":1}", ticket);
	seq = tj_int(r, "result.event.seq");
	e = event_for(dept, ticket, 5000);
	ck_assert_msg(e != NULL, "the department got no push for the dispatch");
	ck_assert_str_eq(tj_str(e, "event.action"), "dispatch");
	ck_assert_str_eq(tj_str(e, "event.to_state"), "dispatched");
	ck_assert_int_eq(tj_int(e, "event.version"), 2);
	ck_assert_int_eq(tj_int(e, "event.seq"), seq);
	ck_assert_int_eq(tj_int(e, "event.actor_id"), zhang);
	ck_assert(tj_get(e, "event.data.due_at") != NULL);
	e = event_for(reporter, ticket, 5000);
	ck_assert_msg(e != NULL, "the reporter got no push for the dispatch");
	tclient_close(dept);
	tclient_close(reporter);
	tclient_close(street);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* Sequence numbers of the events in jianguolu's scope after since, from the log. */
static char *scope_seqs(long long since, long long upto)
{
	PGconn *db = tdb_connect(false);
	const char *p[] = { tdb_fmt("%lld", since), tdb_fmt("%lld", upto) };
	char *s = tdb_str(
	        db,
	        "SELECT coalesce(string_agg(seq::text, ',' ORDER BY seq), '') FROM ticket_event"
	        " WHERE seq > $1 AND seq <= $2 AND street_id = (SELECT id FROM street"
	        " WHERE code = 'jianguolu')",
	        2, p);

	PQfinish(db);
	return s;
}

/* Reads pushed events until one with seq >= upto; returns their seqs joined. */
static void collect(struct tclient *c, long long upto, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	for (;;) {
		json_object *e = tclient_next_event(c, 10000);
		long long seq;

		ck_assert_msg(e != NULL, "missing events; got so far: %s", out);
		seq = tj_int(e, "event.seq");
		n += (size_t)snprintf(out + n, cap - n, "%s%lld", n ? "," : "", seq);
		if (seq >= upto)
			return;
	}
}

START_TEST(resume_returns_exactly_the_missed)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *sub = tclient_connect(d, "zhang.wei");
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *l = tclient_connect(d, "li.na");
	long long since = subscribe(sub, -1), last = 0;
	char got[4096];
	char *want;
	json_object *r;

	tclient_close(sub);
	for (int i = 0; i < 6; i++) {
		r = report(w, category, grid_home, "push: missed");
		last = tj_int(r, "result.event.seq");
		r = report(l, category, grid_other, "push: other street");
	}
	sub = tclient_connect(d, "zhang.wei");
	subscribe(sub, since);
	collect(sub, last, got, sizeof(got));
	want = scope_seqs(since, last);
	/* exactly the street's events, in order, none twice: the log says which */
	ck_assert_str_eq(got, want);
	free(want);
	/* and then the live stream, with no gap at the seam (other suites may
	 * report in the same street meanwhile: the log says what is due) */
	since = last;
	r = report(w, category, grid_home, "push: live after resume");
	last = tj_int(r, "result.event.seq");
	collect(sub, last, got, sizeof(got));
	want = scope_seqs(since, last);
	ck_assert_str_eq(got, want);
	free(want);
	tclient_close(sub);
	tclient_close(w);
	tclient_close(l);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

START_TEST(two_daemons_push_each_others_changes)
{
	struct tdaemon *d1 = tdaemon_start(NULL), *d2 = tdaemon_start(NULL);
	struct tclient *sub = tclient_connect(d2, "zhang.wei");
	struct tclient *w = tclient_connect(d1, "wang.fang");
	json_object *r, *e;
	long long ticket;

	subscribe(sub, -1);
	r = report(w, category, grid_home, "push: across instances");
	ticket = tj_ticket_id(r);
	e = event_for(sub, ticket, 5000);
	ck_assert_msg(e != NULL,
	              "a change made through one daemon did not reach the other's client");
	tclient_close(sub);
	tclient_close(w);
	tdaemon_stop(d1, SIGTERM);
	tdaemon_stop(d2, SIGTERM);
}
END_TEST

START_TEST(killed_daemon_loses_nothing)
{
	struct tdaemon *d1 = tdaemon_start(NULL), *d2 = tdaemon_start(NULL);
	struct tclient *sub = tclient_connect(d1, "zhang.wei");
	struct tclient *w = tclient_connect(d2, "wang.fang");
	long long seen = subscribe(sub, -1), last = 0;
	json_object *r, *e;
	char got[4096];
	char *want;

	r = report(w, category, grid_home, "push: before the kill");
	last = tj_int(r, "result.event.seq");
	while ((e = tclient_next_event(sub, 5000)) != NULL) {
		seen = tj_int(e, "event.seq");
		if (seen >= last)
			break;
	}
	ck_assert_int_eq(seen, last);
	tdaemon_stop(d1, SIGKILL);
	tclient_close(sub);
	for (int i = 0; i < 5; i++) {
		r = report(w, category, grid_home, "push: while one daemon is dead");
		last = tj_int(r, "result.event.seq");
	}
	sub = tclient_connect(d2, "zhang.wei");
	subscribe(sub, seen);
	collect(sub, last, got, sizeof(got));
	want = scope_seqs(seen, last);
	ck_assert_str_eq(got, want);
	free(want);
	tclient_close(sub);
	tclient_close(w);
	tdaemon_stop(d2, SIGTERM);
}
END_TEST

START_TEST(deadline_marked_once_with_two_daemons)
{
	static const char sweep[] = "sweeper.enabled=true\nsweeper.max_interval=1s\n";
	struct tdaemon *d1 = tdaemon_start(sweep), *d2 = tdaemon_start(sweep);
	struct tclient *sub = tclient_connect(d2, "zhang.wei");
	struct tclient *w = tclient_connect(d1, "wang.fang");
	json_object *r, *e;
	long long ticket;
	int overdue = 0;
	PGconn *db;

	subscribe(sub, -1);
	r = report(w, tiny, grid_home, "push: tiny deadline");
	ticket = tj_ticket_id(r);
	/* the deadline is one second away; both sweepers run every second at most */
	for (long long until = tnow_ms() + 6000; tnow_ms() < until;) {
		e = event_for(sub, ticket, (int)(until - tnow_ms()));
		if (!e)
			break;
		if (strcmp(tj_str(e, "event.action"), "overdue") == 0) {
			overdue++;
			ck_assert(tj_is_null(e, "event.actor_id"));
		}
	}
	ck_assert_int_eq(overdue, 1);
	db = tdb_connect(false);
	ck_assert_int_eq(tdb_int(db,
	                         "SELECT count(*) FROM ticket_event WHERE ticket_id = $1 AND"
	                         " action = 'overdue'",
	                         1, (const char *[]){ tdb_fmt("%lld", ticket) }),
	                 1);
	PQfinish(db);
	tclient_close(sub);
	tclient_close(w);
	tdaemon_stop(d1, SIGTERM);
	tdaemon_stop(d2, SIGTERM);
}
END_TEST

START_TEST(slow_subscriber_cut_off_others_keep_receiving)
{
	struct tdaemon *d = tdaemon_start("limits.max_backlog=64KiB\n");
	struct tclient *slow, *fast, *w;
	char text[4001];
	json_object *r;
	long long ticket, last = 0, fast_seen = 0;

	tclient_set_rcvbuf(4096);
	slow = tclient_connect(d, "zhang.wei");
	tclient_set_rcvbuf(0);
	fast = tclient_connect(d, "zhang.wei");
	w = tclient_connect(d, "wang.fang");
	subscribe(slow, -1);
	subscribe(fast, -1);
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	r = report(w, category, grid_home, "push: flood");
	ticket = tj_ticket_id(r);
	/* more than the kernel's socket buffers can hide: ~6 MB of events */
	for (int i = 0; i < 1500; i++) {
		r = tclient_ok(w, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"%s\"}", ticket,
		               text);
		last = tj_int(r, "result.event.seq");
		/* the fast one reads as it goes */
		for (json_object *e; (e = tclient_next_event(fast, 0)) != NULL;) {
			fast_seen = tj_int(e, "event.seq");
		}
	}
	/* it gets every event up to the last one */
	while (fast_seen < last) {
		json_object *e = tclient_next_event(fast, 10000);

		ck_assert_msg(e != NULL, "the reading subscriber stopped receiving at %lld",
		              fast_seen);
		fast_seen = tj_int(e, "event.seq");
	}
	ck_assert_msg(tdaemon_log_wait(d, "client does not read", 5000),
	              "the slow subscriber was not cut off");
	ck_assert_int_ge(tclient_wait_closed(slow, 5000), 0);
	tclient_close(slow);
	tclient_close(fast);
	tclient_close(w);
	tdaemon_stop(d, SIGTERM);
}
END_TEST

/* Comments text on ticket n times, as w. */
static void comment_times(struct tclient *w, long long ticket, const char *text, int n)
{
	for (int i = 0; i < n; i++)
		tclient_ok(w, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"%s\"}", ticket, text);
}

/* limits.max_backlog judges what a client leaves unread, not what it asked
 * for: a reply larger than the limit reaches a client that reads, and the
 * session stays. */
START_TEST(large_reply_reaches_a_reader)
{
	struct tdaemon *d = tdaemon_start("limits.max_backlog=64KiB\n");
	struct tclient *w = tclient_connect(d, "wang.fang");
	char text[4001];
	json_object *r;
	long long ticket;

	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	r = report(w, category, grid_home, "push: long history");
	ticket = tj_ticket_id(r);
	comment_times(w, ticket, text, 40); /* ~170 KB of history */
	r = tclient_ok(w, "{\"op\":\"get\",\"ticket\":%lld}", ticket);
	ck_assert_uint_eq(tj_len(r, "result.events"), 41);
	ck_assert_reply_ok(tclient_call(w, "{\"op\":\"whoami\"}"));
	/* ~1.2 MB of history, more than 16 x 64 KiB: get pages it (at most 256
	 * KiB a reply), so no reply reaches the daemon's too_large safety net */
	comment_times(w, ticket, text, 260);
	r = tclient_ok(w, "{\"op\":\"get\",\"ticket\":%lld}", ticket);
	ck_assert_uint_lt(tj_len(r, "result.events"), 301);
	ck_assert(!tj_is_null(r, "result.next"));
	ck_assert_reply_ok(tclient_call(w, "{\"op\":\"whoami\"}"));
	tclient_close(w);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* A resume point the database never handed out (the database was recreated
 * since the client saved it): resync from head, and the stream runs. */
START_TEST(since_ahead_of_the_log_resyncs)
{
	struct tdaemon *d = tdaemon_start(NULL);
	struct tclient *sub = tclient_connect(d, "zhang.wei");
	struct tclient *w = tclient_connect(d, "wang.fang");
	PGconn *db = tdb_connect(false);
	long long max = tdb_int(db, "SELECT coalesce(max(seq), 0) FROM ticket_event", 0, NULL);
	json_object *r, *e;
	long long ticket;

	PQfinish(db);
	r = tclient_ok(sub, "{\"op\":\"subscribe\",\"since\":%lld}", max + 1000000);
	ck_assert_msg(tj_bool(r, "result.resync"), "no resync: %s", tj_dump(r));
	ck_assert(!tj_bool(r, "result.replay"));
	ck_assert_int_le(tj_int(r, "result.head"), max + 1000);
	r = report(w, category, grid_home, "push: after a resync");
	ticket = tj_ticket_id(r);
	e = event_for(sub, ticket, 5000);
	ck_assert_msg(e != NULL, "the stream stayed silent after a resume point ahead of the log");
	/* a resume point the log has (the newest) is taken as it is */
	r = tclient_ok(sub, "{\"op\":\"subscribe\",\"since\":%lld}", tj_int(e, "event.seq"));
	ck_assert(!tj_bool(r, "result.resync"));
	ck_assert_int_ge(tj_int(r, "result.head"), tj_int(e, "event.seq"));
	tclient_close(sub);
	tclient_close(w);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("push");
	TCase *tc = tcase_create("push");

	tcase_add_checked_fixture(tc, lookup_ids, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, subscriber_sees_dispatch);
	tcase_add_test(tc, resume_returns_exactly_the_missed);
	tcase_add_test(tc, two_daemons_push_each_others_changes);
	tcase_add_test(tc, killed_daemon_loses_nothing);
	tcase_add_test(tc, deadline_marked_once_with_two_daemons);
	tcase_add_test(tc, slow_subscriber_cut_off_others_keep_receiving);
	tcase_add_test(tc, large_reply_reaches_a_reader);
	tcase_add_test(tc, since_ahead_of_the_log_resyncs);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
