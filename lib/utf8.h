/*
 * utf8: the project's one UTF-8 decoder (RFC 3629), for every layer: the
 * protocol's strict checks, the config parser, display widths, the log's
 * quoting and the certificate CN check all call it, so "valid UTF-8" means
 * the same thing everywhere.
 *
 * Well-formed means shortest form (no overlongs such as C0 80 or E0 80 80),
 * no UTF-16 surrogates (U+D800..U+DFFF) and nothing above U+10FFFF.
 *
 * Pure functions on caller-owned bytes: nothing here allocates, keeps a
 * pointer or reads past the n bytes it is given.
 */
#ifndef STREET_UTF8_H
#define STREET_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most bytes one character takes. */
#define UTF8_MAX_BYTES 4

/*
 * Length (1..4) of the well-formed character at s, of which n bytes may be
 * read, with its code point in *cp (cp may be NULL); 0, *cp untouched, when s
 * does not start one: a stray continuation byte, C0, C1 or F5..FF, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a character cut
 * short by n (n = 0 included).  Reads s[i] only after s[i - 1] was a lead or
 * continuation byte, so a NUL-terminated string may be passed with
 * n = SIZE_MAX: the NUL ends any sequence.
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* True when s[0..n) is all well-formed characters (a NUL byte is one). */
bool utf8_valid(const char *s, size_t n);

/*
 * Encodes cp into out (not NUL-terminated); returns its length 1..4, or 0
 * for a surrogate or a value above U+10FFFF.
 */
size_t utf8_encode(uint32_t cp, char out[UTF8_MAX_BYTES]);

/* Characters (not bytes) in s[0..n), which must be well-formed. */
size_t utf8_count(const char *s, size_t n);

/*
 * n, or less, so that s[0..n) does not end inside a multi-byte character:
 * where to cut text (well-formed, or at least its end is) to at most n
 * bytes.  Reads only s[0..n).
 */
size_t utf8_trim(const char *s, size_t n);

#endif
