/*
 * hostile: the well-behaved client's latency while each attack of issue 7
 * runs.  The client (--login, zhang.wei) alternates whoami and list (limit
 * 10), one request in flight, 2 ms apart, in a thread and event loop of its
 * own (the attackers' work in this process must not delay it).  A background reporter (--reporter)
 * reports in its grid 10 times a second throughout, so that there are events
 * to push.  Phases of --seconds each, after --warmup: before each attack a
 * baseline (no attack), then the attack, sustained unless said otherwise
 * (what the server closes is opened again):
 *   slowloris   100 TLS sessions (--accounts' first) each trickling a line that
 *               never ends, one byte per second, and 100 TCP connections
 *               trickling a ClientHello the same way;
 *   bigline     one TLS session streaming a 100 MB line as fast as it can
 *               (again, on a new session, a second after the server closed
 *               the last: a line, not a handshake flood);
 *   handshakes  5,000 TCP connections that never send a byte (opened once);
 *   flood       one TLS session keeping 64 list requests in flight (past
 *               max_inflight: refused ones are sent again at once);
 *   nonreader   a session subscribed to the reporter's street that never
 *               reads (--accounts' second).
 * Output: one line per attack, with the baseline measured just before it:
 *   hostile phase=NAME requests=N errors=E p50_ms=X p99_ms=Y max_ms=Z
 *           base_requests=N base_p50_ms=X base_p99_ms=Y
 * With --http PORT the same phases against the HTTPS listener on PORT
 * (sb_hostile_http.c; rows "hostile_http ...").
 */
#include "sb_hostile.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_tls.h"

#define FLOOD      64
#define MAX_SAMPLE 1000000

static const int sequence[] = { PH_BASE,  PH_SLOW, PH_BASE,  PH_BIG,  PH_BASE,
	                        PH_SHAKE, PH_BASE, PH_FLOOD, PH_BASE, PH_NONREADER };
#define NSTEPS ((int)(sizeof(sequence) / sizeof(sequence[0])))

/* ---- shared by both sides ---- */

int sb_hostile_tcp_open(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

bool sb_hostile_tcp_gone(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
}

void sb_hostile_trickle_hello(struct sb_hostile *h, const struct sockaddr_in *addr, unsigned ticks)
{
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
		                               0x00, 0x01, 0xfc, 0x03, 0x03 };

	for (int i = 0; i < SB_SLOW_TCP; i++) {
		if (h->tcp[i] >= 0 && sb_hostile_tcp_gone(h->tcp[i])) {
			close(h->tcp[i]);
			h->tcp[i] = -1;
		}
		if (h->tcp[i] < 0)
			h->tcp[i] = sb_hostile_tcp_open(addr);
		if (h->tcp[i] >= 0 && ticks % 100 == (unsigned)i % 100)
			(void)!write(h->tcp[i], &hello[(ticks / 100) % sizeof(hello)], 1);
	}
}

void sb_hostile_half_open(struct sb_hostile *h, const struct sockaddr_in *addr)
{
	/* 250 a tick: all 5,000 open within a quarter of a second */
	for (int k = 0; k < 250 && h->shake_opened < SB_HALF_OPEN; k++)
		h->tcp[h->shake_opened++] = sb_hostile_tcp_open(addr);
}

int sb_hostile_half_open_cut(const struct sb_hostile *h)
{
	int n = 0;

	for (int i = 0; i < h->shake_opened; i++)
		if (h->tcp[i] >= 0 && sb_hostile_tcp_gone(h->tcp[i]))
			n++;
	return n;
}

void sb_hostile_drop(struct sb_conn **c)
{
	if (*c) {
		sb_conn_free(*c);
		*c = NULL;
	}
}

void sb_hostile_answered(struct sb_hostile *h, bool error, double at)
{
	pthread_mutex_lock(&h->lock);
	if (error)
		h->good_err++;
	h->good_n++;
	sb_samples_add(&h->lat, (at - h->good_sent) * 1e3, MAX_SAMPLE);
	pthread_mutex_unlock(&h->lock);
	sb_after(h->ev_good, 0.002);
}

