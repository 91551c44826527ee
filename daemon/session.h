/*
 * session: one client on one TLS connection, from the handshake to the
 * close.  Reads request lines (bounded by limits.max_line), hands each to
 * the handlers, writes replies, and enforces the per-session limits.
 *
 * Ownership: the server's session list owns every session.  A session is
 * never freed inside one of its own callbacks: session_close() moves it to
 * the server's reap list and the reap event frees it at a safe point.
 * Requests in flight hold a pointer to their session; session_close()
 * cancels their database queries, so no callback finds a freed session.
 */
#ifndef STREETD_SESSION_H
#define STREETD_SESSION_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "proto.h"
#include "role.h"

struct server;
struct request;
struct db_query;
struct subscription;

/* A session's life; changed only by session_enter(), which logs each move. */
enum session_state {
	SESSION_HANDSHAKE, /* TLS handshake under way; the handshake deadline runs */
	SESSION_AUTH,      /* handshake done; looking the certificate's CN up */
	SESSION_READY,     /* authenticated: requests are read and answered */
	SESSION_CLOSING,   /* a last reply is flushing; nothing more is read */
	SESSION_REAPED,    /* gone from the loop, freed at the next safe point */
};

struct session {
	struct server *srv;
	uint64_t id;
	enum session_state state;
	struct bufferevent *bev;
	struct event *ev_deadline; /* handshake deadline, then the closing flush deadline */
	char peer[64];
	char cn[65];
	/* the account, once authenticated */
	int account_id;
	enum role role;
	char login[65];
	int street_id, department_id, district_id; /* the account's scope (0 = none) */
	struct subscription *sub;                  /* live push, when subscribed (push.c) */
	struct session *acct_next;                 /* sessions of the same account (accounts.c) */
	long long acct_revision; /* the account's revision at login (account_login.c) */
	struct db_query *auth_query;
	struct db_query *replay_query; /* a subscriber's catch-up from the log (events.c) */
	void *replay_arg;
	LIST_HEAD(, request) requests; /* in flight */
	int inflight;
	TAILQ_HEAD(, request) db_waiting; /* in flight, behind db_running (handlers.c) */
	struct request *db_running;
	bool draining;  /* close once nothing is in flight */
	bool throttled; /* a line was refused for max_inflight: the rest wait */
	TAILQ_ENTRY(session) link;
};

/* Takes a new connection; closes fd itself on failure. */
void session_accept(struct server *srv, int fd, const struct sockaddr *addr, int addrlen);

/* Queues bytes for the client; a client past limits.max_backlog is cut off. */
void session_write(struct session *s, const char *data, size_t len);

/* Queues bytes that stay owned by the caller until cleanup(data, len, arg)
 * runs: one pushed event line shared by all its recipients. */
void session_write_ref(struct session *s, const char *data, size_t len,
                       void (*cleanup)(const void *data, size_t len, void *arg), void *arg);

/* A reply: {"id":ID,"ok":true,"result":RESULT}.  result is JSON text. */
void session_reply_ok(struct session *s, const char *id, const char *result, size_t len);
void session_reply_error(struct session *s, const char *id, enum proto_error code, const char *msg);

/* Ends the session; with flush, what is queued is sent first (bounded in time). */
void session_close(struct session *s, const char *reason, bool flush);

/* A request of this session started / finished (handlers.c). */
void session_request_started(struct session *s);
void session_request_done(struct session *s);

/* Applies limits that SIGHUP may have changed (line length, idle timeout). */
void session_apply_limits(struct session *s);

/* Frees the sessions closed since the last call (the reap event). */
void session_reap(struct server *srv);

#endif
