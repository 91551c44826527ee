#include "sb_http.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Headers larger than this are not what streetd sends: refused. */
#define SB_HTTP_MAX_HEAD 16384

static int parse_status(const char *p, size_t n)
{
	/* "HTTP/1.x NNN" */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

int sb_http_status(struct evbuffer *in)
{
	size_t eol = 0;
	struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_CRLF);
	const char *line;

	if (p.pos < 0)
		return evbuffer_get_length(in) > SB_HTTP_MAX_HEAD ? -1 : 0;
	line = (const char *)evbuffer_pullup(in, p.pos);
	return line ? parse_status(line, (size_t)p.pos) : -1;
}

int sb_http_take(struct evbuffer *in, int *status)
{
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	const char *head;
	size_t head_len, body = 0;
	bool have_length = false;

	if (end.pos < 0)
		return evbuffer_get_length(in) > SB_HTTP_MAX_HEAD ? -1 : 0;
	head_len = (size_t)end.pos + 4;
	head = (const char *)evbuffer_pullup(in, (ev_ssize_t)head_len);
	if (!head || (*status = parse_status(head, head_len)) < 0)
		return -1;
	/* each header line follows a '\n' */
	for (size_t i = 0; i + 1 < head_len; i++) {
		const char *l = head + i + 1;

		if (head[i] != '\n' || head_len - i - 1 <= 15 ||
		    strncasecmp(l, "Content-Length:", 15) != 0)
			continue;
		char *e;
		unsigned long long v = strtoull(l + 15, &e, 10);

		if (e == l + 15 || v > (1ull << 32))
			return -1;
		body = (size_t)v;
		have_length = true;
	}
	if (!have_length)
		return -1;
	if (evbuffer_get_length(in) < head_len + body)
		return 0;
	evbuffer_drain(in, head_len + body);
	return 1;
}
