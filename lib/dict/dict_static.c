/*
 * NAME
 *	dict_static - static:value, the same answer for every key
 * SYNOPSIS
 *	DICT *dict_static_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	"static:value" answers "value" for any key; "static:{ text with
 *	spaces }" answers the text between the braces, trimmed.
 * DIAGNOSTICS
 *	An unbalanced "{" makes every lookup fail with DICT_ERR_RETRY.
 */
#include <string.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/stringops.h"

typedef struct DICT_STATIC {
    DICT    dict;
    char   *value;
} DICT_STATIC;

static const char *dict_static_get(DICT *d, const char *key)
{
    (void) key;
    return (((DICT_STATIC *) d)->value);
}

static void dict_static_close(DICT *d)
{
    myfree(((DICT_STATIC *) d)->value);
    dict_free(d);
}

DICT   *dict_static_open(const char *name, int open_flags, int dict_flags)
{
    DICT_STATIC *ds;
    char   *value;
    size_t  len = strlen(name);

    (void) open_flags;
    if (name[0] == '{') {
	if (len < 2 || name[len - 1] != '}')
	    return (dict_surrogate("static", name, dict_flags,
				   "bad static:name syntax: missing '}' in \"%s\"",
				   name));
	value = mystrndup(name + 1, len - 2);
	trimblanks(value);
    } else {
	value = mystrdup(name);
    }
    ds = (DICT_STATIC *) dict_alloc("static", name, sizeof(DICT_STATIC));
    ds->dict.flags = dict_flags | DICT_FLAG_FIXED;
    ds->dict.get = dict_static_get;
    ds->dict.close = dict_static_close;
    ds->value = value;
    return (&ds->dict);
}
