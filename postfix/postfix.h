/*
 * NAME
 *	postfix.h - what the postfix command's files share
 * SYNOPSIS
 *	#include "postfix.h"
 *
 *	void postfix_say(int level, const char *fmt, ...);
 *	void postfix_fatal(const char *fmt, ...);
 *	int postfix_check_fatal(void);
 *	void postfix_check_warn(void);
 *	void postfix_set_permissions(void);
 * DESCRIPTION
 *	postfix.c: options and commands (start, stop, ...).
 *	postfix_check.c: what "postfix check" looks at, and
 *	"postfix set-permissions".
 *
 *	postfix_say() logs one line as Postfix's postfix-script does
 *	(tag syslog_name/postfix-script; MSG_INFO, MSG_WARN ...) and
 *	shows it on standard error when that is a terminal, as
 *	"postfix/postfix-script: text". postfix_fatal() does that at the
 *	fatal level and exits 1.
 *
 *	postfix_check_fatal() creates missing queue folders, wants
 *	master.cf, and runs "postsuper" to put misplaced queue files
 *	right; it returns -1 when postfix must not start.
 *	postfix_check_warn() warns about owners and modes that are not
 *	those of a sound installation. postfix_set_permissions() sets
 *	them.
 */
#ifndef POSTFIX_H
#define POSTFIX_H

extern void postfix_say(int, const char *,...) __attribute__((format(printf, 2, 3)));
extern void postfix_fatal(const char *,...) __attribute__((format(printf, 1, 2), noreturn));
extern int postfix_check_fatal(void);
extern void postfix_check_warn(void);
extern void postfix_set_permissions(void);

#endif
