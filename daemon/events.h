/*
 * events: how this instance learns of every committed event, from any
 * instance or any other writer of the database, and the deadline sweeper.
 *
 * One dedicated connection LISTENs on the doorbell channel and reads the log
 * by sequence number, in order, never past a number whose transaction may
 * still commit (sql/functions/60_log.sql explains the holes).  Local
 * commits ask for a read at once and ring the doorbell for the other
 * instances (at most one NOTIFY per few milliseconds, never inside an
 * action's transaction); notifications lost while the connection was down
 * cost nothing, because reading resumes from the last delivered number.
 *
 * The same connection holds the sweeper's advisory lock: the instance that
 * holds it marks passed deadlines (a timer for the next one, never a
 * periodic full scan) and runs the follower (st_follow(): the assessment's
 * rollups, after each read that delivered events and every second); losing
 * the connection is losing the lock.
 */
#ifndef STREETD_EVENTS_H
#define STREETD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct events;
struct push;
struct streetd_config;

/* Starts connecting; NULL on ENOMEM.  cfg is the live configuration (it must
 * outlive the reader; reloads may change it in place); each event read is
 * handed to push_deliver(push).  on_running(arg) runs once the reader knows
 * where the log stands.  The server owns the result. */
struct events *events_new(struct event_base *base, const struct streetd_config *cfg,
                          struct push *push, void (*on_running)(void *arg), void *arg);
void events_free(struct events *ev);

/* The catalogue (categories and their attributes) changed: triggers NOTIFY
 * this channel (migration 021), which the reader's connection LISTENs on.
 * fn(arg) runs for each such NOTIFY, and each time the connection is made
 * (what changed while it was down went unheard).  One hook; NULL clears it. */
#define EVENTS_CATALOG_CHANNEL "street_catalog"
void events_on_catalog(struct events *ev, void (*fn)(void *arg), void *arg);

/* A local action committed: read the log now, and ring the doorbell. */
void events_committed(struct events *ev);

/* The last sequence number handed to push: every event up to it was
 * delivered (or is known never to have committed). */
int64_t events_position(const struct events *ev);
/* The highest seq read from the log so far (events_seen - events_position:
 * read but not delivered yet, waiting behind a hole), and the seconds since
 * a read last reached the log's end (about FALLBACK_MS at most when idle:
 * more means behind, blocked, or without its connection).  For /metrics. */
int64_t events_seen(const struct events *ev);
double events_lag_seconds(const struct events *ev);
bool events_is_sweeper(const struct events *ev);
bool events_running(const struct events *ev);

#endif
