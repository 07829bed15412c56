/*
 * NAME
 *	xsasl_server - SASL authentication servers of an SMTP server
 * SYNOPSIS
 *	#include "global/xsasl_server.h"
 *
 *	XSASL_SERVER_IMPL *xsasl_server_init(const char *type,
 *					     const char *path);
 *	XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *impl,
 *					  const XSASL_SERVER_PARAMS *params,
 *					  VSTRING *why);
 *	void xsasl_server_free(XSASL_SERVER *server);
 *	const char *xsasl_server_mechs(XSASL_SERVER *server);
 *	int xsasl_server_first(XSASL_SERVER *server, const char *mech,
 *			       const char *init_response, VSTRING *reply);
 *	int xsasl_server_next(XSASL_SERVER *server, const char *response,
 *			      VSTRING *reply);
 *	const char *xsasl_server_username(XSASL_SERVER *server);
 *
 *	int xsasl_base64_decode(const char *text, VSTRING *out);
 *	void xsasl_base64_encode(const void *data, size_t len, VSTRING *out);
 * DESCRIPTION
 *	The server side of SASL, as Postfix's smtpd_sasl_type selects it:
 *	"dovecot" speaks Dovecot's authentication protocol over the socket
 *	smtpd_sasl_path names (xsasl_dovecot.c); "cyrus" uses libsasl2 with
 *	the application name smtpd_sasl_path, whose configuration file
 *	(smtpd.conf) says how passwords are checked: saslauthd, sasldb,
 *	... (xsasl_cyrus.c).
 *
 *	xsasl_server_init() prepares a server type once per process,
 *	before chroot and the privilege drop (libsasl2 loads its plugins
 *	and configuration then). An unknown type is a fatal configuration
 *	error: "unsupported SASL server implementation: X".
 *
 *	xsasl_server_create() starts the server side of one client
 *	session: params says which service (smtpd_sasl_service), realm
 *	(smtpd_sasl_local_domain), security options
 *	(smtpd_sasl_security_options or smtpd_sasl_tls_security_options),
 *	whether the session is encrypted, and the endpoints. It returns
 *	NULL with why set when the authentication server cannot be used
 *	now (Dovecot's socket does not answer: "Connect to Dovecot auth
 *	socket 'X' failed: ..."); the caller then offers no AUTH.
 *
 *	xsasl_server_mechs() lists the mechanisms that the security
 *	options allow, separated by spaces ("PLAIN LOGIN"), or "".
 *
 *	xsasl_server_first() starts an exchange with a mechanism and an
 *	optional initial response (base64, "=" for an empty one, NULL for
 *	none); xsasl_server_next() takes the client's next response
 *	(base64). Both return XSASL_AUTH_MORE with a challenge (base64) in
 *	reply, XSASL_AUTH_DONE when the client is authenticated, or
 *	XSASL_AUTH_FAIL (wrong credentials, unknown mechanism, malformed
 *	data) or XSASL_AUTH_TEMP (the server could not decide: "454 4.7.0
 *	Temporary authentication failure") with the reason in reply.
 *	xsasl_server_username() is the login name the server reported for
 *	this exchange (after DONE, and often after a failure), or NULL.
 *
 *	xsasl_base64_decode() decodes strict RFC 4648 base64 (no white
 *	space, correct padding) into out (which also gets a terminating
 *	NUL): 0, or -1 for anything else. xsasl_base64_encode() encodes.
 * SEE ALSO
 *	xsasl_smtp(3), the AUTH command of an SMTP server (RFC 4954)
 */
#ifndef XSASL_SERVER_H
#define XSASL_SERVER_H
#include <stddef.h>
#include "util/vstring.h"

#define XSASL_TYPE_DOVECOT	"dovecot"
#define XSASL_TYPE_CYRUS	"cyrus"

#define XSASL_AUTH_MORE		1
#define XSASL_AUTH_DONE		2
#define XSASL_AUTH_FAIL		3
#define XSASL_AUTH_TEMP		4

typedef struct XSASL_SERVER_PARAMS {
    const char *service;		/* smtpd_sasl_service */
    const char *user_realm;		/* smtpd_sasl_local_domain, or "" */
    const char *security_options;	/* noplaintext, noanonymous, ... */
    int     tls;			/* the session is encrypted */
    const char *server_name;		/* myhostname */
    const char *client_addr;		/* printable address */
    const char *client_port;
    const char *server_addr;
    const char *server_port;
} XSASL_SERVER_PARAMS;

typedef struct XSASL_SERVER XSASL_SERVER;
typedef struct XSASL_SERVER_IMPL XSASL_SERVER_IMPL;

/* What a server type provides (xsasl_dovecot.c, xsasl_cyrus.c). */
struct XSASL_SERVER_IMPL {
    XSASL_SERVER *(*create) (XSASL_SERVER_IMPL *, const XSASL_SERVER_PARAMS *, VSTRING *);
};

struct XSASL_SERVER {
    void    (*free) (XSASL_SERVER *);
    const char *(*mechs) (XSASL_SERVER *);
    int     (*first) (XSASL_SERVER *, const char *, const char *, VSTRING *);
    int     (*next) (XSASL_SERVER *, const char *, VSTRING *);
    const char *(*username) (XSASL_SERVER *);
};

extern XSASL_SERVER_IMPL *xsasl_server_init(const char *, const char *);
extern XSASL_SERVER *xsasl_server_create(XSASL_SERVER_IMPL *, const XSASL_SERVER_PARAMS *,
					         VSTRING *);

#define xsasl_server_free(s)		((s)->free(s))
#define xsasl_server_mechs(s)		((s)->mechs(s))
#define xsasl_server_first(s, m, i, r)	((s)->first((s), (m), (i), (r)))
#define xsasl_server_next(s, i, r)	((s)->next((s), (i), (r)))
#define xsasl_server_username(s)	((s)->username(s))

extern int xsasl_base64_decode(const char *, VSTRING *);
extern void xsasl_base64_encode(const void *, size_t, VSTRING *);

/* The server types. */
extern XSASL_SERVER_IMPL *xsasl_dovecot_init(const char *);
extern XSASL_SERVER_IMPL *xsasl_cyrus_init(const char *);

/* Security options shared by the types: bits of xsasl_security_flags(). */
#define XSASL_SEC_NOPLAINTEXT	(1<<0)
#define XSASL_SEC_NOACTIVE	(1<<1)
#define XSASL_SEC_NODICTIONARY	(1<<2)
#define XSASL_SEC_NOANONYMOUS	(1<<3)
#define XSASL_SEC_FORWARD_SECRECY (1<<4)
#define XSASL_SEC_MUTUAL_AUTH	(1<<5)

extern int xsasl_security_flags(const char *);

#endif
