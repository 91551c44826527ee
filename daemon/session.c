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
#include "accounts.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "push.h"
#include "server.h"
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
	if (s->state == SESSION_HANDSHAKE && to != SESSION_HANDSHAKE)
		s->srv->nhandshakes--;
	s->state = to;
}

static void ms_to_tv(int64_t ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
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

/* A client that does not read its replies is cut off, not buffered for. */
static void session_check_backlog(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	if ((int64_t)evbuffer_get_length(out) > s->srv->cfg.limits.max_backlog) {
		log_notice(
		        "session cut off: client does not read session=%llu account=%s backlog=%zu",
		        (unsigned long long)s->id, s->login, evbuffer_get_length(out));
		session_close(s, "backlog limit", false);
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

void session_write(struct session *s, const char *data, size_t len)
{
	size_t done;

	if (s->state >= SESSION_REAPED || !s->bev)
		return;
	done = session_write_direct(s, data, len);
	if (done < len && session_queue_contiguous(s, data + done, len - done) != 0) {
		session_close(s, "out of memory", false);
		return;
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
	session_check_backlog(s);
}

void session_reply_ok(struct session *s, const char *id, const char *result, size_t len)
{
	char prefix[PROTO_ID_JSON_MAX + 64];
	size_t n = proto_format_ok_prefix(prefix, sizeof(prefix), id);
	struct evbuffer *out;
	struct evbuffer_iovec v;
	char small[8192];

	if (s->state >= SESSION_REAPED || !s->bev)
		return;
	if (n + len + 2 <= sizeof(small)) {
		/* most replies: one piece that can leave at once */
		memcpy(small, prefix, n);
		memcpy(small + n, result, len);
		memcpy(small + n + len, "}\n", 2);
		session_write(s, small, n + len + 2);
		return;
	}
	out = bufferevent_get_output(s->bev);
	/* one contiguous piece: the TLS layer then sends the reply as whole
	 * records, never a small tail held back by Nagle */
	if (evbuffer_reserve_space(out, (ev_ssize_t)(n + len + 2), &v, 1) != 1) {
		session_close(s, "out of memory", false);
		return;
	}
	memcpy(v.iov_base, prefix, n);
	memcpy((char *)v.iov_base + n, result, len);
	memcpy((char *)v.iov_base + n + len, "}\n", 2);
	v.iov_len = n + len + 2;
	if (evbuffer_commit_space(out, &v, 1) != 0) {
		session_close(s, "out of memory", false);
		return;
	}
	session_check_backlog(s);
}

void session_reply_error(struct session *s, const char *id, enum proto_error code, const char *msg)
{
	char buf[1024];
	size_t n = proto_format_error(buf, sizeof(buf), id ? id : "null", code, msg);

	session_write(s, buf, n);
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
	free(s);
}

void session_reap(struct server *srv)
{
	struct session *s;

	while ((s = TAILQ_FIRST(&srv->reaped)) != NULL) {
		TAILQ_REMOVE(&srv->reaped, s, link);
		session_free(s);
		srv->nsessions--;
		server_session_gone(srv);
	}
}

static void session_reap_now(struct session *s)
{
	struct server *srv = s->srv;

	if (s->state == SESSION_REAPED)
		return;
	session_enter(s, SESSION_REAPED);
	if (s->bev)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if (s->ev_deadline)
		event_del(s->ev_deadline);
	TAILQ_REMOVE(&srv->sessions, s, link);
	TAILQ_INSERT_TAIL(&srv->reaped, s, link);
	event_active(srv->ev_reap, EV_TIMEOUT, 0);
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
		         (unsigned long long)s->id, s->login);
		session_close(s, "line not finished within limits.idle_timeout", false);
	} else {
		session_reap_now(s);
	}
}

void session_close(struct session *s, const char *reason, bool flush)
{
	struct request *r;
	struct timeval tv;

	if (s->state >= SESSION_CLOSING)
		return;
	log_info("session closed session=%llu account=%s peer=%s reason=\"%s\"",
	         (unsigned long long)s->id, s->login[0] ? s->login : "-", s->peer, reason);
	if (s->auth_query) {
		db_query_cancel(s->auth_query);
		s->auth_query = NULL;
	}
	if (s->replay_query) {
		db_query_cancel(s->replay_query);
		s->replay_query = NULL;
		free(s->replay_arg);
		s->replay_arg = NULL;
	}
	while ((r = LIST_FIRST(&s->requests)) != NULL)
		handlers_cancel(r);
	if (s->account_id)
		accounts_remove(s->srv->accounts, s);
	push_unsubscribe(s->srv->push, s);
	session_enter(s, SESSION_CLOSING);
	if (!flush || !s->bev || evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		session_reap_now(s);
		return;
	}
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	ms_to_tv(CLOSE_FLUSH_MS, &tv);
	evtimer_add(s->ev_deadline, &tv);
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
	ms_to_tv(s->srv->cfg.limits.idle_timeout_ms, &idle);
	bufferevent_set_timeouts(s->bev, &idle, NULL);
}

void session_request_started(struct session *s)
{
	if (s->inflight++ == 0)
		session_arm_idle(s);
}

void session_apply_limits(struct session *s)
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

/* One complete line (without its newline). */
static void session_handle_line(struct session *s, const char *line, size_t len)
{
	struct proto_request req;
	char err[256];
	int rc;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return; /* a blank line is a harmless keep-alive */
	memset(&req, 0, sizeof(req));
	rc = proto_decode(line, len, &req, err, sizeof(err));
	if (rc != 0) {
		log_info("bad request session=%llu account=%s error=\"%s\"",
		         (unsigned long long)s->id, s->login, err);
		session_reply_error(s, req.id[0] ? req.id : "null", (enum proto_error)rc, err);
	} else if (s->inflight >= s->srv->cfg.limits.max_inflight) {
		snprintf(err, sizeof(err), "more than %d requests in flight; wait for replies",
		         s->srv->cfg.limits.max_inflight);
		session_reply_error(s, req.id, PROTO_ERR_RATE_LIMITED, err);
		/* the lines behind it wait until a reply is out: a client that
		 * answers each refusal with another request gets one refusal per
		 * reply, not as many as the CPU can make */
		s->throttled = true;
	} else {
		handlers_run(s, &req);
	}
	proto_request_free(&req);
}

static void session_read_lines_now(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	size_t max_line = (size_t)s->srv->cfg.limits.max_line;

	while (s->state == SESSION_READY && !s->draining && !s->throttled) {
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
	struct timeval tv;

	session_read_lines_now(s);
	if (s->state != SESSION_READY)
		return;
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) == 0) {
		event_del(s->ev_deadline);
	} else if (!evtimer_pending(s->ev_deadline, NULL)) {
		ms_to_tv(s->srv->cfg.limits.idle_timeout_ms, &tv);
		evtimer_add(s->ev_deadline, &tv);
	}
}

/* Input that waits unread (the account being looked up, or a session refused
 * for max_inflight waiting for a reply) may be as much as a client pipelining
 * max_inflight full lines sends, no more.  (A read watermark would bound this
 * too, but with OpenSSL holding decrypted bytes back it can leave the end of a
 * burst unread: libevent issue 854.) */
static bool session_waiting_input_too_large(const struct session *s)
{
	return evbuffer_get_length(bufferevent_get_input(s->bev)) >
	       (size_t)s->srv->cfg.limits.max_line * (size_t)s->srv->cfg.limits.max_inflight;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_READY && s->throttled) {
		if (session_waiting_input_too_large(s)) {
			session_reply_error(s, "null", PROTO_ERR_TOO_LARGE,
			                    "more than max_inflight lines sent past max_inflight");
			session_close(s, "flooding past max_inflight", true);
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

	if (s->state == SESSION_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		session_reap_now(s);
}

static void session_refuse(struct session *s, enum proto_error code, const char *msg)
{
	log_notice("session refused session=%llu peer=%s cn=%s reason=\"%s\"",
	           (unsigned long long)s->id, s->peer, s->cn, msg);
	session_reply_error(s, "null", code, msg);
	session_close(s, msg, true);
}

static void auth_done(void *arg, enum db_status st, const PGresult *res)
{
	struct session *s = arg;
	struct server *srv = s->srv;
	json_object *acct = NULL, *v;
	char msg[200];

	s->auth_query = NULL;
	if (st != DB_OK) {
		session_refuse(s, PROTO_ERR_UNAVAILABLE, "the database is unavailable; try again");
		return;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		acct = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (!acct) {
		snprintf(msg, sizeof(msg), "no account for certificate CN=%s", s->cn);
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, msg);
		return;
	}
	if (account_login_check(s, bufferevent_openssl_get_ssl(s->bev), acct, msg, sizeof(msg))) {
		json_object_put(acct);
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, msg);
		return;
	}
	if (json_object_object_get_ex(acct, "disabled", &v) && json_object_get_boolean(v)) {
		json_object_put(acct);
		snprintf(msg, sizeof(msg), "account %s is disabled", s->cn);
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, msg);
		return;
	}
	s->account_id = json_object_object_get_ex(acct, "id", &v) ? json_object_get_int(v) : 0;
	if (!json_object_object_get_ex(acct, "role", &v) ||
	    !role_parse(json_object_get_string(v), &s->role) || s->account_id <= 0) {
		json_object_put(acct);
		s->account_id = 0;
		session_refuse(s, PROTO_ERR_INTERNAL, "unreadable account record");
		return;
	}
	if (json_object_object_get_ex(acct, "login", &v))
		snprintf(s->login, sizeof(s->login), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(acct, "street_id", &v))
		s->street_id = json_object_get_int(v);
	if (json_object_object_get_ex(acct, "department_id", &v))
		s->department_id = json_object_get_int(v);
	if (json_object_object_get_ex(acct, "district_id", &v))
		s->district_id = json_object_get_int(v);
	json_object_put(acct);
	if (accounts_count(srv->accounts, s->account_id) >=
	    srv->cfg.limits.max_sessions_per_account) {
		snprintf(msg, sizeof(msg), "account %s already has %d sessions (the limit)",
		         s->login, srv->cfg.limits.max_sessions_per_account);
		s->account_id = 0;
		session_refuse(s, PROTO_ERR_RATE_LIMITED, msg);
		return;
	}
	if (accounts_add(srv->accounts, s) != 0) {
		s->account_id = 0;
		session_refuse(s, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	session_enter(s, SESSION_READY);
	log_info("session authenticated session=%llu account=%s role=%s peer=%s",
	         (unsigned long long)s->id, s->login, role_name(s->role), s->peer);
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
	if (SSL_get_SSL_CTX(ssl) != s->srv->ssl_ctx &&
	    tls_peer_recheck(s->srv->ssl_ctx, ssl) == X509_V_ERR_CERT_REVOKED) {
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, "certificate revoked");
		return;
	}
	if (tls_peer_pins(ssl, &pins) != 0) {
		session_refuse(s, PROTO_ERR_UNAUTHENTICATED, "unreadable client certificate");
		return;
	}
	account_login_params(s->cn, &pins, params);
	session_enter(s, SESSION_AUTH);
	s->auth_query =
	        db_query(s->srv->db, handlers_stmt_account_by_cn(), 4, params, auth_done, s);
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
			if (ssl)
				log_notice("client refused session=%llu peer=%s reason=\"%s\"",
				           (unsigned long long)s->id, s->peer,
				           tls_verify_error(ssl));
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

void session_accept(struct server *srv, int fd, const struct sockaddr *addr, int addrlen)
{
	struct session *s;
	SSL *ssl;
	struct timeval tv;

	/* Until its handshake ends a connection costs memory (~50 KiB) and CPU
	 * while nobody knows who it is: a flood of them is refused at once. */
	if (srv->draining || srv->nsessions >= srv->cfg.limits.max_sessions ||
	    srv->nhandshakes >= srv->cfg.limits.max_handshakes) {
		log_notice("connection refused: %s",
		           srv->draining                                    ? "shutting down"
		           : srv->nsessions >= srv->cfg.limits.max_sessions ? "session limit"
		                                                            : "handshake limit");
		close(fd);
		return;
	}
	s = calloc(1, sizeof(*s));
	ssl = s ? SSL_new(srv->ssl_ctx) : NULL;
	if (!ssl) {
		log_ssl_errors(LOG_ERR, "cannot create a TLS session");
		free(s);
		close(fd);
		return;
	}
	s->srv = srv;
	s->id = ++srv->next_session_id;
	LIST_INIT(&s->requests);
	TAILQ_INIT(&s->db_waiting);
	format_peer(addr, s->peer, sizeof(s->peer));
	/* replies and pushes are small and must leave at once */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		/* libevent freed the SSL but not the socket */
		close(fd);
		free(s);
		return;
	}
	s->ev_deadline = evtimer_new(srv->base, deadline_cb, s);
	if (!s->ev_deadline) {
		bufferevent_free(s->bev);
		free(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	ms_to_tv(srv->cfg.limits.handshake_timeout_ms, &tv);
	evtimer_add(s->ev_deadline, &tv);
	TAILQ_INSERT_TAIL(&srv->sessions, s, link);
	srv->nsessions++;
	srv->nhandshakes++; /* s->state is SESSION_HANDSHAKE (0) */
	log_debug("session opened session=%llu peer=%s", (unsigned long long)s->id, s->peer);
	(void)addrlen;
}
