#include "stmts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

#ifndef STREETD_VERSION
#define STREETD_VERSION "0.0.0"
#endif

/* The daemon's own statements first, then one per op that calls the
 * database (proto's op table names the function). */
#define NSTMTS (STMTS_NOWN + PROTO_OP_COUNT)

static struct db_stmt stmts[NSTMTS];
static size_t nstmts;
static char *owned[3 * NSTMTS];        /* the names and SQL texts stmts[] points to */
static int stmt_of_op[PROTO_OP_COUNT]; /* -1: no statement */

static char *build_sql(const struct proto_op_spec *o, int nparams)
{
	char args[128] = "";
	size_t n = 0;
	char *sql;
	int len;

	for (int i = 1; i <= nparams; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, "%s$%d", i > 1 ? ", " : "", i);
	if (o->op == PROTO_OP_WHOAMI)
		len = asprintf(&sql,
		               "SELECT (street.st_whoami(%s) || jsonb_build_object('server',"
		               " 'streetd %s'))::text",
		               args, STREETD_VERSION);
	else if (o->sql_rows)
		/* the rows in the function's order (a function scan keeps it) */
		len = asprintf(&sql, "SELECT t FROM street.%s(%s) t", o->sql_func, args);
	else if (proto_op_is_action(o->op))
		len = asprintf(&sql, "SELECT to_jsonb(r)::text FROM street.%s(%s) r", o->sql_func,
		               args);
	else
		len = asprintf(&sql, "SELECT street.%s(%s)::text", o->sql_func, args);
	return len < 0 ? NULL : sql;
}

/* An action's try form (sql/functions/70_try.sql), for group commit. */
static char *build_try_sql(const struct proto_op_spec *o, int nparams)
{
	char args[192] = "";
	size_t n = 0;
	char *sql;

	for (int i = 1; i <= nparams; i++)
		n += (size_t)snprintf(args + n, sizeof(args) - n, "%s$%d::text", i > 1 ? ", " : "",
		                      i);
	if (asprintf(&sql, "SELECT result, sqlstate, message FROM street.st_try('%s', ARRAY[%s])",
	             o->sql_func + strlen("st_"), args) < 0)
		return NULL;
	return sql;
}

int stmts_init(void)
{
	stmts[STMTS_ACCOUNT_BY_CN] =
	        (struct db_stmt){ "account_by_cn",
		                  "SELECT street.st_account_by_cn($1, $2, $3, $4)::text", 4, NULL };
	stmts[STMTS_CHANGED_ACCOUNTS] =
	        (struct db_stmt){ "changed_accounts",
		                  "SELECT street.st_changed_accounts($1, $2)::text", 2, NULL };
	stmts[STMTS_LOG_REPLAY] = (struct db_stmt){ "log_replay",
		                                    "SELECT seq, category_id, grid_id, to_state, "
		                                    "event FROM street.st_log_replay($1, $2, $3,"
		                                    " $4)",
		                                    4, NULL };
	stmts[STMTS_LOG_HEAD] =
	        (struct db_stmt){ "log_head", "SELECT head FROM street.st_log_head()", 0, NULL };
	stmts[STMTS_METRICS_TICKETS] = (struct db_stmt){
		"metrics_tickets",
		"SELECT department, open, overdue FROM street.st_metrics_tickets()", 0, NULL
	};
	nstmts = STMTS_NOWN;
	for (int op = 0; op < PROTO_OP_COUNT; op++) {
		const struct proto_op_spec *spec = proto_op_spec((enum proto_op)op);
		size_t i = nstmts;
		int nparams;
		char *name;

		stmt_of_op[op] = -1;
		if (!spec || !spec->sql_func)
			continue;
		nparams = 1 + spec->nfields + (spec->sql_max_photo ? 1 : 0);
		if (asprintf(&name, "op_%s", spec->name) < 0)
			return -1;
		owned[3 * i] = name;
		owned[3 * i + 1] = build_sql(spec, nparams);
		if (!owned[3 * i + 1])
			return -1;
		if (spec->action && !(owned[3 * i + 2] = build_try_sql(spec, nparams)))
			return -1;
		stmts[i] = (struct db_stmt){ name, owned[3 * i + 1], nparams, owned[3 * i + 2] };
		stmt_of_op[op] = (int)i;
		nstmts++;
	}
	return 0;
}

void stmts_free(void)
{
	for (size_t i = 0; i < 3 * NSTMTS; i++) {
		free(owned[i]);
		owned[i] = NULL;
	}
}

const struct db_stmt *stmts_table(size_t *n)
{
	*n = nstmts;
	return stmts;
}

int stmts_of_op(enum proto_op op)
{
	return op > PROTO_OP_NONE && op < PROTO_OP_COUNT ? stmt_of_op[op] : -1;
}
