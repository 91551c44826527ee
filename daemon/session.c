#include "session.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_login.h"
#include "caller.h"
#include "config.h"
#include "db.h"
#include "evtime.h"
#include "log.h"
#include "metrics.h"
#include "stmts.h"
#include "tls.h"

static void session_read_lines(struct session *s);

static const char *const session_state_names[] = { "handshake", "auth", "ready", "closing",
	                                           "reaped" };

/* Time a closing session is given to flush its last reply. */
#define CLOSE_FLUSH_MS 2000

static void session_enter(struct session *s, enum session_state to)
{
	log_debug("session state session=%llu from=%s to=%s", (unsigned long long)s->id,
	          session_state_names[s->state], session_state_names[to]);
	if (s->state == SESSION_HANDSHAKE && to != SESSION_HANDSHAKE) {
		s->hub->nhandshakes--;
		/* only a completed handshake with a usable certificate goes on to AUTH */
		metrics_count_handshake(METRICS_SOCKET, to == SESSION_AUTH);
	}
	s->state = to;
}

static void format_peer(const struct sockaddr *addr, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, cap, "%s:%d", host, port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, cap, "[%s]:%d", host, port);
	} else {
		snprintf(buf, cap, "local");
	}
}

/*
 * The backlog rule (docs/protocol.md, Limits).  A client is cut off for what
 * it leaves unread, not for the size of what it asked for: the backlog is
 * the output queued for the session minus the replies still in it, so a
 * reply never counts against the limit it is written under, however large
 * (up to SESSION_REPLY_MAX_FACTOR x max_backlog; larger ones are answered
 * too_large instead).  What does count is pushed events, which the client
 * did not ask for one by one.  Replies cannot pile up either: while more
 * than max_backlog is queued, no new request line is read (the client's own
 * requests wait for it to read), so replies queued are at most those of the
 * requests already in flight.  A client cut off gets an error line first.
 *
 * Reply bytes are tracked as ranges of the output stream (cumulative
 * offsets); pushed lines cost nothing here, so fan-out stays as cheap.
 */
static uint64_t session_sent(const struct session *s)
{
	return s->out_added - evbuffer_get_length(bufferevent_get_output(s->bev));
}

/* The bytes of replies still queued; forgets the replies already sent. */
static size_t session_reply_bytes(struct session *s)
{
	uint64_t sent = session_sent(s), n = 0;
	int drop = 0;

	while (drop < s->nreplies && s->replies[drop].end <= sent)
		drop++;
	if (drop > 0) {
		s->nreplies -= drop;
		memmove(s->replies, s->replies + drop, (size_t)s->nreplies * sizeof(s->replies[0]));
	}
	for (int i = 0; i < s->nreplies; i++)
		n += s->replies[i].end - (s->replies[i].start > sent ? s->replies[i].start : sent);
	return (size_t)n;
}

/* len bytes were just added to the output buffer; reply: they are a reply's. */
static void session_queued(struct session *s, size_t len, bool reply)
{
	uint64_t start = s->out_added;

	s->out_added += len;
	if (!reply || len == 0)
		return;
	if (s->nreplies > 0 && s->replies[s->nreplies - 1].end == start) {
		s->replies[s->nreplies - 1].end = s->out_added; /* right behind the last */
		return;
	}
	(void)session_reply_bytes(s); /* make room: forget what is sent */
	if (s->nreplies == SESSION_REPLY_RANGES) {
		/* full: the last range grows over the pushed lines between (a few
		 * lines more exempt, while reading stays paused) */
		s->replies[s->nreplies - 1].end = s->out_added;
		return;
	}
	s->replies[s->nreplies].start = start;
	s->replies[s->nreplies].end = s->out_added;
	s->nreplies++;
}

/* True while more than max_backlog is queued: no new request line is read. */
static bool session_output_full(const struct session *s)
{
	return (int64_t)evbuffer_get_length(bufferevent_get_output(s->bev)) >
	       s->hub->cfg->limits.max_backlog;
}

