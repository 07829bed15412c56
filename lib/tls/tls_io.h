/*
 * NAME
 *	tls_io - a TLS session as the I/O of a VSTREAM, and the handshake
 * SYNOPSIS
 *	#include "tls/tls_io.h"
 *
 *	int tls_io_handshake(SSL *ssl, int fd, int is_server, int timeout_ms);
 *	void tls_io_attach(VSTREAM *stream, SSL *ssl);
 *	SSL *tls_io_ssl(VSTREAM *stream);
 *	void tls_io_detach(VSTREAM *stream);
 *	void tls_io_errors(VSTRING *why);
 * DESCRIPTION
 *	The one read/write adapter that the TLS client and server share.
 *	The descriptor is non-blocking while TLS is on, and every
 *	SSL_read/SSL_write/handshake step that wants more I/O waits with
 *	vstream_wait_fd() for what is left of the time the stream allows
 *	(its timeout and deadline), so a TLS session keeps exactly the
 *	timeouts of plain text.
 *
 *	tls_io_handshake() sets fd non-blocking, binds ssl to it and runs
 *	SSL_accept() (is_server) or SSL_connect() within timeout_ms (< 0:
 *	no limit). 0 when done, else -1 with errno ETIMEDOUT, ECONNRESET
 *	(the peer went away) or EPROTO (a TLS error; OpenSSL's error queue
 *	says which, see tls_io_errors()).
 *
 *	tls_io_attach() makes the stream read and write through ssl;
 *	tls_io_ssl() is the session of a stream (NULL when it has none);
 *	tls_io_detach() flushes, sends close_notify (best effort) and
 *	puts the stream back on its descriptor. The SSL object stays the
 *	caller's to free. An orderly TLS close, or EOF without close_notify,
 *	reads as end of file.
 *
 *	tls_io_errors() appends ": reason" for each entry of OpenSSL's
 *	error queue to why, and empties the queue.
 * DIAGNOSTICS
 *	Nothing here logs or is fatal; callers say what a failure means.
 * SEE ALSO
 *	tls_client(3), tls_server(3), vstream(3)
 */
#ifndef TLS_IO_H
#define TLS_IO_H
#include <openssl/ssl.h>
#include "util/vstream.h"
#include "util/vstring.h"

extern int tls_io_handshake(SSL *, int, int, int);
extern void tls_io_attach(VSTREAM *, SSL *);
extern SSL *tls_io_ssl(VSTREAM *);
extern void tls_io_detach(VSTREAM *);
extern void tls_io_errors(VSTRING *);

#endif
