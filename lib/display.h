/*
 * display: how many terminal columns UTF-8 text takes, so that tables of
 * Chinese and Latin text line up (streetctl pads by columns, not bytes).
 *
 * Pure and locale-free on purpose: wcwidth() depends on setlocale() and the
 * C library's tables, and a client started under LANG=C must still align.
 * Widths follow Unicode's East Asian Width (Wide and Fullwidth are 2
 * columns, emoji with emoji presentation too), combining marks, variation
 * selectors and zero-width format characters are 0, and control characters
 * are 0 (callers replace them before printing).  Ambiguous-width characters
 * (…, ①, Greek, Cyrillic) are 1, as terminals outside CJK locales draw them.
 * A byte that does not start a valid, shortest-form UTF-8 character counts
 * as 1 column by itself, so garbage still takes the room it will be drawn in
 * (usually as one replacement character per byte).
 */
#ifndef STREET_DISPLAY_H
#define STREET_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

/* Columns of one code point: 0, 1 or 2. */
int display_cp_width(uint32_t cp);

/*
 * Decodes the character at s (n bytes left, n >= 1) into *cp and returns its
 * length in bytes; an invalid byte gives length 1 and *cp = UINT32_MAX.
 */
size_t display_next(const char *s, size_t n, uint32_t *cp);

/* Columns of NUL-terminated UTF-8 text. */
size_t display_width(const char *s);

/* Columns of the first len bytes of s. */
size_t display_width_n(const char *s, size_t len);

/*
 * Copies src into dst (cap bytes, NUL-terminated when cap > 0) so that it
 * takes at most width columns: text that is wider is cut at a character
 * boundary and ends in "…" (one column).  Zero-width characters after the
 * last kept one stay with it (an accent is not torn from its letter).
 * Returns the columns of what was written.  Text that does not fit in cap
 * bytes is cut the same way.
 */
size_t display_truncate(char *dst, size_t cap, const char *src, size_t width);

#endif
