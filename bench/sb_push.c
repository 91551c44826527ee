/*
 * push: subscriber sessions (over the given accounts) send
 * {"op":"subscribe","since":S}; a driver worker (sb_cycle) does actions at a
 * fixed rate.  Latency of a delivery = the time a subscriber read the event
 * with seq S minus the time the driver read the reply whose event.seq is S
 * (both on this process's monotonic clock; negative when the push overtakes
 * the reply).  A probe session subscribes first: if the server answers
 * bad_request (unknown op), push is reported as not available.
 *
 * Session i uses account i mod (number of accounts).  With --in-scope K only
 * sessions of the first K accounts may see the driver's events: deliveries
 * are expected for those, and an event reaching any other is counted as a
 * leak (the daemon's index must not send it).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_cycle.h"
#include "sb_fleet.h"
#include "sb_modes.h"
#include "sb_tls.h"

#define SB_PUSH_MAX_ACCOUNTS 64
#define SB_PUSH_MAX_RECEIPTS (32u << 20)
#define SB_PUSH_GRACE_S      3

struct sb_mark {
	long long seq;
	double at;
};

struct sb_marks {
	struct sb_mark *v;
	size_t n, cap;
};

struct sb_push {
	const struct sb_opts *o;
	struct event_base *base;
	SSL_CTX *sub_ctxs[SB_PUSH_MAX_ACCOUNTS], *drv_ctxs[3];
	int nsub;
	struct sb_fleet probe, subs, drv;
	struct sb_cycle w;
	struct sb_cycle_stats stats;
	int phase; /* 0 probe, 1 connecting, 2 driving, 3 grace, 4 done */
	int settled;
	struct sb_marks replies, receipts;
	unsigned long long paced, events_seen, leaks;
	double drive_start, cpu0, cpu1, scpu0, scpu1;
	struct event *ev_setup, *ev_step, *ev_next, *ev_phase;
	int rc;
};

static void sb_marks_add(struct sb_marks *m, long long seq, double at)
{
	if (m->n >= SB_PUSH_MAX_RECEIPTS)
		return;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4096;
		struct sb_mark *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct sb_mark){ seq, at };
}

static int sb_mark_cmp(const void *a, const void *b)
{
	long long x = ((const struct sb_mark *)a)->seq, y = ((const struct sb_mark *)b)->seq;

	return (x > y) - (x < y);
}

static void sb_push_fail(struct sb_push *p, const char *status, const char *why)
{
	printf("push subscribers=%d status=%s error=\"%s\"\n", p->o->sessions, status, why);
	p->rc = strcmp(status, "unavailable") == 0 ? 0 : 1;
	p->phase = 4;
	event_base_loopbreak(p->base);
}

static void sb_push_drive(evutil_socket_t fd, short what, void *arg)
{
	struct sb_push *p = arg;

	if (p->phase == 2 && !p->w.busy && sb_cycle_send(&p->w) != 0)
		sb_push_fail(p, "failed", "the driver lost a session");
}

static void sb_push_drv_msg(struct sb_fleet *f, int idx, json_object *msg, double at)
{
	struct sb_push *p = f->arg;
	int r = sb_cycle_reply(&p->w, msg, at);

	if (r < 0)
		return;
	if (r == 1 && p->w.last_seq > 0)
		sb_marks_add(&p->replies, p->w.last_seq, at);
	p->paced++;
	sb_after(p->ev_next, p->drive_start + (double)p->paced / p->o->rate - sb_now());
}

static bool sb_push_in_scope(const struct sb_push *p, int idx)
{
	return p->o->in_scope <= 0 || idx % p->nsub < p->o->in_scope;
}

/* Ready subscriber sessions that may see the driver's events. */
static size_t sb_push_ready_in_scope(const struct sb_push *p)
{
	size_t n = 0;

	for (int i = 0; i < p->subs.target; i++)
		n += p->subs.state[i] == 1 && sb_push_in_scope(p, i) ? 1 : 0;
	return n;
}

static void sb_push_sub_msg(struct sb_fleet *f, int idx, json_object *msg, double at)
{
	struct sb_push *p = f->arg;
	json_object *ev = sb_json_get(msg, "event");
	long long seq;

	if (!ev || sb_json_get(msg, "id"))
		return;
	seq = sb_json_int(ev, "seq", NULL, NULL);
	p->events_seen++;
	if (!sb_push_in_scope(p, idx))
		p->leaks++;
	if (p->phase >= 2 && seq > 0)
		sb_marks_add(&p->receipts, seq, at);
}

