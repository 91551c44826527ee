/*
 * idle: open N sessions over the given accounts, each does one whoami, then
 * hold them.  Prints "ready N ..." once every session is authenticated (or
 * failed), then waits for SIGTERM/SIGINT or the hold limit, and prints how
 * many sessions the server dropped meanwhile.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb_fleet.h"
#include "sb_modes.h"
#include "sb_tls.h"

#define SB_IDLE_MAX_ACCOUNTS 64

struct sb_idle {
	const struct sb_opts *o;
	struct event_base *base;
	struct sb_fleet fleet;
	struct event *ev_setup, *ev_hold, *ev_term, *ev_int;
	int rc;
	bool held;
};

static void sb_idle_msg(struct sb_fleet *f, int idx, json_object *msg, double at)
{
	/* an idle session gets nothing but its hello reply */
}

static void sb_idle_settled(struct sb_fleet *f)
{
	struct sb_idle *s = f->arg;
	struct timeval tv;

	event_del(s->ev_setup);
	printf("ready %d failed=%d seconds=%.1f error=\"%s\"\n", f->ready, f->failed,
	       f->settled_at - f->started, f->first_error);
	fflush(stdout);
	s->held = true;
	tv.tv_sec = (time_t)s->o->hold;
	tv.tv_usec = 0;
	evtimer_add(s->ev_hold, &tv);
}

static void sb_idle_stop(evutil_socket_t fd, short what, void *arg)
{
	struct sb_idle *s = arg;

	if (!s->held) {
		printf("ready %d failed=%d status=not_settled error=\"%s\"\n", s->fleet.ready,
		       s->fleet.failed, s->fleet.first_error[0] ? s->fleet.first_error : "stopped");
		s->rc = 1;
	}
	event_base_loopbreak(s->base);
}

int sb_mode_idle(const struct sb_opts *o)
{
	struct sb_idle s = { .o = o };
	SSL_CTX *ctxs[SB_IDLE_MAX_ACCOUNTS];
	int nctx = sb_tls_client_ctxs(o->tls_dir, o->accounts, ctxs, SB_IDLE_MAX_ACCOUNTS);
	struct timeval tv = { (time_t)o->setup_timeout, 0 };

	s.base = event_base_new();
	if (nctx <= 0 || !s.base)
		return 1;
	s.fleet = (struct sb_fleet){
		.base = s.base,
		.addr = o->addr,
		.ctxs = ctxs,
		.nctx = nctx,
		.target = o->sessions,
		.max_connecting = o->max_connecting,
		.hello = "{\"id\":\"hello\",\"op\":\"whoami\"}",
		.on_msg = sb_idle_msg,
		.on_settled = sb_idle_settled,
		.arg = &s,
	};
	s.ev_setup = evtimer_new(s.base, sb_idle_stop, &s);
	s.ev_hold = evtimer_new(s.base, sb_idle_stop, &s);
	s.ev_term = evsignal_new(s.base, SIGTERM, sb_idle_stop, &s);
	s.ev_int = evsignal_new(s.base, SIGINT, sb_idle_stop, &s);
	evtimer_add(s.ev_setup, &tv);
	event_add(s.ev_term, NULL);
	event_add(s.ev_int, NULL);
	if (sb_fleet_start(&s.fleet) != 0)
		return 1;
	event_base_dispatch(s.base);
	if (s.held)
		printf("idle sessions=%d ready=%d lost=%d\n", o->sessions, s.fleet.ready,
		       s.fleet.lost);
	sb_fleet_free(&s.fleet);
	event_free(s.ev_setup);
	event_free(s.ev_hold);
	event_free(s.ev_term);
	event_free(s.ev_int);
	event_base_free(s.base);
	for (int i = 0; i < nctx; i++)
		SSL_CTX_free(ctxs[i]);
	return s.rc;
}
