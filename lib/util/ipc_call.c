/*
 * NAME
 *	ipc_call - one request and its reply over a local service socket
 * DESCRIPTION
 *	See ipc_call.h. The connect itself is a local operation that
 *	either succeeds at once or fails (no listener, no such socket);
 *	only the exchange afterwards needs the timeout.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vstream.h"
#include "util/attr.h"
#include "util/ipc_call.h"

VSTREAM *ipc_connect(const char *class, const char *service, int timeout)
{
    struct sockaddr_un sun;
    VSTREAM *stream;
    int     fd;
    int     saved;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", class, service)
	>= sizeof(sun.sun_path)) {
	errno = ENAMETOOLONG;
	return (0);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (0);
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	saved = errno;
	close(fd);
	errno = saved;
	return (0);
    }
    stream = vstream_fdopen(fd);
    vstream_set_timeout(stream, timeout);
    return (stream);
}

int     ipc_call(const char *class, const char *service, int timeout,
		         ATTR *request, ATTR *reply)
{
    VSTREAM *stream;
    int     ret = -1;
    int     saved;

    if ((stream = ipc_connect(class, service, timeout)) == 0)
	return (-1);
    attr_reset(reply);
    if (attr_send(stream, request) == 0
	&& attr_recv(stream, reply, ATTR_MAX_LEN, ATTR_MAX_COUNT) == 1)
	ret = 0;
    else if (errno == 0 || errno == EAGAIN)
	errno = vstream_ftimeout(stream) ? ETIMEDOUT : EPROTO;
    saved = errno;
    vstream_close(stream);
    errno = saved;
    return (ret);
}
