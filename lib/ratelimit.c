/* ratelimit: see ratelimit.h. */
#include "ratelimit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	unsigned char key[RATELIMIT_KEY];
	double tokens; /* at time `at` */
	double at;
	bool used;
};

struct ratelimit {
	size_t nsets;
	double burst, rate;
	struct slot *slots;
};

struct ratelimit *ratelimit_new(size_t slots, double burst, double per_second)
{
	struct ratelimit *t;

	if (!(burst >= 1) || !(per_second > 0) || slots > SIZE_MAX / 2 / sizeof(struct slot))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nsets = (slots + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS;
	if (t->nsets == 0)
		t->nsets = 1;
	t->burst = burst;
	t->rate = per_second;
	t->slots = calloc(t->nsets * RATELIMIT_WAYS, sizeof(struct slot));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

static struct slot *set_of(const struct ratelimit *t, const unsigned char *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return t->slots + (size_t)(h % t->nsets) * RATELIMIT_WAYS;
}

/* The bucket's tokens at now (a clock going back refills nothing). */
static double tokens_at(const struct ratelimit *t, const struct slot *s, double now)
{
	double x = s->tokens + (now > s->at ? (now - s->at) * t->rate : 0);

	return x < t->burst ? x : t->burst;
}

static struct slot *find(const struct ratelimit *t, const unsigned char *key)
{
	struct slot *set = set_of(t, key);

	for (int i = 0; i < RATELIMIT_WAYS; i++)
		if (set[i].used && memcmp(set[i].key, key, RATELIMIT_KEY) == 0)
			return &set[i];
	return NULL;
}

int ratelimit_wait(const struct ratelimit *t, const unsigned char key[RATELIMIT_KEY], double now)
{
	const struct slot *s = find(t, key);
	double x, need;
	int secs;

	if (!s)
		return 0;
	x = tokens_at(t, s, now);
	if (x >= 1)
		return 0;
	need = (1 - x) / t->rate;
	if (need > 86400)
		return 86400;
	secs = (int)need;
	if ((double)secs < need) /* rounded up, without libm */
		secs++;
	return secs < 1 ? 1 : secs;
}

void ratelimit_charge(struct ratelimit *t, const unsigned char key[RATELIMIT_KEY], double now)
{
	struct slot *s = find(t, key);
	double x;

	if (!s) {
		struct slot *set = set_of(t, key);
		double best = -1;

		for (int i = 0; i < RATELIMIT_WAYS; i++) {
			double v = set[i].used ? tokens_at(t, &set[i], now) : t->burst + 1;

			if (!s || v > best || (v == best && set[i].at < s->at)) {
				s = &set[i];
				best = v;
			}
		}
		memcpy(s->key, key, RATELIMIT_KEY);
		s->used = true;
		s->tokens = t->burst;
		s->at = now;
	}
	x = tokens_at(t, s, now) - 1;
	s->tokens = x > 0 ? x : 0;
	if (now > s->at)
		s->at = now;
}

void ratelimit_free(struct ratelimit *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}
