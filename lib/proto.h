/*
 * proto: the wire protocol codec (docs/protocol.md), requests in and reply
 * framing out.
 *
 * Pure logic: the daemon cuts a line at "\n" and hands its bytes to
 * proto_decode(); nothing here touches sockets, files or the database.
 *
 * A request is checked strictly, more strictly than json-c alone would:
 * RFC 8259 grammar, strict UTF-8 (no overlong forms, no surrogates), no
 * "\u0000", no raw control characters, no duplicate keys, no NaN/Infinity,
 * integers within int64, nesting at most PROTO_MAX_DEPTH levels, nothing
 * after the object but JSON whitespace, then the op's own fields with their
 * types and bounds (the op table, proto_op_spec()).  Every refusal is
 * PROTO_ERR_BAD_REQUEST with a message meant for the client.
 *
 * The op table is a contract with the SQL side: the daemon binds the account
 * id as $1 and params[i] as $(i + 2), in table order.  Do not reorder a row
 * without changing the SQL call that binds it.
 *
 * The codec's files, one concern each (the proto_*.h headers are internal):
 *   proto_ops.c     the op table and the names of ops and error codes
 *   proto_decode.c  proto_decode(): the id, the op, duplicate keys
 *   proto_scan.c    the strict RFC 8259 scanner that runs before json-c
 *   proto_fields.c  one field's type and bounds, and its SQL text
 *   proto_ctx.c     per-call state: the error message and the arena
 *   proto_reply.c   reply framing and JSON escaping
 * UTF-8 comes from utf8.h, like everywhere else.
 *
 * Ownership: a struct proto_request owns everything its pointers reach (the
 * parsed json-c tree and a small arena inside the struct).  params[] stay
 * valid until proto_request_free(), which the caller must call after every
 * proto_decode(), successful or not.  The struct must not be copied while
 * params[] are in use: some of them point into the struct itself.
 */
#ifndef STREETD_PROTO_H
#define STREETD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Containers nested deeper than this (the request object is level 1) are refused. */
#define PROTO_MAX_DEPTH 8
/* Most fields of any op (o311_post has 16). */
#define PROTO_MAX_FIELDS 16
/* Most top-level keys a request may have before it is refused outright. */
#define PROTO_MAX_KEYS 32
/* Largest integer an id field may hold: 2^53 - 1, exact in a JavaScript client. */
#define PROTO_INT_MAX INT64_C(9007199254740991)
/* Largest value of a field that the SQL side binds as "integer". */
#define PROTO_INT4_MAX INT64_C(2147483647)
/* A string id: at most this many bytes, no control characters. */
#define PROTO_ID_MAX_BYTES 64
/* req->id as JSON text: quotes + every byte escaped as \" or \\ + NUL. */
#define PROTO_ID_JSON_MAX (2 * PROTO_ID_MAX_BYTES + 3)
/* Room for the formatted numbers of one request (see check_ids() in proto_fields.c). */
#define PROTO_ARENA_SIZE 384
/* report, resolve: at most this many photo ids. */
#define PROTO_MAX_PHOTOS 9
/* photo_chunk: a data string decodes to at most this many bytes. */
#define PROTO_CHUNK_MAX 32768

/* Reply error codes; proto_error_name() gives the wire spelling. */
enum proto_error {
	PROTO_OK = 0,
	PROTO_ERR_BAD_REQUEST,     /* "bad_request" */
	PROTO_ERR_UNAUTHENTICATED, /* "unauthenticated" */
	PROTO_ERR_FORBIDDEN,       /* "forbidden" */
	PROTO_ERR_NOT_FOUND,       /* "not_found" */
	PROTO_ERR_BAD_STATE,       /* "bad_state" */
	PROTO_ERR_CONFLICT,        /* "conflict" */
	PROTO_ERR_TOO_LARGE,       /* "too_large" */
	PROTO_ERR_RATE_LIMITED,    /* "rate_limited" */
	PROTO_ERR_UNAVAILABLE,     /* "unavailable" */
	PROTO_ERR_INTERNAL,        /* "internal" */
	PROTO_ERR_COUNT
};

