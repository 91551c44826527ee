/* photo: see photo.h. */
#include "photo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fail.h"
#include "fmt.h"
#include "proto.h"
#include "rpc.h"

/* Larger than any server limit we know of; refuses to read a disk image into memory. */
#define PHOTO_READ_MAX (64L * 1024 * 1024)

static int photo_read(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;
	size_t got;

	if (f == NULL)
		return fail(EX_NOINPUT, "cannot read %s: %s; check the --photo path", path,
		            strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return fail(EX_NOINPUT, "cannot read %s: not a regular file; give a JPEG or PNG",
		            path);
	}
	if (size == 0 || size > PHOTO_READ_MAX) {
		fclose(f);
		return fail(EX_DATAERR, "%s is %s; give a JPEG or PNG photo", path,
		            size == 0 ? "empty" : "far too large");
	}
	*data = malloc((size_t)size);
	if (*data == NULL) {
		fclose(f);
		return fail(EX_SOFTWARE, "out of memory");
	}
	got = fread(*data, 1, (size_t)size, f);
	fclose(f);
	if (got != (size_t)size) {
		free(*data);
		return fail(EX_IOERR, "cannot read all of %s; try again", path);
	}
	*len = got;
	return 0;
}

static void photo_sha256(const unsigned char *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

/* Sends one op and keeps its result in *res; adds what the file is to the error. */
static int photo_step(struct ctl *ctl, json_object *req, json_object **res)
{
	int rc = rpc_call(ctl, req, res);

	json_object_put(req);
	return rc;
}

int photo_upload(struct ctl *ctl, const char *path, long long *id)
{
	unsigned char *data = NULL;
	char hex[65], *b64 = NULL;
	size_t len = 0;
	long long upload;
	json_object *req, *res = NULL;
	int rc = photo_read(path, &data, &len);

	if (rc != 0)
		return rc;
	photo_sha256(data, len, hex);
	req = rpc_new("photo_begin");
	json_object_object_add(req, "size", json_object_new_int64((int64_t)len));
	json_object_object_add(req, "sha256", json_object_new_string(hex));
	rc = photo_step(ctl, req, &res);
	if (rc != 0)
		goto out;
	upload = fmt_int(res, "upload", 0);
	json_object_put(res);
	res = NULL;
	b64 = malloc(4 * ((PROTO_CHUNK_MAX + 2) / 3) + 1);
	if (b64 == NULL) {
		rc = fail(EX_SOFTWARE, "out of memory");
		goto out;
	}
	for (size_t off = 0; off < len; off += PROTO_CHUNK_MAX) {
		size_t n = len - off < PROTO_CHUNK_MAX ? len - off : PROTO_CHUNK_MAX;

		EVP_EncodeBlock((unsigned char *)b64, data + off, (int)n);
		req = rpc_new("photo_chunk");
		json_object_object_add(req, "upload", json_object_new_int64(upload));
		json_object_object_add(req, "offset", json_object_new_int64((int64_t)off));
		json_object_object_add(req, "data", json_object_new_string(b64));
		rc = photo_step(ctl, req, &res);
		json_object_put(res);
		res = NULL;
		if (rc != 0)
			goto out;
	}
	req = rpc_new("photo_end");
	json_object_object_add(req, "upload", json_object_new_int64(upload));
	rc = photo_step(ctl, req, &res);
	if (rc == 0)
		*id = fmt_int(fmt_get(res, "photo"), "id", 0);
out:
	json_object_put(res);
	free(b64);
	free(data);
	return rc;
}
