/*
 * NAME
 *	xsasl_smtp - the AUTH command exchange of an SMTP server
 * SYNOPSIS
 *	#include "global/xsasl_smtp.h"
 *
 *	int xsasl_smtp_auth(XSASL_SERVER *server, const XSASL_SMTP_IO *io,
 *			    const char *namaddr, const char *mech,
 *			    const char *init_response, long response_limit);
 * DESCRIPTION
 *	xsasl_smtp_auth() runs one AUTH exchange (RFC 4954) after the
 *	caller has accepted the command (state checks, syntax): it
 *	sends each challenge as "334 text", reads the client's responses
 *	through io, and ends with Postfix's replies and warnings:
 *
 *	235 2.7.0 Authentication successful
 *	535 5.7.8 Error: authentication failed: REASON
 *	454 4.7.0 Temporary authentication failure: REASON
 *	501 5.7.0 Authentication aborted	(the client sent "*")
 *	500 5.5.6 SASL response limit exceeded	(a response over
 *						response_limit bytes)
 *
 *	with "warning: NAMADDR: SASL MECH authentication failed: REASON,
 *	sasl_username=NAME" (or "(unavailable)"), "warning: NAMADDR: SASL
 *	MECH authentication aborted", "warning: NAMADDR: request longer
 *	than LIMIT: first 30 bytes...". MECH is written as the client
 *	wrote it.
 *
 *	io->reply(ctx, text) sends one reply line (the caller counts
 *	errors, delays, flushes); io->read(ctx, buf, limit) reads one
 *	response line without its line end: XSASL_SMTP_READ_OK,
 *	XSASL_SMTP_READ_LONG (longer than limit; the rest of the line was
 *	read and dropped) or XSASL_SMTP_READ_LOST.
 *
 *	The result is XSASL_AUTH_DONE (authenticated: the name is
 *	xsasl_server_username()), XSASL_AUTH_FAIL (any refusal, already
 *	answered), or XSASL_SMTP_LOST (no reply was sent: the client went
 *	away or timed out; the caller ends the session as usual).
 */
#ifndef XSASL_SMTP_H
#define XSASL_SMTP_H
#include "util/vstring.h"
#include "global/xsasl_server.h"

#define XSASL_SMTP_READ_OK	0
#define XSASL_SMTP_READ_LONG	1
#define XSASL_SMTP_READ_LOST	2

#define XSASL_SMTP_LOST		(-1)

typedef struct XSASL_SMTP_IO {
    void    (*reply) (void *, const char *);
    int     (*read) (void *, VSTRING *, long);
    void   *ctx;
} XSASL_SMTP_IO;

extern int xsasl_smtp_auth(XSASL_SERVER *, const XSASL_SMTP_IO *, const char *,
			           const char *, const char *, long);

#endif
