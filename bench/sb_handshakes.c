/*
 * handshakes: T threads, each a loop of blocking full TLS 1.3 handshakes with
 * a client certificate: connect, SSL_connect, send close_notify, wait (at
 * most 2 s) for the server to close, close.  Waiting for the server's close
 * makes each handshake include the server's check of the client certificate
 * (in TLS 1.3 the client finishes first).  No resumption.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_modes.h"
#include "sb_tls.h"
#include "sb_util.h"

struct sb_hs_thread {
	pthread_t tid;
	SSL_CTX *ctx;
	const struct sockaddr_in *addr;
	double until;
	unsigned long ok, failed;
	char first_error[200];
};

static void sb_hs_note(struct sb_hs_thread *t, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	t->failed++;
	if (!t->first_error[0]) {
		snprintf(t->first_error, sizeof(t->first_error), "%s: %s", what,
		         buf[0] ? buf : strerror(errno));
		sb_clean(t->first_error);
	}
}

/* One handshake; 0 when it completed and the server closed after it. */
static int sb_hs_once(struct sb_hs_thread *t)
{
	struct timeval tv = { 2, 0 };
	char buf[512];
	SSL *ssl = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, rc = -1;

	if (fd < 0) {
		sb_hs_note(t, "socket");
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)t->addr, sizeof(*t->addr)) != 0) {
		sb_hs_note(t, "connect");
		goto out;
	}
	ssl = SSL_new(t->ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		sb_hs_note(t, "SSL_new");
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		sb_hs_note(t, "handshake");
		goto out;
	}
	SSL_shutdown(ssl);
	/* until the server closes: its close_notify, an error line, or EOF
	 * (at most 64 reads: a server that keeps talking is a failure) */
	for (int reads = 0;; reads++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0 && reads < 64)
			continue;
		if (n > 0) {
			sb_hs_note(t, "server keeps sending after close_notify");
			goto out;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			sb_hs_note(t, "server did not close within 2 s");
			goto out;
		}
		break; /* EOF or reset: the server is done with us */
	}
	t->ok++;
	rc = 0;
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return rc;
}

static void *sb_hs_run(void *arg)
{
	struct sb_hs_thread *t = arg;

	while (sb_now() < t->until)
		sb_hs_once(t);
	return NULL;
}

int sb_mode_handshakes(const struct sb_opts *o)
{
	struct sb_hs_thread th[64];
	SSL_CTX *ctx = sb_tls_client_ctx(o->tls_dir, o->login);
	unsigned long ok = 0, failed = 0;
	const char *err = "";
	double t0, t1;
	int n = o->threads > 64 ? 64 : o->threads;

	if (!ctx)
		return 1;
	t0 = sb_now();
	for (int i = 0; i < n; i++) {
		th[i] = (struct sb_hs_thread){ .ctx = ctx,
			                       .addr = &o->addr,
			                       .until = t0 + o->seconds };
		if (pthread_create(&th[i].tid, NULL, sb_hs_run, &th[i]) != 0) {
			sb_log("cannot start thread %d", i);
			n = i;
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		ok += th[i].ok;
		failed += th[i].failed;
		if (!err[0])
			err = th[i].first_error;
	}
	t1 = sb_now();
	printf("handshakes host=%s port=%d threads=%d ok=%lu failed=%lu seconds=%.2f rate=%.1f "
	       "error=\"%s\"\n",
	       o->host, o->port, n, ok, failed, t1 - t0, (double)ok / (t1 - t0), err);
	SSL_CTX_free(ctx);
	return n > 0 && ok > 0 ? 0 : 1;
}
