/*
 * NAME
 *	tls_https - fetch one small document over HTTPS (MTA-STS policies)
 * SYNOPSIS
 *	#include "tls/tls_https.h"
 *
 *	int tls_https_get(const char *ip, int port, const char *host,
 *			  const char *path, const char *CAfile, int timeout,
 *			  size_t max_size, VSTRING *body, VSTRING *why);
 * DESCRIPTION
 *	Connects to ip (IPv4 or IPv6, printable) and port, runs a TLS
 *	handshake with SNI host, requires a certificate that chains to
 *	CAfile (a file or directory; empty: OpenSSL's default store) and
 *	is valid for host (RFC 8461 section 3.3: the policy host's own
 *	name, no redirects), sends "GET path HTTP/1.1" and reads the
 *	reply: status 200 with media type text/plain, at most max_size
 *	bytes of body (Content-Length or read until close), everything
 *	within timeout seconds.
 * DIAGNOSTICS
 *	0 with the body, else -1 with why; *why starts with
 *	"webpki:" when the certificate did not verify, so that TLS-RPT
 *	can tell sts-webpki-invalid from sts-policy-fetch-error.
 *	Nothing here logs.
 */
#ifndef TLS_HTTPS_H
#define TLS_HTTPS_H
#include <stddef.h>
#include "util/vstring.h"

extern int tls_https_get(const char *, int, const char *, const char *, const char *,
			         int, size_t, VSTRING *, VSTRING *);

#endif
