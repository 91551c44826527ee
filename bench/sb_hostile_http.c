/*
 * hostile --http PORT: the phases of sb_hostile.c against the HTTPS listener
 * (issue 14).  The well-behaved client (--login's certificate) keeps one
 * keep-alive connection and alternates POST /api whoami and GET
 * /open311/v2/services.json, one request in flight, 2 ms apart; it must get
 * 200s (anything else is an error; a lost connection is one too, and it
 * connects again).  The background reporter still reports over the socket
 * protocol, so that there are events to push.  The attacks, on PORT, without
 * a client certificate unless said (what the server closes is opened again):
 *   slowloris   100 TLS connections each trickling a request whose headers
 *               never end, one byte a second (cut at http.request_timeout),
 *               and 100 TCP connections trickling a ClientHello the same way;
 *   oversized   one connection streaming a chunked POST /api body of 100 MB
 *               and one a header of 100 MB, as fast as they can (each again
 *               a second after the server closed it: 413 past limits.max_line,
 *               400 past http.max_header);
 *   handshakes  5,000 TCP connections that never send a byte (past
 *               http.max_handshakes the listener stops accepting: the rest
 *               wait in the kernel, and the server cuts the ones it took at
 *               http.request_timeout);
 *   flood       64 keep-alive connections each posting
 *               /open311/v2/requests.json with a wrong api_key again as soon
 *               as answered (from one address: 429 after the first few);
 *   sse_nonreader  GET /api/events as --accounts' second, then never reads;
 *               skipped (status=skipped) when the daemon answers it with
 *               anything but 200 (no Server-Sent Events there).
 * Extra words on each row: what the attack met (closes, statuses).
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_hostile.h"
#include "sb_http.h"
#include "sb_tls.h"

#define HFLOOD 64

struct http_state {
	struct sockaddr_in addr; /* the HTTPS listener */
	SSL_CTX *anon_ctx;       /* no client certificate */
	char host[64];           /* the Host header's value */
	struct sb_conn *good;
	struct sb_conn *slow[SB_SLOW_TLS];
	unsigned slow_pos[SB_SLOW_TLS];
	struct sb_conn *body, *head;
	size_t body_sent, head_sent;
	double body_closed, head_closed;
	struct sb_conn *flood[HFLOOD];
	struct sb_conn *sse;
	int sse_status; /* of GET /api/events: 0 until known */
	/* what the attacks met in this phase */
	unsigned long closed; /* connections the server closed */
	unsigned long st_413, st_400, st_other;
	unsigned long st_429, st_403;
};

static const char slow_text[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";

/* ---- the well-behaved client, on good_base ---- */

static void hgood_send(evutil_socket_t fd, short what, void *arg);

static void hgood_read(struct sb_conn *c, struct evbuffer *in, double at)
{
	struct sb_hostile *h = c->arg;
	int status, r;

	while ((r = sb_http_take(in, &status)) > 0)
		sb_hostile_answered(h, status != 200, at);
	if (r < 0) {
		sb_log("the well-behaved client: an answer that is not HTTP/1.1 with a length");
		evbuffer_drain(in, evbuffer_get_length(in));
	}
}

static void hgood_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;
	struct http_state *s = h->side_state;

	if (what == SB_CONN_UP) {
		hgood_send(-1, 0, h);
		return;
	}
	sb_hostile_lost(h, why);
	sb_conn_free(c);
	s->good = NULL;
	sb_after(h->ev_good, 0.1); /* and connect again */
}

static void hgood_open(struct sb_hostile *h)
{
	struct http_state *s = h->side_state;

	s->good = sb_conn_open(h->good_base, h->good_ctx, &s->addr, NULL, hgood_event, h, 0);
	if (s->good)
		s->good->on_read = hgood_read;
	else
		sb_after(h->ev_good, 0.1);
}

static void hgood_send(evutil_socket_t fd, short what, void *arg)
{
	struct sb_hostile *h = arg;
	struct http_state *s = h->side_state;
	char req[512];
	int n;

	if (!s->good) {
		hgood_open(h);
		return;
	}
	if (!s->good->up)
		return;
	h->good_id++;
	if (h->good_id % 2) {
		char body[64];
		int blen =
		        snprintf(body, sizeof(body), "{\"id\":%llu,\"op\":\"whoami\"}", h->good_id);

		n = snprintf(req, sizeof(req),
		             "POST /api HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		             "Content-Length: %d\r\n\r\n%s",
		             s->host, blen, body);
	} else {
		n = snprintf(req, sizeof(req),
		             "GET /open311/v2/services.json HTTP/1.1\r\nHost: %s\r\n\r\n", s->host);
	}
	h->good_sent = sb_now();
	if (n < 0 || (size_t)n >= sizeof(req) || sb_conn_write(s->good, req, (size_t)n) != 0)
		sb_log("the well-behaved client cannot send its request");
}

