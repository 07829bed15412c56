/*
 * NAME
 *	tls_server - the server side of TLS on a VSTREAM (OpenSSL)
 * DESCRIPTION
 *	See tls_server.h. The session's I/O and the handshake are
 *	tls_io(3)'s, shared with the client, so TLS sessions obey
 *	smtpd_timeout exactly like plain ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_io.h"
#include "tls/tls_proto.h"
#include "tls/tls_server.h"

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
};

TLS_SERVER_CTX *tls_server_init(const char *cert_file, const char *key_file,
				        const char *protocols, const char *grade,
				        const char *grade_list, const char *exclude,
				        VSTRING *why)
{
    SSL_CTX *ctx;
    TLS_SERVER_CTX *tc;
    int     min, max;
    long    no_ops;
    char   *ciphers;

    vstring_reset(why);
    if (cert_file == 0 || *cert_file == 0) {
	vstring_strcpy(why, "no server certificate file configured");
	return (0);
    }
    if (key_file == 0 || *key_file == 0)
	key_file = cert_file;
    if (tls_protocol_mask(protocols, &min, &max, &no_ops, why) < 0)
	return (0);
    if ((ciphers = tls_cipher_list(grade, grade_list, exclude, why)) == 0)
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
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
	vstring_sprintf(why, "invalid cipher list \"%s\"", ciphers);
	tls_io_errors(why);
	goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
	vstring_sprintf(why, "cannot load certificate from %s", cert_file);
	tls_io_errors(why);
	goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
	vstring_sprintf(why, "cannot load private key from %s", key_file);
	tls_io_errors(why);
	goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
	vstring_sprintf(why, "private key in %s does not match certificate in %s",
			key_file, cert_file);
	tls_io_errors(why);
	goto fail;
    }
    myfree(ciphers);
    tc = mymalloc(sizeof(*tc));
    tc->ssl_ctx = ctx;
    return (tc);

fail:
    myfree(ciphers);
    SSL_CTX_free(ctx);
    return (0);
}

int     tls_server_start(TLS_SERVER_CTX *tc, VSTREAM *stream, int timeout,
			         VSTRING *why)
{
    SSL    *ssl;

    vstring_reset(why);
    if (vstream_fflush(stream) != 0) {
	vstring_strcpy(why, "lost connection");
	return (-1);
    }
    vstream_purge_read(stream);
    if ((ssl = SSL_new(tc->ssl_ctx)) == 0) {
	vstring_strcpy(why, "cannot create TLS session");
	tls_io_errors(why);
	return (-1);
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
	return (-1);
    }
    tls_io_attach(stream, ssl);
    return (0);
}

const char *tls_server_protocol(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);

    return (ssl ? SSL_get_version(ssl) : 0);
}

const char *tls_server_cipher(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);

    return (ssl ? SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)) : 0);
}

int     tls_server_bits(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);
    int     alg_bits;

    return (ssl ? SSL_CIPHER_get_bits(SSL_get_current_cipher(ssl), &alg_bits) : 0);
}

void    tls_server_stop(VSTREAM *stream)
{
    SSL    *ssl = tls_io_ssl(stream);

    if (ssl == 0)
	return;
    tls_io_detach(stream);
    SSL_free(ssl);
}
