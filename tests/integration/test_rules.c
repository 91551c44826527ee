/*
 * One source of truth: the SQL rule table (002_rules.sql) and the C copy in
 * lib/ticket_fsm.c must hold exactly the same rows.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tdb.h"
#include "ticket_fsm.h"

START_TEST(sql_and_c_tables_are_the_same)
{
	PGconn *db = tdb_connect(false);
	PGresult *r = tdb_query(db,
	                        "SELECT action, coalesce(from_state::text, 'none'), to_state, role,"
	                        " relation FROM ticket_rule",
	                        0, NULL);
	size_t n;
	const struct ticket_rule *rules = ticket_rules(&n);
	bool *seen = calloc(n, sizeof(bool));

	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_int_eq(PQntuples(r), (int)n);
	for (int i = 0; i < PQntuples(r); i++) {
		enum ticket_action a;
		enum ticket_state from = TICKET_NONE, to;
		enum role role;
		enum ticket_relation rel;
		const struct ticket_rule *c;

		ck_assert_msg(ticket_action_parse(PQgetvalue(r, i, 0), &a), "action %s",
		              PQgetvalue(r, i, 0));
		if (strcmp(PQgetvalue(r, i, 1), "none") != 0)
			ck_assert(ticket_state_parse(PQgetvalue(r, i, 1), &from));
		ck_assert(ticket_state_parse(PQgetvalue(r, i, 2), &to));
		ck_assert(role_parse(PQgetvalue(r, i, 3), &role));
		ck_assert(ticket_relation_parse(PQgetvalue(r, i, 4), &rel));
		c = ticket_rule_find(a, from, role);
		ck_assert_msg(c != NULL, "SQL has %s from %s by %s; C does not",
		              ticket_action_name(a), ticket_state_name(from), role_name(role));
		ck_assert_int_eq(c->to, to);
		ck_assert_int_eq(c->relation, rel);
		ck_assert(!seen[c - rules]);
		seen[c - rules] = true;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i], "C has %s from %s by %s; SQL does not",
		              ticket_action_name(rules[i].action), ticket_state_name(rules[i].from),
		              role_name(rules[i].role));
	free(seen);
	PQclear(r);
	PQfinish(db);
}
END_TEST

/* The names the schema's enums and checks use are the C names. */
START_TEST(sql_enums_match_c_names)
{
	PGconn *db = tdb_connect(false);
	PGresult *r = tdb_query(db, "SELECT unnest(enum_range(NULL::ticket_state))::text", 0, NULL);

	ck_assert_int_eq(PQntuples(r), TICKET_STATE_COUNT);
	for (int i = 0; i < PQntuples(r); i++)
		ck_assert_str_eq(PQgetvalue(r, i, 0), ticket_state_name(i));
	PQclear(r);
	r = tdb_query(db, "SELECT unnest(enum_range(NULL::account_role))::text", 0, NULL);
	ck_assert_int_eq(PQntuples(r), ROLE_COUNT - 1); /* system is no account's role */
	for (int i = 0; i < PQntuples(r); i++)
		ck_assert_str_eq(PQgetvalue(r, i, 0), role_name(i));
	PQclear(r);
	/* every action the event log accepts is one the C side knows, and back */
	for (int a = 0; a < ACT_COUNT; a++) {
		const char *p[] = { ticket_action_name(a) };

		ck_assert_int_eq(
		        tdb_int(db,
		                "SELECT count(*) FROM pg_constraint WHERE conrelid ="
		                " 'street.ticket_event'::regclass AND"
		                " conname = 'ticket_event_action_check' AND"
		                " pg_get_constraintdef(oid) LIKE '%''' || $1 || '''::text%'",
		                1, p),
		        1);
	}
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT array_length(regexp_split_to_array(pg_get_constraintdef(oid),"
	                " '''::text'), 1) - 1 FROM pg_constraint WHERE conrelid ="
	                " 'street.ticket_event'::regclass AND conname = "
	                "'ticket_event_action_check'",
	                0, NULL),
	        ACT_COUNT);
	PQfinish(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, sql_and_c_tables_are_the_same);
	tcase_add_test(tc, sql_enums_match_c_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
