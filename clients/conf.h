/*
 * conf: the connection settings file, ~/.config/streetctl/config (or
 * $XDG_CONFIG_HOME/streetctl/config, or the file $STREETCTL_CONFIG names):
 *
 *   # comments and blank lines are ignored
 *   server = streetd.example.org
 *   port   = 7443
 *   ca     = /etc/streetd/ca.crt
 *   cert   = wang.fang.crt        # relative paths are relative to this file
 *   key    = wang.fang.key
 *
 * A value may be in double quotes (for leading or trailing blanks); "~/"
 * at the start of a path is the home directory.  The daemon's own config
 * parser (lib/config.c) is for its sectioned table; this is five keys.
 */
#ifndef STREETCTL_CONF_H
#define STREETCTL_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl.h"

/* Fills s with the built-in defaults (127.0.0.1, 7443, no files). */
void conf_defaults(struct ctl_settings *s);

/*
 * The file to read: $STREETCTL_CONFIG when set (*must_exist true), else the
 * XDG location (*must_exist false).  Returns 0, or -1 when no path can be
 * made (no HOME).
 */
int conf_path(char *buf, size_t cap, bool *must_exist);

/*
 * Reads the file into s.  A missing file is fine unless must_exist.
 * Returns 0, or EX_CONFIG after printing what is wrong and where.
 */
int conf_load(struct ctl_settings *s, const char *path, bool must_exist);

/* Expands "~/" and makes a relative path relative to dir (NULL: as given). */
void conf_resolve_path(char *dst, size_t cap, const char *value, const char *dir);

#endif
