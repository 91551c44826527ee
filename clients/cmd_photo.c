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
#include "outfile.h"
#include "photo.h"
#include "proto.h"

int cmd_photo(struct ctl *ctl, const struct args *a)
{
	const char *path = args_get(a, "output");
	bool force = args_has(a, "force"), to_stdout;
	struct outfile out;
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
	rc = outfile_open(&out, path, force); /* refuses an existing file before the download */
	if (rc == 0)
		rc = photo_download(ctl, id, &data, &len, &info);
	if (rc == 0 && fwrite(data, 1, len, out.f) != len)
		rc = fail(EX_IOERR, "cannot write the photo: %s", strerror(errno));
	if (rc == 0)
		rc = outfile_commit(&out);
	else
		outfile_abort(&out);
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
