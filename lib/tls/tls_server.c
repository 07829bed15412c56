/*
 * NAME
 *	tls_server - the server side of TLS on a VSTREAM (OpenSSL)
 * DESCRIPTION
 *	See tls_server.h. The session's I/O and the handshake are
 *	tls_io(3)'s, shared with the client, so TLS sessions obey
 *	smtpd_timeout exactly like plain ones.
 *
 *	A client certificate is asked for with SSL_VERIFY_PEER and a
 *	verify callback that accepts whatever comes: the handshake never
 *	fails over a certificate, and SSL_get_verify_result() keeps what
 *	verification found for the caller to decide (Postfix does the
 *	same: smtpd_tls_req_ccert is enforced after the handshake).
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_io.h"
#include "tls/tls_proto.h"
#include "tls/tls_certs.h"
#include "tls/tls_fprint.h"
#include "tls/tls_scache.h"
#include "tls/tls_server.h"

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    const EVP_MD *md;			/* fingerprint digest */
    int     shared_cache;		/* sessions resume from the cache file */
};

/* accept_any - let the handshake go on; the result stays for the caller */
static int accept_any(int ok, X509_STORE_CTX *store)
{
    (void) ok;
    (void) store;
    return (1);
}

/* ask_ccert - request a client certificate, trusted per CAfile/CApath */
static int ask_ccert(SSL_CTX *ctx, const TLS_SERVER_PARAMS *p, VSTRING *why)
{
    const char *CAfile = p->CAfile && *p->CAfile ? p->CAfile : 0;
    const char *CApath = p->CApath && *p->CApath ? p->CApath : 0;

    if ((CAfile || CApath) && SSL_CTX_load_verify_locations(ctx, CAfile, CApath) != 1) {
	vstring_sprintf(why, "cannot load Certificate Authority data: CAfile=%s CApath=%s",
			CAfile ? CAfile : "", CApath ? CApath : "");
	tls_io_errors(why);
	return (-1);
    }
    /* The DNs of CAfile's CAs go with the request (not CApath's). */
    if (CAfile) {
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(CAfile);

	if (names)
	    SSL_CTX_set_client_CA_list(ctx, names);
	ERR_clear_error();
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any);
    SSL_CTX_set_verify_depth(ctx, (p->verify_depth < 0 ? 0 : p->verify_depth) + 1);
    return (0);
}

TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PARAMS *p, VSTRING *why)
{
    SSL_CTX *ctx;
    TLS_SERVER_CTX *tc;
    const EVP_MD *md = 0;
    int     min, max;
    long    no_ops;
    char   *ciphers;
    VSTRING *context;

    vstring_reset(why);
    if (p->digest && *p->digest && (md = tls_fprint_digest(p->digest)) == 0) {
	vstring_sprintf(why, "Digest algorithm \"%s\" not found", p->digest);
	return (0);
    }
    if (tls_protocol_mask(p->protocols, &min, &max, &no_ops, why) < 0)
	return (0);
    if ((ciphers = tls_cipher_list(p->grade, p->grade_list, p->exclude, why)) == 0)
	return (0);
    if ((ctx = SSL_CTX_new(TLS_server_method())) == 0) {
	vstring_strcpy(why, "cannot create TLS context");
	tls_io_errors(why);
	myfree(ciphers);
	return (0);
    }
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, max);
    SSL_CTX_set_options(ctx, no_ops | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
		     | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
	vstring_sprintf(why, "invalid cipher list \"%s\"", ciphers);
	tls_io_errors(why);
	goto fail;
    }
    if (tls_certs_load(ctx, p->chain_files, p->cert_file, p->key_file,
		       p->prefix ? p->prefix : "smtpd", why) < 0)
	goto fail;
    tls_certs_dh(ctx, p->dh_file);
    if (p->ask_ccert && ask_ccert(ctx, p, why) < 0)
	goto fail;

    /*
     * The session ID context: a session resumes only in a service whose
     * client certificate settings are those it was made with.
     */
    context = vstring_alloc(100);
    vstring_sprintf(context, "%s&ask=%d&CAfile=%s&CApath=%s&depth=%d",
		    p->context ? p->context : "", p->ask_ccert,
		    p->CAfile ? p->CAfile : "", p->CApath ? p->CApath : "", p->verify_depth);
    tls_scache_server(ctx, p->cache, p->cache_timeout, vstring_str(context),
		      p->ticket_cipher);
    vstring_free(context);
    myfree(ciphers);
    tc = mymalloc(sizeof(*tc));
    tc->ssl_ctx = ctx;
    tc->md = md ? md : EVP_sha256();
    tc->shared_cache = (p->cache != 0 && p->cache_timeout > 0);
    return (tc);

fail:
    myfree(ciphers);
    SSL_CTX_free(ctx);
    return (0);
}

TLS_INFO *tls_server_start(TLS_SERVER_CTX *tc, VSTREAM *stream, int timeout, VSTRING *why)
{
    SSL    *ssl;
    TLS_INFO *info;

    vstring_reset(why);
    if (vstream_fflush(stream) != 0) {
	vstring_strcpy(why, "lost connection");
	return (0);
    }
    vstream_purge_read(stream);
    if ((ssl = SSL_new(tc->ssl_ctx)) == 0) {
	vstring_strcpy(why, "cannot create TLS session");
	tls_io_errors(why);
	return (0);
    }
    if (tls_io_handshake(ssl, vstream_fileno(stream), 1,
			 timeout > 0 ? timeout * 1000 : -1) < 0) {
	if (errno == ETIMEDOUT)
	    vstring_strcpy(why, "timeout");
	else if (errno == ECONNRESET)
	    vstring_strcpy(why, "lost connection");
	else {
	    vstring_strcpy(why, "SSL_accept error");
	    tls_io_errors(why);
	}
	SSL_free(ssl);
	return (0);
    }
    info = tls_info_create(ssl, 1, tc->md);
    info->ticket = info->reused && !tc->shared_cache;
    tls_io_attach(stream, ssl);
    return (info);
}

void    tls_server_stop(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);

    if (ssl == 0)
	return;
    tls_io_detach(stream);
    SSL_free(ssl);
}