void sb_hostile_lost(struct sb_hostile *h, const char *why)
{
	sb_log("the well-behaved client lost its connection: %s", why ? why : "");
	pthread_mutex_lock(&h->lock);
	h->good_err++;
	pthread_mutex_unlock(&h->lock);
}

/* ---- the socket port: the well-behaved client ---- */

struct sock_state {
	struct sb_conn *good;
	struct sb_conn *slow[SB_SLOW_TLS], *big, *flood, *nonreader;
	size_t big_sent;
	double big_closed; /* when the server closed the last one */
	unsigned long long flood_id;
};

static void good_send(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;
	struct sock_state *s = h->side_state;

	if (!s->good || !s->good->up)
		return;
	h->good_id++;
	h->good_sent = sb_now();
	if (h->good_id % 2)
		sb_conn_sendf(s->good, "{\"id\":%llu,\"op\":\"whoami\"}", h->good_id);
	else
		sb_conn_sendf(s->good, "{\"id\":%llu,\"op\":\"list\",\"limit\":10}", h->good_id);
}

static void good_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_hostile *h = c->arg;

	if (sb_json_int(msg, "id", NULL, NULL) != (long long)h->good_id)
		return;
	sb_hostile_answered(h, sb_json_error_code(msg) != NULL, at);
}

static void good_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;

	if (what == SB_CONN_UP) {
		good_send(-1, 0, h);
		return;
	}
	sb_hostile_lost(h, why);
	atomic_store(&h->good_stop, true);
}

static int sock_start(struct sb_hostile *h)
{
	struct sock_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	h->side_state = s;
	h->ev_good = evtimer_new(h->good_base, good_send, h);
	s->good = sb_conn_open(h->good_base, h->good_ctx, &h->o->addr, good_msg, good_event, h, 0);
	return h->ev_good && s->good ? 0 : -1;
}

/* ---- the socket port: attackers ---- */

static void att_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_hostile *h = c->arg;
	struct sock_state *s = h->side_state;

	/* the flooder sends another request for every answer, refused or not */
	if (c == s->flood && h->attacking)
		sb_conn_sendf(c, "{\"id\":%llu,\"op\":\"list\",\"limit\":1}", ++s->flood_id);
}

static void att_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;
	struct sock_state *s = h->side_state;

	if (what == SB_CONN_UP) {
		if (c == s->flood) {
			for (int i = 0; i < FLOOD; i++)
				sb_conn_sendf(c, "{\"id\":%llu,\"op\":\"list\",\"limit\":1}",
				              ++s->flood_id);
		} else if (c == s->nonreader) {
			sb_conn_sendf(c, "{\"id\":1,\"op\":\"subscribe\"}");
			/* and never read again */
			bufferevent_disable(c->bev, EV_READ);
		} else if (c == s->big) {
			static const char head[] = "{\"id\":1,\"op\":\"whoami\",\"pad\":\"";

			bufferevent_write(c->bev, head, sizeof(head) - 1);
		}
	}
	/* SB_CONN_DOWN: the tick frees it and opens another while attacking */
}

/* Keeps conn open while attacking: reopens it if the server closed it. */
static void keep(struct sb_hostile *h, struct sb_conn **c, SSL_CTX *ctx)
{
	struct sock_state *s = h->side_state;

	if (*c && (*c)->down) {
		sb_conn_free(*c);
		*c = NULL;
		if (c == &s->big) {
			s->big_sent = 0;
			s->big_closed = sb_now();
		}
	}
	if (!*c && (c != &s->big || sb_now() - s->big_closed >= 1.0))
		*c = sb_conn_open(h->base, ctx, &h->o->addr, att_msg, att_event, h, 0);
}

