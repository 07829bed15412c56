/*
 * NAME
 *	tls_scache - TLS session resumption through a shared cache file
 * SYNOPSIS
 *	#include "tls/tls_scache.h"
 *
 *	void tls_scache_server(SSL_CTX *ctx, SLOT_CACHE *cache, long timeout,
 *			       const char *context, const char *ticket_cipher);
 *	int tls_scache_ticket_cipher_ok(const char *name);
 *	void tls_scache_client(SSL_CTX *ctx, SLOT_CACHE *cache, long timeout);
 *	void tls_scache_client_start(SSL *ssl, const char *serverid);
 *	void tls_scache_key(VSTRING *out, const char *prefix, const char *text);
 * DESCRIPTION
 *	The session caches of smtpd_tls_session_cache_database and
 *	smtp_tls_session_cache_database (lmtp_...), kept in a
 *	slot_cache(3) file that every smtpd (or smtp) process opened
 *	before chroot. Sessions are stored as OpenSSL writes them
 *	(i2d_SSL_SESSION) and read back only within timeout seconds.
 *
 *	tls_scache_server() sets up resumption on a server context:
 *	with a cache, sessions are kept by session ID in the file, also
 *	those of TLS 1.3, whose tickets then name a cached session
 *	(OpenSSL's stateful tickets), so that any smtpd process can
 *	resume a session another one made. Without a cache, a session
 *	can resume with an RFC 5077 ticket of the same process, encrypted
 *	with ticket_cipher (tls_session_ticket_cipher: a CBC cipher of
 *	128-bit blocks and a 128 to 256-bit key, under a random key of
 *	the process; empty or unusable: no tickets). With
 *	timeout <= 0 nothing resumes (Postfix: caching and tickets off).
 *	context (the service and the settings that decide whether a
 *	client certificate is trusted) becomes the session ID context:
 *	a session resumes only where it was made.
 *
 *	tls_scache_ticket_cipher_ok() tells whether name is such a cipher.
 *
 *	tls_scache_client() sets up a client context; with a cache,
 *	tls_scache_client_start() offers the session cached for serverid
 *	(a key that names the server and every setting that the session's
 *	verification depends on) and has the sessions that the server
 *	then gives stored under it.
 *
 *	tls_scache_key() writes "prefix&" and the SHA-256 of text in hex:
 *	a bounded cache key for text of any length.
 * SEE ALSO
 *	slot_cache(3), tls_server(3), tls_client(3)
 */
#ifndef TLS_SCACHE_H
#define TLS_SCACHE_H
#include <openssl/ssl.h>
#include "util/slot_cache.h"
#include "util/vstring.h"

extern void tls_scache_server(SSL_CTX *, SLOT_CACHE *, long, const char *, const char *);
extern int tls_scache_ticket_cipher_ok(const char *);
extern void tls_scache_client(SSL_CTX *, SLOT_CACHE *, long);
extern void tls_scache_client_start(SSL *, const char *);
extern void tls_scache_key(VSTRING *, const char *, const char *);

#endif
