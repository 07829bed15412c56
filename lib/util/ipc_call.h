/*
 * NAME
 *	ipc_call - one request and its reply over a local service socket
 * SYNOPSIS
 *	VSTREAM *ipc_connect(const char *class, const char *service,
 *			     int timeout);
 *	int ipc_call(const char *class, const char *service, int timeout,
 *		     ATTR *request, const ATTR_SCAN *reply_table,
 *		     void *reply, VSTRING *why);
 *	int ipc_call_status(const char *class, const char *service,
 *			    int timeout, ATTR *request, int *status,
 *			    VSTRING *why);
 * DESCRIPTION
 *	ipc_connect() connects to the UNIX stream socket class/service
 *	("public/flush", "private/bounce") relative to the current
 *	directory, which is the queue directory for every daemon and for
 *	the commands that talk to daemons. The stream gets timeout
 *	seconds per wait. It returns NULL with errno when nobody listens.
 *
 *	ipc_call() connects, sends request (attr.h), reads one reply with
 *	reply_table into reply (attr_scan) and closes. It returns 0 when a
 *	reply arrived and was good, -1 when the service could not be
 *	reached, did not answer in time, or its reply was refused by the
 *	table; why then says "class/service: " and what went wrong. The
 *	caller releases reply with attr_scan_free() either way.
 *
 *	ipc_call_status() is ipc_call() for the services whose reply is
 *	one ATTR_NAME_STATUS number, stored in status.
 * DIAGNOSTICS
 *	None: callers decide what a failure means (a warning and a retry
 *	later, a reply code, or an exit status).
 * SEE ALSO
 *	attr(3), mail_trigger(3)
 */
#ifndef IPC_CALL_H
#define IPC_CALL_H
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/attr.h"

extern VSTREAM *ipc_connect(const char *, const char *, int);
extern int ipc_call(const char *, const char *, int, ATTR *, const ATTR_SCAN *,
		            void *, VSTRING *);
extern int ipc_call_status(const char *, const char *, int, ATTR *, int *, VSTRING *);

#endif
