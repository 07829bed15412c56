/*
 * NAME
 *	maps - a main.cf list of lookup tables
 * SYNOPSIS
 *	MAPS *maps_create(const char *param_name, const char *map_list, int dict_flags);
 *	const char *maps_find(MAPS *maps, const char *key, int flags);
 *	void maps_free(MAPS *maps);
 *	int maps_changed(MAPS *maps);
 *	int maps->error;
 * DESCRIPTION
 *	maps_create() opens each "type:table" of a list such as
 *	"hash:/etc/postfix/transport, pcre:/etc/postfix/t.pcre".
 *	maps_find() asks each table in order; the first answer wins. A
 *	table error stops the search: NULL with maps->error = DICT_ERR_RETRY,
 *	and callers must not treat that as "not found". With MAPS_FIND_FIXED
 *	only fixed-key tables are asked (for partial keys such as "@domain"
 *	or ".parent"; pattern tables only see whole addresses).
 *
 *	maps_changed() is true when a table file changed since it was
 *	opened (see dict_changed()).
 */
#ifndef MAPS_H
#define MAPS_H
#include "dict/dict.h"
#include "util/argv.h"

typedef struct MAPS {
    char   *title;			/* parameter name, for messages */
    ARGV   *names;			/* "type:name" of each table */
    DICT  **dicts;
    int     error;			/* DICT_ERR_* of the last search */
} MAPS;

#define MAPS_FIND_FIXED	(1<<0)		/* ask only fixed-key tables */

extern MAPS *maps_create(const char *, const char *, int);
extern const char *maps_find(MAPS *, const char *, int);
extern void maps_free(MAPS *);
extern int maps_changed(MAPS *);

#endif
