/*
 * Bad input and misbehaving clients against the real streetd.  Each case checks
 * the exact error code, whether the connection stays usable (a `whoami` works)
 * or is closed as docs/protocol.md says, and that a second, well-behaved client
 * connected at the same time never notices.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tdaemon.h"
#include "tdb.h"

static struct tdaemon *d;

static void stop(void)
{
	int status = tdaemon_stop(d, SIGTERM);

	ck_assert_msg(status >= 0 && status < 128, "streetd crashed or hung (status %d)", status);
}

/* The witness: a well-behaved client that must see nothing but its own replies. */
static void witness_check(struct tclient *wt)
{
	json_object *r = tclient_ok(wt, "{\"op\":\"whoami\"}");

	ck_assert_str_eq(tj_str(r, "result.account.login"), "zhang.wei");
	ck_assert_msg(tclient_queued(wt) == 0, "the witness got %zu unexpected lines",
	              tclient_queued(wt));
}

/* Sends one raw line (the "\n" included by the caller) and expects one reply
 * with error `code`; id_ok: the reply's id must be this integer (-1: null or
 * this integer is fine, -2: must be null). */
static json_object *expect_raw(struct tclient *c, const char *raw, size_t len, const char *code,
                               long long id)
{
	json_object *r, *idv = NULL;

	ck_assert_int_eq(tclient_send_raw(c, raw, len), 0);
	r = tclient_recv(c, 10000);
	ck_assert_msg(r != NULL, "no reply to %.200s (%s)", raw,
	              tclient_closed(c) ? "connection closed" : "timeout");
	ck_assert_msg(tj_code(r) != NULL && strcmp(tj_code(r), code) == 0,
	              "expected %s for %.200s, got %s", code, raw, tj_dump(r));
	ck_assert_msg(!tj_bool(r, "ok") && tj_get(r, "ok") != NULL, "no ok:false in %s",
	              tj_dump(r));
	ck_assert_msg(json_object_object_get_ex(r, "id", &idv), "reply without id: %s", tj_dump(r));
	if (id == -2)
		ck_assert_msg(idv == NULL, "expected id null for %.200s: %s", raw, tj_dump(r));
	else if (id == -1)
		ck_assert_msg(idv == NULL || json_object_get_int64(idv) == 0 ||
		                      json_object_get_int64(idv) > 0,
		              "bad id: %s", tj_dump(r));
	else
		ck_assert_msg(idv != NULL && json_object_is_type(idv, json_type_int) &&
		                      json_object_get_int64(idv) == id,
		              "expected id %lld for %.200s: %s", id, raw, tj_dump(r));
	return r;
}

static json_object *expect_line(struct tclient *c, const char *line, const char *code, long long id)
{
	char *raw;
	size_t n = strlen(line);
	json_object *r;

	raw = malloc(n + 2);
	ck_assert_ptr_nonnull(raw);
	memcpy(raw, line, n);
	raw[n] = '\n';
	raw[n + 1] = '\0';
	r = expect_raw(c, raw, n + 1, code, id);
	free(raw);
	return r;
}

static void still_usable(struct tclient *c, const char *login)
{
	json_object *r = tclient_ok(c, "{\"op\":\"whoami\"}");

	ck_assert_str_eq(tj_str(r, "result.account.login"), login);
}

