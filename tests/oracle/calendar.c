/*
 * calendar: civil dates (Howard Hinnant's days_from_civil / civil_from_days
 * algorithms, rewritten here) and the sorted list of calendar exceptions.
 */
#include "calendar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int32_t cal_days_from_civil(int y, int m, int d)
{
	/* 64-bit all through so no intermediate overflows for any int year. */
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */

	return (int32_t)(era * 146097 + doe - 719468);
}

void cal_civil_from_days(int32_t days, int *y, int *m, int *d)
{
	/* Shift the epoch to 0000-03-01 so leap days fall at the end of a year. */
	int64_t z = (int64_t)days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int64_t mm = mp < 10 ? mp + 3 : mp - 9;

	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = (int)mm;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

int cal_weekday(int32_t days)
{
	/* 1970-01-01 was a Thursday; % may be negative before the epoch. */
	return (int)(((int64_t)days % 7 + 11) % 7);
}

static bool cal_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cal_month_days(int y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && cal_leap(y) ? 29 : len[m - 1];
}

/* Reads exactly n ASCII digits (no sign, no space, unlike strtol). */
static int cal_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int cal_parse_date(const char *s, int32_t *out)
{
	int y, m, d;

	if (s == NULL || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = cal_digits(s, 4);
	m = cal_digits(s + 5, 2);
	d = cal_digits(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > cal_month_days(y, m))
		return -1;
	*out = cal_days_from_civil(y, m, d);
	return 0;
}

/* Floor division of the local (UTC+8) time, written so no addition overflows. */
static void cal_split(int64_t instant, int64_t *day, int32_t *secs)
{
	int64_t q = instant / CAL_SECS_PER_DAY;
	int64_t r = instant % CAL_SECS_PER_DAY;

	if (r < 0) {
		r += CAL_SECS_PER_DAY;
		q--;
	}
	r += CAL_UTC_OFFSET;
	if (r >= CAL_SECS_PER_DAY) {
		r -= CAL_SECS_PER_DAY;
		q++;
	}
	*day = q;
	*secs = (int32_t)r;
}

int32_t cal_local_day(int64_t instant)
{
	int64_t day;
	int32_t secs;

	cal_split(instant, &day, &secs);
	return (int32_t)day;
}

int32_t cal_local_seconds(int64_t instant)
{
	int64_t day;
	int32_t secs;

	cal_split(instant, &day, &secs);
	return secs;
}

int64_t cal_instant_from_local(int32_t day, int32_t seconds)
{
	return (int64_t)day * CAL_SECS_PER_DAY + seconds - CAL_UTC_OFFSET;
}

int cal_init(struct cal_calendar *cal, int32_t work_start, int32_t work_end)
{
	cal->work_start = work_start;
	cal->work_end = work_end;
	cal->n = 0;
	cal->cap = 0;
	cal->days = NULL;
	if (work_start < 0 || work_start >= work_end || work_end > CAL_SECS_PER_DAY)
		return -1;
	return 0;
}

size_t cal_lower_bound(const struct cal_calendar *cal, int32_t day)
{
	size_t lo = 0, hi = cal->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int cal_add_day(struct cal_calendar *cal, int32_t day, enum cal_day_kind kind)
{
	size_t pos;

	if (kind != CAL_HOLIDAY && kind != CAL_WORKDAY) {
		errno = EINVAL;
		return -1;
	}
	pos = cal_lower_bound(cal, day);
	if (pos < cal->n && cal->days[pos].day == day) {
		errno = EEXIST;
		return -1;
	}
	if (cal->n == cal->cap) {
		size_t cap = cal->cap ? cal->cap * 2 : 32;
		struct cal_exception *p;

		if (cap < cal->cap || cap > SIZE_MAX / sizeof(*p)) {
			errno = ENOMEM;
			return -1;
		}
		p = realloc(cal->days, cap * sizeof(*p));
		if (p == NULL)
			return -1; /* realloc set ENOMEM */
		cal->days = p;
		cal->cap = cap;
	}
	memmove(&cal->days[pos + 1], &cal->days[pos], (cal->n - pos) * sizeof(cal->days[0]));
	cal->days[pos].day = day;
	cal->days[pos].kind = kind;
	cal->n++;
	return 0;
}

void cal_free(struct cal_calendar *cal)
{
	free(cal->days);
	cal->days = NULL;
	cal->n = 0;
	cal->cap = 0;
}

bool cal_is_working_day(const struct cal_calendar *cal, int32_t day)
{
	size_t pos = cal_lower_bound(cal, day);
	int wd;

	if (pos < cal->n && cal->days[pos].day == day)
		return cal->days[pos].kind == CAL_WORKDAY;
	wd = cal_weekday(day);
	return wd >= 1 && wd <= 5;
}
