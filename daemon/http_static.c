/*
 * http_static: the web console's files (docs/console.md) from http.web_root,
 * and Debian's Chart.js and Leaflet under /javascript/chart.js/ and
 * /javascript/leaflet/ from http.js_root.  GET and HEAD, no client
 * certificate needed (what the pages fetch through /api does need one).
 *
 * A name is served only when every segment of the path is plain ([A-Za-z0-9_-]
 * and dots, not first), its extension is on the whitelist (which decides the
 * Content-Type), it resolves (realpath) inside its root, and it is a regular
 * file of at most MAX_FILE bytes; anything else is 404, the
 * same answer as a missing file.  Files are read per request (they are
 * small, and an edit under web_root shows on the next load); answers carry an
 * ETag (inode, size, mtime) with Cache-Control: no-cache, so a reload is a
 * 304.
 *
 * Why per request and not a cache: the files are small (the console is
 * under 200 KiB, the biggest library file under 1 MiB) and in the page
 * cache after the first read, a browser revalidates them with the ETag (a
 * 304 reads nothing), and an operator (or a developer under scripts/run)
 * who changes a file sees it on the next load without a reload of the
 * daemon.  The read blocks the event loop for the length of a memcpy from
 * the page cache; MAX_FILE bounds it.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "http_conn.h"
#include "log.h"

/* Longest request path looked at: the console's names are short. */
#define MAX_PATH_LEN 256
/* Largest file served: the biggest of Debian's library files is under 1 MiB. */
#define MAX_FILE (4 * 1024 * 1024)

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".map", "application/json; charset=utf-8" },
};

/* The libraries served from http.js_root: /javascript/NAME/... only. */
static const char *const js_libs[] = { "chart.js", "leaflet" };

static const char *type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* Plain segments only: no empty one ("//", a trailing "/"), none starting
 * with '.' ("..", dotfiles), only [A-Za-z0-9._-]: no '%' escape (an encoded
 * slash or dot), no backslash, no control byte. */
static bool path_ok(const char *path)
{
	const char *p = path;

	if (*p != '/' || strlen(path) > MAX_PATH_LEN)
		return false;
	while (*p == '/') {
		const char *seg = ++p;

		if (*seg == '\0' || *seg == '.' || *seg == '/')
			return false;
		while (*p && *p != '/') {
			char ch = *p++;

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
				return false;
		}
	}
	return *p == '\0';
}

static void not_found(struct http_conn *c, struct evhttp_request *req, const char *path,
                      const char *why)
{
	log_debug("http static conn=%llu path=%.100s refused: %s", (unsigned long long)c->id,
	          path ? path : "(none)", why);
	http_respond_error(c, req, PROTO_ERR_NOT_FOUND, "no such file");
}

/* Reads fd (size bytes) whole; false on a short or failed read. */
static bool read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Serves rel (no leading '/') under root, both as configured. */
static void serve(struct http_conn *c, struct evhttp_request *req, const char *path,
                  const char *root, const char *rel, const char *type)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm =
	        evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	char rootreal[PATH_MAX], want[PATH_MAX + MAX_PATH_LEN + 2], real[PATH_MAX], etag[80];
	size_t rn;
	struct stat st;
	char *body;
	int fd;

	if (!realpath(root, rootreal)) {
		log_info("http static: root %s: %s", root, strerror(errno));
		not_found(c, req, path, "root missing");
		return;
	}
	snprintf(want, sizeof(want), "%s/%s", rootreal, rel);
	/* symlinks are followed, but what they lead to must stay inside root */
	if (!realpath(want, real)) {
		not_found(c, req, path, "no such file");
		return;
	}
	rn = strlen(rootreal);
	if (strncmp(real, rootreal, rn) != 0 || (real[rn] != '/' && strcmp(rootreal, "/") != 0)) {
		not_found(c, req, path, "outside the root");
		return;
	}
	/* O_NONBLOCK: a FIFO put there must not block the loop on open() */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		not_found(c, req, path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		close(fd);
		not_found(c, req, path, "not a regular file, or too large");
		return;
	}
	snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_ino,
	         (uint64_t)st.st_size,
	         (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
	/* the files are the same for every client: revalidate, do not re-read */
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "ETag", etag);
	if (inm && strstr(inm, etag)) {
		close(fd);
		http_respond(c, req, 304, NULL, NULL, 0);
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[32];

		close(fd);
		snprintf(len, sizeof(len), "%lld", (long long)st.st_size);
		evhttp_add_header(out, "Content-Length", len);
		http_respond(c, req, 200, type, NULL, 0);
		return;
	}
	body = malloc((size_t)st.st_size + 1);
	if (!body || !read_all(fd, body, (size_t)st.st_size)) {
		close(fd);
		free(body);
		log_err("http static: cannot read %s", real);
		evhttp_remove_header(out, "Cache-Control");
		evhttp_remove_header(out, "ETag");
		http_respond_error(c, req, PROTO_ERR_INTERNAL, "cannot read the file");
		return;
	}
	close(fd);
	http_respond(c, req, 200, type, body, (size_t)st.st_size);
	free(body);
}

void http_static_get(struct http_conn *c, struct evhttp_request *req)
{
	const struct streetd_config *cfg = http_env_of(c)->cfg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *type;
	static const char js_prefix[] = "/javascript/";

	if (path && strcmp(path, "/") == 0)
		path = "/index.html";
	if (!path || !path_ok(path)) {
		not_found(c, req, path, "not a plain name");
		return;
	}
	type = type_of(path);
	if (!type) {
		not_found(c, req, path, "extension not served");
		return;
	}
	if (strncmp(path, js_prefix, sizeof(js_prefix) - 1) == 0) {
		const char *rest = path + sizeof(js_prefix) - 1;

		for (size_t i = 0; i < sizeof(js_libs) / sizeof(js_libs[0]); i++) {
			size_t n = strlen(js_libs[i]);
			char root[PATH_MAX];

			if (strncmp(rest, js_libs[i], n) != 0 || rest[n] != '/')
				continue;
			snprintf(root, sizeof(root), "%s/%s", cfg->http.js_root, js_libs[i]);
			serve(c, req, path, root, rest + n + 1, type);
			return;
		}
		not_found(c, req, path, "not one of the libraries served");
		return;
	}
	serve(c, req, path, cfg->http.web_root, path + 1, type);
}
