/*
 * sla: working-time arithmetic.  Both functions walk local days forward from
 * the start.  A day costs O(1) (a cursor moves along the sorted exceptions),
 * and a run of whole weeks with no exception is skipped at once, because any
 * seven consecutive ordinary days hold exactly five working days: a huge or
 * hostile number of seconds costs O(exceptions crossed), not O(days).
 */
#include "sla.h"

/* The walk's state: where it is in the exception list, and the guard. */
struct sla_walk {
	const struct cal_calendar *cal;
	size_t next;  /* first exception on or after the day being looked at */
	int32_t idle; /* consecutive non-working days seen so far */
};

static void sla_walk_init(struct sla_walk *w, const struct cal_calendar *cal, int32_t day)
{
	w->cal = cal;
	w->next = cal_lower_bound(cal, day);
	w->idle = 0;
}

static void sla_walk_seek(struct sla_walk *w, int32_t day)
{
	while (w->next < w->cal->n && w->cal->days[w->next].day < day)
		w->next++;
}

/* 1 if day (never before an earlier call's day) is a working day, 0 if not,
 * -1 when it makes SLA_MAX_IDLE_DAYS non-working days in a row. */
static int sla_walk_day(struct sla_walk *w, int32_t day)
{
	const struct cal_calendar *cal = w->cal;
	bool working;

	sla_walk_seek(w, day);
	if (w->next < cal->n && cal->days[w->next].day == day) {
		working = cal->days[w->next].kind == CAL_WORKDAY;
	} else {
		int wd = cal_weekday(day);

		working = wd >= 1 && wd <= 5;
	}
	if (working) {
		w->idle = 0;
		return 1;
	}
	return ++w->idle >= SLA_MAX_IDLE_DAYS ? -1 : 0;
}

/* Whole weeks from day on that hold no exception, at most limit. */
static int64_t sla_walk_free_weeks(struct sla_walk *w, int32_t day, int64_t limit)
{
	int64_t weeks;

	sla_walk_seek(w, day);
	if (w->next == w->cal->n)
		return limit;
	weeks = ((int64_t)w->cal->days[w->next].day - day) / 7;
	return weeks < limit ? weeks : limit;
}

/* After skipping plain weeks up to and including day last, the only
 * non-working days in a row are that block's final weekend days. */
static void sla_walk_skipped(struct sla_walk *w, int32_t last)
{
	int wd = cal_weekday(last);

	w->idle = wd == 6 ? 1 : wd == 0 ? 2 : 0;
}

static bool sla_valid(const struct cal_calendar *cal, int64_t t)
{
	/* The window is checked too: the struct's fields are public. */
	return t >= SLA_INSTANT_MIN && t <= SLA_INSTANT_MAX && cal->work_start >= 0 &&
	       cal->work_start < cal->work_end && cal->work_end <= CAL_SECS_PER_DAY;
}

int sla_add(const struct cal_calendar *cal, int64_t start, int64_t working_seconds,
            int64_t *deadline)
{
	const int32_t last_day = cal_local_day(SLA_INSTANT_MAX);
	int64_t win, week, rem = working_seconds, from, t;
	struct sla_walk w;
	int32_t day;

	if (working_seconds < 0 || !sla_valid(cal, start))
		return -1;
	if (working_seconds == 0) {
		*deadline = start;
		return 0;
	}
	win = cal->work_end - cal->work_start;
	week = 5 * win;
	day = cal_local_day(start);
	from = cal_local_seconds(start); /* only the first day may start late */
	sla_walk_init(&w, cal, day);
	/* Invariant: rem > 0, so the deadline is on day or later. */
	for (;;) {
		int r;

		if (from <= cal->work_start) {
			/* Skip while more than those weeks' time is left, so the
			 * deadline never falls on a skipped day. */
			int64_t k = sla_walk_free_weeks(&w, day, (rem - 1) / week);

			if (k > 0) {
				if (k > (last_day - day) / 7)
					return -1;
				day += (int32_t)(7 * k);
				rem -= week * k;
				sla_walk_skipped(&w, day - 1);
			}
		}
		r = sla_walk_day(&w, day);
		if (r < 0)
			return -1;
		if (r > 0) {
			int64_t lo = from > cal->work_start ? from : cal->work_start;

			if (lo < cal->work_end) {
				if (rem <= cal->work_end - lo) {
					t = cal_instant_from_local(day, (int32_t)(lo + rem));
					break;
				}
				rem -= cal->work_end - lo;
			}
		}
		if (day >= last_day)
			return -1;
		day++;
		from = 0;
	}
	if (t > SLA_INSTANT_MAX)
		return -1;
	*deadline = t;
	return 0;
}

int sla_working_between(const struct cal_calendar *cal, int64_t a, int64_t b, int64_t *out)
{
	int32_t da, db, dlast, day;
	int64_t sa, sb, week, total = 0;
	struct sla_walk w;

	if (!sla_valid(cal, a) || !sla_valid(cal, b))
		return -1;
	if (b <= a) {
		*out = 0;
		return 0;
	}
	week = 5 * (int64_t)(cal->work_end - cal->work_start);
	da = cal_local_day(a);
	sa = cal_local_seconds(a);
	db = cal_local_day(b);
	sb = cal_local_seconds(b);
	dlast = sb == 0 ? db - 1 : db; /* the last day [a, b) touches */
	sla_walk_init(&w, cal, da);
	for (day = da;; day++) {
		int64_t lo, hi;
		int r;

		if (day > da) {
			/* Days da+1 .. db-1 are whole days inside [a, b). */
			int64_t k = sla_walk_free_weeks(&w, day, ((int64_t)db - day) / 7);

			if (k > 0) {
				day += (int32_t)(7 * k);
				total += week * k;
				sla_walk_skipped(&w, day - 1);
				if (day > dlast)
					break;
			}
		}
		r = sla_walk_day(&w, day);
		if (r < 0)
			return -1;
		lo = day == da ? sa : 0;
		hi = day == db ? sb : CAL_SECS_PER_DAY;
		if (lo < cal->work_start)
			lo = cal->work_start;
		if (hi > cal->work_end)
			hi = cal->work_end;
		if (r > 0 && hi > lo)
			total += hi - lo;
		if (day == dlast)
			break;
	}
	*out = total;
	return 0;
}
