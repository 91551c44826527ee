/*
 * display: see display.h.  Two sorted range tables, searched by bisection;
 * compact rather than complete (the blocks a ticket's text can hold: CJK,
 * Hangul, kana, fullwidth forms, emoji; Latin, Cyrillic and Arabic marks).
 */
#include "display.h"

#include <string.h>

#include "utf8.h"

struct display_range {
	uint32_t first, last;
};

/* Zero width: combining marks, joiners, direction marks, variation selectors. */
static const struct display_range display_zero[] = {
	{ 0x0300, 0x036F },   { 0x0483, 0x0489 },   { 0x0591, 0x05BD },   { 0x05BF, 0x05BF },
	{ 0x05C1, 0x05C2 },   { 0x05C4, 0x05C5 },   { 0x05C7, 0x05C7 },   { 0x0610, 0x061A },
	{ 0x061C, 0x061C },   { 0x064B, 0x065F },   { 0x0670, 0x0670 },   { 0x06D6, 0x06DC },
	{ 0x06DF, 0x06E4 },   { 0x06E7, 0x06E8 },   { 0x06EA, 0x06ED },   { 0x0711, 0x0711 },
	{ 0x0730, 0x074A },   { 0x0900, 0x0902 },   { 0x093A, 0x093A },   { 0x093C, 0x093C },
	{ 0x0941, 0x0948 },   { 0x094D, 0x094D },   { 0x0951, 0x0957 },   { 0x0E31, 0x0E31 },
	{ 0x0E34, 0x0E3A },   { 0x0E47, 0x0E4E },   { 0x0F71, 0x0F7E },   { 0x0F80, 0x0F84 },
	{ 0x1160, 0x11FF },   { 0x180B, 0x180F },   { 0x1AB0, 0x1AFF },   { 0x1DC0, 0x1DFF },
	{ 0x200B, 0x200F },   { 0x202A, 0x202E },   { 0x2060, 0x2064 },   { 0x2066, 0x206F },
	{ 0x20D0, 0x20FF },   { 0x302A, 0x302D },   { 0x3099, 0x309A },   { 0xFE00, 0xFE0F },
	{ 0xFE20, 0xFE2F },   { 0xFEFF, 0xFEFF },   { 0x1D167, 0x1D169 }, { 0x1D173, 0x1D182 },
	{ 0xE0001, 0xE0001 }, { 0xE0020, 0xE007F }, { 0xE0100, 0xE01EF },
};

