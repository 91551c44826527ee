/*
 * metrics_tickets: open and overdue tickets by department for /metrics,
 * from the database (st_metrics_tickets), cached: a scrape that finds the
 * figures older than METRICS_TICKETS_MAX_AGE_S starts one query on the
 * pool and shows the figures it has meanwhile (with their age), so scrapes
 * never wait on the database and never cost more than one query per period.
 * Bounded: departments are few; more than METRICS_TICKETS_MAX_ROWS are cut.
 *
 * Ownership: the module keeps one cached text (the sample lines) and at most
 * one query; metrics_tickets_free() releases them (at exit).
 */
#ifndef STREETD_METRICS_TICKETS_H
#define STREETD_METRICS_TICKETS_H

#include <stddef.h>

struct db_pool;

#define METRICS_TICKETS_MAX_AGE_S 15
#define METRICS_TICKETS_MAX_ROWS  1000

/* Starts a refresh on db if the figures are older than the period (or there
 * are none) and none is under way. */
void metrics_tickets_refresh(struct db_pool *db);

/* The sample lines of streetd_tickets_open and streetd_tickets_overdue (text
 * owned by the module, valid until the next refresh completes; "" before the
 * first), and their age in seconds (-1: none yet). */
const char *metrics_tickets_open(size_t *len);
const char *metrics_tickets_overdue(size_t *len);
double metrics_tickets_age(void);

void metrics_tickets_free(void);

#endif
