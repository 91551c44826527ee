/* tls_files: see tls_files.h. */
#include "tls_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "tls_err.h"

/* A key file is a few hundred bytes; anything this large is not one. */
#define TLS_KEY_FILE_MAX (64 * 1024)

int tls_check_file(const char *label, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (path == NULL || path[0] == '\0') {
		tls_fail(err, errlen, "%s: no file given", label);
		return -1;
	}
	if (stat(path, &st) != 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		tls_fail(err, errlen, "%s %s: not a regular file", label, path);
		return -1;
	}
	return 0;
}

int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1; /* never prompt on a terminal: a daemon has none */
}

/*
 * systemd hands LoadCredential= files to the service in a directory only it
 * can reach; where it cannot use ramfs it grants access with an ACL, which
 * stat shows as group bits.  There, only "others" matter.
 */
static bool in_credentials_dir(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t n = dir ? strlen(dir) : 0;

	return n > 1 && strncmp(path, dir, n) == 0 && path[n] == '/' && !strstr(path + n, "/..");
}

EVP_PKEY *tls_load_key(const char *label, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int fd;

	if (path == NULL || path[0] == '\0') {
		tls_fail(err, errlen, "%s: no file given", label);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO must not hang start-up; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		tls_fail(err, errlen, "%s %s: not a regular file", label, path);
		goto out;
	}
	if (st.st_mode & (in_credentials_dir(path) ? 007 : 077)) {
		mode_t m = st.st_mode;
		const char *how, *who;

		if (m & 044)
			how = "readable", who = (m & 004) ? "others" : "group";
		else if (m & 022)
			how = "writable", who = (m & 002) ? "others" : "group";
		else
			how = "accessible", who = (m & 007) ? "others" : "group";
		tls_fail(err, errlen, "%s %s: mode 0%03o is %s by %s; chmod 600 it", label, path,
		         (unsigned)(m & 07777), how, who);
		goto out;
	}
	if (st.st_size > TLS_KEY_FILE_MAX) {
		tls_fail(err, errlen, "%s %s: %lld bytes is too large for a key file", label, path,
		         (long long)st.st_size);
		goto out;
	}
	text = malloc(TLS_KEY_FILE_MAX + 1);
	if (text == NULL) {
		tls_fail(err, errlen, "%s %s: out of memory", label, path);
		goto out;
	}
	while (len < TLS_KEY_FILE_MAX) {
		ssize_t r = read(fd, text + len, TLS_KEY_FILE_MAX - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tls_fail(err, errlen, "%s %s: %s", label, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	if (strstr(text, "ENCRYPTED") != NULL) {
		tls_fail(err, errlen,
		         "%s %s: the key is encrypted; give streetd an unencrypted key (mode 600)",
		         label, path);
		goto out;
	}
	bio = BIO_new_mem_buf(text, (int)len);
	if (bio == NULL) {
		tls_fail_ssl(err, errlen, label, path, "cannot read the private key");
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		tls_fail_ssl(err, errlen, label, path, "cannot read the private key (PEM)");
out:
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	close(fd);
	return pkey;
}
