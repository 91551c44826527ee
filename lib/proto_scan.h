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
 * Ownership: a struct proto_scan borrows the line it scans (sc->s) and
 * holds offsets into it; it owns nothing and needs no clean-up.
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

/* Object members in a json-c tree, at every level: json-c keeps one per distinct key. */
size_t proto_scan_tree_members(struct json_object *o);

#endif
