/*
 * NAME
 *	master_listen - inet and UNIX listening sockets for master
 * SYNOPSIS
 *	#include "master.h"
 *
 *	int master_listen_inet(const char *service, MASTER_LISTENER **list,
 *			       int *count, VSTRING *why);
 *	int master_listen_unix(const char *path, uid_t uid, gid_t gid,
 *			       VSTRING *why);
 * DESCRIPTION
 *	master_listen_inet() binds the first column of an inet service:
 *	"port", "host:port" or "[addr]:port" (port may be a service name
 *	such as "smtp"). A bare port binds the addresses of
 *	inet_interfaces: "all" (one dual-stack socket when IPv6 is
 *	there), "loopback-only" (127.0.0.1 and ::1), or a list of
 *	addresses and host names; inet_protocols (all, ipv4, ipv6)
 *	filters them. One socket per address; every child of the service
 *	gets all of them (mail_server.h).
 *
 *	master_listen_unix() creates a stream socket at path (relative
 *	to queue_directory), mode 0666 (the folder controls access),
 *	owned by uid:gid.
 *
 *	All descriptors are close-on-exec and non-blocking.
 * DIAGNOSTICS
 *	-1 with why set ("bind 127.0.0.1 port 25: Address already in use").
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "master.h"

/*
 * A crowd larger than the backlog has its SYNs dropped, and a client that
 * connects then waits a second or more for the SYN to be sent again; a
 * long queue costs little, as smtpd evicts idle clients when clients
 * wait (smtpd_overload_idle_time).
 */
#define INET_BACKLOG	1024
#define UNIX_BACKLOG	100

void    master_listeners_free(MASTER_LISTENER *list, int count)
{
    for (int i = 0; i < count; i++)
	myfree(list[i].addr);
    myfree(list);
}

static void add_listener(MASTER_LISTENER **list, int *count, int fd, const char *addr)
{
    *list = myrealloc(*list, (*count + 1) * sizeof(**list));
    (*list)[*count].fd = fd;
    (*list)[*count].addr = mystrdup(addr);
    (*count)++;
}

/* bind_one - one listening socket for one address */
static int bind_one(struct sockaddr *sa, socklen_t len, int dual_stack, VSTRING *why,
		            const char *addr_text, const char *port_text)
{
    int     fd;
    int     on = 1;
    int     off = 0;

    if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
	vstring_sprintf(why, "socket %s: %s", addr_text, strerror(errno));
	return (-1);
    }
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (sa->sa_family == AF_INET6)
	(void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &off : &on, sizeof(on));
    if (bind(fd, sa, len) < 0 || listen(fd, INET_BACKLOG) < 0) {
	vstring_sprintf(why, "bind %s port %s: %s", addr_text, port_text, strerror(errno));
	close(fd);
	return (-1);
    }
    return (fd);
}

static int family_enabled(int family)
{
    const char *protocols = mail_conf_str(VAR_INET_PROTOCOLS);
    int     v4 = 0, v6 = 0;
    ARGV   *list = argv_split(protocols, LIST_DELIMS);

    for (size_t i = 0; i < list->argc; i++) {
	if (strcasecmp(list->argv[i], "all") == 0)
	    v4 = v6 = 1;
	else if (strcasecmp(list->argv[i], "ipv4") == 0)
	    v4 = 1;
	else if (strcasecmp(list->argv[i], "ipv6") == 0)
	    v6 = 1;
    }
    argv_free(list);
    if (!v4 && !v6)
	v4 = v6 = 1;
    return (family == AF_INET ? v4 : v6);
}

/* listen_host - every address of one host name or literal */
static int listen_host(const char *host, const char *port, MASTER_LISTENER **list,
		               int *count, VSTRING *why, int optional)
{
    struct addrinfo hints, *res, *ai;
    char    text[INET6_ADDRSTRLEN];
    int     err;
    int     found = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
	vstring_sprintf(why, "%s:%s: %s", host, port, gai_strerror(err));
	return (-1);
    }
    for (ai = res; ai; ai = ai->ai_next) {
	int     fd;

	if (!family_enabled(ai->ai_family))
	    continue;
	if (ai->ai_family == AF_INET)
	    inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, text, sizeof(text));
	else if (ai->ai_family == AF_INET6)
	    inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr, text, sizeof(text));
	else
	    continue;
	if ((fd = bind_one(ai->ai_addr, ai->ai_addrlen, 0, why, text, port)) < 0) {
	    if (optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
		continue;
	    freeaddrinfo(res);
	    return (-1);
	}
	add_listener(list, count, fd, text);
	found++;
    }
    freeaddrinfo(res);
    if (found == 0 && !optional) {
	vstring_sprintf(why, "%s:%s: no usable address (inet_protocols = %s)",
			host, port, mail_conf_str(VAR_INET_PROTOCOLS));
	return (-1);
    }
    return (0);
}

