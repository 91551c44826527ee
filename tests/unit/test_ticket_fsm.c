/*
 * The C rule table against DESIGN.md's action table, transcribed here
 * independently as text: every (action, state, role) triple is checked, the
 * listed ones allowed with the right target state, all others refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket_fsm.h"

/* "action from role -> to"; "*" as from means every state, staying put. */
static const char *const spec[] = {
	"report none collector -> reported",
	"report none street -> reported",
	"dispatch reported street -> dispatched",
	"return dispatched department -> reported",
	"accept dispatched department -> accepted",
	"resolve accepted department -> resolved",
	"confirm resolved collector -> closed",
	"confirm resolved street -> closed",
	"reopen resolved collector -> accepted",
	"reopen resolved street -> accepted",
	"cancel reported street -> cancelled",
	"auto_close resolved system -> closed",
	"urge reported supervisor -> reported",
	"urge dispatched supervisor -> dispatched",
	"urge accepted supervisor -> accepted",
	"urge resolved supervisor -> resolved",
	"urge dispatched street -> dispatched",
	"urge accepted street -> accepted",
	"extend_request accepted department -> accepted",
	"extend_grant accepted street -> accepted",
	"extend_grant accepted supervisor -> accepted",
	"extend_deny accepted street -> accepted",
	"extend_deny accepted supervisor -> accepted",
	"overdue reported system -> reported",
	"overdue dispatched system -> dispatched",
	"overdue accepted system -> accepted",
	"comment * collector",
	"comment * street",
	"comment * department",
	"comment * supervisor",
	/* a ruling on a pending return moves the ticket (first: the first match wins) */
	"arbitrate reported supervisor -> dispatched",
	"arbitrate * supervisor",
};

/* Expected target state, or TICKET_STATE_COUNT for "refused". */
static enum ticket_state expected(enum ticket_action a, enum ticket_state from, enum role r)
{
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		char act[32], fs[32], rs[32], ts[32] = "";
		enum ticket_action sa;
		enum ticket_state sf = TICKET_NONE, st;
		enum role sr;

		ck_assert_int_ge(sscanf(spec[i], "%31s %31s %31s -> %31s", act, fs, rs, ts), 3);
		ck_assert(ticket_action_parse(act, &sa));
		ck_assert(role_parse(rs, &sr));
		if (sa != a || sr != r)
			continue;
		if (strcmp(fs, "*") == 0) {
			if (from != TICKET_NONE)
				return from;
			continue;
		}
		if (strcmp(fs, "none") != 0)
			ck_assert(ticket_state_parse(fs, &sf));
		if (sf != from)
			continue;
		ck_assert(ticket_state_parse(ts, &st));
		return st;
	}
	return TICKET_STATE_COUNT;
}

START_TEST(every_triple_matches_design)
{
	int allowed = 0;

	for (int a = 0; a < ACT_COUNT; a++) {
		for (int s = TICKET_NONE; s < TICKET_STATE_COUNT; s++) {
			for (int r = 0; r < ROLE_COUNT; r++) {
				enum ticket_state want = expected(a, s, r);
				const struct ticket_rule *got = ticket_rule_find(a, s, r);

				if (want == TICKET_STATE_COUNT) {
					ck_assert_msg(got == NULL,
					              "%s from %s by %s should be refused",
					              ticket_action_name(a), ticket_state_name(s),
					              role_name(r));
					continue;
				}
				ck_assert_msg(got != NULL, "%s from %s by %s should be allowed",
				              ticket_action_name(a), ticket_state_name(s),
				              role_name(r));
				ck_assert_int_eq(got->to, want);
				allowed++;
			}
		}
	}
	/* 26 single rows plus 5 every-state rows over 6 states (arbitrate's first overridden) */
	ck_assert_int_eq(allowed, 26 + 5 * 6);
}
END_TEST

START_TEST(table_has_no_duplicates_and_sane_relations)
{
	size_t n;
	const struct ticket_rule *rules = ticket_rules(&n);

	ck_assert_uint_eq(n, 56);
	for (size_t i = 0; i < n; i++) {
		ck_assert((rules[i].role == ROLE_SYSTEM) == (rules[i].relation == REL_SYSTEM));
		ck_assert(rules[i].role != ROLE_ADMIN);
		for (size_t j = i + 1; j < n; j++)
			ck_assert(!(rules[i].action == rules[j].action &&
			            rules[i].from == rules[j].from &&
			            rules[i].role == rules[j].role));
	}
}
END_TEST

