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
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_conn.h"
#include "sb_modes.h"
#include "sb_tls.h"
#include "sb_util.h"

#define SLOW_TLS   100
#define SLOW_TCP   100
#define HALF_OPEN  5000
#define FLOOD      64
#define BIG_TOTAL  (100u << 20)
#define BIG_CHUNK  (256u << 10)
#define MAX_SAMPLE 1000000

enum { PH_BASE, PH_SLOW, PH_BIG, PH_SHAKE, PH_FLOOD, PH_NONREADER, PH_COUNT };
static const char *const phase_names[PH_COUNT] = { "baseline",   "slowloris", "bigline",
	                                           "handshakes", "flood",     "nonreader" };
static const int sequence[] = { PH_BASE,  PH_SLOW, PH_BASE,  PH_BIG,  PH_BASE,
	                        PH_SHAKE, PH_BASE, PH_FLOOD, PH_BASE, PH_NONREADER };
#define NSTEPS ((int)(sizeof(sequence) / sizeof(sequence[0])))

struct sb_hostile {
	const struct sb_opts *o;
	struct event_base *base;
	SSL_CTX *good_ctx, *rep_ctx, *att_ctx, *sub_ctx;
	int step, phase; /* phase = sequence[step] */
	bool measuring;  /* else pausing before the phase */
	unsigned long long base_n;
	double base_p50, base_p99;
	int shake_opened;
	bool attacking;
	/* the well-behaved client, on good_base in its own thread; lock guards
	 * good_n, good_err and lat */
	struct event_base *good_base;
	pthread_t good_thread;
	pthread_mutex_t lock;
	atomic_bool good_stop;
	struct sb_conn *good;
	unsigned long long good_id, good_n, good_err;
	double good_sent;
	struct sb_samples lat;
	struct event *ev_good;
	/* the background reporter */
	struct sb_conn *rep;
	unsigned long long rep_id;
	/* attackers */
	struct sb_conn *slow[SLOW_TLS], *big, *flood, *nonreader;
	int tcp[HALF_OPEN]; /* slowloris' TCP trickles use the first SLOW_TCP */
	size_t big_sent;
	double big_closed; /* when the server closed the last one */
	unsigned long long flood_id;
	struct event *ev_tick, *ev_phase, *ev_report;
	int rc;
};

static int tcp_open(const struct sockaddr_in *addr)
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

/* True once the peer closed (or reset) fd; never blocks. */
static bool tcp_gone(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
}

/* ---- the well-behaved client ---- */

static void good_send(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;

	if (!h->good || !h->good->up)
		return;
	h->good_id++;
	h->good_sent = sb_now();
	if (h->good_id % 2)
		sb_conn_sendf(h->good, "{\"id\":%llu,\"op\":\"whoami\"}", h->good_id);
	else
		sb_conn_sendf(h->good, "{\"id\":%llu,\"op\":\"list\",\"limit\":10}", h->good_id);
}

static void good_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_hostile *h = c->arg;

	if (sb_json_int(msg, "id", NULL, NULL) != (long long)h->good_id)
		return;
	pthread_mutex_lock(&h->lock);
	if (sb_json_error_code(msg))
		h->good_err++;
	h->good_n++;
	sb_samples_add(&h->lat, (at - h->good_sent) * 1e3, MAX_SAMPLE);
	pthread_mutex_unlock(&h->lock);
	sb_after(h->ev_good, 0.002);
}

static void good_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;

	if (what == SB_CONN_UP) {
		good_send(-1, 0, h);
		return;
	}
	sb_log("the well-behaved client lost its session: %s", why ? why : "");
	pthread_mutex_lock(&h->lock);
	h->good_err++;
	pthread_mutex_unlock(&h->lock);
	atomic_store(&h->good_stop, true);
}

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

/* ---- the background reporter ---- */

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

/* ---- attackers ---- */

static void att_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_hostile *h = c->arg;

	/* the flooder sends another request for every answer, refused or not */
	if (c == h->flood && h->attacking)
		sb_conn_sendf(c, "{\"id\":%llu,\"op\":\"list\",\"limit\":1}", ++h->flood_id);
}

static void att_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;

	if (what == SB_CONN_UP) {
		if (c == h->flood) {
			for (int i = 0; i < FLOOD; i++)
				sb_conn_sendf(c, "{\"id\":%llu,\"op\":\"list\",\"limit\":1}",
				              ++h->flood_id);
		} else if (c == h->nonreader) {
			sb_conn_sendf(c, "{\"id\":1,\"op\":\"subscribe\"}");
			/* and never read again */
			bufferevent_disable(c->bev, EV_READ);
		} else if (c == h->big) {
			static const char head[] = "{\"id\":1,\"op\":\"whoami\",\"pad\":\"";

			bufferevent_write(c->bev, head, sizeof(head) - 1);
		}
	}
	/* SB_CONN_DOWN: the tick frees it and opens another while attacking */
}

static struct sb_conn *att_open(struct sb_hostile *h, SSL_CTX *ctx)
{
	return sb_conn_open(h->base, ctx, &h->o->addr, att_msg, att_event, h, 0);
}

