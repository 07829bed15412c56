/*
 * NAME
 *	tls_client - STARTTLS for the SMTP/LMTP client, with OpenSSL
 * DESCRIPTION
 *	See tls_client.h. The handshake and the session's I/O are
 *	tls_io(3)'s, shared with the server, so TLS keeps the same
 *	timeouts as plain text.
 *
 *	Certificates are checked after the handshake, not by OpenSSL's
 *	verify callback, so that one SSL_CTX serves every security level:
 *	"may" and "encrypt" continue whatever the chain, "verify" and
 *	"secure" require X509_V_OK and a name match (X509_check_host; a
 *	name with a leading dot matches any subdomain), DANE requires
 *	X509_V_OK from OpenSSL's DANE verifier (SSL_get0_dane_authority()
 *	says which record matched).
 *
 *	The summary is Postfix 3.7's: "TLSv1.3 with cipher X (256/256
 *	bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)
 *	server-digest SHA256".
 * DIAGNOSTICS
 *	Handshake and verification failures: a warning with OpenSSL's
 *	reason, and NULL to the caller. Never fatal: a bad peer is a
 *	delivery problem, not a configuration problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_io.h"
#include "tls/tls_proto.h"
#include "tls/tls_dane.h"
#include "tls/tls_certs.h"
#include "tls/tls_fprint.h"
#include "tls/tls_info.h"
#include "tls/tls_scache.h"
#include "tls/tls_client.h"

struct TLS_SESS {
    SSL    *ssl;
    char   *summary;
    const char *trust;			/* Verified, Trusted, Untrusted */
};

static SSL_CTX *client_ctx;
static int client_broken;		/* tls_client_init() failed */
static const EVP_MD *client_md;		/* fingerprint digest */
static int dane_ok;			/* the context does DANE */

/* tls_client_dane_init - DANE on the context, digests by tls_dane_digests */
static void tls_client_dane_init(SSL_CTX *ctx, const char *digests)
{
    TLS_DANE_DIGEST dg[TLS_DANE_MAX_DIGESTS];
    VSTRING *why = vstring_alloc(100);
    int     n;
    int     seen1 = 0, seen2 = 0;

    if (SSL_CTX_dane_enable(ctx) <= 0) {
	msg_warn("cannot enable DANE in the TLS client context");
	vstring_free(why);
	return;
    }
    if ((n = tls_dane_digests_parse(digests ? digests : "sha512 sha256", dg,
				    TLS_DANE_MAX_DIGESTS, why)) < 0) {
	msg_warn("%s; DANE TLSA digest records are not usable", vstring_str(why));
	n = 0;
    }
    /* Descending preference: the first digest gets the highest ordinal. */
    for (int i = 0; i < n; i++) {
	const EVP_MD *md = EVP_get_digestbyname(dg[i].name);

	if (SSL_CTX_dane_mtype_set(ctx, md, (uint8_t) dg[i].mtype, (uint8_t) (n - i)) <= 0)
	    msg_warn("cannot use digest %s for DANE matching type %d", dg[i].name, dg[i].mtype);
	seen1 |= dg[i].mtype == 1;
	seen2 |= dg[i].mtype == 2;
    }
    if (!seen1)
	(void) SSL_CTX_dane_mtype_set(ctx, 0, 1, 0);
    if (!seen2)
	(void) SSL_CTX_dane_mtype_set(ctx, 0, 2, 0);
    vstring_free(why);
    dane_ok = 1;
}

