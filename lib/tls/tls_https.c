/*
 * NAME
 *	tls_https - fetch one small document over HTTPS (MTA-STS policies)
 * DESCRIPTION
 *	See tls_https.h. One connection per fetch (policies are cached by
 *	the caller for max_age), a total deadline for connect, handshake,
 *	request and reply, and a size limit on what is read.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "tls/tls_io.h"
#include "tls/tls_https.h"

/* https_connect - a TCP connection within the deadline; -1 with why */
static int https_connect(const char *ip, int port, long long deadline, VSTRING *why)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int     fd, err = 0;
    socklen_t elen = sizeof(err);

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
	ss.ss_family = AF_INET;
	((struct sockaddr_in *) &ss)->sin_port = htons(port);
	len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
	ss.ss_family = AF_INET6;
	((struct sockaddr_in6 *) &ss)->sin6_port = htons(port);
	len = sizeof(struct sockaddr_in6);
    } else {
	vstring_sprintf(why, "bad address %s", ip);
	return (-1);
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
	vstring_sprintf(why, "socket: %s", strerror(errno));
	return (-1);
    }
    if (connect(fd, (struct sockaddr *) &ss, len) < 0) {
	if (errno != EINPROGRESS
	    || vstream_wait_fd(fd, 1, (int) (deadline - vstream_now_ms())) != 1
	    || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
	    vstring_sprintf(why, "connect to %s port %d: %s", ip, port,
			    err ? strerror(err) : errno == EINPROGRESS ? "timeout" : strerror(errno));
	    close(fd);
	    return (-1);
	}
    }
    return (fd);
}

/* https_ctx - a verifying client context for one fetch */
static SSL_CTX *https_ctx(const char *CAfile)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    struct stat st;

    if (ctx == 0)
	return (0);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (CAfile && *CAfile) {
	if (stat(CAfile, &st) == 0 && S_ISDIR(st.st_mode))
	    SSL_CTX_load_verify_locations(ctx, 0, CAfile);
	else
	    SSL_CTX_load_verify_locations(ctx, CAfile, 0);
    } else {
	SSL_CTX_set_default_verify_paths(ctx);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, 0);
    return (ctx);
}

int     tls_https_get(const char *ip, int port, const char *host, const char *path,
		              const char *CAfile, int timeout, size_t max_size,
		              VSTRING *body, VSTRING *why)
{
    long long deadline = vstream_now_ms() + (long long) timeout * 1000;
    SSL_CTX *ctx = 0;
    VSTREAM *stream = 0;
    SSL    *ssl = 0;
    VSTRING *line = vstring_alloc(200);
    long    vres;
    long    content_length = -1;
    int     ok_type = 0;
    int     fd = -1, ret = -1, status;
    int     ch;

    vstring_reset(body);
    if ((fd = https_connect(ip, port, deadline, why)) < 0)
	goto done;
    if ((ctx = https_ctx(CAfile)) == 0 || (ssl = SSL_new(ctx)) == 0) {
	vstring_strcpy(why, "TLS initialization failed");
	goto done;
    }
    SSL_set_tlsext_host_name(ssl, host);
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, host);
    if (tls_io_handshake(ssl, fd, 0, (int) (deadline - vstream_now_ms())) < 0) {
	vres = SSL_get_verify_result(ssl);
	if (vres != X509_V_OK) {
	    vstring_sprintf(why, "webpki: certificate of %s not valid: %s", host,
			    X509_verify_cert_error_string(vres));
	} else {
	    vstring_sprintf(why, "TLS handshake with %s failed", host);
	    tls_io_errors(why);
	}
	goto done;
    }
    stream = vstream_fdopen(fd);
    fd = -1;
    tls_io_attach(stream, ssl);
    vstream_set_deadline(stream, (int) ((deadline - vstream_now_ms()) / 1000) + 1);
    vstream_fprintf(stream, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
		    "User-Agent: mta-sts\r\n\r\n", path, host);
    if (vstream_fflush(stream) != 0) {
	vstring_sprintf(why, "error sending the request to %s", host);
	goto done;
    }
    /* Status line, then headers up to an empty line. */
    if (vstream_get_line(stream, line, 1000) != VSTREAM_LINE
	|| strncmp(vstring_str(line), "HTTP/1.", 7) != 0
	|| (status = atoi(vstring_str(line) + 9)) == 0) {
	vstring_sprintf(why, "no HTTP reply from %s", host);
	goto done;
    }
    if (status != 200) {
	vstring_sprintf(why, "HTTP status %d from %s", status, host);
	goto done;
    }
    for (;;) {
	char   *cp;

	if (vstream_get_line(stream, line, 4000) != VSTREAM_LINE) {
	    vstring_sprintf(why, "truncated HTTP reply from %s", host);
	    goto done;
	}
	cp = vstring_str(line);
	cp[strcspn(cp, "\r\n")] = 0;
	if (*cp == 0)
	    break;
	if (strncasecmp(cp, "Content-Length:", 15) == 0)
	    content_length = atol(cp + 15);
	else if (strncasecmp(cp, "Content-Type:", 13) == 0) {
	    cp += 13;
	    cp += strspn(cp, " \t");
	    ok_type = (strncasecmp(cp, "text/plain", 10) == 0
		       && (cp[10] == 0 || cp[10] == ';' || cp[10] == ' '));
	}
    }
    if (!ok_type) {
	vstring_sprintf(why, "policy from %s is not text/plain", host);
	goto done;
    }
    if (content_length > (long) max_size) {
	vstring_sprintf(why, "policy from %s is larger than %zu bytes", host, max_size);
	goto done;
    }
    while ((content_length < 0 || (long) vstring_len(body) < content_length)
	   && (ch = vstream_getc(stream)) != VSTREAM_EOF) {
	if (vstring_len(body) >= max_size) {
	    vstring_sprintf(why, "policy from %s is larger than %zu bytes", host, max_size);
	    goto done;
	}
	vstring_addch(body, ch);
    }
    if (vstream_ftimeout(stream)) {
	vstring_sprintf(why, "timeout reading the policy from %s", host);
	goto done;
    }
    ret = 0;
done:
    if (stream) {
	tls_io_detach(stream);
	(void) vstream_close(stream);
    }
    if (fd >= 0)
	close(fd);
    if (ssl)
	SSL_free(ssl);
    if (ctx)
	SSL_CTX_free(ctx);
    ERR_clear_error();
    vstring_free(line);
    return (ret);
}
