/*
 * proto_ops: the op table (docs/protocol.md) and the names of ops and error
 * codes.  Field order is the SQL binding order: see proto.h.  Static
 * storage only; nothing here allocates.
 */
#include "proto.h"

#include <string.h>

static const char *const proto_states[] = {
	"reported", "dispatched", "accepted", "resolved", "closed", "cancelled", NULL,
};

#define F_INT(n, req, lo, hi)                                                                      \
	{                                                                                          \
		.name = (n), .type = PROTO_T_INT, .required = (req), .min = (lo), .max = (hi)      \
	}
/* A bigint id (ticket, event seq, photo, upload): 1 .. 2^53-1. */
#define F_ID(n, req) F_INT(n, req, 1, PROTO_INT_MAX)
/* An integer id or count the SQL side binds as "integer". */
#define F_ID4(n, req) F_INT(n, req, 1, PROTO_INT4_MAX)
#define F_TEXT(n, req, hi)                                                                         \
	{                                                                                          \
		.name = (n), .type = PROTO_T_TEXT, .required = (req), .min = 0, .max = (hi)        \
	}
#define F_BOOL(n, req)                                                                             \
	{                                                                                          \
		.name = (n), .type = PROTO_T_BOOL, .required = (req)                               \
	}
#define F_TS(n, req)                                                                               \
	{                                                                                          \
		.name = (n), .type = PROTO_T_TIMESTAMP, .required = (req)                          \
	}
#define F_NUM(n, lo, hi)                                                                           \
	{                                                                                          \
		.name = (n), .type = PROTO_T_NUMBER, .dmin = (lo), .dmax = (hi)                    \
	}
#define F_PHOTOS                                                                                   \
	{                                                                                          \
		.name = "photos", .type = PROTO_T_ID_ARRAY, .min = 1, .max = PROTO_MAX_PHOTOS      \
	}
#define F_KEY                                                                                      \
	{                                                                                          \
		.name = "key", .type = PROTO_T_TEXT, .min = 1, .max = 100                          \
	}
#define F_TICKET       F_ID("ticket", true)
#define F_VERSION(req) F_ID4("version", req)
#define F_LIMIT        F_INT("limit", false, 1, 200)

static const struct proto_field proto_f_report[] = {
	F_ID4("category", true),
	F_ID4("grid", true),
	F_TEXT("description", true, 4000),
	F_TEXT("address", false, 400),
	F_NUM("lat", -90.0, 90.0),
	F_NUM("lon", -180.0, 180.0),
	F_BOOL("urgent", false),
	F_PHOTOS,
	F_TEXT("urgent_reason", false, 4000),
	F_KEY,
};
static const struct proto_field proto_f_dispatch[] = {
	F_TICKET, F_VERSION(true), F_ID4("department", false), F_TEXT("note", false, 4000), F_KEY,
};
/* department: the one the returner believes responsible (required) */
static const struct proto_field proto_f_return[] = {
	F_TICKET, F_VERSION(true), F_TEXT("reason", true, 4000), F_ID4("department", true), F_KEY,
};
static const struct proto_field proto_f_accept[] = {
	F_TICKET,
	F_VERSION(true),
	F_KEY,
};
static const struct proto_field proto_f_resolve[] = {
	F_TICKET, F_VERSION(true), F_TEXT("note", true, 4000), F_PHOTOS, F_KEY,
};
static const struct proto_field proto_f_confirm[] = {
	F_TICKET, F_VERSION(true), F_INT("rating", true, 1, 5), F_TEXT("comment", false, 4000),
	F_KEY,
};
static const struct proto_field proto_f_reopen[] = {
	F_TICKET,
	F_VERSION(true),
	F_TEXT("reason", true, 4000),
	F_KEY,
};
static const struct proto_field proto_f_cancel[] = {
	F_TICKET, F_VERSION(true), F_TEXT("reason", false, 4000), F_ID("duplicate_of", false),
	F_KEY,
};
/* urge, extend_grant, extend_deny */
static const struct proto_field proto_f_note_only[] = {
	F_TICKET,
	F_TEXT("note", false, 4000),
	F_VERSION(false),
	F_KEY,
};
static const struct proto_field proto_f_extend_request[] = {
	F_TICKET, F_TS("until", true), F_TEXT("reason", true, 4000), F_VERSION(false), F_KEY,
};
static const struct proto_field proto_f_comment[] = {
	F_TICKET,
	F_TEXT("text", true, 4000),
	F_VERSION(false),
	F_KEY,
};
/* department: where an upheld return's ticket goes (default: the one the return named) */
static const struct proto_field proto_f_arbitrate[] = {
	F_TICKET,
	F_ID("return_seq", true),
	F_BOOL("upheld", true),
	F_TEXT("note", false, 4000),
	F_VERSION(false),
	F_ID4("department", false),
	F_KEY,
};
/* places: boundaries false leaves the grids' polygons out (a client's start-up
 * needs the names; only a map draws the polygons) */