START_TEST(malformed_requests)
{
	struct tclient *wt, *c;
	static const char bad_utf8[] = "{\"id\":40,\"op\":\"list\",\"text\":\"\xff\xfe\"}\n";
	static const char bad_utf8_2[] = "{\"id\":41,\"op\":\"list\",\"text\":\"\xc3\x28\"}\n";
	static const char overlong[] = "{\"id\":42,\"op\":\"list\",\"text\":\"\xc0\xaf\"}\n";
	static const char surrogate[] = "{\"id\":43,\"op\":\"list\",\"text\":\"\xed\xa0\x80\"}\n";
	static const char nul_byte[] = "{\"id\":44,\"op\":\"whoami\"}\0\n";
	struct {
		const char *line;
		long long id; /* as expect_raw */
	} cases[] = {
		{ "{\"id\":1,\"op\":\"whoami\"", -2 },
		{ "not json at all", -2 },
		{ "[]", -2 },
		{ "[{\"id\":2,\"op\":\"whoami\"}]", -2 },
		{ "\"whoami\"", -2 },
		{ "42", -2 },
		{ "null", -2 },
		{ "{}", -2 },
		{ "{\"op\":\"whoami\"}", -2 },
		{ "{\"id\":3,\"op\":\"nosuchop\"}", 3 },
		{ "{\"id\":4,\"op\":\"whoami\",\"extra\":1}", 4 },
		{ "{\"id\":5,\"op\":\"get\"}", 5 },
		{ "{\"id\":6,\"op\":\"get\",\"ticket\":\"1\"}", 6 },
		{ "{\"id\":7,\"op\":\"accept\",\"ticket\":1,\"version\":1.5}", 7 },
		{ "{\"id\":8,\"op\":\"get\",\"ticket\":0}", 8 },
		{ "{\"id\":9,\"op\":\"get\",\"ticket\":-3}", 9 },
		{ "{\"id\":10,\"op\":\"get\",\"ticket\":null}", 10 },
		{ "{\"id\":11,\"op\":\"get\",\"ticket\":true}", 11 },
		{ "{\"id\":12,\"op\":\"get\",\"ticket\":99999999999999999999999}", -1 },
		{ "{\"id\":13,\"op\":\"accept\",\"ticket\":1,\"version\":\"2\"}", 13 },
		{ "{\"id\":14,\"op\":\"whoami\",\"op\":\"whoami\"}", -1 },
		{ "{\"id\":15,\"id\":15,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":16,\"op\":\"list\",\"text\":\"a\\u0000b\"}", -1 },
		{ "{\"id\":17,\"op\":\"get\",\"ticket\":NaN}", -1 },
		{ "{\"id\":18,\"op\":\"get\",\"ticket\":Infinity}", -1 },
		{ "{\"id\":19,\"op\":\"whoami\"} {\"id\":20,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":21,\"op\":\"whoami\"}x", -1 },
		{ "{\"id\":22,\"op\":\"list\",\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{"
		  "\"h\":{"
		  "}}}}}}}}}",
		  -1 },
		{ "{\"id\":9007199254740992,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":-1,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":1.5,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":\"\",\"op\":\"whoami\"}", -1 },
		{ "{\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		  "\"op\":"
		  "\"whoami\"}",
		  -1 },
		{ "{\"id\":true,\"op\":\"whoami\"}", -1 },
		{ "{\"id\":23,\"op\":7}", 23 },
		{ "{\"id\":25,\"op\":\"list\",\"text\":"
		  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		  25 },
		{ "{\"id\":26,\"op\":\"list\",\"from\":\"yesterday\"}", 26 },
		{ "{\"id\":27,\"op\":\"report\",\"category\":1,\"grid\":1}", 27 },
		{ "{\"id\":28,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"x\","
		  "\"photos\":\"1\"}",
		  28 },
		{ "{\"id\":29,\"op\":\"comment\",\"ticket\":1,\"text\":\"x\",\"key\":\"\"}", 29 },
		{ "{\"id\":30,\"op\":\"whoami\"", -2 },
	};

	d = tdaemon_start(NULL);
	wt = tclient_connect(d, "zhang.wei");
	c = tclient_connect(d, "wang.fang");
	witness_check(wt);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_line(c, cases[i].line, "bad_request", cases[i].id);
		still_usable(c, "wang.fang");
		if (i % 8 == 0)
			witness_check(wt);
	}
	expect_raw(c, bad_utf8, sizeof(bad_utf8) - 1, "bad_request", -1);
	still_usable(c, "wang.fang");
	expect_raw(c, bad_utf8_2, sizeof(bad_utf8_2) - 1, "bad_request", -1);
	still_usable(c, "wang.fang");
	expect_raw(c, overlong, sizeof(overlong) - 1, "bad_request", -1);
	still_usable(c, "wang.fang");
	expect_raw(c, surrogate, sizeof(surrogate) - 1, "bad_request", -1);
	still_usable(c, "wang.fang");
	expect_raw(c, nul_byte, sizeof(nul_byte) - 1, "bad_request", -1);
	still_usable(c, "wang.fang");

	/* What must work: a string id, "\r\n", several requests in one write. */
	{
		static const char crlf[] = "{\"id\":\"abc-1\",\"op\":\"whoami\"}\r\n";
		static const char two[] =
		        "{\"id\":50,\"op\":\"whoami\"}\n{\"id\":51,\"op\":\"whoami\"}\n";
		json_object *r;
		bool seen50 = false, seen51 = false;

		ck_assert_int_eq(tclient_send_raw(c, crlf, sizeof(crlf) - 1), 0);
		r = tclient_recv(c, 10000);
		ck_assert_reply_ok(r);
		ck_assert_str_eq(tj_str(r, "id"), "abc-1");
		ck_assert_int_eq(tclient_send_raw(c, two, sizeof(two) - 1), 0);
		for (int i = 0; i < 2; i++) {
			r = tclient_recv(c, 10000);
			ck_assert_reply_ok(r);
			if (tj_int(r, "id") == 50)
				seen50 = true;
			if (tj_int(r, "id") == 51)
				seen51 = true;
		}
		ck_assert(seen50 && seen51);
		/* The largest id. */
		ck_assert_int_eq(tclient_send(c, "{\"id\":9007199254740991,\"op\":\"whoami\"}"), 0);
		r = tclient_recv(c, 10000);
		ck_assert_reply_ok(r);
		ck_assert_int_eq(tj_int(r, "id"), 9007199254740991LL);
		/* Unicode escapes that are fine. */
		r = tclient_ok(c, "{\"op\":\"list\",\"text\":\"\\u5ef6\\u5b89 \\ud83d\\ude00\"}");
		ck_assert_reply_ok(r);
	}
	witness_check(wt);
	still_usable(c, "wang.fang");
	tclient_close(c);
	witness_check(wt);
	tclient_close(wt);
	stop();
}
END_TEST

