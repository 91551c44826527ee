/* Display width: Chinese takes two columns, accents none, so tables line up. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

START_TEST(ascii)
{
	ck_assert_uint_eq(display_width(""), 0);
	ck_assert_uint_eq(display_width("jg-yanan-01"), 11);
	ck_assert_uint_eq(display_width(" a b "), 5);
}
END_TEST

START_TEST(chinese)
{
	ck_assert_uint_eq(display_width("噪声扰民"), 8);
	ck_assert_uint_eq(strlen("噪声扰民"), 12); /* not bytes */
	ck_assert_uint_eq(display_width("延安北路社区第1网格"), 19);
	/* fullwidth punctuation and the ideographic space */
	ck_assert_uint_eq(display_width("（注）"), 6);
	ck_assert_uint_eq(display_width("\xe3\x80\x80"), 2);
	/* Hangul and kana are wide too */
	ck_assert_uint_eq(display_width("한국"), 4);
	ck_assert_uint_eq(display_width("カナ"), 4);
}
END_TEST

START_TEST(mixed)
{
	ck_assert_uint_eq(display_width("sthj 生态环境局"), 5 + 10);
	ck_assert_uint_eq(display_width("王芳 Wang Fang"), 4 + 10);
	ck_assert_uint_eq(display_width_n("王芳 Wang", 3), 2);
}
END_TEST

START_TEST(combining)
{
	/* e + COMBINING ACUTE ACCENT is one column, as é precomposed is */
	ck_assert_uint_eq(display_width("e\xcc\x81"), 1);
	ck_assert_uint_eq(display_width("\xc3\xa9"), 1);
	ck_assert_uint_eq(display_width("Cafe\xcc\x81 ok"), 7);
	/* zero-width joiner and variation selector-16 add nothing */
	ck_assert_uint_eq(display_width("a\xe2\x80\x8d"
	                                "b\xef\xb8\x8f"),
	                  2);
	ck_assert_int_eq(display_cp_width(0x0301), 0);
	ck_assert_int_eq(display_cp_width(0x200B), 0);
	/* control characters take no column (callers replace them) */
	ck_assert_uint_eq(display_width("a\tb\n"), 2);
}
END_TEST

START_TEST(emoji)
{
	ck_assert_uint_eq(display_width("\xf0\x9f\x98\x80"), 2);   /* U+1F600 */
	ck_assert_uint_eq(display_width("ok\xf0\x9f\x94\xa5"), 4); /* U+1F525 */
	ck_assert_int_eq(display_cp_width(0x26A1), 2);             /* high voltage */
	ck_assert_int_eq(display_cp_width(0x20000), 2);            /* CJK extension B */
	/* ambiguous width: one column outside CJK locales */
	ck_assert_int_eq(display_cp_width(0x2026), 1);
	ck_assert_int_eq(display_cp_width(0x0416), 1); /* Cyrillic Zhe */
}
END_TEST

START_TEST(invalid_utf8)
{
	uint32_t cp;

	/* each bad byte is one column */
	ck_assert_uint_eq(display_width("\xff"), 1);
	ck_assert_uint_eq(display_width("a\xff\xfe"
	                                "b"),
	                  4);
	/* a truncated 3-byte sequence: two lone bytes */
	ck_assert_uint_eq(display_width("\xe5\x99"), 2);
	/* overlong "/" and a UTF-16 surrogate are not characters */
	ck_assert_uint_eq(display_width("\xc0\xaf"), 2);
	ck_assert_uint_eq(display_width("\xed\xa0\x80"), 3);
	/* a bad byte does not swallow the valid character after it */
	ck_assert_uint_eq(display_width("\xe5中"), 3);
	ck_assert_uint_eq(display_next("\xff", 1, &cp), 1);
	ck_assert_uint_eq(cp, UINT32_MAX);
	ck_assert_uint_eq(display_next("中", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x4E2D);
}
END_TEST

START_TEST(truncate)
{
	char buf[64];

	/* fits: copied as it is */
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "噪声扰民", 8), 8);
	ck_assert_str_eq(buf, "噪声扰民");
	/* too wide: cut at a character, ellipsis in the last column */
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "噪声扰民", 7), 7);
	ck_assert_str_eq(buf, "噪声扰…");
	/* a wide character never straddles the edge: one column is left empty */
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "噪声扰民", 6), 5);
	ck_assert_str_eq(buf, "噪声…");
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "abcdef", 4), 4);
	ck_assert_str_eq(buf, "abc…");
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "中文", 1), 1);
	ck_assert_str_eq(buf, "…");
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "abc", 0), 0);
	ck_assert_str_eq(buf, "");
	/* an accent stays with its letter */
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf),
	                                   "e\xcc\x81"
	                                   "abc",
	                                   2),
	                  2);
	ck_assert_str_eq(buf, "e\xcc\x81…");
	/* invalid bytes count one each and are cut like characters */
	ck_assert_uint_eq(display_truncate(buf, sizeof(buf), "\xff\xff\xff\xff", 3), 3);
	ck_assert_str_eq(buf, "\xff\xff…");
	/* a small buffer cuts too, never inside a character */
	ck_assert_uint_eq(display_truncate(buf, 8, "中文中文", 20), 3);
	ck_assert_str_eq(buf, "中…");
	ck_assert_uint_eq(display_truncate(buf, 7, "中文", 20), 4);
	ck_assert_str_eq(buf, "中文");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("display");
	TCase *tc = tcase_create("width");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, ascii);
	tcase_add_test(tc, chinese);
	tcase_add_test(tc, mixed);
	tcase_add_test(tc, combining);
	tcase_add_test(tc, emoji);
	tcase_add_test(tc, invalid_utf8);
	tcase_add_test(tc, truncate);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
