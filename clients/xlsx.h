/*
 * xlsx: a table written as one Excel worksheet, through libxlsxwriter
 * (Debian's libxlsxwriter-dev; writing OOXML ourselves would be a zip and XML
 * writer to maintain).  The header row is bold and frozen; each column has a
 * kind, and a cell is given as the text CSV would show (NULL: empty cell):
 *
 *   XLSX_TEXT    a string as it is (UTF-8);
 *   XLSX_NUMBER  a number ("12", "3.5"); text that is not one is kept as text;
 *   XLSX_BOOL    "true"/"false" as Excel's TRUE/FALSE;
 *   XLSX_TIME    "YYYY-MM-DDTHH:MM:SS+08:00" as an Excel datetime of the local
 *                time it shows (Excel has no time zone; the offset is dropped),
 *                formatted yyyy-mm-dd hh:mm:ss.
 *
 * Rows are written in order in libxlsxwriter's constant_memory mode: one row
 * is in memory at a time, the rest in an unlinked temporary file in the
 * directory of the target (not /tmp, which may be memory).  Nothing is at
 * the path until xlsx_close; xlsx_abort leaves whatever is there untouched
 * (the caller, outfile.h, removes its temporary file).
 */
#ifndef STREETCTL_XLSX_H
#define STREETCTL_XLSX_H

#include <stddef.h>

enum xlsx_kind { XLSX_TEXT, XLSX_NUMBER, XLSX_BOOL, XLSX_TIME };

struct xlsx_col {
	const char *name; /* the header cell */
	enum xlsx_kind kind;
};

/* Excel's limit: 1,048,576 rows, the header included. */
#define XLSX_MAX_ROWS 1048576L

/* What xlsx_row says. */
enum xlsx_status {
	XLSX_OK = 0,
	XLSX_FULL,  /* the sheet has max_rows rows: this row was not written */
	XLSX_ERROR, /* libxlsxwriter failed: xlsx_error() says why */
};

struct xlsx; /* opaque */

/* Starts a workbook to be written to path by xlsx_close, one sheet named
 * sheet, with the header row of the n columns cols (kept by reference: they
 * must outlive the writer).  max_rows: rows the sheet may hold, the header
 * included (0: XLSX_MAX_ROWS).  NULL on failure, with *err (static text) set. */
struct xlsx *xlsx_open(const char *path, const char *sheet, const struct xlsx_col *cols, int n,
                       long max_rows, const char **err);

/* Writes the next row: n cells as text, one per column (NULL: empty). */
enum xlsx_status xlsx_row(struct xlsx *x, const char *const *cells);

/* Why the last call failed (static text). */
const char *xlsx_error(const struct xlsx *x);

/* Sets the column widths and writes the file; frees x either way.  0, or -1
 * with *err (static text) set. */
int xlsx_close(struct xlsx *x, const char **err);

/* Frees x without writing the file. */
void xlsx_abort(struct xlsx *x);

#endif
