/*
 * GET /api/events (docs/http.md) end to end: the real daemon with
 * http.enabled, read by a small Server-Sent Events client over raw TLS
 * (HTTP/1.1, chunked): each event is the socket's pushed line with its seq
 * as the SSE id; a stream killed mid-way resumes with Last-Event-ID (or
 * ?since=) with exactly the missed events and then the live ones; too far
 * behind is a resync; pings keep an idle stream past the HTTP deadlines; a
 * client that never reads is cut at limits.max_backlog while others keep
 * receiving; an account that changes and SIGTERM end streams.
 */
#include <check.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static int category, grid_home;

static void lookup_ids(void)
{
	PGconn *db = tdb_connect(false);

	category = tdb_category(db, "pollution.dust");
	grid_home = tdb_grid(db, "jg-yanan-02");
	PQfinish(db);
}

/* ---- a small SSE client ---- */

struct sse {
	struct tclient *t;
	int status;
	char head[4096]; /* the response headers */
	char *body;      /* a non-200 answer's first body line */
	bool ended;      /* the last chunk came */
};

struct sse_msg {
	char event[64];   /* "" for a plain message */
	long long id;     /* -1 without an id field */
	char *data;       /* malloc'd; NULL for a comment */
	char comment[64]; /* a ": ..." line on its own */
};

static void msg_free(struct sse_msg *m)
{
	free(m->data);
	m->data = NULL;
}

/* Opens GET path as login (NULL: no certificate); last_id >= 0 sends
 * Last-Event-ID.  Reads the status and headers. */
static struct sse *sse_open(struct tdaemon *d, int port, const char *login, const char *path,
                            long long last_id)
{
	struct sse *s = calloc(1, sizeof(*s));
	char req[512], *line;
	int n;

	ck_assert_ptr_nonnull(s);
	tclient_set_port(port);
	s->t = tclient_connect(d, login);
	tclient_set_port(0);
	n = snprintf(req, sizeof(req),
	             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n", path,
	             port);
	if (last_id >= 0)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Last-Event-ID: %lld\r\n", last_id);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	ck_assert_int_eq(tclient_send_raw(s->t, req, (size_t)n), 0);
	line = tclient_recv_line(s->t, 10000);
	ck_assert_msg(line != NULL, "no answer to GET %s", path);
	ck_assert_msg(sscanf(line, "HTTP/1.1 %d", &s->status) == 1, "status line: %s", line);
	free(line);
	while ((line = tclient_recv_line(s->t, 10000)) != NULL && line[0]) {
		strncat(s->head, line, sizeof(s->head) - strlen(s->head) - 3);
		strcat(s->head, "\n");
		free(line);
	}
	ck_assert_msg(line != NULL, "headers of GET %s cut short", path);
	free(line);
	if (s->status != 200) {
		/* Content-Length body: one JSON line */
		s->body = tclient_recv_line(s->t, 10000);
	}
	return s;
}

static bool all_hex(const char *l)
{
	if (!*l)
		return false;
	for (; *l; l++)
		if (!isxdigit((unsigned char)*l))
			return false;
	return true;
}

/* The next message or comment; false on timeout, close or the stream's end. */
static bool sse_next(struct sse *s, int timeout_ms, struct sse_msg *m)
{
	long long until = tnow_ms() + timeout_ms;
	bool any = false;

	memset(m, 0, sizeof(*m));
	m->id = -1;
	while (!s->ended) {
		long long left = until - tnow_ms();
		/* with no time left, still what has arrived */
		char *l = tclient_recv_line(s->t, left > 0 ? (int)left : 0);

		if (!l) {
			msg_free(m);
			return false;
		}
		if (all_hex(l)) { /* a chunk's size: each chunk is whole messages */
			s->ended = strcmp(l, "0") == 0;
		} else if (l[0] == ':') {
			snprintf(m->comment, sizeof(m->comment), "%s", l);
			free(l);
			return true;
		} else if (strncmp(l, "event: ", 7) == 0) {
			snprintf(m->event, sizeof(m->event), "%s", l + 7);
			any = true;
		} else if (strncmp(l, "id: ", 4) == 0) {
			m->id = atoll(l + 4);
			any = true;
		} else if (strncmp(l, "data: ", 6) == 0) {
			ck_assert_msg(m->data == NULL, "two data lines in one message");
			m->data = strdup(l + 6);
			any = true;
		} else if (l[0] == '\0' && any) {
			free(l);
			return true;
		} else if (l[0] != '\0') {
			ck_abort_msg("unexpected line in the stream: %s", l);
		}
		free(l);
	}
	msg_free(m);
	return false;
}

