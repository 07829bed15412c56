/*
 * NAME
 *	tls_server - the server side of TLS on a VSTREAM (OpenSSL)
 * DESCRIPTION
 *	See tls_server.h. The descriptor is non-blocking during and after
 *	the handshake; every SSL call that wants more input or output
 *	waits with poll(2) for the time the stream allows (the timeout
 *	and deadline of vstream.h), so TLS sessions obey smtpd_timeout
 *	exactly like plain ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "tls/tls_server.h"

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
};

typedef struct TLS_SESSION {
    SSL    *ssl;
} TLS_SESSION;

static const struct {
    const char *name;
    int     version;
    long    no_op;
}       tls_protos[] = {
    {"SSLv2", 0, 0},			/* never supported */
    {"SSLv3", SSL3_VERSION, SSL_OP_NO_SSLv3},
    {"TLSv1", TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};

#define TLS_NPROTOS	((int) (sizeof(tls_protos) / sizeof(tls_protos[0])))

/* tls_proto_index - index of a protocol name, or -1 */
static int tls_proto_index(const char *name)
{
    int     i;

    for (i = 0; i < TLS_NPROTOS; i++)
	if (strcasecmp(name, tls_protos[i].name) == 0)
	    return (i);
    return (-1);
}

int     tls_protocol_mask(const char *protocols, int *min, int *max,
			          long *no_ops, VSTRING *why)
{
    char    allowed[TLS_NPROTOS];
    char   *copy = mystrdup(protocols);
    char   *cp = copy;
    char   *tok;
    int     lo = 0, hi = TLS_NPROTOS - 1, i, idx;
    int     have_include = 0;
    char    include[TLS_NPROTOS];

    memset(include, 0, sizeof(include));
    memset(allowed, 1, sizeof(allowed));
    allowed[0] = 0;				/* SSLv2 */
    while ((tok = mystrtok(&cp, ", \t\r\n:")) != 0) {
	if (strncmp(tok, ">=", 2) == 0 || strncmp(tok, "<=", 2) == 0) {
	    if ((idx = tls_proto_index(tok + 2)) < 0)
		goto bad;
	    if (tok[0] == '>')
		lo = idx;
	    else
		hi = idx;
	} else if (tok[0] == '!') {
	    if ((idx = tls_proto_index(tok + 1)) < 0)
		goto bad;
	    allowed[idx] = 0;
	} else {
	    if ((idx = tls_proto_index(tok)) < 0)
		goto bad;
	    include[idx] = 1;
	    have_include = 1;
	}
    }
    myfree(copy);
    *no_ops = 0;
    *min = *max = 0;
    for (i = 0; i < TLS_NPROTOS; i++) {
	if (i < lo || i > hi || (have_include && !include[i]))
	    allowed[i] = 0;
	if (!allowed[i]) {
	    *no_ops |= tls_protos[i].no_op;
	    continue;
	}
	if (*min == 0)
	    *min = tls_protos[i].version;
	*max = tls_protos[i].version;
    }
    if (*min == 0) {
	vstring_sprintf(why, "no TLS protocol left in \"%s\"", protocols);
	return (-1);
    }
    return (0);

bad:
    vstring_sprintf(why, "invalid TLS protocol \"%s\" in \"%s\"", tok, protocols);
    myfree(copy);
    return (-1);
}

/* tls_cipher_list - the OpenSSL cipher string of a Postfix grade */
static char *tls_cipher_list(const char *grade, const char *exclude, VSTRING *why)
{
    VSTRING *name = vstring_alloc(40);
    VSTRING *list = vstring_alloc(100);
    char   *copy, *cp, *tok;

    if (strcasecmp(grade, "high") && strcasecmp(grade, "medium")
	&& strcasecmp(grade, "low") && strcasecmp(grade, "export")
	&& strcasecmp(grade, "null")) {
	vstring_sprintf(why, "invalid cipher grade \"%s\"", grade);
	vstring_free(name);
	vstring_free(list);
	return (0);
    }
    vstring_sprintf(name, "tls_%s_cipherlist", grade);
    lowercase(vstring_str(name));
    vstring_strcpy(list, mail_conf_str(vstring_str(name)));
    cp = copy = mystrdup(exclude ? exclude : "");
    while ((tok = mystrtok(&cp, ", \t\r\n:")) != 0)
	vstring_sprintf_append(list, ":!%s", tok);
    myfree(copy);
    vstring_free(name);
    return (vstring_export(list));
}

/* tls_errors - OpenSSL's error queue as text */
static void tls_errors(VSTRING *why)
{
    unsigned long err;
    char    buf[256];

    while ((err = ERR_get_error()) != 0) {
	ERR_error_string_n(err, buf, sizeof(buf));
	vstring_sprintf_append(why, ": %s", buf);
    }
}

