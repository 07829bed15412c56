/*
 * NAME
 *	master_conf - read master.cf
 * SYNOPSIS
 *	MASTER_CONF *master_conf_read(const char *path, VSTRING *why);
 *	MASTER_CONF *master_conf_parse(const char *label, const char *text,
 *				       size_t len, VSTRING *why);
 *	void master_conf_free(MASTER_CONF *conf);
 * DESCRIPTION
 *	master.cf has one service per logical line: service, type,
 *	private, unpriv, chroot, wakeup, maxproc, command, then the
 *	command's arguments. Lines that start with white space continue
 *	the previous line; lines whose first non-blank character is "#"
 *	and blank lines are ignored (also between continuation lines).
 *	Fields are separated by white space; a field that starts with
 *	"{" runs to the matching "}" and may hold white space (the
 *	braces and the blanks just inside them are removed).
 *
 *	"-" means the built-in default: private y (n for inet), unpriv
 *	y, chroot n, wakeup 0, maxproc MASTER_MAXPROC_DEFAULT (the caller
 *	uses default_process_limit). Booleans are y or n. wakeup is a
 *	number of seconds with an optional "?" (not before the first
 *	use). maxproc 0 means no limit. The value after "-o" is
 *	normalized to "name=value" (blanks around "=" removed), so
 *	"-o { name = value with spaces }" arrives as "name=value with
 *	spaces".
 *
 *	The same service name and type twice: the last line wins (it
 *	takes the place of the earlier one). Entries keep file order.
 *
 *	master_conf_parse() reads text in memory (tests, fuzzing);
 *	label is the name used in error messages.
 * DIAGNOSTICS
 *	Both return NULL with why set to "path, line N: what is wrong"
 *	for the first bad line (bad field count, bad type, bad boolean,
 *	bad wakeup or maxproc, unbalanced braces, -o without name=value,
 *	an inet service marked private), or "open path: error".
 */
#ifndef MASTER_CONF_H
#define MASTER_CONF_H
#include <stddef.h>
#include "util/vstring.h"
#include "util/argv.h"

#define MASTER_MAXPROC_DEFAULT	(-1)

typedef struct MASTER_ENT {
    char   *service;			/* column 1 as written */
    char   *type;			/* inet unix unix-dgram fifo pass */
    int     private_;			/* y/n, defaults resolved */
    int     unpriv;
    int     chroot;
    int     wakeup;			/* seconds, 0 = none */
    int     wakeup_on_use;		/* "?": not before first use */
    int     maxproc;			/* 0 = no limit, -1 = default */
    char   *command;			/* program in daemon_directory */
    ARGV   *args;			/* command arguments, braces removed */
    int     line;			/* where the entry starts */
} MASTER_ENT;

typedef struct MASTER_CONF {
    MASTER_ENT **ents;
    size_t  count;
} MASTER_CONF;

extern MASTER_CONF *master_conf_read(const char *, VSTRING *);
extern MASTER_CONF *master_conf_parse(const char *, const char *, size_t, VSTRING *);
extern void master_conf_free(MASTER_CONF *);

#endif
