/*
 * NAME
 *	endpoint - connect to a filter named as Postfix names one
 * DESCRIPTION
 *	See endpoint.h. The connect is non-blocking and waited for with
 *	poll(2); every address a host name has is tried in turn.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "global/endpoint.h"

/* connect_fd - a non-blocking connect, waited for up to timeout seconds */
static int connect_fd(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    struct pollfd pfd;
    int     err = 0;
    socklen_t elen = sizeof(err);
    int     flags = fcntl(fd, F_GETFL);

    (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (connect(fd, sa, len) < 0) {
	if (errno != EINPROGRESS)
	    return (-1);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout * 1000) <= 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
	    errno = err ? err : EIO;
	    return (-1);
	}
    }
    (void) fcntl(fd, F_SETFL, flags);
    return (0);
}

/* connect_inet - "host:port", host may be [bracketed] or empty */
static int connect_inet(const char *name, int timeout, VSTRING *why)
{
    char   *copy = mystrdup(name);
    char   *host = copy;
    char   *port = strrchr(copy, ':');
    struct addrinfo hints, *res = 0, *ai;
    int     gai;
    int     fd = -1;

    if (port == 0) {
	port = copy;
	host = "";
    } else {
	*port++ = 0;
    }
    if (*host == '[' && strlen(host) >= 2 && host[strlen(host) - 1] == ']') {
	host++;
	host[strlen(host) - 1] = 0;
    }
    if (*port == 0) {
	vstring_strcpy(why, "bad address syntax");
	myfree(copy);
	return (-1);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if ((gai = getaddrinfo(*host ? host : "localhost", port, &hints, &res)) != 0) {
	vstring_strcpy(why, gai_strerror(gai));
	myfree(copy);
	return (-1);
    }
    errno = ECONNREFUSED;
    for (ai = res; ai; ai = ai->ai_next) {
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	    continue;
	if (connect_fd(fd, ai->ai_addr, ai->ai_addrlen, timeout) == 0) {
	    int     on = 1;

	    /* Small request/reply packets: no Nagle delay. */
	    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	    break;
	}
	{
	    int     saved = errno;

	    close(fd);
	    errno = saved;
	}
	fd = -1;
    }
    if (fd < 0)
	vstring_strcpy(why, strerror(errno));
    freeaddrinfo(res);
    myfree(copy);
    return (fd);
}

/* connect_unix - a UNIX-domain stream socket */
static int connect_unix(const char *path, int timeout, VSTRING *why)
{
    struct sockaddr_un sun;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (*path == 0 || strlen(path) >= sizeof(sun.sun_path)) {
	vstring_strcpy(why, *path ? strerror(ENAMETOOLONG) : "bad address syntax");
	return (-1);
    }
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	vstring_strcpy(why, strerror(errno));
	return (-1);
    }
    if (connect_fd(fd, (struct sockaddr *) &sun, sizeof(sun), timeout) < 0) {
	vstring_strcpy(why, strerror(errno));
	close(fd);
	return (-1);
    }
    return (fd);
}

VSTREAM *endpoint_connect(const char *spec, int timeout, VSTRING *why)
{
    int     fd;

    if (strncmp(spec, "unix:", 5) == 0)
	fd = connect_unix(spec + 5, timeout, why);
    else if (strncmp(spec, "local:", 6) == 0)
	fd = connect_unix(spec + 6, timeout, why);
    else if (strncmp(spec, "inet:", 5) == 0)
	fd = connect_inet(spec + 5, timeout, why);
    else
	fd = connect_inet(spec, timeout, why);
    return (fd < 0 ? 0 : vstream_fdopen(fd));
}
