/*
 * proto_scan: the strict JSON scanner behind proto_decode() (internal to
 * the proto_* files).
 *
 * json-c 0.16 is lax (NaN, single quotes, raw control characters, overlong
 * UTF-8, lone surrogates, "-01", "1.", clamped integers, duplicate keys kept
 * last-wins), so this scanner checks the same bytes against RFC 8259 and
 * strict UTF-8 first: it is the authority on syntax, json-c only has to
 * agree.  It also counts object members, which finds duplicate keys (see
 * proto_decode.c).
 *
 * It is also the project's one pull reader of JSON (proto_scan_begin and
 * after): a value at a time, checked as strictly, without a tree, for
 * replies too big to parse into one cheaply (streetctl export's pages).
 *
 * Ownership: a struct proto_scan borrows the line it scans (sc->s) and
 * holds offsets into it; it owns nothing and needs no clean-up.  A struct
 * proto_scan_val points into the same line.
 */
#ifndef STREETD_PROTO_SCAN_H
#define STREETD_PROTO_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct json_object;

struct proto_scan {
	const unsigned char *s;
	size_t len, pos;
	size_t members;              /* object members at every level */
	unsigned nkeys;              /* members of the root object */
	size_t keys[PROTO_MAX_KEYS]; /* where each root key's opening quote is */
	const char *msg;             /* why the scan failed, at pos */
	size_t first;                /* where the value starts */
	/* pull reading only */
	bool pull;                            /* no root keys recorded */
	bool fresh;                           /* just inside a container */
	bool escaped;                         /* the last string had a backslash */
	unsigned depth;                       /* containers entered */
	unsigned char stack[PROTO_MAX_DEPTH]; /* their opening brackets */
};

/*
 * Scans s[0..len) as one JSON value with JSON whitespace around it.  True
 * when it is valid; false with sc->msg (static text) and sc->pos (the byte
 * at fault) set.  The root's keys are recorded only when it is an object.
 */
bool proto_scan_all(struct proto_scan *sc, const char *s, size_t len);

/* Whether the root keys at offsets a and b (from sc->keys) are the same string, escapes decoded. */
bool proto_scan_keys_equal(const struct proto_scan *sc, size_t a, size_t b);

/* The root key at offset off, decoded, cut to whole characters to fit cap bytes, into out. */
void proto_scan_key_name(const struct proto_scan *sc, size_t off, char *out, size_t cap);

/* ---- Pull reading ---- */

enum proto_scan_type {
	PROTO_SCAN_NULL,
	PROTO_SCAN_FALSE,
	PROTO_SCAN_TRUE,
	PROTO_SCAN_NUMBER,
	PROTO_SCAN_STRING,
	PROTO_SCAN_ARRAY,
	PROTO_SCAN_OBJECT,
};

/*
 * One value as read: raw[0..len) are its bytes in the scanned line, a
 * string's without its quotes and still escaped (escaped: it has a
 * backslash, so its text needs proto_scan_unescape), a container's whole
 * from bracket to bracket.
 */
struct proto_scan_val {
	enum proto_scan_type type;
	bool escaped;
	const char *raw;
	size_t len;
};

/* Starts a pull reading of s[0..len) (borrowed). */
void proto_scan_begin(struct proto_scan *sc, const char *s, size_t len);

/*
 * Reads the value at the cursor (after whitespace) into *v and moves past
 * it; a container is checked and skipped whole.  False with sc->msg and
 * sc->pos on any fault (invalid JSON or UTF-8, too deep, cut short).
 */
bool proto_scan_next(struct proto_scan *sc, struct proto_scan_val *v);

/* Moves inside the value at the cursor, which must be a container of type t (ARRAY or OBJECT). */
bool proto_scan_enter(struct proto_scan *sc, enum proto_scan_type t);

/*
 * In the container entered last: 1 when it has one more item (the cursor
 * before its value, which the caller reads with next or enter before
 * asking again; in an object *key is its key, key may be NULL in an
 * array), 0 at its end (the cursor past it), -1 on a fault.
 */
int proto_scan_item(struct proto_scan *sc, struct proto_scan_val *key);

/* Skips the rest of the container entered last; false on a fault. */
bool proto_scan_leave(struct proto_scan *sc);

/* After the root value: true when only whitespace is left. */
bool proto_scan_end(struct proto_scan *sc);

/* Whether the string value v is s (escapes decoded). */
bool proto_scan_is(const struct proto_scan_val *v, const char *s);

/*
 * A string's text from its raw bytes into out, NUL-terminated, with its
 * length in *n: escapes decoded (\uXXXX, surrogate pairs included, as
 * UTF-8), other bytes copied.  out must hold len + 1 bytes (text is never
 * longer than its escaped form).  False, out undefined, for an invalid
 * escape, an unpaired surrogate or \u0000 (C text cannot hold it).
 */
bool proto_scan_unescape(const char *raw, size_t len, char *out, size_t *n);

/* Object members in a json-c tree, at every level: json-c keeps one per distinct key. */
size_t proto_scan_tree_members(struct json_object *o);

#endif
