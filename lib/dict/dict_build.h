/*
 * NAME
 *	dict_build - make and query tables the way postmap and postalias do
 * SYNOPSIS
 *	#include "dict/dict_build.h"
 *
 *	DICT *dict_build_open(const char *type_name, const struct stat *source,
 *			      int dict_flags, int flags, DICT_BUILD_IDS *ids);
 *	void dict_build_close(DICT *d, DICT_BUILD_IDS *ids);
 *
 *	DICT **dict_query_open(char **maps, int count, int open_flags, int dict_flags);
 *	const char *dict_query_lookup(DICT **dicts, int count, const char *key);
 *	int dict_query_delete(DICT **dicts, int count, const char *key);
 *	void dict_query_close(DICT **dicts, int count);
 * DESCRIPTION
 *	The table side of postmap(1) and postalias(1); each command reads
 *	its own source format and prints its own output.
 *
 *	dict_build_open() opens "type:name" for (re)building from a
 *	source file whose status is source: only hash:, btree: and lmdb:
 *	tables can be built (a "proxy:" prefix is the caller's to remove:
 *	Postfix builds no table through proxymap, and -i updates the inner
 *	table directly). When root builds from a file owned by another user,
 *	the work is done with that user's effective ids (unless
 *	DICT_BUILD_KEEP_ROOT, postmap -o), so the table belongs to the
 *	owner of its source; dict_build_close() closes the table (a new
 *	one is renamed into place only now: readers never see half a
 *	table) and restores the ids. A new table gets the source's group
 *	and other read bits (mode 0600 | (source & 044)), 0644 with
 *	DICT_BUILD_NO_INHERIT (-p); an existing one keeps its mode and
 *	must be writable. With DICT_BUILD_INCR (-i) the table is updated
 *	in place, under a lock, instead of being made anew.
 *
 *	dict_query_open() opens each table for -q, -s (O_RDONLY; with
 *	DICT_FLAG_LOCK, hash:, btree: and lmdb: files get one shared lock
 *	for the whole session) or -d (O_RDWR, those types only; through
 *	proxy: the table itself).
 *	dict_query_lookup() asks the tables in order, once each (no
 *	address or domain iteration), and returns the first answer.
 *	dict_query_delete() removes key from each table and returns 1 when
 *	one had it.
 * DIAGNOSTICS
 *	Fatal, in Postfix's words: a type that cannot be built ("unsupported
 *	dictionary type: TYPE does not support bulk-mode creation."), a
 *	table that cannot be opened or written, a lookup that fails
 *	("table TYPE:NAME: query error: ...").
 */
#ifndef DICT_BUILD_H
#define DICT_BUILD_H
#include <sys/types.h>
#include <sys/stat.h>
#include "dict/dict.h"

#define DICT_BUILD_INCR		(1<<0)	/* -i */
#define DICT_BUILD_KEEP_ROOT	(1<<1)	/* -o */
#define DICT_BUILD_NO_INHERIT	(1<<2)	/* -p */

typedef struct DICT_BUILD_IDS {
    uid_t   uid;			/* effective ids before the build */
    gid_t   gid;
} DICT_BUILD_IDS;

extern DICT *dict_build_open(const char *, const struct stat *, int, int, DICT_BUILD_IDS *);
extern void dict_build_close(DICT *, DICT_BUILD_IDS *);
extern DICT **dict_query_open(char **, int, int, int);
extern const char *dict_query_lookup(DICT **, int, const char *);
extern int dict_query_delete(DICT **, int, const char *);
extern void dict_query_close(DICT **, int);

#endif
