/* clients/csv.c: RFC 4180 records and the BOM, byte for byte. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* What csv_bom (if bom) then csv_row write for these fields. */
static char *render(bool bom, const char *const *fields, int n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	if (bom)
		csv_bom(f);
	csv_row(f, fields, n);
	fclose(f);
	return buf;
}

START_TEST(test_plain_and_bom)
{
	const char *fields[] = { "1", "考核甲局", NULL, "" };
	size_t len;
	char *s = render(true, fields, 4, &len);

	ck_assert_uint_eq(len, 3 + strlen("1,考核甲局,,\r\n"));
	ck_assert_mem_eq(s,
	                 "\xef\xbb\xbf"
	                 "1,考核甲局,,\r\n",
	                 len);
	free(s);
}
END_TEST

START_TEST(test_quoting)
{
	const char *fields[] = { "a,b", "say \"hi\"", "line1\nline2", "cr\r", "plain", "\"" };
	const char *want =
	        "\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\",\"cr\r\",plain,\"\"\"\"\r\n";
	size_t len;
	char *s = render(false, fields, 6, &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(s, want, len);
	free(s);
}
END_TEST

START_TEST(test_one_empty_field)
{
	const char *fields[] = { NULL };
	size_t len;
	char *s = render(false, fields, 1, &len);

	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(s, "\r\n", 2);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_plain_and_bom);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_one_empty_field);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
