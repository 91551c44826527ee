/*
 * sb_cycle: one worker of the ticket loop, over three sessions: the reporter
 * (a collector) reports in a grid and confirms, the street dispatches, the
 * department accepts and resolves.  One request in flight; each action uses
 * the ticket and version of the previous reply.  An error reply abandons the
 * ticket and starts again with a report.
 */
#ifndef STREETBENCH_SB_CYCLE_H
#define STREETBENCH_SB_CYCLE_H

#include <stdbool.h>

#include "sb_conn.h"
#include "sb_util.h"

enum { SB_STEP_REPORT, SB_STEP_DISPATCH, SB_STEP_ACCEPT, SB_STEP_RESOLVE, SB_STEP_CONFIRM };

/* Shared by all workers of a run. */
struct sb_cycle_stats {
	bool measuring;               /* count only while set */
	unsigned long long actions;   /* ok replies */
	unsigned long long errors;    /* error replies */
	struct sb_samples latency_ms; /* request to reply */
	char first_error[200];
};

struct sb_cycle {
	struct sb_conn *reporter, *street, *dept;
	int category, grid;
	struct sb_cycle_stats *stats;
	/* state */
	int step;
	long long ticket;
	int version;
	unsigned long long next_id, waiting_id;
	bool busy;
	double sent_at;
	long long last_seq; /* event.seq of the last ok reply, else -1 */
};

/* Sends the current step's request; -1 if its session is gone. */
int sb_cycle_send(struct sb_cycle *w);

/* Takes a reply of one of the worker's sessions.  Returns 1 if it was the
 * awaited reply and ok, 0 if it was the awaited reply and an error (the worker
 * starts over), -1 if it was something else. */
int sb_cycle_reply(struct sb_cycle *w, json_object *msg, double at);

#endif
