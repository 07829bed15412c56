/*
 * NAME
 *	tls_client - STARTTLS for the SMTP/LMTP client, with OpenSSL
 * SYNOPSIS
 *	int tls_client_init(const TLS_CLIENT_INIT *init, VSTRING *why);
 *	int tls_client_ready(void);
 *	TLS_SESS *tls_client_start(VSTREAM *stream, const TLS_CLIENT_PARAMS *p,
 *				   VSTRING *why);
 *	void tls_client_stop(TLS_SESS *sess, VSTREAM *stream);
 *	const char *tls_client_summary(TLS_SESS *sess);
 *	const char *tls_client_trust(TLS_SESS *sess);
 *	void tls_client_peer_chain(TLS_SESS *sess, VSTRING *out);
 * DESCRIPTION
 *	tls_client_init() makes the process's client context, before
 *	chroot: the client certificate (init->chain_files, else
 *	init->cert_file and init->key_file; see tls_certs(3)), the trusted
 *	CAs (CAfile, CApath; certificate chains of at most
 *	init->verify_depth intermediate CAs: smtp_tls_scert_verifydepth),
 *	DANE digests (dane_digests), the fingerprint digest
 *	(smtp_tls_fingerprint_digest) and the session cache (tls_scache(3)).
 *	0, or -1 with the reason (then every handshake fails: "TLS client
 *	initialization failed"; tls_client_ready() is then 0, so that the
 *	caller does not send STARTTLS). Without a call, the first
 *	tls_client_start() makes a context without certificate or CAs.
 *
 *	tls_client_start() runs the TLS handshake on stream's descriptor
 *	(after the server's 220 reply to STARTTLS) and plugs the session
 *	into the stream with vstream_set_io(), so the rest of the dialogue
 *	reads and writes through TLS with the stream's timeouts.
 *
 *	The level is Postfix's: "may" and "encrypt" do not check the
 *	certificate; "verify" and "secure" require a chain to a trusted CA
 *	(CAfile, CApath) and a certificate name that matches one of
 *	p->match_names (DNS names, ".domain" for its subdomains: the caller
 *	resolved smtp_tls_verify_cert_match or smtp_tls_secure_cert_match);
 *	"fingerprint" requires that the certificate or its public key
 *	has one of the fingerprints of p->match_names (in the digest of
 *	smtp_tls_fingerprint_digest; CAs, names and dates do not matter),
 *	with Postfix 3.7's logs for a mismatch. p->servername, when set,
 *	is sent as SNI. The protocols and ciphers apply to this session
 *	only (mandatory ones at levels above may).
 *
 *	With p->serverid (and a session cache), the session cached under
 *	that key is offered to the server and new ones are stored there
 *	(not for DANE). A resumed session is checked like a new one: the
 *	verification result of its first handshake, the names and
 *	fingerprints of its certificate now. With p->loglevel >= 2 it is
 *	logged "host[addr]:port: Reusing old session", as Postfix does.
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
 *	against the base domain (and p->match_names). init->dane_digests is
 *	tls_dane_digests: the digest of each matching type, in preference
 *	order (OpenSSL then ignores weaker digests when a stronger one is
 *	published: RFC 7671 digest agility). A verified session is logged
 *	"Verified", or "Trusted" when p->dane_trusted_only (TLSA records
 *	found through an insecure MX lookup).
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
#include "util/slot_cache.h"
#include "tls/tls_dane.h"

typedef struct TLS_SESS TLS_SESS;

typedef struct TLS_CLIENT_INIT {
    const char *prefix;			/* "smtp", "lmtp": for warnings */
    const char *chain_files;		/* key + chain files, or "" */
    const char *cert_file;
    const char *key_file;
    const char *CAfile;
    const char *CApath;
    int     verify_depth;		/* smtp_tls_scert_verifydepth */
    const char *dane_digests;		/* tls_dane_digests */
    const char *digest;			/* smtp_tls_fingerprint_digest */
    SLOT_CACHE *cache;			/* session cache, or NULL */
    long    cache_timeout;
} TLS_CLIENT_INIT;

typedef struct TLS_CLIENT_PARAMS {
    const char *level;			/* may, encrypt, fingerprint, verify, secure */
    const char *servername;		/* SNI, or NULL */
    const char *match_names;		/* names for verify/secure, fingerprints */
    const char *serverid;		/* session cache key, or NULL */
    const char *protocols;
    const char *ciphers;		/* grade */
    const char *cipherlist;		/* the grade's OpenSSL list */
    const char *exclude_ciphers;
    const char *peer;			/* "host[addr]:port" for logs */
    int     timeout;			/* seconds for the handshake */
    int     loglevel;
    const TLS_DANE *dane;		/* usable TLSA records, or NULL */
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

extern int tls_client_init(const TLS_CLIENT_INIT *, VSTRING *);
extern int tls_client_ready(void);
extern TLS_SESS *tls_client_start(VSTREAM *, const TLS_CLIENT_PARAMS *, VSTRING *);
extern void tls_client_stop(TLS_SESS *, VSTREAM *);
extern const char *tls_client_summary(TLS_SESS *);
extern const char *tls_client_trust(TLS_SESS *);
extern void tls_client_peer_chain(TLS_SESS *, VSTRING *);

#endif