/* East Asian Wide and Fullwidth, and emoji drawn in emoji presentation. */
static const struct display_range display_wide[] = {
	{ 0x1100, 0x115F },   { 0x231A, 0x231B },   { 0x2329, 0x232A },   { 0x23E9, 0x23EC },
	{ 0x23F0, 0x23F0 },   { 0x23F3, 0x23F3 },   { 0x25FD, 0x25FE },   { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 },   { 0x267F, 0x267F },   { 0x2693, 0x2693 },   { 0x26A1, 0x26A1 },
	{ 0x26AA, 0x26AB },   { 0x26BD, 0x26BE },   { 0x26C4, 0x26C5 },   { 0x26CE, 0x26CE },
	{ 0x26D4, 0x26D4 },   { 0x26EA, 0x26EA },   { 0x26F2, 0x26F3 },   { 0x26F5, 0x26F5 },
	{ 0x26FA, 0x26FA },   { 0x26FD, 0x26FD },   { 0x2705, 0x2705 },   { 0x270A, 0x270B },
	{ 0x2728, 0x2728 },   { 0x274C, 0x274C },   { 0x274E, 0x274E },   { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 },   { 0x2795, 0x2797 },   { 0x27B0, 0x27B0 },   { 0x27BF, 0x27BF },
	{ 0x2B1B, 0x2B1C },   { 0x2B50, 0x2B50 },   { 0x2B55, 0x2B55 },   { 0x2E80, 0x303E },
	{ 0x3041, 0x33FF },   { 0x3400, 0x4DBF },   { 0x4E00, 0x9FFF },   { 0xA000, 0xA4CF },
	{ 0xA960, 0xA97F },   { 0xAC00, 0xD7A3 },   { 0xF900, 0xFAFF },   { 0xFE10, 0xFE19 },
	{ 0xFE30, 0xFE6F },   { 0xFF00, 0xFF60 },   { 0xFFE0, 0xFFE6 },   { 0x16FE0, 0x16FE4 },
	{ 0x17000, 0x18CFF }, { 0x1B000, 0x1B2FF }, { 0x1F004, 0x1F004 }, { 0x1F0CF, 0x1F0CF },
	{ 0x1F18E, 0x1F18E }, { 0x1F191, 0x1F19A }, { 0x1F200, 0x1F202 }, { 0x1F210, 0x1F23B },
	{ 0x1F240, 0x1F248 }, { 0x1F250, 0x1F251 }, { 0x1F260, 0x1F265 }, { 0x1F300, 0x1F320 },
	{ 0x1F32D, 0x1F335 }, { 0x1F337, 0x1F37C }, { 0x1F37E, 0x1F393 }, { 0x1F3A0, 0x1F3CA },
	{ 0x1F3CF, 0x1F3D3 }, { 0x1F3E0, 0x1F3F0 }, { 0x1F3F4, 0x1F3F4 }, { 0x1F3F8, 0x1F43E },
	{ 0x1F440, 0x1F440 }, { 0x1F442, 0x1F4FC }, { 0x1F4FF, 0x1F53D }, { 0x1F54B, 0x1F54E },
	{ 0x1F550, 0x1F567 }, { 0x1F57A, 0x1F57A }, { 0x1F595, 0x1F596 }, { 0x1F5A4, 0x1F5A4 },
	{ 0x1F5FB, 0x1F64F }, { 0x1F680, 0x1F6C5 }, { 0x1F6CC, 0x1F6CC }, { 0x1F6D0, 0x1F6D2 },
	{ 0x1F6D5, 0x1F6D7 }, { 0x1F6DC, 0x1F6DF }, { 0x1F6EB, 0x1F6EC }, { 0x1F6F4, 0x1F6FC },
	{ 0x1F7E0, 0x1F7EB }, { 0x1F7F0, 0x1F7F0 }, { 0x1F90C, 0x1F93A }, { 0x1F93C, 0x1F945 },
	{ 0x1F947, 0x1F9FF }, { 0x1FA70, 0x1FAFF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

static int display_in(const struct display_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	if (cp < t[0].first || cp > t[n - 1].last)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp > t[mid].last)
			lo = mid + 1;
		else if (cp < t[mid].first)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

#define DISPLAY_N(t) (sizeof(t) / sizeof((t)[0]))

int display_cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0;
	if (cp < 0x300)
		return 1; /* fast path: ASCII and Latin-1 */
	if (display_in(display_zero, DISPLAY_N(display_zero), cp))
		return 0;
	if (display_in(display_wide, DISPLAY_N(display_wide), cp))
		return 2;
	return 1;
}

size_t display_next(const char *s, size_t n, uint32_t *cp)
{
	size_t len = utf8_decode(s, n, cp);

	if (len > 0)
		return len;
	*cp = UINT32_MAX; /* drawn as one replacement character: one column */
	return 1;
}

/* Columns of the character just decoded (an invalid byte is one column). */
static size_t display_cols(uint32_t cp)
{
	return cp == UINT32_MAX ? 1 : (size_t)display_cp_width(cp);
}

size_t display_width_n(const char *s, size_t len)
{
	size_t w = 0, i = 0;

	while (i < len) {
		uint32_t cp;

		i += display_next(s + i, len - i, &cp);
		w += display_cols(cp);
	}
	return w;
}

size_t display_width(const char *s)
{
	return display_width_n(s, strlen(s));
}

/* "…", U+2026: one column. */
#define DISPLAY_ELLIPSIS     "\xe2\x80\xa6"
#define DISPLAY_ELLIPSIS_LEN 3

size_t display_truncate(char *dst, size_t cap, const char *src, size_t width)
{
	size_t len = strlen(src), i = 0, w = 0;
	size_t keep = 0, keep_w = 0; /* the longest prefix leaving room for "…" */
	int cut = 0;

	if (cap == 0)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n = display_next(src + i, len - i, &cp);
		size_t cw = display_cols(cp);

		if (w + cw > width || i + n >= cap) {
			cut = 1;
			break;
		}
		i += n;
		w += cw;
		if (w + 1 <= width && i + DISPLAY_ELLIPSIS_LEN < cap) {
			keep = i;
			keep_w = w;
		}
	}
	if (!cut) {
		memcpy(dst, src, len);
		dst[len] = '\0';
		return w;
	}
	if (width == 0 || cap <= DISPLAY_ELLIPSIS_LEN) {
		dst[0] = '\0';
		return 0;
	}
	/* keep grew with every character that left room, zero-width ones included */
	memcpy(dst, src, keep);
	memcpy(dst + keep, DISPLAY_ELLIPSIS, DISPLAY_ELLIPSIS_LEN + 1);
	return keep_w + 1;
}
