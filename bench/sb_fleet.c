#include "sb_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"

enum { SB_OPENING = 0, SB_READY = 1, SB_GONE = 2 };

static void sb_fleet_pump(struct sb_fleet *f);

static void sb_fleet_check_settled(struct sb_fleet *f)
{
	if (f->settled || f->ready + f->failed < f->target)
		return;
	f->settled = true;
	f->settled_at = sb_now();
	if (f->on_settled)
		f->on_settled(f);
}

/* Counts session i as failed and frees it; the caller pumps. */
static void sb_fleet_drop(struct sb_fleet *f, int i, const char *why)
{
	if (!f->first_error[0]) {
		snprintf(f->first_error, sizeof(f->first_error), "%s", why);
		sb_clean(f->first_error);
	}
	f->state[i] = SB_GONE;
	f->failed++;
	f->connecting--;
	sb_conn_free(f->conns[i]);
	f->conns[i] = NULL;
}

static void sb_fleet_fail(struct sb_fleet *f, int i, const char *why)
{
	sb_fleet_drop(f, i, why);
	sb_fleet_pump(f);
	sb_fleet_check_settled(f);
}

static void sb_fleet_conn_msg(struct sb_conn *c, json_object *msg, double at)
{
	struct sb_fleet *f = c->arg;
	int i = c->index;
	json_object *id = sb_json_get(msg, "id");
	const char *code;

	if (f->state[i] == SB_READY || (!id && sb_json_get(msg, "event"))) {
		f->on_msg(f, i, msg, at);
		return;
	}
	if (f->state[i] != SB_OPENING)
		return;
	code = sb_json_error_code(msg);
	if (!code && id && json_object_is_type(id, json_type_string) &&
	    strcmp(json_object_get_string(id), "hello") == 0) {
		f->state[i] = SB_READY;
		f->ready++;
		f->connecting--;
		sb_fleet_pump(f);
		sb_fleet_check_settled(f);
		return;
	}
	/* an error before the session was ready: remember it, the connection
	 * is dropped when it goes down (or at the end) */
	if (!f->first_error[0]) {
		json_object *m = sb_json_get(sb_json_get(msg, "error"), "message");

		snprintf(f->first_error, sizeof(f->first_error), "%s: %s", code ? code : "no code",
		         m ? json_object_get_string(m) : "");
		sb_clean(f->first_error);
	}
	f->state[i] = SB_GONE;
	f->failed++;
	f->connecting--;
	/* freed later: on_msg must not free its connection */
	sb_fleet_pump(f);
	sb_fleet_check_settled(f);
}

/* The fast path for pushed events: a line that starts {"event":{ and has
 * "seq": (jsonb prints short keys first, so the first "seq" is the event's). */
static bool sb_fleet_conn_raw(struct sb_conn *c, const char *line, size_t len, double at)
{
	static const char head[] = "{\"event\":{";
	struct sb_fleet *f = c->arg;
	const char *p, *end = line + len;

	if (len < sizeof(head) - 1 || memcmp(line, head, sizeof(head) - 1) != 0)
		return false;
	p = memmem(line, len, "\"seq\":", 6);
	if (!p || p + 6 >= end)
		return false;
	f->on_event(f, c->index, strtoll(p + 6, NULL, 10), at);
	return true;
}

/* A line of an SSE stream (sb_fleet.sse): the status line, headers, chunk
 * sizes and fields; every line is taken here. */
static bool sb_fleet_conn_sse(struct sb_conn *c, const char *line, size_t len, double at)
{
	struct sb_fleet *f = c->arg;
	int i = c->index;

	if (len > 6 && memcmp(line, "data: ", 6) == 0) {
		if (f->on_event)
			(void)sb_fleet_conn_raw(c, line + 6, len - 6, at);
		return true;
	}
	if (f->state[i] != SB_OPENING)
		return true;
	if (len >= 12 && memcmp(line, "HTTP/1.", 7) == 0 && memcmp(line + 9, "200", 3) != 0) {
		if (!f->first_error[0]) {
			snprintf(f->first_error, sizeof(f->first_error), "%.*s",
			         (int)(len < 80 ? len : 80), line);
			sb_clean(f->first_error);
		}
		f->state[i] = SB_GONE;
		f->failed++;
		f->connecting--;
		sb_fleet_pump(f);
		sb_fleet_check_settled(f);
	} else if (len == 17 && memcmp(line, "event: subscribed", 17) == 0) {
		f->state[i] = SB_READY;
		f->ready++;
		f->connecting--;
		sb_fleet_pump(f);
		sb_fleet_check_settled(f);
	}
	return true;
}

static void sb_fleet_conn_event(struct sb_conn *c, int what, const char *why)
{
	struct sb_fleet *f = c->arg;
	int i = c->index;

	if (what == SB_CONN_UP) {
		if (sb_conn_sendf(c, "%s", f->hello) != 0)
			sb_fleet_fail(f, i, "cannot queue the hello");
		return;
	}
	if (f->state[i] == SB_OPENING) {
		sb_fleet_fail(f, i, why);
		return;
	}
	if (f->state[i] == SB_READY) {
		f->state[i] = SB_GONE;
		f->ready--;
		f->lost++;
		if (f->on_lost)
			f->on_lost(f, i, why);
	}
	sb_conn_free(f->conns[i]);
	f->conns[i] = NULL;
}

static void sb_fleet_pump(struct sb_fleet *f)
{
	while (f->opened < f->target && f->connecting < f->max_connecting) {
		int i = f->opened++;

		f->connecting++;
		f->conns[i] = sb_conn_open(f->base, f->ctxs[i % f->nctx], &f->addr,
		                           sb_fleet_conn_msg, sb_fleet_conn_event, f, i);
		if (!f->conns[i])
			sb_fleet_drop(f, i, "cannot open a connection (out of file descriptors?)");
		else if (f->sse)
			f->conns[i]->on_raw = sb_fleet_conn_sse;
		else if (f->on_event)
			f->conns[i]->on_raw = sb_fleet_conn_raw;
	}
}

int sb_fleet_start(struct sb_fleet *f)
{
	f->conns = calloc((size_t)f->target, sizeof(*f->conns));
	f->state = calloc((size_t)f->target, 1);
	if (!f->conns || !f->state)
		return -1;
	if (f->max_connecting <= 0)
		f->max_connecting = 64;
	f->started = sb_now();
	sb_fleet_pump(f);
	sb_fleet_check_settled(f);
	return 0;
}

void sb_fleet_free(struct sb_fleet *f)
{
	for (int i = 0; f->conns && i < f->target; i++)
		sb_conn_free(f->conns[i]);
	free(f->conns);
	free(f->state);
	f->conns = NULL;
	f->state = NULL;
}