/* A client that does not read what is pushed to it is cut off, not buffered for. */
static void session_check_backlog(struct session *s)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev)), unread;

	if (s->state != SESSION_READY || (int64_t)queued <= s->hub->cfg->limits.max_backlog)
		return;
	unread = queued - session_reply_bytes(s);
	if ((int64_t)unread > s->hub->cfg->limits.max_backlog) {
		log_notice("session cut off: client does not read session=%llu account=%s "
		           "backlog=%zu queued=%zu",
		           (unsigned long long)s->id, s->who.login, unread, queued);
		session_close(s, "backlog limit", true);
		/* after what is queued (closing: no check again): a client that
		 * reads again within the flush time learns why */
		session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
		                    "more than limits.max_backlog of output left unread; "
		                    "disconnecting");
	}
}

/*
 * Writes straight to the TLS connection when nothing is queued, so a reply or
 * a pushed line leaves at once instead of the bufferevent arming and then
 * disarming a write event (two epoll_ctl calls and a loop turn per message,
 * the largest cost of a fan-out to thousands of sessions).  Returns the bytes
 * written; the caller queues the rest.
 */
static size_t session_write_direct(struct session *s, const char *data, size_t len)
{
	SSL *ssl;
	size_t done = 0;

	if (s->state != SESSION_READY || evbuffer_get_length(bufferevent_get_output(s->bev)) != 0)
		return 0;
	ssl = bufferevent_openssl_get_ssl(s->bev);
	while (done < len) {
		int n = SSL_write(ssl, data + done,
		                  (int)(len - done > INT_MAX ? INT_MAX : len - done));

		if (n <= 0) {
			ERR_clear_error();
			break;
		}
		done += (size_t)n;
	}
	return done;
}

/*
 * Queues what a direct write left.  A blocked SSL_write must be repeated with
 * at least the same bytes, so the rest goes into one contiguous piece: the
 * bufferevent's next SSL_write then starts with all of it.
 */
static int session_queue_contiguous(struct session *s, const char *data, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	struct evbuffer_iovec v;

	if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) != 1)
		return -1;
	memcpy(v.iov_base, data, len);
	v.iov_len = len;
	return evbuffer_commit_space(out, &v, 1);
}

/* Writes a reply (or an error line): queued, it is exempt from the backlog. */
static void session_write_reply(struct session *s, const char *data, size_t len)
{
	size_t done;

	if (s->state >= SESSION_REAPED || !s->bev)
		return;
	done = session_write_direct(s, data, len);
	if (done < len) {
		if (session_queue_contiguous(s, data + done, len - done) != 0) {
			session_close(s, "out of memory", false);
			return;
		}
		session_queued(s, len - done, true);
	}
	session_check_backlog(s);
}

void session_write_ref(struct session *s, const char *data, size_t len,
                       void (*cleanup)(const void *data, size_t len, void *arg), void *arg)
{
	size_t done;
	int rc;

	if (s->state >= SESSION_CLOSING || !s->bev) {
		cleanup(data, len, arg);
		return;
	}
	done = session_write_direct(s, data, len);
	if (done == len) {
		cleanup(data, len, arg);
		return;
	}
	if (done == 0) {
		/* one immutable piece: the shared line itself, no copy */
		rc = evbuffer_add_reference(bufferevent_get_output(s->bev), data, len, cleanup,
		                            arg);
		if (rc != 0)
			cleanup(data, len, arg);
	} else {
		rc = session_queue_contiguous(s, data + done, len - done);
		cleanup(data, len, arg);
	}
	if (rc != 0) {
		session_close(s, "out of memory", false);
		return;
	}
	session_queued(s, len - done, false);
	session_check_backlog(s);
}

void session_reply_ok(struct session *s, const char *id, const char *result, size_t len)
{
	const struct caller_part part = { result, len };

	session_reply_ok_parts(s, id, &part, 1, len);
}

/* Copies the n parts (len bytes in all) to dst. */
static void parts_copy(char *dst, const struct caller_part *parts, int n)
{
	for (int i = 0; i < n; i++) {
		memcpy(dst, parts[i].data, parts[i].len);
		dst += parts[i].len;
	}
}