/* tls_client_dane_start - the TLSA records on a session; 0 or -1 */
static int tls_client_dane_start(SSL *ssl, const TLS_CLIENT_PARAMS *p)
{
    const TLS_DANE *dane = p->dane;
    int     usable = 0;

    if (!dane_ok || SSL_dane_enable(ssl, dane->base) <= 0)
	return (-1);
    /* RFC 7672 section 3.1.1: DANE-EE(3) has no name or date checks. */
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (size_t i = 0; i < dane->count; i++) {
	const TLS_DANE_REC *r = dane->rec + i;

	if (SSL_dane_tlsa_add(ssl, (uint8_t) r->usage, (uint8_t) r->selector,
			      (uint8_t) r->mtype, r->data, r->len) > 0)
	    usable++;
    }
    /* DANE-TA(2): the name is the TLSA base domain, and the policy's. */
    if (p->match_names && *p->match_names) {
	ARGV   *av = argv_split(p->match_names, ", \t");

	for (size_t i = 0; i < av->argc; i++)
	    if (strcasecmp(av->argv[i], dane->base) != 0)
		(void) SSL_add1_host(ssl, av->argv[i]);
	argv_free(av);
    }
    return (usable > 0 ? 0 : -1);
}

/* tls_client_new_ctx - a context with nothing of the configuration yet */
static SSL_CTX *tls_client_new_ctx(void)
{
    SSL_CTX *ctx;

    OPENSSL_init_ssl(0, 0);
    if ((ctx = SSL_CTX_new(TLS_client_method())) == 0)
	return (0);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return (ctx);
}

int     tls_client_init(const TLS_CLIENT_INIT *init, VSTRING *why)
{
    const char *prefix = init->prefix ? init->prefix : "smtp";

    vstring_reset(why);
    if (client_ctx)
	return (0);
    client_md = EVP_sha256();
    if (init->digest && *init->digest && (client_md = tls_fprint_digest(init->digest)) == 0) {
	vstring_sprintf(why, "Digest algorithm \"%s\" not found", init->digest);
	client_broken = 1;
	return (-1);
    }
    if ((client_ctx = tls_client_new_ctx()) == 0) {
	vstring_strcpy(why, "cannot create TLS client context");
	tls_io_errors(why);
	client_broken = 1;
	return (-1);
    }
    if ((init->CAfile && *init->CAfile) || (init->CApath && *init->CApath)) {
	if (SSL_CTX_load_verify_locations(client_ctx,
				 init->CAfile && *init->CAfile ? init->CAfile : 0,
			      init->CApath && *init->CApath ? init->CApath : 0) != 1) {
	    ERR_clear_error();
	    msg_warn("cannot load Certificate Authority data: CAfile=%s CApath=%s",
		     init->CAfile ? init->CAfile : "", init->CApath ? init->CApath : "");
	}
    }
    /* Postfix's depth counts the CAs below the trust anchor, plus one. */
    SSL_CTX_set_verify_depth(client_ctx, (init->verify_depth < 0 ? 0 : init->verify_depth) + 1);
    if ((init->chain_files && *init->chain_files) || (init->cert_file && *init->cert_file)) {
	if (tls_certs_load(client_ctx, init->chain_files, init->cert_file, init->key_file,
			   prefix, why) < 0) {
	    SSL_CTX_free(client_ctx);
	    client_ctx = 0;
	    client_broken = 1;
	    return (-1);
	}
    }
    tls_client_dane_init(client_ctx, init->dane_digests);
    tls_scache_client(client_ctx, init->cache, init->cache_timeout);
    return (0);
}

int     tls_client_ready(void)
{
    return (!client_broken);
}

/* tls_client_session_setup - protocols and ciphers of one session */
static int tls_client_session_setup(SSL *ssl, const TLS_CLIENT_PARAMS *p)
{
    VSTRING *why = vstring_alloc(100);
    char   *ciphers;
    int     min, max;
    long    no_ops;

    if (tls_protocol_mask(p->protocols ? p->protocols : "", &min, &max, &no_ops, why) < 0) {
	msg_warn("%s; using OpenSSL's default protocols", vstring_str(why));
    } else {
	SSL_set_min_proto_version(ssl, min);
	SSL_set_max_proto_version(ssl, max);
	SSL_set_options(ssl, no_ops);
    }
    if ((ciphers = tls_cipher_list(p->ciphers, p->cipherlist, p->exclude_ciphers, why)) == 0) {
	msg_warn("%s; using OpenSSL's default ciphers", vstring_str(why));
    } else {
	if (SSL_set_cipher_list(ssl, ciphers) != 1) {
	    ERR_clear_error();
	    msg_warn("invalid cipher list \"%s\"; using OpenSSL's default", ciphers);
	}
	myfree(ciphers);
    }
    vstring_free(why);
    return (0);
}

