/*
 * NAME
 *	postconf_edit - change main.cf in place (postconf -e, -X, -#)
 * SYNOPSIS
 *	void postconf_edit(const char *path, int how, char **args, int count);
 *	void postconf_write_file(const char *path, VSTRING *text, int mode);
 * DESCRIPTION
 *	See postconf_edit.c.
 */
#ifndef POSTCONF_EDIT_H
#define POSTCONF_EDIT_H
#include "util/vstring.h"

#define POSTCONF_EDIT_SET	1	/* -e name=value */
#define POSTCONF_EDIT_REMOVE	2	/* -X name */
#define POSTCONF_EDIT_COMMENT	3	/* -# name */

extern void postconf_edit(const char *, int, char **, int);
extern void postconf_write_file(const char *, VSTRING *, int);

#endif