void session_reply_ok_parts(struct session *s, const char *id, const struct caller_part *parts,
                            int n, size_t len)
{
	char prefix[PROTO_ID_JSON_MAX + 64];
	size_t np = proto_format_ok_prefix(prefix, sizeof(prefix), id);
	struct evbuffer *out;
	struct evbuffer_iovec v;
	char small[8192];

	if (s->state >= SESSION_REAPED || !s->bev)
		return;
	if (np + len + 2 <= sizeof(small)) {
		/* most replies: one piece that can leave at once */
		memcpy(small, prefix, np);
		parts_copy(small + np, parts, n);
		memcpy(small + np + len, "}\n", 2);
		session_write_reply(s, small, np + len + 2);
		return;
	}
	if ((int64_t)len / SESSION_REPLY_MAX_FACTOR > s->hub->cfg->limits.max_backlog) {
		char msg[160];

		snprintf(msg, sizeof(msg),
		         "the reply (%zu bytes) is more than %d x limits.max_backlog; ask for less",
		         len, SESSION_REPLY_MAX_FACTOR);
		char qid[PROTO_ID_JSON_MAX + 64];

		log_notice("reply too large session=%llu account=%s req=%s bytes=%zu",
		           (unsigned long long)s->id, s->who.login, log_quote(qid, sizeof(qid), id),
		           len);
		session_reply_error(s, id, PROTO_ERR_TOO_LARGE, msg);
		return;
	}
	out = bufferevent_get_output(s->bev);
	/* one contiguous piece: the TLS layer then sends the reply as whole
	 * records, never a small tail held back by Nagle */
	if (evbuffer_reserve_space(out, (ev_ssize_t)(np + len + 2), &v, 1) != 1) {
		session_close(s, "out of memory", false);
		return;
	}
	memcpy(v.iov_base, prefix, np);
	parts_copy((char *)v.iov_base + np, parts, n);
	memcpy((char *)v.iov_base + np + len, "}\n", 2);
	v.iov_len = np + len + 2;
	if (evbuffer_commit_space(out, &v, 1) != 0) {
		session_close(s, "out of memory", false);
		return;
	}
	session_queued(s, np + len + 2, true);
	session_check_backlog(s);
}

void session_reply_error(struct session *s, const char *id, enum proto_error code, const char *msg)
{
	char buf[1024];
	size_t n = proto_format_error(buf, sizeof(buf), id ? id : "null", code, msg);

	session_write_reply(s, buf, n);
}

static void session_free(struct session *s)
{
	if (s->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

		/* close_notify, best effort: BEV_OPT_CLOSE_ON_FREE does not send it */
		if (ssl && SSL_is_init_finished(ssl))
			SSL_shutdown(ssl);
		ERR_clear_error();
		bufferevent_free(s->bev); /* frees the SSL and closes the socket */
	}
	if (s->ev_deadline)
		event_free(s->ev_deadline);
	if (s->data)
		s->hub->proto->release(s);
	free(s);
}

static void session_reap(struct session_hub *hub)
{
	struct session *s;

	while ((s = TAILQ_FIRST(&hub->reaped)) != NULL) {
		TAILQ_REMOVE(&hub->reaped, s, link);
		session_free(s);
		hub->nsessions--;
		if (hub->on_gone)
			hub->on_gone(hub->gone_arg);
	}
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	session_reap(arg);
}

static void session_reap_now(struct session *s)
{
	struct session_hub *hub = s->hub;

	if (s->state == SESSION_REAPED)
		return;
	session_enter(s, SESSION_REAPED);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if (s->ev_deadline)
		event_del(s->ev_deadline);
	TAILQ_REMOVE(&hub->sessions, s, link);
	TAILQ_INSERT_TAIL(&hub->reaped, s, link);
	event_active(hub->ev_reap, EV_TIMEOUT, 0);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_HANDSHAKE) {
		log_info("handshake timed out session=%llu peer=%s", (unsigned long long)s->id,
		         s->peer);
		session_close(s, "handshake timeout", false);
	} else if (s->state == SESSION_READY) {
		log_info("line not finished in time session=%llu account=%s",
		         (unsigned long long)s->id, s->who.login);
		session_close(s, "line not finished within limits.idle_timeout", false);
	} else {
		session_reap_now(s);
	}
}

void session_close(struct session *s, const char *reason, bool flush)
{
	char q[256];

	if (s->state >= SESSION_CLOSING)
		return;
	log_info("session closed session=%llu account=%s peer=%s reason=%s",
	         (unsigned long long)s->id, s->who.login[0] ? s->who.login : "-", s->peer,
	         log_quote(q, sizeof(q), reason));
	if (s->auth_query) {
		db_query_cancel(s->auth_query);
		s->auth_query = NULL;
	}
	session_enter(s, SESSION_CLOSING);
	if (s->served) {
		/* each module drops what it keeps for the session (requests,
		 * subscription, account index); s itself stays until the reap */
		s->served = false;
		s->hub->proto->close(s);
	}
	if (!flush || !s->bev || evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		session_reap_now(s);
		return;
	}
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	evtime_add_ms(s->ev_deadline, CLOSE_FLUSH_MS);
}