/* listen_wildcard - inet_interfaces = all */
static int listen_wildcard(const char *port, MASTER_LISTENER **list, int *count, VSTRING *why)
{
    struct addrinfo hints, *res;
    int     v4 = family_enabled(AF_INET);
    int     v6 = family_enabled(AF_INET6);
    int     fd = -1;
    int     err;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (v6) {
	hints.ai_family = AF_INET6;
	if ((err = getaddrinfo(0, port, &hints, &res)) != 0) {
	    vstring_sprintf(why, "port %s: %s", port, gai_strerror(err));
	    return (-1);
	}
	fd = bind_one(res->ai_addr, res->ai_addrlen, v4, why, "::", port);
	freeaddrinfo(res);
	if (fd >= 0) {
	    add_listener(list, count, fd, "*");
	    return (0);
	}
	if (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL)
	    return (-1);
    }
    if (v4) {
	hints.ai_family = AF_INET;
	if ((err = getaddrinfo(0, port, &hints, &res)) != 0) {
	    vstring_sprintf(why, "port %s: %s", port, gai_strerror(err));
	    return (-1);
	}
	fd = bind_one(res->ai_addr, res->ai_addrlen, 0, why, "0.0.0.0", port);
	freeaddrinfo(res);
	if (fd >= 0) {
	    add_listener(list, count, fd, "*");
	    return (0);
	}
    }
    return (-1);
}

int     master_listen_inet(const char *service, MASTER_LISTENER **list, int *count,
			           VSTRING *why)
{
    char   *copy = mystrdup(service);
    char   *host = 0;
    char   *port;
    int     ret = 0;

    *list = 0;
    *count = 0;
    if (copy[0] == '[') {
	char   *end = strchr(copy, ']');

	if (end == 0 || end[1] != ':' || end[2] == 0) {
	    vstring_sprintf(why, "bad inet service address: %s", service);
	    myfree(copy);
	    return (-1);
	}
	*end = 0;
	host = copy + 1;
	port = end + 2;
    } else if ((port = strrchr(copy, ':')) != 0) {
	*port++ = 0;
	host = copy;
	if (*port == 0 || *host == 0) {
	    vstring_sprintf(why, "bad inet service address: %s", service);
	    myfree(copy);
	    return (-1);
	}
    } else {
	port = copy;
    }
    if (host && strcmp(host, "*") != 0) {
	ret = listen_host(host, port, list, count, why, 0);
    } else {
	const char *ifaces = mail_conf_str(VAR_INET_INTERFACES);
	ARGV   *names = argv_split(ifaces, LIST_DELIMS);

	if (names->argc == 0 || strcasecmp(names->argv[0], "all") == 0 || host) {
	    ret = listen_wildcard(port, list, count, why);
	} else if (strcasecmp(names->argv[0], "loopback-only") == 0) {
	    if (family_enabled(AF_INET))
		ret = listen_host("127.0.0.1", port, list, count, why, 0);
	    if (ret == 0 && family_enabled(AF_INET6))
		ret = listen_host("::1", port, list, count, why, 1);
	} else {
	    for (size_t i = 0; ret == 0 && i < names->argc; i++) {
		char   *name = names->argv[i];
		size_t  len = strlen(name);

		if (name[0] == '[' && len > 2 && name[len - 1] == ']') {
		    name[len - 1] = 0;
		    name++;
		}
		ret = listen_host(name, port, list, count, why, 0);
	    }
	}
	argv_free(names);
    }
    myfree(copy);
    if (ret < 0) {
	for (int i = 0; i < *count; i++)
	    close((*list)[i].fd);
	master_listeners_free(*list, *count);
	*list = 0;
	*count = 0;
    }
    return (ret);
}

int     master_listen_unix(const char *path, uid_t uid, gid_t gid, VSTRING *why)
{
    struct sockaddr_un sun;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	vstring_sprintf(why, "socket path too long: %s", path);
	return (-1);
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
	vstring_sprintf(why, "socket: %s", strerror(errno));
	return (-1);
    }
    (void) unlink(path);
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| listen(fd, UNIX_BACKLOG) < 0) {
	vstring_sprintf(why, "bind %s: %s", path, strerror(errno));
	close(fd);
	return (-1);
    }
    if (chmod(path, 0666) < 0)
	msg_warn("chmod %s: %s", path, strerror(errno));
    if (geteuid() == 0 && chown(path, uid, gid) < 0)
	msg_warn("chown %s: %s", path, strerror(errno));
    return (fd);
}
