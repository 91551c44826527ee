/*
 * tls_files: the checks on certificate and key files before OpenSSL reads
 * them, and the private key loading, shared by the daemon and streetctl.
 * Errors go to err as tls_err.h describes.
 */
#ifndef STREET_TLS_FILES_H
#define STREET_TLS_FILES_H

#include <stddef.h>

#include <openssl/evp.h>

/*
 * 0 when path names a regular file, or -1 with "LABEL PATH: why" in err:
 * a clear message before OpenSSL's own.
 */
int tls_check_file(const char *label, const char *path, char *err, size_t errlen);

/* A pem_password_cb that never prompts (a daemon has no terminal): encrypted PEM fails. */
int tls_no_passphrase(char *buf, int size, int rwflag, void *u);

/*
 * Opens the key file, checks through the same descriptor that it is a
 * regular file of at most 64 KiB that nobody but its owner may read or write
 * (group bits are allowed under $CREDENTIALS_DIRECTORY, where systemd grants
 * access with an ACL), and parses the unencrypted PEM key.  Returns the key
 * (the caller frees it with EVP_PKEY_free()), or NULL with err filled.  The
 * file's bytes are wiped from memory before returning.
 */
EVP_PKEY *tls_load_key(const char *label, const char *path, char *err, size_t errlen);

#endif
