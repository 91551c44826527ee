/* conf: see conf.h. */
#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"

void conf_defaults(struct ctl_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->server, sizeof(s->server), "%s", CTL_DEFAULT_SRV);
	s->port = CTL_DEFAULT_PRT;
}

int conf_path(char *buf, size_t cap, bool *must_exist)
{
	const char *env = getenv("STREETCTL_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	*must_exist = false;
	if (env != NULL && env[0] != '\0') {
		*must_exist = true;
		n = snprintf(buf, cap, "%s", env);
	} else if (xdg != NULL && xdg[0] == '/') {
		n = snprintf(buf, cap, "%s/streetctl/config", xdg);
	} else if (home != NULL && home[0] != '\0') {
		n = snprintf(buf, cap, "%s/.config/streetctl/config", home);
	} else {
		return -1;
	}
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void conf_resolve_path(char *dst, size_t cap, const char *value, const char *dir)
{
	const char *home = getenv("HOME");

	if (strncmp(value, "~/", 2) == 0 && home != NULL)
		snprintf(dst, cap, "%s/%s", home, value + 2);
	else if (value[0] != '/' && value[0] != '\0' && dir != NULL)
		snprintf(dst, cap, "%s/%s", dir, value);
	else
		snprintf(dst, cap, "%s", value);
}

static char *conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Parses one "key = value" line into s; returns NULL or what is wrong. */
static const char *conf_line(struct ctl_settings *s, char *line, const char *dir)
{
	char *eq = strchr(line, '='), *key, *val;

	if (eq == NULL)
		return "expected key = value";
	*eq = '\0';
	key = conf_trim(line);
	val = conf_trim(eq + 1);
	if (val[0] == '"') {
		char *end = strrchr(val + 1, '"');

		if (end == NULL || conf_trim(end + 1)[0] != '\0')
			return "unterminated quotes";
		*end = '\0';
		val++;
	} else {
		char *hash = strchr(val, '#'); /* a comment after the value */

		if (hash != NULL) {
			*hash = '\0';
			val = conf_trim(val);
		}
	}
	if (strcmp(key, "server") == 0) {
		if (val[0] == '\0' || strlen(val) >= sizeof(s->server))
			return "server must be a host name or address";
		snprintf(s->server, sizeof(s->server), "%s", val);
	} else if (strcmp(key, "port") == 0) {
		char *end;
		long p;

		errno = 0;
		p = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || p < 1 || p > 65535)
			return "port must be a number from 1 to 65535";
		s->port = (int)p;
	} else if (strcmp(key, "ca") == 0) {
		conf_resolve_path(s->ca, sizeof(s->ca), val, dir);
	} else if (strcmp(key, "cert") == 0) {
		conf_resolve_path(s->cert, sizeof(s->cert), val, dir);
	} else if (strcmp(key, "key") == 0) {
		conf_resolve_path(s->key, sizeof(s->key), val, dir);
	} else {
		return "unknown key (known: server, port, ca, cert, key)";
	}
	return NULL;
}

int conf_load(struct ctl_settings *s, const char *path, bool must_exist)
{
	char dir[CTL_PATH_MAX], line[2048];
	char *slash;
	FILE *f = fopen(path, "r");
	int lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return fail(EX_CONFIG, "cannot read the config file %s: %s; fix STREETCTL_CONFIG",
		            path, strerror(errno));
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	while (fgets(line, sizeof(line), f) != NULL) {
		char *l = conf_trim(line);
		const char *why;

		lineno++;
		if (l[0] == '\0' || l[0] == '#')
			continue;
		why = conf_line(s, l, dir);
		if (why != NULL) {
			fclose(f);
			return fail(EX_CONFIG, "%s:%d: %s; fix the config file", path, lineno, why);
		}
	}
	fclose(f);
	return 0;
}
