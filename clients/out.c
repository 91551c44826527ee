/* out: see out.h. */
#include "out.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

/* U+FFFD in UTF-8: what a neutralised character is shown as. */
#define OUT_REPLACEMENT "\xef\xbf\xbd"

/* 0: keep; 1: a space; 2: the replacement character. */
static int out_class(uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029)
		return 1;
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == UINT32_MAX)
		return 2;
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 2;
	return 0;
}

char *out_clean(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, o = 0;
	/* each input byte becomes at most 3 output bytes */
	char *c = malloc(3 * n + 1);

	if (c == NULL)
		abort(); /* out of memory in a short-lived client */
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = display_next(s + i, n - i, &cp);

		switch (out_class(cp)) {
		case 0:
			memcpy(c + o, s + i, k);
			o += k;
			break;
		case 1:
			c[o++] = ' ';
			break;
		default:
			memcpy(c + o, OUT_REPLACEMENT, 3);
			o += 3;
			break;
		}
		i += k;
	}
	c[o] = '\0';
	return c;
}

void out_text(FILE *f, const char *s)
{
	char *c = out_clean(s);

	fputs(c, f);
	free(c);
}

void out_vprintf(FILE *f, const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *buf;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		abort();
	vsnprintf(buf, (size_t)n + 1, fmt, ap);
	out_text(f, buf);
	free(buf);
}

void out_printf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(f, fmt, ap);
	va_end(ap);
}

void out_line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

void out_style(FILE *f, bool colour, const char *sgr)
{
	if (colour)
		fprintf(f, "\033[%sm", sgr != NULL ? sgr : "0");
}
