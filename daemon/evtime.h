/*
 * evtime: milliseconds (the config's unit) as the struct timeval libevent
 * takes.  Header only; no state.
 */
#ifndef STREETD_EVTIME_H
#define STREETD_EVTIME_H

#include <event2/event.h>
#include <stdint.h>
#include <sys/time.h>

static inline struct timeval evtime_ms(int64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

/* Arms (or re-arms) the timer e to fire in ms milliseconds. */
static inline int evtime_add_ms(struct event *e, int64_t ms)
{
	struct timeval tv = evtime_ms(ms);

	return evtimer_add(e, &tv);
}

#endif
