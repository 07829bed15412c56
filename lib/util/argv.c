/*
 * NAME
 *	argv - string vectors
 * DESCRIPTION
 *	See argv.h.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/argv.h"

ARGV   *argv_alloc(size_t initial)
{
    ARGV   *av = mymalloc(sizeof(*av));

    av->cap = initial < 4 ? 4 : initial;
    av->argv = mymalloc((av->cap + 1) * sizeof(char *));
    av->argc = 0;
    av->argv[0] = 0;
    return (av);
}

void    argv_addn(ARGV *av, const char *str, size_t len)
{
    if (av->argc >= av->cap) {
	av->cap *= 2;
	av->argv = myrealloc(av->argv, (av->cap + 1) * sizeof(char *));
    }
    av->argv[av->argc++] = mystrndup(str, len);
    av->argv[av->argc] = 0;
}

void    argv_add(ARGV *av, const char *str)
{
    argv_addn(av, str, strlen(str));
}

void    argv_truncate(ARGV *av, size_t len)
{
    while (av->argc > len)
	myfree(av->argv[--av->argc]);
    av->argv[av->argc] = 0;
}

ARGV   *argv_split(const char *str, const char *delim)
{
    ARGV   *av = argv_alloc(8);
    size_t  n;

    for (;;) {
	str += strspn(str, delim);
	if (*str == 0)
	    break;
	n = strcspn(str, delim);
	argv_addn(av, str, n);
	str += n;
    }
    return (av);
}

void    argv_free(ARGV *av)
{
    if (av) {
	argv_truncate(av, 0);
	myfree(av->argv);
	myfree(av);
    }
}
