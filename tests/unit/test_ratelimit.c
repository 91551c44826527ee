/*
 * lib/ratelimit.c: a bucket's burst and refill, Retry-After's rounding, a
 * clock going back, and that a full set evicts the entry that has refilled
 * the most (never a drained one while a fuller one is there).
 */
#include <check.h>
#include <string.h>

#include "ratelimit.h"

static void key(unsigned char k[RATELIMIT_KEY], unsigned id)
{
	memset(k, 0, RATELIMIT_KEY);
	/* the set is picked by the first 8 bytes: one set for every key here */
	k[8] = (unsigned char)id;
	k[9] = (unsigned char)(id >> 8);
}

START_TEST(bucket)
{
	struct ratelimit *t = ratelimit_new(64, 10, 10.0 / 60);
	unsigned char a[RATELIMIT_KEY], b[RATELIMIT_KEY];

	key(a, 1);
	key(b, 2);
	ck_assert_int_eq(ratelimit_wait(t, a, 100), 0);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(ratelimit_wait(t, a, 100), 0);
		ratelimit_charge(t, a, 100);
	}
	ck_assert_int_eq(ratelimit_wait(t, a, 100), 6); /* one token per 6 s */
	ck_assert_int_eq(ratelimit_wait(t, a, 103), 3);
	ck_assert_int_eq(ratelimit_wait(t, a, 105.5), 1);
	ck_assert_int_eq(ratelimit_wait(t, a, 106), 0);
	ck_assert_int_eq(ratelimit_wait(t, b, 100), 0); /* another key is not touched */
	ratelimit_charge(t, a, 106);
	ratelimit_charge(t, a, 106); /* empty stays empty */
	ck_assert_int_eq(ratelimit_wait(t, a, 106), 6);
	ck_assert_int_eq(ratelimit_wait(t, a, 50), 6); /* the clock went back */
	ck_assert_int_eq(ratelimit_wait(t, a, 106 + 60), 0);
	ratelimit_free(t);
	ck_assert_ptr_null(ratelimit_new(8, 0.5, 1));
	ck_assert_ptr_null(ratelimit_new(8, 1, 0));
}
END_TEST

START_TEST(eviction)
{
	/* one set of 8 */
	struct ratelimit *t = ratelimit_new(1, 2, 1.0 / 60);
	unsigned char k[RATELIMIT_KEY];

	/* key 0 drained at 1000; keys 1..7 charged once long before: full again */
	for (unsigned i = 0; i < 8; i++) {
		key(k, i);
		ratelimit_charge(t, k, i == 0 ? 1000 : 0);
		if (i == 0)
			ratelimit_charge(t, k, 1000);
	}
	/* new keys (one token left each) evict the fullest, never drained key 0 */
	for (unsigned i = 8; i < 40; i++) {
		key(k, i);
		ratelimit_charge(t, k, 1000);
		key(k, 0);
		ck_assert_int_eq(ratelimit_wait(t, k, 1000), 60);
	}
	/* key 39, just charged, is there; key 8 was evicted long ago (full again) */
	key(k, 39);
	ratelimit_charge(t, k, 1000);
	ck_assert_int_eq(ratelimit_wait(t, k, 1000), 60);
	ratelimit_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, bucket);
	tcase_add_test(tc, eviction);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
