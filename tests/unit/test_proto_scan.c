/*
 * lib/proto_scan.c's pull reading: values walked one at a time with their
 * types and raw bytes, containers entered and left, every fault the strict
 * scan finds found here too (and the same verdict as proto_scan_all on a
 * table of texts), and proto_scan_unescape's escapes, surrogate pairs and
 * refusals.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_scan.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Walks a whole value generically; false at the first fault. */
static bool walk(struct proto_scan *sc, int *values)
{
	struct proto_scan_val v;
	const char *p;
	int r;

	for (p = (const char *)sc->s + sc->pos; p < (const char *)sc->s + sc->len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			break;
	if (p < (const char *)sc->s + sc->len && (*p == '[' || *p == '{')) {
		bool obj = *p == '{';

		if (!proto_scan_enter(sc, obj ? PROTO_SCAN_OBJECT : PROTO_SCAN_ARRAY))
			return false;
		while ((r = proto_scan_item(sc, NULL)) == 1)
			if (!walk(sc, values))
				return false;
		return r == 0;
	}
	(*values)++;
	return proto_scan_next(sc, &v);
}

/* The pull walk's verdict on s. */
static bool pull_ok(const char *s)
{
	struct proto_scan sc;
	int values = 0;

	proto_scan_begin(&sc, s, strlen(s));
	return walk(&sc, &values) && proto_scan_end(&sc);
}

START_TEST(test_same_verdict)
{
	static const char *const texts[] = {
		"[1, \"a\", true, false, null, -0.5e3, {\"k\": [ ]}]",
		"{\"a\":{\"b\":{\"c\":[1,2,{}]}}}",
		" [ ] ",
		"\"\\u00e9\\ud83d\\ude00\"",
		"[1,]",
		"[,1]",
		"[1 2]",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"{1:2}",
		"[1}",
		"{\"a\":1]",
		"[\"\\x\"]",
		"[\"\\ud800\"]",
		"[\"\\udc00\\ud800\"]",
		"[\"\xc0\x80\"]",
		"[\"\xed\xa0\x80\"]",
		"[\"a\tb\"]",
		"[01]",
		"[1.]",
		"[NaN]",
		"['a']",
		"[tru]",
		"[9223372036854775808]",
		"[[[[[[[[1]]]]]]]]",
		"[[[[[[[[[1]]]]]]]]]",
		"[1] 2",
		"[\"unterminated",
		"",
		"[",
	};

	for (size_t i = 0; i < N_ELEMS(texts); i++) {
		struct proto_scan sc;
		bool all = proto_scan_all(&sc, texts[i], strlen(texts[i]));

		/* an empty text is a fault for both */
		ck_assert_msg(pull_ok(texts[i]) == all, "'%s': pull %d, all %d", texts[i], !all,
		              all);
	}
}
END_TEST

START_TEST(test_values)
{
	const char *s = "{\"rows\" : [[12, \"a\\\"b\", true, null, [\"x\"]], []], \"next\": 3}";
	struct proto_scan sc;
	struct proto_scan_val k, v;

	proto_scan_begin(&sc, s, strlen(s));
	ck_assert(proto_scan_enter(&sc, PROTO_SCAN_OBJECT));
	ck_assert_int_eq(proto_scan_item(&sc, &k), 1);
	ck_assert(proto_scan_is(&k, "rows"));
	ck_assert(!proto_scan_is(&k, "row"));
	ck_assert(proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(v.type, PROTO_SCAN_NUMBER);
	ck_assert_uint_eq(v.len, 2);
	ck_assert_mem_eq(v.raw, "12", 2);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(v.type, PROTO_SCAN_STRING);
	ck_assert(v.escaped);
	ck_assert_uint_eq(v.len, 4);
	ck_assert_mem_eq(v.raw, "a\\\"b", 4);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(v.type, PROTO_SCAN_TRUE);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(v.type, PROTO_SCAN_NULL);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v)); /* a container skipped whole */
	ck_assert_int_eq(v.type, PROTO_SCAN_ARRAY);
	ck_assert_uint_eq(v.len, 5);
	ck_assert_mem_eq(v.raw, "[\"x\"]", 5);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 0);
	/* leave the rest of the rows unread */
	ck_assert(proto_scan_leave(&sc));
	ck_assert_int_eq(proto_scan_item(&sc, &k), 1);
	ck_assert(proto_scan_is(&k, "next"));
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(v.type, PROTO_SCAN_NUMBER);
	ck_assert_int_eq(proto_scan_item(&sc, &k), 0);
	ck_assert(proto_scan_end(&sc));
	ck_assert_uint_eq(sc.depth, 0);
}
END_TEST