/* The idle timeout is for a client that has gone quiet, not one waiting for
 * its replies: it runs only while nothing is in flight. */
static void session_arm_idle(struct session *s)
{
	struct timeval idle;

	if (s->state != SESSION_READY || !s->bev)
		return;
	if (s->inflight > 0) {
		bufferevent_set_timeouts(s->bev, NULL, NULL);
		return;
	}
	idle = evtime_ms(s->hub->cfg->limits.idle_timeout_ms);
	bufferevent_set_timeouts(s->bev, &idle, NULL);
}

void session_request_started(struct session *s)
{
	if (s->inflight++ == 0)
		session_arm_idle(s);
}

static void session_apply_limits(struct session *s)
{
	if (!s->bev || s->state >= SESSION_CLOSING)
		return;
	session_arm_idle(s);
	if (s->state == SESSION_READY)
		session_read_lines(s); /* a longer limit may complete a waiting line */
}

void session_request_done(struct session *s)
{
	if (--s->inflight == 0)
		session_arm_idle(s);
	if (s->throttled && s->state == SESSION_READY) {
		s->throttled = false;
		session_read_lines(s);
	}
	if (s->draining && s->inflight == 0)
		session_close(s, "shutting down", true);
}

void session_throttle(struct session *s)
{
	s->throttled = true;
}

/* One complete line (without its newline). */
static void session_handle_line(struct session *s, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return; /* a blank line is a harmless keep-alive */
	s->hub->proto->line(s, line, len);
}

static void session_read_lines_now(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t max_line = (size_t)s->hub->cfg->limits.max_line;

	while (s->state == SESSION_READY && !s->draining && !s->throttled &&
	       !session_output_full(s)) {
		size_t eol_len = 0, avail = evbuffer_get_length(in);
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		const char *line;

		if (p.pos < 0) {
			if (avail >= max_line) {
				session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
				                    "line longer than limits.max_line");
				session_close(s, "line too long", true);
			}
			return;
		}
		if ((size_t)p.pos + 1 > max_line) {
			session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
			                    "line longer than limits.max_line");
			session_close(s, "line too long", true);
			return;
		}
		line = (const char *)evbuffer_pullup(in, p.pos + 1);
		if (!line) {
			session_close(s, "out of memory", false);
			return;
		}
		session_handle_line(s, line, (size_t)p.pos);
		evbuffer_drain(in, (size_t)p.pos + 1);
	}
}

/*
 * A line must be finished within idle_timeout of its first byte: the idle
 * timeout alone restarts with every byte, so a client trickling one byte at
 * a time (slowloris) would hold its session for as long as max_line lasts.
 */
static void session_read_lines(struct session *s)
{
	session_read_lines_now(s);
	if (s->state != SESSION_READY)
		return;
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) == 0 || session_output_full(s)) {
		/* (output full: the client waits for us, not we for its line) */
		event_del(s->ev_deadline);
	} else if (!evtimer_pending(s->ev_deadline, NULL)) {
		evtime_add_ms(s->ev_deadline, s->hub->cfg->limits.idle_timeout_ms);
	}
}

/* Input that waits unread (the account being looked up, or a session refused
 * for max_inflight waiting for a reply) may be as much as a client pipelining
 * max_inflight full lines sends, no more.  (A read watermark would bound this
 * too, but with OpenSSL holding decrypted bytes back it can leave the end of a
 * burst unread: libevent issue 854.) */
