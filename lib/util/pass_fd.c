/*
 * NAME
 *	pass_fd - hand an open descriptor to another process
 * SYNOPSIS
 *	#include "util/pass_fd.h"
 * DESCRIPTION
 *	See pass_fd.h. One sendmsg() with one data byte and one
 *	SCM_RIGHTS control message; the receiver asks for
 *	MSG_CMSG_CLOEXEC so that the descriptor never leaks into a
 *	program it runs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/vstream.h"
#include "util/pass_fd.h"

int     pass_fd_send(int sock, int fd)
{
    struct msghdr msg;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(sizeof(int))];
    }       control;
    struct cmsghdr *cmsg;
    char    byte = 0;
    ssize_t n;

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
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    do {
	n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return (n == 1 ? 0 : -1);
}

int     pass_fd_recv(int sock, int timeout_ms)
{
    struct msghdr msg;
    struct iovec iov;
    union {
	struct cmsghdr align;
	char    buf[CMSG_SPACE(4 * sizeof(int))];
    }       control;
    struct cmsghdr *cmsg;
    char    byte;
    ssize_t n;
    int     got = -1;

    if (timeout_ms >= 0 && vstream_wait_fd(sock, 0, timeout_ms) <= 0) {
	errno = ETIMEDOUT;
	return (-1);
    }
    memset(&msg, 0, sizeof(msg));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    do {
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
	return (-1);
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
	if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
	    continue;
	for (size_t i = 0; (i + 1) * sizeof(int) + CMSG_LEN(0) <= cmsg->cmsg_len; i++) {
	    int     fd;

	    memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
	    if (got < 0)
		got = fd;
	    else
		close(fd);
	}
    }
    if (got < 0)
	errno = n == 0 ? ECONNRESET : EPROTO;
    return (got);
}
