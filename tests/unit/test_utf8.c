/*
 * lib/utf8.c, the one UTF-8 decoder: table-driven over the edges of RFC
 * 3629 (each boundary on both sides), overlongs, surrogates, > U+10FFFF,
 * truncated sequences, stray continuation bytes; then encode, count, trim.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define RAW(s)     s, sizeof(s) - 1
/* No character: the length 0 and *cp untouched. */
#define BAD UINT32_MAX

static const struct {
	const char *why;
	const char *s;
	size_t n;    /* bytes utf8_decode() may read */
	size_t len;  /* expected length, 0 when invalid */
	uint32_t cp; /* expected code point, BAD when invalid */
} decode_cases[] = {
	/* one byte */
	{ "NUL", RAW("\0"), 1, 0x00 },
	{ "ASCII", RAW("A"), 1, 0x41 },
	{ "DEL", RAW("\x7f"), 1, 0x7f },
	/* two bytes */
	{ "U+0080, first of two", RAW("\xc2\x80"), 2, 0x80 },
	{ "U+07FF, last of two", RAW("\xdf\xbf"), 2, 0x7ff },
	{ "é", RAW("\xc3\xa9"), 2, 0xe9 },
	{ "overlong NUL C0 80", RAW("\xc0\x80"), 0, BAD },
	{ "overlong '/' C0 AF", RAW("\xc0\xaf"), 0, BAD },
	{ "overlong U+007F C1 BF", RAW("\xc1\xbf"), 0, BAD },
	{ "two bytes, second not a continuation", RAW("\xc3\x41"), 0, BAD },
	{ "two bytes, second is a lead", RAW("\xc3\xc3"), 0, BAD },
	/* three bytes */
	{ "U+0800, first of three", RAW("\xe0\xa0\x80"), 3, 0x800 },
	{ "中 U+4E2D", RAW("\xe4\xb8\xad"), 3, 0x4e2d },
	{ "U+D7FF, below the surrogates", RAW("\xed\x9f\xbf"), 3, 0xd7ff },
	{ "U+E000, above the surrogates", RAW("\xee\x80\x80"), 3, 0xe000 },
	{ "U+FFFD", RAW("\xef\xbf\xbd"), 3, 0xfffd },
	{ "U+FFFF, last of three", RAW("\xef\xbf\xbf"), 3, 0xffff },
	{ "overlong U+07FF E0 9F BF", RAW("\xe0\x9f\xbf"), 0, BAD },
	{ "overlong NUL E0 80 80", RAW("\xe0\x80\x80"), 0, BAD },
	{ "surrogate U+D800", RAW("\xed\xa0\x80"), 0, BAD },
	{ "surrogate U+DBFF", RAW("\xed\xaf\xbf"), 0, BAD },
	{ "surrogate U+DC00", RAW("\xed\xb0\x80"), 0, BAD },
	{ "surrogate U+DFFF", RAW("\xed\xbf\xbf"), 0, BAD },
	{ "surrogate pair as CESU-8", RAW("\xed\xa0\xbd\xed\xb8\x80"), 0, BAD },
	{ "three bytes, third not a continuation", RAW("\xe4\xb8\x41"), 0, BAD },
	/* four bytes */
	{ "U+10000, first of four", RAW("\xf0\x90\x80\x80"), 4, 0x10000 },
	{ "U+1F600", RAW("\xf0\x9f\x98\x80"), 4, 0x1f600 },
	{ "U+10FFFF, the last", RAW("\xf4\x8f\xbf\xbf"), 4, 0x10ffff },
	{ "U+110000, above Unicode", RAW("\xf4\x90\x80\x80"), 0, BAD },
	{ "F5: above Unicode", RAW("\xf5\x80\x80\x80"), 0, BAD },
	{ "F7 BF BF BF: U+1FFFFF", RAW("\xf7\xbf\xbf\xbf"), 0, BAD },
	{ "overlong U+FFFF F0 8F BF BF", RAW("\xf0\x8f\xbf\xbf"), 0, BAD },
	{ "overlong NUL F0 80 80 80", RAW("\xf0\x80\x80\x80"), 0, BAD },
	{ "four bytes, fourth not a continuation", RAW("\xf0\x9f\x98\x41"), 0, BAD },
	/* five and six byte forms of old UTF-8, and bytes that never appear */
	{ "F8: five-byte form", RAW("\xf8\x88\x80\x80\x80"), 0, BAD },
	{ "FC: six-byte form", RAW("\xfc\x84\x80\x80\x80\x80"), 0, BAD },
	{ "FE", RAW("\xfe"), 0, BAD },
	{ "FF", RAW("\xff"), 0, BAD },
	/* stray continuation bytes */
	{ "continuation 80", RAW("\x80"), 0, BAD },
	{ "continuation BF", RAW("\xbf\x41"), 0, BAD },
	/* truncated: the bytes are cut short (the NUL or the end stops them) */
	{ "lead of two alone", RAW("\xc3"), 0, BAD },
	{ "lead of three, one continuation", RAW("\xe4\xb8"), 0, BAD },
	{ "lead of four, two continuations", RAW("\xf0\x9f\x98"), 0, BAD },
	{ "two bytes then NUL", "\xc3", 2, 0, BAD }, /* n counts the NUL */
	{ "three bytes cut by n", "\xe4\xb8\xad", 2, 0, BAD },
	{ "four bytes cut by n", "\xf0\x9f\x98\x80", 3, 0, BAD },
	{ "nothing to read", "A", 0, 0, BAD },
};

