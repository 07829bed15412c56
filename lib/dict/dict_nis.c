/*
 * NAME
 *	dict_nis - nis: tables on a host without NIS
 * SYNOPSIS
 *	DICT *dict_nis_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	Postfix's default alias_maps is "hash:/etc/aliases, nis:mail.aliases".
 *	On a host whose NIS domain name is not set, Postfix warns once
 *	"dict_nis_init: NIS domain name not set - NIS lookups disabled"
 *	and its nis: tables find nothing. This module does the same, so
 *	that default behaves here as it does in Postfix on such a host.
 *
 *	This mail system has no NIS client: on a host whose NIS domain name
 *	is set, a nis: table is refused like any other table type that is
 *	not supported (lookups fail with DICT_ERR_RETRY, "unsupported
 *	dictionary type: nis"), never silently empty.
 * DIAGNOSTICS
 *	The warning above, once per process, when the first nis: table is
 *	opened on a host without a NIS domain name.
 */
#include <string.h>
#include <unistd.h>

#include "dict/dict_type.h"
#include "util/msg.h"

/* nis_domain_set - does this host have a NIS domain name? */

static int nis_domain_set(void)
{
    char    domain[256];

    if (getdomainname(domain, sizeof(domain)) < 0)
	return (0);
    domain[sizeof(domain) - 1] = 0;
    return (domain[0] != 0 && strcmp(domain, "(none)") != 0);
}

DICT   *dict_nis_open(const char *name, int open_flags, int dict_flags)
{
    static int warned;
    DICT   *d;

    (void) open_flags;
    if (nis_domain_set())
	return (dict_surrogate("nis", name, dict_flags,
			       "unsupported dictionary type: nis"));
    if (!warned) {
	msg_warn("dict_nis_init: NIS domain name not set - NIS lookups disabled");
	warned = 1;
    }
    /* dict_alloc's lookup method answers "not found" when there is no error. */
    d = dict_alloc("nis", name, sizeof(DICT));
    d->flags = dict_flags | DICT_FLAG_FIXED;
    return (d);
}