static void sock_tick(struct sb_hostile *h, unsigned ticks)
{
	struct sock_state *s = h->side_state;
	static char chunk[SB_BIG_CHUNK];

	switch (h->phase) {
	case PH_SLOW:
		for (int i = 0; i < SB_SLOW_TLS; i++) {
			keep(h, &s->slow[i], h->att_ctx);
			if (ticks % 100 == (unsigned)i % 100 && s->slow[i]->up)
				bufferevent_write(s->slow[i]->bev, "{", 1);
		}
		sb_hostile_trickle_hello(h, &h->o->addr, ticks);
		break;
	case PH_BIG:
		keep(h, &s->big, h->att_ctx);
		if (chunk[0] != 'x')
			memset(chunk, 'x', sizeof(chunk));
		if (s->big && s->big->up && s->big_sent < SB_BIG_TOTAL &&
		    evbuffer_get_length(bufferevent_get_output(s->big->bev)) < SB_BIG_CHUNK) {
			bufferevent_write(s->big->bev, chunk, sizeof(chunk));
			s->big_sent += sizeof(chunk);
		}
		break;
	case PH_SHAKE:
		sb_hostile_half_open(h, &h->o->addr);
		break;
	case PH_FLOOD:
		keep(h, &s->flood, h->att_ctx);
		break;
	case PH_NONREADER:
		keep(h, &s->nonreader, h->sub_ctx);
		break;
	default:
		break;
	}
}

static bool sock_report(struct sb_hostile *h, char *out, size_t n)
{
	out[0] = '\0';
	return true;
}

static void sock_stop(struct sb_hostile *h)
{
	struct sock_state *s = h->side_state;

	for (int i = 0; i < SB_SLOW_TLS; i++)
		sb_hostile_drop(&s->slow[i]);
	sb_hostile_drop(&s->big);
	sb_hostile_drop(&s->flood);
	sb_hostile_drop(&s->nonreader);
}

static void sock_free(struct sb_hostile *h)
{
	struct sock_state *s = h->side_state;

	if (!s)
		return;
	sb_hostile_drop(&s->good);
	free(s);
	h->side_state = NULL;
}

static const struct sb_hostile_side sock_side = {
	.label = "hostile",
	.names = { "baseline", "slowloris", "bigline", "handshakes", "flood", "nonreader" },
	.start = sock_start,
	.tick = sock_tick,
	.report = sock_report,
	.stop = sock_stop,
	.free = sock_free,
};

/* ---- the phases ---- */

static void *good_main(void *arg)
{
	struct sb_hostile *h = arg;
	struct timeval tv = { 0, 100000 };

	while (!atomic_load(&h->good_stop)) {
		event_base_loopexit(h->good_base, &tv);
		event_base_dispatch(h->good_base);
	}
	return NULL;
}

static void rep_msg(struct sb_conn *c, json_object *msg, double at)
{
}

static void rep_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;

	if (what == SB_CONN_DOWN) {
		sb_log("the reporter lost its session: %s", why ? why : "");
		h->rc = 1;
		event_base_loopbreak(h->base);
	}
}

static void rep_tick(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;

	if (h->rep && h->rep->up)
		sb_conn_sendf(h->rep,
		              "{\"id\":%llu,\"op\":\"report\",\"category\":%d,\"grid\":%d,"
		              "\"description\":\"hostile bench background\"}",
		              ++h->rep_id, h->o->category, h->o->grid);
	sb_after(h->ev_report, 0.1);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;
	static unsigned ticks;

	ticks++;
	if (h->attacking && h->phase != PH_BASE)
		h->side->tick(h, ticks);
	sb_after(h->ev_tick, 0.01);
}

static void stop_attack(struct sb_hostile *h)
{
	h->attacking = false;
	h->side->stop(h);
	for (int i = 0; i < SB_HALF_OPEN; i++) {
		if (h->tcp[i] >= 0)
			close(h->tcp[i]);
		h->tcp[i] = -1;
	}
	h->shake_opened = 0;
}

/* Each phase: a pause of --warmup (the attack already on, the server
 * settling), then --seconds counted; the report; the attack stopped. */
