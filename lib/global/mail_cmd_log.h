/*
 * NAME
 *	mail_cmd_log - where a command's log lines go
 * SYNOPSIS
 *	#include "global/mail_cmd_log.h"
 *
 *	void mail_cmd_log_init(const char *prog);
 * DESCRIPTION
 *	Commands (sendmail, postdrop, postfix, postlog, postsuper ...) log
 *	what they do where the daemons do: after main.cf was read, the
 *	lines go to maillog_file when it is set (and matches
 *	maillog_file_prefixes, maillog(3)) and this user may append to it,
 *	else to syslog (syslog_facility), tagged
 *	syslog_name/prog. Lines keep going to stderr when the caller
 *	asked for it (msg_to_stderr).
 *
 *	A user who may not write maillog_file (postdrop run by an
 *	ordinary user) logs to syslog instead, without a warning: the
 *	command still works.
 * SEE ALSO
 *	msg(3), postconf(5) maillog_file, syslog_name
 */
#ifndef MAIL_CMD_LOG_H
#define MAIL_CMD_LOG_H

extern void mail_cmd_log_init(const char *);

#endif
