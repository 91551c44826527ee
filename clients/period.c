#include "period.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fail.h"

/* s is exactly n decimal digits; their value in *v. */
static bool period_digits(const char *s, size_t n, int *v)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* The first day of month m of year y (m may be 13: January of y + 1). */
static void period_day(char *buf, int y, int m)
{
	if (m > 12) {
		y++;
		m -= 12;
	}
	/* the callers keep y in 1..9998; the bound tells the compiler so */
	snprintf(buf, PERIOD_DAY_MAX, "%04u-%02u-01", (unsigned)y % 10000, (unsigned)m % 100);
}

int period_parse(const struct args *a, char from[PERIOD_DAY_MAX], char to[PERIOD_DAY_MAX])
{
	const char *month = args_get(a, "month"), *quarter = args_get(a, "quarter");
	const char *year = args_get(a, "year"), *f = args_get(a, "from"), *t = args_get(a, "to");
	int given = (month != NULL) + (quarter != NULL) + (year != NULL) + (f != NULL || t != NULL);
	const char *cmd = a->cmd->name;
	int y, m, q;

	if (given != 1)
		return fail_usage(cmd,
		                  "give one period: --month YYYY-MM, --quarter YYYY-Qn, --year "
		                  "YYYY, or --from and --to (YYYY-MM-DD)");
	if (month != NULL) {
		if (strlen(month) != 7 || !period_digits(month, 4, &y) || month[4] != '-' ||
		    !period_digits(month + 5, 2, &m) || m < 1 || m > 12 || y < 1 || y > 9998)
			return fail_usage(cmd, "--month: '%s' is not YYYY-MM", month);
		period_day(from, y, m);
		period_day(to, y, m + 1);
	} else if (quarter != NULL) {
		size_t n = strlen(quarter), dash = n == 7 && quarter[4] == '-';
		const char *qq = quarter + 4 + dash;

		if ((n != 6 && n != 7) || (n == 7 && !dash) || !period_digits(quarter, 4, &y) ||
		    (qq[0] != 'Q' && qq[0] != 'q') || !period_digits(qq + 1, 1, &q) || q < 1 ||
		    q > 4 || y < 1 || y > 9998)
			return fail_usage(cmd, "--quarter: '%s' is not YYYY-Qn (n 1 to 4)",
			                  quarter);
		period_day(from, y, 3 * q - 2);
		period_day(to, y, 3 * q + 1);
	} else if (year != NULL) {
		if (strlen(year) != 4 || !period_digits(year, 4, &y) || y < 1 || y > 9998)
			return fail_usage(cmd, "--year: '%s' is not YYYY", year);
		period_day(from, y, 1);
		period_day(to, y, 13);
	} else {
		if (f == NULL || t == NULL)
			return fail_usage(cmd, "--from and --to go together");
		if (strlen(f) >= PERIOD_DAY_MAX || strlen(t) >= PERIOD_DAY_MAX)
			return fail_usage(cmd, "--from and --to are days YYYY-MM-DD");
		snprintf(from, PERIOD_DAY_MAX, "%s", f);
		snprintf(to, PERIOD_DAY_MAX, "%s", t);
	}
	return 0;
}