/* tls_name_match - does the certificate match one of the names? */
static int tls_name_match(X509 *cert, const char *names)
{
    ARGV   *av = argv_split(names ? names : "", ", \t");
    int     ok = 0;

    for (size_t i = 0; i < av->argc && !ok; i++)
	ok = (X509_check_host(cert, av->argv[i], 0, 0, 0) == 1);
    argv_free(av);
    return (ok);
}

/* tls_check_code - TLS_CHECK_* of a verification result */
static int tls_check_code(X509 *cert, long vres, const char *names, int dane)
{
    if (cert == 0)
	return (TLS_CHECK_UNTRUSTED);
    switch (vres) {
    case X509_V_OK:
	if (dane)
	    return (TLS_CHECK_OK);
	return (tls_name_match(cert, names) ? TLS_CHECK_OK : TLS_CHECK_NAME);
    case X509_V_ERR_CERT_HAS_EXPIRED:
	return (TLS_CHECK_EXPIRED);
    case X509_V_ERR_HOSTNAME_MISMATCH:
	return (TLS_CHECK_NAME);
    case X509_V_ERR_DANE_NO_MATCH:
	return (TLS_CHECK_DANE);
    default:
	return (TLS_CHECK_UNTRUSTED);
    }
}

static void tls_sess_free(TLS_SESS *sess)
{
    if (sess->ssl)
	SSL_free(sess->ssl);
    myfree(sess->summary);
    myfree(sess);
}

/*
 * tls_verify_reason - Postfix's words for a chain that did not verify:
 * "untrusted issuer /CN=..." when no trusted CA issued it, "self-signed
 * certificate", else OpenSSL's
 */
static const char *tls_verify_reason(SSL *ssl, long vres, VSTRING *out)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    X509   *top = chain && sk_X509_num(chain) > 0 ?
    sk_X509_value(chain, sk_X509_num(chain) - 1) : 0;
    char   *name;

    switch (vres) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
	if (top && (name = X509_NAME_oneline(X509_get_issuer_name(top), 0, 0)) != 0) {
	    vstring_sprintf(out, "untrusted issuer %s", name);
	    OPENSSL_free(name);
	    return (vstring_str(out));
	}
	break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	return ("self-signed certificate");
    }
    vstring_strcpy(out, X509_verify_cert_error_string(vres));
    return (vstring_str(out));
}

/* tls_fail - Postfix's two lines for a server that did not verify */
static void tls_fail(const TLS_CLIENT_PARAMS *p, TLS_SESS *sess, long vres, VSTRING *why)
{
    vstring_strcpy(why, "Server certificate not verified");
    msg_info("server certificate verification failed for %s: num=%ld:%s",
	     p->peer, vres, X509_verify_cert_error_string(vres));
    if (p->loglevel >= 1)
	msg_info("Untrusted TLS connection established to %s: %s", p->peer, sess->summary);
}

