/* bars: Unicode block bars (bars.h). */
#include "bars.h"

#include <string.h>

static const char *const bars_eighths[8] = {
	"", "▏", "▎", "▍", "▌", "▋", "▊", "▉",
};

char *bars_render(char *buf, size_t cap, double value, double max, int width)
{
	long eighths, full;
	size_t n = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (!(value > 0) || !(max > 0) || width <= 0)
		return buf;
	if (value > max)
		value = max;
	eighths = (long)(value / max * width * 8 + 0.5);
	if (eighths < 1)
		eighths = 1; /* something, however little, shows */
	full = eighths / 8;
	for (long i = 0; i < full && n + 3 < cap; i++) {
		memcpy(buf + n, "█", 3);
		n += 3;
	}
	if (eighths % 8 && n + 3 < cap) {
		memcpy(buf + n, bars_eighths[eighths % 8], 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}
