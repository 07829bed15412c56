/*
 * NAME
 *	pass_fd - hand an open descriptor to another process
 * SYNOPSIS
 *	#include "util/pass_fd.h"
 *
 *	int pass_fd_send(int sock, int fd);
 *	int pass_fd_recv(int sock, int timeout_ms);
 * DESCRIPTION
 *	The descriptor passing of master.cf "pass" services: a process
 *	connected to a UNIX stream socket sends one open descriptor (a
 *	client connection it accepted) to the process at the other end,
 *	which then owns a copy of it (SCM_RIGHTS ancillary data, with one
 *	data byte so that the message is never empty).
 *
 *	pass_fd_send() sends fd over sock; the caller still owns its copy
 *	and closes it when it is done. pass_fd_recv() waits up to
 *	timeout_ms (-1: no limit) for one descriptor on sock and returns
 *	it, close-on-exec.
 * DIAGNOSTICS
 *	Both return -1 with errno on failure (ETIMEDOUT when nothing came
 *	in time, EPROTO when the peer sent data without a descriptor).
 *	Extra descriptors sent with the message are closed.
 */
#ifndef PASS_FD_H
#define PASS_FD_H

extern int pass_fd_send(int, int);
extern int pass_fd_recv(int, int);

#endif
