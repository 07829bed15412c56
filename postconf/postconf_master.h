/*
 * NAME
 *	postconf_master - postconf -M, -F and -P: show and edit master.cf
 * SYNOPSIS
 *	void postconf_master(const char *path, int what, int edit, int flags,
 *			     char **args, int count);
 * DESCRIPTION
 *	See postconf_master.c. what is 'M', 'F' or 'P'; edit is 0 (show)
 *	or one of postconf_edit.h's POSTCONF_EDIT_*.
 */
#ifndef POSTCONF_MASTER_H
#define POSTCONF_MASTER_H

#define POSTCONF_MASTER_FOLD		(1<<0)	/* -f */
#define POSTCONF_MASTER_HIDE_NAME	(1<<1)	/* -h */
#define POSTCONF_MASTER_HIDE_VALUE	(1<<2)	/* -H */

extern void postconf_master(const char *, int, int, int, char **, int);

#endif
