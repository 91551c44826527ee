/* xlsx: a table as one Excel worksheet through libxlsxwriter (xlsx.h). */
#include "xlsx.h"

#include <libgen.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "display.h"

/* Widths in characters (a CJK character counts two): at least the header's,
 * at most this, so one long name does not push the rest off the screen. */
#define XLSX_WIDTH_MAX 40

struct xlsx {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *time;
	const struct xlsx_col *cols;
	int n;
	long row; /* the next row to write (0 is the header) */
	long max;
	size_t *width; /* widest cell per column so far */
	char *tmpdir;  /* for libxlsxwriter's temporary file */
	const char *err;
};

static void xlsx_free(struct xlsx *x)
{
	free(x->width);
	free(x->tmpdir);
	free(x);
}

static void xlsx_widen(struct xlsx *x, int c, size_t w)
{
	if (w > x->width[c])
		x->width[c] = w;
}

struct xlsx *xlsx_open(const char *path, const char *sheet, const struct xlsx_col *cols, int n,
                       long max_rows, const char **err)
{
	struct xlsx *x = calloc(1, sizeof(*x));
	char *dir = strdup(path);
	lxw_format *bold;

	*err = "out of memory";
	if (x == NULL || dir == NULL || (x->width = calloc((size_t)n, sizeof(size_t))) == NULL) {
		free(dir);
		if (x != NULL)
			xlsx_free(x);
		return NULL;
	}
	x->cols = cols;
	x->n = n;
	x->max = max_rows > 0 && max_rows < XLSX_MAX_ROWS ? max_rows : XLSX_MAX_ROWS;
	x->tmpdir = strdup(dirname(dir));
	free(dir);
	{
		lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = x->tmpdir };

		x->wb = x->tmpdir ? workbook_new_opt(path, &opt) : NULL;
	}
	if (x->wb == NULL || (x->ws = workbook_add_worksheet(x->wb, sheet)) == NULL) {
		*err = "libxlsxwriter could not start the workbook";
		if (x->wb != NULL)
			lxw_workbook_free(x->wb);
		xlsx_free(x);
		return NULL;
	}
	bold = workbook_add_format(x->wb);
	x->time = workbook_add_format(x->wb);
	format_set_bold(bold);
	format_set_num_format(x->time, "yyyy-mm-dd hh:mm:ss");
	for (int c = 0; c < n; c++) {
		lxw_error e = worksheet_write_string(x->ws, 0, (lxw_col_t)c, cols[c].name, bold);

		if (e != LXW_NO_ERROR) {
			*err = lxw_strerror(e);
			xlsx_abort(x);
			return NULL;
		}
		xlsx_widen(x, c, display_width(cols[c].name));
	}
	worksheet_freeze_panes(x->ws, 1, 0);
	x->row = 1;
	*err = NULL;
	return x;
}

/* "YYYY-MM-DDTHH:MM:SS" then an offset ("+08:00", "Z"); false if s is not one. */
static bool xlsx_parse_time(const char *s, lxw_datetime *dt)
{
	int sec, used = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &dt->year, &dt->month, &dt->day, &dt->hour,
	           &dt->min, &sec, &used) != 6 ||
	    used != 19)
		return false;
	dt->sec = sec;
	s += used;
	if (!(strcmp(s, "Z") == 0 || ((s[0] == '+' || s[0] == '-') && strlen(s) == 6)))
		return false;
	return dt->year >= 1900 && dt->year <= 9999 && dt->month >= 1 && dt->month <= 12 &&
	       dt->day >= 1 && dt->day <= 31 && dt->hour <= 23 && dt->min <= 59 && sec <= 59;
}

static bool xlsx_parse_number(const char *s, double *v)
{
	char *end;

	if (*s == '\0')
		return false;
	*v = strtod(s, &end);
	return *end == '\0' && isfinite(*v);
}

/* One cell by its column's kind; text where the value is not of the kind. */
static lxw_error xlsx_cell(struct xlsx *x, int c, const char *s)
{
	lxw_row_t r = (lxw_row_t)x->row;
	lxw_col_t col = (lxw_col_t)c;
	lxw_datetime dt;
	double v;

	switch (x->cols[c].kind) {
	case XLSX_NUMBER:
		if (xlsx_parse_number(s, &v)) {
			xlsx_widen(x, c, strlen(s));
			return worksheet_write_number(x->ws, r, col, v, NULL);
		}
		break;
	case XLSX_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
			xlsx_widen(x, c, 5);
			return worksheet_write_boolean(x->ws, r, col, s[0] == 't', NULL);
		}
		break;
	case XLSX_TIME:
		if (xlsx_parse_time(s, &dt)) {
			xlsx_widen(x, c, 19);
			return worksheet_write_datetime(x->ws, r, col, &dt, x->time);
		}
		break;
	case XLSX_TEXT:
		break;
	}
	xlsx_widen(x, c, display_width(s));
	return worksheet_write_string(x->ws, r, col, s, NULL);
}

enum xlsx_status xlsx_row(struct xlsx *x, const char *const *cells)
{
	if (x->row >= x->max) {
		x->err = "the sheet is full";
		return XLSX_FULL;
	}
	for (int c = 0; c < x->n; c++) {
		lxw_error e;

		if (cells[c] == NULL || cells[c][0] == '\0')
			continue;
		e = xlsx_cell(x, c, cells[c]);
		if (e != LXW_NO_ERROR) {
			x->err = lxw_strerror(e);
			return XLSX_ERROR;
		}
	}
	x->row++;
	return XLSX_OK;
}

const char *xlsx_error(const struct xlsx *x)
{
	return x->err ? x->err : "no error";
}

int xlsx_close(struct xlsx *x, const char **err)
{
	lxw_error e = LXW_NO_ERROR;

	/* the columns go before the rows in the file: libxlsxwriter puts them
	 * there when it assembles the sheet, so they may be set last */
	for (int c = 0; c < x->n && e == LXW_NO_ERROR; c++) {
		size_t w = x->width[c] + 2;

		e = worksheet_set_column(x->ws, (lxw_col_t)c, (lxw_col_t)c,
		                         (double)(w > XLSX_WIDTH_MAX ? XLSX_WIDTH_MAX : w), NULL);
	}
	if (e != LXW_NO_ERROR) {
		*err = lxw_strerror(e);
		xlsx_abort(x);
		return -1;
	}
	e = workbook_close(x->wb);
	xlsx_free(x);
	*err = e == LXW_NO_ERROR ? NULL : lxw_strerror(e);
	return e == LXW_NO_ERROR ? 0 : -1;
}

void xlsx_abort(struct xlsx *x)
{
	if (x == NULL)
		return;
	lxw_workbook_free(x->wb);
	xlsx_free(x);
}
