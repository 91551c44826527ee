/*
 * lib/proto_pairs.c: a request from name -> value text, checked by the same
 * field table as a JSON line: numbers, timestamps, text lengths, required
 * fields, unknown and repeated names, empty values, UTF-8; and the same
 * params[] a JSON line with those values gives.
 */
#include <check.h>
#include <string.h>

#include "proto.h"
#include "proto_pairs.h"

static int decode(enum proto_op op, const char *const *names, const char *const *values, size_t n,
                  struct proto_request *req, char *err)
{
	memset(req, 0, sizeof(*req));
	return proto_decode_pairs(op, names, values, n, req, err, 300);
}

START_TEST(post_like_json)
{
	struct proto_request a, b;
	char err[300];
	const char *names[] = { "api_key", "service_code", "lat", "long", "description", "email" };
	const char *values[] = { "k3y", "pollution.noise", "44.02", "-87.5e0", "噪声 <b>", "" };
	const char *line = "{\"id\":1,\"op\":\"o311_post\",\"api_key\":\"k3y\",\"service_code\":"
	                   "\"pollution.noise\",\"lat\":44.02,\"long\":-87.5e0,\"description\":"
	                   "\"噪声 <b>\"}";

	ck_assert_int_eq(decode(PROTO_OP_O311_POST, names, values, 6, &a, err), PROTO_OK);
	ck_assert_int_eq(proto_decode(line, strlen(line), &b, err, sizeof(err)), PROTO_OK);
	ck_assert_int_eq(a.op, PROTO_OP_O311_POST);
	ck_assert_str_eq(a.id, "null");
	ck_assert_int_eq(a.nparams, b.nparams);
	for (int i = 0; i < a.nparams; i++) {
		if (!b.params[i])
			ck_assert_ptr_null(a.params[i]);
		else
			ck_assert_str_eq(a.params[i], b.params[i]);
	}
	ck_assert_ptr_null(a.params[6]); /* email: empty is absent */
	proto_request_free(&a);
	proto_request_free(&b);
}
END_TEST

static const struct {
	enum proto_op op;
	const char *name, *value;
	const char *msg;
} bad[] = {
	{ PROTO_OP_O311_POST, "lat", "north", "field \"lat\" must be a number from -90 to 90" },
	{ PROTO_OP_O311_POST, "lat", "91", "field \"lat\" must be a number from -90 to 90" },
	{ PROTO_OP_O311_POST, "lat", "nan", "field \"lat\" must be a number" },
	{ PROTO_OP_O311_POST, "lat", "1e999", "field \"lat\" must be a number" },
	{ PROTO_OP_O311_POST, "lat", " 4", "field \"lat\" must be a number" },
	{ PROTO_OP_O311_POST, "lat", "0x10", "field \"lat\" must be a number" },
	{ PROTO_OP_O311_POST, "long", "4.", "field \"long\" must be a number" },
	{ PROTO_OP_O311_POST, "phone", "01234567890123456789012345678901234567890",
	  "field \"phone\" is longer than 40 characters" },
	{ PROTO_OP_O311_POST, "email", "\xff", "field \"email\" is not UTF-8" },
	{ PROTO_OP_O311_POST, "jurisdiction_id", "x", "unknown field \"jurisdiction_id\"" },
	{ PROTO_OP_O311_REQUESTS, "start_date", "2026-12-01T17:00:00 08:00",
	  "field \"start_date\" must be an RFC 3339 timestamp" },
	{ PROTO_OP_O311_REQUESTS, "end_date", "yesterday",
	  "field \"end_date\" must be an RFC 3339 timestamp" },
	{ PROTO_OP_O311_SERVICE, "service_code", "", "field \"service_code\" is required" },
};

START_TEST(refuses)
{
	struct proto_request r;
	char err[300];
	const char *names[] = { "api_key", "service_code", "description", bad[_i].name };
	const char *values[] = { "k", "a.b", "d", bad[_i].value };
	bool post = bad[_i].op == PROTO_OP_O311_POST;
	int rc = decode(bad[_i].op, post ? names : names + 3, post ? values : values + 3,
	                post ? 4 : 1, &r, err);

	ck_assert_int_eq(rc, PROTO_ERR_BAD_REQUEST);
	ck_assert_msg(strstr(err, bad[_i].msg), "%s=%s: %s", bad[_i].name, bad[_i].value, err);
	proto_request_free(&r);
}
END_TEST

START_TEST(required_and_twice)
{
	struct proto_request r;
	char err[300];

	ck_assert_int_eq(decode(PROTO_OP_O311_POST, (const char *const[]){ "api_key" },
	                        (const char *const[]){ "k" }, 1, &r, err),
	                 PROTO_ERR_BAD_REQUEST);
	ck_assert_str_eq(err, "field \"service_code\" is required");
	proto_request_free(&r);
	ck_assert_int_eq(decode(PROTO_OP_O311_REQUESTS, (const char *const[]){ "status", "status" },
	                        (const char *const[]){ "open", "" }, 2, &r, err),
	                 PROTO_ERR_BAD_REQUEST);
	ck_assert_str_eq(err, "field \"status\" is given twice");
	proto_request_free(&r);
	/* nothing at all: every field of o311_requests is optional */
	ck_assert_int_eq(decode(PROTO_OP_O311_REQUESTS, NULL, NULL, 0, &r, err), PROTO_OK);
	ck_assert_int_eq(r.nparams, 5);
	proto_request_free(&r);
	ck_assert_int_eq(decode(PROTO_OP_O311_REQUESTS,
	                        (const char *const[]){ "start_date", "service_request_id" },
	                        (const char *const[]){ "2026-12-01T17:00:00+08:00", "1,2" }, 2, &r,
	                        err),
	                 PROTO_OK);
	ck_assert_str_eq(r.params[0], "1,2");
	ck_assert_str_eq(r.params[2], "2026-12-01T17:00:00+08:00");
	proto_request_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_pairs");
	TCase *tc = tcase_create("proto_pairs");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, post_like_json);
	tcase_add_loop_test(tc, refuses, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, required_and_twice);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
