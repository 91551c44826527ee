/*
 * events: how this instance learns of every committed event, from any
 * instance or any other writer of the database, and the deadline sweeper.
 *
 * One dedicated connection LISTENs on the doorbell channel and reads the log
 * by sequence number, in order, never past a number whose transaction may
 * still commit (sql/migrations/007_push.sql explains the holes).  Local
 * commits ask for a read at once and ring the doorbell for the other
 * instances (at most one NOTIFY per few milliseconds, never inside an
 * action's transaction); notifications lost while the connection was down
 * cost nothing, because reading resumes from the last delivered number.
 *
 * The same connection holds the sweeper's advisory lock: the instance that
 * holds it marks passed deadlines (a timer for the next one, never a
 * periodic full scan); losing the connection is losing the lock.
 */
#ifndef STREETD_EVENTS_H
#define STREETD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct server;
struct events;
struct session;

/* Starts connecting; NULL on ENOMEM.  The server owns the result. */
struct events *events_new(struct server *srv);
void events_free(struct events *ev);

/* A local action committed: read the log now, and ring the doorbell. */
void events_committed(struct events *ev);

/* The subscribe op: replies, replays from since (if given), then goes live. */
void events_subscribe(struct events *ev, struct session *s, const struct proto_request *req);

/* The last sequence number handed to subscribers. */
int64_t events_position(const struct events *ev);
bool events_is_sweeper(const struct events *ev);
bool events_running(const struct events *ev);

#endif
