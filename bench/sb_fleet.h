/*
 * sb_fleet: many sessions opened with bounded parallelism.  Session i uses
 * ctxs[i % nctx] (its account), so a fleet over "a,b,c" alternates a, b, c.
 * Once its TLS handshake is done a session sends the hello line (a request
 * whose id must be "hello"); the reply to it decides the session: ok makes it
 * ready, anything else (or the connection going down first) makes it failed.
 * When every session is ready or failed, on_settled runs once.  Afterwards
 * every message goes to on_msg, and a ready session that goes down to on_lost
 * (it is freed after that; conns[i] becomes NULL).  Pushed lines (no id) that
 * arrive before the hello reply go to on_msg too.
 */
#ifndef STREETBENCH_SB_FLEET_H
#define STREETBENCH_SB_FLEET_H

#include "sb_conn.h"

struct sb_fleet;
typedef void (*sb_fleet_msg_fn)(struct sb_fleet *f, int idx, json_object *msg, double at);
typedef void (*sb_fleet_fn)(struct sb_fleet *f);
typedef void (*sb_fleet_lost_fn)(struct sb_fleet *f, int idx, const char *why);
typedef void (*sb_fleet_event_fn)(struct sb_fleet *f, int idx, long long seq, double at);

struct sb_fleet {
	struct event_base *base;
	struct sockaddr_in addr;
	SSL_CTX **ctxs;
	int nctx;
	int target;         /* sessions wanted */
	int max_connecting; /* handshakes (and hellos) in progress at once */
	char hello[512];
	sb_fleet_msg_fn on_msg;
	sb_fleet_fn on_settled;
	sb_fleet_lost_fn on_lost;
	/* optional: pushed events ({"event":{"seq":N,...}} lines) are read
	 * without json-c and handed here instead of to on_msg */
	sb_fleet_event_fn on_event;
	/* the sessions are GET /api/events streams (hello is the HTTP request):
	 * the "subscribed" message makes one ready, each event's data line goes
	 * to on_event */
	bool sse;
	void *arg;
	/* state */
	struct sb_conn **conns;
	unsigned char *state; /* per session: 0 opening, 1 ready, 2 failed or gone */
	int opened, connecting, ready, failed, lost;
	bool settled;
	double started, settled_at;
	char first_error[200];
};

/* Allocates the arrays and opens the first sessions; the caller has filled in
 * everything above "state".  Returns -1 on allocation failure. */
int sb_fleet_start(struct sb_fleet *f);

/* Closes every session and frees the arrays. */
void sb_fleet_free(struct sb_fleet *f);

#endif
