/* outfile: a document written whole or not at all (outfile.h). */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "fail.h"

int outfile_open(struct outfile *o, const char *path, bool force)
{
	struct stat st;
	int fd;

	memset(o, 0, sizeof(*o));
	o->force = force;
	if (path == NULL || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return fail(EX_CANTCREAT,
			            "%s is not a regular file; give a file name with -o", path);
		if (!force)
			return fail(EX_CANTCREAT,
			            "%s exists; --force replaces it, or give another -o FILE",
			            path);
	} else if (errno != ENOENT) {
		return fail(EX_CANTCREAT, "cannot use %s: %s; give another -o FILE", path,
		            strerror(errno));
	}
	o->path = strdup(path);
	if (o->path == NULL || asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
		free(o->path);
		o->path = NULL;
		o->tmp = NULL;
		return fail(EX_SOFTWARE, "out of memory");
	}
	fd = mkstemp(o->tmp);
	/* mkstemp makes it 0600: give it the mode any new file would have */
	if (fd >= 0) {
		mode_t mask = umask(0);

		umask(mask);
		if (fchmod(fd, 0666 & ~mask) != 0) {
			close(fd);
			unlink(o->tmp);
			fd = -1;
		}
	}
	if (fd < 0 || (o->f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		outfile_abort(o);
		return fail(EX_CANTCREAT,
		            "cannot create a file next to %s: %s; check the directory", path,
		            strerror(e));
	}
	return 0;
}

static void outfile_release(struct outfile *o)
{
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
}

int outfile_commit(struct outfile *o)
{
	int rc = 0;

	if (o->tmp == NULL) {
		if (o->f != NULL && fflush(o->f) != 0)
			rc = fail(EX_IOERR, "cannot write to standard output: %s", strerror(errno));
		outfile_release(o);
		return rc;
	}
	if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0) {
		rc = fail(EX_IOERR, "cannot write %s: %s", o->tmp, strerror(errno));
		fclose(o->f);
	} else if (fclose(o->f) != 0) {
		rc = fail(EX_IOERR, "cannot write %s: %s", o->tmp, strerror(errno));
	} else if (o->force ? rename(o->tmp, o->path) != 0 : link(o->tmp, o->path) != 0) {
		rc = errno == EEXIST
		             ? fail(EX_CANTCREAT, "%s exists; --force replaces it", o->path)
		             : fail(EX_CANTCREAT, "cannot create %s: %s", o->path, strerror(errno));
	}
	/* after link() (or a failure) the temporary name goes; after rename() it is gone */
	if (rc != 0 || !o->force)
		unlink(o->tmp);
	outfile_release(o);
	return rc;
}

void outfile_abort(struct outfile *o)
{
	if (o->tmp != NULL) {
		if (o->f != NULL)
			fclose(o->f);
		unlink(o->tmp);
	}
	outfile_release(o);
}
