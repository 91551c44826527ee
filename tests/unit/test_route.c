/* Routing: the most specific rule wins, category depth first, then place. */
#include <check.h>
#include <stdlib.h>

#include "route.h"

/* Categories: 1 pollution > 2 pollution.noise > 3 pollution.noise.night.
 * Places: district 10 > street 20 (and 21) > community 30 > grid 40 (and 41). */
enum { POLLUTION = 1, NOISE = 2, NIGHT = 3, OTHER = 9 };
enum { ENV = 100, URBAN = 101, HOUSING = 102, STREETDEPT = 103, GRIDDEPT = 104, NIGHTDEPT = 105 };

static const int32_t path_night[] = { NIGHT, NOISE, POLLUTION };
static const int32_t path_noise[] = { NOISE, POLLUTION };
static const int32_t path_pollution[] = { POLLUTION };
static const int32_t path_other[] = { OTHER };

static const struct route_place grid40 = { 40, 30, 20, 10 };
static const struct route_place grid41 = { 41, 30, 20, 10 };
static const struct route_place elsewhere = { 49, 39, 21, 10 };

static const struct route_rule rules[] = {
	{ POLLUTION, ROUTE_CITY, 0, ENV },      { NOISE, ROUTE_STREET, 20, STREETDEPT },
	{ NOISE, ROUTE_GRID, 40, GRIDDEPT },    { NOISE, ROUTE_DISTRICT, 10, URBAN },
	{ POLLUTION, ROUTE_GRID, 41, HOUSING }, { NIGHT, ROUTE_CITY, 0, NIGHTDEPT },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static int32_t route(const int32_t *path, size_t depth, const struct route_place *p)
{
	const struct route_rule *r = route_match(rules, NRULES, path, depth, p);

	return r ? r->department_id : 0;
}

START_TEST(grid_beats_street_beats_district)
{
	ck_assert_int_eq(route(path_noise, 2, &grid40), GRIDDEPT);
	ck_assert_int_eq(route(path_noise, 2, &grid41), STREETDEPT);
	ck_assert_int_eq(route(path_noise, 2, &elsewhere), URBAN);
}
END_TEST

START_TEST(deeper_category_beats_smaller_place)
{
	/* the city-wide rule for the night sub-category beats the grid rule of its parent */
	ck_assert_int_eq(route(path_night, 3, &grid40), NIGHTDEPT);
	/* a parent's rule for the very grid loses to the sub-category's street rule */
	ck_assert_int_eq(route(path_noise, 2, &grid41), STREETDEPT);
}
END_TEST

START_TEST(falls_back_to_parent)
{
	static const struct route_rule only_parent[] = { { POLLUTION, ROUTE_CITY, 0, ENV } };
	const struct route_rule *r = route_match(only_parent, 1, path_night, 3, &grid40);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->department_id, ENV);
	ck_assert_int_eq(route(path_pollution, 1, &grid41), HOUSING);
	ck_assert_int_eq(route(path_pollution, 1, &grid40), ENV);
}
END_TEST

START_TEST(no_rule_no_department)
{
	ck_assert_int_eq(route(path_other, 1, &grid40), 0);
	ck_assert_ptr_null(route_match(rules, 0, path_noise, 2, &grid40));
	ck_assert_ptr_null(route_match(rules, NRULES, path_noise, 0, &grid40));
}
END_TEST

START_TEST(order_of_rules_does_not_matter)
{
	struct route_rule shuffled[NRULES];

	for (size_t k = 0; k < NRULES; k++) {
		for (size_t i = 0; i < NRULES; i++)
			shuffled[i] = rules[(i + k) % NRULES];
		for (size_t i = 0; i < NRULES / 2; i++) {
			struct route_rule tmp = shuffled[i];

			shuffled[i] = shuffled[NRULES - 1 - i];
			shuffled[NRULES - 1 - i] = tmp;
		}
		ck_assert_int_eq(
		        route_match(shuffled, NRULES, path_noise, 2, &grid40)->department_id,
		        GRIDDEPT);
		ck_assert_int_eq(
		        route_match(shuffled, NRULES, path_night, 3, &grid41)->department_id,
		        NIGHTDEPT);
	}
}
END_TEST

START_TEST(bad_level_ignored)
{
	static const struct route_rule bad[] = { { NOISE, (enum route_level)77, 40, 7 },
		                                 { NOISE, ROUTE_CITY, 0, 8 } };

	ck_assert_int_eq(route_match(bad, 2, path_noise, 2, &grid40)->department_id, 8);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("match");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, grid_beats_street_beats_district);
	tcase_add_test(tc, deeper_category_beats_smaller_place);
	tcase_add_test(tc, falls_back_to_parent);
	tcase_add_test(tc, no_rule_no_department);
	tcase_add_test(tc, order_of_rules_does_not_matter);
	tcase_add_test(tc, bad_level_ignored);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
