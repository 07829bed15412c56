/*
 * NAME
 *	tls_server - the server side of TLS on a VSTREAM (OpenSSL)
 * SYNOPSIS
 *	#include "tls/tls_server.h"
 *
 *	TLS_SERVER_CTX *tls_server_init(const char *cert_file,
 *			const char *key_file, const char *protocols,
 *			const char *cipher_grade, const char *grade_list,
 *			const char *exclude_ciphers, VSTRING *why);
 *	int tls_server_start(TLS_SERVER_CTX *ctx, VSTREAM *stream,
 *			     int timeout, VSTRING *why);
 *	const char *tls_server_protocol(VSTREAM *stream);
 *	const char *tls_server_cipher(VSTREAM *stream);
 *	int tls_server_bits(VSTREAM *stream);
 *	void tls_server_stop(VSTREAM *stream);
 * DESCRIPTION
 *	tls_server_init() builds the server context once per process,
 *	before privileges are dropped: the certificate chain and private
 *	key (PEM files; key_file may be the cert_file), the protocols in
 *	Postfix's syntax, and a cipher grade (high, medium, low, export,
 *	null) whose OpenSSL list grade_list is (the caller's value of
 *	tls_<grade>_cipherlist), minus the exclusions (see tls_proto(3)).
 *	NULL with a reason in why when something is wrong.
 *
 *	tls_server_start() does the handshake on the stream's descriptor
 *	within timeout seconds (the descriptor is made non-blocking) and
 *	then plugs the TLS session into the stream with vstream_set_io(),
 *	so that the caller goes on reading and writing the same VSTREAM.
 *	Input buffered in the stream before the handshake is discarded
 *	(commands pipelined after STARTTLS are never executed). Returns 0,
 *	or -1 with a reason.
 *
 *	tls_server_protocol(), tls_server_cipher(), tls_server_bits()
 *	describe an active session (NULL / 0 without one).
 *	tls_server_stop() sends close_notify (best effort) and frees the
 *	session; the stream goes back to plain descriptor I/O.

 * DIAGNOSTICS
 *	Errors are returned with a reason; nothing here is fatal.
 */
#ifndef TLS_SERVER_H
#define TLS_SERVER_H
#include "util/vstring.h"
#include "util/vstream.h"

typedef struct TLS_SERVER_CTX TLS_SERVER_CTX;

extern TLS_SERVER_CTX *tls_server_init(const char *, const char *, const char *,
			    const char *, const char *, const char *, VSTRING *);
extern int tls_server_start(TLS_SERVER_CTX *, VSTREAM *, int, VSTRING *);
extern const char *tls_server_protocol(VSTREAM *);
extern const char *tls_server_cipher(VSTREAM *);
extern int tls_server_bits(VSTREAM *);
extern void tls_server_stop(VSTREAM *);

#endif
