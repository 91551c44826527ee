/*
 * actions: N workers (sb_cycle), each with its own three sessions, drive the
 * loop as fast as replies come back.  After the warm-up the ok replies are
 * counted for the measured seconds: actions, not cycles.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb_cycle.h"
#include "sb_fleet.h"
#include "sb_modes.h"
#include "sb_tls.h"

struct sb_actions {
	const struct sb_opts *o;
	struct event_base *base;
	struct sb_fleet fleet;
	struct sb_cycle *workers;
	struct sb_cycle_stats stats;
	struct event *ev_setup, *ev_phase;
	int phase; /* 0 setting up, 1 warm-up, 2 measuring, 3 done */
	double t0, t1, cpu0, cpu1, scpu0, scpu1;
	int lost, rc;
};

static void sb_actions_fail(struct sb_actions *a, const char *why)
{
	printf("actions clients=%d status=failed ready=%d failed=%d error=\"%s\"\n", a->o->clients,
	       a->fleet.ready, a->fleet.failed, why);
	a->rc = 1;
	event_base_loopbreak(a->base);
}

static void sb_actions_phase(evutil_socket_t fd, short what, void *arg)
{
	struct sb_actions *a = arg;

	if (a->phase == 1) {
		a->phase = 2;
		a->stats.measuring = true;
		a->t0 = sb_now();
		a->cpu0 = sb_cpu();
		a->scpu0 = sb_proc_cpu(a->o->server_pid);
		sb_after(a->ev_phase, a->o->seconds);
		return;
	}
	a->phase = 3;
	a->stats.measuring = false;
	a->t1 = sb_now();
	a->cpu1 = sb_cpu();
	a->scpu1 = sb_proc_cpu(a->o->server_pid);
	event_base_loopbreak(a->base);
}

static void sb_actions_msg(struct sb_fleet *f, int idx, json_object *msg, double at)
{
	struct sb_actions *a = f->arg;
	struct sb_cycle *w = &a->workers[idx / 3];

	if (sb_cycle_reply(w, msg, at) < 0 || a->phase >= 3)
		return;
	if (sb_cycle_send(w) != 0)
		a->lost++;
}

static void sb_actions_lost(struct sb_fleet *f, int idx, const char *why)
{
	struct sb_actions *a = f->arg;
	struct sb_cycle *w = &a->workers[idx / 3];
	struct sb_conn **slot[3] = { &w->reporter, &w->street, &w->dept };

	*slot[idx % 3] = NULL;
	if (!a->stats.first_error[0]) {
		snprintf(a->stats.first_error, sizeof(a->stats.first_error), "session lost: %s",
		         why);
		sb_clean(a->stats.first_error);
	}
	if (a->phase < 3)
		a->lost++;
}

static void sb_actions_settled(struct sb_fleet *f)
{
	struct sb_actions *a = f->arg;

	event_del(a->ev_setup);
	if (f->failed > 0) {
		sb_actions_fail(a, f->first_error);
		return;
	}
	for (int i = 0; i < a->o->clients; i++) {
		struct sb_cycle *w = &a->workers[i];

		w->reporter = f->conns[3 * i];
		w->street = f->conns[3 * i + 1];
		w->dept = f->conns[3 * i + 2];
		w->category = a->o->category;
		w->grid = a->o->grid;
		w->stats = &a->stats;
		w->last_seq = -1;
		if (sb_cycle_send(w) != 0)
			a->lost++;
	}
	a->phase = 1;
	sb_after(a->ev_phase, a->o->warmup);
}

static void sb_actions_setup_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sb_actions *a = arg;
	char why[128];

	snprintf(why, sizeof(why), "sessions not ready after %.0f s", a->o->setup_timeout);
	sb_actions_fail(a, why);
}

int sb_mode_actions(const struct sb_opts *o)
{
	struct sb_actions a = { .o = o };
	SSL_CTX *ctxs[3] = { NULL, NULL, NULL };
	double secs;

	a.base = event_base_new();
	a.workers = calloc((size_t)o->clients, sizeof(*a.workers));
	ctxs[0] = sb_tls_client_ctx(o->tls_dir, o->reporter);
	ctxs[1] = sb_tls_client_ctx(o->tls_dir, o->street);
	ctxs[2] = sb_tls_client_ctx(o->tls_dir, o->dept);
	if (!a.base || !a.workers || !ctxs[0] || !ctxs[1] || !ctxs[2])
		return 1;
	a.fleet = (struct sb_fleet){
		.base = a.base,
		.addr = o->addr,
		.ctxs = ctxs,
		.nctx = 3,
		.target = 3 * o->clients,
		.max_connecting = o->max_connecting,
		.hello = "{\"id\":\"hello\",\"op\":\"whoami\"}",
		.on_msg = sb_actions_msg,
		.on_settled = sb_actions_settled,
		.on_lost = sb_actions_lost,
		.arg = &a,
	};
	a.ev_setup = evtimer_new(a.base, sb_actions_setup_timeout, &a);
	a.ev_phase = evtimer_new(a.base, sb_actions_phase, &a);
	sb_after(a.ev_setup, o->setup_timeout);
	if (sb_fleet_start(&a.fleet) != 0)
		return 1;
	event_base_dispatch(a.base);
	if (a.phase == 3) {
		secs = a.t1 - a.t0;
		printf("actions clients=%d sessions=%d actions=%llu errors=%llu lost=%d "
		       "seconds=%.2f "
		       "rate=%.1f p50_ms=%.2f p99_ms=%.2f setup_s=%.1f cpu_s=%.2f "
		       "server_cpu_s=%.2f error=\"%s\"\n",
		       o->clients, 3 * o->clients, a.stats.actions, a.stats.errors, a.lost, secs,
		       secs > 0 ? (double)a.stats.actions / secs : 0.0,
		       sb_samples_pctl(&a.stats.latency_ms, 50),
		       sb_samples_pctl(&a.stats.latency_ms, 99),
		       a.fleet.settled_at - a.fleet.started, a.cpu1 - a.cpu0, a.scpu1 - a.scpu0,
		       a.stats.first_error);
	}
	sb_fleet_free(&a.fleet);
	sb_samples_free(&a.stats.latency_ms);
	event_free(a.ev_setup);
	event_free(a.ev_phase);
	event_base_free(a.base);
	for (int i = 0; i < 3; i++)
		SSL_CTX_free(ctxs[i]);
	free(a.workers);
	return a.rc;
}
