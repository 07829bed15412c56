/*
 * NAME
 *	odmr_site - where the session that pulls a domain is, and how
 *	qmgr's deliveries get to it
 * SYNOPSIS
 *	#include "odmr.h"
 *
 *	int odmr_site_listen(const char *domain);
 *	int odmr_site_accept(int listen_fd, VSTREAM **qmgr,
 *			     DELIVER_REQUEST **req);
 *	int odmr_site_hand_over(const char *domain, VSTREAM *qmgr,
 *				DELIVER_REQUEST *req);
 * DESCRIPTION
 *	A session that accepted "ATRN domain" listens, for each domain,
 *	on a UNIX socket in the abstract namespace (Linux: no file, gone
 *	when its process is, reachable inside a chroot) whose name is
 *	"odmr/" and a SHA-256 digest of queue_directory and the
 *	lower-cased domain, so that two mail systems on one host never
 *	meet. Only one session can listen for a domain at a time:
 *	odmr_site_listen() returns -1 with errno EADDRINUSE when another
 *	one does.
 *
 *	qmgr connects to the odmr transport with a delivery request whose
 *	nexthop is the domain. That process (odmr_transport.c) calls
 *	odmr_site_hand_over(): it connects to the domain's socket, passes
 *	qmgr's connection (SCM_RIGHTS) and sends the request it read
 *	(deliver_request_send()); the session takes both with
 *	odmr_site_accept(), says so with one byte, and answers qmgr
 *	itself. -1 from odmr_site_hand_over() means that no session took
 *	the request (none pulls the domain now, or it ended before it
 *	accepted the connection): the caller answers qmgr.
 *
 *	A session serves one request at a time; the others wait, each in
 *	its odmr transport process, up to ipc_timeout (a site's mail is
 *	best delivered one message at a time: odmr_destination_concurrency_limit
 *	= 1).
 *
 *	Both sides check who is at the other end (SO_PEERCRED): root or
 *	our own user (mail_owner) only, so that no other local user can
 *	take qmgr's deliveries by listening on the name first, nor give a
 *	session forged requests.
 * DIAGNOSTICS
 *	Warnings for a peer of another user and for broken hand-overs.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "odmr.h"

#define SITE_TIMEOUT	60		/* seconds for one hand-over */

/* site_addr - the abstract socket address of a domain */
static socklen_t site_addr(struct sockaddr_un *sun, const char *domain)
{
    char   *key = lowercase(mystrdup(domain));
    VSTRING *text = vstring_alloc(100);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char    name[64];
    size_t  len;

    /* A trailing dot does not make another domain. */
    len = strlen(key);
    if (len > 1 && key[len - 1] == '.')
	key[len - 1] = 0;
    vstring_sprintf(text, "%s\n%s", mail_conf_str(VAR_QUEUE_DIRECTORY), key);
    EVP_Digest(vstring_str(text), vstring_len(text), md, &mdlen, EVP_sha256(), 0);
    strcpy(name, "odmr/");
    for (unsigned i = 0; i < 16 && i < mdlen; i++)
	snprintf(name + 5 + 2 * i, 3, "%02x", md[i]);
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path + 1, name, strlen(name));
    myfree(key);
    vstring_free(text);
    return ((socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name)));
}

/* peer_ok - is the other end root or our own user */
static int peer_ok(int fd, const char *what)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
	msg_warn("%s: SO_PEERCRED: %m", what);
	return (0);
    }
    if (cred.uid != 0 && cred.uid != geteuid()) {
	msg_warn("%s: refused: peer process %ld runs as uid %ld",
		 what, (long) cred.pid, (long) cred.uid);
	return (0);
    }
    return (1);
}

int     odmr_site_listen(const char *domain)
{
    struct sockaddr_un sun;
    socklen_t len = site_addr(&sun, domain);
    int     fd;
    int     err;

    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (bind(fd, (struct sockaddr *) &sun, len) < 0 || listen(fd, 64) < 0) {
	err = errno;
	close(fd);
	errno = err;
	return (-1);
    }
    return (fd);
}

int     odmr_site_accept(int listen_fd, VSTREAM **qmgr, DELIVER_REQUEST **req)
{
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    char    byte;
    int     fd, passed = -1;
    struct pollfd pfd;
    VSTREAM *stream;

    *qmgr = 0;
    *req = 0;
    if ((fd = accept4(listen_fd, 0, 0, SOCK_CLOEXEC)) < 0)
	return (-1);
    if (!peer_ok(fd, "odmr transport hand-over")) {
	close(fd);
	return (-1);
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, SITE_TIMEOUT * 1000) != 1) {
	msg_warn("odmr transport hand-over: timeout");
	close(fd);
	return (-1);
    }
    memset(&msg, 0, sizeof(msg));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    if (recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) != 1) {
	msg_warn("odmr transport hand-over: no descriptor");
	close(fd);
	return (-1);
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
	if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
	    && cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
	    memcpy(&passed, CMSG_DATA(cmsg), sizeof(int));
    if (passed < 0 || (msg.msg_flags & MSG_CTRUNC)) {
	msg_warn("odmr transport hand-over: no descriptor");
	if (passed >= 0)
	    close(passed);
	close(fd);
	return (-1);
    }
    stream = vstream_fdopen(fd);
    vstream_set_timeout(stream, SITE_TIMEOUT);
    *req = deliver_request_read(stream);
    /* Taken: from now on qmgr gets its answer from us. */
    if (*req != 0 && (vstream_fputs(stream, "A") < 0 || vstream_fflush(stream) != 0)) {
	deliver_request_free(*req);
	*req = 0;
    }
    (void) vstream_close(stream);
    if (*req == 0) {
	close(passed);
	return (-1);
    }
    *qmgr = vstream_fdopen(passed);
    vstream_set_timeout(*qmgr, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    return (0);
}

int     odmr_site_hand_over(const char *domain, VSTREAM *qmgr, DELIVER_REQUEST *req)
{
    struct sockaddr_un sun;
    socklen_t len = site_addr(&sun, domain);
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    char    byte = 'R';
    int     fd, qfd = vstream_fileno(qmgr);
    VSTREAM *stream;
    int     ret;

    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return (-1);
    if (connect(fd, (struct sockaddr *) &sun, len) < 0) {
	close(fd);
	return (-1);
    }
    if (!peer_ok(fd, "odmr site session")) {
	close(fd);
	return (-1);
    }
    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &qfd, sizeof(int));
    if (sendmsg(fd, &msg, MSG_NOSIGNAL) != 1) {
	close(fd);
	return (-1);
    }
    stream = vstream_fdopen(fd);
    /* The session may be busy with an earlier request: wait long. */
    vstream_set_timeout(stream, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    /* The session says it took the request; else the caller answers. */
    ret = (deliver_request_send(stream, req) == 0 && vstream_fflush(stream) == 0
	   && vstream_getc(stream) == 'A') ? 0 : -1;
    (void) vstream_close(stream);
    if (ret < 0)
	msg_warn("%s: odmr transport hand-over to the session of %s failed",
		 req->queue_id, domain);
    return (ret);
}
