/*
 * bars: horizontal bar charts in Unicode block elements (█ and the eighths
 * ▏▎▍▌▋▊▉), for rankings and series where people would rather look than
 * read.  Pure formatting; nothing here prints.
 */
#ifndef STREETCTL_BARS_H
#define STREETCTL_BARS_H

#include <stddef.h>

/*
 * Writes into buf (NUL-terminated, at most cap bytes) a bar of value / max
 * of width columns, in eighths of a column: "" for value <= 0 or max <= 0,
 * at least "▏" for any value > 0.  Each block is 3 bytes of UTF-8, so cap
 * should be 3 * width + 1.  Returns buf.
 */
char *bars_render(char *buf, size_t cap, double value, double max, int width);

#endif