static int http_start(struct sb_hostile *h)
{
	struct http_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	h->side_state = s;
	s->addr = h->o->addr;
	s->addr.sin_port = htons((uint16_t)h->o->http_port);
	snprintf(s->host, sizeof(s->host), "%s:%d", h->o->host, h->o->http_port);
	s->anon_ctx = sb_tls_client_ctx(h->o->tls_dir, NULL);
	h->ev_good = evtimer_new(h->good_base, hgood_send, h);
	if (!s->anon_ctx || !h->ev_good)
		return -1;
	hgood_open(h);
	return s->good ? 0 : -1;
}

/* ---- attackers, on the main base ---- */

static void count_status(struct http_state *s, int status)
{
	switch (status) {
	case 413:
		s->st_413++;
		break;
	case 400:
		s->st_400++;
		break;
	case 429:
		s->st_429++;
		break;
	case 403:
		s->st_403++;
		break;
	default:
		s->st_other++;
		break;
	}
}

static void flood_post(struct sb_hostile *h, struct sb_conn *c)
{
	struct http_state *s = h->side_state;
	static const char form[] = "api_key=not-a-key-hostile-bench&service_code=pollution.dust"
	                           "&lat=39.9&long=116.4&description=flood";
	char req[512];
	int n = snprintf(req, sizeof(req),
	                 "POST /open311/v2/requests.json HTTP/1.1\r\nHost: %s\r\n"
	                 "Content-Type: application/x-www-form-urlencoded\r\n"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 s->host, sizeof(form) - 1, form);

	if (n > 0 && (size_t)n < sizeof(req))
		sb_conn_write(c, req, (size_t)n);
}

static bool is_flood(struct http_state *s, struct sb_conn *c)
{
	return c->index >= 1 && c->index <= HFLOOD && s->flood[c->index - 1] == c;
}

static void att_read(struct sb_conn *c, struct evbuffer *in, double at)
{
	struct sb_hostile *h = c->arg;
	struct http_state *s = h->side_state;
	int status, r;

	if (c == s->sse) {
		/* the status line only; after a 200 nothing is ever read again */
		status = s->sse_status ? s->sse_status : sb_http_status(in);
		if (status == 0)
			return;
		s->sse_status = status;
		if (status == 200)
			bufferevent_disable(c->bev, EV_READ);
		else
			evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	while ((r = sb_http_take(in, &status)) > 0) {
		count_status(s, status);
		/* the flooder posts again for every answer, refused or not */
		if (is_flood(s, c) && h->attacking)
			flood_post(h, c);
	}
	if (r < 0)
		evbuffer_drain(in, evbuffer_get_length(in));
}

static void att_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_hostile *h = c->arg;
	struct http_state *s = h->side_state;

	if (what != SB_CONN_UP)
		return; /* the tick frees it and opens another while attacking */
	if (c == s->body) {
		static const char head[] = "POST /api HTTP/1.1\r\nHost: x\r\n"
		                           "Content-Type: application/json\r\n"
		                           "Transfer-Encoding: chunked\r\n\r\n";

		bufferevent_write(c->bev, head, sizeof(head) - 1);
	} else if (c == s->head) {
		static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ";

		bufferevent_write(c->bev, head, sizeof(head) - 1);
	} else if (is_flood(s, c)) {
		flood_post(h, c);
	} else if (c == s->sse) {
		char req[256];
		int n = snprintf(req, sizeof(req),
		                 "GET /api/events HTTP/1.1\r\nHost: %s\r\n"
		                 "Accept: text/event-stream\r\n\r\n",
		                 s->host);

		sb_conn_write(c, req, (size_t)n);
	}
}

/* Keeps *c open while attacking: reopens it if the server closed it, at
 * once, or (closed_at not NULL) a second after it did. */
static void keep(struct sb_hostile *h, struct sb_conn **c, SSL_CTX *ctx, int index,
                 double *closed_at)
{
	struct http_state *s = h->side_state;

	if (*c && (*c)->down) {
		sb_conn_free(*c);
		*c = NULL;
		s->closed++;
		if (closed_at)
			*closed_at = sb_now();
	}
	if (!*c && (!closed_at || sb_now() - *closed_at >= 1.0)) {
		*c = sb_conn_open(h->base, ctx, &s->addr, NULL, att_event, h, index);
		if (*c)
			(*c)->on_read = att_read;
	}
}

