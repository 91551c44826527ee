/*
 * libFuzzer harness for the pull reader (lib/proto_scan.c's proto_scan_begin
 * and after) and streetctl's export page reader on it (clients/export_scan.c).
 * Besides "no crash, no leak, no UB, no read past the input" it checks that
 * the pull reader and proto_scan_all agree on whether a text is JSON, that
 * every string it hands out unescapes into at most its own length, and that
 * a page read to its end had rows as long as its columns.  Built twice, as
 * fuzz_proto is (tests/fuzz/meson.build): replay_export runs the seeds in
 * tests/fuzz/corpus/export in every test run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_scan.h"
#include "proto_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A string value unescaped: never longer than its raw bytes. */
static void check_string(const struct proto_scan_val *v)
{
	char *out = malloc(v->len + 1);
	size_t n = 0;

	CHECK(out != NULL);
	if (proto_scan_unescape(v->raw, v->len, out, &n)) {
		CHECK(n <= v->len);
		CHECK(out[n] == '\0');
	}
	free(out);
}

/* Walks a whole value generically, entering every container; false at a fault. */
static bool walk(struct proto_scan *sc)
{
	struct proto_scan_val k, v;
	size_t p = sc->pos;
	int r;

	while (p < sc->len &&
	       (sc->s[p] == ' ' || sc->s[p] == '\t' || sc->s[p] == '\n' || sc->s[p] == '\r'))
		p++;
	if (p < sc->len && (sc->s[p] == '[' || sc->s[p] == '{')) {
		if (!proto_scan_enter(sc, sc->s[p] == '{' ? PROTO_SCAN_OBJECT : PROTO_SCAN_ARRAY))
			return false;
		while ((r = proto_scan_item(sc, &k)) == 1) {
			if (sc->stack[sc->depth - 1] == '{')
				check_string(&k);
			if (!walk(sc))
				return false;
		}
		return r == 0;
	}
	if (!proto_scan_next(sc, &v))
		return false;
	CHECK(v.raw >= (const char *)sc->s && v.raw + v.len <= (const char *)sc->s + sc->len);
	if (v.type == PROTO_SCAN_STRING)
		check_string(&v);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kinds[] = { "dispatch", "accept", "resolve", "feedback" };
	char *text = malloc(size ? size : 1); /* exactly size bytes: no NUL to lean on */
	struct proto_scan sc, all;
	struct export_scan s;
	bool pulled;
	int r;

	CHECK(text != NULL);
	memcpy(text, data, size);

	proto_scan_begin(&sc, text, size);
	pulled = walk(&sc) && proto_scan_end(&sc);
	CHECK(pulled == proto_scan_all(&all, text, size));

	/* the look at a page still arriving, at every length it could have */
	for (size_t n = 0; n <= size; n += 1 + n / 8) {
		long long next = -1, end = -1;
		int p = export_scan_peek_head(text, n, &next, &end);

		CHECK(p >= -1 && p <= 1);
		CHECK(p != 1 || (next >= 0 && end >= 0));
	}

	if (export_scan_open(&s, text, size, kinds, 4) == 0) {
		CHECK(pulled);
		while ((r = export_scan_row(&s)) == 1) {
			for (int i = 0; i < s.ncols; i++)
				if (s.row[i].type == PROTO_SCAN_STRING)
					check_string(&s.row[i]);
			for (int i = 0; i < 4 * s.nstep; i++)
				CHECK(s.last[i].type != PROTO_SCAN_ARRAY &&
				      s.last[i].type != PROTO_SCAN_OBJECT);
		}
		CHECK(r == 0 || s.err[0] != '\0');
		export_scan_close(&s);
	} else {
		CHECK(s.err[0] != '\0');
	}
	free(text);
	return 0;
}
