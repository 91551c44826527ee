/*
 * table: aligned text tables for people.  Columns are padded by display
 * width (lib/display.c), not bytes, so Chinese names line up with Latin
 * ones; cells are cleaned by out_clean() (out.h: a newline becomes a space
 * so a row stays one line, an escape sequence cannot reach the terminal).  No trailing blanks.
 * Colour (SGR codes) is added only when the caller says so, and never counts as width.
 */
#ifndef STREETCTL_TABLE_H
#define STREETCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 10

struct table;

/* A table with ncols columns (<= TABLE_MAX_COLS) and these headers. */
struct table *table_new(int ncols, const char *const *headers);
void table_free(struct table *t);

/* Appends a row (cells copied; NULL is shown as "-"); returns its index. */
int table_add(struct table *t, const char *const *cells);

/* An SGR style ("31" red, "1" bold...) for one cell, used when printing in colour. */
void table_style(struct table *t, int row, int col, const char *sgr);

/* Cuts the column's cells to at most width columns (with "…"); 0 = no limit. */
void table_max_width(struct table *t, int col, size_t width);

/* Right-aligns the column (numbers). */
void table_right(struct table *t, int col);

/* Prints it; when fit > 0 the last column is cut so that lines take at most fit columns. */
void table_print(struct table *t, FILE *f, bool colour, size_t fit);

/* Prints s, cleaned (out.h), padded with spaces to width columns (display width). */
void table_pad(FILE *f, const char *s, size_t width);

/* The terminal's width when stdout is one, else 0. */
size_t table_term_width(void);

#endif
