/*
 * rtt and pingpong: where the time of one action in flight goes.
 *
 * With one request in flight, actions per second is one over the latency, and
 * streetd's latency is PostgreSQL's plus one more round trip between two
 * processes (client and daemon) than pgbench's.  These two modes measure that
 * round trip:
 *   rtt       one session sends a request streetd answers without the
 *             database (unsubscribe, a no-op when not subscribed), one in
 *             flight: TLS, JSON, the daemon's loop and the kernel's loopback;
 *   pingpong  two plain processes (this one and a forked echo child) pass
 *             100 bytes back and forth over loopback TCP, each sleeping in
 *             epoll_wait between messages as streetd and its clients do: the
 *             floor any middle tier pays on this machine, with no TLS, no
 *             parsing and no work at all.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sb_conn.h"
#include "sb_modes.h"
#include "sb_tls.h"
#include "sb_util.h"

#define RTT_MAX_SAMPLES (4u << 20)
#define PINGPONG_BYTES  100

struct sb_rtt {
	const struct sb_opts *o;
	struct event_base *base;
	struct sb_conn *conn;
	struct event *ev_phase;
	int phase; /* 0 connecting, 1 warm-up, 2 measuring, 3 done */
	unsigned long long id, n, errors;
	double sent, t0, t1;
	struct sb_samples lat;
	char error[200];
};

static void rtt_send(struct sb_rtt *r)
{
	r->sent = sb_now();
	if (sb_conn_sendf(r->conn, "{\"id\":%llu,\"op\":\"unsubscribe\"}", ++r->id) != 0) {
		snprintf(r->error, sizeof(r->error), "cannot send");
		event_base_loopbreak(r->base);
	}
}

static void rtt_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_rtt *r = c->arg;
	const char *code;

	if (sb_json_int(msg, "id", NULL, NULL) != (long long)r->id)
		return;
	code = sb_json_error_code(msg);
	if (r->phase == 2) {
		r->n++;
		sb_samples_add(&r->lat, (at - r->sent) * 1e3, RTT_MAX_SAMPLES);
		if (code)
			r->errors++;
	}
	if (code && !r->error[0])
		snprintf(r->error, sizeof(r->error), "%s", code);
	if (r->phase < 3)
		rtt_send(r);
}

static void rtt_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_rtt *r = c->arg;

	if (what == SB_CONN_UP) {
		r->phase = 1;
		sb_after(r->ev_phase, r->o->warmup);
		rtt_send(r);
		return;
	}
	snprintf(r->error, sizeof(r->error), "session lost: %s", why ? why : "");
	sb_clean(r->error);
	event_base_loopbreak(r->base);
}

static void rtt_phase(evutil_socket_t fd, short what, void *arg)
{
	struct sb_rtt *r = arg;

	if (r->phase == 0) {
		snprintf(r->error, sizeof(r->error), "no session after %.0f s",
		         r->o->setup_timeout);
		event_base_loopbreak(r->base);
		return;
	}
	if (r->phase == 1) {
		r->phase = 2;
		r->t0 = sb_now();
		sb_after(r->ev_phase, r->o->seconds);
		return;
	}
	r->phase = 3;
	r->t1 = sb_now();
	event_base_loopbreak(r->base);
}