/* A line of exactly n bytes including its "\n": whoami padded with spaces. */
static char *whoami_of_size(size_t n, long long id)
{
	char head[64];
	size_t h = (size_t)snprintf(head, sizeof(head), "{\"id\":%lld,\"op\":\"whoami\"", id);
	char *b = malloc(n + 1);

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_gt(n, h + 2);
	memcpy(b, head, h);
	memset(b + h, ' ', n - h - 2);
	b[n - 2] = '}';
	b[n - 1] = '\n';
	b[n] = '\0';
	return b;
}

START_TEST(line_too_long)
{
	struct tclient *wt, *c;
	char *line;
	json_object *r;

	d = tdaemon_start("limits.max_line=4KiB");
	wt = tclient_connect(d, "zhang.wei");
	c = tclient_connect(d, "wang.fang");

	/* Exactly max_line bytes with the newline: accepted. */
	line = whoami_of_size(4096, 1);
	ck_assert_int_eq(tclient_send_raw(c, line, 4096), 0);
	free(line);
	r = tclient_recv(c, 10000);
	ck_assert_reply_ok(r);
	ck_assert_int_eq(tj_int(r, "id"), 1);
	witness_check(wt);

	/* One byte more: too_large, then closed. */
	line = whoami_of_size(4097, 2);
	ck_assert_int_eq(tclient_send_raw(c, line, 4097), 0);
	free(line);
	r = tclient_recv(c, 10000);
	ck_assert_msg(r != NULL, "no too_large reply (%s)",
	              tclient_closed(c) ? "closed without a reply" : "timeout");
	ck_assert_reply_code(r, "too_large");
	ck_assert_msg(tclient_wait_closed(c, 5000) >= 0, "connection still open after too_large");
	tclient_close(c);

	/* A long line without any newline at all, sent in pieces. */
	c = tclient_connect(d, "wang.fang");
	{
		char junk[1024];
		int sent = 0;

		memset(junk, 'a', sizeof(junk));
		junk[0] = '{';
		/* 5 KiB: past the limit, but nothing the server has not read when it closes. */
		for (int i = 0; i < 5 && !tclient_closed(c); i++) {
			if (tclient_send_raw(c, junk, sizeof(junk)) != 0)
				break;
			sent++;
		}
		r = tclient_recv(c, 10000);
		ck_assert_msg(r != NULL, "no too_large reply after %d KiB without a newline", sent);
		ck_assert_reply_code(r, "too_large");
		ck_assert_msg(tclient_wait_closed(c, 5000) >= 0,
		              "connection still open after too_large");
	}
	tclient_close(c);
	witness_check(wt);
	tclient_close(wt);
	stop();
}
END_TEST

