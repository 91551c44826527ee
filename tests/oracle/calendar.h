/*
 * calendar: civil dates and the working-day calendar.
 *
 * Instants are int64_t seconds since the Unix epoch (UTC).  Dates are int32_t
 * days since 1970-01-01 in the proleptic Gregorian calendar.  Local time is
 * Asia/Shanghai, taken as a fixed UTC+8 (no DST since 1991): no tz database and
 * no TZ-dependent libc call is used, so results never depend on the host.
 *
 * Monday to Friday are working days unless listed as a holiday; Saturday and
 * Sunday are rest days unless listed as a make-up working day (调休).  Every
 * working day has the same single window [work_start, work_end) of seconds
 * after local midnight.
 */
#ifndef STREETD_CALENDAR_H
#define STREETD_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAL_SECS_PER_DAY 86400
#define CAL_UTC_OFFSET   (8 * 3600) /* Asia/Shanghai, east of UTC */

enum cal_day_kind {
	CAL_HOLIDAY, /* no work, even on a weekday */
	CAL_WORKDAY, /* make-up working day, even on a weekend */
};

struct cal_exception {
	int32_t day; /* days since 1970-01-01 */
	enum cal_day_kind kind;
};

/*
 * The calendar owns the days array (allocated by cal_add_day, released by
 * cal_free).  Treat the fields as read-only: days[] must stay sorted by day
 * with no duplicates, which only cal_add_day guarantees.
 */
struct cal_calendar {
	int32_t work_start, work_end; /* seconds after local midnight */
	size_t n, cap;
	struct cal_exception *days; /* sorted by day, n used of cap */
};

/* Civil dates.  Valid for any date whose day number fits int32_t. */
int32_t cal_days_from_civil(int y, int m, int d);
void cal_civil_from_days(int32_t days, int *y, int *m, int *d);
/* 0 = Sunday ... 6 = Saturday. */
int cal_weekday(int32_t days);
/* Strict "YYYY-MM-DD", years 0001-9999: 0 and *out set, or -1 (*out untouched). */
int cal_parse_date(const char *s, int32_t *out);

/*
 * Instant <-> local (day, seconds after midnight).  Valid while the local day
 * fits int32_t (|instant| < about 1.8e14, far beyond any real date).
 */
int32_t cal_local_day(int64_t instant);
int32_t cal_local_seconds(int64_t instant); /* 0 .. 86399 */
int64_t cal_instant_from_local(int32_t day, int32_t seconds);

/*
 * Empty calendar with the given working window.  Returns -1 (the calendar is
 * still a valid empty one, safe to cal_free) unless 0 <= start < end <= 86400.
 */
int cal_init(struct cal_calendar *cal, int32_t work_start, int32_t work_end);
/* Lists a holiday or make-up day.  -1 with errno EEXIST (day already listed),
 * EINVAL (bad kind) or ENOMEM; the calendar is unchanged then. */
int cal_add_day(struct cal_calendar *cal, int32_t day, enum cal_day_kind kind);
/* Frees the days array; the calendar is left empty but keeps its window. */
void cal_free(struct cal_calendar *cal);

bool cal_is_working_day(const struct cal_calendar *cal, int32_t day);
/* Index of the first exception with day >= the given day (n if none). */
size_t cal_lower_bound(const struct cal_calendar *cal, int32_t day);

#endif
