/*
 * sb_util: small helpers of streetbench: the clock, messages, percentiles and
 * a growable array of samples.
 */
#ifndef STREETBENCH_SB_UTIL_H
#define STREETBENCH_SB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock. */
double sb_now(void);

/* CPU seconds (user + system) this process has used so far. */
double sb_cpu(void);

/* CPU seconds process pid has used so far (from /proc), or 0 for pid <= 0
 * or when it cannot be read. */
double sb_proc_cpu(int pid);

struct event;
/* Arms the timer event e to fire in s seconds (0 if s < 0). */
void sb_after(struct event *e, double s);

/* Prints "streetbench: <message>" to stderr. */
void sb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replaces double quotes and control characters in s (in place), so that s
 * can be printed as key="s"; returns s. */
char *sb_clean(char *s);

/* A growable array of doubles (latencies in milliseconds). */
struct sb_samples {
	double *v;
	size_t n, cap;
};

/* Appends x; silently drops it once max samples are kept. */
void sb_samples_add(struct sb_samples *s, double x, size_t max);
/* The p-th percentile (0..100) after sorting in place; 0 when empty. */
double sb_samples_pctl(struct sb_samples *s, double p);
void sb_samples_free(struct sb_samples *s);

#endif
