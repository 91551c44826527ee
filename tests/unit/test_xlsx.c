/* clients/xlsx.c: the row limit, a file only at xlsx_close, values that are
 * not of their column's kind.  The cells themselves are read back against
 * the CSV in tests/integration (test_streetctl's export_xlsx). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xlsx.h"

static const struct xlsx_col cols[] = {
	{ "id", XLSX_NUMBER },
	{ "name", XLSX_TEXT },
	{ "urgent", XLSX_BOOL },
	{ "at", XLSX_TIME },
};

/* A fresh directory and the path of a file in it (static). */
static const char *target(void)
{
	static char dir[64], path[96];

	snprintf(dir, sizeof dir, "/tmp/txlsx.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.xlsx", dir);
	return path;
}

static void cleanup(const char *path)
{
	char dir[96];

	unlink(path);
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
	ck_assert_int_eq(rmdir(dir), 0); /* nothing else was left there */
}

START_TEST(test_full_at_max_rows)
{
	const char *path = target(), *err;
	const char *row[] = { "1", "考核甲局", "true", "2025-03-03T09:00:00+08:00" };
	struct xlsx *x = xlsx_open(path, "tickets", cols, 4, 3, &err);

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(xlsx_row(x, row), XLSX_OK);
	ck_assert_int_eq(xlsx_row(x, row), XLSX_OK);
	/* header + 2 rows = 3: the next is refused, and stays refused */
	ck_assert_int_eq(xlsx_row(x, row), XLSX_FULL);
	ck_assert_int_eq(xlsx_row(x, row), XLSX_FULL);
	ck_assert_str_eq(xlsx_error(x), "the sheet is full");
	xlsx_abort(x);
	ck_assert_int_ne(access(path, F_OK), 0);
	cleanup(path);
}
END_TEST

START_TEST(test_close_writes_a_zip)
{
	const char *path = target(), *err;
	/* not a number, not a boolean, not a time: kept as text, no error */
	const char *odd[] = { "x1", "a\x01b", "yes", "2025-03-03 09:00" };
	const char *empty[] = { NULL, "", NULL, NULL };
	struct xlsx *x = xlsx_open(path, "tickets", cols, 4, 0, &err);
	char magic[2];
	FILE *f;

	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(xlsx_row(x, odd), XLSX_OK);
	ck_assert_int_eq(xlsx_row(x, empty), XLSX_OK);
	ck_assert_int_ne(access(path, F_OK), 0); /* nothing before close */
	ck_assert_int_eq(xlsx_close(x, &err), 0);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(magic, 1, 2, f), 2);
	fclose(f);
	ck_assert_mem_eq(magic, "PK", 2);
	cleanup(path);
}
END_TEST

START_TEST(test_open_fails_cleanly)
{
	const char *err = NULL;
	struct xlsx *x = xlsx_open("/nonexistent/dir/t.xlsx", "tickets", cols, 4, 0, &err);

	/* libxlsxwriter opens the file only at close: that is where it fails */
	if (x != NULL) {
		ck_assert_int_ne(xlsx_close(x, &err), 0);
	}
	ck_assert_ptr_nonnull(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xlsx");
	TCase *tc = tcase_create("xlsx");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_full_at_max_rows);
	tcase_add_test(tc, test_close_writes_a_zip);
	tcase_add_test(tc, test_open_fails_cleanly);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
