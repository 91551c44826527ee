/* table: see table.h. */
#include "table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "display.h"
#include "out.h"

struct table_cell {
	char *text;
	const char *sgr;
};

struct table {
	int ncols, nrows, cap;
	const char *headers[TABLE_MAX_COLS];
	size_t maxw[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS];
	struct table_cell *cells; /* nrows * ncols */
};

static void *table_xmalloc(size_t n)
{
	void *p = calloc(1, n);

	if (p == NULL)
		abort(); /* out of memory in a short-lived client */
	return p;
}

struct table *table_new(int ncols, const char *const *headers)
{
	struct table *t = table_xmalloc(sizeof(*t));

	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (int i = 0; i < t->ncols; i++)
		t->headers[i] = headers[i];
	return t;
}

void table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i].text);
	free(t->cells);
	free(t);
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		int ncap = t->cap ? t->cap * 2 : 16;
		struct table_cell *nc = realloc(t->cells, sizeof(*nc) * (size_t)(ncap * t->ncols));

		if (nc == NULL)
			abort();
		t->cells = nc;
		t->cap = ncap;
	}
	for (int i = 0; i < t->ncols; i++) {
		struct table_cell *c = &t->cells[t->nrows * t->ncols + i];

		c->text = out_clean(cells[i] != NULL ? cells[i] : "-");
		c->sgr = NULL;
	}
	return t->nrows++;
}

void table_style(struct table *t, int row, int col, const char *sgr)
{
	if (row >= 0 && row < t->nrows && col >= 0 && col < t->ncols)
		t->cells[row * t->ncols + col].sgr = sgr;
}

void table_max_width(struct table *t, int col, size_t width)
{
	if (col >= 0 && col < t->ncols)
		t->maxw[col] = width;
}

void table_right(struct table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->right[col] = true;
}

void table_pad(FILE *f, const char *s, size_t width)
{
	char *c = out_clean(s);
	size_t w = display_width(c);

	fputs(c, f);
	free(c);
	for (; w < width; w++)
		fputc(' ', f);
}

size_t table_term_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* Applies the column limits: cuts cells that are too wide. */
static void table_cut(struct table *t, int col, size_t width)
{
	for (int r = 0; r < t->nrows; r++) {
		struct table_cell *c = &t->cells[r * t->ncols + col];
		size_t cap = strlen(c->text) + 4;
		char *cut;

		if (display_width(c->text) <= width)
			continue;
		cut = table_xmalloc(cap);
		display_truncate(cut, cap, c->text, width);
		free(c->text);
		c->text = cut;
	}
}

static void table_cell_out(FILE *f, const char *text, const char *sgr, size_t width, bool right,
                           bool last, bool colour)
{
	size_t w = display_width(text);

	if (right)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
	/* text was cleaned by table_add (headers are ours) */
	if (colour && sgr != NULL) {
		out_style(f, colour, sgr);
		fputs(text, f);
		out_style(f, colour, NULL);
	} else {
		fputs(text, f);
	}
	if (!right && !last)
		for (size_t i = w; i < width; i++)
			fputc(' ', f);
}

void table_print(struct table *t, FILE *f, bool colour, size_t fit)
{
	size_t width[TABLE_MAX_COLS];

	for (int c = 0; c < t->ncols; c++) {
		if (t->maxw[c] > 0)
			table_cut(t, c, t->maxw[c]);
	}
	for (int c = 0; c < t->ncols; c++) {
		width[c] = display_width(t->headers[c]);
		for (int r = 0; r < t->nrows; r++) {
			size_t w = display_width(t->cells[r * t->ncols + c].text);

			if (w > width[c])
				width[c] = w;
		}
	}
	if (fit > 0 && t->ncols > 1) {
		size_t used = 0;

		for (int c = 0; c < t->ncols - 1; c++)
			used += width[c] + 2;
		if (used + 10 < fit && used + width[t->ncols - 1] > fit) {
			width[t->ncols - 1] = fit - used;
			table_cut(t, t->ncols - 1, width[t->ncols - 1]);
		}
	}
	for (int c = 0; c < t->ncols; c++) {
		if (c > 0)
			fputs("  ", f);
		table_cell_out(f, t->headers[c], "1", width[c], t->right[c], c == t->ncols - 1,
		               colour);
	}
	fputc('\n', f);
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const struct table_cell *cell = &t->cells[r * t->ncols + c];

			if (c > 0)
				fputs("  ", f);
			table_cell_out(f, cell->text, cell->sgr, width[c], t->right[c],
			               c == t->ncols - 1, colour);
		}
		fputc('\n', f);
	}
}
