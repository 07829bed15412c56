/*
 * NAME
 *	mail_trigger - wake a service
 * DESCRIPTION
 *	See mail_trigger.h.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/vstream.h"
#include "global/mail_trigger.h"

int     mail_trigger(const char *class, const char *service, const char *buf, size_t len)
{
    struct sockaddr_un sun;
    int     fd;
    int     ret = -1;
    int     timeout_ms = (int) mail_conf_time(VAR_TRIGGER_TIMEOUT) * 1000;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", class, service)
	>= sizeof(sun.sun_path)) {
	errno = ENAMETOOLONG;
	return (-1);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0
	&& vstream_wait_fd(fd, 1, timeout_ms) > 0
	&& write(fd, buf, len) == (ssize_t) len)
	ret = 0;
    close(fd);
    return (ret);
}