START_TEST(too_many_in_flight)
{
	struct tclient *wt, *c;
	char buf[20 * 64];
	size_t n = 0;
	int seen[21] = { 0 };
	int limited = 0, ok = 0;

	d = tdaemon_start("limits.max_inflight=2");
	wt = tclient_connect(d, "zhang.wei");
	c = tclient_connect(d, "zhang.wei");
	for (int i = 1; i <= 20; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
		                      "{\"id\":%d,\"op\":\"list\",\"limit\":200}\n", i);
	ck_assert_int_eq(tclient_send_raw(c, buf, n), 0);
	for (int i = 0; i < 20; i++) {
		json_object *r = tclient_recv(c, 10000);
		long long id;

		ck_assert_msg(r != NULL, "only %d of 20 replies (%s)", i,
		              tclient_closed(c) ? "closed" : "timeout");
		id = tj_int(r, "id");
		ck_assert_msg(id >= 1 && id <= 20, "unexpected reply %s", tj_dump(r));
		seen[id]++;
		if (tj_ok(r))
			ok++;
		else {
			ck_assert_reply_code(r, "rate_limited");
			limited++;
		}
	}
	for (int i = 1; i <= 20; i++)
		ck_assert_msg(seen[i] == 1, "request %d answered %d times", i, seen[i]);
	ck_assert_int_gt(limited, 0);
	ck_assert_int_gt(ok, 0);
	ck_assert_ptr_null(tclient_recv(c, 500));
	ck_assert(!tclient_closed(c));
	still_usable(c, "zhang.wei");
	witness_check(wt);
	tclient_close(c);
	tclient_close(wt);
	stop();
}
END_TEST

/* More connections in their handshake than limits.max_handshakes: the rest
 * are closed at once; sessions already open do not notice, and once the
 * unfinished ones are gone a new client gets in. */
START_TEST(handshake_limit)
{
	struct tclient *wt;
	int fds[20], closed = 0;

	d = tdaemon_start("limits.max_handshakes=5\nlimits.handshake_timeout=2s");
	wt = tclient_connect(d, "zhang.wei");
	for (int i = 0; i < 20; i++)
		fds[i] = tdaemon_tcp_connect(d);
	ck_assert_msg(tdaemon_log_wait(d, "connection refused: handshake limit", 3000),
	              "20 unfinished handshakes, max_handshakes 5: none refused");
	usleep(300 * 1000);
	for (int i = 0; i < 20; i++)
		closed += tfd_peer_closed(fds[i]);
	ck_assert_msg(closed == 15, "%d of 20 closed at once, want 15", closed);
	witness_check(wt);
	for (int i = 0; i < 20; i++)
		ck_assert_msg(tfd_wait_closed(fds[i], 5000) >= 0, "connection %d still open", i);
	for (int i = 0; i < 20; i++)
		close(fds[i]);
	{
		struct tclient *c = tclient_connect(d, "wang.fang");

		still_usable(c, "wang.fang");
		tclient_close(c);
	}
	witness_check(wt);
	tclient_close(wt);
	stop();
}
END_TEST

