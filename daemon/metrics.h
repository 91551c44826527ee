/*
 * metrics: the daemon's counters for GET /metrics (docs/http.md), kept where
 * the events happen and read by the exposition (metrics_text.c).  Plain
 * process-wide counters: the daemon is one thread, so no locks.  Every label
 * is a fixed enum (op, error code, listener), so the series are bounded.
 *
 * Also where the exposition finds the daemon's objects (metrics_attach, by
 * server.c): they are only forward-declared here, so that the modules that
 * count (session.c, handlers.c, http.c) do not depend on the ones that read.
 */
#ifndef STREETD_METRICS_H
#define STREETD_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto.h"

struct db_pool;
struct events;
struct http_server;
struct session_hub;

/* Request latency buckets (seconds, upper bounds); +Inf is implied. */
#define METRICS_LATENCY_BUCKETS 14

enum metrics_listener {
	METRICS_SOCKET, /* the JSON-lines listener (session.c) */
	METRICS_HTTPS,  /* the HTTPS listener (http.c) */
	METRICS_LISTENERS
};

struct metrics_op {
	uint64_t outcome[PROTO_ERR_COUNT];            /* requests by reply code (PROTO_OK = ok) */
	uint64_t bucket[METRICS_LATENCY_BUCKETS + 1]; /* latency, not cumulative; last = +Inf */
	uint64_t sum_us;                              /* total latency, microseconds */
	uint64_t count;
};

struct metrics {
	struct metrics_op op[PROTO_OP_COUNT];
	uint64_t handshakes[METRICS_LISTENERS];
	uint64_t handshake_failures[METRICS_LISTENERS];
};

/* What the exposition reads besides the counters; set once by server.c,
 * which owns all of them (NULL members are left out of the text). */
struct metrics_sources {
	const struct session_hub *hub;
	const struct db_pool *db;
	const struct events *events;
	const struct http_server *http;
};

/* The bucket bounds, as numbers and as the text of their le label. */
extern const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS];
extern const char *const metrics_latency_labels[METRICS_LATENCY_BUCKETS];

/* A request of op answered with code (PROTO_OK: ok) after seconds. */
void metrics_count_request(enum proto_op op, enum proto_error code, double seconds);

/* A TLS handshake ended, completed (ok) or not (failed, timed out, or the
 * client went away during it). */
void metrics_count_handshake(enum metrics_listener l, bool ok);

/* The counters so far (read-only). */
const struct metrics *metrics_get(void);

void metrics_attach(const struct metrics_sources *src);
const struct metrics_sources *metrics_sources(void);

#endif