static void sb_push_sub_event(struct sb_fleet *f, int idx, long long seq, double at)
{
	struct sb_push *p = f->arg;

	p->events_seen++;
	if (!sb_push_in_scope(p, idx))
		p->leaks++;
	if (p->phase >= 2 && seq > 0)
		sb_marks_add(&p->receipts, seq, at);
}

static void sb_push_start_driving(struct sb_push *p)
{
	event_del(p->ev_setup);
	if (p->subs.failed > 0 || p->drv.failed > 0) {
		char why[256];

		snprintf(why, sizeof(why), "%d subscribers and %d driver sessions failed: %s",
		         p->subs.failed, p->drv.failed,
		         p->subs.first_error[0] ? p->subs.first_error : p->drv.first_error);
		sb_push_fail(p, "failed", why);
		return;
	}
	p->w = (struct sb_cycle){ .reporter = p->drv.conns[0],
		                  .street = p->drv.conns[1],
		                  .dept = p->drv.conns[2],
		                  .category = p->o->category,
		                  .grid = p->o->grid,
		                  .stats = &p->stats,
		                  .last_seq = -1 };
	p->stats.measuring = true;
	p->phase = 2;
	p->drive_start = sb_now();
	p->cpu0 = sb_cpu();
	p->scpu0 = sb_proc_cpu(p->o->server_pid);
	sb_push_drive(-1, 0, p);
	sb_after(p->ev_phase, p->o->seconds);
}

static void sb_push_settled(struct sb_fleet *f)
{
	struct sb_push *p = f->arg;

	if (f == &p->probe) {
		event_active(p->ev_step, EV_TIMEOUT, 0); /* not inside the probe's callback */
		return;
	}
	if (++p->settled == 2)
		sb_push_start_driving(p);
}

static void sb_push_lost(struct sb_fleet *f, int idx, const char *why)
{
	struct sb_push *p = f->arg;

	if (f == &p->drv && p->phase < 3)
		sb_push_fail(p, "failed", why);
}

/* The subscribers' hello: the subscribe line, or with --sse-port the HTTP
 * request of a stream (sb_conn adds the last "\n"); their address. */
static void sb_push_hello(const struct sb_opts *o, char *hello, size_t cap,
                          struct sockaddr_in *addr)
{
	*addr = o->addr;
	if (o->sse_port > 0) {
		addr->sin_port = htons((uint16_t)o->sse_port);
		snprintf(hello, cap,
		         "GET /api/events?since=%lld HTTP/1.1\r\nHost: %s:%d\r\n"
		         "Accept: text/event-stream\r\n\r",
		         o->since, o->host, o->sse_port);
	} else {
		snprintf(hello, cap, "{\"id\":\"hello\",\"op\":\"subscribe\",\"since\":%lld}",
		         o->since);
	}
}

/* After the probe: not available, failed, or open everything. */
static void sb_push_step(evutil_socket_t fd, short what, void *arg)
{
	struct sb_push *p = arg;
	struct sockaddr_in addr;
	char hello[256];

	if (p->probe.ready == 0) {
		bool unknown = strncmp(p->probe.first_error, "bad_request", 11) == 0;

		sb_push_fail(p, unknown ? "unavailable" : "failed", p->probe.first_error);
		return;
	}
	sb_fleet_free(&p->probe);
	sb_push_hello(p->o, hello, sizeof(hello), &addr);
	p->phase = 1;
	p->subs = (struct sb_fleet){ .base = p->base,
		                     .addr = addr,
		                     .sse = p->o->sse_port > 0,
		                     .ctxs = p->sub_ctxs,
		                     .nctx = p->nsub,
		                     .target = p->o->sessions,
		                     .max_connecting = p->o->max_connecting,
		                     .on_msg = sb_push_sub_msg,
		                     .on_settled = sb_push_settled,
		                     .on_event = sb_push_sub_event,
		                     .arg = p };
	snprintf(p->subs.hello, sizeof(p->subs.hello), "%s", hello);
	p->drv = (struct sb_fleet){ .base = p->base,
		                    .addr = p->o->addr,
		                    .ctxs = p->drv_ctxs,
		                    .nctx = 3,
		                    .target = 3,
		                    .max_connecting = 3,
		                    .hello = "{\"id\":\"hello\",\"op\":\"whoami\"}",
		                    .on_msg = sb_push_drv_msg,
		                    .on_settled = sb_push_settled,
		                    .on_lost = sb_push_lost,
		                    .arg = p };
	if (sb_fleet_start(&p->subs) != 0 || sb_fleet_start(&p->drv) != 0)
		sb_push_fail(p, "failed", "out of memory");
}