START_TEST(test_faults)
{
	struct proto_scan sc;
	struct proto_scan_val v;

	/* a wrong container type */
	proto_scan_begin(&sc, "[1]", 3);
	ck_assert(!proto_scan_enter(&sc, PROTO_SCAN_OBJECT));
	ck_assert_str_eq(sc.msg, "expected an object");
	/* cut short inside a string */
	proto_scan_begin(&sc, "[\"ab", 4);
	ck_assert(proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(!proto_scan_next(&sc, &v));
	ck_assert_str_eq(sc.msg, "unterminated string");
	/* cut short between items */
	proto_scan_begin(&sc, "[1", 2);
	ck_assert(proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
	ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert_int_eq(proto_scan_item(&sc, NULL), -1);
	ck_assert_str_eq(sc.msg, "unexpected end of input");
	/* no container to take an item from */
	proto_scan_begin(&sc, "1", 1);
	ck_assert_int_eq(proto_scan_item(&sc, NULL), -1);
	/* invalid UTF-8 in a string */
	proto_scan_begin(&sc, "\"\xff\"", 3);
	ck_assert(!proto_scan_next(&sc, &v));
	ck_assert_str_eq(sc.msg, "invalid UTF-8");
	/* nine levels entered one by one */
	proto_scan_begin(&sc, "[[[[[[[[[", 9);
	for (int i = 0; i < 8; i++) {
		ck_assert(proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
		ck_assert_int_eq(proto_scan_item(&sc, NULL), 1);
	}
	ck_assert(!proto_scan_enter(&sc, PROTO_SCAN_ARRAY));
	/* bytes after the value */
	proto_scan_begin(&sc, "1 x", 3);
	ck_assert(proto_scan_next(&sc, &v));
	ck_assert(!proto_scan_end(&sc));
}
END_TEST

/* unescape's result on raw, or NULL when it refuses. */
static const char *unesc(const char *raw, char *out)
{
	size_t n;

	if (!proto_scan_unescape(raw, strlen(raw), out, &n))
		return NULL;
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_uint_le(n, strlen(raw));
	return out;
}

START_TEST(test_unescape)
{
	static const struct {
		const char *raw, *text; /* text NULL: refused */
	} cases[] = {
		{ "plain 中文", "plain 中文" },
		{ "", "" },
		{ "a\\\"b\\\\c\\/d", "a\"b\\c/d" },
		{ "\\b\\f\\n\\r\\t", "\b\f\n\r\t" },
		{ "\\u0041\\u00e9\\u4e2d", "Aé中" },
		{ "\\u00E9", "é" },
		{ "\\ud83d\\ude00", "\xf0\x9f\x98\x80" },
		{ "x\\uD834\\uDD1Ey", "x\xf0\x9d\x84\x9ey" },
		{ "\\u0000", NULL },
		{ "\\ud800", NULL },
		{ "\\ud800x", NULL },
		{ "\\ud800\\u0041", NULL },
		{ "\\udc00", NULL },
		{ "\\u12", NULL },
		{ "\\u12g4", NULL },
		{ "\\x", NULL },
		{ "\\'", NULL },
		{ "trailing\\", NULL },
	};

	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char out[64];
		const char *got = unesc(cases[i].raw, out);

		if (cases[i].text == NULL)
			ck_assert_msg(got == NULL, "'%s' gave '%s'", cases[i].raw, got);
		else
			ck_assert_msg(got && strcmp(got, cases[i].text) == 0, "'%s' gave '%s'",
			              cases[i].raw, got ? got : "(refused)");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_scan");
	TCase *tc = tcase_create("pull");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_same_verdict);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_unescape);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