START_TEST(relations_follow_design)
{
	ck_assert_int_eq(ticket_rule_find(ACT_REPORT, TICKET_NONE, ROLE_COLLECTOR)->relation,
	                 REL_GRID);
	ck_assert_int_eq(ticket_rule_find(ACT_CONFIRM, TICKET_RESOLVED, ROLE_COLLECTOR)->relation,
	                 REL_REPORTER);
	ck_assert_int_eq(ticket_rule_find(ACT_ACCEPT, TICKET_DISPATCHED, ROLE_DEPARTMENT)->relation,
	                 REL_ASSIGNED);
	ck_assert_int_eq(ticket_rule_find(ACT_DISPATCH, TICKET_REPORTED, ROLE_STREET)->relation,
	                 REL_STREET);
	ck_assert_int_eq(ticket_rule_find(ACT_URGE, TICKET_ACCEPTED, ROLE_SUPERVISOR)->relation,
	                 REL_DISTRICT);
}
END_TEST

/* A supervisor moves a ticket only by ruling on the return it waits on. */
START_TEST(supervisor_never_changes_substance)
{
	size_t n;
	const struct ticket_rule *rules = ticket_rules(&n);

	for (size_t i = 0; i < n; i++) {
		if (rules[i].role == ROLE_SUPERVISOR && rules[i].from != rules[i].to) {
			ck_assert_int_eq(rules[i].action, ACT_ARBITRATE);
			ck_assert_int_eq(rules[i].from, TICKET_REPORTED);
			ck_assert_int_eq(rules[i].to, TICKET_DISPATCHED);
		}
	}
	ck_assert(!ticket_role_may(ACT_DISPATCH, ROLE_SUPERVISOR));
	ck_assert(!ticket_role_may(ACT_COMMENT, ROLE_ADMIN));
	ck_assert(ticket_role_may(ACT_COMMENT, ROLE_SUPERVISOR));
}
END_TEST

START_TEST(state_changing_actions)
{
	static const enum ticket_action moving[] = { ACT_REPORT,   ACT_DISPATCH, ACT_RETURN,
		                                     ACT_ACCEPT,   ACT_RESOLVE,  ACT_CONFIRM,
		                                     ACT_REOPEN,   ACT_CANCEL,   ACT_AUTO_CLOSE,
		                                     ACT_ARBITRATE };
	int count = 0;

	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++)
		ck_assert(ticket_action_changes_state(moving[i]));
	for (int a = 0; a < ACT_COUNT; a++)
		count += ticket_action_changes_state(a);
	ck_assert_int_eq(count, 10);
	ck_assert(ticket_state_is_open(TICKET_RESOLVED));
	ck_assert(!ticket_state_is_open(TICKET_CLOSED));
	ck_assert(!ticket_state_is_open(TICKET_CANCELLED));
}
END_TEST

START_TEST(names_round_trip)
{
	enum ticket_state s;
	enum ticket_action a;
	enum ticket_relation rel;
	enum role r;

	for (int i = 0; i < TICKET_STATE_COUNT; i++) {
		ck_assert(ticket_state_parse(ticket_state_name(i), &s));
		ck_assert_int_eq(s, i);
	}
	for (int i = 0; i < ACT_COUNT; i++) {
		ck_assert(ticket_action_parse(ticket_action_name(i), &a));
		ck_assert_int_eq(a, i);
	}
	for (int i = 0; i < REL_COUNT; i++) {
		ck_assert(ticket_relation_parse(ticket_relation_name(i), &rel));
		ck_assert_int_eq(rel, i);
	}
	for (int i = 0; i < ROLE_COUNT; i++) {
		ck_assert(role_parse(role_name(i), &r));
		ck_assert_int_eq(r, i);
	}
	ck_assert(!ticket_state_parse("Reported", &s));
	ck_assert(!ticket_state_parse("", &s));
	ck_assert(!ticket_action_parse("delete", &a));
	ck_assert(!role_parse("root", &r));
	ck_assert_str_eq(ticket_state_name(TICKET_NONE), "none");
	ck_assert_str_eq(ticket_state_name(99), "?");
	ck_assert_str_eq(ticket_action_name(-3), "?");
	ck_assert_str_eq(role_name(ROLE_COUNT), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticket_fsm");
	TCase *tc = tcase_create("rules");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, every_triple_matches_design);
	tcase_add_test(tc, table_has_no_duplicates_and_sane_relations);
	tcase_add_test(tc, relations_follow_design);
	tcase_add_test(tc, supervisor_never_changes_substance);
	tcase_add_test(tc, state_changing_actions);
	tcase_add_test(tc, names_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
