/*
 * ratelimit: token buckets in a fixed-size table, for refusing floods (the
 * Open311 layer counts failed api_key posts per key and per client address:
 * docs/open311.md, "Rate limits").  Pure: the caller passes the time.
 *
 * Each key has a bucket of `burst` tokens refilled at `per_second`; an
 * absent key has a full bucket.  Memory is bounded: `slots` entries in sets
 * of RATELIMIT_WAYS, the set picked by the key's first bytes, so keys must
 * already be uniform (a SHA-256, or a salted hash of an address: a client
 * cannot aim at one set).  A full set evicts the entry that has refilled
 * the most (a full bucket is the same as no entry, so nothing is lost until
 * every entry in the set is drained), the older one on a tie.
 *
 * Ownership: ratelimit_new() returns a table the caller frees with
 * ratelimit_free(); keys are copied.
 */
#ifndef STREETD_RATELIMIT_H
#define STREETD_RATELIMIT_H

#include <stddef.h>

#define RATELIMIT_KEY  32
#define RATELIMIT_WAYS 8

struct ratelimit;

/* slots is rounded up to a multiple of RATELIMIT_WAYS (at least one set);
 * burst ≥ 1, per_second > 0.  NULL when out of memory or bad arguments. */
struct ratelimit *ratelimit_new(size_t slots, double burst, double per_second);

/* 0 when key has a token now, else the whole seconds (≥ 1) until it has one.
 * Takes nothing. */
int ratelimit_wait(const struct ratelimit *t, const unsigned char key[RATELIMIT_KEY], double now);

/* Takes a token from key's bucket (none left: it stays empty). */
void ratelimit_charge(struct ratelimit *t, const unsigned char key[RATELIMIT_KEY], double now);

void ratelimit_free(struct ratelimit *t);

#endif
