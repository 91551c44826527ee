/*
 * Helpers for the integration suites: blocking libpq against the private
 * PostgreSQL that scripts/test starts (tests may block; the daemon never does).
 */
#ifndef STREET_TEST_TDB_H
#define STREET_TEST_TDB_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* Connects to $STREETD_TEST_DB (admin: $STREETD_TEST_ADMIN_DB); aborts the test on failure. */
PGconn *tdb_connect(bool admin);

/* Runs a query with text parameters (NULL = SQL NULL); the caller PQclear()s. */
PGresult *tdb_query(PGconn *c, const char *sql, int nparams, const char *const *params);

/* Runs a query that must succeed; returns the first column of the first row as a
 * long long (0 for NULL or no row). */
long long tdb_int(PGconn *c, const char *sql, int nparams, const char *const *params);

/* Same, as a string the caller frees (NULL for NULL or no row). */
char *tdb_str(PGconn *c, const char *sql, int nparams, const char *const *params);

/* Ids of demo and fixture data by code or login; abort if missing. */
int tdb_account(PGconn *c, const char *login);
int tdb_grid(PGconn *c, const char *code);
int tdb_category(PGconn *c, const char *code);
int tdb_department(PGconn *c, const char *code);

/* The outcome of one action function call. */
struct tdb_outcome {
	bool ok;
	char sqlstate[6]; /* "" on success */
	char message[512];
	long long ticket; /* ticket id on success */
	int version;      /* ticket version on success */
	char state[16];   /* ticket state on success */
	long long seq;    /* the event's seq on success */
	bool replayed;
};

/* Calls SELECT (street.FUNC(params...)).* and fills out. */
void tdb_call(PGconn *c, const char *func, int nparams, const char *const *params,
              struct tdb_outcome *out);

/* printf into one of 16 static rotating buffers: for parameter lists used at once,
 * never for a value kept across other calls. */
/* Runs st_follow() as the admin (what the daemon's leader does) until the
 * assessment's fold has passed every event committed now; fails the test if
 * it does not within ~20 s. */
void tdb_follow_catch_up(void);

/* Runs sql (one row, one JSON column) and returns the value parsed (the
 * caller puts it); or NULL with the error's SQLSTATE in state ("" on
 * success). */
json_object *tdb_json(PGconn *c, const char *sql, int nparams, const char *const *params,
                      char state[6]);

const char *tdb_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