START_TEST(handshake_timeout)
{
	struct tclient *wt;
	int fd, ms;
	/* The first bytes of a TLS ClientHello record, then nothing. */
	static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
		                                 0x00, 0x01, 0xfc, 0x03, 0x03 };

	d = tdaemon_start("limits.handshake_timeout=1s");
	wt = tclient_connect(d, "zhang.wei");

	fd = tdaemon_tcp_connect(d);
	ms = tfd_wait_closed(fd, 3500);
	ck_assert_msg(ms >= 0, "a connection that sends nothing is still open after 3.5 s");
	ck_assert_msg(ms >= 500, "closed after %d ms, before the 1 s handshake timeout", ms);
	close(fd);
	witness_check(wt);

	fd = tdaemon_tcp_connect(d);
	ck_assert_int_eq(write(fd, partial, sizeof(partial)), (ssize_t)sizeof(partial));
	ms = tfd_wait_closed(fd, 3500);
	ck_assert_msg(ms >= 0, "a connection stalled mid-handshake is still open after 3.5 s");
	close(fd);

	/* The witness, connected all along and active, is fine; a new client too. */
	witness_check(wt);
	{
		struct tclient *c = tclient_connect(d, "wang.fang");

		still_usable(c, "wang.fang");
		tclient_close(c);
	}
	tclient_close(wt);
	stop();
}
END_TEST

START_TEST(idle_timeout)
{
	struct tclient *quiet, *chatty;
	long long start;
	int ms;

	d = tdaemon_start("limits.idle_timeout=2s");
	quiet = tclient_connect(d, "wang.fang");
	chatty = tclient_connect(d, "zhang.wei");
	still_usable(quiet, "wang.fang");
	start = tnow_ms();
	/* The chatty one sends whoami every 700 ms and stays. */
	while (!tclient_closed(quiet) && tnow_ms() - start < 7000) {
		witness_check(chatty);
		tclient_wait_closed(quiet, 700);
	}
	ms = (int)(tnow_ms() - start);
	ck_assert_msg(tclient_closed(quiet), "a silent session is still open after %d ms", ms);
	ck_assert_msg(ms >= 1500, "closed after %d ms, before the 2 s idle timeout", ms);
	ck_assert_msg(ms <= 5000, "closed only after %d ms (idle timeout 2 s)", ms);
	for (int i = 0; i < 4; i++) {
		witness_check(chatty);
		ck_assert(tclient_wait_closed(chatty, 700) < 0);
	}
	ck_assert(!tclient_closed(chatty));
	witness_check(chatty);
	tclient_close(quiet);
	tclient_close(chatty);
	stop();
}
END_TEST

/* A client waiting for a reply is not idle: the reply must not be lost to the
 * idle timeout.  (A row lock held from another connection keeps the request in
 * the database for longer than idle_timeout.) */
