/*
 * push: live events to subscribed sessions.  Each event from the log is
 * serialized once into a refcounted line that every recipient's output
 * buffer references (no copy per recipient).  Subscribers are indexed by
 * their scope (street, department, district, the whole city, or their own
 * reports), so an event reaches its recipients without a scan of all
 * sessions.
 *
 * Ownership: push owns subscriptions; a session points to its own and must
 * call push_unsubscribe() before it goes away.  An event line is freed when
 * the last output buffer holding it has sent it.
 */
#ifndef STREETD_PUSH_H
#define STREETD_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ticket_fsm.h"

struct session;
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
 * Subscribes s (replacing an earlier subscription).  While replaying is
 * true, live events are queued for s instead of written; push_replay_done()
 * writes them, in order, and switches to live.  skip_upto: events with a seq
 * up to it are not sent (the client has them).
 */
int push_subscribe(struct push *p, struct session *s, const struct push_filter *f, bool replaying,
                   int64_t skip_upto);
void push_unsubscribe(struct push *p, struct session *s);
bool push_filter_match(const struct push_filter *f, int category_id, int grid_id,
                       enum ticket_state to_state);

/* Writes a replayed event line (text of st_log_replay) to s, if its filter matches. */
void push_send_replayed(struct session *s, int64_t seq, const char *json, size_t len);
void push_replay_done(struct push *p, struct session *s);

/* Fans an event out to every live subscriber that may see it. */
void push_deliver(struct push *p, struct push_event *ev);

/* Counts, for STATUS= and the benchmark. */
size_t push_subscribers(const struct push *p);

#endif
