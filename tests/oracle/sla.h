/*
 * sla: deadlines counted in working time on a cal_calendar.
 *
 * These functions only read the calendar; the caller owns it and keeps it
 * alive and unchanged during the call.  sql/migrations/003_calendar.sql
 * implements the same two functions in PostgreSQL with the same results to
 * the second: change both together.  A test oracle only: deadlines are
 * computed in SQL (docs/decisions.md); tests/integration/test_sla_sql.c
 * compares the two.
 */
#ifndef STREETD_SLA_H
#define STREETD_SLA_H

#include <stdint.h>

#include "calendar.h"

/* The instants PostgreSQL's timestamptz can hold; anything outside is -1. */
#define SLA_INSTANT_MIN INT64_C(-210866803200) /* 4714-11-24 BC 00:00:00 UTC */
#define SLA_INSTANT_MAX INT64_C(9224318015999) /* 294276-12-31 23:59:59 UTC */

/*
 * A calendar with this many consecutive non-working days is broken (all
 * holidays?): both functions give up with -1 rather than search on.
 */
#define SLA_MAX_IDLE_DAYS 3660

/*
 * The earliest instant t >= start such that the working time inside
 * [start, t] is working_seconds: 0 gives start itself; a start outside working
 * hours begins counting at the next window; a deadline that falls on the end
 * of a window stays there.  0 and *deadline set, or -1 (*deadline untouched)
 * for negative seconds, an instant out of range, or SLA_MAX_IDLE_DAYS
 * consecutive non-working days met on the way.  Cost: O(days spanned), with
 * whole weeks free of calendar exceptions skipped at once.
 */
int sla_add(const struct cal_calendar *cal, int64_t start, int64_t working_seconds,
            int64_t *deadline);

/*
 * Working seconds inside [a, b), 0 when b <= a.  0 and *out set, or -1 for an
 * instant out of range or SLA_MAX_IDLE_DAYS consecutive non-working days
 * within the days [a, b) touches.  sla_working_between(s, sla_add(s, n)) == n.
 */
int sla_working_between(const struct cal_calendar *cal, int64_t a, int64_t b, int64_t *out);

#endif
