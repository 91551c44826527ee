#include "account_watch.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "evtime.h"
#include "log.h"
#include "session.h"
#include "stmts.h"

/* [[id, revision, disabled], ...]: revision null when the account is gone. */
/* "disabling ends live sessions within seconds" */
#define ACCOUNT_WATCH_EVERY_MS 2000

struct account_watch {
	struct db_pool *db;
	struct accounts *accounts;
	const struct session_hub *hub;
	struct event *timer;
	bool busy; /* a query is in flight */
};

static void changed_done(void *arg, enum db_status st, const PGresult *res)
{
	struct account_watch *w = arg;
	json_object *rows;

	w->busy = false;
	if (st != DB_OK || PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return;
	rows = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (rows && json_object_is_type(rows, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			json_object *row = json_object_array_get_idx(rows, i);
			json_object *rev = json_object_array_get_idx(row, 1);
			int id = json_object_get_int(json_object_array_get_idx(row, 0));
			bool disabled = json_object_get_boolean(json_object_array_get_idx(row, 2));
			long long before;
			int n;

			if (id <= 0)
				continue;
			/* revisions only grow: the sessions older than the current one
			 * are stale; a disabled account's current revision is too (no
			 * session can have logged in at it) */
			before = rev == NULL ? LLONG_MAX : json_object_get_int64(rev) + disabled;
			n = accounts_close_before(w->accounts, id, before,
			                          disabled ? "account disabled"
			                                   : "your account changed; reconnect");
			if (n > 0)
				log_notice(
				        "account %s: closed its sessions account_id=%d sessions=%d",
				        rev == NULL ? "deleted"
				        : disabled  ? "disabled"
				                    : "changed",
				        id, n);
		}
	}
	json_object_put(rows);
}

static void account_watch_tick(evutil_socket_t fd, short what, void *arg)
{
	struct account_watch *w = arg;
	char *ids, *revisions;

	if (w->busy || w->hub->nsessions == 0 || db_pool_ready(w->db) == 0)
		return;
	if (accounts_revision_arrays(w->accounts, &ids, &revisions) != 0)
		return;
	if (strcmp(ids, "{}") != 0 && db_query(w->db, STMTS_CHANGED_ACCOUNTS, 2,
	                                       (const char *[]){ ids, revisions }, changed_done, w))
		w->busy = true;
	free(ids);
	free(revisions);
}

struct account_watch *account_watch_new(struct event_base *base, struct db_pool *db,
                                        struct accounts *accounts, const struct session_hub *hub)
{
	struct account_watch *w = calloc(1, sizeof(*w));
	struct timeval every = evtime_ms(ACCOUNT_WATCH_EVERY_MS);

	if (!w)
		return NULL;
	*w = (struct account_watch){ .db = db, .accounts = accounts, .hub = hub };
	w->timer = event_new(base, -1, EV_PERSIST, account_watch_tick, w);
	if (!w->timer || event_add(w->timer, &every) != 0) {
		account_watch_free(w);
		return NULL;
	}
	return w;
}

void account_watch_free(struct account_watch *w)
{
	if (!w)
		return;
	if (w->timer)
		event_free(w->timer);
	free(w);
}
