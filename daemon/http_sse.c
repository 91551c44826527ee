/*
 * http_sse: GET /api/events, the account's pushed events as Server-Sent
 * Events (docs/http.md).  A stream is a caller (caller.h) whose push writes
 * to the HTTP response: it subscribes through the socket's subscribe op
 * (subscribe.c, push.c), so replay, filters, the seam between replay and
 * live, and resync are the socket's.  Each event is one message,
 *     id: <seq>
 *     data: <the event line exactly as the socket pushes it>
 * so a browser's EventSource resumes by itself (Last-Event-ID = since).
 *
 * Rules of a stream, as for sessions: a client that leaves more than
 * limits.max_backlog unread is cut off; an account disabled or changed
 * (its revision) ends its streams (the check of account_watch.c, on the same
 * statement, every SSE_WATCH_EVERY_MS); SIGTERM ends them.  A stream sends a
 * comment every SSE_PING_MS (or half http.keepalive_timeout if shorter) when
 * it has nothing else to send, so proxies keep it and a dead peer shows.
 * Ending a stream closes its connection (Connection: close): the
 * EventSource's reconnection then authenticates afresh.
 *
 * Ownership: struct http_sse (owned by the server, http.c) owns every
 * stream.  A stream is linked from its connection (c->sse) while it serves
 * it; once ended it waits on the reaped list for a safe point to be freed,
 * since push.c and subscribe.c may still look at the caller on their way
 * out of the callback that ended it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "accounts.h"
#include "caller.h"
#include "config.h"
#include "db.h"
#include "evtime.h"
#include "handlers.h"
#include "http.h"
#include "http_conn.h"
#include "log.h"
#include "stmts.h"

/* Below the usual 30-60 s idle cut of proxies and load balancers. */
#define SSE_PING_MS 15000
/* As account_watch.c: "disabling ends live sessions within seconds". */
#define SSE_WATCH_EVERY_MS 2000
/* The most one write of a stream's connection hands to TLS. */
#define SSE_MAX_SINGLE_WRITE (256 * 1024)

struct http_sse_stream {
	struct caller c;                  /* first: the request path's view */
	LIST_ENTRY(http_sse_stream) link; /* in live or reaped */
	struct http_sse *sse;
	struct http_conn *conn;     /* NULL once ended */
	struct evhttp_request *req; /* NULL once answered or abandoned */
	struct identity who;
	bool streaming; /* the 200 and its headers are out */
	bool chunked;   /* HTTP/1.1: each message is one chunk */
	bool wrote;     /* something went out since the last ping tick */
	bool held;      /* counted in accounts (max_sessions_per_account) */
	bool done;
};

struct http_sse {
	struct event_base *base;
	const struct http_env *env;
	LIST_HEAD(, http_sse_stream) live, reaped;
	size_t nlive;
	struct event *reap;  /* frees the reaped streams at a safe point */
	struct event *ping;  /* every ping interval: idle streams get a comment */
	struct event *watch; /* every SSE_WATCH_EVERY_MS: account changes */
	struct db_query *watch_query;
	int64_t ping_ms;
	bool draining;
};

static struct http_sse_stream *stream_of(struct caller *c)
{
	return (struct http_sse_stream *)(void *)c;
}

static const struct streetd_config *cfg_of(const struct http_sse *sse)
{
	return sse->env->cfg;
}

static int64_t ping_every(const struct http_sse *sse)
{
	int64_t half = cfg_of(sse)->http.keepalive_timeout_ms / 2;

	return half > 0 && half < SSE_PING_MS ? half : SSE_PING_MS;
}

static void arm_ping(struct http_sse *sse)
{
	int64_t every = ping_every(sse);

	if (every != sse->ping_ms || !event_pending(sse->ping, EV_TIMEOUT, NULL)) {
		struct timeval tv = evtime_ms(every);

		sse->ping_ms = every;
		event_add(sse->ping, &tv);
	}
}

/*
 * Sends one message, the concatenation of n parts, as one piece (one chunk
 * of a chunked response, framed here as evhttp would): straight to TLS when
 * nothing is queued, so an event leaves at once in one record instead of
 * waiting a loop turn (session.c does the same, for the same fan-out cost);
 * the rest is queued contiguous, since a blocked SSL_write must be repeated
 * with the same bytes.  Returns false when it could not be queued.
 */
