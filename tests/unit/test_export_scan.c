/*
 * clients/export_scan.c: a page's rows read in place (cells, each step
 * kind's last instance, the rest of the page through json-c), and every
 * malformed page an error with a message: truncated, wrong types, a row
 * shorter or longer than columns, steps not arrays, invalid UTF-8.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_scan.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kinds[] = { "dispatch", "accept" };

/* A page whose rows are rows (JSON text of the rows array). */
static char *page(const char *rows)
{
	char *s = NULL;
	int n = asprintf(&s,
	                 "{\"from\" : \"2025-03-01\", \"to\" : \"2025-04-01\", "
	                 "\"columns\" : [\"id\",\"state\",\"steps\"], "
	                 "\"step_columns\" : [\"kind\",\"actor\"], "
	                 "\"names\" : {\"street\" : {\"s1\" : \"一街\"}}, "
	                 "\"rows\" : %s, \"next\" : 7}",
	                 rows);

	ck_assert_int_gt(n, 0);
	return s;
}

START_TEST(test_rows)
{
	char *text = page("[[1, \"closed\", [[\"dispatch\", \"a\"], [\"accept\", \"b\"], "
	                  "[\"dispatch\", \"c\\u00e9\"], [\"resolve\", \"d\"]]], "
	                  "[2, null, []], [3, \"x\", null]]");
	struct export_scan s;
	json_object *next = NULL;

	ck_assert_int_eq(export_scan_open(&s, text, strlen(text), kinds, 2), 0);
	ck_assert_int_eq(s.ncols, 3);
	ck_assert_int_eq(s.nstep, 2);
	ck_assert_int_eq(s.steps, 2);
	ck_assert_int_eq(s.kind, 0);
	/* the rest of the page, rows cut out */
	ck_assert(json_object_object_get_ex(s.page, "next", &next));
	ck_assert_int_eq(json_object_get_int(next), 7);

	ck_assert_int_eq(export_scan_row(&s), 1);
	ck_assert_int_eq(s.row[0].type, PROTO_SCAN_NUMBER);
	ck_assert_mem_eq(s.row[0].raw, "1", 1);
	ck_assert_int_eq(s.row[1].type, PROTO_SCAN_STRING);
	ck_assert_mem_eq(s.row[1].raw, "closed", 6);
	/* dispatch's last instance is the second, accept's the only one */
	ck_assert_int_eq(s.last[1].type, PROTO_SCAN_STRING);
	ck_assert(s.last[1].escaped);
	ck_assert_uint_eq(s.last[1].len, 7);
	ck_assert_mem_eq(s.last[1].raw, "c\\u00e9", 7);
	ck_assert_mem_eq(s.last[3].raw, "b", 1);
	ck_assert_uint_ge(s.row_len, 60);

	ck_assert_int_eq(export_scan_row(&s), 1);
	ck_assert_int_eq(s.row[1].type, PROTO_SCAN_NULL);
	ck_assert_int_eq(s.last[0].type, PROTO_SCAN_NULL); /* none of either kind */
	ck_assert_int_eq(s.last[3].type, PROTO_SCAN_NULL);
	ck_assert_int_eq(export_scan_row(&s), 1); /* null steps: none */
	ck_assert_int_eq(s.last[1].type, PROTO_SCAN_NULL);
	ck_assert_int_eq(export_scan_row(&s), 0);
	ck_assert_int_eq(s.rows, 3);
	export_scan_close(&s);
	free(text);
}
END_TEST

START_TEST(test_no_rows)
{
	char *text = page("[]");
	struct export_scan s;

	ck_assert_int_eq(export_scan_open(&s, text, strlen(text), kinds, 2), 0);
	ck_assert_int_eq(export_scan_row(&s), 0);
	export_scan_close(&s);
	free(text);
}
END_TEST

