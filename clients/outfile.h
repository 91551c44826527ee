/*
 * outfile: where a document (export, bulletin) or a photo is written.  "-" (or no -o)
 * is standard output; a file is written to a temporary file next to it and
 * appears whole or not at all (outfile_commit links or renames it), and an
 * existing file is kept unless --force.
 */
#ifndef STREETCTL_OUTFILE_H
#define STREETCTL_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct outfile {
	FILE *f;    /* write here */
	char *path; /* the target, NULL for standard output */
	char *tmp;  /* the temporary file, NULL for standard output; a writer that
	             * needs a name (xlsx.h) writes it by name, done before commit,
	             * whose fsync through f reaches the same file */
	bool force;
};

/* Opens path ("-" or NULL: standard output).  0, or an exit code after one
 * error line (EX_CANTCREAT: it exists without force, or cannot be made). */
int outfile_open(struct outfile *o, const char *path, bool force);

/* Flushes and puts the file in place; 0, or an exit code after one error
 * line (the temporary file is removed).  Releases what o owns either way. */
int outfile_commit(struct outfile *o);

/* Gives up: removes the temporary file and releases what o owns. */
void outfile_abort(struct outfile *o);

#endif