static bool send_parts(struct http_sse_stream *s, const char *const *part, const size_t *len, int n)
{
	struct evbuffer *out = bufferevent_get_output(s->conn->bev);
	char small[8192], *buf = small, head[24] = "";
	size_t total = 0, hl = 0, off, done = 0;
	struct evbuffer_iovec v;

	for (int i = 0; i < n; i++)
		total += len[i];
	if (s->chunked)
		hl = (size_t)snprintf(head, sizeof(head), "%zx\r\n", total);
	if (hl + total + 2 > sizeof(small) && !(buf = malloc(hl + total + 2)))
		return false;
	memcpy(buf, head, hl);
	off = hl;
	for (int i = 0; i < n; i++) {
		memcpy(buf + off, part[i], len[i]);
		off += len[i];
	}
	if (s->chunked) {
		memcpy(buf + off, "\r\n", 2);
		off += 2;
	}
	if (evbuffer_get_length(out) == 0) {
		SSL *ssl = bufferevent_openssl_get_ssl(s->conn->bev);

		while (ssl && done < off) {
			int k = SSL_write(ssl, buf + done,
			                  (int)(off - done > INT_MAX ? INT_MAX : off - done));

			if (k <= 0) {
				ERR_clear_error();
				break;
			}
			done += (size_t)k;
		}
	}
	if (done < off) {
		if (evbuffer_reserve_space(out, (ev_ssize_t)(off - done), &v, 1) != 1) {
			if (buf != small)
				free(buf);
			return false;
		}
		memcpy(v.iov_base, buf + done, off - done);
		v.iov_len = off - done;
		evbuffer_commit_space(out, &v, 1);
	}
	if (buf != small)
		free(buf);
	s->wrote = true;
	return true;
}

static void send_text(struct http_sse_stream *s, const char *text)
{
	size_t n = strlen(text);

	(void)send_parts(s, &text, &n, 1);
}

/* "event: NAME\n" (if name), "id: ID\n" (if id >= 0), "data: DATA\n\n". */
static void send_event(struct http_sse_stream *s, const char *name, int64_t id, const char *data)
{
	char head[128];
	int n = 0;

	if (name)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "event: %s\n", name);
	if (id >= 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "id: %" PRId64 "\n", id);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "data: ");
	(void)send_parts(s, (const char *[]){ head, data, "\n\n" },
	                 (const size_t[]){ (size_t)n, strlen(data), 2 }, 3);
}

/* {"code":CODE,"message":MSG} as JSON text (json-c escapes); owned by o. */
static const char *error_data(json_object **o, enum proto_error code, const char *msg)
{
	*o = json_object_new_object();
	json_object_object_add(*o, "code", json_object_new_string(proto_error_name(code)));
	json_object_object_add(*o, "message", json_object_new_string(msg));
	return json_object_to_json_string_ext(*o, JSON_C_TO_STRING_PLAIN);
}

/*
 * Ends the stream: its subscription goes, then (when it is still answering
 * on a connection) an optional last message and the end of the response,
 * after which evhttp closes the connection.  hard: the client does not read;
 * the connection is shut now instead of waiting for it to take the end.
 */
