/*
 * NAME
 *	mail_trigger - wake a service
 * SYNOPSIS
 *	int mail_trigger(const char *class, const char *service,
 *			 const char *buf, size_t len);
 *
 *	int mail_trigger_kept(const char *class, const char *service,
 *			 const char *buf, size_t len);
 * DESCRIPTION
 *	Connects to the UNIX socket class/service under the queue directory
 *	(the caller's cwd: "public/qmgr", "private/flush"), writes buf and
 *	closes, with a short timeout (trigger_timeout). Returns 0, or -1
 *	with errno when the service is not there (callers log a warning and
 *	go on: the periodic scan picks the work up later).
 *
 *	mail_trigger_kept() does the same over a connection that it keeps
 *	for the next call (one per process): one send(2) instead of a
 *	socket, a connection and a close, for a process that wakes the
 *	same service again and again (smtpd wakes qmgr after each
 *	message). The trigger server reads a kept connection whenever
 *	something arrives (mail_server.h). When the service has not read
 *	earlier requests yet (the socket is full), the call returns 0
 *	without writing: those requests wake it, later than this call
 *	(use it only for requests that such a wake-up serves, as "scan
 *	incoming/"). A connection that the service closed (it restarted)
 *	is replaced once.
 */
#ifndef MAIL_TRIGGER_H
#define MAIL_TRIGGER_H
#include <stddef.h>

extern int mail_trigger(const char *, const char *, const char *, size_t);
extern int mail_trigger_kept(const char *, const char *, const char *, size_t);

#endif
