/* Unit tests for lib/proto_*.c (proto.h): every op, every strictness rule, reply formatting. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* A literal and its length, for lines with a NUL inside. */
#define RAW(s) s, sizeof(s) - 1

/* ------------------------------------------------------------------------ */
/* Valid requests: the op, the id echoed and every param in table order. */

static const struct {
	const char *line;
	enum proto_op op;
	const char *id;
	const char *params[PROTO_MAX_FIELDS];
} good_cases[] = {
	{ "{\"id\":1,\"op\":\"whoami\"}", PROTO_OP_WHOAMI, "1", { NULL } },
	{ "{\"id\":\"abc\",\"op\":\"categories\"}", PROTO_OP_CATEGORIES, "\"abc\"", { NULL } },
	{ "{\"id\":0,\"op\":\"departments\"}", PROTO_OP_DEPARTMENTS, "0", { NULL } },
	{ "{\"op\":\"places\",\"id\":9007199254740991}",
	  PROTO_OP_PLACES,
	  "9007199254740991",
	  { NULL } },
	{ "{\"id\":1,\"op\":\"report\",\"category\":9,\"grid\":5,\"description\":\"夜间施工噪声\","
	  "\"address\":\"延安北路12号\",\"lat\":44.5,\"lon\":87.25,\"urgent\":true,"
	  "\"photos\":[3,5],\"key\":\"r-20261127-1\"}",
	  PROTO_OP_REPORT,
	  "1",
	  { "9", "5", "夜间施工噪声", "延安北路12号", "44.5", "87.25", "true", "{3,5}", NULL,
	    "r-20261127-1" } },
	/* fields in any order and null for "absent": params still in table order */
	{ "{\"key\":\"k\",\"lon\":-180,\"lat\":43.99,\"description\":\"d\",\"grid\":2147483647,"
	  "\"category\":1,\"op\":\"report\",\"id\":2,\"address\":null,\"urgent\":false}",
	  PROTO_OP_REPORT,
	  "2",
	  { "1", "2147483647", "d", NULL, "43.990000000000002", "-180", "false", NULL, NULL,
	    "k" } },
	{ "{\"id\":3,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"\"}",
	  PROTO_OP_REPORT,
	  "3",
	  { "1", "1", "", NULL, NULL, NULL, NULL, NULL, NULL } },
	{ "{\"id\":1,\"op\":\"dispatch\",\"ticket\":42,\"version\":1,\"department\":2,"
	  "\"note\":\"快\",\"key\":\"d1\"}",
	  PROTO_OP_DISPATCH,
	  "1",
	  { "42", "1", "2", "快", "d1" } },
	{ "{\"id\":1,\"op\":\"dispatch\",\"ticket\":42,\"version\":1}",
	  PROTO_OP_DISPATCH,
	  "1",
	  { "42", "1", NULL, NULL, NULL } },
	{ "{\"id\":1,\"op\":\"return\",\"ticket\":42,\"version\":2,\"reason\":\"not ours\","
	  "\"department\":3,\"key\":\"x\"}",
	  PROTO_OP_RETURN,
	  "1",
	  { "42", "2", "not ours", "3", "x" } },
	{ "{\"id\":7,\"op\":\"accept\",\"ticket\":42,\"version\":2}",
	  PROTO_OP_ACCEPT,
	  "7",
	  { "42", "2", NULL } },
	{ "{\"id\":1,\"op\":\"resolve\",\"ticket\":9007199254740991,\"version\":3,\"note\":"
	  "\"done\","
	  "\"photos\":[9007199254740991],\"key\":\"k\"}",
	  PROTO_OP_RESOLVE,
	  "1",
	  { "9007199254740991", "3", "done", "{9007199254740991}", "k" } },
	{ "{\"id\":1,\"op\":\"confirm\",\"ticket\":42,\"version\":4,\"rating\":5,"
	  "\"comment\":\"好\"}",
	  PROTO_OP_CONFIRM,
	  "1",
	  { "42", "4", "5", "好", NULL } },
	{ "{\"id\":1,\"op\":\"reopen\",\"ticket\":42,\"version\":4,\"reason\":\"still noisy\"}",
	  PROTO_OP_REOPEN,
	  "1",
	  { "42", "4", "still noisy", NULL } },
	{ "{\"id\":1,\"op\":\"cancel\",\"ticket\":42,\"version\":1,\"duplicate_of\":41}",
	  PROTO_OP_CANCEL,
	  "1",
	  { "42", "1", NULL, "41", NULL } },
	{ "{\"id\":1,\"op\":\"urge\",\"ticket\":42,\"note\":\"hurry\",\"version\":2,\"key\":\"u\"}",
	  PROTO_OP_URGE,
	  "1",
	  { "42", "hurry", "2", "u" } },
	{ "{\"id\":1,\"op\":\"extend_request\",\"ticket\":42,\"until\":\"2026-12-01T17:00:00+08:"
	  "00\","
	  "\"reason\":\"parts\"}",
	  PROTO_OP_EXTEND_REQUEST,
	  "1",
	  { "42", "2026-12-01T17:00:00+08:00", "parts", NULL, NULL } },
	{ "{\"id\":1,\"op\":\"extend_grant\",\"ticket\":42,\"version\":5}",
	  PROTO_OP_EXTEND_GRANT,
	  "1",
	  { "42", NULL, "5", NULL } },
	{ "{\"id\":1,\"op\":\"extend_deny\",\"ticket\":42,\"note\":\"no\",\"key\":\"n\"}",
	  PROTO_OP_EXTEND_DENY,
	  "1",
	  { "42", "no", NULL, "n" } },
	{ "{\"id\":1,\"op\":\"comment\",\"ticket\":42,\"text\":\"line1\\nline2 \\\"q\\\" "
	  "\\u00e9\\ud83d\\ude00\"}",
	  PROTO_OP_COMMENT,
	  "1",
	  { "42", "line1\nline2 \"q\" \xc3\xa9\xf0\x9f\x98\x80", NULL, NULL } },
	{ "{\"id\":1,\"op\":\"arbitrate\",\"ticket\":42,\"return_seq\":118,\"upheld\":false,"
	  "\"note\":\"n\",\"version\":3,\"key\":\"a\"}",
	  PROTO_OP_ARBITRATE,
	  "1",
	  { "42", "118", "false", "n", "3", NULL, "a" } },
	{ "{\"id\":1,\"op\":\"arbitrate\",\"ticket\":42,\"return_seq\":118,\"upheld\":true,"
	  "\"department\":5}",
	  PROTO_OP_ARBITRATE,
	  "1",
	  { "42", "118", "true", NULL, NULL, "5", NULL } },
	{ "{\"id\":1,\"op\":\"get\",\"ticket\":1}", PROTO_OP_GET, "1", { "1", NULL } },
	{ "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"after\":0}", PROTO_OP_GET, "1", { "1", "0" } },
	{ "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"after\":9007199254740991}",
	  PROTO_OP_GET,
	  "1",
	  { "1", "9007199254740991" } },
	{ "{\"id\":1,\"op\":\"list\",\"state\":\"resolved\",\"category\":2,\"grid\":3,"
	  "\"department\":4,\"overdue\":true,\"text\":\"噪声\",\"from\":\"2026-01-01T00:00:00Z\","
	  "\"to\":\"2026-02-01 00:00:00.5-05:30\",\"after\":99,\"limit\":200}",
	  PROTO_OP_LIST,
	  "1",
	  { "resolved", "2", "3", "4", "true", "噪声", "2026-01-01T00:00:00Z",
	    "2026-02-01 00:00:00.5-05:30", "99", "200" } },
	{ "{\"id\":1,\"op\":\"list\"}", PROTO_OP_LIST, "1", { NULL } },
	{ "{\"id\":1,\"op\":\"overdue\",\"after\":\"2026-12-01T17:00:00Z:42\",\"limit\":1}",
	  PROTO_OP_OVERDUE,
	  "1",
	  { "2026-12-01T17:00:00Z:42", "1" } },
	{ "{\"id\":1,\"op\":\"route\",\"ticket\":42}", PROTO_OP_ROUTE, "1", { "42" } },
	{ "{\"id\":1,\"op\":\"photo_begin\",\"size\":2147483647,"
	  "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}",
	  PROTO_OP_PHOTO_BEGIN,
	  "1",
	  { "2147483647", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" } },
	{ "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":3,\"offset\":0,\"data\":\"/9j/4A==\"}",
	  PROTO_OP_PHOTO_CHUNK,
	  "1",
	  { "3", "0", "/9j/4A==" } },
	{ "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":3,\"offset\":32768,\"data\":\"ab+/\"}",
	  PROTO_OP_PHOTO_CHUNK,
	  "1",
	  { "3", "32768", "ab+/" } },
	{ "{\"id\":1,\"op\":\"photo_end\",\"upload\":3}", PROTO_OP_PHOTO_END, "1", { "3" } },
	{ "{\"id\":1,\"op\":\"photo_get\",\"photo\":8,\"offset\":0,\"length\":32768}",
	  PROTO_OP_PHOTO_GET,
	  "1",
	  { "8", "0", "32768" } },
	{ "{\"id\":1,\"op\":\"subscribe\",\"since\":0,\"category\":2,\"grid\":3,"
	  "\"state\":\"dispatched\"}",
	  PROTO_OP_SUBSCRIBE,
	  "1",
	  { "0", "2", "3", "dispatched" } },
	{ "{\"id\":1,\"op\":\"subscribe\"}", PROTO_OP_SUBSCRIBE, "1", { NULL } },
	{ "{\"id\":1,\"op\":\"unsubscribe\"}", PROTO_OP_UNSUBSCRIBE, "1", { NULL } },
	{ "{\"id\":1,\"op\":\"stats\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"group\":\"street\",\"series\":\"week\",\"unit\":4,\"after\":0}",
	  PROTO_OP_STATS,
	  "1",
	  { "2026-11-01", "2026-12-01", "street", "week", "4", "0" } },
	{ "{\"id\":1,\"op\":\"ranking\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"group\":\"department\"}",
	  PROTO_OP_RANKING,
	  "1",
	  { "2026-11-01", "2026-12-01", "department", NULL } },
	{ "{\"id\":1,\"op\":\"score_get\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"street\":1,\"department\":2,\"after\":\"1:2:3\"}",
	  PROTO_OP_SCORE_GET,
	  "1",
	  { "2026-11-01", "2026-12-01", "1", "2", "1:2:3" } },
	{ "{\"id\":1,\"op\":\"score_get\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\"}",
	  PROTO_OP_SCORE_GET,
	  "1",
	  { "2026-11-01", "2026-12-01", NULL } },
	{ "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\",\"score\":92.5,\"comment\":\"及时\"}",
	  PROTO_OP_SCORE_SET,
	  "1",
	  { "2026-11-01", "2026-12-01", "2", "response", "92.5", "及时" } },
	/* the wire's numbers are doubles: SQL rounds to 2 decimals (and refuses more) */
	{ "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\",\"score\":92.35}",
	  PROTO_OP_SCORE_SET,
	  "1",
	  { "2026-11-01", "2026-12-01", "2", "response", "92.349999999999994", NULL } },
	{ "{\"id\":1,\"op\":\"score_set\",\"from\":\"x\",\"to\":\"y\",\"department\":2,"
	  "\"criterion\":\"r\",\"score\":0}",
	  PROTO_OP_SCORE_SET,
	  "1",
	  { "x", "y", "2", "r", "0", NULL } },
	{ "{\"id\":1,\"op\":\"period_lock\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\"}",
	  PROTO_OP_PERIOD_LOCK,
	  "1",
	  { "2026-11-01", "2026-12-01" } },
	{ "{\"id\":1,\"op\":\"criteria\"}", PROTO_OP_CRITERIA, "1", { NULL } },
	{ "{\"id\":1,\"op\":\"calendar\",\"to\":\"2027-01-01\"}",
	  PROTO_OP_CALENDAR,
	  "1",
	  { NULL, "2027-01-01" } },
	{ "{\"id\":1,\"op\":\"audit_events\",\"after\":0,\"limit\":5000}",
	  PROTO_OP_AUDIT_EVENTS,
	  "1",
	  { "0", "5000" } },
	{ "{\"id\":1,\"op\":\"audit_checkpoints\"}", PROTO_OP_AUDIT_CHECKPOINTS, "1", { NULL } },
	{ "{\"id\":1,\"op\":\"export\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"after\":9007199254740991,\"limit\":1000}",
	  PROTO_OP_EXPORT,
	  "1",
	  { "2026-11-01", "2026-12-01", "9007199254740991", "1000" } },
	{ "{\"id\":1,\"op\":\"export\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\"}",
	  PROTO_OP_EXPORT,
	  "1",
	  { "2026-11-01", "2026-12-01", NULL, NULL, NULL } },
	{ "{\"id\":1,\"op\":\"export\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"after\":5,\"upto\":6000}",
	  PROTO_OP_EXPORT,
	  "1",
	  { "2026-11-01", "2026-12-01", "5", NULL, "6000" } },
	{ "{\"id\":1,\"op\":\"bulletin\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\"}",
	  PROTO_OP_BULLETIN,
	  "1",
	  { "2026-11-01", "2026-12-01" } },
	/* framing: surrounding whitespace, one "\r" stripped, "\r" is JSON whitespace */
	{ " \t{ \"id\" : 5 , \"op\" : \"whoami\" } \t", PROTO_OP_WHOAMI, "5", { NULL } },
	{ "{\"id\":5,\"op\":\"whoami\"}\r", PROTO_OP_WHOAMI, "5", { NULL } },
	{ "{\"id\":5,\"op\":\"whoami\"}\r\r", PROTO_OP_WHOAMI, "5", { NULL } },
	/* ids: escaped characters are echoed as JSON text */
	{ "{\"id\":\"a\\\"b\\\\c/\\u00e9\",\"op\":\"whoami\"}",
	  PROTO_OP_WHOAMI,
	  "\"a\\\"b\\\\c/\xc3\xa9\"",
	  { NULL } },
	{ "{\"id\":\"中文编号\",\"op\":\"whoami\"}", PROTO_OP_WHOAMI, "\"中文编号\"", { NULL } },
	/* -0 is the integer 0 */
	{ "{\"id\":-0,\"op\":\"photo_get\",\"photo\":1,\"offset\":-0}",
	  PROTO_OP_PHOTO_GET,
	  "0",
	  { "1", "0", NULL } },
	/* timestamps */
	{ "{\"id\":1,\"op\":\"list\",\"from\":\"2024-02-29T23:59:59.123456789Z\","
	  "\"to\":\"2000-02-29T00:00:00-00:00\"}",
	  PROTO_OP_LIST,
	  "1",
	  { NULL, NULL, NULL, NULL, NULL, NULL, "2024-02-29T23:59:59.123456789Z",
	    "2000-02-29T00:00:00-00:00", NULL, NULL } },
	/* 8 levels of nesting pass the syntax check (then "x" is unknown: see bad_cases) */
};

START_TEST(test_good)
{
	struct proto_request r;
	char err[256] = "untouched";
	int rc;
	const char *line = good_cases[_i].line;
	const struct proto_op_spec *spec;

	rc = proto_decode(line, strlen(line), &r, err, sizeof(err));
	ck_assert_msg(rc == PROTO_OK, "case %d: %s -> %d %s", _i, line, rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(r.op, good_cases[_i].op);
	ck_assert_str_eq(r.id, good_cases[_i].id);
	spec = proto_op_spec(r.op);
	ck_assert_ptr_nonnull(spec);
	ck_assert_int_eq(r.nparams, spec->nfields);
	for (int i = 0; i < PROTO_MAX_FIELDS; i++) {
		const char *want = good_cases[_i].params[i];

		if (!want) {
			ck_assert_msg(r.params[i] == NULL, "case %d param %d: want NULL, got %s",
			              _i, i, r.params[i]);
		} else {
			ck_assert_msg(r.params[i] != NULL, "case %d param %d: want %s, got NULL",
			              _i, i, want);
			ck_assert_str_eq(r.params[i], want);
		}
	}
	proto_request_free(&r);
	ck_assert_ptr_null(r.root);
	proto_request_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Refused requests: code, a substring of the message, and the id echoed. */

static const struct {
	const char *what;
	const char *line;
	size_t len; /* 0: strlen(line) */
	int code;
	const char *msg;
	const char *id;
} bad_cases[] = {
	/* duplicate keys */
	{ "dup field", "{\"id\":1,\"op\":\"accept\",\"ticket\":1,\"ticket\":2,\"version\":1}", 0,
	  PROTO_ERR_BAD_REQUEST, "duplicate key \"ticket\"", "1" },
	{ "dup id", "{\"id\":1,\"op\":\"whoami\",\"id\":2}", 0, PROTO_ERR_BAD_REQUEST,
	  "duplicate key \"id\"", "null" },
	{ "dup id same", "{\"id\":1,\"id\":1,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "duplicate key \"id\"", "null" },
	{ "dup op", "{\"id\":4,\"op\":\"whoami\",\"op\":\"get\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "duplicate key \"op\"", "4" },
	{ "dup escaped", "{\"id\":4,\"op\":\"whoami\",\"o\\u0070\":\"x\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "duplicate key \"op\"", "4" },
	{ "dup escaped non-ascii", "{\"id\":4,\"op\":\"whoami\",\"é\":1,\"\\u00e9\":2}", 0,
	  PROTO_ERR_BAD_REQUEST, "duplicate key \"é\"", "4" },
	{ "dup nested", "{\"id\":4,\"op\":\"report\",\"photos\":[{\"a\":1,\"a\":2}]}", 0,
	  PROTO_ERR_BAD_REQUEST, "duplicate key in a nested object", "4" },
	{ "dup in dropped value", "{\"id\":4,\"x\":{\"a\":1,\"a\":2},\"x\":1,\"op\":\"whoami\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "duplicate key \"x\"", "4" },
	/* numbers json-c would accept */
	{ "NaN", "{\"id\":3,\"op\":\"get\",\"ticket\":NaN}", 0, PROTO_ERR_BAD_REQUEST,
	  "NaN and Infinity", "3" },
	{ "Infinity", "{\"id\":3,\"op\":\"report\",\"lat\":Infinity}", 0, PROTO_ERR_BAD_REQUEST,
	  "NaN and Infinity", "3" },
	{ "-Infinity", "{\"id\":3,\"op\":\"report\",\"lat\":-Infinity}", 0, PROTO_ERR_BAD_REQUEST,
	  "NaN and Infinity", "3" },
	{ "1e400 int", "{\"id\":3,\"op\":\"get\",\"ticket\":1e400}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer", "3" },
	{ "1e400 lat",
	  "{\"id\":3,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\","
	  "\"lat\":1e400,\"lon\":0}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"lat\" must be a number from -90 to 90", "3" },
	{ "2^63", "{\"id\":3,\"op\":\"get\",\"ticket\":9223372036854775808}", 0,
	  PROTO_ERR_BAD_REQUEST, "integer out of range at byte 28", "3" },
	{ "-2^63-1", "{\"id\":3,\"op\":\"get\",\"ticket\":-9223372036854775809}", 0,
	  PROTO_ERR_BAD_REQUEST, "integer out of range", "3" },
	{ "-2^63", "{\"id\":3,\"op\":\"get\",\"ticket\":-9223372036854775808}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"ticket\" must be an integer ≥ 1", "3" },
	{ "2^64", "{\"id\":3,\"op\":\"get\",\"ticket\":18446744073709551616}", 0,
	  PROTO_ERR_BAD_REQUEST, "integer out of range", "3" },
	{ "huge", "{\"id\":3,\"op\":\"get\",\"ticket\":1000000000000000000000000000000}", 0,
	  PROTO_ERR_BAD_REQUEST, "integer out of range", "3" },
	{ "huge nested", "{\"id\":3,\"op\":\"report\",\"photos\":[99999999999999999999]}", 0,
	  PROTO_ERR_BAD_REQUEST, "integer out of range", "3" },
	{ "2^53", "{\"id\":3,\"op\":\"get\",\"ticket\":9007199254740992}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer ≥ 1", "3" },
	{ "ticket -1", "{\"id\":3,\"op\":\"get\",\"ticket\":-1}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer ≥ 1", "3" },
	{ "ticket 0", "{\"id\":3,\"op\":\"get\",\"ticket\":0}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer ≥ 1", "3" },
	{ "version 1.5", "{\"id\":3,\"op\":\"accept\",\"ticket\":1,\"version\":1.5}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"version\" must be an integer ≥ 1", "3" },
	{ "version 1.0", "{\"id\":3,\"op\":\"accept\",\"ticket\":1,\"version\":1.0}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"version\" must be an integer", "3" },
	{ "version 1e3", "{\"id\":3,\"op\":\"accept\",\"ticket\":1,\"version\":1e3}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"version\" must be an integer", "3" },
	{ "version int4", "{\"id\":3,\"op\":\"accept\",\"ticket\":1,\"version\":2147483648}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"version\" must be an integer ≥ 1", "3" },
	{ "leading zero", "{\"id\":3,\"op\":\"get\",\"ticket\":01}", 0, PROTO_ERR_BAD_REQUEST,
	  "leading zeros", "null" },
	{ "minus leading zero", "{\"id\":3,\"op\":\"get\",\"ticket\":-01}", 0,
	  PROTO_ERR_BAD_REQUEST, "leading zeros", "3" },
	{ "1.", "{\"id\":3,\"op\":\"get\",\"ticket\":1.}", 0, PROTO_ERR_BAD_REQUEST,
	  "invalid number", "3" },
	{ ".5", "{\"id\":3,\"op\":\"get\",\"ticket\":.5}", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected character", "null" },
	{ "+1", "{\"id\":3,\"op\":\"get\",\"ticket\":+1}", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected character", "null" },
	{ "1e", "{\"id\":3,\"op\":\"get\",\"ticket\":1e}", 0, PROTO_ERR_BAD_REQUEST,
	  "invalid number", "null" },
	/* strings */
	{ "\\u0000", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"a\\u0000b\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "\\u0000 is not allowed", "3" },
	{ "\\u0000 in key", "{\"id\":3,\"op\":\"whoami\",\"\\u0000\":1}", 0, PROTO_ERR_BAD_REQUEST,
	  "\\u0000 is not allowed", "3" },
	{ "\\u0000 in id", "{\"id\":\"\\u0000\",\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "\\u0000 is not allowed", "null" },
	{ "invalid UTF-8 ff", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xff\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "null" },
	{ "truncated UTF-8", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xe5\xa4\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "null" },
	{ "lone continuation", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\x80\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "null" },
	{ "overlong 2", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xc0\xaf\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8 at byte 42", "3" },
	{ "overlong 3", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xe0\x80\xaf\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "3" },
	{ "overlong 4", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xf0\x80\x80\xaf\"}",
	  0, PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "3" },
	{ "UTF-8 surrogate", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xed\xa0\x80\"}",
	  0, PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "3" },
	{ "above U+10FFFF",
	  "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\xf4\x90\x80\x80\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid UTF-8", "3" },
	{ "overlong in id", "{\"id\":\"\xc0\xaf\",\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "invalid UTF-8", "null" },
	{ "lone high surrogate", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\\ud800\"}",
	  0, PROTO_ERR_BAD_REQUEST, "unpaired surrogate", "3" },
	{ "lone low surrogate", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\\udc00x\"}",
	  0, PROTO_ERR_BAD_REQUEST, "unpaired surrogate", "3" },
	{ "high then not low",
	  "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\\ud800\\u0041\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "unpaired surrogate", "3" },
	{ "bad \\u", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\\u12g4\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid \\u escape", "null" },
	{ "bad escape", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\\x41\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "invalid escape", "null" },
	{ "raw tab", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"a\tb\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "raw control character", "3" },
	{ "raw 0x01", "{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"\x01\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "raw control character", "3" },
	{ "raw newline in key", "{\"id\":3,\"op\":\"whoami\",\"a\nb\":1}", 0, PROTO_ERR_BAD_REQUEST,
	  "raw control character", "3" },
	{ "raw NUL in string", RAW("{\"id\":3,\"op\":\"comment\",\"ticket\":1,\"text\":\"a\0b\"}"),
	  PROTO_ERR_BAD_REQUEST, "raw control character", "null" },
	{ "single-quoted value", "{\"id\":3,\"op\":'whoami'}", 0, PROTO_ERR_BAD_REQUEST,
	  "single-quoted strings are not allowed", "null" },
	{ "single-quoted key", "{'id':3,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "single-quoted strings are not allowed", "3" },
	{ "unterminated", "{\"id\":3,\"op\":\"whoami", 0, PROTO_ERR_BAD_REQUEST,
	  "unterminated string", "null" },
	/* structure */
	{ "trailing garbage", "{\"id\":3,\"op\":\"whoami\"}x", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected bytes after the JSON value", "null" },
	{ "two objects", "{\"id\":3,\"op\":\"whoami\"}{}", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected bytes after the JSON value at byte 22", "null" },
	{ "trailing NUL", RAW("{\"id\":3,\"op\":\"whoami\"}\0"), PROTO_ERR_BAD_REQUEST,
	  "unexpected bytes after the JSON value", "3" },
	{ "NUL then junk", RAW("{\"id\":3,\"op\":\"whoami\"}\0junk"), PROTO_ERR_BAD_REQUEST,
	  "unexpected bytes after the JSON value", "3" },
	{ "\\r inside", "{\"id\":3,\"op\":\"whoami\"}\rx", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected bytes", "null" },
	{ "array root", "[]", 0, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object", "null" },
	{ "string root", "\"x\"", 0, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object",
	  "null" },
	{ "null root", "null", 0, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object",
	  "null" },
	{ "number root", "7", 0, PROTO_ERR_BAD_REQUEST, "a request must be a JSON object", "null" },
	{ "empty", "", 0, PROTO_ERR_BAD_REQUEST, "empty request", "null" },
	{ "only \\r", "\r", 0, PROTO_ERR_BAD_REQUEST, "empty request", "null" },
	{ "only spaces", "   ", 0, PROTO_ERR_BAD_REQUEST, "empty request", "null" },
	{ "open brace", "{", 0, PROTO_ERR_BAD_REQUEST, "unexpected end of input", "null" },
	{ "trailing comma", "{\"id\":3,\"op\":\"whoami\",}", 0, PROTO_ERR_BAD_REQUEST,
	  "expected a quoted key", "null" },
	{ "array trailing comma", "{\"id\":3,\"op\":\"report\",\"photos\":[1,]}", 0,
	  PROTO_ERR_BAD_REQUEST, "unexpected character", "null" },
	{ "missing colon", "{\"id\" 3}", 0, PROTO_ERR_BAD_REQUEST, "expected ':'", "null" },
	{ "bare word", "{\"id\":3,\"op\":\"get\",\"ticket\":tru}", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected character", "null" },
	{ "TRUE", "{\"id\":3,\"op\":\"whoami\",\"x\":TRUE}", 0, PROTO_ERR_BAD_REQUEST,
	  "unexpected character", "null" },
	{ "depth 9", "{\"id\":3,\"op\":\"whoami\",\"x\":[[[[[[[[1]]]]]]]]}", 0,
	  PROTO_ERR_BAD_REQUEST, "nesting deeper than 8 levels", "null" },
	{ "depth 9 objects",
	  "{\"id\":3,\"op\":\"whoami\",\"x\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
	  "{}}}}}}}}}",
	  0, PROTO_ERR_BAD_REQUEST, "nesting deeper than 8 levels", "3" },
	{ "depth 8 is syntax", "{\"id\":3,\"op\":\"whoami\",\"x\":[[[[[[[1]]]]]]]}", 0,
	  PROTO_ERR_BAD_REQUEST, "unknown field \"x\" for op \"whoami\"", "3" },
	{ "33 keys",
	  "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,"
	  "\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"o\":1,\"p\":1,\"q\":1,\"r\":1,\"s\":1,\"t\":1,"
	  "\"u\":1,\"v\":1,\"w\":1,\"x\":1,\"y\":1,\"z\":1,\"A\":1,\"B\":1,\"C\":1,\"D\":1,"
	  "\"id\":1,\"op\":\"whoami\",\"E\":1}",
	  0, PROTO_ERR_BAD_REQUEST, "more than 32 fields", "1" },
	/* id and op */
	{ "no id", "{\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST, "field \"id\" is required",
	  "null" },
	{ "id -1", "{\"id\":-1,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id 2^53", "{\"id\":9007199254740992,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id 1.5", "{\"id\":1.5,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id empty", "{\"id\":\"\",\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id 65 bytes",
	  "{\"id\":\"12345678901234567890123456789012345678901234567890123456789012345\","
	  "\"op\":\"whoami\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"id\" must be", "null" },
	{ "id control", "{\"id\":\"a\\tb\",\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id null", "{\"id\":null,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "id bool", "{\"id\":true,\"op\":\"whoami\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"id\" must be", "null" },
	{ "no op", "{\"id\":\"q\"}", 0, PROTO_ERR_BAD_REQUEST, "field \"op\" is required",
	  "\"q\"" },
	{ "op number", "{\"id\":1,\"op\":3}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"op\" must be a string", "1" },
	{ "unknown op", "{\"id\":1,\"op\":\"delete\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "unknown op \"delete\"", "1" },
	{ "op case", "{\"id\":1,\"op\":\"WHOAMI\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "unknown op \"WHOAMI\"", "1" },
	{ "unknown field", "{\"id\":1,\"op\":\"accept\",\"ticket\":1,\"verison\":2}", 0,
	  PROTO_ERR_BAD_REQUEST, "unknown field \"verison\" for op \"accept\"", "1" },
	{ "field of another op", "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"version\":2}", 0,
	  PROTO_ERR_BAD_REQUEST, "unknown field \"version\" for op \"get\"", "1" },
	{ "missing required", "{\"id\":1,\"op\":\"accept\",\"ticket\":1}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"version\" is required", "1" },
	{ "null required", "{\"id\":1,\"op\":\"accept\",\"ticket\":1,\"version\":null}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"version\" is required", "1" },
	{ "missing first", "{\"id\":1,\"op\":\"report\",\"grid\":1,\"description\":\"d\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"category\" is required", "1" },
	/* a return names the department responsible */
	{ "return without department",
	  "{\"id\":1,\"op\":\"return\",\"ticket\":1,\"version\":2,\"reason\":\"r\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"department\" is required", "1" },
	{ "return department 0",
	  "{\"id\":1,\"op\":\"return\",\"ticket\":1,\"version\":2,\"reason\":\"r\","
	  "\"department\":0}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"department\" must be an integer", "1" },
	/* types and bounds */
	{ "ticket string", "{\"id\":1,\"op\":\"get\",\"ticket\":\"42\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer ≥ 1", "1" },
	{ "ticket bool", "{\"id\":1,\"op\":\"get\",\"ticket\":true}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer", "1" },
	{ "ticket array", "{\"id\":1,\"op\":\"get\",\"ticket\":[1]}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"ticket\" must be an integer", "1" },
	{ "urgent 1",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\",\"urgent\":"
	  "1}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"urgent\" must be true or false", "1" },
	{ "description number",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":5}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"description\" must be a string", "1" },
	{ "rating 6", "{\"id\":1,\"op\":\"confirm\",\"ticket\":1,\"version\":1,\"rating\":6}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"rating\" must be an integer from 1 to 5", "1" },
	{ "rating 0", "{\"id\":1,\"op\":\"confirm\",\"ticket\":1,\"version\":1,\"rating\":0}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"rating\" must be an integer from 1 to 5", "1" },
	{ "lat 91",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\",\"lat\":91}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"lat\" must be a number from -90 to 90", "1" },
	{ "lon -180.5",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\","
	  "\"lon\":-180.5}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"lon\" must be a number from -180 to 180", "1" },
	{ "lat string",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\","
	  "\"lat\":\"1\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"lat\" must be a number", "1" },
	{ "photos dup",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\","
	  "\"photos\":[1,2,1]}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"photos\" lists 1 twice", "1" },
	{ "photos 10",
	  "{\"id\":1,\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\","
	  "\"photos\":[1,2,3,4,5,6,7,8,9,10]}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"photos\" must be an array of 1 to 9", "1" },
	{ "photos empty",
	  "{\"id\":1,\"op\":\"resolve\",\"ticket\":1,\"version\":1,\"note\":\"n\",\"photos\":[]}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"photos\" must be an array", "1" },
	{ "photos 0",
	  "{\"id\":1,\"op\":\"resolve\",\"ticket\":1,\"version\":1,\"note\":\"n\",\"photos\":[0]}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"photos\" must be an array", "1" },
	{ "photos 1.5",
	  "{\"id\":1,\"op\":\"resolve\",\"ticket\":1,\"version\":1,\"note\":\"n\","
	  "\"photos\":[1.5]}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"photos\" must be an array", "1" },
	{ "photos not array",
	  "{\"id\":1,\"op\":\"resolve\",\"ticket\":1,\"version\":1,\"note\":\"n\",\"photos\":1}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"photos\" must be an array", "1" },
	{ "key empty", "{\"id\":1,\"op\":\"accept\",\"ticket\":1,\"version\":1,\"key\":\"\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"key\" must have 1 to 100 characters", "1" },
	{ "state unknown", "{\"id\":1,\"op\":\"list\",\"state\":\"open\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"state\" must be one of reported", "1" },
	{ "state number", "{\"id\":1,\"op\":\"list\",\"state\":1}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"state\" must be one of", "1" },
	{ "score 100.01",
	  "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\",\"score\":100.01}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"score\" must be a number from 0 to 100", "1" },
	{ "score -1",
	  "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\",\"score\":-1}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"score\" must be a number from 0 to 100", "1" },
	{ "score string",
	  "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\",\"score\":\"90\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"score\" must be a number", "1" },
	{ "score missing",
	  "{\"id\":1,\"op\":\"score_set\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"department\":2,\"criterion\":\"response\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"score\" is required", "1" },
	{ "period from missing", "{\"id\":1,\"op\":\"period_lock\",\"to\":\"2026-12-01\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"from\" is required", "1" },
	{ "period from number",
	  "{\"id\":1,\"op\":\"period_lock\",\"from\":20261101,\"to\":\"2026-12-01\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"from\" must be a string", "1" },
	{ "period to long",
	  "{\"id\":1,\"op\":\"score_get\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01T00\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"to\" is longer than 10 characters", "1" },
	{ "score cursor junk",
	  "{\"id\":1,\"op\":\"score_get\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"after\":\"1;2\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"after\"", "1" },
	{ "limit 0", "{\"id\":1,\"op\":\"list\",\"limit\":0}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"limit\" must be an integer from 1 to 200", "1" },
	{ "limit 201", "{\"id\":1,\"op\":\"overdue\",\"limit\":201}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"limit\" must be an integer from 1 to 200", "1" },
	{ "audit limit 5001", "{\"id\":1,\"op\":\"audit_events\",\"limit\":5001}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"limit\" must be an integer from 1 to 5000", "1" },
	{ "audit after -1", "{\"id\":1,\"op\":\"audit_checkpoints\",\"after\":-1}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be an integer ≥ 0", "1" },
	{ "get after negative", "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"after\":-1}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be an integer ≥ 0", "1" },
	{ "get after string", "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"after\":\"5\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be an integer", "1" },
	{ "get after fraction", "{\"id\":1,\"op\":\"get\",\"ticket\":1,\"after\":1.5}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be an integer", "1" },
	{ "list after string", "{\"id\":1,\"op\":\"list\",\"after\":\"5\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be an integer", "1" },
	{ "cursor space", "{\"id\":1,\"op\":\"overdue\",\"after\":\"a b\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"after\" must be a cursor", "1" },
	{ "cursor empty", "{\"id\":1,\"op\":\"overdue\",\"after\":\"\"}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"after\" must be a cursor", "1" },
	{ "cursor number", "{\"id\":1,\"op\":\"overdue\",\"after\":5}", 0, PROTO_ERR_BAD_REQUEST,
	  "field \"after\" must be a cursor", "1" },
	{ "sha256 upper",
	  "{\"id\":1,\"op\":\"photo_begin\",\"size\":1,"
	  "\"sha256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"sha256\" must be 64 lower-case hex digits", "1" },
	{ "sha256 63",
	  "{\"id\":1,\"op\":\"photo_begin\",\"size\":1,"
	  "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"sha256\" must be 64", "1" },
	{ "size 0",
	  "{\"id\":1,\"op\":\"photo_begin\",\"size\":0,"
	  "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"size\" must be an integer ≥ 1", "1" },
	{ "size 2^31",
	  "{\"id\":1,\"op\":\"photo_begin\",\"size\":2147483648,"
	  "\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"size\" must be an integer ≥ 1", "1" },
	{ "base64 alphabet",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"ab$d\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 url alphabet",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"ab-_\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 length",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"abcde\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 unpadded",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"abcdef\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 inner pad",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"ab=d\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 pad then data",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"ab==abcd\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 three pads",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"a===\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "base64 empty",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0,\"data\":\"\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"data\" must be padded base64", "1" },
	{ "offset -1",
	  "{\"id\":1,\"op\":\"photo_chunk\",\"upload\":1,\"offset\":-1,\"data\":\"abcd\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"offset\" must be an integer ≥ 0", "1" },
	{ "stats unknown group",
	  "{\"id\":1,\"op\":\"stats\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"group\":\"city\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"group\" must be one of department", "1" },
	{ "stats without group",
	  "{\"id\":1,\"op\":\"stats\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"group\" is required", "1" },
	{ "ranking by grid",
	  "{\"id\":1,\"op\":\"ranking\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"group\":\"grid\"}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"group\" must be one of department", "1" },
	{ "ranking top 0",
	  "{\"id\":1,\"op\":\"ranking\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"group\":\"street\",\"top\":0}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"top\" must be an integer from 1 to 50", "1" },
	{ "export limit 1001",
	  "{\"id\":1,\"op\":\"export\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"limit\":1001}",
	  0, PROTO_ERR_BAD_REQUEST, "field \"limit\" must be an integer from 1 to 1000", "1" },
	{ "export upto 0",
	  "{\"id\":1,\"op\":\"export\",\"from\":\"2026-11-01\",\"to\":\"2026-12-01\","
	  "\"upto\":0}",
	  0, PROTO_ERR_BAD_REQUEST,
	  "field \"upto\" must be an integer ≥ 1 (at most 9007199254740991)", "1" },
	{ "bulletin without to", "{\"id\":1,\"op\":\"bulletin\",\"from\":\"2026-11-01\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"to\" is required", "1" },
	{ "length 32769", "{\"id\":1,\"op\":\"photo_get\",\"photo\":1,\"length\":32769}", 0,
	  PROTO_ERR_BAD_REQUEST, "field \"length\" must be an integer from 1 to 32768", "1" },
	/* messages quote client names cut short on a character boundary */
	{ "long op", "{\"id\":1,\"op\":\"一二三四五六七八九十一二三四五六七八九十\"}", 0,
	  PROTO_ERR_BAD_REQUEST, "unknown op \"一二三四五六七八九十一二三\"", "1" },
};

START_TEST(test_bad)
{
	struct proto_request r;
	char err[256];
	const char *line = bad_cases[_i].line;
	size_t len = bad_cases[_i].len ? bad_cases[_i].len : strlen(line);
	int rc;

	rc = proto_decode(line, len, &r, err, sizeof(err));
	ck_assert_msg(rc == bad_cases[_i].code, "%s: got %d (%s), want %d", bad_cases[_i].what, rc,
	              err, bad_cases[_i].code);
	ck_assert_msg(strstr(err, bad_cases[_i].msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
	              bad_cases[_i].what, err, bad_cases[_i].msg);
	ck_assert_msg(strcmp(r.id, bad_cases[_i].id) == 0, "%s: id %s, want %s", bad_cases[_i].what,
	              r.id, bad_cases[_i].id);
	proto_request_free(&r);
	proto_request_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Timestamps, through extend_request's "until". */

static const struct {
	const char *ts;
	bool ok;
} ts_cases[] = {
	{ "2026-12-01T17:00:00+08:00", true },
	{ "2026-12-01 17:00:00Z", true },
	{ "2024-02-29T00:00:00Z", true },
	{ "2000-02-29T00:00:00Z", true },
	{ "0001-01-01T00:00:00Z", true },
	{ "9999-12-31T23:59:59.999999999+23:59", true },
	{ "2026-06-30T12:00:00.1-12:00", true },
	{ "2026-02-30T00:00:00Z", false },
	{ "2026-02-29T00:00:00Z", false },
	{ "1900-02-29T00:00:00Z", false },
	{ "2026-04-31T00:00:00Z", false },
	{ "2026-13-01T00:00:00Z", false },
	{ "2026-00-01T00:00:00Z", false },
	{ "2026-01-00T00:00:00Z", false },
	{ "0000-01-01T00:00:00Z", false },
	{ "2026-12-01T24:00:00Z", false },
	{ "2026-12-01T23:60:00Z", false },
	{ "2026-12-01T23:59:60Z", false },
	{ "2026-12-01T17:00:00", false },
	{ "2026-12-01", false },
	{ "2026-12-01t17:00:00Z", false },
	{ "2026-12-01_17:00:00Z", false },
	{ "2026-12-01T17:00:00z", false },
	{ "2026-12-01T17:00:00+0800", false },
	{ "2026-12-01T17:00:00+08", false },
	{ "2026-12-01T17:00:00+24:00", false },
	{ "2026-12-01T17:00:00+08:60", false },
	{ "2026-12-01T17:00:00.Z", false },
	{ "2026-12-01T17:00:00.1234567890Z", false },
	{ "2026-12-1T17:00:00Z", false },
	{ "2026-12-01T7:00:00Z", false },
	{ "+2026-12-01T17:00:00Z", false },
	{ "2026-12-01T17:00:00Z ", false },
	{ " 2026-12-01T17:00:00Z", false },
	{ "2026-12-01T17:00:00ZZ", false },
	{ "2026-12-01T17:00:00+08:00:00", false },
	{ "２０２６-12-01T17:00:00Z", false },
	{ "", false },
};

START_TEST(test_timestamp)
{
	char line[256], err[256];
	struct proto_request r;
	int rc;

	snprintf(line, sizeof(line),
	         "{\"id\":1,\"op\":\"extend_request\",\"ticket\":1,\"until\":\"%s\",\"reason\":"
	         "\"r\"}",
	         ts_cases[_i].ts);
	rc = proto_decode(line, strlen(line), &r, err, sizeof(err));
	if (ts_cases[_i].ok) {
		ck_assert_msg(rc == PROTO_OK, "%s refused: %s", ts_cases[_i].ts, err);
		ck_assert_str_eq(r.params[1], ts_cases[_i].ts);
	} else {
		ck_assert_msg(rc == PROTO_ERR_BAD_REQUEST, "%s accepted", ts_cases[_i].ts);
		ck_assert_ptr_nonnull(strstr(err, "field \"until\" must be an RFC 3339 timestamp"));
	}
	proto_request_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Lengths counted in characters */

/* A comment request whose text is n copies of unit. */
static char *text_request(const char *op_fields, const char *field, const char *unit, size_t n)
{
	size_t ulen = strlen(unit), cap = 256 + n * ulen;
	char *line = malloc(cap), *p;

	ck_assert_ptr_nonnull(line);
	p = line + snprintf(line, cap, "{\"id\":1,%s,\"%s\":\"", op_fields, field);
	for (size_t i = 0; i < n; i++, p += ulen)
		memcpy(p, unit, ulen);
	strcpy(p, "\"}");
	return line;
}

static const struct {
	const char *fields, *field, *unit;
	size_t n;
	bool ok;
} len_cases[] = {
	{ "\"op\":\"comment\",\"ticket\":1", "text", "x", 4000, true },
	{ "\"op\":\"comment\",\"ticket\":1", "text", "x", 4001, false },
	/* 4000 Chinese characters are 12000 bytes and fit */
	{ "\"op\":\"comment\",\"ticket\":1", "text", "中", 4000, true },
	{ "\"op\":\"comment\",\"ticket\":1", "text", "中", 4001, false },
	{ "\"op\":\"comment\",\"ticket\":1", "text", "😀", 4000, true },
	/* an escape counts as the one character it stands for */
	{ "\"op\":\"comment\",\"ticket\":1", "text", "\\u4e2d", 4000, true },
	{ "\"op\":\"comment\",\"ticket\":1", "text", "\\n", 4001, false },
	{ "\"op\":\"report\",\"category\":1,\"grid\":1", "description", "é", 4000, true },
	{ "\"op\":\"report\",\"category\":1,\"grid\":1", "description", "é", 4001, false },
	{ "\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\"", "address", "路", 400,
	  true },
	{ "\"op\":\"report\",\"category\":1,\"grid\":1,\"description\":\"d\"", "address", "路", 401,
	  false },
	{ "\"op\":\"accept\",\"ticket\":1,\"version\":1", "key", "键", 100, true },
	{ "\"op\":\"accept\",\"ticket\":1,\"version\":1", "key", "k", 101, false },
	{ "\"op\":\"list\"", "text", "噪", 100, true },
	{ "\"op\":\"list\"", "text", "噪", 101, false },
	{ "\"op\":\"overdue\"", "after", "a", 100, true },
	{ "\"op\":\"overdue\"", "after", "a", 101, false },
	{ "\"op\":\"return\",\"ticket\":1,\"version\":1", "reason", "x", 4001, false },
	{ "\"op\":\"confirm\",\"ticket\":1,\"version\":1,\"rating\":1", "comment", "x", 4001,
	  false },
	/* base64: 43692 characters at most, and at most 32768 bytes once decoded */
	{ "\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0", "data", "AAAA", 10922, true },
	{ "\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0", "data", "AAAA", 10923, false },
	{ "\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0", "data", "AAAA", 10924, false },
};

START_TEST(test_lengths)
{
	char *line = text_request(len_cases[_i].fields, len_cases[_i].field, len_cases[_i].unit,
	                          len_cases[_i].n);
	char err[256];
	struct proto_request r;
	int rc = proto_decode(line, strlen(line), &r, err, sizeof(err));

	if (len_cases[_i].ok) {
		ck_assert_msg(rc == PROTO_OK, "%s x%zu refused: %s", len_cases[_i].field,
		              len_cases[_i].n, err);
	} else {
		ck_assert_msg(rc == PROTO_ERR_BAD_REQUEST, "%s x%zu accepted", len_cases[_i].field,
		              len_cases[_i].n);
		ck_assert_msg(strstr(err, len_cases[_i].field) != NULL, "%s", err);
	}
	proto_request_free(&r);
	free(line);
}
END_TEST

/* The largest chunk, 32768 bytes: 43692 characters ending in one '='. */
START_TEST(test_base64_largest)
{
	char *line = text_request("\"op\":\"photo_chunk\",\"upload\":1,\"offset\":0", "data",
	                          "AAAA", 10923);
	char err[256], *pad;
	struct proto_request r;

	pad = strstr(line, "\"}");
	pad[-1] = '=';
	ck_assert_int_eq(proto_decode(line, strlen(line), &r, err, sizeof(err)), PROTO_OK);
	ck_assert_uint_eq(strlen(r.params[2]), 43692);
	proto_request_free(&r);
	pad[-2] = '=';
	ck_assert_int_eq(proto_decode(line, strlen(line), &r, err, sizeof(err)), PROTO_OK);
	proto_request_free(&r);
	free(line);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Misc decoding behaviour */

START_TEST(test_err_buffer)
{
	static const char line[] = "{\"id\":1,\"op\":\"accept\",\"ticket\":1,\"verison\":2}";
	struct proto_request r;
	char err[12];

	/* No message buffer at all. */
	ck_assert_int_eq(proto_decode(line, strlen(line), &r, NULL, 0), PROTO_ERR_BAD_REQUEST);
	ck_assert_str_eq(r.id, "1");
	proto_request_free(&r);
	/* A short one: cut, NUL-terminated. */
	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(proto_decode(line, strlen(line), &r, err, sizeof(err)),
	                 PROTO_ERR_BAD_REQUEST);
	ck_assert_str_eq(err, "unknown fie");
	proto_request_free(&r);
	/* Cut inside a multi-byte character: the whole character goes. */
	{
		static const char op[] = "{\"id\":1,\"op\":\"中文\"}";
		char e2[18]; /* 17 bytes: "unknown op \"中" and 2 of 文's 3 */

		ck_assert_int_eq(proto_decode(op, strlen(op), &r, e2, sizeof(e2)),
		                 PROTO_ERR_BAD_REQUEST);
		ck_assert_str_eq(e2, "unknown op \"中");
		proto_request_free(&r);
		ck_assert_int_eq(proto_decode(op, strlen(op), &r, e2, 15), PROTO_ERR_BAD_REQUEST);
		ck_assert_str_eq(e2, "unknown op \"");
		proto_request_free(&r);
	}
}
END_TEST

START_TEST(test_not_nul_terminated)
{
	/* The decoder reads exactly len bytes: the line need not end with a NUL. */
	static const char buf[] = "{\"id\":1,\"op\":\"get\",\"ticket\":42}{\"id\":2}";
	struct proto_request r;
	char err[128];

	ck_assert_int_eq(proto_decode(buf, 31, &r, err, sizeof(err)), PROTO_OK);
	ck_assert_str_eq(r.params[0], "42");
	proto_request_free(&r);
	ck_assert_int_eq(proto_decode(buf, 30, &r, err, sizeof(err)), PROTO_ERR_BAD_REQUEST);
	proto_request_free(&r);
}
END_TEST

START_TEST(test_free_zeroed)
{
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	proto_request_free(&r);
	proto_request_free(&r);
	proto_request_free(NULL);
}
END_TEST

/* Every line of a big request mix decodes well under the budget. */
START_TEST(test_speed)
{
	static const char line[] =
	        "{\"id\":1234,\"op\":\"dispatch\",\"ticket\":42,\"version\":3,\"department\":2,"
	        "\"note\":\"请尽快处理夜间施工噪声\",\"key\":\"d-20261127-42-3\"}";
	const int rounds = 20000;
	struct proto_request r;
	struct timespec a, b;
	char err[128];
	double us;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < rounds; i++) {
		ck_assert_int_eq(proto_decode(line, sizeof(line) - 1, &r, err, sizeof(err)),
		                 PROTO_OK);
		proto_request_free(&r);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / rounds;
	fprintf(stderr, "proto_decode: %.2f us per typical request\n", us);
	/* Generous: a few microseconds normally, slower under valgrind or sanitizers. */
	ck_assert_msg(us < 200.0, "%.2f us per request", us);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The op table */

static const struct {
	enum proto_op op;
	const char *name;
	bool action;
	const char *fields; /* the binding order: a contract with the SQL calls */
} op_cases[] = {
	{ PROTO_OP_WHOAMI, "whoami", false, "" },
	{ PROTO_OP_CATEGORIES, "categories", false, "" },
	{ PROTO_OP_DEPARTMENTS, "departments", false, "" },
	{ PROTO_OP_PLACES, "places", false, "boundaries" },
	{ PROTO_OP_REPORT, "report", true,
	  "category grid description address lat lon urgent photos urgent_reason key" },
	{ PROTO_OP_DISPATCH, "dispatch", true, "ticket version department note key" },
	{ PROTO_OP_RETURN, "return", true, "ticket version reason department key" },
	{ PROTO_OP_ACCEPT, "accept", true, "ticket version key" },
	{ PROTO_OP_RESOLVE, "resolve", true, "ticket version note photos key" },
	{ PROTO_OP_CONFIRM, "confirm", true, "ticket version rating comment key" },
	{ PROTO_OP_REOPEN, "reopen", true, "ticket version reason key" },
	{ PROTO_OP_CANCEL, "cancel", true, "ticket version reason duplicate_of key" },
	{ PROTO_OP_URGE, "urge", true, "ticket note version key" },
	{ PROTO_OP_EXTEND_REQUEST, "extend_request", true, "ticket until reason version key" },
	{ PROTO_OP_EXTEND_GRANT, "extend_grant", true, "ticket note version key" },
	{ PROTO_OP_EXTEND_DENY, "extend_deny", true, "ticket note version key" },
	{ PROTO_OP_COMMENT, "comment", true, "ticket text version key" },
	{ PROTO_OP_ARBITRATE, "arbitrate", true,
	  "ticket return_seq upheld note version department key" },
	{ PROTO_OP_GET, "get", false, "ticket after" },
	{ PROTO_OP_LIST, "list", false,
	  "state category grid department overdue text from to after limit" },
	{ PROTO_OP_OVERDUE, "overdue", false, "after limit" },
	{ PROTO_OP_ROUTE, "route", false, "ticket" },
	{ PROTO_OP_RETURNS, "returns", false, "after limit" },
	{ PROTO_OP_GRID_LOAD, "grid_load", false, "" },
	{ PROTO_OP_PHOTO_BEGIN, "photo_begin", false, "size sha256" },
	{ PROTO_OP_PHOTO_CHUNK, "photo_chunk", false, "upload offset data" },
	{ PROTO_OP_PHOTO_END, "photo_end", false, "upload" },
	{ PROTO_OP_PHOTO_GET, "photo_get", false, "photo offset length" },
	{ PROTO_OP_SUBSCRIBE, "subscribe", false, "since category grid state" },
	{ PROTO_OP_UNSUBSCRIBE, "unsubscribe", false, "" },
	{ PROTO_OP_STATS, "stats", false, "from to group series unit after" },
	{ PROTO_OP_RANKING, "ranking", false, "from to group top" },
	{ PROTO_OP_SCORE_GET, "score_get", false, "from to street department after" },
	{ PROTO_OP_SCORE_SET, "score_set", false, "from to department criterion score comment" },
	{ PROTO_OP_PERIOD_LOCK, "period_lock", false, "from to" },
	{ PROTO_OP_CRITERIA, "criteria", false, "" },
	{ PROTO_OP_AUDIT_EVENTS, "audit_events", false, "after limit" },
	{ PROTO_OP_AUDIT_CHECKPOINTS, "audit_checkpoints", false, "after limit" },
	{ PROTO_OP_EXPORT, "export", false, "from to after limit upto" },
	{ PROTO_OP_BULLETIN, "bulletin", false, "from to" },
	{ PROTO_OP_O311_SERVICES, "o311_services", false, "" },
	{ PROTO_OP_O311_SERVICE, "o311_service", false, "service_code" },
	{ PROTO_OP_O311_REQUESTS, "o311_requests", false,
	  "service_request_id service_code start_date end_date status" },
	{ PROTO_OP_O311_REQUEST, "o311_request", false, "service_request_id" },
	{ PROTO_OP_O311_POST, "o311_post", true,
	  "api_key service_code lat long address_string address_id email device_id account_id "
	  "first_name last_name phone description media_url attributes key" },
	{ PROTO_OP_CALENDAR, "calendar", false, "from to" },
};

START_TEST(test_op_table)
{
	const struct proto_op_spec *spec = proto_op_spec(op_cases[_i].op);
	enum proto_op op = PROTO_OP_NONE;
	char names[256] = "";

	ck_assert_ptr_nonnull(spec);
	ck_assert_int_eq(spec->op, op_cases[_i].op);
	ck_assert_str_eq(spec->name, op_cases[_i].name);
	ck_assert_str_eq(proto_op_name(op_cases[_i].op), op_cases[_i].name);
	ck_assert(proto_op_parse(op_cases[_i].name, &op));
	ck_assert_int_eq(op, op_cases[_i].op);
	ck_assert_int_eq(proto_op_is_action(op), op_cases[_i].action);
	ck_assert_int_eq(spec->action, op_cases[_i].action);
	ck_assert_int_le(spec->nfields, PROTO_MAX_FIELDS);
	for (int i = 0; i < spec->nfields; i++) {
		const struct proto_field *f = &spec->fields[i];

		if (i)
			strcat(names, " ");
		strcat(names, f->name);
		/* every action takes an idempotency key, last */
		if (spec->action && i == spec->nfields - 1)
			ck_assert_str_eq(f->name, "key");
		if (f->type == PROTO_T_ENUM)
			ck_assert_ptr_nonnull(f->choices);
		if (f->type != PROTO_T_BOOL && f->type != PROTO_T_TIMESTAMP &&
		    f->type != PROTO_T_ENUM && f->type != PROTO_T_NUMBER)
			ck_assert(f->min <= f->max);
	}
	ck_assert_str_eq(names, op_cases[_i].fields);
}
END_TEST

START_TEST(test_op_misc)
{
	enum proto_op op = PROTO_OP_GET;

	ck_assert_int_eq((int)N_ELEMS(op_cases), PROTO_OP_COUNT - 1);
	ck_assert_ptr_null(proto_op_spec(PROTO_OP_NONE));
	ck_assert_ptr_null(proto_op_spec(PROTO_OP_COUNT));
	ck_assert_ptr_null(proto_op_spec((enum proto_op) - 1));
	ck_assert_str_eq(proto_op_name(PROTO_OP_NONE), "none");
	ck_assert_str_eq(proto_op_name(PROTO_OP_COUNT), "none");
	ck_assert(!proto_op_is_action(PROTO_OP_NONE));
	/* the heavy reads, exactly these four, none of them an action */
	for (int i = PROTO_OP_NONE; i <= PROTO_OP_COUNT; i++) {
		enum proto_op o = (enum proto_op)i;
		bool heavy = o == PROTO_OP_STATS || o == PROTO_OP_RANKING ||
		             o == PROTO_OP_BULLETIN || o == PROTO_OP_EXPORT;

		ck_assert_msg(proto_op_is_heavy_read(o) == heavy, "%s", proto_op_name(o));
		ck_assert(!(heavy && proto_op_is_action(o)));
	}
	/* the public ops (no account needed over HTTPS): exactly the Open311 ones */
	for (int i = PROTO_OP_NONE; i <= PROTO_OP_COUNT; i++) {
		enum proto_op o = (enum proto_op)i;
		bool pub = o == PROTO_OP_O311_SERVICES || o == PROTO_OP_O311_SERVICE ||
		           o == PROTO_OP_O311_REQUESTS || o == PROTO_OP_O311_REQUEST ||
		           o == PROTO_OP_O311_POST;

		ck_assert_msg(proto_op_is_public(o) == pub, "%s", proto_op_name(o));
		if (pub)
			ck_assert_ptr_nonnull(proto_op_spec(o)->sql_func);
	}
	ck_assert(!proto_op_parse("delete", &op));
	ck_assert(!proto_op_parse("", &op));
	ck_assert(!proto_op_parse("none", &op));
	ck_assert_int_eq(op, PROTO_OP_GET);
}
END_TEST

START_TEST(test_error_names)
{
	static const char *const want[] = {
		"ok",           "bad_request", "unauthenticated", "forbidden",
		"not_found",    "bad_state",   "conflict",        "too_large",
		"rate_limited", "unavailable", "internal",
	};

	ck_assert_int_eq((int)N_ELEMS(want), PROTO_ERR_COUNT);
	for (int i = 0; i < PROTO_ERR_COUNT; i++)
		ck_assert_str_eq(proto_error_name((enum proto_error)i), want[i]);
	ck_assert_str_eq(proto_error_name(PROTO_ERR_COUNT), "internal");
	ck_assert_str_eq(proto_error_name((enum proto_error) - 1), "internal");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Replies */

START_TEST(test_format_error)
{
	char buf[512];
	size_t n;

	n = proto_format_error(buf, sizeof(buf), "7", PROTO_ERR_CONFLICT,
	                       "ticket 42 is at version 3, not 2; refresh and try again");
	ck_assert_str_eq(buf, "{\"id\":7,\"ok\":false,\"error\":{\"code\":\"conflict\","
	                      "\"message\":\"ticket 42 is at version 3, not 2; refresh and try "
	                      "again\"}}\n");
	ck_assert_uint_eq(n, strlen(buf));

	n = proto_format_error(buf, sizeof(buf), NULL, PROTO_ERR_BAD_REQUEST,
	                       "say \"hi\"\nback\\slash\ttab\x01\x1f\x7f/");
	ck_assert_str_eq(buf,
	                 "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"bad_request\","
	                 "\"message\":\"say \\\"hi\\\"\\nback\\\\slash\\ttab\\u0001\\u001f\x7f/"
	                 "\"}}\n");
	ck_assert_uint_eq(n, strlen(buf));

	n = proto_format_error(buf, sizeof(buf), "\"a\\\"b\"", PROTO_ERR_INTERNAL, NULL);
	ck_assert_str_eq(buf, "{\"id\":\"a\\\"b\",\"ok\":false,\"error\":{\"code\":\"internal\","
	                      "\"message\":\"\"}}\n");
	ck_assert_uint_eq(n, strlen(buf));

	/* invalid UTF-8 in a message (say, from a log) stays valid in the reply */
	proto_format_error(buf, sizeof(buf), "1", PROTO_ERR_INTERNAL, "a\xff\xc0\xafz");
	ck_assert_ptr_nonnull(strstr(buf, "\"message\":\"a\\ufffd\\ufffd\\ufffdz\""));
}
END_TEST

/* Parses a reply with json-c (strictly) and returns its message, or NULL. */
static char *reply_message(const char *buf, size_t n)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *o, *e, *m;
	char *msg = NULL;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)n);
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == n && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m))
		msg = strdup(json_object_get_string(m));
	json_object_put(o);
	json_tokener_free(tok);
	return msg;
}

static const char *const round_trip_messages[] = {
	"plain",
	"quote \" backslash \\ slash / newline \n cr \r tab \t bs \b ff \f bell \a esc \x1b",
	"中文消息：工单 42 的版本是 3，不是 2；请刷新后重试",
	"emoji 😀 and é",
	"",
};

START_TEST(test_round_trip)
{
	const char *msg = round_trip_messages[_i];
	char buf[1024];
	size_t full, n;
	char *got;

	full = proto_format_error(buf, sizeof(buf), "\"r-1\"", PROTO_ERR_NOT_FOUND, msg);
	ck_assert_uint_gt(full, 0);
	ck_assert_int_eq(buf[full - 1], '\n');
	got = reply_message(buf, full);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, msg);
	free(got);

	/* Every smaller buffer: either nothing, or a valid line with a prefix of the message. */
	for (size_t cap = 0; cap <= full + 1; cap++) {
		char small[1024];

		memset(small, 'Z', sizeof(small));
		n = proto_format_error(small, cap, "\"r-1\"", PROTO_ERR_NOT_FOUND, msg);
		ck_assert_uint_lt(n, cap > 0 ? cap : 1);
		ck_assert_int_eq(small[cap], 'Z'); /* nothing written past cap */
		if (cap > 0)
			ck_assert_uint_eq(strlen(small), n);
		if (n == 0)
			continue;
		ck_assert_int_eq(small[n - 1], '\n');
		got = reply_message(small, n);
		ck_assert_msg(got != NULL, "cap %zu: %s", cap, small);
		ck_assert_msg(strncmp(got, msg, strlen(got)) == 0, "cap %zu: %s", cap, got);
		free(got);
	}
	/* Room for the message-less reply and its NUL is the least: below it, 0. */
	n = proto_format_error(buf, sizeof(buf), "\"r-1\"", PROTO_ERR_NOT_FOUND, "");
	ck_assert_uint_eq(proto_format_error(buf, n, "\"r-1\"", PROTO_ERR_NOT_FOUND, msg), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(proto_format_error(buf, n + 1, "\"r-1\"", PROTO_ERR_NOT_FOUND, msg), n);
}
END_TEST

START_TEST(test_format_decoded_error)
{
	/* What the daemon does: decode, then reply with the id and message. */
	static const char line[] =
	        "{\"id\":\"x\\\"y\",\"op\":\"accept\",\"ticket\":1,\"verison\":2}";
	struct proto_request r;
	char err[256], buf[512];
	size_t n;
	int rc;
	char *got;

	rc = proto_decode(line, strlen(line), &r, err, sizeof(err));
	ck_assert_int_eq(rc, PROTO_ERR_BAD_REQUEST);
	n = proto_format_error(buf, sizeof(buf), r.id, (enum proto_error)rc, err);
	ck_assert_str_eq(buf,
	                 "{\"id\":\"x\\\"y\",\"ok\":false,\"error\":{\"code\":\"bad_request\","
	                 "\"message\":\"unknown field \\\"verison\\\" for op \\\"accept\\\"\"}}\n");
	got = reply_message(buf, n);
	ck_assert_str_eq(got, err);
	free(got);
	proto_request_free(&r);
}
END_TEST

START_TEST(test_ok_prefix)
{
	char buf[64];

	ck_assert_uint_eq(proto_format_ok_prefix(buf, sizeof(buf), "42"), 28);
	ck_assert_str_eq(buf, "{\"id\":42,\"ok\":true,\"result\":");
	ck_assert_uint_eq(proto_format_ok_prefix(buf, sizeof(buf), NULL), 30);
	ck_assert_str_eq(buf, "{\"id\":null,\"ok\":true,\"result\":");
	ck_assert_uint_eq(proto_format_ok_prefix(buf, 29, "42"), 28);
	ck_assert_uint_eq(proto_format_ok_prefix(buf, 28, "42"), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(proto_format_ok_prefix(buf, 0, "42"), 0);
}
END_TEST

START_TEST(test_escape)
{
	char buf[16];

	ck_assert_uint_eq(proto_json_escape(buf, sizeof(buf), "a\"b"), 4);
	ck_assert_str_eq(buf, "a\\\"b");
	/* no half escapes: a\" needs 3 bytes + NUL */
	ck_assert_uint_eq(proto_json_escape(buf, 3, "a\"b"), 1);
	ck_assert_str_eq(buf, "a");
	ck_assert_uint_eq(proto_json_escape(buf, 4, "a\"b"), 3);
	ck_assert_str_eq(buf, "a\\\"");
	/* no half characters */
	ck_assert_uint_eq(proto_json_escape(buf, 4, "中"), 3);
	ck_assert_uint_eq(proto_json_escape(buf, 3, "中"), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(proto_json_escape(buf, 7, "\x02"), 6);
	ck_assert_str_eq(buf, "\\u0002");
	ck_assert_uint_eq(proto_json_escape(buf, 6, "\x02"), 0);
	ck_assert_uint_eq(proto_json_escape(buf, 0, "x"), 0);
	/* a truncated sequence at the end of the string */
	ck_assert_uint_eq(proto_json_escape(buf, sizeof(buf), "a\xe4\xb8"), 13);
	ck_assert_str_eq(buf, "a\\ufffd\\ufffd");
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_good, 0, N_ELEMS(good_cases));
	tcase_add_loop_test(tc, test_bad, 0, N_ELEMS(bad_cases));
	tcase_add_loop_test(tc, test_timestamp, 0, N_ELEMS(ts_cases));
	tcase_add_loop_test(tc, test_lengths, 0, N_ELEMS(len_cases));
	tcase_add_test(tc, test_base64_largest);
	tcase_add_test(tc, test_err_buffer);
	tcase_add_test(tc, test_not_nul_terminated);
	tcase_add_test(tc, test_free_zeroed);
	tcase_add_test(tc, test_speed);
	tcase_add_loop_test(tc, test_op_table, 0, N_ELEMS(op_cases));
	tcase_add_test(tc, test_op_misc);
	tcase_add_test(tc, test_error_names);
	tcase_add_test(tc, test_format_error);
	tcase_add_loop_test(tc, test_round_trip, 0, N_ELEMS(round_trip_messages));
	tcase_add_test(tc, test_format_decoded_error);
	tcase_add_test(tc, test_ok_prefix);
	tcase_add_test(tc, test_escape);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
