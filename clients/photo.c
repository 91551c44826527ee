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

/* Decodes one chunk's base64; the number of bytes, or -1 when it is not base64. */
static long photo_unbase64(const char *b64, unsigned char *out, size_t cap)
{
	size_t n = strlen(b64), pad = 0;
	int got;

	if (n % 4 != 0 || n / 4 * 3 > cap)
		return -1;
	if (n == 0)
		return 0;
	pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
	got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (got < 0 || (size_t)got < pad)
		return -1;
	return (long)((size_t)got - pad); /* EVP_DecodeBlock counts the padding as bytes */
}

int photo_download(struct ctl *ctl, long long id, unsigned char **data, size_t *len,
                   json_object **info)
{
	unsigned char *buf = NULL;
	size_t size = 0, off = 0;
	char hex[65];
	int rc = 0;

	*data = NULL;
	*len = 0;
	*info = NULL;
	do {
		json_object *req = rpc_new("photo_get"), *res = NULL;
		const char *b64;
		long n;

		json_object_object_add(req, "photo", json_object_new_int64(id));
		json_object_object_add(req, "offset", json_object_new_int64((int64_t)off));
		json_object_object_add(req, "length", json_object_new_int(PROTO_CHUNK_MAX));
		rc = photo_step(ctl, req, &res);
		if (rc != 0)
			break;
		if (*info == NULL) {
			long long sz = fmt_int(fmt_get(res, "photo"), "size", 0);

			*info = json_object_get(fmt_get(res, "photo"));
			if (sz <= 0 || sz > PHOTO_READ_MAX) {
				json_object_put(res);
				rc = fail(EX_IOERR,
				          "photo %lld: the server gives a size of %lld bytes; "
				          "check that server and port name a streetd",
				          id, sz);
				break;
			}
			size = (size_t)sz;
			buf = malloc(size + PROTO_CHUNK_MAX);
			if (buf == NULL) {
				json_object_put(res);
				rc = fail(EX_SOFTWARE, "out of memory");
				break;
			}
		}
		b64 = fmt_str(res, "data");
		n = b64 != NULL && fmt_int(res, "offset", -1) == (long long)off
		            ? photo_unbase64(b64, buf + off, size + PROTO_CHUNK_MAX - off)
		            : -1;
		json_object_put(res);
		/* nothing new, or more than the photo holds: a reply that cannot be right */
		if (n <= 0 || off + (size_t)n > size) {
			rc = fail(EX_IOERR,
			          "photo %lld: the server sent a bad chunk at byte %zu; try again",
			          id, off);
			break;
		}
		off += (size_t)n;
	} while (off < size);
	if (rc == 0) {
		photo_sha256(buf, size, hex);
		if (strcmp(hex, fmt_str(*info, "sha256") ? fmt_str(*info, "sha256") : "") != 0)
			rc = fail(EX_IOERR,
			          "photo %lld does not match its SHA-256 (damaged on the way or in "
			          "storage); nothing was written; try again, and report it if it "
			          "stays so",
			          id);
	}
	if (rc != 0) {
		free(buf);
		json_object_put(*info);
		*info = NULL;
		return rc;
	}
	*data = buf;
	*len = size;
	return 0;
}
