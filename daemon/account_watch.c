#include "account_watch.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "db.h"
#include "stmts.h"
#include "log.h"
#include "server.h"

/* [[id, revision, disabled], ...]: revision null when the account is gone. */
static void changed_done(void *arg, enum db_status st, const PGresult *res)
{
	struct server *srv = arg;
	json_object *rows;

	srv->account_check_busy = false;
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
			n = accounts_close_before(srv->accounts, id, before,
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

void account_watch_tick(struct server *srv)
{
	char *ids, *revisions;

	if (srv->account_check_busy || srv->hub.nsessions == 0 || db_pool_ready(srv->db) == 0)
		return;
	if (accounts_revision_arrays(srv->accounts, &ids, &revisions) != 0)
		return;
	if (strcmp(ids, "{}") != 0 &&
	    db_query(srv->db, STMTS_CHANGED_ACCOUNTS, 2, (const char *[]){ ids, revisions },
	             changed_done, srv))
		srv->account_check_busy = true;
	free(ids);
	free(revisions);
}
