/*
 * csv: RFC 4180 output for spreadsheets.  A field is quoted when it holds a
 * comma, a double quote, CR or LF (its quotes doubled); records end in CRLF.
 * The file starts with a UTF-8 byte order mark so that Excel reads Chinese
 * as UTF-8 rather than the system's code page.  Bytes are written as given
 * (the server's text is UTF-8).
 */
#ifndef STREETCTL_CSV_H
#define STREETCTL_CSV_H

#include <stdio.h>

/* Writes the UTF-8 byte order mark (EF BB BF). */
void csv_bom(FILE *f);

/* Writes one record of n fields (NULL is an empty field), then CRLF. */
void csv_row(FILE *f, const char *const *fields, int n);

#endif