int sb_mode_rtt(const struct sb_opts *o)
{
	struct sb_rtt r = { .o = o };
	SSL_CTX *ctx = sb_tls_client_ctx(o->tls_dir, o->login);
	int rc = 1;

	r.base = event_base_new();
	if (!ctx || !r.base) {
		printf("rtt status=failed error=\"no TLS context for %s in %s\"\n", o->login,
		       o->tls_dir);
		goto out;
	}
	r.ev_phase = evtimer_new(r.base, rtt_phase, &r);
	r.conn = sb_conn_open(r.base, ctx, &o->addr, rtt_msg, rtt_event, &r, 0);
	if (!r.ev_phase || !r.conn) {
		printf("rtt status=failed error=\"cannot start connecting\"\n");
		goto out;
	}
	sb_after(r.ev_phase, o->setup_timeout);
	event_base_dispatch(r.base);
	if (r.phase == 3 && r.n > 0 && r.errors == 0) {
		printf("rtt requests=%llu seconds=%.2f mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f\n", r.n,
		       r.t1 - r.t0, (r.t1 - r.t0) * 1e3 / (double)r.n, sb_samples_pctl(&r.lat, 50),
		       sb_samples_pctl(&r.lat, 99));
		rc = 0;
	} else {
		printf("rtt status=failed requests=%llu errors=%llu error=\"%s\"\n", r.n, r.errors,
		       r.error[0] ? r.error : "no replies");
	}
out:
	if (r.conn)
		sb_conn_free(r.conn);
	if (r.ev_phase)
		event_free(r.ev_phase);
	if (r.base)
		event_base_free(r.base);
	SSL_CTX_free(ctx);
	sb_samples_free(&r.lat);
	return rc;
}

/* ---- pingpong ---- */

/* Waits in epoll_wait until fd is readable, then reads; like a daemon's loop. */
static ssize_t pp_wait_read(int ep, int fd, char *buf, size_t cap)
{
	struct epoll_event e;
	ssize_t n;

	for (;;) {
		if (epoll_wait(ep, &e, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = read(fd, buf, cap);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		return n;
	}
}

static int pp_epoll(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) != 0) {
		close(ep);
		return -1;
	}
	return ep;
}

/* The child: echoes whatever arrives until the peer closes. */
static void pp_echo(int ls)
{
	char buf[4096];
	int fd = accept(ls, NULL, NULL);
	int ep = fd >= 0 ? pp_epoll(fd) : -1;
	ssize_t n;

	if (ep < 0)
		_exit(1);
	while ((n = pp_wait_read(ep, fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(1);
	_exit(0);
}

int sb_mode_pingpong(const struct sb_opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct sb_samples lat = { 0 };
	char msg[PINGPONG_BYTES], buf[4096];
	unsigned long long n = 0;
	double t0, start, end, now, m0 = 0, m1 = 0;
	int ls, fd = -1, ep = -1, rc = 1;
	pid_t child;

	memset(msg, 'x', sizeof(msg));
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
		printf("pingpong status=failed error=\"cannot listen on 127.0.0.1\"\n");
		return 1;
	}
	child = fork();
	if (child == 0)
		pp_echo(ls);
	close(ls);
	if (child < 0) {
		printf("pingpong status=failed error=\"cannot fork\"\n");
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || (ep = pp_epoll(fd)) < 0)
		goto out;
	start = sb_now();
	end = start + o->warmup + o->seconds;
	t0 = start + o->warmup;
	for (now = start; now < end;) {
		double sent = now;
		size_t got = 0;

		if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			goto out;
		while (got < sizeof(msg)) {
			ssize_t r = pp_wait_read(ep, fd, buf, sizeof(buf));

			if (r <= 0)
				goto out;
			got += (size_t)r;
		}
		now = sb_now();
		if (sent >= t0) {
			if (n++ == 0)
				m0 = sent;
			m1 = now;
			sb_samples_add(&lat, (now - sent) * 1e3, RTT_MAX_SAMPLES);
		}
	}
	rc = 0;
	printf("pingpong bytes=%d round_trips=%llu seconds=%.2f mean_ms=%.3f p50_ms=%.3f "
	       "p99_ms=%.3f\n",
	       PINGPONG_BYTES, n, m1 - m0, n ? (m1 - m0) * 1e3 / (double)n : 0.0,
	       sb_samples_pctl(&lat, 50), sb_samples_pctl(&lat, 99));
out:
	if (rc != 0)
		printf("pingpong status=failed error=\"%s\"\n", strerror(errno));
	if (ep >= 0)
		close(ep);
	if (fd >= 0)
		close(fd);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	sb_samples_free(&lat);
	return rc;
}
