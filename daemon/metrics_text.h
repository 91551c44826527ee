/*
 * metrics_text: the Prometheus text exposition (format 0.0.4) of the
 * daemon's figures: the counters (metrics.h), what the attached objects know
 * now (sessions, the database pool, the log reader, the HTTPS listener) and
 * the cached tickets by department (metrics_tickets.h).  docs/http.md lists
 * every metric.
 *
 * Built per scrape into one buffer the module keeps and reuses (no
 * allocation once it has grown, numbers written by hand, not printf): a
 * scrape costs about what sending the bytes does.
 */
#ifndef STREETD_METRICS_TEXT_H
#define STREETD_METRICS_TEXT_H

#include <stddef.h>

/* The text, owned by the module and valid until the next call; NULL on
 * ENOMEM. */
const char *metrics_text_render(size_t *len);

/* Frees the buffer (at exit). */
void metrics_text_free(void);

#endif