static void phase_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;
	char more[512];

	if (!h->measuring) {
		h->measuring = true;
		pthread_mutex_lock(&h->lock);
		h->lat.n = 0;
		h->good_n = h->good_err = 0;
		pthread_mutex_unlock(&h->lock);
		sb_after(h->ev_phase, h->o->seconds);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (h->phase == PH_BASE) {
		h->base_n = h->good_n;
		h->base_p50 = sb_samples_pctl(&h->lat, 50);
		h->base_p99 = sb_samples_pctl(&h->lat, 99);
	} else if (!h->side->report(h, more, sizeof(more))) {
		printf("%s phase=%s status=skipped why=\"%s\"\n", h->side->label,
		       h->side->names[h->phase], sb_clean(more));
	} else {
		printf("%s phase=%s requests=%llu errors=%llu p50_ms=%.2f p99_ms=%.2f "
		       "max_ms=%.2f base_requests=%llu base_p50_ms=%.2f base_p99_ms=%.2f%s%s\n",
		       h->side->label, h->side->names[h->phase], h->good_n, h->good_err,
		       sb_samples_pctl(&h->lat, 50), sb_samples_pctl(&h->lat, 99),
		       sb_samples_pctl(&h->lat, 100), h->base_n, h->base_p50, h->base_p99,
		       more[0] ? " " : "", more);
	}
	fflush(stdout);
	pthread_mutex_unlock(&h->lock);
	stop_attack(h);
	h->measuring = false;
	if (++h->step == NSTEPS) {
		event_base_loopbreak(h->base);
		return;
	}
	h->phase = sequence[h->step];
	h->attacking = h->phase != PH_BASE;
	sb_after(h->ev_phase, h->o->warmup);
}

int sb_mode_hostile(const struct sb_opts *o)
{
	struct sb_hostile h = { .o = o,
		                .side = o->http_port > 0 ? &sb_hostile_http_side : &sock_side };
	char logins[256], *second;

	snprintf(logins, sizeof(logins), "%s", o->accounts ? o->accounts : "li.na,bench.s00");
	second = strchr(logins, ',');
	if (!second)
		return 1;
	*second++ = '\0';
	h.good_ctx = sb_tls_client_ctx(o->tls_dir, o->login ? o->login : "zhang.wei");
	h.rep_ctx = sb_tls_client_ctx(o->tls_dir, o->reporter);
	h.att_ctx = sb_tls_client_ctx(o->tls_dir, logins);
	h.sub_ctx = sb_tls_client_ctx(o->tls_dir, second);
	h.base = event_base_new();
	h.good_base = event_base_new();
	if (!h.good_ctx || !h.rep_ctx || !h.att_ctx || !h.sub_ctx || !h.base || !h.good_base)
		return 1;
	pthread_mutex_init(&h.lock, NULL);
	for (int i = 0; i < SB_HALF_OPEN; i++)
		h.tcp[i] = -1;
	h.ev_tick = evtimer_new(h.base, tick, &h);
	h.ev_phase = evtimer_new(h.base, phase_cb, &h);
	h.ev_report = evtimer_new(h.base, rep_tick, &h);
	h.rep = sb_conn_open(h.base, h.rep_ctx, &o->addr, rep_msg, rep_event, &h, 0);
	if (h.side->start(&h) != 0 || !h.rep ||
	    pthread_create(&h.good_thread, NULL, good_main, &h) != 0)
		return 1;
	sb_after(h.ev_report, 0.1);
	sb_after(h.ev_tick, 0.01);
	h.phase = sequence[0];
	sb_after(h.ev_phase, o->warmup);
	event_base_dispatch(h.base);
	atomic_store(&h.good_stop, true);
	pthread_join(h.good_thread, NULL);
	stop_attack(&h);
	h.side->free(&h);
	sb_hostile_drop(&h.rep);
	sb_samples_free(&h.lat);
	if (h.ev_good)
		event_free(h.ev_good);
	event_free(h.ev_tick);
	event_free(h.ev_phase);
	event_free(h.ev_report);
	event_base_free(h.base);
	event_base_free(h.good_base);
	pthread_mutex_destroy(&h.lock);
	SSL_CTX_free(h.good_ctx);
	SSL_CTX_free(h.rep_ctx);
	SSL_CTX_free(h.att_ctx);
	SSL_CTX_free(h.sub_ctx);
	return h.rc;
}