static void sb_push_phase(evutil_socket_t fd, short what, void *arg)
{
	struct sb_push *p = arg;

	if (p->phase == 2) {
		p->phase = 3; /* stop driving; let the last pushes arrive */
		sb_after(p->ev_phase, SB_PUSH_GRACE_S);
		return;
	}
	p->phase = 4;
	p->cpu1 = sb_cpu();
	p->scpu1 = sb_proc_cpu(p->o->server_pid);
	event_base_loopbreak(p->base);
}

static void sb_push_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sb_push *p = arg;
	char why[128];

	snprintf(why, sizeof(why), "not subscribed after %.0f s (ready %d of %d)",
	         p->o->setup_timeout, p->subs.ready, p->o->sessions);
	sb_push_fail(p, "failed", why);
}

static void sb_push_report(struct sb_push *p)
{
	struct sb_samples lat = { 0 };
	size_t matched = 0, in_scope = sb_push_ready_in_scope(p),
	       expected = p->replies.n * in_scope;

	qsort(p->replies.v, p->replies.n, sizeof(*p->replies.v), sb_mark_cmp);
	for (size_t i = 0; i < p->receipts.n; i++) {
		struct sb_mark *r = bsearch(&p->receipts.v[i], p->replies.v, p->replies.n,
		                            sizeof(*p->replies.v), sb_mark_cmp);

		if (!r)
			continue;
		matched++;
		sb_samples_add(&lat, (p->receipts.v[i].at - r->at) * 1e3, SB_PUSH_MAX_RECEIPTS);
	}
	printf("push subscribers=%d ready=%d in_scope=%zu events=%zu deliveries=%zu expected=%zu "
	       "leaks=%llu lost=%d "
	       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f setup_s=%.1f cpu_s=%.2f server_cpu_s=%.2f "
	       "error=\"%s\"\n",
	       p->o->sessions, p->subs.ready, in_scope, p->replies.n, matched, expected, p->leaks,
	       p->subs.lost, sb_samples_pctl(&lat, 50), sb_samples_pctl(&lat, 99),
	       sb_samples_pctl(&lat, 100), p->subs.settled_at - p->subs.started, p->cpu1 - p->cpu0,
	       p->scpu1 - p->scpu0, p->stats.first_error);
	sb_samples_free(&lat);
}

int sb_mode_push(const struct sb_opts *o)
{
	struct sb_push p = { .o = o };
	struct sockaddr_in addr;
	char hello[256];

	p.nsub = sb_tls_client_ctxs(o->tls_dir, o->accounts, p.sub_ctxs, SB_PUSH_MAX_ACCOUNTS);
	p.drv_ctxs[0] = sb_tls_client_ctx(o->tls_dir, o->reporter);
	p.drv_ctxs[1] = sb_tls_client_ctx(o->tls_dir, o->street);
	p.drv_ctxs[2] = sb_tls_client_ctx(o->tls_dir, o->dept);
	p.base = event_base_new();
	if (p.nsub <= 0 || !p.drv_ctxs[0] || !p.drv_ctxs[1] || !p.drv_ctxs[2] || !p.base)
		return 1;
	p.ev_setup = evtimer_new(p.base, sb_push_timeout, &p);
	p.ev_step = event_new(p.base, -1, 0, sb_push_step, &p);
	p.ev_next = evtimer_new(p.base, sb_push_drive, &p);
	p.ev_phase = evtimer_new(p.base, sb_push_phase, &p);
	sb_after(p.ev_setup, o->setup_timeout);
	sb_push_hello(o, hello, sizeof(hello), &addr);
	p.probe = (struct sb_fleet){ .base = p.base,
		                     .addr = addr,
		                     .sse = o->sse_port > 0,
		                     .ctxs = p.sub_ctxs,
		                     .nctx = 1,
		                     .target = 1,
		                     .max_connecting = 1,
		                     .on_msg = sb_push_sub_msg,
		                     .on_settled = sb_push_settled,
		                     .arg = &p };
	snprintf(p.probe.hello, sizeof(p.probe.hello), "%s", hello);
	if (sb_fleet_start(&p.probe) != 0)
		return 1;
	event_base_dispatch(p.base);
	if (p.phase == 4 && p.rc == 0 && p.subs.target > 0)
		sb_push_report(&p);
	sb_fleet_free(&p.probe);
	sb_fleet_free(&p.subs);
	sb_fleet_free(&p.drv);
	free(p.replies.v);
	free(p.receipts.v);
	sb_samples_free(&p.stats.latency_ms);
	event_free(p.ev_setup);
	event_free(p.ev_step);
	event_free(p.ev_next);
	event_free(p.ev_phase);
	event_base_free(p.base);
	for (int i = 0; i < p.nsub; i++)
		SSL_CTX_free(p.sub_ctxs[i]);
	for (int i = 0; i < 3; i++)
		SSL_CTX_free(p.drv_ctxs[i]);
	return p.rc;
}
