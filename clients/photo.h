/*
 * photo: uploads a file with photo_begin / photo_chunk / photo_end
 * (docs/protocol.md, Photos) and returns the photo id to attach.  The
 * SHA-256 is computed here (OpenSSL EVP) so the server can tell a damaged
 * upload from a good one.
 */
#ifndef STREETCTL_PHOTO_H
#define STREETCTL_PHOTO_H

#include "ctl.h"

/* 0 and *id, or an exit code after printing (EX_NOINPUT for an unreadable file). */
int photo_upload(struct ctl *ctl, const char *path, long long *id);

#endif
