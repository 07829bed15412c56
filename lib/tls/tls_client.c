/*
 * NAME
 *	tls_client - STARTTLS for the SMTP/LMTP client, with OpenSSL
 * DESCRIPTION
 *	See tls_client.h. The descriptor is switched to non-blocking mode
 *	for the TLS session, and every SSL_read/SSL_write/SSL_connect that
 *	wants more I/O waits with vstream_wait_fd() for the time the
 *	stream allows, so TLS keeps the same timeouts as plain text.
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
#include "tls/tls_client.h"

struct TLS_SESS {
    SSL    *ssl;
    int     fd;
    char   *summary;
};

static SSL_CTX *client_ctx;

/* tls_protocol_min - lowest version allowed by Postfix's syntax */
int     tls_protocol_min(const char *protocols)
{
    static const struct {
	const char *name;
	int     version;
    }       names[] = {
	{"SSLv3", SSL3_VERSION},
	{"TLSv1", TLS1_VERSION},
	{"TLSv1.1", TLS1_1_VERSION},
	{"TLSv1.2", TLS1_2_VERSION},
	{"TLSv1.3", TLS1_3_VERSION},
    };
    const size_t count = sizeof(names) / sizeof(names[0]);
    int     min = 0;
    int     excluded[8] = {0};
    ARGV   *av = argv_split(protocols ? protocols : "", ", \t:");

    for (size_t i = 0; i < av->argc; i++) {
	const char *p = av->argv[i];

	if (strncmp(p, ">=", 2) == 0) {
	    for (size_t j = 0; j < count; j++)
		if (strcasecmp(p + 2, names[j].name) == 0)
		    min = names[j].version;
	} else if (*p == '!') {
	    for (size_t j = 0; j < count; j++)
		if (strcasecmp(p + 1, names[j].name) == 0)
		    excluded[j] = 1;
	}
    }
    argv_free(av);
    if (min == 0) {
	for (size_t j = 0; j < count; j++)
	    if (!excluded[j]) {
		min = names[j].version;
		break;
	    }
    }
    return (min ? min : TLS1_VERSION);
}

/* tls_cipher_list - an OpenSSL cipher list for a Postfix grade */
static void tls_cipher_list(VSTRING *out, const char *grade, const char *exclude)
{
    if (grade == 0 || strcasecmp(grade, "medium") == 0)
	vstring_strcpy(out, "HIGH:MEDIUM:!aNULL:!eNULL");
    else if (strcasecmp(grade, "high") == 0)
	vstring_strcpy(out, "HIGH:!aNULL:!eNULL");
    else if (strcasecmp(grade, "low") == 0 || strcasecmp(grade, "export") == 0)
	vstring_strcpy(out, "ALL:!aNULL:!eNULL");
    else if (strcasecmp(grade, "null") == 0)
	vstring_strcpy(out, "eNULL:!aNULL");
    else
	vstring_strcpy(out, "HIGH:MEDIUM:!aNULL:!eNULL");
    if (exclude && *exclude) {
	ARGV   *av = argv_split(exclude, ", \t:");

	for (size_t i = 0; i < av->argc; i++)
	    vstring_sprintf_append(out, ":!%s", av->argv[i]);
	argv_free(av);
    }
}

