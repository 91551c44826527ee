/*
 * export_scan: one export page (docs/protocol.md, "export") read without a
 * json-c tree of its rows, which cost streetctl ~19 µs a row.
 *
 * The page's small parts (from, to, columns, step_columns, names, next) are
 * parsed by json-c with the rows cut out ("rows": []); the rows are walked
 * by the project's pull scanner (proto_scan.h), which checks them as
 * strictly as the daemon checks a request: each row's cells are handed out
 * as raw JSON values (strings still escaped: proto_scan_unescape), and for
 * each step kind asked for, its last instance's cells (a ticket returned or
 * reopened has several steps of a kind).  Nothing is allocated per row or
 * per cell.
 *
 * Anything unlike a page is an error with a message, never a crash: invalid
 * JSON or UTF-8, no rows or columns, a row that is not an array or has not
 * as many cells as columns, an array or object where a cell is, a step not
 * an array of step_columns' cells.
 *
 * Ownership: export_scan_open borrows text (it must outlive the reading)
 * and kinds; the struct owns page and its arrays until export_scan_close.
 */
#ifndef STREETCTL_EXPORT_SCAN_H
#define STREETCTL_EXPORT_SCAN_H

#include <json-c/json.h>
#include <stddef.h>

#include "proto_scan.h"

struct export_scan {
	json_object *page;        /* the page without its rows */
	int ncols, nstep;         /* cells of a row, of a step */
	int steps, kind;          /* the steps column, a step's kind column (-1: none) */
	const char *const *kinds; /* the step kinds whose last instance is kept */
	int nkinds;
	struct proto_scan_val *row;  /* ncols: the row just read (its steps: ARRAY, raw NULL) */
	struct proto_scan_val *last; /* nkinds * nstep: each kind's last step; NULL cells if none */
	size_t row_len;              /* the row's bytes: its cells' text fits in row_len + ncols */
	long long rows;              /* rows read */
	/* private */
	bool in_place; /* the rows are read by the page's own scanner ("next" came first) */
	struct proto_scan_val *cur;
	struct proto_scan sc;
	const char *text;
	char err[256];
};

/*
 * Reads the page text[0..len): 0, ready for export_scan_row, or -1 with
 * s->err (and nothing to close).
 */
int export_scan_open(struct export_scan *s, const char *text, size_t len, const char *const *kinds,
                     int nkinds);

/* The next row: 1 with s->row, s->last and s->row_len; 0 after the last; -1 with s->err. */
int export_scan_row(struct export_scan *s);

void export_scan_close(struct export_scan *s);

/*
 * A look at the start of a page still arriving (text[0..len), cut anywhere):
 * 1 with *next (0 for null) when its "next" came before "rows" and is in
 * whole, and *end ("end" if it came before "next", else 0); 0 when more of
 * the page is needed to tell; -1 when it cannot be told early (rows first,
 * or not a page): the page, once in, says.
 */
int export_scan_peek_head(const char *text, size_t len, long long *next, long long *end);

#endif
