#include "metrics_text.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "events.h"
#include "http.h"
#include "metrics.h"
#include "metrics_tickets.h"
#include "session.h"

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static struct out buf;

static bool room(struct out *o, size_t n)
{
	if (o->len + n <= o->cap)
		return true;
	if (o->oom)
		return false;
	size_t cap = o->cap ? o->cap : 16384;
	char *p;

	while (cap < o->len + n)
		cap *= 2;
	if (!(p = realloc(o->p, cap))) {
		o->oom = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (room(o, n)) {
		memcpy(o->p + o->len, s, n);
		o->len += n;
	}
}

#define PUT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		PUT(o, "-");
		put_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

/* Microseconds as seconds with six decimals: exact, and no printf. */
static void put_us(struct out *o, uint64_t us)
{
	char frac[6];

	put_u64(o, us / 1000000);
	us %= 1000000;
	for (int i = 5; i >= 0; i--, us /= 10)
		frac[i] = (char)('0' + us % 10);
	PUT(o, ".");
	put(o, frac, 6);
}

static void put_seconds(struct out *o, double s)
{
	if (s < 0) {
		PUT(o, "-");
		s = -s;
	}
	put_us(o, (uint64_t)(s * 1e6 + 0.5));
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	PUT(o, "# HELP ");
	puts_(o, name);
	PUT(o, " ");
	puts_(o, help);
	PUT(o, "\n# TYPE ");
	puts_(o, name);
	PUT(o, " ");
	puts_(o, type);
	PUT(o, "\n");
}

static void gauge(struct out *o, const char *name, const char *help, int64_t v)
{
	head(o, name, "gauge", help);
	puts_(o, name);
	PUT(o, " ");
	put_i64(o, v);
	PUT(o, "\n");
}

static void sessions(struct out *o, const struct session_hub *hub)
{
	static const char *const names[] = { "handshake", "auth", "ready", "closing" };
	uint64_t n[4] = { 0 }, backlog = 0;
	const struct session *s;

	TAILQ_FOREACH(s, &hub->sessions, link)
	{
		if ((int)s->state < 4)
			n[s->state]++;
		if (s->bev)
			backlog += evbuffer_get_length(bufferevent_get_output(s->bev));
	}
	head(o, "streetd_sessions", "gauge", "Socket protocol sessions by state.");
	for (int i = 0; i < 4; i++) {
		PUT(o, "streetd_sessions{state=\"");
		puts_(o, names[i]);
		PUT(o, "\"} ");
		put_u64(o, n[i]);
		PUT(o, "\n");
	}
	head(o, "streetd_push_backlog_bytes", "gauge",
	     "Bytes queued for socket sessions and not yet sent (replies and pushed events), "
	     "summed over the sessions.");
	PUT(o, "streetd_push_backlog_bytes ");
	put_u64(o, backlog);
	PUT(o, "\n");
}

static void requests(struct out *o, const struct metrics *m)
{
	head(o, "streetd_requests_total", "counter",
	     "Requests answered, by op and reply code (ok or the wire error code); a series "
	     "appears with its first request.");
	for (int op = 0; op < PROTO_OP_COUNT; op++) {
		const struct metrics_op *r = &m->op[op];

		if (r->count == 0)
			continue;
		for (int code = 0; code < PROTO_ERR_COUNT; code++) {
			if (r->outcome[code] == 0)
				continue;
			PUT(o, "streetd_requests_total{op=\"");
			puts_(o, proto_op_name((enum proto_op)op));
			PUT(o, "\",code=\"");
			puts_(o,
			      code == PROTO_OK ? "ok" : proto_error_name((enum proto_error)code));
			PUT(o, "\"} ");
			put_u64(o, r->outcome[code]);
			PUT(o, "\n");
		}
	}
	head(o, "streetd_request_duration_seconds", "histogram",
	     "Time from a request's start to its reply being queued, by op.");
	for (int op = 0; op < PROTO_OP_COUNT; op++) {
		const struct metrics_op *r = &m->op[op];
		const char *name = proto_op_name((enum proto_op)op);
		uint64_t cum = 0;

		if (r->count == 0)
			continue;
		for (int b = 0; b <= METRICS_LATENCY_BUCKETS; b++) {
			cum += r->bucket[b];
			PUT(o, "streetd_request_duration_seconds_bucket{op=\"");
			puts_(o, name);
			PUT(o, "\",le=\"");
			if (b < METRICS_LATENCY_BUCKETS)
				puts_(o, metrics_latency_labels[b]);
			else
				PUT(o, "+Inf");
			PUT(o, "\"} ");
			put_u64(o, cum);
			PUT(o, "\n");
		}
		PUT(o, "streetd_request_duration_seconds_sum{op=\"");
		puts_(o, name);
		PUT(o, "\"} ");
		put_us(o, r->sum_us);
		PUT(o, "\nstreetd_request_duration_seconds_count{op=\"");
		puts_(o, name);
		PUT(o, "\"} ");
		put_u64(o, r->count);
		PUT(o, "\n");
	}
}

static void group_bucket(struct out *o, const char *le, uint64_t cum)
{
	PUT(o, "streetd_db_group_commit_size_bucket{le=\"");
	puts_(o, le);
	PUT(o, "\"} ");
	put_u64(o, cum);
	PUT(o, "\n");
}

static void pool(struct out *o, const struct db_pool *db)
{
	/* powers of two up to DB_BATCH_MAX (32) */
	static const int bound[] = { 1, 2, 4, 8, 16, 32 };
	static const char *const le[] = { "1", "2", "4", "8", "16", "32" };
	const uint64_t *g = db_pool_group_sizes(db);
	uint64_t cum = 0, sum = 0;
	int b = 0;

	gauge(o, "streetd_db_connections", "Connections of the database pool (its size).",
	      db_pool_size(db));
	gauge(o, "streetd_db_connections_ready", "Pool connections connected and prepared.",
	      db_pool_ready(db));
	gauge(o, "streetd_db_connections_busy", "Pool connections with queries on the wire.",
	      db_pool_busy(db));
	gauge(o, "streetd_db_queries_waiting", "Queries waiting for a pool connection.",
	      db_pool_waiting(db));
	head(o, "streetd_db_group_commit_size", "histogram",
	     "Writes committed together in one transaction (group commit), per group.");
	for (int n = 1; n <= DB_BATCH_MAX; n++) {
		for (; b < 6 && n > bound[b]; b++)
			group_bucket(o, le[b], cum);
		cum += g[n];
		sum += (uint64_t)n * g[n];
	}
	for (; b < 6; b++)
		group_bucket(o, le[b], cum);
	group_bucket(o, "+Inf", cum);
	PUT(o, "streetd_db_group_commit_size_sum ");
	put_u64(o, sum);
	PUT(o, "\nstreetd_db_group_commit_size_count ");
	put_u64(o, cum);
	PUT(o, "\n");
}

static void reader(struct out *o, const struct events *ev)
{
	gauge(o, "streetd_events_position", "The last event seq the reader delivered to push.",
	      events_position(ev));
	gauge(o, "streetd_events_seen", "The highest event seq the reader has read from the log.",
	      events_seen(ev));
	gauge(o, "streetd_events_lag", "Events read but not delivered yet (behind a hole).",
	      events_seen(ev) - events_position(ev));
	head(o, "streetd_events_lag_seconds", "gauge",
	     "Seconds since the reader last read up to the end of the log (up to 0.5 when idle).");
	PUT(o, "streetd_events_lag_seconds ");
	put_seconds(o, events_lag_seconds(ev));
	PUT(o, "\n");
	gauge(o, "streetd_sweeper_leader",
	      "1 if this instance holds the deadline sweeper's lock, else 0.",
	      events_is_sweeper(ev) ? 1 : 0);
}

static void handshakes(struct out *o, const struct metrics *m)
{
	static const char *const names[METRICS_LISTENERS] = { "socket", "https" };

	head(o, "streetd_tls_handshakes_total", "counter",
	     "TLS handshakes ended, by listener and result (failed: broken, timed out, or "
	     "refused).");
	for (int l = 0; l < METRICS_LISTENERS; l++) {
		PUT(o, "streetd_tls_handshakes_total{listener=\"");
		puts_(o, names[l]);
		PUT(o, "\",result=\"ok\"} ");
		put_u64(o, m->handshakes[l]);
		PUT(o, "\nstreetd_tls_handshakes_total{listener=\"");
		puts_(o, names[l]);
		PUT(o, "\",result=\"failed\"} ");
		put_u64(o, m->handshake_failures[l]);
		PUT(o, "\n");
	}
}

static void tickets(struct out *o)
{
	const char *t;
	size_t n;
	double age = metrics_tickets_age();

	head(o, "streetd_tickets_open", "gauge",
	     "Open tickets by department (department=\"\": not dispatched yet); refreshed at "
	     "most every 15 s.");
	t = metrics_tickets_open(&n);
	put(o, t, n);
	head(o, "streetd_tickets_overdue", "gauge",
	     "Open tickets past their current deadline, by department.");
	t = metrics_tickets_overdue(&n);
	put(o, t, n);
	if (age >= 0) {
		head(o, "streetd_tickets_age_seconds", "gauge",
		     "How old the figures of streetd_tickets_open and _overdue are.");
		PUT(o, "streetd_tickets_age_seconds ");
		put_seconds(o, age);
		PUT(o, "\n");
	}
}

const char *metrics_text_render(size_t *len)
{
	const struct metrics_sources *src = metrics_sources();
	const struct metrics *m = metrics_get();

	buf.len = 0;
	buf.oom = false;
	if (src->hub)
		sessions(&buf, src->hub);
	if (src->http)
		gauge(&buf, "streetd_http_connections", "Open HTTPS connections.",
		      http_connections(src->http));
	requests(&buf, m);
	handshakes(&buf, m);
	if (src->db)
		pool(&buf, src->db);
	if (src->events)
		reader(&buf, src->events);
	tickets(&buf);
	if (buf.oom)
		return NULL;
	*len = buf.len;
	return buf.p;
}

void metrics_text_free(void)
{
	free(buf.p);
	buf = (struct out){ 0 };
}