/* The next message that is not a ping. */
static bool sse_next_msg(struct sse *s, int timeout_ms, struct sse_msg *m)
{
	while (sse_next(s, timeout_ms, m))
		if (!m->comment[0])
			return true;
	return false;
}

/* The next event (id set) about ticket, skipping others. */
static bool sse_event_for(struct sse *s, long long ticket, int timeout_ms, struct sse_msg *m)
{
	long long until = tnow_ms() + timeout_ms;

	while (sse_next_msg(s, (int)(until - tnow_ms()), m)) {
		json_object *o = json_tokener_parse(m->data);
		bool mine = m->id >= 0 && tj_int(o, "event.ticket_id") == ticket;

		json_object_put(o);
		if (mine)
			return true;
		msg_free(m);
		if (tnow_ms() >= until)
			break;
	}
	return false;
}

static void sse_close(struct sse *s)
{
	tclient_close(s->t);
	free(s->body);
	free(s);
}

static struct tdaemon *start(int *port, const char *more)
{
	*port = tdaemon_free_port();
	return tdaemon_start(tdb_fmt("http.enabled=true\nhttp.listen=127.0.0.1:%d\n%s", *port,
	                             more ? more : ""));
}

/* A ticket reported by wang.fang in zhang.wei's street. */
static long long report(struct tclient *w, const char *what)
{
	json_object *r = tclient_ok(w,
	                            "{\"op\":\"report\",\"category\":%d,\"grid\":%d,"
	                            "\"description\":\"%s\"}",
	                            category, grid_home, what);

	return tj_ticket_id(r);
}

static long long comment(struct tclient *w, long long ticket, const char *text)
{
	json_object *r =
	        tclient_ok(w, "{\"op\":\"comment\",\"ticket\":%lld,\"text\":\"%s\"}", ticket, text);

	return tj_int(r, "result.event.seq");
}

/* The socket's pushed line about ticket (raw, without "\n"), skipping others. */
static char *socket_line_for(struct tclient *c, long long ticket)
{
	for (;;) {
		char *l = tclient_recv_line(c, 10000);
		json_object *o;
		bool mine;

		ck_assert_msg(l != NULL, "the socket subscriber got no event");
		o = json_tokener_parse(l);
		mine = tj_int(o, "event.ticket_id") == ticket;
		json_object_put(o);
		if (mine)
			return l;
		free(l);
	}
}

START_TEST(test_events_and_resume)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *sock = tclient_connect(d, "zhang.wei");
	struct sse *s = sse_open(d, port, "zhang.wei", "/api/events", -1);
	struct sse_msg m;
	long long ticket, seqs[9], head;
	json_object *o;

	ck_assert_int_eq(s->status, 200);
	ck_assert_msg(strcasestr(s->head, "Content-Type: text/event-stream"), "%s", s->head);
	ck_assert(strcasestr(s->head, "Content-Security-Policy: default-src 'self'"));
	ck_assert(strcasestr(s->head, "X-Content-Type-Options: nosniff"));
	ck_assert(strcasestr(s->head, "Cache-Control: no-store"));
	ck_assert(strcasestr(s->head, "Transfer-Encoding: chunked"));
	ck_assert(sse_next_msg(s, 10000, &m));
	ck_assert_str_eq(m.event, "subscribed");
	ck_assert_int_eq(m.id, -1);
	o = json_tokener_parse(m.data);
	head = tj_int(o, "head");
	ck_assert_int_gt(head, 0);
	ck_assert(!tj_bool(o, "resync"));
	json_object_put(o);
	msg_free(&m);
	tclient_ok(sock, "{\"op\":\"subscribe\"}");

	/* live: each event as the socket pushes it, its seq as the id */
	ticket = report(w, "sse: live");
	for (int i = 0; i < 3; i++)
		seqs[i] = comment(w, ticket, tdb_fmt("sse %d", i));
	free(socket_line_for(sock, ticket)); /* the report */
	ck_assert(sse_event_for(s, ticket, 10000, &m));
	msg_free(&m);
	for (int i = 0; i < 3; i++) {
		char *line = socket_line_for(sock, ticket);

		ck_assert(sse_event_for(s, ticket, 10000, &m));
		ck_assert_int_eq(m.id, seqs[i]);
		ck_assert_str_eq(m.data, line);
		msg_free(&m);
		free(line);
	}
	/* killed mid-way; what happens meanwhile comes on resumption, once */
	sse_close(s);
	for (int i = 3; i < 6; i++)
		seqs[i] = comment(w, ticket, tdb_fmt("sse %d", i));
	s = sse_open(d, port, "zhang.wei", "/api/events", seqs[2]);
	ck_assert_int_eq(s->status, 200);
	ck_assert(sse_next_msg(s, 10000, &m));
	ck_assert_str_eq(m.event, "subscribed");
	o = json_tokener_parse(m.data);
	ck_assert(tj_bool(o, "replay"));
	json_object_put(o);
	msg_free(&m);
	for (int i = 3; i < 6; i++) {
		ck_assert(sse_event_for(s, ticket, 10000, &m));
		ck_assert_int_eq(m.id, seqs[i]);
		msg_free(&m);
	}
	seqs[6] = comment(w, ticket, "sse live again");
	ck_assert(sse_event_for(s, ticket, 10000, &m));
	ck_assert_int_eq(m.id, seqs[6]);
	msg_free(&m);
	ck_assert(!sse_event_for(s, ticket, 500, &m)); /* nothing twice */
	sse_close(s);

	/* ?since= for clients that cannot set the header; the header wins */
	s = sse_open(d, port, "zhang.wei", tdb_fmt("/api/events?since=%lld", seqs[5]), -1);
	ck_assert_int_eq(s->status, 200);
	ck_assert(sse_event_for(s, ticket, 10000, &m));
	ck_assert_int_eq(m.id, seqs[6]);
	msg_free(&m);
	sse_close(s);
	s = sse_open(d, port, "zhang.wei", "/api/events?since=1", seqs[5]);
	ck_assert(sse_event_for(s, ticket, 10000, &m));
	ck_assert_int_eq(m.id, seqs[6]);
	msg_free(&m);
	sse_close(s);
	tclient_close(w);
	tclient_close(sock);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

