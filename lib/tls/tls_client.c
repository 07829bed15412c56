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
 *	name with a leading dot matches any subdomain).
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

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_io.h"
#include "tls/tls_proto.h"
#include "tls/tls_client.h"

struct TLS_SESS {
    SSL    *ssl;
    char   *summary;
};

static SSL_CTX *client_ctx;

static SSL_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *p)
{
    VSTRING *why;
    char   *ciphers;
    int     min, max;
    long    no_ops;

    if (client_ctx)
	return (client_ctx);
    OPENSSL_init_ssl(0, 0);
    if ((client_ctx = SSL_CTX_new(TLS_client_method())) == 0) {
	msg_warn("cannot create TLS client context");
	return (0);
    }
    why = vstring_alloc(100);
    if (tls_protocol_mask(p->protocols ? p->protocols : "", &min, &max,
			  &no_ops, why) < 0) {
	msg_warn("%s; using OpenSSL's default protocols", vstring_str(why));
    } else {
	SSL_CTX_set_min_proto_version(client_ctx, min);
	SSL_CTX_set_max_proto_version(client_ctx, max);
	SSL_CTX_set_options(client_ctx, no_ops);
    }
    SSL_CTX_set_options(client_ctx, SSL_OP_NO_COMPRESSION);
    if ((ciphers = tls_cipher_list(p->ciphers, p->cipherlist,
				   p->exclude_ciphers, why)) == 0) {
	msg_warn("%s; using OpenSSL's default ciphers", vstring_str(why));
    } else {
	if (SSL_CTX_set_cipher_list(client_ctx, ciphers) != 1)
	    msg_warn("invalid cipher list \"%s\"; using OpenSSL's default",
		     ciphers);
	myfree(ciphers);
    }
    vstring_free(why);
    if ((p->CAfile && *p->CAfile) || (p->CApath && *p->CApath)) {
	if (SSL_CTX_load_verify_locations(client_ctx,
					  p->CAfile && *p->CAfile ? p->CAfile : 0,
				      p->CApath && *p->CApath ? p->CApath : 0) != 1)
	    msg_warn("cannot load Certificate Authority data: CAfile=%s CApath=%s",
		     p->CAfile ? p->CAfile : "", p->CApath ? p->CApath : "");
    }
    if (p->cert_file && *p->cert_file) {
	const char *key = p->key_file && *p->key_file ? p->key_file : p->cert_file;

	if (SSL_CTX_use_certificate_chain_file(client_ctx, p->cert_file) != 1
	    || SSL_CTX_use_PrivateKey_file(client_ctx, key, SSL_FILETYPE_PEM) != 1)
	    msg_warn("cannot load client certificate %s / key %s", p->cert_file, key);
    }
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, 0);
    return (client_ctx);
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

static void tls_sess_free(TLS_SESS *sess)
{
    if (sess->ssl)
	SSL_free(sess->ssl);
    myfree(sess->summary);
    myfree(sess);
}

TLS_SESS *tls_client_start(VSTREAM *stream, const TLS_CLIENT_PARAMS *p, VSTRING *why)
{
    SSL_CTX *ctx = tls_client_ctx(p);
    TLS_SESS *sess;
    int     want_verify = (strcmp(p->level, "verify") == 0 || strcmp(p->level, "secure") == 0);
    X509   *cert;
    long    vres;
    const char *trust;
    VSTRING *summary;
    int     bits, alg_bits;

    if (ctx == 0) {
	vstring_strcpy(why, "TLS client initialization failed");
	return (0);
    }
    sess = mycalloc(1, sizeof(*sess));
    sess->summary = mystrdup("");
    if ((sess->ssl = SSL_new(ctx)) == 0) {
	vstring_strcpy(why, "TLS session initialization failed");
	tls_sess_free(sess);
	return (0);
    }
    if (p->servername && *p->servername)
	SSL_set_tlsext_host_name(sess->ssl, p->servername);
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

    /* Check the certificate only when the level asks for it. */
    cert = SSL_get1_peer_certificate(sess->ssl);
    vres = SSL_get_verify_result(sess->ssl);
    trust = (cert && vres == X509_V_OK) ? "Trusted" : "Untrusted";
    if (want_verify) {
	if (cert == 0 || vres != X509_V_OK) {
	    vstring_sprintf(why, "Server certificate not trusted");
	    msg_warn("%s: certificate verification failed for %s: %s",
		     p->level, p->peer, cert ? X509_verify_cert_error_string(vres)
		     : "no certificate");
	    if (cert)
		X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	if (!tls_name_match(cert, p->match_names)) {
	    vstring_sprintf(why, "Server certificate not verified");
	    msg_warn("%s: server certificate name mismatch for %s (wanted: %s)",
		     p->level, p->peer, p->match_names ? p->match_names : "");
	    X509_free(cert);
	    tls_sess_free(sess);
	    return (0);
	}
	trust = "Verified";
    }
    if (cert)
	X509_free(cert);

    summary = vstring_alloc(100);
    bits = SSL_get_cipher_bits(sess->ssl, &alg_bits);
    vstring_sprintf(summary, "%s with cipher %s (%d/%d bits)",
		    SSL_get_version(sess->ssl), SSL_get_cipher_name(sess->ssl),
		    bits, alg_bits);
    myfree(sess->summary);
    sess->summary = vstring_export(summary);
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
