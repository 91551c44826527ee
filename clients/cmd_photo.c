/*
 * cmd_photo: downloads a photo (photo.c checks its SHA-256) into the file
 * named by -o.  The bytes go to a temporary file next to it, renamed into
 * place only once complete and checked, so a failed download leaves
 * nothing; an existing file is kept unless --force.  Image bytes never go
 * to a terminal: "-o -" is refused when standard output is one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "fail.h"
#include "fmt.h"
#include "out.h"
#include "photo.h"
#include "proto.h"

/* Writes all of data to fd; 0 or -1 with errno. */
static int photo_write_all(int fd, const unsigned char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Where the file may go: not over a file without --force, never over a device. */
static int photo_target_ok(const char *path, bool force)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT
		               ? 0
		               : fail(EX_CANTCREAT, "cannot use %s: %s; give another -o FILE", path,
		                      strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(EX_CANTCREAT, "%s is not a regular file; give a file name with -o",
		            path);
	if (!force)
		return fail(EX_CANTCREAT, "%s exists; --force replaces it, or give another -o FILE",
		            path);
	return 0;
}

/* Writes data to path through a temporary file in the same directory. */
static int photo_save(const char *path, const unsigned char *data, size_t len, bool force)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	mode_t mask = umask(0);
	int fd, rc = 0;

	umask(mask);
	if (tmp == NULL)
		return fail(EX_SOFTWARE, "out of memory");
	snprintf(tmp, n + 16, "%s.part-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = fail(EX_CANTCREAT, "cannot create a file next to %s: %s; check the directory",
		          path, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, 0666 & ~mask) != 0 || photo_write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		rc = fail(EX_IOERR, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
	} else if (close(fd) != 0) {
		rc = fail(EX_IOERR, "cannot write %s: %s", tmp, strerror(errno));
	} else if (force ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		/* link() does not replace: a file that appeared meanwhile is kept */
		rc = errno == EEXIST
		             ? fail(EX_CANTCREAT, "%s exists; --force replaces it", path)
		             : fail(EX_CANTCREAT, "cannot create %s: %s", path, strerror(errno));
	}
	if (rc != 0 || !force)
		unlink(tmp);
	free(tmp);
	return rc;
}

int cmd_photo(struct ctl *ctl, const struct args *a)
{
	const char *path = args_get(a, "output");
	bool force = args_has(a, "force"), to_stdout;
	unsigned char *data = NULL;
	json_object *info = NULL;
	size_t len = 0;
	long long id;
	char *end;
	int rc;

	errno = 0;
	id = strtoll(a->pos[0], &end, 10);
	if (errno != 0 || end == a->pos[0] || *end != '\0' || id < 1 || id > PROTO_INT_MAX)
		return fail_usage(a->cmd->name,
		                  "PHOTO: '%s' is not a photo number (streetctl show "
		                  "ID lists a ticket's photos)",
		                  a->pos[0]);
	if (path == NULL || path[0] == '\0')
		return fail_usage(a->cmd->name, "-o FILE is required (- for standard output)");
	to_stdout = strcmp(path, "-") == 0;
	if (to_stdout && isatty(STDOUT_FILENO))
		return fail_usage(a->cmd->name, "standard output is a terminal, and a photo is not "
		                                "text: give -o FILE or redirect it");
	if (to_stdout && ctl->json)
		return fail_usage(a->cmd->name, "--json and -o - both want standard output");
	rc = to_stdout ? 0 : photo_target_ok(path, force);
	if (rc == 0)
		rc = photo_download(ctl, id, &data, &len, &info);
	if (rc == 0 && to_stdout) {
		if (photo_write_all(STDOUT_FILENO, data, len) != 0)
			rc = fail(EX_IOERR, "cannot write the photo to standard output: %s",
			          strerror(errno));
	} else if (rc == 0) {
		rc = photo_save(path, data, len, force);
	}
	if (rc == 0 && ctl->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "photo", json_object_get(info));
		json_object_object_add(o, "path", json_object_new_string(path));
		cmd_print_json(o);
		json_object_put(o);
	} else if (rc == 0 && !to_stdout) {
		out_line(stdout, "photo %lld (%s, %zu bytes, SHA-256 checked) saved to %s", id,
		         fmt_str(info, "mime") ? fmt_str(info, "mime") : "?", len, path);
	}
	free(data);
	json_object_put(info);
	return rc;
}