START_TEST(test_refusals)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct sse *s;
	json_object *o;

	s = sse_open(d, port, NULL, "/api/events", -1);
	ck_assert_int_eq(s->status, 401);
	o = json_tokener_parse(s->body);
	ck_assert_str_eq(tj_code(o), "unauthenticated");
	json_object_put(o);
	sse_close(s);
	s = sse_open(d, port, "nobody", "/api/events", -1);
	ck_assert_int_eq(s->status, 401);
	sse_close(s);
	s = sse_open(d, port, "zhang.wei", "/api/events?since=abc", -1);
	ck_assert_int_eq(s->status, 400);
	ck_assert_msg(strstr(s->body, "since") != NULL, "%s", s->body);
	sse_close(s);
	s = sse_open(d, port, "zhang.wei", "/api/events", -1);
	sse_close(s);
	s = sse_open(d, port, "zhang.wei", "/api/events?sinse=3", -1);
	ck_assert_int_eq(s->status, 400);
	ck_assert_msg(strstr(s->body, "unknown parameter") != NULL, "%s", s->body);
	sse_close(s);
	s = sse_open(d, port, "zhang.wei", "/api/events?state=nowhere", -1);
	ck_assert_int_eq(s->status, 400);
	sse_close(s);
	/* Last-Event-ID is a seq or nothing */
	{
		struct tclient *t;
		char *line;
		const char *req =
		        "GET /api/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: -5\r\n\r\n";

		tclient_set_port(port);
		t = tclient_connect(d, "zhang.wei");
		tclient_set_port(0);
		ck_assert_int_eq(tclient_send_raw(t, req, strlen(req)), 0);
		line = tclient_recv_line(t, 10000);
		ck_assert_msg(line && strstr(line, " 400 "), "%s", line ? line : "(closed)");
		free(line);
		tclient_close(t);
	}
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* A resume point the log never had: the socket's resync, as an event with
 * the head as its id, and the stream ends. */
START_TEST(test_resync)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct sse *s = sse_open(d, port, "zhang.wei", "/api/events", 9000000000000LL);
	struct sse_msg m;
	json_object *o;

	ck_assert_int_eq(s->status, 200);
	ck_assert(sse_next_msg(s, 10000, &m));
	ck_assert_str_eq(m.event, "resync");
	o = json_tokener_parse(m.data);
	ck_assert(tj_bool(o, "resync"));
	ck_assert_int_eq(m.id, tj_int(o, "head"));
	json_object_put(o);
	msg_free(&m);
	ck_assert(!sse_next(s, 5000, &m));
	ck_assert(s->ended);
	ck_assert_int_ge(tclient_wait_closed(s->t, 5000), 0);
	sse_close(s);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* An idle stream gets pings and outlives the request and keep-alive
 * deadlines; events still arrive after. */
