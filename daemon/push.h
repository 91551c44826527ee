/*
 * push: live events to subscribed callers.  Each event from the log is
 * serialized once into a refcounted line that every recipient's output
 * buffer references (no copy per recipient).  Subscribers are indexed by
 * their scope (street, department, district, the whole city, or their own
 * reports), so an event reaches its recipients without a scan of all
 * callers.
 *
 * Ownership: push owns subscriptions; a caller points to its own (c->sub),
 * which push_unsubscribe() frees (handlers_caller_gone() calls it).  An event line is freed when
 * the last output buffer holding it has sent it.
 */
#ifndef STREETD_PUSH_H
#define STREETD_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ticket_fsm.h"

struct caller;
struct push;

/* One event of the log as the reader saw it. */
struct push_event {
	int refs;
	int64_t seq;
	int street_id, district_id, department_id, reporter_id, category_id, grid_id;
	enum ticket_state to_state;
	size_t len;
	char line[]; /* {"event":{...}}\n */
};

/* Filters a subscriber chose; 0 / TICKET_NONE = any. */
struct push_filter {
	int category_id;
	int grid_id;
	enum ticket_state state;
};

struct push *push_new(void);
void push_free(struct push *p);

/* A new event line around the event's JSON; refs = 1 (the caller's). */
struct push_event *push_event_new(int64_t seq, const char *json, size_t len);
void push_event_unref(struct push_event *ev);

/*
 * Subscribes c (replacing an earlier subscription).  While replaying is
 * true, live events are queued for c instead of written; push_replay_done()
 * writes them, in order, and switches to live.  skip_upto: events with a seq
 * up to it are not sent (the client has them).  -1 on ENOMEM; 0 without subscribing for a role that
 * sees no tickets.
 */
int push_subscribe(struct push *p, struct caller *c, const struct push_filter *f, bool replaying,
                   int64_t skip_upto);
void push_unsubscribe(struct push *p, struct caller *c);
bool push_filter_match(const struct push_filter *f, int category_id, int grid_id,
                       enum ticket_state to_state);

/* Writes a replayed event line (text of st_log_replay) to c, if its filter matches. */
void push_send_replayed(struct caller *c, int64_t seq, const char *json, size_t len);
void push_replay_done(struct push *p, struct caller *c);

/* Fans an event out to every live subscriber that may see it. */
void push_deliver(struct push *p, struct push_event *ev);

/* Counts, for STATUS= and the benchmark. */
size_t push_subscribers(const struct push *p);

#endif
