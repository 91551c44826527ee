/*
 * session: one client on one TLS connection, from the handshake to the
 * close: the transport.  It authenticates the client (the certificate's CN
 * looked up in the database), cuts the input into lines (bounded by
 * limits.max_line and the line deadline), writes what it is given, and
 * enforces the per-session limits (idle timeout, backlog, waiting input).
 * What a line means is not its business: the hub's session_proto (filled by
 * wire.c) is told when a session is ready, each line, and the close.
 *
 * Ownership: the hub's session list owns every session.  A session is never
 * freed inside one of its own callbacks: session_close() calls proto->close
 * (each module drops what it keeps for the session: requests, subscription,
 * account index), then moves it to the reap list; the reap event frees it at
 * a safe point, after proto->release has freed s->data.
 */
#ifndef STREETD_SESSION_H
#define STREETD_SESSION_H

#include <event2/bufferevent.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "identity.h"
#include "proto.h"

struct caller_part;
struct db_query;
struct db_pool;
struct session;
struct streetd_config;

/* A session's life; changed only by session_enter(), which logs each move. */
enum session_state {
	SESSION_HANDSHAKE, /* TLS handshake under way; the handshake deadline runs */
	SESSION_AUTH,      /* handshake done; looking the certificate's CN up */
	SESSION_READY,     /* authenticated: lines are read and handed to proto */
	SESSION_CLOSING,   /* a last reply is flushing; nothing more is read */
	SESSION_REAPED,    /* gone from the loop, freed at the next safe point */
};

/* What the lines of a session mean; the hub's user fills it. */
struct session_proto {
	/* The account is known (s->who): PROTO_OK serves the session; an error
	 * code (with a message in msg) refuses it with that error line. */
	enum proto_error (*ready)(struct session *s, char *msg, size_t cap);
	/* One line, without its newline (or a "\r" before it); never blank. */
	void (*line)(struct session *s, const char *line, size_t len);
	/* A ready session closes: drop everything kept for it.  No more lines. */
	void (*close)(struct session *s);
	/* The session is being freed: free s->data. */
	void (*release)(struct session *s);
};

TAILQ_HEAD(session_list, session);

/* Reply ranges a session tracks (consecutive replies share one). */
#define SESSION_REPLY_RANGES 16
/* A reply larger than this many times limits.max_backlog is answered too_large. */
#define SESSION_REPLY_MAX_FACTOR 16

/* Every session of the process; owned by the server. */
struct session_hub {
	struct event_base *base;
	const struct streetd_config *cfg; /* the live configuration (limits) */
	struct db_pool *db;               /* the account lookup */
	const struct session_proto *proto;
	SSL_CTX *ssl_ctx; /* the current context (server.c swaps it at reload): a
	                   * handshake begun on an older one is re-checked (revoke.h) */
	void *proto_arg;
	void (*on_gone)(void *arg); /* a session was freed (a drain may end) */
	void *gone_arg;
	struct session_list sessions; /* every session, oldest first */
	struct session_list reaped;   /* closed, to be freed at the next safe point */
	struct event *ev_reap;
	int nsessions;
	int nhandshakes; /* sessions in SESSION_HANDSHAKE */
	uint64_t next_id;
	bool draining; /* no new sessions */
};

struct session {
	struct session_hub *hub;
	uint64_t id;
	enum session_state state;
	struct bufferevent *bev;
	struct event *ev_deadline; /* handshake deadline, line deadline, then the closing flush */
	char peer[64];
	char cn[65];
	struct identity who;       /* the account, once authenticated */
	struct session *acct_next; /* sessions of the same account (accounts.c) */
	struct db_query *auth_query;
	void *data;     /* proto's, from ready to release */
	bool served;    /* proto->ready accepted it: proto->close is owed */
	int inflight;   /* requests taken and not yet answered (session_request_*) */
	bool draining;  /* close once nothing is in flight */
	bool throttled; /* a line was refused for max_inflight: the rest wait */
	/* the backlog rule (session.c): bytes ever queued, and where the replies
	 * still queued lie in that stream */
	uint64_t out_added;
	struct {
		uint64_t start, end;
	} replies[SESSION_REPLY_RANGES];
	int nreplies;
	TAILQ_ENTRY(session) link;
};

/* Sets up the lists and the reap event; -1 on ENOMEM. */
int session_hub_init(struct session_hub *hub, struct event_base *base,
                     const struct streetd_config *cfg, struct db_pool *db,
                     const struct session_proto *proto, void *proto_arg, void (*on_gone)(void *arg),
                     void *gone_arg);
/* Closes every session at once and frees them (at exit). */
void session_hub_free(struct session_hub *hub);

/* Takes a new connection on ctx; closes fd itself on failure. */
void session_accept(struct session_hub *hub, SSL_CTX *ctx, int fd, const struct sockaddr *addr,
                    int addrlen);

/* SIGTERM: no new sessions; idle ones close now (flushing), the others once
 * what they have in flight is answered. */
void session_hub_drain(struct session_hub *hub);

/* Applies limits that SIGHUP may have changed (line length, idle timeout). */
void session_hub_apply_limits(struct session_hub *hub);

/* Queues a pushed line that stays owned by the caller until cleanup(data,
 * len, arg) runs: one event line shared by all its recipients.  Pushed lines
 * count against limits.max_backlog (session.c says how). */
void session_write_ref(struct session *s, const char *data, size_t len,
                       void (*cleanup)(const void *data, size_t len, void *arg), void *arg);

/* A reply: {"id":ID,"ok":true,"result":RESULT}.  result is JSON text.
 * Replies never count against limits.max_backlog; one larger than
 * SESSION_REPLY_MAX_FACTOR x max_backlog is answered too_large instead. */
void session_reply_ok(struct session *s, const char *id, const char *result, size_t len);
/* The same with the result in n pieces, len bytes in all (caller.h). */
void session_reply_ok_parts(struct session *s, const char *id, const struct caller_part *parts,
                            int n, size_t len);
void session_reply_error(struct session *s, const char *id, enum proto_error code, const char *msg);

/* Ends the session; with flush, what is queued is sent first (bounded in time). */
void session_close(struct session *s, const char *reason, bool flush);

/* A request of this session was taken / answered: the idle timeout does not
 * run while one is in flight, and a drain waits for them. */
void session_request_started(struct session *s);
void session_request_done(struct session *s);

/* The lines behind the current one wait until a request is answered
 * (a line was refused for limits.max_inflight). */
void session_throttle(struct session *s);

#endif