START_TEST(idle_timeout_spares_requests_in_flight)
{
	struct tclient *w;
	PGconn *db, *admin;
	json_object *r;
	long long t;
	char line[256];
	const char *p[1];
	PGresult *res;

	d = tdaemon_start("limits.idle_timeout=2s");
	w = tclient_connect(d, "wang.fang");
	db = tdb_connect(false);
	r = tclient_ok(w,
	               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"idle in "
	               "flight %d\"}",
	               tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"),
	               (int)getpid());
	PQfinish(db);
	t = tj_ticket_id(r);
	admin = tdb_connect(true);
	p[0] = tdb_fmt("%lld", t);
	res = PQexec(admin, "BEGIN");
	PQclear(res);
	ck_assert_int_eq(
	        tdb_int(admin, "SELECT id FROM street.ticket WHERE id = $1 FOR UPDATE", 1, p), t);
	snprintf(line, sizeof(line),
	         "{\"id\":9,\"op\":\"comment\",\"ticket\":%lld,\"text\":\"waiting\"}", t);
	ck_assert_int_eq(tclient_send(w, line), 0);
	/* Silent for 3.5 s, waiting for the reply the lock holds back. */
	r = tclient_recv(w, 3500);
	res = PQexec(admin, "COMMIT");
	PQclear(res);
	PQfinish(admin);
	if (r == NULL) {
		ck_assert_msg(!tclient_closed(w),
		              "the idle timeout (2 s) closed a session that was waiting for the "
		              "reply to its request");
		r = tclient_recv(w, 10000);
	}
	ck_assert_msg(r != NULL, "no reply after the lock was released (%s)",
	              tclient_closed(w) ? "closed" : "timeout");
	ck_assert_int_eq(tj_int(r, "id"), 9);
	ck_assert_reply_ok(r);
	tclient_close(w);
	stop();
}
END_TEST

/* Clients that go away at the worst moments: with a request waiting in the
 * database, with many replies on their way, mid-handshake, or speaking
 * something other than TLS.  The daemon carries on; the witness notices nothing. */
START_TEST(vanishing_clients)
{
	struct tclient *wt, *c;
	PGconn *db, *admin;
	json_object *r;
	long long t;
	char line[256];
	const char *p[1];
	int fd;

	d = tdaemon_start(NULL);
	wt = tclient_connect(d, "zhang.wei");
	c = tclient_connect(d, "wang.fang");
	db = tdb_connect(false);
	r = tclient_ok(c,
	               "{\"op\":\"report\",\"category\":%d,\"grid\":%d,\"description\":\"vanish "
	               "%d\"}",
	               tdb_category(db, "pollution.dust"), tdb_grid(db, "jg-yanan-02"),
	               (int)getpid());
	PQfinish(db);
	t = tj_ticket_id(r);

	/* Gone while its request waits on a row lock; the lock is released afterwards. */
	admin = tdb_connect(true);
	p[0] = tdb_fmt("%lld", t);
	PQclear(PQexec(admin, "BEGIN"));
	tdb_int(admin, "SELECT id FROM street.ticket WHERE id = $1 FOR UPDATE", 1, p);
	snprintf(line, sizeof(line),
	         "{\"id\":1,\"op\":\"comment\",\"ticket\":%lld,\"text\":\"gone\"}\n"
	         "{\"id\":2,\"op\":\"urge\",\"ticket\":%lld}\n",
	         t, t);
	ck_assert_int_eq(tclient_send_raw(c, line, strlen(line)), 0);
	usleep(200000);
	tclient_close(c);
	usleep(200000);
	PQclear(PQexec(admin, "COMMIT"));
	PQfinish(admin);
	usleep(300000);
	ck_assert_msg(tdaemon_running(d),
	              "streetd died (status %d) after a client left with a "
	              "request in flight",
	              tdaemon_exit_status(d));
	witness_check(wt);

	/* Ten clients each ask for 16 lists and leave without reading a byte. */
	for (int i = 0; i < 10; i++) {
		char burst[16 * 64];
		size_t n = 0;

		c = tclient_connect(d, "zhang.wei");
		for (int k = 0; k < 16; k++)
			n += (size_t)snprintf(burst + n, sizeof(burst) - n,
			                      "{\"id\":%d,\"op\":\"list\",\"limit\":200}\n", k);
		ck_assert_int_eq(tclient_send_raw(c, burst, n), 0);
		tclient_close(c);
	}
	usleep(500000);
	ck_assert_msg(tdaemon_running(d), "streetd died (status %d) after clients left mid-burst",
	              tdaemon_exit_status(d));
	witness_check(wt);

	/* Mid-handshake, and not TLS at all. */
	for (int i = 0; i < 5; i++) {
		static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };

		fd = tdaemon_tcp_connect(d);
		ck_assert_int_eq(write(fd, partial, sizeof(partial)), (ssize_t)sizeof(partial));
		close(fd);
	}
	fd = tdaemon_tcp_connect(d);
	ck_assert_int_eq(write(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), 27);
	ck_assert_msg(tfd_wait_closed(fd, 5000) >= 0, "a client speaking HTTP is still connected");
	close(fd);
	usleep(200000);
	ck_assert(tdaemon_running(d));
	witness_check(wt);
	c = tclient_connect(d, "wang.fang");
	still_usable(c, "wang.fang");
	tclient_close(c);
	tclient_close(wt);
	stop();
}
END_TEST