TLS_SERVER_CTX *tls_server_init(const char *cert_file, const char *key_file,
				        const char *protocols, const char *grade,
				        const char *exclude, VSTRING *why)
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
    if ((ciphers = tls_cipher_list(grade, exclude, why)) == 0)
	return (0);
    if ((ctx = SSL_CTX_new(TLS_server_method())) == 0) {
	vstring_strcpy(why, "cannot create TLS context");
	tls_errors(why);
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
	tls_errors(why);
	goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
	vstring_sprintf(why, "cannot load certificate from %s", cert_file);
	tls_errors(why);
	goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
	vstring_sprintf(why, "cannot load private key from %s", key_file);
	tls_errors(why);
	goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
	vstring_sprintf(why, "private key in %s does not match certificate in %s",
			key_file, cert_file);
	tls_errors(why);
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

/* tls_wait - wait as SSL asks; 0 ready, -1 with errno */
static int tls_wait(SSL *ssl, int fd, int ret, int timeout_ms)
{
    int     ready;

    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
	ready = vstream_wait_fd(fd, 0, timeout_ms);
	break;
    case SSL_ERROR_WANT_WRITE:
	ready = vstream_wait_fd(fd, 1, timeout_ms);
	break;
    case SSL_ERROR_ZERO_RETURN:
	errno = 0;
	return (1);				/* clean close */
    case SSL_ERROR_SYSCALL:
	if (errno == EINTR || errno == EAGAIN)
	    return (0);
	if (errno == 0)
	    errno = ECONNRESET;
	return (-1);
    default:
	ERR_clear_error();
	errno = EPROTO;
	return (-1);
    }
    if (ready == 0) {
	errno = ETIMEDOUT;
	return (-1);
    }
    return (ready < 0 ? -1 : 0);
}

/* remaining - what is left of a wait that started at start */
static int remaining(long long start, int timeout_ms)
{
    long long left;

    if (timeout_ms < 0)
	return (-1);
    left = timeout_ms - (vstream_now_ms() - start);
    return (left < 0 ? 0 : (int) left);
}

static ssize_t tls_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    TLS_SESSION *ts = ctx;
    long long start = vstream_now_ms();
    int     n, w;

    if (len > 0x7fffffff)
	len = 0x7fffffff;
    for (;;) {
	ERR_clear_error();
	if ((n = SSL_read(ts->ssl, buf, (int) len)) > 0)
	    return (n);
	if ((w = tls_wait(ts->ssl, fd, n, remaining(start, timeout_ms))) > 0)
	    return (0);
	if (w < 0)
	    return (-1);
    }
}

static ssize_t tls_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    TLS_SESSION *ts = ctx;
    long long start = vstream_now_ms();
    int     n, w;

    if (len > 0x7fffffff)
	len = 0x7fffffff;
    for (;;) {
	ERR_clear_error();
	if ((n = SSL_write(ts->ssl, buf, (int) len)) > 0)
	    return (n);
	if ((w = tls_wait(ts->ssl, fd, n, remaining(start, timeout_ms))) != 0) {
	    if (w > 0)
		errno = EPIPE;
	    return (-1);
	}
    }
}

/* tls_session - the session of a stream, or NULL */
static TLS_SESSION *tls_session(VSTREAM *stream)
{
    return (stream->read_fn == tls_read ? (TLS_SESSION *) stream->io_ctx : 0);
}

int     tls_server_start(TLS_SERVER_CTX *tc, VSTREAM *stream, int timeout,
			         VSTRING *why)
{
    TLS_SESSION *ts;
    SSL    *ssl;
    int     fd = vstream_fileno(stream);
    long long start;
    int     ret, w, flags;

    vstring_reset(why);
    if (vstream_fflush(stream) != 0) {
	vstring_strcpy(why, "lost connection");
	return (-1);
    }
    vstream_purge_read(stream);
    if ((ssl = SSL_new(tc->ssl_ctx)) == 0) {
	vstring_strcpy(why, "cannot create TLS session");
	tls_errors(why);
	return (-1);
    }
    if ((flags = fcntl(fd, F_GETFL)) >= 0)
	(void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    SSL_set_fd(ssl, fd);
    start = vstream_now_ms();
    for (;;) {
	ERR_clear_error();
	if ((ret = SSL_accept(ssl)) == 1)
	    break;
	w = tls_wait(ssl, fd, ret,
		     remaining(start, timeout > 0 ? timeout * 1000 : -1));
	if (w != 0) {
	    if (errno == ETIMEDOUT)
		vstring_strcpy(why, "timeout");
	    else if (w > 0 || errno == ECONNRESET)
		vstring_strcpy(why, "lost connection");
	    else {
		vstring_sprintf(why, "SSL_accept error %d", ret);
		tls_errors(why);
	    }
	    SSL_free(ssl);
	    return (-1);
	}
    }
    ts = mymalloc(sizeof(*ts));
    ts->ssl = ssl;
    vstream_set_io(stream, tls_read, tls_write, ts);
    return (0);
}

const char *tls_server_protocol(VSTREAM *stream)
{
    TLS_SESSION *ts = tls_session(stream);

    return (ts ? SSL_get_version(ts->ssl) : 0);
}

const char *tls_server_cipher(VSTREAM *stream)
{
    TLS_SESSION *ts = tls_session(stream);

    return (ts ? SSL_CIPHER_get_name(SSL_get_current_cipher(ts->ssl)) : 0);
}

int     tls_server_bits(VSTREAM *stream)
{
    TLS_SESSION *ts = tls_session(stream);
    int     alg_bits;

    return (ts ? SSL_CIPHER_get_bits(SSL_get_current_cipher(ts->ssl), &alg_bits) : 0);
}

void    tls_server_stop(VSTREAM *stream)
{
    TLS_SESSION *ts = tls_session(stream);

    if (ts == 0)
	return;
    (void) vstream_fflush(stream);
    ERR_clear_error();
    (void) SSL_shutdown(ts->ssl);
    SSL_free(ts->ssl);
    myfree(ts);
    vstream_set_io(stream, 0, 0, 0);
}
