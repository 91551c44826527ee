/*
 * proto_reply: the reply framing, {"id":..,"ok":..} with JSON-escaped text.
 * Writes only into the caller's buffer; allocates nothing.
 */
#include "proto.h"

#include <string.h>

#include "utf8.h"

size_t proto_json_escape(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	if (cap == 0)
		return 0;
	while (*p) {
		char tmp[8];
		const char *piece = tmp;
		size_t n, adv = 1;
		unsigned char ch = *p;

		if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			n = 2;
		} else if (ch < 0x20) {
			static const char short_esc[] = {
				['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
			};

			if (ch < sizeof(short_esc) && short_esc[ch]) {
				tmp[0] = '\\';
				tmp[1] = short_esc[ch];
				n = 2;
			} else {
				static const char hex[] = "0123456789abcdef";

				memcpy(tmp, "\\u00", 4);
				tmp[4] = hex[ch >> 4];
				tmp[5] = hex[ch & 0xf];
				n = 6;
			}
		} else if (ch < 0x80) {
			piece = (const char *)p;
			n = 1;
		} else {
			adv = utf8_decode((const char *)p, SIZE_MAX, NULL);
			if (adv == 0) {
				piece = "\\ufffd"; /* keep the reply valid UTF-8 */
				n = 6;
				adv = 1;
			} else {
				piece = (const char *)p;
				n = adv;
			}
		}
		if (cap - o <= n)
			break;
		memcpy(dst + o, piece, n);
		o += n;
		p += adv;
	}
	dst[o] = '\0';
	return o;
}

/* Appends s to buf at *o if it fits with room for the NUL and reserve bytes. */
static bool put(char *buf, size_t cap, size_t *o, const char *s, size_t reserve)
{
	size_t n = strlen(s);

	if (cap - *o <= n + reserve)
		return false;
	memcpy(buf + *o, s, n + 1);
	*o += n;
	return true;
}

size_t proto_format_error(char *buf, size_t cap, const char *id_json, enum proto_error code,
                          const char *message)
{
	static const char tail[] = "\"}}\n";
	size_t o = 0;

	if (cap == 0)
		return 0;
	if (!put(buf, cap, &o, "{\"id\":", 0) ||
	    !put(buf, cap, &o, id_json ? id_json : "null", 0) ||
	    !put(buf, cap, &o, ",\"ok\":false,\"error\":{\"code\":\"", 0) ||
	    !put(buf, cap, &o, proto_error_name(code), 0) ||
	    !put(buf, cap, &o, "\",\"message\":\"", sizeof(tail) - 1)) {
		buf[0] = '\0';
		return 0;
	}
	o += proto_json_escape(buf + o, cap - o - (sizeof(tail) - 1), message ? message : "");
	memcpy(buf + o, tail, sizeof(tail));
	return o + sizeof(tail) - 1;
}

size_t proto_format_ok_prefix(char *buf, size_t cap, const char *id_json)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	if (!put(buf, cap, &o, "{\"id\":", 0) ||
	    !put(buf, cap, &o, id_json ? id_json : "null", 0) ||
	    !put(buf, cap, &o, ",\"ok\":true,\"result\":", 0)) {
		buf[0] = '\0';
		return 0;
	}
	return o;
}
