/*
 * period: the assessment's period options, one parser for every command that
 * takes a period (stats, ranking, score, lock): exactly one of --month
 * YYYY-MM, --quarter YYYY-Qn (or YYYYQn), --year YYYY, or --from with --to
 * (days YYYY-MM-DD, to the day after the last).  The server checks the days
 * (docs/assessment.md, "Periods").
 */
#ifndef STREETCTL_PERIOD_H
#define STREETCTL_PERIOD_H

#include "args.h"

#define PERIOD_DAY_MAX 16

/* The period [from, to) the options of a name; 0, or EX_USAGE after one
 * error line. */
int period_parse(const struct args *a, char from[PERIOD_DAY_MAX], char to[PERIOD_DAY_MAX]);

#endif
