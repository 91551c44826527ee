/* state: see state.h. */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

/* Copies s keeping only characters safe in a file name. */
static void state_safe(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < cap; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':';

		dst[o++] = ok ? c : '_';
	}
	dst[o] = '\0';
}

int state_path(char *buf, size_t cap, const char *server, int port, const char *login)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char srv[300], who[200], dir[CTL_PATH_MAX];
	int n;

	if (xdg != NULL && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s/streetctl", xdg);
	else if (home != NULL && home[0] != '\0')
		snprintf(dir, sizeof(dir), "%s/.local/state/streetctl", home);
	else
		return -1;
	state_safe(srv, sizeof(srv), server);
	if (port != CTL_DEFAULT_PRT)
		snprintf(srv + strlen(srv), sizeof(srv) - strlen(srv), "_%d", port);
	state_safe(who, sizeof(who), login);
	n = snprintf(buf, cap, "%s/watch-%s-%s.seq", dir, srv, who);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int state_read(const char *path, long long *seq)
{
	FILE *f = fopen(path, "r");
	char line[64], *end;
	long long v;

	if (f == NULL)
		return errno == ENOENT ? 1 : -1;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	errno = 0;
	v = strtoll(line, &end, 10);
	if (errno != 0 || end == line || (*end != '\0' && *end != '\n') || v < 0)
		return -1;
	*seq = v;
	return 0;
}

/* mkdir -p of path's directory. */
static int state_mkdirs(const char *path)
{
	char dir[CTL_PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

int state_write(const char *path, long long seq)
{
	char tmp[CTL_PATH_MAX + 16];
	FILE *f;
	int ok;

	if (state_mkdirs(path) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	ok = fprintf(f, "%lld\n", seq) > 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}