/* The ops, in the order of docs/protocol.md.  0 is no op (a zeroed request). */
enum proto_op {
	PROTO_OP_NONE = 0,
	/* looking */
	PROTO_OP_WHOAMI,
	PROTO_OP_CATEGORIES,
	PROTO_OP_DEPARTMENTS,
	PROTO_OP_PLACES,
	/* the loop: each appends one event (proto_op_is_action) */
	PROTO_OP_REPORT,
	PROTO_OP_DISPATCH,
	PROTO_OP_RETURN,
	PROTO_OP_ACCEPT,
	PROTO_OP_RESOLVE,
	PROTO_OP_CONFIRM,
	PROTO_OP_REOPEN,
	PROTO_OP_CANCEL,
	PROTO_OP_URGE,
	PROTO_OP_EXTEND_REQUEST,
	PROTO_OP_EXTEND_GRANT,
	PROTO_OP_EXTEND_DENY,
	PROTO_OP_COMMENT,
	PROTO_OP_ARBITRATE,
	/* looking at tickets */
	PROTO_OP_GET,
	PROTO_OP_LIST,
	PROTO_OP_OVERDUE,
	PROTO_OP_ROUTE,
	PROTO_OP_RETURNS,   /* the arbitration queue */
	PROTO_OP_GRID_LOAD, /* open and overdue tickets per grid */
	/* photos */
	PROTO_OP_PHOTO_BEGIN,
	PROTO_OP_PHOTO_CHUNK,
	PROTO_OP_PHOTO_END,
	PROTO_OP_PHOTO_GET,
	/* live push */
	PROTO_OP_SUBSCRIBE,
	PROTO_OP_UNSUBSCRIBE,
	/* assessment (docs/assessment.md) */
	PROTO_OP_STATS,
	PROTO_OP_RANKING,
	/* assessment: streets score departments (考核赋分) */
	PROTO_OP_SCORE_GET,
	PROTO_OP_SCORE_SET,
	PROTO_OP_PERIOD_LOCK,
	PROTO_OP_CRITERIA,
	/* the audit: the event chain and its signed checkpoints (docs/audit.md) */
	PROTO_OP_AUDIT_EVENTS,
	PROTO_OP_AUDIT_CHECKPOINTS,
	/* assessment: the documents (export rows, the monthly bulletin) */
	PROTO_OP_EXPORT,
	PROTO_OP_BULLETIN,
	/* Open311 GeoReport v2 (docs/open311.md): public (proto_op_is_public) */
	PROTO_OP_O311_SERVICES,
	PROTO_OP_O311_SERVICE,
	PROTO_OP_O311_REQUESTS,
	PROTO_OP_O311_REQUEST,
	PROTO_OP_O311_POST, /* an action: reports as its api_key's account */

	PROTO_OP_CALENDAR, /* work hours and calendar exceptions (the console's working time) */
	PROTO_OP_COUNT
};

/* A field's JSON type and how its bounds (struct proto_field) read. */
enum proto_type {
	PROTO_T_INT,       /* integer in [min, max]; param "42" */
	PROTO_T_NUMBER,    /* finite integer or fraction in [dmin, dmax]; param "%.17g" */
	PROTO_T_BOOL,      /* true or false; param "true" / "false" */
	PROTO_T_TEXT,      /* string of min..max UTF-8 characters; param as given */
	PROTO_T_TIMESTAMP, /* RFC 3339 string (see below); param as given */
	PROTO_T_ENUM,      /* one of choices[]; param as given */
	PROTO_T_CURSOR,    /* min..max bytes of [0-9A-Za-z:._-]; param as given */
	PROTO_T_SHA256,    /* exactly 64 lower-case hex digits; param as given */
	PROTO_T_BASE64,    /* min..max chars, a multiple of 4, '=' padding only at the end,
	                      at most PROTO_CHUNK_MAX bytes decoded; param as given */
	PROTO_T_ID_ARRAY,  /* array of min..max distinct integers 1..PROTO_INT_MAX;
	                      param a PostgreSQL array literal "{3,5}" */
};

/*
 * One field of an op.  A timestamp is "YYYY-MM-DD" then 'T' or ' ' then
 * "HH:MM:SS", an optional fraction of 1..9 digits, then 'Z' or "+HH:MM" /
 * "-HH:MM"; years 0001..9999, a real calendar date, seconds 00..59.
 */
struct proto_field {
	const char *name;
	enum proto_type type;
	bool required;
	int64_t min, max;           /* INT: value; TEXT: characters; CURSOR, SHA256, BASE64: bytes;
	                               ID_ARRAY: element count; unused otherwise */
	double dmin, dmax;          /* NUMBER only */
	const char *const *choices; /* ENUM only: NULL-terminated */
};