/* Every malformed page: an error at open or at some row, with a message. */
START_TEST(test_malformed)
{
	static const struct {
		const char *rows; /* NULL: the whole text is given below */
		const char *text;
		const char *says;
	} cases[] = {
		{ "[[1, \"a\"]]", NULL, "has 2 cells, not 3" },
		{ "[[1, \"a\", [], 4]]", NULL, "more than 3 cells" },
		{ "[[1, {\"a\":1}, []]]", NULL, "not a single value" },
		{ "[[1, [\"a\"], []]]", NULL, "not a single value" },
		{ "[[1, \"a\", \"steps\"]]", NULL, "steps are not an array" },
		{ "[[1, \"a\", [\"dispatch\"]]]", NULL, "a step is not an array" },
		{ "[[1, \"a\", [[\"dispatch\"]]]]", NULL, "a step of 1 cells, not 2" },
		{ "[[1, \"a\", [[\"dispatch\", \"x\", 3]]]]", NULL, "a step of more than 2" },
		{ "[[1, \"a\", [[\"dispatch\", [1]]]]]", NULL, "not a single value" },
		{ "[1]", NULL, "row 1 is not an array" },
		{ "[[1, \"\xff\", []]]", NULL, "invalid UTF-8" },
		{ "[[1, \"\\x\", []]]", NULL, "invalid escape" },
		{ "[[1, \"a\", []],]", NULL, "not valid JSON" },
		{ "{}", NULL, "no rows array" },
		{ NULL, "{\"columns\":[\"id\"],\"step_columns\":[\"kind\"],\"rows\":[[1], [2",
		  "unexpected end of input" },
		{ NULL, "{\"step_columns\":[\"kind\"],\"rows\":[]}", "columns" },
		{ NULL, "{\"columns\":[1],\"step_columns\":[\"kind\"],\"rows\":[]}", "columns" },
		{ NULL, "{\"columns\":[\"id\"],\"step_columns\":[\"kind\"]}", "no rows" },
		{ NULL, "[]", "expected an object" },
		{ NULL, "", "unexpected end of input" },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char *text = cases[i].rows ? page(cases[i].rows) : strdup(cases[i].text);
		struct export_scan s;
		int r = export_scan_open(&s, text, strlen(text), kinds, 2);

		if (r == 0) {
			while ((r = export_scan_row(&s)) == 1)
				;
			export_scan_close(&s);
		}
		ck_assert_msg(r == -1, "case %zu: no error", i);
		ck_assert_msg(strstr(s.err, cases[i].says) != NULL, "case %zu: '%s'", i, s.err);
		free(text);
	}
}
END_TEST

/* Every prefix of a good page is an error, never a crash or a read past it. */
/* Every proper prefix of text is refused, never read as a page: each cut
 * is a buffer of exactly its bytes, so ASan sees any read past them. */
static void assert_prefixes_refused(const char *text)
{
	size_t len = strlen(text);

	for (size_t n = 0; n < len; n++) {
		char *cut = malloc(n + 1);
		struct export_scan s;
		int r;

		memcpy(cut, text, n);
		r = export_scan_open(&s, cut, n, kinds, 2);
		if (r == 0) {
			while ((r = export_scan_row(&s)) == 1)
				;
			export_scan_close(&s);
		}
		ck_assert_msg(r == -1, "prefix of %zu bytes read as a page", n);
		free(cut);
	}
}

START_TEST(test_truncated)
{
	char *text = page("[[1, \"closed\", [[\"dispatch\", \"a\"]]], [2, \"x\", []]]");

	assert_prefixes_refused(text);
	free(text);
}
END_TEST

/* A page as the server writes it: "next" before "rows" (read in place, in
 * one pass), then tail (members after the rows, or nothing). */
static char *page_next_first(const char *rows, const char *tail)
{
	char *s = NULL;
	int n = asprintf(&s,
	                 "{\"from\":\"2025-03-01\",\"to\":\"2025-04-01\","
	                 "\"columns\":[\"id\",\"state\",\"steps\"],"
	                 "\"step_columns\":[\"kind\",\"actor\"],"
	                 "\"names\":{\"street\":{\"s1\":\"一街\"}},\"next\":7, \"rows\" : %s%s}",
	                 rows, tail);

	ck_assert_int_gt(n, 0);
	return s;
}

/* next first: the same rows and rest; members after the rows are checked
 * and ignored; a fault after the rows is still an error; every prefix too. */
