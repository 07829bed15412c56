/*
 * NAME
 *	dict_pcre - pcre: tables (not yet implemented)
 */
#include "dict_type.h"

DICT   *dict_pcre_open(const char *name, int open_flags, int dict_flags)
{
    (void) open_flags;
    return (dict_surrogate("pcre", name, dict_flags, "pcre: not yet supported"));
}
