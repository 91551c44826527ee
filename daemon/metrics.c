#include "metrics.h"

static struct metrics counters;
static struct metrics_sources sources;

/* 1 ms (a cached read) to 10 s (the statement timeout's order). */
const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10,
};
const char *const metrics_latency_labels[METRICS_LATENCY_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25",  "0.5",    "1",     "2.5",  "5",     "7.5",  "10",
};

void metrics_count_request(enum proto_op op, enum proto_error code, double seconds)
{
	struct metrics_op *m;
	int b = 0;

	if ((int)op < 0 || op >= PROTO_OP_COUNT || (int)code < 0 || code >= PROTO_ERR_COUNT)
		return;
	m = &counters.op[op];
	m->outcome[code]++;
	if (seconds < 0)
		seconds = 0;
	while (b < METRICS_LATENCY_BUCKETS && seconds > metrics_latency_bounds[b])
		b++;
	m->bucket[b]++;
	m->sum_us += (uint64_t)(seconds * 1e6 + 0.5);
	m->count++;
}

void metrics_count_handshake(enum metrics_listener l, bool ok)
{
	if ((int)l < 0 || l >= METRICS_LISTENERS)
		return;
	if (ok)
		counters.handshakes[l]++;
	else
		counters.handshake_failures[l]++;
}

const struct metrics *metrics_get(void)
{
	return &counters;
}

void metrics_attach(const struct metrics_sources *src)
{
	sources = *src;
}

const struct metrics_sources *metrics_sources(void)
{
	return &sources;
}
