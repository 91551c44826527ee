/*
 * out: the one way text reaches a person.  Descriptions, comments, reasons,
 * names and even the server's error messages hold what other people typed,
 * and a terminal acts on control characters in them: OSC sets the window
 * title (or the clipboard), CSI clears the screen or moves the cursor, CR
 * overwrites the line, C1 0x9b is a CSI on its own, bidi overrides reorder
 * what is shown.  So every piece of human output (tables, show, watch, the
 * summaries of actions, the error lines) is written through out_clean():
 *
 *   tab, CR, LF, NEL, U+2028, U+2029          -> a space (a line stays one line)
 *   other C0 controls, DEL, C1 (U+0080-U+009F),
 *   bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9),
 *   bytes that are not valid UTF-8             -> U+FFFD "�" (seen, not obeyed)
 *
 * Style (SGR colour) is written only by out_style(), never taken from data.
 * --json output does not come here: it is the server's JSON, escaped by
 * json-c, unchanged.
 */
#ifndef STREETCTL_OUT_H
#define STREETCTL_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A cleaned copy of s (malloc'd; the caller frees; aborts when out of memory). */
char *out_clean(const char *s);

/* Writes s cleaned. */
void out_text(FILE *f, const char *s);

/* Formats, cleans the whole result and writes it (a "\n" in it becomes a space). */
void out_printf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_vprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* out_printf, then a newline: one line of output. */
void out_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts an SGR style ("1" bold, "31" red) when colour; sgr NULL resets it. */
void out_style(FILE *f, bool colour, const char *sgr);

#endif
