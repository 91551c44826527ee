/*
 * photo: uploads a file with photo_begin / photo_chunk / photo_end
 * (docs/protocol.md, Photos) and returns the photo id to attach, and
 * downloads one with photo_get.  The SHA-256 is computed here (OpenSSL EVP)
 * so that either side can tell a damaged transfer from a good one.
 */
#ifndef STREETCTL_PHOTO_H
#define STREETCTL_PHOTO_H

#include "ctl.h"

/* 0 and *id, or an exit code after printing (EX_NOINPUT for an unreadable file). */
int photo_upload(struct ctl *ctl, const char *path, long long *id);

/*
 * Downloads photo id with photo_get, a chunk of at most PROTO_CHUNK_MAX bytes
 * at a time, and checks the whole against the size and SHA-256 the server
 * gives.  0 with *data (malloc'd, the caller frees), *len and *info (the
 * photo object {id, sha256, mime, size, ticket_id}; the caller puts), or an
 * exit code after printing (EX_IOERR when the bytes do not match).
 */
int photo_download(struct ctl *ctl, long long id, unsigned char **data, size_t *len,
                   json_object **info);

#endif
