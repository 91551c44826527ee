/*
 * lib/http_form.c: x-www-form-urlencoded and query strings: '+' and %XX,
 * empty pieces, names without '=', repeated names, the limits (pairs, name
 * length), and refusals (bad escapes, NUL, invalid UTF-8) that name the
 * parameter; then GeoReport v2's attribute[code] and attribute[code][].
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_form.h"

#define RAW(s) s, sizeof(s) - 1

START_TEST(decodes)
{
	struct http_form f;
	char err[200];
	int k;

	ck_assert_int_eq(
	        http_form_parse(RAW("a=1&&b=x+y%2Bz&c=%E5%99%AA&d&e=&a=2&"), &f, err, sizeof(err)),
	        0);
	ck_assert_uint_eq(f.n, 6);
	ck_assert_str_eq(http_form_get(&f, "a", &k), "1");
	ck_assert_int_eq(k, 2);
	ck_assert_str_eq(http_form_get(&f, "b", NULL), "x y+z");
	ck_assert_str_eq(http_form_get(&f, "c", NULL), "噪");
	ck_assert_str_eq(http_form_get(&f, "d", NULL), "");
	ck_assert_str_eq(http_form_get(&f, "e", NULL), "");
	ck_assert_ptr_null(http_form_get(&f, "zz", &k));
	ck_assert_int_eq(k, 0);
	ck_assert_uint_eq(f.pairs[2].value_len, 3);
	http_form_free(&f);

	ck_assert_int_eq(http_form_parse(NULL, 0, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.n, 0);
	http_form_free(&f);
	/* not NUL-terminated: only len bytes are read */
	ck_assert_int_eq(http_form_parse("q=abcdef", 4, &f, err, sizeof(err)), 0);
	ck_assert_str_eq(http_form_get(&f, "q", NULL), "ab");
	http_form_free(&f);
}
END_TEST

static const struct {
	const char *s;
	const char *msg; /* a part of the message */
} bad[] = {
	{ "a=%", "parameter a has a bad %-escape" },
	{ "a=%4", "parameter a has a bad %-escape" },
	{ "a=%zz", "parameter a has a bad %-escape" },
	{ "a=x%00y", "parameter a has a bad %-escape or a NUL" },
	{ "%00=1", "a parameter name has a bad" },
	{ "description=%FF%FE", "parameter description is not UTF-8" },
	{ "description=%C0%AF", "parameter description is not UTF-8" },
	{ "description=%ED%A0%80", "parameter description is not UTF-8" },
	{ "%E5%99=1", "a parameter name is not UTF-8" },
};

START_TEST(refuses)
{
	struct http_form f;
	char err[200];

	ck_assert_int_eq(http_form_parse(bad[_i].s, strlen(bad[_i].s), &f, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad[_i].msg), "%s: %s", bad[_i].s, err);
	http_form_free(&f);
}
END_TEST

START_TEST(limits)
{
	struct http_form f;
	char err[200], buf[2048] = "", name[300];
	size_t o = 0;

	for (int i = 0; i < HTTP_FORM_MAX_PAIRS; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "p%d=v&", i);
	ck_assert_int_eq(http_form_parse(buf, o, &f, err, sizeof(err)), 0);
	ck_assert_uint_eq(f.n, HTTP_FORM_MAX_PAIRS);
	http_form_free(&f);
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "one=more");
	ck_assert_int_eq(http_form_parse(buf, o, &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 64 parameters");
	http_form_free(&f);

	memset(name, 'n', HTTP_FORM_MAX_NAME);
	strcpy(name + HTTP_FORM_MAX_NAME, "=1");
	ck_assert_int_eq(http_form_parse(name, strlen(name), &f, err, sizeof(err)), 0);
	http_form_free(&f);
	memset(name, 'n', HTTP_FORM_MAX_NAME + 1);
	strcpy(name + HTTP_FORM_MAX_NAME + 1, "=1");
	ck_assert_int_eq(http_form_parse(name, strlen(name), &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "a parameter name is longer than 128 bytes");
	http_form_free(&f);
}
END_TEST

static char *attrs(const char *form, char *err)
{
	struct http_form f;
	char *json = NULL;

	ck_assert_int_eq(http_form_parse(form, strlen(form), &f, err, 200), 0);
	if (http_form_attributes(&f, &json, err, 200) != 0)
		ck_assert_ptr_null(json);
	http_form_free(&f);
	return json;
}

START_TEST(attributes)
{
	char err[200];
	char *j;

	j = attrs("service_code=x&attribute%5Bwhen%5D=night&attribute[kinds][]=a&"
	          "attribute[kinds][]=b+c&attribute[q\"<]=%22",
	          err);
	ck_assert_str_eq(j, "{\"when\":\"night\",\"kinds\":[\"a\",\"b c\"],\"q\\\"<\":\"\\\"\"}");
	free(j);
	ck_assert_ptr_null(attrs("service_code=x&attributes=y", err));
	ck_assert_str_eq(err, "");

	ck_assert_ptr_null(attrs("attribute[when]=a&attribute[when]=b", err));
	ck_assert_str_eq(err, "attribute when is given twice (use attribute[when][] for a list)");
	ck_assert_ptr_null(attrs("attribute[k][]=a&attribute[k]=b", err));
	ck_assert_str_eq(err, "attribute k is given twice (use attribute[k][] for a list)");
	ck_assert_ptr_null(attrs("attribute[k]=a&attribute[k][]=b", err));
	ck_assert(strstr(err, "given twice"));
	ck_assert_ptr_null(attrs("attribute[]=a", err));
	ck_assert(strstr(err, "is not attribute[code]"));
	ck_assert_ptr_null(attrs("attribute[k]x=a", err));
	ck_assert(strstr(err, "is not attribute[code]"));
	ck_assert_ptr_null(attrs("attribute[k=a", err));
	ck_assert(strstr(err, "is not attribute[code]"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http_form");
	TCase *tc = tcase_create("http_form");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, decodes);
	tcase_add_loop_test(tc, refuses, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, limits);
	tcase_add_test(tc, attributes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