static const struct proto_field proto_f_places[] = {
	F_BOOL("boundaries", false),
};
/* route */
static const struct proto_field proto_f_ticket_only[] = {
	F_TICKET,
};
/* after: the last event seq the client has; 0 (or none) reads from the start */
static const struct proto_field proto_f_get[] = {
	F_TICKET,
	F_INT("after", false, 0, PROTO_INT_MAX),
};
static const struct proto_field proto_f_list[] = {
	{ .name = "state", .type = PROTO_T_ENUM, .choices = proto_states },
	F_ID4("category", false),
	F_ID4("grid", false),
	F_ID4("department", false),
	F_BOOL("overdue", false),
	F_TEXT("text", false, 100),
	F_TS("from", false),
	F_TS("to", false),
	F_ID("after", false),
	F_LIMIT,
};
static const struct proto_field proto_f_overdue[] = {
	{ .name = "after", .type = PROTO_T_CURSOR, .min = 1, .max = 100 },
	F_LIMIT,
};
/* returns: after is the seq of the last return of the previous page */
static const struct proto_field proto_f_returns[] = {
	F_INT("after", false, 0, PROTO_INT_MAX),
	F_LIMIT,
};
static const struct proto_field proto_f_subscribe[] = {
	F_INT("since", false, 0, PROTO_INT_MAX),
	F_ID4("category", false),
	F_ID4("grid", false),
	{ .name = "state", .type = PROTO_T_ENUM, .choices = proto_states },
};
static const struct proto_field proto_f_photo_begin[] = {
	F_INT("size", true, 1, PROTO_INT4_MAX),
	{ .name = "sha256", .type = PROTO_T_SHA256, .required = true, .min = 64, .max = 64 },
};
static const struct proto_field proto_f_photo_chunk[] = {
	F_ID("upload", true),
	F_INT("offset", true, 0, PROTO_INT4_MAX),
	{ .name = "data", .type = PROTO_T_BASE64, .required = true, .min = 4, .max = 43692 },
};
static const struct proto_field proto_f_photo_end[] = {
	F_ID("upload", true),
};
static const struct proto_field proto_f_photo_get[] = {
	F_ID("photo", true),
	F_INT("offset", false, 0, PROTO_INT4_MAX),
	F_INT("length", false, 1, PROTO_CHUNK_MAX),
};
/* assessment: a period [from, to) of 'YYYY-MM-DD' days, checked in SQL */
static const char *const proto_groups[] = {
	"department", "street", "district", "category", "grid", NULL,
};
static const char *const proto_rank_groups[] = {
	"department",
	"street",
	NULL,
};
static const char *const proto_series[] = {
	"day",
	"week",
	"month",
	NULL,
};
static const struct proto_field proto_f_stats[] = {
	F_TEXT("from", true, 10),
	F_TEXT("to", true, 10),
	{ .name = "group", .type = PROTO_T_ENUM, .required = true, .choices = proto_groups },
	{ .name = "series", .type = PROTO_T_ENUM, .choices = proto_series },
	F_ID4("unit", false),
	F_INT("after", false, 0, PROTO_INT4_MAX),
};
static const struct proto_field proto_f_ranking[] = {
	F_TEXT("from", true, 10),
	F_TEXT("to", true, 10),
	{ .name = "group", .type = PROTO_T_ENUM, .required = true, .choices = proto_rank_groups },
	F_INT("top", false, 1, 50),
};

