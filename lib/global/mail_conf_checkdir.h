/*
 * NAME
 *	mail_conf_checkdir - which configuration folder a command may read
 * SYNOPSIS
 *	#include "global/mail_conf_checkdir.h"
 *
 *	void mail_conf_read_checked(const char *cmdline_dir, int status);
 *	void mail_conf_checkdir(const char *dir, int status);
 * DESCRIPTION
 *	A set-group-id command (postdrop, postqueue) runs with rights its
 *	user does not have; a configuration it reads from a folder the
 *	user chose could point it at other sockets and other access
 *	lists (authorized_flush_users, authorized_mailq_users,
 *	authorized_submit_users). As in Postfix, such a folder must be
 *	named by the default configuration.
 *
 *	mail_conf_read_checked() reads main.cf the way mail_conf_read()
 *	does, after checking where it comes from: a folder given on the
 *	command line (-c, sendmail -C) by a user other than root, or a
 *	$MAIL_CONFIG given to a set-user-id or set-group-id process that
 *	is not root, must pass mail_conf_checkdir(). A folder chosen by
 *	root, or a $MAIL_CONFIG of an ordinary process (which has no
 *	rights to lose), is read without the check.
 *
 *	mail_conf_checkdir() accepts the default configuration folder
 *	(config_directory as built) and the folders listed in the
 *	default main.cf's alternate_config_directories or
 *	multi_instance_directories (as written there, not expanded).
 *	status is the exit status of a refusal.
 * DIAGNOSTICS
 *	A refusal is Postfix's: "error: unauthorized configuration
 *	directory name: DIR", then "fatal: specify
 *	"alternate_config_directories = DIR" or
 *	"multi_instance_directories = DIR" in DEFAULT/main.cf". An
 *	unreadable default main.cf is fatal too ("open file PATH: why").
 * SEE ALSO
 *	mail_conf(3), postconf(5) alternate_config_directories
 */
#ifndef MAIL_CONF_CHECKDIR_H
#define MAIL_CONF_CHECKDIR_H

extern void mail_conf_read_checked(const char *, int);
extern void mail_conf_checkdir(const char *, int);

#endif
