/*
 * NAME
 *	tls_client - STARTTLS for the SMTP/LMTP client, with OpenSSL
 * SYNOPSIS
 *	TLS_SESS *tls_client_start(VSTREAM *stream, const TLS_CLIENT_PARAMS *p,
 *				   VSTRING *why);
 *	void tls_client_stop(TLS_SESS *sess, VSTREAM *stream);
 *	const char *tls_client_summary(TLS_SESS *sess);
 *	const char *tls_client_trust(TLS_SESS *sess);
 *	void tls_client_peer_chain(TLS_SESS *sess, VSTRING *out);
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
 *	DANE (levels "dane" and "dane-only" with usable TLSA records):
 *	p->dane holds the records and the TLSA base domain; OpenSSL's DANE
 *	verifier (SSL_dane_enable, SSL_dane_tlsa_add) checks the chain:
 *	DANE-EE(3) matches the server's certificate or key without name
 *	or date checks (RFC 7672 section 3.1.1), DANE-TA(2) a trust anchor
 *	in the chain the server sent, with the certificate name checked
 *	against the base domain (and p->match_names). p->dane_digests is
 *	tls_dane_digests: the digest of each matching type, in preference
 *	order (OpenSSL then ignores weaker digests when a stronger one is
 *	published: RFC 7671 digest agility). A verified session is logged
 *	"Verified", or "Trusted" when p->dane_trusted_only (TLSA records
 *	found through an insecure MX lookup).
 *
 *	The SSL_CTX is made once per process from the first parameters.
 *
 *	With p->chain_out set, the server's chain is appended to it after
 *	the handshake, also when verification then fails.
 *
 *	With p->check set, *p->check says what verifying the server found,
 *	also at levels that do not require it (MTA-STS testing mode and
 *	TLS-RPT, RFC 8460, report what would have failed): TLS_CHECK_OK (a
 *	trusted chain with a name of p->match_names, or a TLSA match),
 *	TLS_CHECK_HANDSHAKE (no TLS session), TLS_CHECK_EXPIRED,
 *	TLS_CHECK_UNTRUSTED (no chain to a trusted CA, or no certificate),
 *	TLS_CHECK_NAME (no name matches), TLS_CHECK_DANE (no TLSA record
 *	matches). It is set whether tls_client_start() succeeds or not.
 *
 *	tls_client_peer_chain() appends the server's certificate chain as
 *	text (subject, issuer, and the SHA-256 digests of certificate and
 *	public key, as "3 0 1"/"3 1 1" TLSA data) for posttls-finger.
 * DIAGNOSTICS
 *	tls_client_start() returns NULL with the reason in why ("Cannot
 *	start TLS: handshake failure", "Server certificate not trusted",
 *	"Server certificate not verified": a chain, name or TLSA mismatch).
 *	Failures are logged as warnings.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H
#include "util/vstream.h"
#include "util/vstring.h"
#include "tls/tls_dane.h"

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
    const TLS_DANE *dane;		/* usable TLSA records, or NULL */
    const char *dane_digests;		/* tls_dane_digests */
    int     dane_trusted_only;		/* log Trusted, not Verified */
    VSTRING *chain_out;			/* when not NULL: the peer chain, as text */
    int    *check;			/* when not NULL: TLS_CHECK_* of the peer */
} TLS_CLIENT_PARAMS;

#define TLS_CHECK_OK		0
#define TLS_CHECK_HANDSHAKE	1
#define TLS_CHECK_EXPIRED	2
#define TLS_CHECK_UNTRUSTED	3
#define TLS_CHECK_NAME		4
#define TLS_CHECK_DANE		5

extern TLS_SESS *tls_client_start(VSTREAM *, const TLS_CLIENT_PARAMS *, VSTRING *);
extern void tls_client_stop(TLS_SESS *, VSTREAM *);
extern const char *tls_client_summary(TLS_SESS *);
extern const char *tls_client_trust(TLS_SESS *);
extern void tls_client_peer_chain(TLS_SESS *, VSTRING *);

#endif
