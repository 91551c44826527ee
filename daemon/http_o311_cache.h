/*
 * http_o311_cache: the Open311 answers that change only when the catalogue
 * does (GET services.{fmt}: o311_services; GET services/{code}.{fmt}:
 * o311_service), kept rendered in the daemon, so that the hot discovery
 * calls of Open311 clients never wait for the database pool.
 *
 * Freshness: an answer is dropped when the catalogue changes (triggers on
 * category and category_attribute NOTIFY street_catalog, migration 021; the
 * event reader's connection LISTENs and calls o311_cache_invalidate(), also
 * each time it connects, since notifications were lost meanwhile), and in
 * any case O311_CACHE_TTL_MS after it was read (a change a NOTIFY did not
 * announce: a standby, a lost connection the reader has not noticed yet).
 * A request that arrives after the invalidation never gets the old answer:
 * a fill that began before it answers only the requests that were waiting
 * then, and another fill starts for the later ones.
 *
 * No stampede: while an answer is being read, every request for it waits
 * on that one read (o311_cache_wait); an error is passed to every waiter
 * and not kept.  At most O311_CACHE_MAX service definitions are kept
 * (codes the database knows; unknown ones are errors, never kept); past
 * that, a definition is read for each request as before.
 *
 * Ownership: the module owns the documents (valid until the next
 * invalidation, fill or o311_cache_free; a waiter's callback may not keep
 * the pointer).  One cache per process (static state), like the rate-limit
 * tables of http_open311.c.
 */
#ifndef STREETD_HTTP_O311_CACHE_H
#define STREETD_HTTP_O311_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "proto.h"

struct handlers_env;
struct o311_entry;

#define O311_CACHE_TTL_MS 60000
#define O311_CACHE_MAX    1024

/* One answer: the op's JSON as the database returned it, and its XML once
 * asked for.  etag is a strong validator of the JSON (the XML's adds 'x'). */
struct o311_doc {
	char *json;
	size_t json_len;
	char *xml; /* NULL until o311_cache_xml() */
	size_t xml_len;
	char etag[24]; /* "\"<16 hex>\"" */
	char etag_xml[24];
	int64_t read_ms; /* monotonic, when it was read */
};

/* A request waiting for an answer being read.  done() runs once, with the
 * document, or doc NULL and the op's error. */
struct o311_wait {
	LIST_ENTRY(o311_wait) link;
	struct o311_entry *e; /* NULL: not waiting */
	uint64_t gen;
	void (*done)(struct o311_wait *w, struct o311_doc *doc, enum proto_error code,
	             const char *msg);
};

/* The fresh answer of op (PROTO_OP_O311_SERVICES, or PROTO_OP_O311_SERVICE
 * for code), or NULL. */
struct o311_doc *o311_cache_get(enum proto_op op, const char *code);

/* Queues w for the answer, starting its read through handlers (env) if none
 * runs.  0, or -1 when it cannot be kept (no room, ENOMEM): the caller then
 * runs the op itself. */
int o311_cache_wait(const struct handlers_env *env, enum proto_op op, const char *code,
                    struct o311_wait *w);

/* w no longer waits (its connection closed); done() will not run. */
void o311_cache_unwait(struct o311_wait *w);

/* The XML of d (rendered once, kept with it), or NULL if it cannot be
 * written. */
const char *o311_cache_xml(struct o311_doc *d, enum proto_op op, size_t *len);

/* The catalogue changed (or may have): every answer is read again. */
void o311_cache_invalidate(void);

/* Frees everything; reads in flight are dropped through env (at exit). */
void o311_cache_free(const struct handlers_env *env);

#endif
