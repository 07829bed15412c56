/*
 * NAME
 *	dict_cidr - cidr: tables (not yet implemented)
 */
#include "dict_type.h"

DICT   *dict_cidr_open(const char *name, int open_flags, int dict_flags)
{
    (void) open_flags;
    return (dict_surrogate("cidr", name, dict_flags, "cidr: not yet supported"));
}