/* A period's bounds: 'YYYY-MM-DD' text, checked in SQL (st_score_period). */
#define F_DAY(n) F_TEXT(n, true, 10)
static const struct proto_field proto_f_score_get[] = {
	F_DAY("from"),
	F_DAY("to"),
	F_ID4("street", false),
	F_ID4("department", false),
	{ .name = "after", .type = PROTO_T_CURSOR, .min = 5, .max = 32 },
};
static const struct proto_field proto_f_score_set[] = {
	F_DAY("from"),
	F_DAY("to"),
	F_ID4("department", true),
	F_TEXT("criterion", true, 40),
	{ .name = "score", .type = PROTO_T_NUMBER, .required = true, .dmin = 0.0, .dmax = 100.0 },
	F_TEXT("comment", false, 4000),
};
static const struct proto_field proto_f_period_lock[] = {
	F_DAY("from"),
	F_DAY("to"),
};
/* after: the last seq (events) or checkpoint id the client has */
/* calendar: a span of days, both optional (15_calendar.sql gives the defaults) */
static const struct proto_field proto_f_calendar[] = {
	F_TEXT("from", false, 10),
	F_TEXT("to", false, 10),
};
static const struct proto_field proto_f_audit_events[] = {
	F_INT("after", false, 0, PROTO_INT_MAX),
	F_INT("limit", false, 1, 5000),
};
static const struct proto_field proto_f_audit_checkpoints[] = {
	F_INT("after", false, 0, PROTO_INT_MAX),
	F_INT("limit", false, 1, 100),
};
/* export pages by ticket id (st_export_page); limit as in SQL, 1..1000;
 * upto ends a window of ids (greater than after: SQL says so). */
static const struct proto_field proto_f_export[] = {
	F_DAY("from"),
	F_DAY("to"),
	F_INT("after", false, 0, PROTO_INT_MAX),
	F_INT("limit", false, 1, 1000),
	F_ID("upto", false),
};

/* Open311 (docs/open311.md).  Comma lists and statuses are checked in SQL
 * (88_open311.sql), which names the bad item. */
static const struct proto_field proto_f_o311_service[] = {
	F_TEXT("service_code", true, 60),
};
static const struct proto_field proto_f_o311_requests[] = {
	F_TEXT("service_request_id", false, 2000),
	F_TEXT("service_code", false, 2000),
	F_TS("start_date", false),
	F_TS("end_date", false),
	F_TEXT("status", false, 20),
};
static const struct proto_field proto_f_o311_request[] = {
	F_TEXT("service_request_id", true, 20),
};
/* key: streetd's idempotency key, not Open311's (the HTTP form has none) */
static const struct proto_field proto_f_o311_post[] = {
	F_TEXT("api_key", true, 100),
	F_TEXT("service_code", true, 60),
	F_NUM("lat", -90.0, 90.0),
	F_NUM("long", -180.0, 180.0),
	F_TEXT("address_string", false, 400),
	F_TEXT("address_id", false, 200),
	F_TEXT("email", false, 254),
	F_TEXT("device_id", false, 200),
	F_TEXT("account_id", false, 200),
	F_TEXT("first_name", false, 100),
	F_TEXT("last_name", false, 100),
	F_TEXT("phone", false, 40),
	F_TEXT("description", true, 4000),
	F_TEXT("media_url", false, 2000),
	F_TEXT("attributes", false, 20000),
	F_KEY,
};

/* fn: the database function the op calls (street.fn), NULL when the daemon
 * answers it itself; OPP: limits.max_photo is passed as the last argument. */
#define OPX(e, n, fn, act, f, mp)                                                                  \
	[e] = {                                                                                    \
		.name = (n),                                                                       \
		.op = (e),                                                                         \
		.action = (act),                                                                   \
		.nfields = (int)(sizeof(f) / sizeof((f)[0])),                                      \
		.fields = (f),                                                                     \
		.sql_func = (fn),                                                                  \
		.sql_max_photo = (mp),                                                             \
	}
