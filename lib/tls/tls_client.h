/*
 * NAME
 *	tls_client - STARTTLS for the SMTP/LMTP client, with OpenSSL
 * SYNOPSIS
 *	TLS_SESS *tls_client_start(VSTREAM *stream, const TLS_CLIENT_PARAMS *p,
 *				   VSTRING *why);
 *	void tls_client_stop(TLS_SESS *sess, VSTREAM *stream);
 *	const char *tls_client_summary(TLS_SESS *sess);
 * DESCRIPTION
 *	tls_client_start() runs the TLS handshake on stream's descriptor
 *	(after the server's 220 reply to STARTTLS) and plugs the session
 *	into the stream with vstream_set_io(), so the rest of the dialogue
 *	reads and writes through TLS with the stream's timeouts.
 *
 *	The level is Postfix's: "may" and "encrypt" do not check the
 *	certificate; "verify" and "secure" require a chain to a trusted CA
 *	(CAfile, CApath) and a certificate name that matches one of
 *	p->match_names (DNS names; for secure the nexthop, for verify the
 *	server's host name). p->servername, when set, is sent as SNI.
 *	Protocols use Postfix's syntax (">=TLSv1.2", or exclusions
 *	"!SSLv2, !SSLv3, !TLSv1"); ciphers is a grade name (export, low,
 *	medium, high, null) and cipherlist its OpenSSL list (the caller's
 *	tls_<grade>_cipherlist), see tls_proto(3).
 *
 *	The SSL_CTX is made once per process from the first parameters.
 * DIAGNOSTICS
 *	tls_client_start() returns NULL with the reason in why ("TLS
 *	handshake failed", "Server certificate not trusted", "Server
 *	certificate name mismatch"). Failures are logged as warnings.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H
#include "util/vstream.h"
#include "util/vstring.h"

typedef struct TLS_SESS TLS_SESS;

typedef struct TLS_CLIENT_PARAMS {
    const char *level;			/* may, encrypt, verify, secure */
    const char *servername;		/* SNI, or NULL */
    const char *match_names;		/* names for verify/secure, space separated */
    const char *protocols;
    const char *ciphers;		/* grade */
    const char *cipherlist;		/* the grade's OpenSSL list */
    const char *exclude_ciphers;
    const char *CAfile;
    const char *CApath;
    const char *cert_file;
    const char *key_file;
    const char *peer;			/* "host[addr]:port" for logs */
    int     timeout;			/* seconds for the handshake */
    int     loglevel;
} TLS_CLIENT_PARAMS;

extern TLS_SESS *tls_client_start(VSTREAM *, const TLS_CLIENT_PARAMS *, VSTRING *);
extern void tls_client_stop(TLS_SESS *, VSTREAM *);
extern const char *tls_client_summary(TLS_SESS *);

#endif
