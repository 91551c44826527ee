/*
 * config_file: reads streetd.conf (the I/O that lib/config.c leaves out) and
 * applies --set overrides on top, for start-up and for SIGHUP.
 */
#ifndef STREETD_CONFIG_FILE_H
#define STREETD_CONFIG_FILE_H

#include <stddef.h>

#include "config.h"

/*
 * Fills *cfg with the defaults, then the file at path, then each "key=value"
 * override.  On error returns -1 with one line in err naming the file, line
 * and key, and *cfg holds nothing to free.  On success the caller owns *cfg
 * (config_free).
 */
int config_file_load(const char *path, char *const *overrides, int noverrides,
                     struct streetd_config *cfg, char *err, size_t errlen);

#endif
