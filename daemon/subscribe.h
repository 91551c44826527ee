/*
 * subscribe: the subscribe and unsubscribe ops.  Answers with where the
 * stream starts, replays what a resuming client missed from the durable log
 * (street.st_log_replay, in batches), then hands the caller to push for the
 * live stream, with no gap and no duplicate at the seam.
 *
 * Ownership: a replay under way belongs to its caller (c->replay) and is
 * freed when it ends, when the caller subscribes again, or by
 * subscribe_cancel() (handlers_caller_gone() calls it).
 */
#ifndef STREETD_SUBSCRIBE_H
#define STREETD_SUBSCRIBE_H

#include "proto.h"

struct caller;
struct db_pool;
struct events;
struct push;

/* What the ops need; owned by the server. */
struct subscribe_env {
	struct db_pool *db;
	struct events *events;
	struct push *push;
};

/* The subscribe op: replies, replays from since (if given), then goes live. */
void subscribe_run(const struct subscribe_env *env, struct caller *c,
                   const struct proto_request *req);

/* The unsubscribe op. */
void subscribe_stop(const struct subscribe_env *env, struct caller *c,
                    const struct proto_request *req);

/* Ends the caller's subscription and any replay under way, without a reply. */
void subscribe_cancel(const struct subscribe_env *env, struct caller *c);

#endif
