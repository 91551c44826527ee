/*
 * fmt: small pieces of human output: times, durations, the Chinese names of
 * states and actions, and json-c accessors that tolerate missing keys.
 */
#ifndef STREETCTL_FMT_H
#define STREETCTL_FMT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* o[key] as a string, or NULL when absent, null or not a string. */
const char *fmt_str(json_object *o, const char *key);
/* o[key] as an integer, or dflt when absent or null. */
long long fmt_int(json_object *o, const char *key, long long dflt);
bool fmt_bool(json_object *o, const char *key);
/* o[key] when present and not null. */
json_object *fmt_get(json_object *o, const char *key);

/* "2026-11-27T12:20:14.5+08:00" -> "2026-11-27 12:20" (in the server's offset); "-" for NULL. */
const char *fmt_time(char *buf, size_t cap, const char *rfc3339);
/* Parses an RFC 3339 timestamp; 0 and *out, or -1. */
int fmt_parse_time(const char *s, time_t *out);
/* The same in milliseconds since the epoch (the fraction counts). */
int fmt_parse_time_ms(const char *s, long long *out);
/* Now, in milliseconds since the epoch (the wall clock, as timestamps are). */
long long fmt_now_ms(void);
/* 93784 -> "1d 2h", 7260 -> "2h 1m", 59 -> "0m". */
const char *fmt_duration(char *buf, size_t cap, long long seconds);

/* Cells of the assessment's reports: a rate (0-1) as "57.1%", a number as
 * the server wrote it, a row's unit.name; "-" (or "?" for a name) when
 * absent or null. */
const char *fmt_rate(char *buf, size_t cap, json_object *row, const char *key);
const char *fmt_number(char *buf, size_t cap, json_object *row, const char *key);
const char *fmt_unit_name(json_object *row);

/* "dispatched" -> "已派单"; the input when unknown. */
const char *fmt_state_zh(const char *state);
/* "dispatch" -> "派单"; the input when unknown. */
const char *fmt_action_zh(const char *action);
/* An SGR colour for a state (NULL for none). */
const char *fmt_state_sgr(const char *state);

#endif