START_TEST(test_idle_pings)
{
	int port;
	struct tdaemon *d = start(&port, "http.keepalive_timeout=1s\nhttp.request_timeout=1s\n");
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct sse *s = sse_open(d, port, "zhang.wei", "/api/events", -1);
	struct sse_msg m;
	long long until = tnow_ms() + 3500, ticket;
	int pings = 0;

	ck_assert_int_eq(s->status, 200);
	while (tnow_ms() < until && sse_next(s, (int)(until - tnow_ms()), &m)) {
		pings += strcmp(m.comment, ": ping") == 0;
		msg_free(&m);
	}
	ck_assert_msg(pings >= 3, "pings in 3.5 s at a 1 s keep-alive: %d", pings);
	ck_assert(!tclient_closed(s->t));
	ticket = report(w, "sse: after idle");
	ck_assert(sse_event_for(s, ticket, 10000, &m));
	msg_free(&m);
	sse_close(s);
	tclient_close(w);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* A stream that never reads is cut at limits.max_backlog; another stream and
 * a socket subscriber get everything. */
START_TEST(test_slow_stream_cut_off)
{
	int port;
	struct tdaemon *d = start(&port, "limits.max_backlog=64KiB\n");
	struct tclient *w = tclient_connect(d, "wang.fang");
	struct tclient *sock = tclient_connect(d, "zhang.wei");
	struct sse *slow, *fast;
	struct sse_msg m;
	char text[4001];
	long long ticket, last = 0, fast_seen = 0, sock_seen = 0;

	tclient_set_rcvbuf(4096);
	slow = sse_open(d, port, "zhang.wei", "/api/events", -1);
	tclient_set_rcvbuf(0);
	fast = sse_open(d, port, "zhang.wei", "/api/events", -1);
	ck_assert_int_eq(slow->status, 200);
	ck_assert_int_eq(fast->status, 200);
	tclient_ok(sock, "{\"op\":\"subscribe\"}");
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	ticket = report(w, "sse: flood");
	/* more than the kernel's socket buffers can hide: ~6 MB of events */
	for (int i = 0; i < 1500; i++) {
		last = comment(w, ticket, text);
		while (sse_next_msg(fast, 0, &m)) {
			if (m.id > 0)
				fast_seen = m.id;
			msg_free(&m);
		}
		for (json_object *e; (e = tclient_next_event(sock, 0)) != NULL;)
			sock_seen = tj_int(e, "event.seq");
	}
	while (fast_seen < last) {
		ck_assert_msg(sse_next_msg(fast, 10000, &m),
		              "the reading stream stopped receiving at %lld", fast_seen);
		if (m.id > 0)
			fast_seen = m.id;
		msg_free(&m);
	}
	while (sock_seen < last) {
		json_object *e = tclient_next_event(sock, 10000);

		ck_assert_msg(e != NULL, "the socket subscriber stopped at %lld", sock_seen);
		sock_seen = tj_int(e, "event.seq");
	}
	ck_assert_msg(tdaemon_log_wait(d, "http event stream cut off: client does not read", 5000),
	              "the slow stream was not cut off");
	ck_assert_int_ge(tclient_wait_closed(slow->t, 10000), 0);
	sse_close(slow);
	sse_close(fast);
	tclient_close(sock);
	tclient_close(w);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* Runs an UPDATE ... RETURNING 1 as the superuser; fails unless one row. */
static void admin_update(const char *sql)
{
	PGconn *db = tdb_connect(true);

	ck_assert_int_eq(tdb_int(db,
	                         tdb_fmt("WITH u AS (%s RETURNING 1) SELECT count(*) FROM u", sql),
	                         0, NULL),
	                 1);
	PQfinish(db);
}

/* An account that changes (here its certificate's CN, and back) has its
 * streams ended, like its sessions; a new stream is served at the new
 * revision.  xu.lin: an account no other suite uses. */
START_TEST(test_account_change_ends_streams)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct sse *s = sse_open(d, port, "xu.lin", "/api/events", -1);
	struct sse_msg m;
	json_object *o;

	ck_assert_int_eq(s->status, 200);
	ck_assert(sse_next_msg(s, 10000, &m));
	msg_free(&m);
	admin_update("UPDATE street.account SET cert_cn = 'xu.lin.moved' WHERE login = 'xu.lin'");
	admin_update("UPDATE street.account SET cert_cn = 'xu.lin' WHERE login = 'xu.lin'");
	ck_assert_msg(sse_next_msg(s, 10000, &m), "the stream was not ended");
	ck_assert_str_eq(m.event, "error");
	o = json_tokener_parse(m.data);
	ck_assert_str_eq(tj_str(o, "code"), "unauthenticated");
	json_object_put(o);
	msg_free(&m);
	ck_assert(!sse_next(s, 5000, &m));
	ck_assert(s->ended);
	ck_assert_int_ge(tclient_wait_closed(s->t, 5000), 0);
	sse_close(s);
	ck_assert(tdaemon_log_wait(d, "ended its event streams", 2000));
	s = sse_open(d, port, "xu.lin", "/api/events", -1);
	ck_assert_int_eq(s->status, 200);
	sse_close(s);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

/* SIGTERM ends the streams and the daemon exits. */
START_TEST(test_drain_ends_streams)
{
	int port;
	struct tdaemon *d = start(&port, NULL);
	struct sse *a = sse_open(d, port, "zhang.wei", "/api/events", -1);
	struct sse *b = sse_open(d, port, "wang.fang", "/api/events", -1);

	ck_assert_int_eq(a->status, 200);
	ck_assert_int_eq(b->status, 200);
	tdaemon_signal(d, SIGTERM);
	ck_assert_int_ge(tclient_wait_closed(a->t, 10000), 0);
	ck_assert_int_ge(tclient_wait_closed(b->t, 10000), 0);
	ck_assert_int_eq(tdaemon_wait(d, 10000), 0);
	sse_close(a);
	sse_close(b);
	ck_assert_int_eq(tdaemon_stop(d, 0), 0);
}
END_TEST

/* Event streams and socket sessions share limits.max_sessions_per_account. */
START_TEST(test_streams_count_as_sessions)
{
	int port;
	struct tdaemon *d = start(&port, "limits.max_sessions_per_account=2\n");
	struct sse *a = sse_open(d, port, "wang.fang", "/api/events", -1);
	struct tclient *sock = tclient_connect(d, "wang.fang");
	struct sse *b, *other;
	struct tclient *third;
	json_object *r;
	long long deadline;

	ck_assert_int_eq(a->status, 200);
	r = tclient_try_call(sock, 10000, "{\"op\":\"whoami\"}");
	ck_assert_msg(r != NULL && tj_ok(r), "the socket session was refused: %s", tj_dump(r));

	/* the account is at its limit: a third stream and a third session are refused */
	b = sse_open(d, port, "wang.fang", "/api/events", -1);
	ck_assert_int_eq(b->status, 429);
	ck_assert_ptr_nonnull(b->body);
	r = json_tokener_parse(b->body);
	ck_assert_str_eq(tj_str(r, "error.code"), "rate_limited");
	json_object_put(r);
	sse_close(b);
	third = tclient_connect(d, "wang.fang");
	r = tclient_recv(third, 10000);
	ck_assert_msg(r != NULL, "the third session got no line");
	ck_assert_reply_code(r, "rate_limited");
	tclient_close(third);

	/* other accounts are not affected */
	other = sse_open(d, port, "zhang.wei", "/api/events", -1);
	ck_assert_int_eq(other->status, 200);
	sse_close(other);

	/* the stream's slot comes back once the server has seen it close */
	sse_close(a);
	deadline = tnow_ms() + 10000;
	for (;;) {
		b = sse_open(d, port, "wang.fang", "/api/events", -1);
		if (b->status == 200)
			break;
		ck_assert_int_eq(b->status, 429);
		sse_close(b);
		ck_assert_msg(tnow_ms() < deadline, "a closed stream still holds its slot");
		usleep(200000);
	}
	sse_close(b);
	tclient_close(sock);
	ck_assert_int_eq(tdaemon_stop(d, SIGTERM), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("daemon_sse");
	TCase *tc = tcase_create("sse");

	tcase_add_unchecked_fixture(tc, lookup_ids, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_events_and_resume);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_resync);
	tcase_add_test(tc, test_idle_pings);
	tcase_add_test(tc, test_slow_stream_cut_off);
	tcase_add_test(tc, test_account_change_ends_streams);
	tcase_add_test(tc, test_drain_ends_streams);
	tcase_add_test(tc, test_streams_count_as_sessions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tdaemon_run_suite(suite());
}
