/* csv: RFC 4180 records (csv.h). */
#include "csv.h"

#include <string.h>

void csv_bom(FILE *f)
{
	fputs("\xef\xbb\xbf", f);
}

static void csv_field(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void csv_row(FILE *f, const char *const *fields, int n)
{
	for (int i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		csv_field(f, fields[i]);
	}
	fputs("\r\n", f);
}