#define OP(e, n, fn, act, f) OPX(e, n, fn, act, f, false)
#define OPP(e, n, fn, f)     OPX(e, n, fn, false, f, true)
#define OP0(e, n, fn)        [e] = { .name = (n), .op = (e), .sql_func = (fn) }
/* A heavy read: read-only, may be served by the standby (proto_op_is_heavy_read). */
#define OPR(e, n, fn, f) OPRX(e, n, fn, f, false)
/* ... whose result is the rows of a SETOF text function put together (sql_rows) */
#define OPRS(e, n, fn, f) OPRX(e, n, fn, f, true)
#define OPRX(e, n, fn, f, rows)                                                                    \
	[e] = {                                                                                    \
		.name = (n),                                                                       \
		.op = (e),                                                                         \
		.nfields = (int)(sizeof(f) / sizeof((f)[0])),                                      \
		.fields = (f),                                                                     \
		.sql_func = (fn),                                                                  \
		.heavy_read = true,                                                                \
		.sql_rows = (rows),                                                                \
	}

/* A public op (proto_op_is_public): a read, or with act an action. */
#define OPUB(e, n, fn, act, f)                                                                     \
	[e] = {                                                                                    \
		.name = (n),                                                                       \
		.op = (e),                                                                         \
		.action = (act),                                                                   \
		.nfields = (int)(sizeof(f) / sizeof((f)[0])),                                      \
		.fields = (f),                                                                     \
		.sql_func = (fn),                                                                  \
		.public = true,                                                                    \
	}
#define OPUB0(e, n, fn) [e] = { .name = (n), .op = (e), .sql_func = (fn), .public = true }

static const struct proto_op_spec proto_ops[PROTO_OP_COUNT] = {
	OP0(PROTO_OP_WHOAMI, "whoami", "st_whoami"),
	OP0(PROTO_OP_CATEGORIES, "categories", "st_categories"),
	OP0(PROTO_OP_DEPARTMENTS, "departments", "st_departments"),
	OP(PROTO_OP_PLACES, "places", "st_places", false, proto_f_places),
	OP(PROTO_OP_REPORT, "report", "st_report", true, proto_f_report),
	OP(PROTO_OP_DISPATCH, "dispatch", "st_dispatch", true, proto_f_dispatch),
	OP(PROTO_OP_RETURN, "return", "st_return", true, proto_f_return),
	OP(PROTO_OP_ACCEPT, "accept", "st_accept", true, proto_f_accept),
	OP(PROTO_OP_RESOLVE, "resolve", "st_resolve", true, proto_f_resolve),
	OP(PROTO_OP_CONFIRM, "confirm", "st_confirm", true, proto_f_confirm),
	OP(PROTO_OP_REOPEN, "reopen", "st_reopen", true, proto_f_reopen),
	OP(PROTO_OP_CANCEL, "cancel", "st_cancel", true, proto_f_cancel),
	OP(PROTO_OP_URGE, "urge", "st_urge", true, proto_f_note_only),
	OP(PROTO_OP_EXTEND_REQUEST, "extend_request", "st_extend_request", true,
	   proto_f_extend_request),
	OP(PROTO_OP_EXTEND_GRANT, "extend_grant", "st_extend_grant", true, proto_f_note_only),
	OP(PROTO_OP_EXTEND_DENY, "extend_deny", "st_extend_deny", true, proto_f_note_only),
	OP(PROTO_OP_COMMENT, "comment", "st_comment", true, proto_f_comment),
	OP(PROTO_OP_ARBITRATE, "arbitrate", "st_arbitrate", true, proto_f_arbitrate),
	OP(PROTO_OP_GET, "get", "st_get", false, proto_f_get),
	OP(PROTO_OP_LIST, "list", "st_list", false, proto_f_list),
	OP(PROTO_OP_OVERDUE, "overdue", "st_overdue", false, proto_f_overdue),
	OP(PROTO_OP_ROUTE, "route", "st_route_ticket", false, proto_f_ticket_only),
	OP(PROTO_OP_RETURNS, "returns", "st_returns", false, proto_f_returns),
	OP0(PROTO_OP_GRID_LOAD, "grid_load", "st_grid_load"),
	OPP(PROTO_OP_PHOTO_BEGIN, "photo_begin", "st_photo_begin", proto_f_photo_begin),
	OP(PROTO_OP_PHOTO_CHUNK, "photo_chunk", "st_photo_chunk", false, proto_f_photo_chunk),
	OP(PROTO_OP_PHOTO_END, "photo_end", "st_photo_end", false, proto_f_photo_end),
	OP(PROTO_OP_PHOTO_GET, "photo_get", "st_photo_get", false, proto_f_photo_get),
	OP(PROTO_OP_SUBSCRIBE, "subscribe", NULL, false, proto_f_subscribe),
	OP0(PROTO_OP_UNSUBSCRIBE, "unsubscribe", NULL),
	OPR(PROTO_OP_STATS, "stats", "st_stats", proto_f_stats),
	OPR(PROTO_OP_RANKING, "ranking", "st_ranking", proto_f_ranking),
	OP(PROTO_OP_SCORE_GET, "score_get", "st_score_get", false, proto_f_score_get),
	OP(PROTO_OP_SCORE_SET, "score_set", "st_score_set", false, proto_f_score_set),
	OP(PROTO_OP_PERIOD_LOCK, "period_lock", "st_period_lock", false, proto_f_period_lock),
	OP0(PROTO_OP_CRITERIA, "criteria", "st_criteria"),
	OP(PROTO_OP_AUDIT_EVENTS, "audit_events", "st_audit_events", false, proto_f_audit_events),
	OP(PROTO_OP_AUDIT_CHECKPOINTS, "audit_checkpoints", "st_audit_checkpoints", false,
	   proto_f_audit_checkpoints),
	OPRS(PROTO_OP_EXPORT, "export", "st_export_page", proto_f_export),
	OPR(PROTO_OP_BULLETIN, "bulletin", "st_bulletin", proto_f_period_lock),
	OPUB0(PROTO_OP_O311_SERVICES, "o311_services", "st_o311_services"),
	OPUB(PROTO_OP_O311_SERVICE, "o311_service", "st_o311_service", false, proto_f_o311_service),
	OPUB(PROTO_OP_O311_REQUESTS, "o311_requests", "st_o311_requests", false,
	     proto_f_o311_requests),
	OPUB(PROTO_OP_O311_REQUEST, "o311_request", "st_o311_request", false, proto_f_o311_request),
	OPUB(PROTO_OP_O311_POST, "o311_post", "st_o311_post", true, proto_f_o311_post),
	OP(PROTO_OP_CALENDAR, "calendar", "st_calendar", false, proto_f_calendar),
};

