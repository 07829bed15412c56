/*
 * NAME
 *	postmap.h - what the parts of postmap share
 * SYNOPSIS
 *	#include "postmap.h"
 * DESCRIPTION
 *	postmap.c parses the command line; postmap_build.c makes tables
 *	from source files (or standard input with -i); postmap_query.c
 *	answers -q, -d and -s.
 */
#ifndef POSTMAP_H
#define POSTMAP_H
#include "dict/dict.h"

#define POSTMAP_FLAG_INCR	(1<<0)	/* -i */
#define POSTMAP_FLAG_KEEP_ROOT	(1<<1)	/* -o */
#define POSTMAP_FLAG_NO_INHERIT	(1<<2)	/* -p */

extern char *postmap_type_name(const char *map, const char *def_type);
extern void postmap_build(const char *type_name, int dict_flags, int flags);
extern int postmap_query(char **maps, int count, const char *key, int dict_flags);
extern int postmap_query_stdin(char **maps, int count, int dict_flags);
extern int postmap_delete(char **maps, int count, const char *key, int dict_flags);
extern int postmap_delete_stdin(char **maps, int count, int dict_flags);
extern void postmap_dump(char **maps, int count, int dict_flags);

#endif
