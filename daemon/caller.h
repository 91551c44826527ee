/*
 * caller: who a request runs for and where its answers go.  The request path
 * (handlers.c: decode -> op -> statement -> reply; subscribe.c; push.c) knows
 * a caller, never the transport under it.  A TLS session is one (wire.c
 * makes it); an HTTPS request can be another: fill `who` and `ops`, call
 * handlers_run(), answer in ops->reply_ok / reply_error.
 *
 * Ownership: the transport owns the struct (it may embed it) and `who`;
 * handlers.c owns the request fields, push.c `sub`, subscribe.c `replay`.
 * Before the struct goes away the transport calls handlers_caller_gone(),
 * which cancels and frees everything those modules hold for it; no callback
 * reaches the caller afterwards.
 */
#ifndef STREETD_CALLER_H
#define STREETD_CALLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "identity.h"
#include "proto.h"

struct caller;
struct request;
struct subscription;
struct replay;

/* A piece of a reply's result (reply_ok_parts). */
struct caller_part {
	const char *data;
	size_t len;
};

/* Frees a pushed line once the transport has sent it (or dropped it). */
typedef void (*caller_cleanup_fn)(const void *data, size_t len, void *arg);

struct caller_ops {
	/* {"id":ID,"ok":true,"result":RESULT}; result is JSON text */
	void (*reply_ok)(struct caller *c, const char *id, const char *result, size_t len);
	/* The same with the result in n pieces of len bytes in all, written one
	 * after the other (an export page, as the database's rows give it: not
	 * put together first).  NULL: handlers join them and call reply_ok. */
	void (*reply_ok_parts)(struct caller *c, const char *id, const struct caller_part *parts,
	                       int n, size_t len);
	void (*reply_error)(struct caller *c, const char *id, enum proto_error code,
	                    const char *msg);
	/* A pushed event line ({"event":{...}}\n, the event's seq beside it for
	 * transports that label events, e.g. SSE ids), owned by the caller of
	 * push() until cleanup runs.
	 * NULL: the transport cannot carry a stream (subscribe is refused). */
	void (*push)(struct caller *c, int64_t seq, const char *data, size_t len,
	             caller_cleanup_fn cleanup, void *arg);
	/* Ends the caller on a fatal error of its stream; may call
	 * handlers_caller_gone() before it returns. */
	void (*close)(struct caller *c, const char *reason);
	/* A request was taken / has been answered (in-flight and idle limits). */
	void (*request_started)(struct caller *c);
	void (*request_done)(struct caller *c);
};

struct caller {
	const struct identity *who;
	const struct caller_ops *ops;
	uint64_t log_id; /* "session=" in the log */
	/* handlers.c: requests in flight; one at a time in the database */
	LIST_HEAD(, request) requests;
	TAILQ_HEAD(, request) db_waiting;
	struct request *db_running;
	struct subscription *sub; /* push.c: live push, when subscribed */
	struct replay *replay;    /* subscribe.c: a catch-up from the log under way */
};

/* Sets up the lists; who and ops must outlive the caller. */
static inline void caller_init(struct caller *c, const struct identity *who,
                               const struct caller_ops *ops, uint64_t log_id)
{
	c->who = who;
	c->ops = ops;
	c->log_id = log_id;
	LIST_INIT(&c->requests);
	TAILQ_INIT(&c->db_waiting);
	c->db_running = NULL;
	c->sub = NULL;
	c->replay = NULL;
}

#endif