static void stream_end(struct http_sse_stream *s, const char *last, bool hard)
{
	struct http_sse *sse = s->sse;
	struct http_conn *conn = s->conn;

	if (s->done)
		return;
	s->done = true;
	if (s->held)
		accounts_release(sse->env->accounts, s->who.account_id);
	handlers_caller_gone(sse->env->handlers, &s->c);
	LIST_REMOVE(s, link);
	sse->nlive--;
	LIST_INSERT_HEAD(&sse->reaped, s, link);
	event_active(sse->reap, EV_TIMEOUT, 0);
	if (!conn)
		return;
	conn->sse = NULL;
	if (!s->req) {
		s->conn = NULL;
		return;
	}
	if (!s->streaming) {
		/* still waiting for the subscription: an ordinary error answer */
		http_respond_error(conn, s->req, PROTO_ERR_UNAVAILABLE,
		                   "the server is shutting down; try again shortly");
		s->req = NULL;
		s->conn = NULL;
		return;
	}
	if (last && !hard)
		send_text(s, last);
	evhttp_send_reply_end(s->req); /* evhttp owns the request from here */
	s->req = NULL;
	if (hard) {
		evutil_socket_t fd = bufferevent_getfd(conn->bev);

		/* the pending write then fails and evhttp frees the connection */
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
	s->conn = NULL;
	/* the end must be taken within keepalive_timeout, or the connection is cut */
	if (--conn->busy == 0)
		evtime_add_ms(conn->deadline, cfg_of(sse)->http.keepalive_timeout_ms);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sse *sse = arg;
	struct http_sse_stream *s;

	(void)fd, (void)what;
	while ((s = LIST_FIRST(&sse->reaped))) {
		LIST_REMOVE(s, link);
		free(s);
	}
}

/* ---- the caller: how the request path talks to a stream ---- */

/* The subscription is made: the stream starts (or, too far behind, ends at
 * once with resync: the client re-reads its lists and resumes from head). */
static void op_reply_ok(struct caller *c, const char *id, const char *result, size_t len)
{
	struct http_sse_stream *s = stream_of(c);
	struct http_conn *conn = s->conn;
	struct evkeyvalq *out;
	struct timeval wto;
	json_object *r;
	int64_t head;
	bool resync;

	(void)id;
	if (s->done || !s->req || s->streaming)
		return;
	r = json_tokener_parse(result); /* {"head":H,"replay":b,"resync":b}, ours */
	head = json_object_get_int64(json_object_object_get(r, "head"));
	resync = json_object_get_boolean(json_object_object_get(r, "resync"));
	json_object_put(r);
	out = evhttp_request_get_output_headers(s->req);
	http_add_common_headers(s->req);
	evhttp_add_header(out, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(out, "X-Accel-Buffering", "no"); /* a proxy must not hold events back */
	evhttp_add_header(out, "Connection", "close"); /* a stream's end closes the connection */
	evhttp_send_reply_start(s->req, 200, "OK");
	s->streaming = true;
	/* evhttp chose: chunked for HTTP/1.1, the bare stream for 1.0 */
	s->chunked = evhttp_find_header(out, "Transfer-Encoding") != NULL;
	/* A stream is quiet on the way in by nature: no read timeout (evhttp's
	 * is keepalive_timeout); a write that stalls that long still ends it.
	 * What the client sends meanwhile is not read past max_line. */
	wto = evtime_ms(cfg_of(s->sse)->http.keepalive_timeout_ms);
	bufferevent_set_timeouts(conn->bev, NULL, &wto);
	bufferevent_setwatermark(conn->bev, EV_READ, 0, (size_t)cfg_of(s->sse)->limits.max_line);
	/* a fan-out burst leaves in one go, not 16 KiB (libevent's default) per
	 * loop turn: what piles up counts against limits.max_backlog */
	bufferevent_set_max_single_write(conn->bev, SSE_MAX_SINGLE_WRITE);
	{
		char *data = strndup(result, len);

		if (!data) {
			stream_end(s, NULL, true);
			return;
		}
		if (resync) {
			log_info("http event stream resync conn=%llu account=%s head=%" PRId64,
			         (unsigned long long)conn->id, s->who.login, head);
			send_event(s, "resync", head, data);
			free(data);
			stream_end(s, NULL, false);
			return;
		}
		send_event(s, "subscribed", -1, data);
		free(data);
	}
	log_info("http event stream started conn=%llu account=%s head=%" PRId64,
	         (unsigned long long)conn->id, s->who.login, head);
	arm_ping(s->sse);
}

static void op_reply_error(struct caller *c, const char *id, enum proto_error code, const char *msg)
{
	struct http_sse_stream *s = stream_of(c);
	json_object *o;

	(void)id;
	if (s->done)
		return;
	if (!s->streaming && s->req) {
		http_respond_error(s->conn, s->req, code, msg);
		s->req = NULL;
		stream_end(s, NULL, false);
		return;
	}
	if (s->req) {
		send_event(s, "error", -1, error_data(&o, code, msg));
		json_object_put(o);
	}
	stream_end(s, NULL, false);
}

static void op_push(struct caller *c, int64_t seq, const char *data, size_t len,
                    caller_cleanup_fn cleanup, void *arg)
{
	struct http_sse_stream *s = stream_of(c);
	struct http_conn *conn = s->conn;
	char head[48];
	size_t queued, hl;
	bool ok;

	if (s->done || !s->streaming || !s->req || len == 0) {
		cleanup(data, len, arg);
		return;
	}
	/* the line ends with its "\n": one more ends the message */
	hl = (size_t)snprintf(head, sizeof(head), "id: %" PRId64 "\ndata: ", seq);
	ok = send_parts(s, (const char *[]){ head, data, "\n\n" },
	                (const size_t[]){ hl, len, data[len - 1] == '\n' ? 1 : 2 }, 3);
	cleanup(data, len, arg);
	if (!ok) {
		stream_end(s, NULL, true);
		return;
	}
	queued = evbuffer_get_length(bufferevent_get_output(conn->bev));
	if ((int64_t)queued > cfg_of(s->sse)->limits.max_backlog) {
		log_notice("http event stream cut off: client does not read conn=%llu account=%s "
		           "backlog=%zu",
		           (unsigned long long)conn->id, s->who.login, queued);
		stream_end(s, NULL, true);
	}
}

static void op_close(struct caller *c, const char *reason)
{
	struct http_sse_stream *s = stream_of(c);
	json_object *o;

	if (s->done)
		return;
	log_info("http event stream ended conn=%llu account=%s reason=%s",
	         s->conn ? (unsigned long long)s->conn->id : 0ULL, s->who.login, reason);
	if (s->req && s->streaming) {
		send_event(s, "error", -1, error_data(&o, PROTO_ERR_UNAVAILABLE, reason));
		json_object_put(o);
	}
	stream_end(s, NULL, false);
}

static void op_request_noop(struct caller *c)
{
	(void)c; /* subscribe holds no request: nothing to count */
}

static const struct caller_ops sse_caller_ops = {
	.reply_ok = op_reply_ok,
	.reply_error = op_reply_error,
	.push = op_push,
	.close = op_close,
	.request_started = op_request_noop,
	.request_done = op_request_noop,
};

/* ---- GET /api/events ---- */

/* Adds key to the subscribe request: a whole decimal integer as a JSON
 * number, anything else as a string for proto_decode to refuse. */
static void add_param(json_object *o, const char *key, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (v[0] >= '0' && v[0] <= '9' && *end == '\0' && errno == 0)
		json_object_object_add(o, key, json_object_new_int64(n));
	else
		json_object_object_add(o, key, json_object_new_string(v));
}

/* The subscribe request of the URL's query and Last-Event-ID, as the line a
 * socket client would send; 0, or -1 with msg (bad query). */
static int subscribe_line(struct evhttp_request *req, char **line, char *msg, size_t cap)
{
	static const char *const keys[] = { "since", "category", "grid", "state" };
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *last =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	struct evkeyvalq q;
	struct evkeyval *kv;
	json_object *o = json_object_new_object();
	int rc = 0;

	TAILQ_INIT(&q);
	if (!o) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	json_object_object_add(o, "id", json_object_new_int(1));
	json_object_object_add(o, "op", json_object_new_string("subscribe"));
	if (query && evhttp_parse_query_str(query, &q) != 0) {
		snprintf(msg, cap, "the query string is malformed");
		rc = -1;
	}
	TAILQ_FOREACH(kv, &q, next)
	{
		bool known = false;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			known |= strcmp(kv->key, keys[i]) == 0;
		if (!known || json_object_object_get_ex(o, kv->key, NULL)) {
			snprintf(msg, cap,
			         "%s parameter: %.60s (takes since, category, grid, state, each "
			         "once)",
			         known ? "repeated" : "unknown", kv->key);
			rc = -1;
			break;
		}
		add_param(o, kv->key, kv->value);
	}
	/* the browser's resumption wins over the since of the URL it reopens */
	if (rc == 0 && last && last[0])
		add_param(o, "since", last);
	evhttp_clear_headers(&q);
	if (rc == 0) {
		*line = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		if (!*line) {
			snprintf(msg, cap, "out of memory");
			rc = -1;
		}
	}
	json_object_put(o);
	return rc;
}

void http_sse_get(struct http_conn *c, struct evhttp_request *req)
{
	struct http_sse *sse = http_sse_of(c);
	struct proto_request preq;
	struct http_sse_stream *s;
	char err[256];
	char *line = NULL;
	int rc;

	if (!http_auth_require(c, req))
		return;
	if (sse->draining) {
		http_respond_error(c, req, PROTO_ERR_UNAVAILABLE,
		                   "the server is shutting down; try again shortly");
		return;
	}
	/* a stream holds the account like a session does (wire.c) */
	if (accounts_count(sse->env->accounts, c->who.account_id) >=
	    cfg_of(sse)->limits.max_sessions_per_account) {
		snprintf(err, sizeof(err),
		         "account %s already has %d sessions and event streams "
		         "(the limit)",
		         c->who.login, cfg_of(sse)->limits.max_sessions_per_account);
		http_respond_error(c, req, PROTO_ERR_RATE_LIMITED, err);
		return;
	}
	if (subscribe_line(req, &line, err, sizeof(err)) != 0) {
		http_respond_error(c, req, PROTO_ERR_BAD_REQUEST, err);
		return;
	}
	memset(&preq, 0, sizeof(preq));
	rc = proto_decode(line, strlen(line), &preq, err, sizeof(err));
	free(line);
	if (rc != 0) {
		proto_request_free(&preq);
		http_respond_error(c, req, (enum proto_error)rc, err);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s || accounts_hold(sse->env->accounts, c->who.account_id) != 0) {
		free(s);
		proto_request_free(&preq);
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	s->held = true;
	s->sse = sse;
	s->conn = c;
	s->req = req;
	s->who = c->who;
	caller_init(&s->c, &s->who, &sse_caller_ops, c->id);
	LIST_INSERT_HEAD(&sse->live, s, link);
	sse->nlive++;
	c->sse = s;
	/* the socket's subscribe: replies (the stream starts), replays, goes live */
	handlers_run(sse->env->handlers, &s->c, &preq);
	proto_request_free(&preq);
}

void http_sse_closed(struct http_conn *c)
{
	struct http_sse_stream *s = c->sse;

	if (!s)
		return;
	/* unanswered, the request is ours to free once evhttp lets go of it */
	if (s->req) {
		struct evhttp_request *req = s->req;

		s->req = NULL;
		http_request_abandon(req);
	}
	log_debug("http event stream closed by the client conn=%llu account=%s",
	          (unsigned long long)c->id, s->who.login);
	stream_end(s, NULL, false);
}

/* ---- timers: pings, account changes ---- */

static void ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sse *sse = arg;
	struct http_sse_stream *s, *next;
	size_t max_line = (size_t)cfg_of(sse)->limits.max_line;

	(void)fd, (void)what;
	for (s = LIST_FIRST(&sse->live); s; s = next) {
		next = LIST_NEXT(s, link);
		if (!s->streaming || !s->req)
			continue;
		/* a client that talks over its stream is not an EventSource */
		if (evbuffer_get_length(bufferevent_get_input(s->conn->bev)) >= max_line) {
			log_notice("http event stream cut off: client sends on it conn=%llu "
			           "account=%s",
			           (unsigned long long)s->conn->id, s->who.login);
			stream_end(s, NULL, true);
			continue;
		}
		if (!s->wrote)
			send_text(s, ": ping\n\n");
		s->wrote = false;
	}
	if (sse->nlive > 0)
		arm_ping(sse);
}

static void watch_done(void *arg, enum db_status st, const PGresult *res)
{
	struct http_sse *sse = arg;
	json_object *rows;

	sse->watch_query = NULL;
	if (st != DB_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return;
	rows = json_tokener_parse(PQgetvalue(res, 0, 0));
	for (size_t i = 0; rows && json_object_is_type(rows, json_type_array) &&
	                   i < json_object_array_length(rows);
	     i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		json_object *rev = json_object_array_get_idx(row, 1);
		int id = json_object_get_int(json_object_array_get_idx(row, 0));
		bool disabled = json_object_get_boolean(json_object_array_get_idx(row, 2));
		/* account_watch.c's rule: older revisions are stale, and so is a
		 * disabled account's current one */
		long long before = rev == NULL ? LLONG_MAX : json_object_get_int64(rev) + disabled;
		const char *why = disabled ? "account disabled" : "your account changed; reconnect";
		struct http_sse_stream *s, *next;
		int n = 0;

		for (s = LIST_FIRST(&sse->live); s; s = next) {
			json_object *o;

			next = LIST_NEXT(s, link);
			if (s->who.account_id != id || s->who.revision >= before)
				continue;
			if (s->req && s->streaming) {
				send_event(s, "error", -1,
				           error_data(&o, PROTO_ERR_UNAUTHENTICATED, why));
				json_object_put(o);
			}
			stream_end(s, NULL, false);
			n++;
		}
		if (n > 0)
			log_notice("account %s: ended its event streams account_id=%d streams=%d",
			           rev == NULL ? "deleted"
			           : disabled  ? "disabled"
			                       : "changed",
			           id, n);
	}
	json_object_put(rows);
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sse *sse = arg;
	struct evbuffer *ids, *revs;
	const struct http_sse_stream *s;
	bool first = true;

	(void)fd, (void)what;
	if (sse->watch_query || sse->nlive == 0 || db_pool_ready(sse->env->db) == 0)
		return;
	ids = evbuffer_new();
	revs = evbuffer_new();
	if (!ids || !revs)
		goto out;
	evbuffer_add(ids, "{", 1);
	evbuffer_add(revs, "{", 1);
	LIST_FOREACH(s, &sse->live, link)
	{
		evbuffer_add_printf(ids, "%s%d", first ? "" : ",", s->who.account_id);
		evbuffer_add_printf(revs, "%s%lld", first ? "" : ",", s->who.revision);
		first = false;
	}
	evbuffer_add(ids, "}", 2); /* with the NUL */
	evbuffer_add(revs, "}", 2);
	sse->watch_query = db_query(sse->env->db, STMTS_CHANGED_ACCOUNTS, 2,
	                            (const char *[]){ (const char *)evbuffer_pullup(ids, -1),
	                                              (const char *)evbuffer_pullup(revs, -1) },
	                            watch_done, sse);
out:
	if (ids)
		evbuffer_free(ids);
	if (revs)
		evbuffer_free(revs);
}

/* ---- the module ---- */

struct http_sse *http_sse_new(struct event_base *base, const struct http_env *env)
{
	struct http_sse *sse = calloc(1, sizeof(*sse));
	struct timeval every = evtime_ms(SSE_WATCH_EVERY_MS);

	if (!sse)
		return NULL;
	sse->base = base;
	sse->env = env;
	LIST_INIT(&sse->live);
	LIST_INIT(&sse->reaped);
	sse->reap = event_new(base, -1, 0, reap_cb, sse);
	sse->ping = evtimer_new(base, ping_cb, sse);
	sse->watch = event_new(base, -1, EV_PERSIST, watch_cb, sse);
	if (!sse->reap || !sse->ping || !sse->watch || event_add(sse->watch, &every) != 0) {
		http_sse_free(sse);
		return NULL;
	}
	return sse;
}

void http_sse_end_with(struct http_conn *c, enum proto_error code, const char *msg)
{
	struct http_sse_stream *s = c->sse;
	json_object *o;

	if (!s)
		return;
	if (s->req && s->streaming) {
		send_event(s, "error", -1, error_data(&o, code, msg));
		json_object_put(o);
	}
	log_notice("http event stream ended conn=%llu account=%s reason=%s",
	           (unsigned long long)c->id, s->who.login, proto_error_name(code));
	stream_end(s, NULL, false);
}

void http_sse_drain(struct http_sse *sse)
{
	struct http_sse_stream *s;

	sse->draining = true;
	while ((s = LIST_FIRST(&sse->live))) {
		log_info("http event stream ended conn=%llu account=%s reason=shutdown",
		         s->conn ? (unsigned long long)s->conn->id : 0ULL, s->who.login);
		stream_end(s, ": the server is shutting down\n\n", false);
	}
}

size_t http_sse_streams(const struct http_sse *sse)
{
	return sse ? sse->nlive : 0;
}

void http_sse_free(struct http_sse *sse)
{
	struct http_sse_stream *s;

	if (!sse)
		return;
	/* the connections are gone (evhttp_free): every stream has ended */
	while ((s = LIST_FIRST(&sse->live)))
		stream_end(s, NULL, true);
	if (sse->reap) {
		reap_cb(-1, 0, sse);
		event_free(sse->reap);
	}
	if (sse->watch_query)
		db_query_cancel(sse->watch_query);
	if (sse->ping)
		event_free(sse->ping);
	if (sse->watch)
		event_free(sse->watch);
	free(sse);
}
