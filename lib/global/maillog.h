/*
 * NAME
 *	maillog - the maillog_file parameter, checked
 * SYNOPSIS
 *	#include "global/maillog.h"
 *
 *	const char *maillog_file(void);
 * DESCRIPTION
 *	maillog_file() is the value of maillog_file ("" means syslog),
 *	after checking, as Postfix does, that it starts with one of the
 *	maillog_file_prefixes (default "/var, /dev/stdout"), so that a
 *	process that opens the file as root cannot be pointed at an
 *	arbitrary file by a mistaken or hostile main.cf line.
 * DIAGNOSTICS
 *	fatal: maillog_file value 'X' does not match any prefix in
 *	maillog_file_prefixes (Postfix's words).
 */
#ifndef MAILLOG_H
#define MAILLOG_H

extern const char *maillog_file(void);

#endif