START_TEST(decode_table)
{
	uint32_t cp = BAD;
	size_t len = utf8_decode(decode_cases[_i].s, decode_cases[_i].n, &cp);

	ck_assert_msg(len == decode_cases[_i].len, "%s: length %zu, want %zu", decode_cases[_i].why,
	              len, decode_cases[_i].len);
	ck_assert_msg(cp == decode_cases[_i].cp, "%s: U+%04X, want U+%04X", decode_cases[_i].why,
	              (unsigned)cp, (unsigned)decode_cases[_i].cp);
	/* the same verdict without *cp, and as a whole string */
	ck_assert_uint_eq(utf8_decode(decode_cases[_i].s, decode_cases[_i].n, NULL), len);
	ck_assert(utf8_valid(decode_cases[_i].s, decode_cases[_i].n) ==
	          (len == decode_cases[_i].n));
}
END_TEST

/* NUL-terminated text with n = SIZE_MAX: the NUL ends a sequence, nothing past it is read. */
START_TEST(nul_terminated)
{
	static const char cut[] = { (char)0xe4, (char)0xb8, '\0', (char)0xad };
	uint32_t cp;

	ck_assert_uint_eq(utf8_decode("\xe4\xb8\xad", SIZE_MAX, &cp), 3);
	ck_assert_uint_eq(cp, 0x4e2d);
	ck_assert_uint_eq(utf8_decode(cut, SIZE_MAX, &cp), 0);
	ck_assert_uint_eq(utf8_decode("\xf0", SIZE_MAX, &cp), 0);
}
END_TEST

/*
 * Every code point encodes and decodes back; surrogates and > U+10FFFF do
 * not encode.  Plain ifs: a million ck_assert calls would take seconds.
 */
START_TEST(round_trip)
{
	for (uint32_t c = 0; c <= 0x110000; c++) {
		char b[UTF8_MAX_BYTES];
		size_t n = utf8_encode(c, b), want;
		uint32_t back = BAD;

		if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
			if (n != 0)
				ck_abort_msg("U+%04X encodes to %zu bytes", (unsigned)c, n);
			continue;
		}
		want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (n != want || utf8_decode(b, n, &back) != n || back != c)
			ck_abort_msg("U+%04X: %zu bytes, back U+%04X", (unsigned)c, n,
			             (unsigned)back);
		/* one byte short is always refused */
		if (utf8_decode(b, n - 1, NULL) != 0)
			ck_abort_msg("U+%04X decoded from %zu bytes", (unsigned)c, n - 1);
	}
}
END_TEST

START_TEST(valid_strings)
{
	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid(RAW("王芳 Wang Fang é 😀")));
	ck_assert(!utf8_valid(RAW("王芳\xc0\x80")));
	ck_assert(!utf8_valid(RAW("ok\xed\xa0\x80ok")));
	ck_assert(!utf8_valid(RAW("中\xe6\x96")));
}
END_TEST

START_TEST(count)
{
	ck_assert_uint_eq(utf8_count("", 0), 0);
	ck_assert_uint_eq(utf8_count(RAW("abc")), 3);
	ck_assert_uint_eq(utf8_count(RAW("噪声扰民")), 4);
	ck_assert_uint_eq(utf8_count(RAW("a中\xf0\x9f\x98\x80é")), 4);
}
END_TEST

static const struct {
	const char *s;
	size_t n, want;
} trim_cases[] = {
	{ "abc", 2, 2 },
	{ "中文", 6, 6 }, /* whole */
	{ "中文", 5, 3 }, /* inside 文: back to its lead */
	{ "中文", 4, 3 },
	{ "中文", 3, 3 }, /* on the boundary */
	{ "中", 1, 0 },
	{ "a\xf0\x9f\x98\x80", 4, 1 }, /* three of four bytes */
	{ "a\xf0\x9f\x98\x80", 5, 5 },
	{ "\xc3\xa9", 1, 0 },
	{ "\x80\x80\x80\x80", 4, 4 }, /* garbage: nothing to keep whole, left as is */
	{ "", 0, 0 },
};

START_TEST(trim_table)
{
	ck_assert_uint_eq(utf8_trim(trim_cases[_i].s, trim_cases[_i].n), trim_cases[_i].want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("utf8");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, decode_table, 0, N_ELEMS(decode_cases));
	tcase_add_test(tc, nul_terminated);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, valid_strings);
	tcase_add_test(tc, count);
	tcase_add_loop_test(tc, trim_table, 0, N_ELEMS(trim_cases));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
