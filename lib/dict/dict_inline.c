/*
 * NAME
 *	dict_inline - inline:{ key=value, ... } tables in main.cf
 * SYNOPSIS
 *	DICT *dict_inline_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The name is "{ key=value, key2 = value2, { key3 = text, with comma } }":
 *	items are separated by commas or white space; an item in braces
 *	may hold both. White space around "=" and around keys and values
 *	is dropped. Keys are folded to lower case unless the table is
 *	opened without DICT_FLAG_FOLD_FIX.
 * DIAGNOSTICS
 *	A name without braces, or an item without "=", makes a table
 *	whose lookups fail with DICT_ERR_RETRY; dict_error_text() says
 *	what is wrong, in Postfix's words.
 */
#include <string.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/stringops.h"

DICT   *dict_inline_open(const char *name, int open_flags, int dict_flags)
{
    size_t  len = strlen(name);
    char   *saved;
    char   *bp;
    char   *item;
    char   *value;
    DICT   *d;

    (void) open_flags;
    if (len < 3 || name[0] != '{' || name[len - 1] != '}'
	|| name[1 + strspn(name + 1, " \t\r\n")] == '}')
	return (dict_surrogate("inline", name, dict_flags,
			       "bad syntax: \"inline:%s\"; "
			       "need \"inline:{name=value...}\"", name));
    d = dict_mem_create("inline", name, dict_flags & ~DICT_FLAG_DUP_WARN);
    saved = bp = mystrndup(name + 1, len - 2);
    while ((item = mystrtok_list(&bp)) != 0) {
	if ((value = strchr(item, '=')) == 0) {
	    dict_close(d);
	    myfree(saved);
	    return (dict_surrogate("inline", name, dict_flags,
				   "missing '=' after attribute name: "
				   "\"inline:%s\"; need \"inline:{name=value...}\"",
				   name));
	}
	*value++ = 0;
	trimblanks(item);
	trimblanks(value);
	if (*item == 0) {
	    dict_close(d);
	    myfree(saved);
	    return (dict_surrogate("inline", name, dict_flags,
				   "missing '=' after attribute name: "
				   "\"inline:%s\"; need \"inline:{name=value...}\"",
				   name));
	}
	if (dict_flags & DICT_FLAG_FOLD_FIX)
	    lowercase(item);
	d->put(d, item, value);
    }
    myfree(saved);
    d->flags = dict_flags | DICT_FLAG_FIXED;
    return (d);
}