/* Streams up to SB_BIG_TOTAL bytes on c, a chunk whenever the last is out. */
static void stream(struct sb_conn *c, size_t *sent, bool chunked)
{
	static char chunk[SB_BIG_CHUNK];
	struct evbuffer *out;

	if (!c || !c->up || *sent >= SB_BIG_TOTAL)
		return;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) >= SB_BIG_CHUNK)
		return;
	if (chunk[0] != 'x')
		memset(chunk, 'x', sizeof(chunk));
	if (chunked)
		evbuffer_add_printf(out, "%x\r\n", (unsigned)sizeof(chunk));
	evbuffer_add(out, chunk, sizeof(chunk));
	if (chunked)
		evbuffer_add(out, "\r\n", 2);
	*sent += sizeof(chunk);
}

static void http_tick(struct sb_hostile *h, unsigned ticks)
{
	struct http_state *s = h->side_state;

	switch (h->phase) {
	case PH_SLOW:
		for (int i = 0; i < SB_SLOW_TLS; i++) {
			struct sb_conn *before = s->slow[i];

			keep(h, &s->slow[i], s->anon_ctx, 0, NULL);
			if (s->slow[i] != before)
				s->slow_pos[i] = 0;
			if (ticks % 100 == (unsigned)i % 100 && s->slow[i] && s->slow[i]->up) {
				unsigned p = s->slow_pos[i]++;
				const char *b = p < sizeof(slow_text) - 1 ? &slow_text[p] : "a";

				bufferevent_write(s->slow[i]->bev, b, 1);
			}
		}
		sb_hostile_trickle_hello(h, &s->addr, ticks);
		break;
	case PH_BIG:
		if (s->body && s->body->down)
			s->body_sent = 0;
		if (s->head && s->head->down)
			s->head_sent = 0;
		keep(h, &s->body, s->anon_ctx, 0, &s->body_closed);
		keep(h, &s->head, s->anon_ctx, 0, &s->head_closed);
		stream(s->body, &s->body_sent, true);
		stream(s->head, &s->head_sent, false);
		break;
	case PH_SHAKE:
		sb_hostile_half_open(h, &s->addr);
		break;
	case PH_FLOOD:
		for (int i = 0; i < HFLOOD; i++)
			keep(h, &s->flood[i], s->anon_ctx, i + 1, NULL);
		break;
	case PH_NONREADER:
		/* once refused (no SSE here), not again */
		if (s->sse_status == 0 || s->sse_status == 200)
			keep(h, &s->sse, h->sub_ctx, 0, NULL);
		break;
	default:
		break;
	}
}

static bool http_report(struct sb_hostile *h, char *out, size_t n)
{
	struct http_state *s = h->side_state;
	bool made = true;

	switch (h->phase) {
	case PH_SLOW:
		snprintf(out, n, "closed=%lu", s->closed);
		break;
	case PH_BIG:
		snprintf(out, n, "closed=%lu answered_413=%lu answered_400=%lu answered_other=%lu",
		         s->closed, s->st_413, s->st_400, s->st_other + s->st_429 + s->st_403);
		break;
	case PH_SHAKE:
		snprintf(out, n, "opened=%d cut=%d", h->shake_opened, sb_hostile_half_open_cut(h));
		break;
	case PH_FLOOD:
		snprintf(out, n, "answered_429=%lu answered_403=%lu answered_other=%lu closed=%lu",
		         s->st_429, s->st_403, s->st_other + s->st_413 + s->st_400, s->closed);
		break;
	case PH_NONREADER:
		if (s->sse_status == 200) {
			snprintf(out, n, "closed=%lu", s->closed);
		} else {
			snprintf(out, n, "GET /api/events answered %d, not a stream",
			         s->sse_status);
			made = false;
		}
		break;
	default:
		out[0] = '\0';
		break;
	}
	return made;
}

static void http_stop(struct sb_hostile *h)
{
	struct http_state *s = h->side_state;

	for (int i = 0; i < SB_SLOW_TLS; i++)
		sb_hostile_drop(&s->slow[i]);
	sb_hostile_drop(&s->body);
	sb_hostile_drop(&s->head);
	for (int i = 0; i < HFLOOD; i++)
		sb_hostile_drop(&s->flood[i]);
	sb_hostile_drop(&s->sse);
	s->body_sent = s->head_sent = 0;
	s->body_closed = s->head_closed = 0;
	s->closed = s->st_413 = s->st_400 = s->st_other = s->st_429 = s->st_403 = 0;
}

static void http_free(struct sb_hostile *h)
{
	struct http_state *s = h->side_state;

	if (!s)
		return;
	sb_hostile_drop(&s->good);
	SSL_CTX_free(s->anon_ctx);
	free(s);
	h->side_state = NULL;
}

const struct sb_hostile_side sb_hostile_http_side = {
	.label = "hostile_http",
	.names = { "baseline", "slowloris", "oversized", "handshakes", "flood", "sse_nonreader" },
	.start = http_start,
	.tick = http_tick,
	.report = http_report,
	.stop = http_stop,
	.free = http_free,
};
