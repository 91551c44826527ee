/*
 * cmd_watch: subscribe and print events as they arrive.
 *
 * The last seq printed is saved after every event (state.c); a new watch,
 * or this one after a lost connection, resubscribes with since = that seq,
 * and the server replays what was missed with no gap and no duplicate
 * (docs/protocol.md, Live push).  Without a saved seq the stream starts at
 * the server's head, which is saved at once so that a reconnect does not
 * skip what happens meanwhile.  Reconnects back off from 0.5 s to 30 s.
 * A whoami every --keepalive seconds keeps the daemon's idle timeout away.
 * SIGINT and SIGTERM end it with status 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "conn.h"
#include "event.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "proto.h"
#include "ref.h"
#include "rpc.h"
#include "state.h"
#include "table.h"

#define WATCH_BACKOFF_MIN_MS 500
#define WATCH_BACKOFF_MAX_MS 30000

static volatile sig_atomic_t watch_stop;

static void watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct watch {
	struct ctl *ctl;
	json_object *filters; /* category, grid, state */
	long long keepalive_ms;
	char path[CTL_PATH_MAX]; /* the seq file, once the login is known */
	bool have_since;
	long long since;
	int next_id;
};

static long long watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends an op on the watch's connection; returns the id used, or -1. */
static int watch_send(struct watch *w, json_object *req)
{
	int id = w->next_id++;
	int rc;

	json_object_object_add(req, "id", json_object_new_int(id));
	rc = conn_send(w->ctl->conn,
	               json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	return rc == 0 ? id : -1;
}

/* One event for people: time, seq, ticket, action, states, actor, details. */
static void watch_print_human(struct watch *w, json_object *e)
{
	const char *action = fmt_str(e, "action"), *from = fmt_str(e, "from_state");
	const char *to = fmt_str(e, "to_state");
	char when[32], head[64], act[64], st[64], by[128], det[1024];

	snprintf(head, sizeof(head), "#%lld ticket %lld", fmt_int(e, "seq", 0),
	         fmt_int(e, "ticket_id", 0));
	snprintf(act, sizeof(act), "%s %s", fmt_action_zh(action), action ? action : "-");
	if (from != NULL && to != NULL && strcmp(from, to) != 0)
		snprintf(st, sizeof(st), "%s → %s", from, to);
	else
		snprintf(st, sizeof(st), "%s", to ? to : "-");
	out_printf(stdout, "%s  ", fmt_time(when, sizeof(when), fmt_str(e, "at")));
	table_pad(stdout, head, 22);
	fputs("  ", stdout);
	out_style(stdout, w->ctl->colour, "1");
	table_pad(stdout, act, 24);
	out_style(stdout, w->ctl->colour, NULL);
	fputs("  ", stdout);
	table_pad(stdout, st, 24);
	out_printf(stdout, "  %s", event_actor(w->ctl, e, by, sizeof(by)));
	event_details(w->ctl, e, det, sizeof(det));
	if (det[0] != '\0')
		out_printf(stdout, "  %s", det);
	fputc('\n', stdout);
}

/* Handles one pushed line; false when stdout is gone (a closed pipe). */
static bool watch_event(struct watch *w, json_object *line)
{
	json_object *e = fmt_get(line, "event");

	if (w->ctl->json)
		cmd_print_json(line);
	else if (e != NULL)
		watch_print_human(w, e);
	if (fflush(stdout) != 0) {
		watch_stop = 1; /* nobody reads any more (watch | head) */
		return false;
	}
	if (e != NULL && fmt_get(e, "seq") != NULL) {
		w->since = fmt_int(e, "seq", 0);
		w->have_since = true;
		if (w->path[0] != '\0' && state_write(w->path, w->since) != 0)
			fail(0, "cannot save the last seq in %s: %s; a restart may repeat events",
			     w->path, strerror(errno));
	}
	return true;
}

/*
 * Waits for the reply to id, handing pushed lines to watch_event.  Returns
 * 1 with *reply, 0 when interrupted or stdout is gone, -1 when the
 * connection is lost.
 */
static int watch_reply(struct watch *w, int id, json_object **reply)
{
	long long deadline = watch_now_ms() + RPC_REPLY_MS;

	for (;;) {
		json_object *o, *jid;
		int r = conn_recv(w->ctl->conn, (int)(deadline - watch_now_ms()), &o);

		if (r < 0)
			return -1;
		if (r == 0 && watch_stop)
			return 0;
		if (r == 0 && watch_now_ms() >= deadline)
			return -1;
		if (r == 0)
			continue;
		if (!json_object_object_get_ex(o, "id", &jid)) {
			bool ok = watch_event(w, o);

			json_object_put(o);
			if (!ok)
				return 0;
			continue;
		}
		if (jid == NULL || json_object_get_int(jid) == id) {
			*reply = o;
			return 1;
		}
		json_object_put(o);
	}
}

/* What a refused request means for watch: 0 retry later, else the exit code (printed). */
static int watch_refused(json_object *reply)
{
	json_object *err = fmt_get(reply, "error");
	const char *code = fmt_str(err, "code");

	if (code != NULL && (strcmp(code, "unavailable") == 0 ||
	                     strcmp(code, "rate_limited") == 0 || strcmp(code, "internal") == 0)) {
		fail(0, "%s; retrying", fmt_str(err, "message") ? fmt_str(err, "message") : code);
		return 0;
	}
	return fail_reply(err);
}

/*
 * whoami (the login names the seq file) then subscribe.  Returns 0 when
 * subscribed, -1 to reconnect, or an exit code.
 */
static int watch_subscribe(struct watch *w)
{
	json_object *req = rpc_new("whoami"), *reply = NULL, *res;
	int id = watch_send(w, req), r, rc = 0;

	json_object_put(req);
	if (id < 0)
		return -1;
	r = watch_reply(w, id, &reply);
	if (r <= 0)
		return r == 0 ? 0 : -1;
	if (!fmt_bool(reply, "ok")) {
		rc = watch_refused(reply);
		json_object_put(reply);
		return rc == 0 ? -1 : rc;
	}
	if (w->path[0] == '\0') {
		const char *login = fmt_str(fmt_get(fmt_get(reply, "result"), "account"), "login");

		if (state_path(w->path, sizeof(w->path), w->ctl->set.server, w->ctl->set.port,
		               login ? login : "unknown") != 0)
			fail(0, "no HOME or XDG_STATE_HOME: the last seq will not be kept");
		else if (!w->have_since && state_read(w->path, &w->since) == 0)
			w->have_since = true;
	}
	json_object_put(reply);
	reply = NULL;

	req = json_object_get(w->filters);
	if (w->have_since)
		json_object_object_add(req, "since", json_object_new_int64(w->since));
	id = watch_send(w, req);
	json_object_object_del(req, "since");
	json_object_put(req);
	if (id < 0)
		return -1;
	r = watch_reply(w, id, &reply);
	if (r <= 0)
		return r == 0 ? 0 : -1;
	if (!fmt_bool(reply, "ok")) {
		rc = watch_refused(reply);
		json_object_put(reply);
		return rc == 0 ? -1 : rc;
	}
	res = fmt_get(reply, "result");
	if (fmt_bool(res, "resync"))
		fail(0, "more than 100000 events were missed and are not replayed; re-read the "
		        "tickets with streetctl list and streetctl overdue");
	if (!w->have_since || fmt_bool(res, "resync")) {
		w->since = fmt_int(res, "head", 0);
		w->have_since = true;
		if (w->path[0] != '\0')
			state_write(w->path, w->since);
	}
	json_object_put(reply);
	return 0;
}

/* Reads events until the connection is lost (-1), Ctrl-C or a closed stdout (0). */
static int watch_stream(struct watch *w)
{
	long long ping = watch_now_ms() + w->keepalive_ms;

	while (!watch_stop) {
		json_object *o, *jid;
		long long left = ping - watch_now_ms();
		int r;

		if (left <= 0) {
			json_object *req = rpc_new("whoami");
			int id = watch_send(w, req);

			json_object_put(req);
			if (id < 0)
				return -1;
			ping = watch_now_ms() + w->keepalive_ms;
			continue;
		}
		r = conn_recv(w->ctl->conn, (int)left, &o);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (!json_object_object_get_ex(o, "id", &jid)) {
			bool ok = watch_event(w, o);

			json_object_put(o);
			if (!ok)
				return 0;
		} else {
			/* a keepalive's reply; a refusal (account disabled) ends the watch */
			int rc = fmt_bool(o, "ok") ? 0 : watch_refused(o);

			json_object_put(o);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static void watch_sleep(long long ms)
{
	long long until = watch_now_ms() + ms;

	while (!watch_stop && watch_now_ms() < until)
		rpc_sleep_ms((int)(until - watch_now_ms() > 200 ? 200 : until - watch_now_ms()));
}

/* Builds the subscribe request's filters from the options. */
static int watch_filters(struct ctl *ctl, const struct args *a, json_object *req)
{
	long long id;
	int rc = 0;

	if (args_has(a, "category")) {
		rc = ref_resolve(ctl, REF_CATEGORY, args_get(a, "category"), "category", &id);
		if (rc == 0)
			json_object_object_add(req, "category", json_object_new_int64(id));
	}
	if (rc == 0 && args_has(a, "grid")) {
		rc = ref_resolve(ctl, REF_GRID, args_get(a, "grid"), "grid", &id);
		if (rc == 0)
			json_object_object_add(req, "grid", json_object_new_int64(id));
	}
	if (rc == 0 && args_has(a, "state"))
		json_object_object_add(req, "state", json_object_new_string(args_get(a, "state")));
	return rc == 0 ? rpc_check(ctl, req) : rc;
}

int cmd_watch(struct ctl *ctl, const struct args *a)
{
	struct watch w = { .ctl = ctl, .next_id = 1, .keepalive_ms = 60000 };
	struct sigaction sa;
	long long backoff = WATCH_BACKOFF_MIN_MS, v;
	bool connected = false;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_on_signal; /* no SA_RESTART: a signal ends the poll at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = args_int(a, "since", 0, PROTO_INT_MAX, &w.since);
	if (rc == 0 && args_has(a, "since"))
		w.have_since = true;
	if (rc == 0 && args_has(a, "keepalive") &&
	    (rc = args_int(a, "keepalive", 1, 86400, &v)) == 0)
		w.keepalive_ms = v * 1000;
	w.filters = rpc_new("subscribe");
	if (rc == 0)
		rc = watch_filters(ctl, a, w.filters);
	/* a server that cannot be reached at the start is one error line, said once */
	if (rc == 0)
		rc = rpc_connect(ctl);
	/* names for the human lines; not fatal, and not needed for --json */
	if (rc == 0 && !ctl->json &&
	    (ref_load(ctl, REF_DEPARTMENT) != 0 || ref_load(ctl, REF_CATEGORY) != 0))
		fputs("streetctl: showing ids: the names could not be read\n", stderr);
	if (rc == 0 && !ctl->json && ctl->whoami == NULL) {
		json_object *req = rpc_new("whoami");

		rc = rpc_call(ctl, req, &ctl->whoami);
		json_object_put(req);
	}
	while (rc == 0 && !watch_stop) {
		int r;

		if (ctl->conn == NULL) {
			r = conn_open(&ctl->set, &ctl->conn, connected);
			/* a server down at the start is an error; later it is a pause */
			if (r == EX_NOPERM || r == EX_CONFIG || (r != 0 && !connected)) {
				rc = connected
				             ? fail(r, "%s; check cert and key", conn_open_error())
				             : r;
				break;
			}
			if (r != 0) {
				fail(0, "%s; reconnecting in %.1f s", conn_open_error(),
				     (double)backoff / 1000.0);
				watch_sleep(backoff);
				backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS
				                                             : backoff * 2;
				continue;
			}
		}
		connected = true;
		r = watch_subscribe(&w);
		if (r == 0 && !watch_stop) {
			backoff = WATCH_BACKOFF_MIN_MS;
			r = watch_stream(&w);
		}
		if (r > 0) {
			rc = r;
			break;
		}
		if (r < 0 && !watch_stop) {
			fail(0, "%s; reconnecting in %.1f s", conn_error(ctl->conn),
			     (double)backoff / 1000.0);
			conn_close(ctl->conn);
			ctl->conn = NULL;
			watch_sleep(backoff);
			backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS
			                                             : backoff * 2;
			continue;
		}
		break; /* Ctrl-C, or stdout closed */
	}
	json_object_put(w.filters);
	return rc;
}
