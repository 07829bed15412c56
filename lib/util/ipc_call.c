/*
 * NAME
 *	ipc_call - one request and its reply over a local service socket
 * DESCRIPTION
 *	See ipc_call.h. The connect itself is a local operation that
 *	either succeeds at once or fails (no listener, no such socket);
 *	only the exchange afterwards needs the timeout, which the stream
 *	keeps for every wait.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vstream.h"
#include "util/vstring.h"
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
		         ATTR *request, const ATTR_SCAN *reply_table, void *reply,
		         VSTRING *why)
{
    VSTREAM *stream;
    int     got;

    if ((stream = ipc_connect(class, service, timeout)) == 0) {
	vstring_sprintf(why, "%s/%s: %s", class, service, strerror(errno));
	return (-1);
    }
    if (attr_send(stream, request) != 0) {
	vstring_sprintf(why, "%s/%s: %s", class, service,
			vstream_ftimeout(stream) ? "timeout" : strerror(errno));
	vstream_close(stream);
	return (-1);
    }
    if ((got = attr_scan(stream, reply_table, reply, why)) <= 0) {
	VSTRING *reason = vstring_alloc(100);

	vstring_sprintf(reason, "%s/%s: %s", class, service,
			got == 0 ? "connection closed without a reply" : vstring_str(why));
	vstring_strcpy(why, vstring_str(reason));
	vstring_free(reason);
    }
    vstream_close(stream);
    return (got > 0 ? 0 : -1);
}

typedef struct IPC_STATUS {
    int     status;
} IPC_STATUS;

static const ATTR_SCAN ipc_status_table[] = {
    ATTR_INT(ATTR_NAME_STATUS, IPC_STATUS, status, ATTR_FLAG_REQUIRED, INT_MIN, INT_MAX),
    ATTR_END,
};

int     ipc_call_status(const char *class, const char *service, int timeout,
			        ATTR *request, int *status, VSTRING *why)
{
    IPC_STATUS reply = {0};

    if (ipc_call(class, service, timeout, request, ipc_status_table, &reply, why) < 0)
	return (-1);
    *status = reply.status;
    return (0);
}