START_TEST(sessions_per_account)
{
	struct tclient *a1, *a2, *a3, *other;
	json_object *r;
	long long deadline;

	d = tdaemon_start("limits.max_sessions_per_account=2");
	a1 = tclient_connect(d, "wang.fang");
	a2 = tclient_connect(d, "wang.fang");
	still_usable(a1, "wang.fang");
	still_usable(a2, "wang.fang");
	a3 = tclient_connect(d, "wang.fang");
	r = tclient_recv(a3, 10000);
	ck_assert_msg(r != NULL, "the third session got no line (%s)",
	              tclient_closed(a3) ? "closed without a reply" : "timeout");
	ck_assert_reply_code(r, "rate_limited");
	ck_assert_msg(tclient_wait_closed(a3, 5000) >= 0, "the third session is still open");
	tclient_close(a3);

	/* The first two and other accounts are unaffected. */
	still_usable(a1, "wang.fang");
	still_usable(a2, "wang.fang");
	other = tclient_connect(d, "zhang.wei");
	still_usable(other, "zhang.wei");

	/* A freed slot can be used again (once the server has seen the close). */
	tclient_close(a2);
	deadline = tnow_ms() + 5000;
	for (;;) {
		struct tclient *again = tclient_connect(d, "wang.fang");
		json_object *w = tclient_try_call(again, 5000, "{\"op\":\"whoami\"}");

		if (w != NULL && tj_ok(w)) {
			tclient_close(again);
			break;
		}
		tclient_close(again);
		ck_assert_msg(tnow_ms() < deadline, "a freed session slot is still refused: %s",
		              tj_dump(w));
		usleep(200000);
	}
	still_usable(a1, "wang.fang");
	tclient_close(a1);
	tclient_close(other);
	stop();
}
END_TEST

/* Appends a batch of 8 `categories` requests (~5.6 KB of reply each). */
static size_t categories_batch(char *buf, size_t cap, int *next_id)
{
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(buf + n, cap - n, "{\"id\":%d,\"op\":\"categories\"}\n",
		                      (*next_id)++);
	return n;
}

