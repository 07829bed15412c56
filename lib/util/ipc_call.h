/*
 * NAME
 *	ipc_call - one request and its reply over a local service socket
 * SYNOPSIS
 *	VSTREAM *ipc_connect(const char *class, const char *service,
 *			     int timeout);
 *	int ipc_call(const char *class, const char *service, int timeout,
 *		     ATTR *request, ATTR *reply);
 * DESCRIPTION
 *	ipc_connect() connects to the UNIX stream socket class/service
 *	("public/flush", "private/bounce") relative to the current
 *	directory, which is the queue directory for every daemon and for
 *	the commands that talk to daemons. The stream gets timeout
 *	seconds per wait. It returns NULL with errno when nobody listens.
 *
 *	ipc_call() connects, sends request (attr.h), reads one reply into
 *	reply and closes. It returns 0 when a reply arrived, -1 with errno
 *	when the service could not be reached, or the reply did not come
 *	in time or was malformed. The caller interprets status=.
 * DIAGNOSTICS
 *	None: callers decide what a failure means (a warning and a retry
 *	later, a reply code, or an exit status).
 * SEE ALSO
 *	attr(3), mail_trigger(3)
 */
#ifndef IPC_CALL_H
#define IPC_CALL_H
#include "util/vstream.h"
#include "util/attr.h"

extern VSTREAM *ipc_connect(const char *, const char *, int);
extern int ipc_call(const char *, const char *, int, ATTR *, ATTR *);

#endif