static SSL_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *p)
{
    VSTRING *ciphers;

    if (client_ctx)
	return (client_ctx);
    OPENSSL_init_ssl(0, 0);
    if ((client_ctx = SSL_CTX_new(TLS_client_method())) == 0) {
	msg_warn("cannot create TLS client context");
	return (0);
    }
    SSL_CTX_set_min_proto_version(client_ctx, tls_protocol_min(p->protocols));
    SSL_CTX_set_options(client_ctx, SSL_OP_NO_COMPRESSION);
    ciphers = vstring_alloc(100);
    tls_cipher_list(ciphers, p->ciphers, p->exclude_ciphers);
    if (SSL_CTX_set_cipher_list(client_ctx, vstring_str(ciphers)) != 1)
	msg_warn("invalid cipher list \"%s\"; using OpenSSL's default",
		 vstring_str(ciphers));
    vstring_free(ciphers);
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

/* tls_wait - wait as SSL asks, within the remaining time */
static int tls_wait(TLS_SESS *sess, int err, long long deadline)
{
    int     left = -1;

    if (deadline > 0) {
	long long ms = deadline - vstream_now_ms();

	if (ms <= 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	left = ms > 0x7fffffff ? 0x7fffffff : (int) ms;
    }
    switch (vstream_wait_fd(sess->fd, err == SSL_ERROR_WANT_WRITE, left)) {
    case 0:
	errno = ETIMEDOUT;
	return (-1);
    case 1:
	return (0);
    default:
	return (-1);
    }
}

static long long tls_deadline(int timeout_ms)
{
    return (timeout_ms < 0 ? 0 : vstream_now_ms() + (timeout_ms ? timeout_ms : 1));
}

static ssize_t tls_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    TLS_SESS *sess = ctx;
    long long deadline = tls_deadline(timeout_ms);
    int     n, err;

    (void) fd;
    for (;;) {
	ERR_clear_error();
	if ((n = SSL_read(sess->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int) len)) > 0)
	    return (n);
	err = SSL_get_error(sess->ssl, n);
	if (err == SSL_ERROR_ZERO_RETURN)
	    return (0);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
	    if (tls_wait(sess, err, deadline) < 0)
		return (-1);
	    continue;
	}
	if (err == SSL_ERROR_SYSCALL && n == 0 && ERR_peek_error() == 0)
	    return (0);			/* EOF without close_notify */
	errno = EIO;
	return (-1);
    }
}

static ssize_t tls_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    TLS_SESS *sess = ctx;
    long long deadline = tls_deadline(timeout_ms);
    int     n, err;

    (void) fd;
    for (;;) {
	ERR_clear_error();
	if ((n = SSL_write(sess->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int) len)) > 0)
	    return (n);
	err = SSL_get_error(sess->ssl, n);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
	    if (tls_wait(sess, err, deadline) < 0)
		return (-1);
	    continue;
	}
	errno = EPIPE;
	return (-1);
    }
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
    long long deadline;
    int     n, err, flags;
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
    sess->fd = vstream_fileno(stream);
    sess->summary = mystrdup("");
    if ((sess->ssl = SSL_new(ctx)) == 0 || SSL_set_fd(sess->ssl, sess->fd) != 1) {
	vstring_strcpy(why, "TLS session initialization failed");
	tls_sess_free(sess);
	return (0);
    }
    if (p->servername && *p->servername)
	SSL_set_tlsext_host_name(sess->ssl, p->servername);
    if ((flags = fcntl(sess->fd, F_GETFL)) >= 0)
	(void) fcntl(sess->fd, F_SETFL, flags | O_NONBLOCK);

    deadline = p->timeout > 0 ? vstream_now_ms() + (long long) p->timeout * 1000 : 0;
    for (;;) {
	ERR_clear_error();
	if ((n = SSL_connect(sess->ssl)) == 1)
	    break;
	err = SSL_get_error(sess->ssl, n);
	if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
	    && tls_wait(sess, err, deadline) == 0)
	    continue;
	{
	    unsigned long e = ERR_peek_error();
	    char    ebuf[256];

	    if (e)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	    else
		strcpy(ebuf, errno == ETIMEDOUT ? "timeout" : "lost connection");
	    msg_warn("TLS library problem: %s: %s", p->peer, ebuf);
	}
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
    vstream_set_io(stream, tls_read, tls_write, sess);
    return (sess);
}

void    tls_client_stop(TLS_SESS *sess, VSTREAM *stream)
{
    if (sess == 0)
	return;
    if (stream) {
	(void) SSL_shutdown(sess->ssl);
	vstream_set_io(stream, 0, 0, 0);
    }
    tls_sess_free(sess);
}

const char *tls_client_summary(TLS_SESS *sess)
{
    return (sess ? sess->summary : "");
}
