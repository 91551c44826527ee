#include "sb_cycle.h"

#include <stdio.h>
#include <string.h>

/* At most this many latency samples are kept per run. */
#define SB_CYCLE_MAX_SAMPLES (4u << 20)

int sb_cycle_send(struct sb_cycle *w)
{
	unsigned long long id = ++w->next_id;
	int rc = -1;

	switch (w->step) {
	case SB_STEP_REPORT:
		if (w->reporter)
			rc = sb_conn_sendf(
			        w->reporter,
			        "{\"id\":%llu,\"op\":\"report\",\"category\":%d,\"grid\":%d,"
			        "\"description\":\"streetbench load %llu\"}",
			        id, w->category, w->grid, id);
		break;
	case SB_STEP_DISPATCH:
		if (w->street)
			rc = sb_conn_sendf(w->street,
			                   "{\"id\":%llu,\"op\":\"dispatch\",\"ticket\":%lld,"
			                   "\"version\":%d}",
			                   id, w->ticket, w->version);
		break;
	case SB_STEP_ACCEPT:
		if (w->dept)
			rc = sb_conn_sendf(w->dept,
			                   "{\"id\":%llu,\"op\":\"accept\",\"ticket\":%lld,"
			                   "\"version\":%d}",
			                   id, w->ticket, w->version);
		break;
	case SB_STEP_RESOLVE:
		if (w->dept)
			rc = sb_conn_sendf(w->dept,
			                   "{\"id\":%llu,\"op\":\"resolve\",\"ticket\":%lld,"
			                   "\"version\":%d,\"note\":\"done by streetbench\"}",
			                   id, w->ticket, w->version);
		break;
	case SB_STEP_CONFIRM:
		if (w->reporter)
			rc = sb_conn_sendf(w->reporter,
			                   "{\"id\":%llu,\"op\":\"confirm\",\"ticket\":%lld,"
			                   "\"version\":%d,\"rating\":5}",
			                   id, w->ticket, w->version);
		break;
	default:
		break;
	}
	if (rc != 0)
		return -1;
	w->waiting_id = id;
	w->busy = true;
	w->sent_at = sb_now();
	return 0;
}

int sb_cycle_reply(struct sb_cycle *w, json_object *msg, double at)
{
	json_object *id = sb_json_get(msg, "id");
	const char *code;
	struct sb_cycle_stats *st = w->stats;

	if (!w->busy || !id || !json_object_is_type(id, json_type_int) ||
	    (unsigned long long)json_object_get_int64(id) != w->waiting_id)
		return -1;
	w->busy = false;
	code = sb_json_error_code(msg);
	if (st->measuring)
		sb_samples_add(&st->latency_ms, (at - w->sent_at) * 1e3, SB_CYCLE_MAX_SAMPLES);
	if (code) {
		json_object *m = sb_json_get(sb_json_get(msg, "error"), "message");

		if (!st->first_error[0]) {
			snprintf(st->first_error, sizeof(st->first_error), "%s: %s", code,
			         m ? json_object_get_string(m) : "");
			sb_clean(st->first_error);
		}
		if (st->measuring)
			st->errors++;
		w->step = SB_STEP_REPORT;
		w->last_seq = -1;
		return 0;
	}
	w->ticket = sb_json_int(msg, "result", "ticket", "id");
	w->version = (int)sb_json_int(msg, "result", "ticket", "version");
	w->last_seq = sb_json_int(msg, "result", "event", "seq");
	if (st->measuring)
		st->actions++;
	w->step = w->step == SB_STEP_CONFIRM ? SB_STEP_REPORT : w->step + 1;
	if (w->ticket <= 0 || w->version <= 0)
		w->step = SB_STEP_REPORT;
	return 1;
}