static const char *const proto_error_names[PROTO_ERR_COUNT] = {
	[PROTO_OK] = "ok",
	[PROTO_ERR_BAD_REQUEST] = "bad_request",
	[PROTO_ERR_UNAUTHENTICATED] = "unauthenticated",
	[PROTO_ERR_FORBIDDEN] = "forbidden",
	[PROTO_ERR_NOT_FOUND] = "not_found",
	[PROTO_ERR_BAD_STATE] = "bad_state",
	[PROTO_ERR_CONFLICT] = "conflict",
	[PROTO_ERR_TOO_LARGE] = "too_large",
	[PROTO_ERR_RATE_LIMITED] = "rate_limited",
	[PROTO_ERR_UNAVAILABLE] = "unavailable",
	[PROTO_ERR_INTERNAL] = "internal",
};

const char *proto_error_name(enum proto_error code)
{
	if ((unsigned)code >= PROTO_ERR_COUNT)
		return "internal";
	return proto_error_names[code];
}

const struct proto_op_spec *proto_op_spec(enum proto_op op)
{
	if (op <= PROTO_OP_NONE || op >= PROTO_OP_COUNT)
		return NULL;
	return &proto_ops[op];
}

const char *proto_op_name(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec ? spec->name : "none";
}

bool proto_op_parse(const char *name, enum proto_op *op)
{
	for (int i = PROTO_OP_NONE + 1; i < PROTO_OP_COUNT; i++) {
		if (strcmp(proto_ops[i].name, name) == 0) {
			*op = (enum proto_op)i;
			return true;
		}
	}
	return false;
}

bool proto_op_is_action(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec && spec->action;
}

bool proto_op_is_heavy_read(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec && spec->heavy_read;
}

bool proto_op_is_public(enum proto_op op)
{
	const struct proto_op_spec *spec = proto_op_spec(op);

	return spec && spec->public;
}
