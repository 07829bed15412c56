/*
 * NAME
 *	tls_io - a TLS session as the I/O of a VSTREAM, and the handshake
 * DESCRIPTION
 *	See tls_io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>

#include "tls/tls_io.h"

#define TLS_IO_MAX	0x7fffffff	/* one SSL_read/SSL_write at most */

/* deadline_of - absolute time in ms for a wait of timeout_ms (0: none) */
static long long deadline_of(int timeout_ms)
{
    return (timeout_ms < 0 ? 0 : vstream_now_ms() + (timeout_ms ? timeout_ms : 1));
}

/* tls_io_wait - wait as SSL asks; 0 ready, 1 closed, -1 with errno */
static int tls_io_wait(SSL *ssl, int fd, int ret, long long deadline)
{
    int     left = -1;
    int     ready;

    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
	break;
    case SSL_ERROR_ZERO_RETURN:
	return (1);
    case SSL_ERROR_SYSCALL:
	if (ret == 0 && ERR_peek_error() == 0)
	    return (1);				/* EOF without close_notify */
	if (errno == EINTR || errno == EAGAIN)
	    return (0);
	if (errno == 0)
	    errno = ECONNRESET;
	return (-1);
    default:
	errno = EPROTO;
	return (-1);
    }
    if (deadline > 0) {
	long long ms = deadline - vstream_now_ms();

	if (ms <= 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	left = ms > TLS_IO_MAX ? TLS_IO_MAX : (int) ms;
    }
    ready = vstream_wait_fd(fd, SSL_get_error(ssl, ret) == SSL_ERROR_WANT_WRITE, left);
    if (ready == 0) {
	errno = ETIMEDOUT;
	return (-1);
    }
    return (ready < 0 ? -1 : 0);
}

int     tls_io_handshake(SSL *ssl, int fd, int is_server, int timeout_ms)
{
    long long deadline = deadline_of(timeout_ms);
    int     flags, ret, w;

    if ((flags = fcntl(fd, F_GETFL)) >= 0)
	(void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (SSL_set_fd(ssl, fd) != 1) {
	errno = EPROTO;
	return (-1);
    }
    for (;;) {
	ERR_clear_error();
	ret = is_server ? SSL_accept(ssl) : SSL_connect(ssl);
	if (ret == 1)
	    return (0);
	if ((w = tls_io_wait(ssl, fd, ret, deadline)) != 0) {
	    if (w > 0)
		errno = ECONNRESET;
	    return (-1);
	}
    }
}

static ssize_t tls_io_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    SSL    *ssl = ctx;
    long long deadline = deadline_of(timeout_ms);
    int     n, w;

    for (;;) {
	ERR_clear_error();
	if ((n = SSL_read(ssl, buf, len > TLS_IO_MAX ? TLS_IO_MAX : (int) len)) > 0)
	    return (n);
	if ((w = tls_io_wait(ssl, fd, n, deadline)) != 0)
	    return (w > 0 ? 0 : -1);
    }
}

static ssize_t tls_io_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    SSL    *ssl = ctx;
    long long deadline = deadline_of(timeout_ms);
    int     n, w;

    for (;;) {
	ERR_clear_error();
	if ((n = SSL_write(ssl, buf, len > TLS_IO_MAX ? TLS_IO_MAX : (int) len)) > 0)
	    return (n);
	if ((w = tls_io_wait(ssl, fd, n, deadline)) != 0) {
	    if (w > 0)
		errno = EPIPE;
	    return (-1);
	}
    }
}

void    tls_io_attach(VSTREAM *stream, SSL *ssl)
{
    vstream_set_io(stream, tls_io_read, tls_io_write, ssl);
}

SSL    *tls_io_ssl(VSTREAM *stream)
{
    return (stream->read_fn == tls_io_read ? (SSL *) stream->io_ctx : 0);
}

void    tls_io_detach(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);

    if (ssl == 0)
	return;
    (void) vstream_fflush(stream);
    ERR_clear_error();
    (void) SSL_shutdown(ssl);
    vstream_set_io(stream, 0, 0, 0);
}

void    tls_io_errors(VSTRING *why)
{
    unsigned long err;
    char    buf[256];

    while ((err = ERR_get_error()) != 0) {
	ERR_error_string_n(err, buf, sizeof(buf));
	vstring_sprintf_append(why, ": %s", buf);
    }
}
