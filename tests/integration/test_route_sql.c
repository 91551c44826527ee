/*
 * Routing in C (tests/oracle/route.c) and in SQL (street.st_route) agree for every
 * category and grid of the demo data and the fixtures.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "tdb.h"

static long long col(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

START_TEST(c_and_sql_route_alike)
{
	PGconn *db = tdb_connect(false);
	PGresult *rr =
	        tdb_query(db,
	                  "SELECT r.category_id, r.district_id, r.street_id, r.community_id,"
	                  " r.grid_id, r.department_id FROM routing_rule r JOIN department d ON"
	                  " d.id = r.department_id AND d.active",
	                  0, NULL);
	PGresult *cats = tdb_query(db, "SELECT id, parent_id FROM category", 0, NULL);
	PGresult *grids =
	        tdb_query(db,
	                  "SELECT g.id, g.community_id, g.street_id, s.district_id FROM grid g"
	                  " JOIN street s ON s.id = g.street_id",
	                  0, NULL);
	int nrules = PQntuples(rr), ncats = PQntuples(cats), compared = 0, routed = 0;
	struct route_rule *rules = calloc((size_t)nrules, sizeof(*rules));

	ck_assert_int_gt(nrules, 5);
	for (int i = 0; i < nrules; i++) {
		rules[i].category_id = (int32_t)col(rr, i, 0);
		rules[i].department_id = (int32_t)col(rr, i, 5);
		rules[i].level = ROUTE_CITY;
		for (int lvl = 0; lvl < 4; lvl++) {
			/* columns 1..4 are district, street, community, grid */
			if (!PQgetisnull(rr, i, 1 + lvl)) {
				rules[i].level = (enum route_level)(ROUTE_DISTRICT - lvl);
				rules[i].place_id = (int32_t)col(rr, i, 1 + lvl);
			}
		}
	}
	for (int c = 0; c < ncats; c++) {
		int32_t path[32];
		size_t depth = 0;
		int32_t id = (int32_t)col(cats, c, 0);

		/* walk up the tree */
		while (id && depth < 32) {
			path[depth++] = id;
			int32_t parent = 0;
			for (int k = 0; k < ncats; k++) {
				if (col(cats, k, 0) == id)
					parent = (int32_t)col(cats, k, 1);
			}
			id = parent;
		}
		for (int g = 0; g < PQntuples(grids); g++) {
			struct route_place place = { (int32_t)col(grids, g, 0),
				                     (int32_t)col(grids, g, 1),
				                     (int32_t)col(grids, g, 2),
				                     (int32_t)col(grids, g, 3) };
			const struct route_rule *win =
			        route_match(rules, (size_t)nrules, path, depth, &place);
			const char *p[] = { tdb_fmt("%d", path[0]), tdb_fmt("%d", place.grid_id) };
			long long sql = tdb_int(db, "SELECT st_route($1, $2)", 2, p);

			ck_assert_msg(sql == (win ? win->department_id : 0),
			              "category %d grid %d: SQL %lld, C %d", path[0], place.grid_id,
			              sql, win ? win->department_id : 0);
			compared++;
			routed += win != NULL;
		}
	}
	ck_assert_int_gt(compared, 100);
	ck_assert_int_gt(routed, compared / 2);
	/* the demo's grid rule beats its street rule */
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT st_route((SELECT id FROM category WHERE code = 'pollution.noise'),"
	                " (SELECT id FROM grid WHERE code = 'jg-yanan-01'))",
	                0, NULL),
	        tdb_department(db, "sthj"));
	ck_assert_int_eq(
	        tdb_int(db,
	                "SELECT st_route((SELECT id FROM category WHERE code = 'pollution.noise'),"
	                " (SELECT id FROM grid WHERE code = 'jg-yanan-02'))",
	                0, NULL),
	        tdb_department(db, "cgj"));
	free(rules);
	PQclear(rr);
	PQclear(cats);
	PQclear(grids);
	PQfinish(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route_sql");
	TCase *tc = tcase_create("route_sql");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, c_and_sql_route_alike);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
