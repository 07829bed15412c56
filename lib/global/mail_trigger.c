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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/vstream.h"
#include "global/mail_trigger.h"

/* trigger_connect - a connected socket, or -1 */
static int trigger_connect(const char *class, const char *service)
{
    struct sockaddr_un sun;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", class, service)
	>= sizeof(sun.sun_path)) {
	errno = ENAMETOOLONG;
	return (-1);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	int     saved = errno;

	close(fd);
	errno = saved;
	return (-1);
    }
    return (fd);
}

int     mail_trigger(const char *class, const char *service, const char *buf, size_t len)
{
    int     fd;
    int     ret = -1;
    int     timeout_ms = (int) mail_conf_time(VAR_TRIGGER_TIMEOUT) * 1000;

    if ((fd = trigger_connect(class, service)) < 0)
	return (-1);
    if (vstream_wait_fd(fd, 1, timeout_ms) > 0
	&& write(fd, buf, len) == (ssize_t) len)
	ret = 0;
    close(fd);
    return (ret);
}

int     mail_trigger_kept(const char *class, const char *service, const char *buf, size_t len)
{
    static int fd = -1;
    static char *kept_for;
    char    key[256];
    ssize_t n;

    snprintf(key, sizeof(key), "%s/%s", class, service);
    if (fd >= 0 && strcmp(kept_for, key) != 0) {
	close(fd);
	fd = -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
	if (fd < 0) {
	    if ((fd = trigger_connect(class, service)) < 0)
		return (-1);
	    free(kept_for);
	    kept_for = strdup(key);
	    if (kept_for == 0) {
		close(fd);
		fd = -1;
		return (-1);
	    }
	}
	do {
	    n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	/* Full: requests the service has not read yet will wake it. */
	if (n == (ssize_t) len || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
	    return (0);
	/* The service went away (a restart): once more, on a new connection. */
	close(fd);
	fd = -1;
    }
    return (-1);
}