/* One op: its wire name, its fields in binding order, and what it calls. */
struct proto_op_spec {
	const char *name;
	enum proto_op op;
	bool action; /* a loop action: appends an event, takes "key" */
	int nfields;
	const struct proto_field *fields;
	const char *sql_func; /* the database function it calls, NULL: the daemon answers it */
	bool sql_max_photo;   /* the daemon's limits.max_photo is passed after the fields */
	bool heavy_read;      /* a report that may run on the read standby (readpool.h) */
	/* The function returns SETOF text and the result is its rows' texts put
	 * together, in order (a big reply is sent as the database gives it, not
	 * built as one value there: export's pages). */
	bool sql_rows;
	/* An unauthenticated caller (HTTPS without a client certificate) may run
	 * it: the account id bound as $1 is then 0, which its SQL ignores. */
	bool public;
};

/*
 * A decoded request.  Zero it (or let proto_decode() do so) before use.
 * JSON null for an optional field is the same as leaving it out.
 */
struct proto_request {
	/* The request's id as JSON text ("7", "\"abc\""), "null" when unreadable. */
	char id[PROTO_ID_JSON_MAX];
	enum proto_op op;
	/* op's field count; params[i] is field i's SQL text, NULL when absent. */
	int nparams;
	const char *params[PROTO_MAX_FIELDS];
	/* private: what params[] point into */
	struct json_object *root;
	size_t arena_used;
	char arena[PROTO_ARENA_SIZE];
};

/*
 * Decodes one line, without its "\n" (a final "\r" is ignored).  *req is
 * overwritten (not freed first).  Returns PROTO_OK, or an error code with a
 * message in err (NUL-terminated, truncated to errlen; err may be NULL when
 * errlen is 0) and req->id still set to the request's id when it could be
 * read, so the reply can carry it.  Call proto_request_free() either way.
 * PROTO_ERR_TOO_LARGE for len > INT_MAX, PROTO_ERR_INTERNAL when out of memory.
 */
int proto_decode(const char *line, size_t len, struct proto_request *req, char *err, size_t errlen);

/* Releases what *req owns and zeroes it; safe on a zeroed struct and twice. */
void proto_request_free(struct proto_request *req);

/*
 * JSON-escapes src (NUL-terminated) into dst without the quotes: '"', '\\'
 * and control characters are escaped, invalid UTF-8 bytes become \ufffd.
 * Stops before a character that would not fit, so the output is always
 * whole characters.  Returns the bytes written; dst is NUL-terminated when
 * cap > 0.
 */
size_t proto_json_escape(char *dst, size_t cap, const char *src);

/*
 * {"id":ID,"ok":false,"error":{"code":"CODE","message":"MESSAGE"}}\n into buf,
 * NUL-terminated.  id_json is JSON text (req->id; NULL means null); message is
 * escaped and cut short to fit.  Returns the length without the NUL, or 0 (and
 * "" in buf when cap > 0) when not even the message-less reply fits.
 */
size_t proto_format_error(char *buf, size_t cap, const char *id_json, enum proto_error code,
                          const char *message);

/*
 * {"id":ID,"ok":true,"result": into buf, NUL-terminated: the caller appends the
 * result's JSON and "}\n".  Returns the length, or 0 when it does not fit.
 */
size_t proto_format_ok_prefix(char *buf, size_t cap, const char *id_json);

/* "bad_request", "conflict", ...; "ok" for PROTO_OK, "internal" for anything unknown. */
const char *proto_error_name(enum proto_error code);

/* The wire name ("extend_request"), or "none" for PROTO_OP_NONE and unknown values. */
const char *proto_op_name(enum proto_op op);

/* Looks a wire name up; false (and *op untouched) when no op has that name. */
bool proto_op_parse(const char *name, enum proto_op *op);

/* True for the loop actions, report .. arbitrate, which append an event. */
bool proto_op_is_action(enum proto_op op);

/* True for the heavy reads (stats, ranking, bulletin, export): read-only
 * reports that may be served from database.read_conninfo's standby. */
bool proto_op_is_heavy_read(enum proto_op op);

/* True for the ops an unauthenticated HTTPS caller may run: the Open311
 * ones (o311_post authenticates by its api_key inside SQL).  Every other op
 * needs an account. */
bool proto_op_is_public(enum proto_op op);

/* The op's row of the table (static storage), NULL for PROTO_OP_NONE and unknown values. */
const struct proto_op_spec *proto_op_spec(enum proto_op op);

#endif
