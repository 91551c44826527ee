#include "config_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads at most CONFIG_MAX_INPUT + 1 bytes: config_parse refuses more. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	size_t cap = CONFIG_MAX_INPUT + 1, n = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return buf;
}

int config_file_load(const char *path, char *const *overrides, int noverrides,
                     struct streetd_config *cfg, char *err, size_t errlen)
{
	struct config_error ce;
	size_t len;
	char *text;

	if (config_defaults(cfg) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	text = read_file(path, &len, err, errlen);
	if (!text)
		goto fail;
	if (config_parse(cfg, text, len, path, &ce) != 0) {
		free(text);
		config_error_format(&ce, err, errlen);
		goto fail;
	}
	free(text);
	for (int i = 0; i < noverrides; i++) {
		char key[128];
		const char *eq = strchr(overrides[i], '=');

		if (!eq || (size_t)(eq - overrides[i]) >= sizeof(key)) {
			snprintf(err, errlen, "--set %s: expected section.key=value", overrides[i]);
			goto fail;
		}
		memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
		key[eq - overrides[i]] = 0;
		if (config_set(cfg, key, eq + 1, &ce) != 0) {
			config_error_format(&ce, err, errlen);
			goto fail;
		}
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}