START_TEST(reader_that_never_reads)
{
	struct tclient *wt, *slow, *reader;
	long long start;
	char batch[8 * 64], rbatch[8 * 64];
	size_t n = 0;
	int rounds = 0, sent = 0, next_id = 1, reader_id = 1;
	bool cut = false;

	d = tdaemon_start("limits.max_backlog=64KiB");
	wt = tclient_connect(d, "zhang.wei");
	/* A small receive buffer, so that the kernel holds little of what we never read. */
	tclient_set_rcvbuf(16384);
	slow = tclient_connect(d, "li.na");
	tclient_set_rcvbuf(0);
	reader = tclient_connect(d, "li.na");

	/* The slow client asks and never reads; its twin asks the same and reads. A batch
	 * the socket did not take in time is offered again as it is (OpenSSL wants the
	 * same bytes on a retry). */
	start = tnow_ms();
	while (tnow_ms() - start < 40000) {
		size_t rn;
		int r;

		if (n == 0)
			n = categories_batch(batch, sizeof(batch), &next_id);
		r = tclient_send_raw_timeout(slow, batch, n, 200);
		if (r == -1 || tfd_peer_closed(tclient_fd(slow))) {
			cut = true;
			break;
		}
		if (r == 0) {
			sent += 8;
			n = 0;
		}
		rn = categories_batch(rbatch, sizeof(rbatch), &reader_id);
		ck_assert_int_eq(tclient_send_raw(reader, rbatch, rn), 0);
		for (int i = 0; i < 8; i++) {
			json_object *rep = tclient_recv(reader, 10000);

			ck_assert_msg(rep != NULL,
			              "the reading twin lost its session (%s) after %d rounds",
			              tclient_closed(reader) ? "closed" : "timeout", rounds);
			ck_assert_reply_ok(rep);
		}
		if (++rounds % 20 == 0)
			witness_check(wt);
	}
	if (!cut) {
		/* Blocked on writing: the server should still cut us off. */
		long long until = tnow_ms() + 10000;

		while (!cut && tnow_ms() < until) {
			cut = tfd_peer_closed(tclient_fd(slow));
			usleep(100000);
		}
	}
	ck_assert_msg(cut, "a client that never reads is still connected after %d requests", sent);
	fprintf(stderr, "reader_that_never_reads: cut off after %d requests, %d rounds (%lld ms)\n",
	        sent, rounds, tnow_ms() - start);
	ck_assert_msg(sent >= 16, "cut off after only %d requests: before its buffers could fill",
	              sent);
	witness_check(wt);
	still_usable(reader, "li.na");
	tclient_close(slow);
	tclient_close(reader);
	{
		struct tclient *c = tclient_connect(d, "li.na");

		still_usable(c, "li.na");
		tclient_close(c);
	}
	witness_check(wt);
	tclient_close(wt);
	stop();
}
END_TEST

/* What a client sends reaches the log only as a quoted value: a field name
 * (echoed in the error) or a request id cannot add a key=value of its own. */
START_TEST(log_values_cannot_forge_keys)
{
	struct tclient *c;
	json_object *r;
	const char *log;

	d = tdaemon_start(NULL);
	c = tclient_connect(d, "li.na");
	ck_assert_int_eq(tclient_send(c, "{\"id\":1,\"op\":\"whoami\",\"x\\\" forged=\\\"1\":2}"),
	                 0);
	r = tclient_recv(c, 10000);
	ck_assert_reply_code(r, "bad_request");
	ck_assert_int_eq(tclient_send(c, "{\"id\":\"a b=c\",\"op\":\"whoami\"}"), 0);
	r = tclient_recv(c, 10000);
	ck_assert_reply_ok(r);
	ck_assert(tdaemon_log_wait(d, "op=whoami status=ok", 5000));
	log = tdaemon_log(d);
	ck_assert_msg(strstr(log, "error=\"unknown field \\\"x\\\" forged=\\\"1\\\" for op") !=
	                      NULL,
	              "the error is not quoted as one value:\n%s", log);
	ck_assert_msg(strstr(log, " forged=\"1") == NULL, "a client forged a key:\n%s", log);
	ck_assert_msg(strstr(log, "req=\"\\\"a b=c\\\"\"") != NULL,
	              "the request id is not quoted as one value:\n%s", log);
	tclient_close(c);
	stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_input");
	TCase *tc = tcase_create("input");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, malformed_requests);
	tcase_add_test(tc, line_too_long);
	tcase_add_test(tc, too_many_in_flight);
	tcase_add_test(tc, handshake_timeout);
	tcase_add_test(tc, handshake_limit);
	tcase_add_test(tc, idle_timeout);
	tcase_add_test(tc, idle_timeout_spares_requests_in_flight);
	tcase_add_test(tc, sessions_per_account);
	tcase_add_test(tc, vanishing_clients);
	tcase_add_test(tc, reader_that_never_reads);
	tcase_add_test(tc, log_values_cannot_forge_keys);
	suite_add_tcase(s, tc);
	return tdaemon_run_suite(s);
}