/* Keeps conn open while attacking: reopens it if the server closed it. */
static void keep(struct sb_hostile *h, struct sb_conn **c, SSL_CTX *ctx)
{
	if (*c && (*c)->down) {
		sb_conn_free(*c);
		*c = NULL;
		if (c == &h->big) {
			h->big_sent = 0;
			h->big_closed = sb_now();
		}
	}
	if (!*c && (c != &h->big || sb_now() - h->big_closed >= 1.0))
		*c = att_open(h, ctx);
}

static void drop(struct sb_conn **c)
{
	if (*c) {
		sb_conn_free(*c);
		*c = NULL;
	}
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;
	static const unsigned char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
		                               0x00, 0x01, 0xfc, 0x03, 0x03 };
	static unsigned ticks;
	static char chunk[BIG_CHUNK];

	ticks++;
	switch (h->attacking ? h->phase : PH_BASE) {
	case PH_SLOW:
		for (int i = 0; i < SLOW_TLS; i++) {
			keep(h, &h->slow[i], h->att_ctx);
			if (ticks % 100 == (unsigned)i % 100 && h->slow[i]->up)
				bufferevent_write(h->slow[i]->bev, "{", 1);
		}
		for (int i = 0; i < SLOW_TCP; i++) {
			if (h->tcp[i] >= 0 && tcp_gone(h->tcp[i])) {
				close(h->tcp[i]);
				h->tcp[i] = -1;
			}
			if (h->tcp[i] < 0)
				h->tcp[i] = tcp_open(&h->o->addr);
			if (h->tcp[i] >= 0 && ticks % 100 == (unsigned)i % 100)
				(void)!write(h->tcp[i], &hello[(ticks / 100) % sizeof(hello)], 1);
		}
		break;
	case PH_BIG:
		keep(h, &h->big, h->att_ctx);
		if (chunk[0] != 'x')
			memset(chunk, 'x', sizeof(chunk));
		if (h->big && h->big->up && h->big_sent < BIG_TOTAL &&
		    evbuffer_get_length(bufferevent_get_output(h->big->bev)) < BIG_CHUNK) {
			bufferevent_write(h->big->bev, chunk, sizeof(chunk));
			h->big_sent += sizeof(chunk);
		}
		break;
	case PH_SHAKE:
		/* 250 a tick: all 5,000 open within a quarter of a second */
		for (int k = 0; k < 250 && h->shake_opened < HALF_OPEN; k++)
			h->tcp[h->shake_opened++] = tcp_open(&h->o->addr);
		break;
	case PH_FLOOD:
		keep(h, &h->flood, h->att_ctx);
		break;
	case PH_NONREADER:
		keep(h, &h->nonreader, h->sub_ctx);
		break;
	default:
		break;
	}
	sb_after(h->ev_tick, 0.01);
}

static void stop_attack(struct sb_hostile *h)
{
	h->attacking = false;
	for (int i = 0; i < SLOW_TLS; i++)
		drop(&h->slow[i]);
	drop(&h->big);
	drop(&h->flood);
	drop(&h->nonreader);
	for (int i = 0; i < HALF_OPEN; i++) {
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
	} else {
		printf("hostile phase=%s requests=%llu errors=%llu p50_ms=%.2f p99_ms=%.2f "
		       "max_ms=%.2f base_requests=%llu base_p50_ms=%.2f base_p99_ms=%.2f\n",
		       phase_names[h->phase], h->good_n, h->good_err, sb_samples_pctl(&h->lat, 50),
		       sb_samples_pctl(&h->lat, 99), sb_samples_pctl(&h->lat, 100), h->base_n,
		       h->base_p50, h->base_p99);
		fflush(stdout);
	}
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
	struct sb_hostile h = { .o = o };
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
	for (int i = 0; i < HALF_OPEN; i++)
		h.tcp[i] = -1;
	h.ev_good = evtimer_new(h.good_base, good_send, &h);
	h.ev_tick = evtimer_new(h.base, tick, &h);
	h.ev_phase = evtimer_new(h.base, phase_cb, &h);
	h.ev_report = evtimer_new(h.base, rep_tick, &h);
	h.good = sb_conn_open(h.good_base, h.good_ctx, &o->addr, good_msg, good_event, &h, 0);
	h.rep = sb_conn_open(h.base, h.rep_ctx, &o->addr, rep_msg, rep_event, &h, 0);
	if (!h.good || !h.rep || pthread_create(&h.good_thread, NULL, good_main, &h) != 0)
		return 1;
	sb_after(h.ev_report, 0.1);
	sb_after(h.ev_tick, 0.01);
	h.phase = sequence[0];
	sb_after(h.ev_phase, o->warmup);
	event_base_dispatch(h.base);
	atomic_store(&h.good_stop, true);
	pthread_join(h.good_thread, NULL);
	stop_attack(&h);
	drop(&h.good);
	drop(&h.rep);
	sb_samples_free(&h.lat);
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