START_TEST(test_next_first)
{
	static const char *const rows =
	        "[[1, \"closed\", [[\"dispatch\", \"a\"], [\"accept\", \"b\"], "
	        "[\"dispatch\", \"c\"]]], [2, null, []]]";
	static const char *const tails[] = { "", ", \"later\": {\"x\": [1, 2]}" };
	struct export_scan s;
	json_object *next = NULL, *names = NULL;
	char *text;

	for (size_t t = 0; t < N_ELEMS(tails); t++) {
		text = page_next_first(rows, tails[t]);
		ck_assert_int_eq(export_scan_open(&s, text, strlen(text), kinds, 2), 0);
		ck_assert(json_object_object_get_ex(s.page, "next", &next));
		ck_assert_int_eq(json_object_get_int(next), 7);
		ck_assert(json_object_object_get_ex(s.page, "names", &names));
		ck_assert_int_eq(export_scan_row(&s), 1);
		ck_assert_mem_eq(s.row[1].raw, "closed", 6);
		ck_assert_mem_eq(s.last[1].raw, "c", 1);
		ck_assert_mem_eq(s.last[3].raw, "b", 1);
		ck_assert_int_eq(export_scan_row(&s), 1);
		ck_assert_int_eq(export_scan_row(&s), 0);
		ck_assert_int_eq(s.rows, 2);
		export_scan_close(&s);
		free(text);
	}
	/* after the rows: a bad member, bytes after the page */
	for (int bad = 0; bad < 2; bad++) {
		int r;

		text = page_next_first(rows, bad == 0 ? ", \"later\": [1,]" : "} x");
		r = export_scan_open(&s, text, strlen(text), kinds, 2);
		ck_assert_int_eq(r, 0);
		while ((r = export_scan_row(&s)) == 1)
			;
		ck_assert_int_eq(r, -1);
		ck_assert_ptr_nonnull(strstr(s.err, "not valid JSON"));
		export_scan_close(&s);
		free(text);
	}
	text = page_next_first(rows, "");
	assert_prefixes_refused(text);
	free(text);
}
END_TEST

/* export_scan_peek_head on a whole C string. */
static int peek(const char *text, long long *next)
{
	long long end;

	return export_scan_peek_head(text, strlen(text), next, &end);
}

/* The same, with the end it read. */
static int peek_end(const char *text, long long *next, long long *end)
{
	return export_scan_peek_head(text, strlen(text), next, end);
}

/* The look at a page still arriving: every prefix gives "more" or the
 * whole "next" (7 never read as a prefix of a longer number), never a wrong
 * one; a page whose rows come first, or a names object with a "next" code
 * in it, is not read early; null is 0. */
START_TEST(test_peek_next)
{
	char *text = page_next_first("[[1, \"closed\", []]]", "");
	size_t len = strlen(text);
	long long next;
	bool found = false;

	for (size_t n = 0; n <= len; n++) {
		int r;

		long long end;

		next = -1;
		r = export_scan_peek_head(text, n, &next, &end);
		ck_assert_msg(r == 0 || r == 1, "prefix %zu: %d", n, r);
		if (r == 1) {
			ck_assert_int_eq(next, 7);
			found = true;
		} else {
			ck_assert_msg(!found, "prefix %zu: more needed after next was read", n);
		}
	}
	ck_assert(found);
	ck_assert_int_eq(peek("{\"next\":71", &next), 0);
	ck_assert_int_eq(peek("{\"next\":71,", &next), 1);
	ck_assert_int_eq(next, 71);
	ck_assert_int_eq(peek("{\"next\":null,\"rows\":[", &next), 1);
	ck_assert_int_eq(next, 0);
	ck_assert_int_eq(peek("{\"rows\":[],\"next\":3}", &next), -1);
	ck_assert_int_eq(peek("{\"names\":{\"next\":5},\"next\":9,", &next), 1);
	ck_assert_int_eq(next, 9);
	ck_assert_int_eq(peek("[1,2]", &next), -1);
	ck_assert_int_eq(peek("{\"next\":\"x\",", &next), -1);
	/* "end" before "next" is read with it; after it, or absent, it is 0 */
	{
		long long end = -1;

		ck_assert_int_eq(peek_end("{\"end\":900,\"next\":71,", &next, &end), 1);
		ck_assert_int_eq(next, 71);
		ck_assert_int_eq(end, 900);
		ck_assert_int_eq(peek_end("{\"end\":900", &next, &end), 0);
		ck_assert_int_eq(peek_end("{\"next\":71,\"end\":900}", &next, &end), 1);
		ck_assert_int_eq(end, 0);
		ck_assert_int_eq(peek_end("{\"end\":\"x\",\"next\":71,", &next, &end), -1);
		ck_assert_int_eq(peek_end("{\"end\":-4,\"next\":71,", &next, &end), -1);
	}
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("export_scan");
	TCase *tc = tcase_create("export_scan");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_no_rows);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_next_first);
	tcase_add_test(tc, test_peek_next);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
