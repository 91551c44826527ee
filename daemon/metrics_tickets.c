#include "metrics_tickets.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "stmts.h"

struct text {
	char *p;
	size_t len, cap;
};

static struct text open_text, overdue_text;
static struct timespec refreshed; /* when the figures were read */
static bool have;                 /* figures were read at least once */
static struct db_query *pending;  /* a refresh under way */
static struct timespec asked;     /* when the last refresh was sent */

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static bool add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		if (!(p = realloc(t->p, cap)))
			return false;
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return true;
}

/* name{department="code"} value\n, the code escaped as the format says. */
static bool add_sample(struct text *t, const char *name, const char *dept, const char *value)
{
	bool ok = add(t, name, strlen(name)) && add(t, "{department=\"", 13);

	for (const char *c = dept; ok && *c; c++) {
		if (*c == '\\' || *c == '"')
			ok = add(t, "\\", 1) && add(t, c, 1);
		else if (*c == '\n')
			ok = add(t, "\\n", 2);
		else
			ok = add(t, c, 1);
	}
	return ok && add(t, "\"} ", 3) && add(t, value, strlen(value)) && add(t, "\n", 1);
}

static void refresh_done(void *arg, enum db_status st, const PGresult *res)
{
	int n;

	(void)arg;
	pending = NULL;
	if (st != DB_OK) {
		/* keep the old figures (their age shows it); try again next period */
		log_notice("metrics: reading the tickets by department failed status=%d", (int)st);
		return;
	}
	n = PQntuples(res);
	if (n > METRICS_TICKETS_MAX_ROWS) {
		log_warn("metrics: %d departments; only the first %d are shown", n,
		         METRICS_TICKETS_MAX_ROWS);
		n = METRICS_TICKETS_MAX_ROWS;
	}
	open_text.len = overdue_text.len = 0;
	for (int i = 0; i < n; i++) {
		if (!add_sample(&open_text, "streetd_tickets_open", PQgetvalue(res, i, 0),
		                PQgetvalue(res, i, 1)) ||
		    !add_sample(&overdue_text, "streetd_tickets_overdue", PQgetvalue(res, i, 0),
		                PQgetvalue(res, i, 2))) {
			open_text.len = overdue_text.len = 0;
			log_err("metrics: out of memory for the tickets by department");
			return;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &refreshed);
	have = true;
}

void metrics_tickets_refresh(struct db_pool *db)
{
	/* once per period, whether the last one answered or failed */
	if (pending || (asked.tv_sec != 0 && since(&asked) < METRICS_TICKETS_MAX_AGE_S))
		return;
	clock_gettime(CLOCK_MONOTONIC, &asked);
	pending = db_query(db, STMTS_METRICS_TICKETS, 0, NULL, refresh_done, NULL);
}

const char *metrics_tickets_open(size_t *len)
{
	*len = open_text.len;
	return open_text.p ? open_text.p : "";
}

const char *metrics_tickets_overdue(size_t *len)
{
	*len = overdue_text.len;
	return overdue_text.p ? overdue_text.p : "";
}

double metrics_tickets_age(void)
{
	return have ? since(&refreshed) : -1;
}

void metrics_tickets_free(void)
{
	if (pending)
		db_query_cancel(pending);
	pending = NULL;
	free(open_text.p);
	free(overdue_text.p);
	open_text = overdue_text = (struct text){ 0 };
	have = false;
	asked = (struct timespec){ 0 };
}
