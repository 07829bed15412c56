/*
 * NAME
 *	maps - a main.cf list of lookup tables
 * SYNOPSIS
 *	See maps.h.
 * DESCRIPTION
 *	maps_create() splits the list at commas and white space; an
 *	"inline:{ ... }" or "static:{ ... }" item keeps its braces and
 *	what is inside them. Tables that cannot be opened are kept as
 *	tables that fail every lookup (DICT_ERR_RETRY), so a broken table
 *	defers mail instead of letting it through.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>

#include "dict/maps.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"

/* maps_split - list items; braces keep "inline:{ a=b, c=d }" together */

static ARGV *maps_split(const char *list)
{
    ARGV   *av = argv_alloc(4);
    char   *saved = mystrdup(list);
    char   *bp = saved;
    char   *item;

    while ((item = mystrtokq(&bp, LIST_DELIMS)) != 0)
	argv_add(av, item);
    myfree(saved);
    return (av);
}

MAPS   *maps_create(const char *title, const char *map_list, int dict_flags)
{
    MAPS   *maps = mycalloc(1, sizeof(*maps));
    size_t  i;

    maps->title = mystrdup(title);
    maps->names = maps_split(map_list ? map_list : "");
    maps->dicts = mycalloc(maps->names->argc + 1, sizeof(DICT *));
    for (i = 0; i < maps->names->argc; i++) {
	maps->dicts[i] = dict_open(maps->names->argv[i], O_RDONLY, dict_flags);
	if (dict_error_text(maps->dicts[i]))
	    msg_warn("%s is unavailable. %s", maps->names->argv[i],
		     dict_error_text(maps->dicts[i]));
    }
    return (maps);
}

const char *maps_find(MAPS *maps, const char *key, int flags)
{
    const char *value;
    DICT   *d;

    maps->error = DICT_ERR_NONE;
    if (*key == 0)
	return (0);
    for (size_t i = 0; i < maps->names->argc; i++) {
	d = maps->dicts[i];
	if ((flags & MAPS_FIND_FIXED) && (d->flags & DICT_FLAG_PATTERN))
	    continue;
	if ((value = dict_get(d, key)) != 0)
	    return (value);
	if (d->error != DICT_ERR_NONE) {
	    /* An unavailable table said why when it was opened (Postfix). */
	    if (d->error == DICT_ERR_CONFIG)
		msg_warn("%s lookup error for \"%s\"", maps->names->argv[i], key);
	    else
		msg_warn("%s lookup error for \"%s\": %s", maps->names->argv[i],
			 key, dict_error_text(d) ? dict_error_text(d) : "error");
	    maps->error = d->error;
	    return (0);
	}
    }
    return (0);
}

void    maps_free(MAPS *maps)
{
    for (size_t i = 0; i < maps->names->argc; i++)
	dict_close(maps->dicts[i]);
    myfree(maps->dicts);
    argv_free(maps->names);
    myfree(maps->title);
    myfree(maps);
}

int     maps_changed(MAPS *maps)
{
    for (size_t i = 0; i < maps->names->argc; i++)
	if (dict_changed(maps->dicts[i]))
	    return (1);
    return (0);
}