static bool session_waiting_input_too_large(const struct session *s)
{
	size_t waiting = evbuffer_get_length(bufferevent_get_input(s->bev));

	/* while its output is full the client is not reading: two lines more
	 * is all a client waiting for a large reply needs to send meanwhile */
	if (s->state == SESSION_READY && !s->throttled && session_output_full(s))
		return waiting > 2 * (size_t)s->hub->cfg->limits.max_line;
	return waiting >
	       (size_t)s->hub->cfg->limits.max_line * (size_t)s->hub->cfg->limits.max_inflight;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_READY && (s->throttled || session_output_full(s))) {
		if (session_waiting_input_too_large(s) && s->throttled) {
			session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
			                    "more than max_inflight lines sent past max_inflight");
			session_close(s, "flooding past max_inflight", true);
		} else if (session_waiting_input_too_large(s)) {
			session_close(s, "requests sent while not reading replies", true);
			session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
			                    "more than limits.max_backlog of replies left unread "
			                    "while sending more requests; disconnecting");
		}
		return;
	}
	if (s->state == SESSION_READY) {
		session_read_lines(s);
		return;
	}
	if (s->state == SESSION_AUTH && session_waiting_input_too_large(s)) {
		session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
		                    "more than max_inflight lines sent before authentication");
		session_close(s, "too much input before authentication", true);
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (s->state == SESSION_CLOSING)
		session_reap_now(s);
	else if (s->state == SESSION_READY && !s->throttled &&
	         evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		session_read_lines(s); /* lines held back while the output was full */
}

static void session_refuse(struct session *s, enum proto_error code, const char *msg)
{
	char qcn[160], qmsg[400];

	log_notice("session refused session=%llu peer=%s cn=%s reason=%s",
	           (unsigned long long)s->id, s->peer, log_quote(qcn, sizeof(qcn), s->cn),
	           log_quote(qmsg, sizeof(qmsg), msg));
	session_reply_error(s, "null", code, msg);
	session_close(s, msg, true);
}

static void auth_done(void *arg, enum db_status st, const PGresult *res)
{
	struct session *s = arg;
	enum proto_error code;
	char msg[200];

	s->auth_query = NULL;
	if (st != DB_OK) {
		session_refuse(s, PROTO_ERR_UNAVAILABLE, "the database is unavailable; try again");
		return;
	}
	code = account_login_record(&s->who, s->cn, bufferevent_openssl_get_ssl(s->bev), res, msg,
	                            sizeof(msg));
	if (code != PROTO_OK) {
		session_refuse(s, code, msg);
		return;
	}
	code = s->hub->proto->ready(s, msg, sizeof(msg));
	if (code != PROTO_OK) {
		session_refuse(s, code, msg);
		return;
	}
	s->served = true;
	session_enter(s, SESSION_READY);
	log_info("session authenticated session=%llu account=%s role=%s peer=%s",
	         (unsigned long long)s->id, s->who.login, role_name(s->who.role), s->peer);
	session_arm_idle(s);
	session_read_lines(s); /* what arrived while we looked the account up */
}

static void handshake_done(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	struct tls_pins pins;
	const char *params[4];

	event_del(s->ev_deadline);
	if (tls_peer_cn(ssl, s->cn, sizeof(s->cn)) != 0) {
		char msg[160];

		snprintf(s->cn, sizeof(s->cn), "?");
		snprintf(msg, sizeof(msg), "the client certificate has no usable common name: %s",
		         tls_verify_error(ssl));
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, msg);
		return;
	}
	/* begun before a reload: held to the new CRL too (revoke.h) */
	if (s->hub->ssl_ctx && SSL_get_SSL_CTX(ssl) != s->hub->ssl_ctx &&
	    tls_peer_recheck(s->hub->ssl_ctx, ssl) == X509_V_ERR_CERT_REVOKED) {
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, "certificate revoked");
		return;
	}
	if (tls_peer_pins(ssl, &pins) != 0) {
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, "unreadable client certificate");
		return;
	}
	account_login_params(s->cn, &pins, params);
	session_enter(s, SESSION_AUTH);
	s->auth_query = db_query(s->hub->db, STMTS_ACCOUNT_BY_CN, 4, params, auth_done, s);
	if (!s->auth_query)
		session_close(s, "out of memory", false);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(s);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		session_close(s, "idle timeout", false);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		char what_s[96];

		if (s->state == SESSION_HANDSHAKE) {
			SSL *ssl = bufferevent_openssl_get_ssl(bev);

			snprintf(what_s, sizeof(what_s), "handshake failed session=%llu peer=%s",
			         (unsigned long long)s->id, s->peer);
			log_ssl_errors(LOG_NOTICE, what_s);
			if (ssl) {
				char q[256];

				log_notice("client refused session=%llu peer=%s reason=%s",
				           (unsigned long long)s->id, s->peer,
				           log_quote(q, sizeof(q), tls_verify_error(ssl)));
			}
			session_close(s, "handshake failed", false);
			return;
		}
		snprintf(what_s, sizeof(what_s), "connection error session=%llu",
		         (unsigned long long)s->id);
		log_ssl_errors(LOG_INFO, what_s);
		session_close(s, "connection error", false);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* a final line without its newline is discarded: it may be truncated */
		session_close(s, "client closed", false);
		return;
	}
}

