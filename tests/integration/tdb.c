#include "tdb.h"

#include <check.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

PGconn *tdb_connect(bool admin)
{
	const char *var = admin ? "STREETD_TEST_ADMIN_DB" : "STREETD_TEST_DB";
	const char *conninfo = getenv(var);
	PGconn *c;

	ck_assert_msg(conninfo != NULL, "%s is not set: run the tests through scripts/test", var);
	c = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect (%s): %s", var,
	              PQerrorMessage(c));
	PQclear(PQexec(c, "SET search_path = street; SET client_min_messages = warning"));
	return c;
}

PGresult *tdb_query(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	return PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
}

static PGresult *must(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = tdb_query(c, sql, nparams, params);
	ExecStatusType st = PQresultStatus(r);

	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
	              PQresultErrorMessage(r));
	return r;
}

long long tdb_int(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = must(c, sql, nparams, params);
	long long v = 0;

	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

char *tdb_str(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult *r = must(c, sql, nparams, params);
	char *v = NULL;

	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static int lookup(PGconn *c, const char *sql, const char *key)
{
	const char *p[] = { key };
	long long id = tdb_int(c, sql, 1, p);

	ck_assert_msg(id > 0, "no such fixture: %s", key);
	return (int)id;
}

int tdb_account(PGconn *c, const char *login)
{
	return lookup(c, "SELECT id FROM street.account WHERE login = $1", login);
}

int tdb_grid(PGconn *c, const char *code)
{
	return lookup(c, "SELECT id FROM street.grid WHERE code = $1", code);
}

int tdb_category(PGconn *c, const char *code)
{
	return lookup(c, "SELECT id FROM street.category WHERE code = $1", code);
}

int tdb_department(PGconn *c, const char *code)
{
	return lookup(c, "SELECT id FROM street.department WHERE code = $1", code);
}

static long long json_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

void tdb_call(PGconn *c, const char *func, int nparams, const char *const *params,
              struct tdb_outcome *out)
{
	char sql[512];
	int n;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	n = snprintf(sql, sizeof(sql), "SELECT ticket, event, replayed FROM street.%s(", func);
	for (int i = 0; i < nparams; i++)
		n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s$%d", i ? ", " : "", i + 1);
	snprintf(sql + n, sizeof(sql) - (size_t)n, ")");
	r = tdb_query(c, sql, nparams, params);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(out->sqlstate, sizeof(out->sqlstate), "%s", st ? st : "?????");
		snprintf(out->message, sizeof(out->message), "%s", msg ? msg : "");
		PQclear(r);
		return;
	}
	ck_assert_int_eq(PQntuples(r), 1);
	{
		json_object *t = json_tokener_parse(PQgetvalue(r, 0, 0));
		json_object *e = json_tokener_parse(PQgetvalue(r, 0, 1));
		json_object *st;

		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_nonnull(e);
		out->ok = true;
		out->ticket = json_int(t, "id");
		out->version = (int)json_int(t, "version");
		out->seq = json_int(e, "seq");
		if (json_object_object_get_ex(t, "state", &st))
			snprintf(out->state, sizeof(out->state), "%s", json_object_get_string(st));
		out->replayed = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
		json_object_put(t);
		json_object_put(e);
	}
	PQclear(r);
}

const char *tdb_fmt(const char *fmt, ...)
{
	static char bufs[16][128];
	static unsigned next;
	char *b = bufs[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

void tdb_follow_catch_up(void)
{
	PGconn *admin = tdb_connect(true);
	long long head = tdb_int(admin, "SELECT max(seq) FROM street.ticket_event", 0, NULL);

	for (int i = 0; i < 2000; i++) {
		tdb_int(admin, "SELECT street.st_follow()", 0, NULL);
		if (tdb_int(admin, "SELECT position FROM street.assess_cursor", 0, NULL) >= head)
			break;
		usleep(10000);
	}
	ck_assert_int_ge(tdb_int(admin, "SELECT position FROM street.assess_cursor", 0, NULL),
	                 head);
	PQfinish(admin);
}

json_object *tdb_json(PGconn *c, const char *sql, int nparams, const char *const *params,
                      char state[6])
{
	PGresult *r = tdb_query(c, sql, nparams, params);
	json_object *o;

	state[0] = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		snprintf(state, 6, "%s", st ? st : "?????");
		PQclear(r);
		return NULL;
	}
	o = json_tokener_parse(PQgetvalue(r, 0, 0));
	ck_assert_ptr_nonnull(o);
	PQclear(r);
	return o;
}
