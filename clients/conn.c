/* conn: see conn.h. */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fail.h"
#include "tls_client.h"

struct conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char *buf; /* received bytes not yet handed out */
	size_t len, cap;
	size_t seen; /* buf[0..seen) holds no end of line */
	int err_exit;
	char err[512];
};

static long long conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4))) static void conn_set_error(struct conn *c, int code,
                                                                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->err_exit = code;
}

/* True when the queued OpenSSL errors say the server refused our certificate. */
static bool conn_cert_refused(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

/* Records a failed SSL call: what, OpenSSL's reason, and the exit code it deserves. */
static void conn_ssl_failed(struct conn *c, const char *what, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long q = ERR_peek_last_error();
	long v = SSL_get_verify_result(c->ssl);

	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && q == 0)) {
		conn_set_error(c, EX_IOERR, "the server closed the connection");
	} else if (q != 0 && conn_cert_refused(q)) {
		conn_set_error(c, EX_NOPERM, "the server refused the client certificate (%s)",
		               ERR_reason_error_string(q));
	} else if (v != X509_V_OK) {
		conn_set_error(c, EX_IOERR, "the server's certificate is not trusted (%s)",
		               X509_verify_cert_error_string(v));
	} else if (q != 0) {
		conn_set_error(c, EX_IOERR, "%s failed: %s", what, ERR_reason_error_string(q));
	} else {
		conn_set_error(c, EX_IOERR, "%s failed: %s", what,
		               e == SSL_ERROR_SYSCALL ? strerror(errno) : "TLS error");
	}
	ERR_clear_error();
}

/* Waits for the socket; 1 ready, 0 timeout or signal, -1 error. */
static int conn_wait(struct conn *c, short events, long long deadline)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	long long left = deadline - conn_now_ms();
	int r;

	if (left <= 0)
		return 0;
	r = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0) {
		conn_set_error(c, EX_IOERR, "poll: %s", strerror(errno));
		return -1;
	}
	return r;
}

/* A TCP connection to one of host's addresses; -1 with c->err set. */
static int conn_tcp(struct conn *c, const char *host, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char portstr[16];
	int rc, fd = -1, saved = 0;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		conn_set_error(c, EX_UNAVAILABLE, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (poll(&p, 1, CONN_CONNECT_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			saved = soerr != 0 ? soerr : ETIMEDOUT;
		} else {
			saved = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		conn_set_error(c, EX_UNAVAILABLE, "cannot connect to %s port %d: %s", host, port,
		               strerror(saved));
	return fd;
}

/* Why the last conn_open() failed, for callers that open quietly. */
static char conn_open_why[512];

const char *conn_open_error(void)
{
	return conn_open_why;
}

/* Prints (unless quiet) why c could not be opened, frees it, returns the exit code. */
static int conn_open_failed(struct conn *c, bool quiet)
{
	int code = c->err_exit != 0 ? c->err_exit : EX_IOERR;

	snprintf(conn_open_why, sizeof(conn_open_why), "%s", c->err);
	if (!quiet) {
		const char *hint = code == EX_UNAVAILABLE
		                           ? "is streetd running? check server and port"
		                   : code == EX_NOPERM ? "check cert and key"
		                                       : "check ca, server and port";

		fail(code, "%s; %s", c->err, hint);
	}
	conn_close(c);
	return code;
}

int conn_open(const struct ctl_settings *s, struct conn **out, bool quiet)
{
	struct conn *c = calloc(1, sizeof(*c));
	char err[512];
	long long deadline;

	*out = NULL;
	if (c == NULL)
		return quiet ? EX_SOFTWARE : fail(EX_SOFTWARE, "out of memory");
	c->fd = -1;
	if (s->ca[0] == '\0' || s->cert[0] == '\0' || s->key[0] == '\0') {
		conn_close(c);
		if (quiet)
			return EX_CONFIG;
		return fail(EX_CONFIG,
		            "no %s given; set ca, cert and key in the config file "
		            "(~/.config/streetctl/config) or pass --ca, --cert and --key",
		            s->ca[0] == '\0'     ? "CA file"
		            : s->cert[0] == '\0' ? "certificate"
		                                 : "key");
	}
	c->ctx = tls_client_ctx(s->ca, s->cert, s->key, err, sizeof(err));
	if (c->ctx == NULL) {
		conn_close(c);
		return quiet ? EX_CONFIG : fail(EX_CONFIG, "%s; fix the file or the setting", err);
	}
	c->fd = conn_tcp(c, s->server, s->port);
	if (c->fd < 0)
		goto failed;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || tls_client_set_host(c->ssl, s->server) != 0 ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_set_error(c, EX_SOFTWARE, "cannot set up TLS");
		goto failed;
	}
	deadline = conn_now_ms() + CONN_CONNECT_MS;
	for (;;) {
		int r = SSL_connect(c->ssl), e, w;

		if (r == 1)
			break;
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			conn_ssl_failed(c, "the TLS handshake", r);
			goto failed;
		}
		w = conn_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w <= 0) {
			if (w == 0)
				conn_set_error(c, EX_IOERR, "the TLS handshake timed out");
			goto failed;
		}
	}
	*out = c;
	return 0;
failed:
	return conn_open_failed(c, quiet);
}

void conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl); /* best effort: the socket is non-blocking */
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	SSL_CTX_free(c->ctx);
	free(c->buf);
	free(c);
	ERR_clear_error();
}

int conn_send(struct conn *c, const char *line)
{
	size_t len = strlen(line);
	char *msg = malloc(len + 1);
	long long deadline = conn_now_ms() + CONN_SEND_MS;
	int rc = -1;

	if (msg == NULL) {
		conn_set_error(c, EX_SOFTWARE, "out of memory");
		return -1;
	}
	memcpy(msg, line, len);
	msg[len] = '\n';
	for (;;) {
		int r = SSL_write(c->ssl, msg, (int)len + 1), e, w;

		if (r > 0) {
			rc = 0;
			break;
		}
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			conn_ssl_failed(c, "sending", r);
			break;
		}
		/* a signal does not abandon a half-sent line: wait again */
		w = conn_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w < 0)
			break;
		if (w == 0 && conn_now_ms() >= deadline) {
			conn_set_error(c, EX_IOERR, "the server does not take what is sent");
			break;
		}
	}
	free(msg);
	return rc;
}

/* Hands out the first complete line of the buffer, if any, as a copy
 * without its end of line: 1, 0 none, -1 out of memory. */
static int conn_take_line(struct conn *c, char **line, size_t *len)
{
	char *nl = c->len > c->seen ? memchr(c->buf + c->seen, '\n', c->len - c->seen) : NULL;
	size_t n;

	if (nl == NULL) {
		c->seen = c->len; /* a long line is searched once, not at every read */
		return 0;
	}
	n = (size_t)(nl - c->buf);
	if (n > 0 && c->buf[n - 1] == '\r')
		n--;
	*line = malloc(n + 1);
	if (*line == NULL) {
		conn_set_error(c, EX_SOFTWARE, "out of memory");
		return -1;
	}
	memcpy(*line, c->buf, n);
	(*line)[n] = '\0';
	*len = n;
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	c->seen = 0;
	return 1;
}

int conn_recv_line(struct conn *c, int timeout_ms, char **line, size_t *len)
{
	return conn_recv_line_peek(c, timeout_ms, line, len, NULL, NULL);
}

int conn_recv_line_peek(struct conn *c, int timeout_ms, char **line, size_t *len, conn_peek_fn peek,
                        void *arg)
{
	long long deadline = conn_now_ms() + timeout_ms;

	*line = NULL;
	*len = 0;
	for (;;) {
		int t = conn_take_line(c, line, len), r, e, w;

		if (t != 0)
			return t;
		if (c->cap - c->len < 16384) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, ncap);

			if (nb == NULL) {
				conn_set_error(c, EX_SOFTWARE, "out of memory");
				return -1;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		r = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
		if (r > 0) {
			c->len += (size_t)r;
			/* the line so far, if no end of line came (conn_take_line
			 * above searched all but these bytes) */
			if (peek && memchr(c->buf + c->len - (size_t)r, '\n', (size_t)r) == NULL &&
			    peek(arg, c->buf, c->len))
				peek = NULL;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			conn_ssl_failed(c, "receiving", r);
			return -1;
		}
		w = conn_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (w <= 0)
			return w;
	}
}

int conn_recv(struct conn *c, int timeout_ms, json_object **msg)
{
	char *line;
	size_t n;
	int r = conn_recv_line(c, timeout_ms, &line, &n);
	json_tokener *tok;
	json_object *o;
	bool whole;

	*msg = NULL;
	if (r <= 0)
		return r;
	tok = json_tokener_new();
	if (tok == NULL) {
		free(line);
		conn_set_error(c, EX_SOFTWARE, "out of memory");
		return -1;
	}
	o = json_tokener_parse_ex(tok, line, (int)n);
	whole = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	        json_tokener_get_parse_end(tok) == n;
	json_tokener_free(tok);
	free(line);
	if (!whole || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		conn_set_error(c, EX_IOERR, "the server sent a line that is not a JSON object");
		return -1;
	}
	*msg = o;
	return 1;
}

const char *conn_error(const struct conn *c)
{
	return c->err[0] != '\0' ? c->err : "connection failed";
}

int conn_error_exit(const struct conn *c)
{
	return c->err_exit != 0 ? c->err_exit : EX_IOERR;
}