void session_accept(struct session_hub *hub, SSL_CTX *ctx, int fd, const struct sockaddr *addr,
                    int addrlen)
{
	struct session *s;
	SSL *ssl;

	/* Until its handshake ends a connection costs memory (~50 KiB) and CPU
	 * while nobody knows who it is: a flood of them is refused at once. */
	if (hub->draining || hub->nsessions >= hub->cfg->limits.max_sessions ||
	    hub->nhandshakes >= hub->cfg->limits.max_handshakes) {
		log_notice("connection refused: %s",
		           hub->draining                                     ? "shutting down"
		           : hub->nsessions >= hub->cfg->limits.max_sessions ? "session limit"
		                                                             : "handshake limit");
		close(fd);
		return;
	}
	s = calloc(1, sizeof(*s));
	ssl = s ? SSL_new(ctx) : NULL;
	if (!ssl) {
		log_ssl_errors(LOG_ERR, "cannot create a TLS session");
		free(s);
		close(fd);
		return;
	}
	s->hub = hub;
	s->id = ++hub->next_id;
	format_peer(addr, s->peer, sizeof(s->peer));
	/* replies and pushes are small and must leave at once */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	s->bev = bufferevent_openssl_socket_new(hub->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		/* libevent freed the SSL but not the socket */
		close(fd);
		free(s);
		return;
	}
	s->ev_deadline = evtimer_new(hub->base, deadline_cb, s);
	if (!s->ev_deadline) {
		bufferevent_free(s->bev);
		free(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	evtime_add_ms(s->ev_deadline, hub->cfg->limits.handshake_timeout_ms);
	TAILQ_INSERT_TAIL(&hub->sessions, s, link);
	hub->nsessions++;
	hub->nhandshakes++; /* s->state is SESSION_HANDSHAKE (0) */
	log_debug("session opened session=%llu peer=%s", (unsigned long long)s->id, s->peer);
	(void)addrlen;
}

int session_hub_init(struct session_hub *hub, struct event_base *base,
                     const struct streetd_config *cfg, struct db_pool *db,
                     const struct session_proto *proto, void *proto_arg, void (*on_gone)(void *arg),
                     void *gone_arg)
{
	*hub = (struct session_hub){
		.base = base,
		.cfg = cfg,
		.db = db,
		.proto = proto,
		.proto_arg = proto_arg,
		.on_gone = on_gone,
		.gone_arg = gone_arg,
	};
	TAILQ_INIT(&hub->sessions);
	TAILQ_INIT(&hub->reaped);
	hub->ev_reap = event_new(base, -1, 0, reap_cb, hub);
	return hub->ev_reap ? 0 : -1;
}

void session_hub_free(struct session_hub *hub)
{
	struct session *s;

	hub->on_gone = NULL;
	while ((s = TAILQ_FIRST(&hub->sessions)) != NULL)
		session_close(s, "exiting", false);
	session_reap(hub);
	if (hub->ev_reap)
		event_free(hub->ev_reap);
	hub->ev_reap = NULL;
}

void session_hub_drain(struct session_hub *hub)
{
	struct session *s, *next;

	hub->draining = true;
	for (s = TAILQ_FIRST(&hub->sessions); s; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->state == SESSION_READY && s->inflight > 0) {
			s->draining = true; /* session_request_done() closes it */
			bufferevent_disable(s->bev, EV_READ);
		} else {
			session_close(s, "shutting down", s->state == SESSION_READY);
		}
	}
}

void session_hub_apply_limits(struct session_hub *hub)
{
	for (struct session *s = TAILQ_FIRST(&hub->sessions), *after; s; s = after) {
		after = TAILQ_NEXT(s, link); /* a session may close while its lines are read */
		session_apply_limits(s);
	}
}
