/*
 * NAME
 *	mail_trigger - wake a service
 * SYNOPSIS
 *	int mail_trigger(const char *class, const char *service,
 *			 const char *buf, size_t len);
 * DESCRIPTION
 *	Connects to the UNIX socket class/service under the queue directory
 *	(the caller's cwd: "public/qmgr", "private/flush"), writes buf and
 *	closes, with a short timeout (trigger_timeout). Returns 0, or -1
 *	with errno when the service is not there (callers log a warning and
 *	go on: the periodic scan picks the work up later).
 */
#ifndef MAIL_TRIGGER_H
#define MAIL_TRIGGER_H
#include <stddef.h>

extern int mail_trigger(const char *, const char *, const char *, size_t);

#endif