TLS_SESS *tls_client_start(VSTREAM *stream, const TLS_CLIENT_PARAMS *p, VSTRING *why)
{
    TLS_SESS *sess;
    int     want_verify = (strcmp(p->level, "verify") == 0 || strcmp(p->level, "secure") == 0);
    int     want_fpt = (strcmp(p->level, "fingerprint") == 0);
    int     want_dane = (p->dane != 0);
    int     fpt_usable = 0;
    X509   *cert;
    long    vres;
    const char *trust;
    TLS_INFO *info;
    VSTRING *summary;

    if (p->check)
	*p->check = TLS_CHECK_HANDSHAKE;
    if (client_ctx == 0 && !client_broken)
	client_ctx = tls_client_new_ctx();
    if (client_ctx == 0) {
	vstring_strcpy(why, "TLS client initialization failed");
	return (0);
    }
    sess = mycalloc(1, sizeof(*sess));
    sess->summary = mystrdup("");
    if ((sess->ssl = SSL_new(client_ctx)) == 0) {
	vstring_strcpy(why, "TLS session initialization failed");
	tls_sess_free(sess);
	return (0);
    }
    tls_client_session_setup(sess->ssl, p);
    if (p->servername && *p->servername)
	SSL_set_tlsext_host_name(sess->ssl, p->servername);
    if (want_dane && tls_client_dane_start(sess->ssl, p) < 0) {
	vstring_strcpy(why, "No usable TLSA records");
	tls_sess_free(sess);
	return (0);
    }
    /* Fingerprints: Postfix warns about unusable ones before it connects. */
    if (want_fpt) {
	(void) tls_fprint_match((X509 *) 0, client_md, p->match_names, p->peer, &fpt_usable);
	if (fpt_usable == 0)
	    msg_warn("%s: all fingerprints unusable", p->peer);
    }
    if (p->serverid && !want_dane)
	tls_scache_client_start(sess->ssl, p->serverid);
    if (tls_io_handshake(sess->ssl, vstream_fileno(stream), 0,
			 p->timeout > 0 ? p->timeout * 1000 : -1) < 0) {
	unsigned long e = ERR_peek_error();
	char    ebuf[256];

	if (e)
	    ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else
	    strcpy(ebuf, errno == ETIMEDOUT ? "timeout" : "lost connection");
	msg_warn("TLS library problem: %s: %s", p->peer, ebuf);
	vstring_strcpy(why, "Cannot start TLS: handshake failure");
	tls_sess_free(sess);
	return (0);
    }
    if (p->loglevel >= 2 && SSL_session_reused(sess->ssl))
	msg_info("%s: Reusing old session", p->peer);

    summary = vstring_alloc(100);
    info = tls_info_create(sess->ssl, 0, client_md);
    tls_info_summary(info, summary);
    tls_info_free(info);
    myfree(sess->summary);
    sess->summary = vstring_export(summary);

    if (p->chain_out)
	tls_client_peer_chain(sess, p->chain_out);

    /* Check the certificate only when the level asks for it. */
    cert = SSL_get1_peer_certificate(sess->ssl);
    vres = SSL_get_verify_result(sess->ssl);
    trust = (cert && vres == X509_V_OK) ? "Trusted" : "Untrusted";
    if (want_dane) {
	uint8_t usage, selector, mtype;
	int     depth;

	depth = SSL_get0_dane_tlsa(sess->ssl, &usage, &selector, &mtype, 0, 0);
	if (cert == 0 || vres != X509_V_OK || depth < 0) {
	    /* Postfix 3.7's two lines, then the delivery is deferred. */
	    if (vres == X509_V_OK)
		vres = X509_V_ERR_DANE_NO_MATCH;
	    if (p->check)
		*p->check = tls_check_code(cert, vres, 0, 1);
	    tls_fail(p, sess, vres, why);
	    if (cert)
		X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	if (p->loglevel >= 2)
	    msg_info("%s: matched %s(%u) %u %u at depth %d", p->peer,
		     tls_dane_usage_name(usage), usage, selector, mtype, depth);
	trust = p->dane_trusted_only ? "Trusted" : "Verified";
	if (p->check)
	    *p->check = TLS_CHECK_OK;
    } else if (want_fpt) {
	/* Postfix 3.7 matches them as private-use DANE-EE records. */
	if (cert == 0 || fpt_usable == 0
	    || !tls_fprint_match(cert, client_md, p->match_names, (char *) 0, &fpt_usable)) {
	    vres = fpt_usable == 0 ? X509_V_ERR_UNSPECIFIED : X509_V_ERR_DANE_NO_MATCH;
	    if (p->check)
		*p->check = TLS_CHECK_UNTRUSTED;
	    tls_fail(p, sess, vres, why);
	    if (cert)
		X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	trust = "Verified";
	if (p->check)
	    *p->check = TLS_CHECK_OK;
    } else if (want_verify) {
	if (p->check)
	    *p->check = tls_check_code(cert, vres, p->match_names, 0);
	if (cert == 0 || vres != X509_V_OK) {
	    VSTRING *reason = vstring_alloc(100);

	    /* Postfix 3.7: one line on the chain, the Untrusted summary. */
	    vstring_strcpy(why, "Server certificate not trusted");
	    msg_info("certificate verification failed for %s: %s", p->peer,
		     cert ? tls_verify_reason(sess->ssl, vres, reason) : "no certificate");
	    if (p->loglevel >= 1)
		msg_info("Untrusted TLS connection established to %s: %s",
			 p->peer, sess->summary);
	    vstring_free(reason);
	    if (cert)
		X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	if (!tls_name_match(cert, p->match_names)) {
	    tls_fail(p, sess, X509_V_ERR_HOSTNAME_MISMATCH, why);
	    X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	trust = "Verified";
    } else if (p->check) {
	/* Levels may and encrypt: what a verification would have found. */
	*p->check = tls_check_code(cert, vres, p->match_names, 0);
    }
    if (cert)
	X509_free(cert);

    sess->trust = trust;
    if (p->loglevel >= 1)
	msg_info("%s TLS connection established to %s: %s",
		 trust, p->peer, sess->summary);
    tls_io_attach(stream, sess->ssl);
    return (sess);
}

void    tls_client_stop(TLS_SESS *sess, VSTREAM *stream)
{
    if (sess == 0)
	return;
    if (stream)
	tls_io_detach(stream);
    tls_sess_free(sess);
}

const char *tls_client_summary(TLS_SESS *sess)
{
    return (sess ? sess->summary : "");
}

const char *tls_client_trust(TLS_SESS *sess)
{
    return (sess && sess->trust ? sess->trust : "Untrusted");
}

/* tls_digest_hex - "AB:CD:..." of a SHA-256 digest */
static void tls_digest_hex(VSTRING *out, const unsigned char *md, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
	vstring_sprintf_append(out, "%s%02X", i ? ":" : "", md[i]);
}

void    tls_client_peer_chain(TLS_SESS *sess, VSTRING *out)
{
    STACK_OF(X509) *chain;
    char    buf[512];

    if (sess == 0 || (chain = SSL_get_peer_cert_chain(sess->ssl)) == 0)
	return;
    for (int i = 0; i < sk_X509_num(chain); i++) {
	X509   *c = sk_X509_value(chain, i);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	unsigned char *der = 0;
	int     derlen;

	X509_NAME_oneline(X509_get_subject_name(c), buf, sizeof(buf));
	vstring_sprintf_append(out, "  depth=%d subject=%s\n", i, buf);
	X509_NAME_oneline(X509_get_issuer_name(c), buf, sizeof(buf));
	vstring_sprintf_append(out, "    issuer=%s\n", buf);
	if (X509_digest(c, EVP_sha256(), md, &mdlen)) {
	    vstring_strcat(out, "    cert sha256 [0]: ");
	    tls_digest_hex(out, md, mdlen);
	    vstring_strcat(out, "\n");
	}
	if ((derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der)) > 0) {
	    if (EVP_Digest(der, (size_t) derlen, md, &mdlen, EVP_sha256(), 0)) {
		vstring_strcat(out, "    pkey sha256 [1]: ");
		tls_digest_hex(out, md, mdlen);
		vstring_strcat(out, "\n");
	    }
	    OPENSSL_free(der);
	}
    }
}
