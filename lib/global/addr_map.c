/*
 * NAME
 *	addr_map - one address through a canonical(5)-style table
 * DESCRIPTION
 *	See addr_map.h.
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/mail_addr_find.h"
#include "global/addr_map.h"

/* key_has_ext - did the key that matched include the extension? */
static int key_has_ext(const char *key, int delim, const char *ext)
{
    const char *cp;
    size_t  len = strlen(ext);

    for (cp = key; (cp = strchr(cp, delim)) != 0; cp++)
	if (strncasecmp(cp + 1, ext, len) == 0 && (cp[1 + len] == '@' || cp[1 + len] == 0))
	    return (1);
    return (0);
}

int     addr_map(MAPS *maps, const char *propagate_name, VSTRING *addr)
{
    VSTRING *key = vstring_alloc(100);
    VSTRING *result = vstring_alloc(100);
    VSTRING *user = vstring_alloc(50);
    VSTRING *ext = vstring_alloc(20);
    const char *value;
    const char *at;
    char   *first;
    char   *bp;
    int     delim;
    int     changed = 0;

    if ((value = maps_find_addr_key(maps, vstring_str(addr), MAPS_ADDR_DEFAULT,
				    key)) == 0) {
	changed = maps->error ? -1 : 0;
	goto done;
    }
    bp = first = mystrdup(value);
    value = mystrtok(&bp, ", \t\r\n");		/* the first address counts */
    if (value == 0)
	value = "";
    at = strrchr(vstring_str(addr), '@');
    vstring_strncpy(user, vstring_str(addr), at ? (size_t) (at - vstring_str(addr))
		    : vstring_len(addr));
    if (*value == '@')
	vstring_sprintf(result, "%s%s", vstring_str(user), value);	/* same user */
    else
	vstring_strcpy(result, value);
    /* An extension that the matching key did not have is kept. */
    if (*value != '@'
	&& string_list_has(mail_conf_str(VAR_PROPAGATE_UNMATCHED_EXTENSIONS), propagate_name)
	&& (delim = mail_addr_split_ext(vstring_str(user),
				       mail_conf_str(VAR_RECIPIENT_DELIMITER), 0, ext)) != 0
	&& !key_has_ext(vstring_str(key), delim, vstring_str(ext))) {
	const char *rat = strrchr(vstring_str(result), '@');
	size_t  pos = rat ? (size_t) (rat - vstring_str(result)) : vstring_len(result);

	vstring_strcpy(user, vstring_str(result) + pos);	/* "@domain" */
	vstring_truncate(result, pos);
	vstring_sprintf_append(result, "%c%s%s", delim, vstring_str(ext), vstring_str(user));
    }
    myfree(first);
    changed = strcmp(vstring_str(result), vstring_str(addr)) != 0;
    vstring_strcpy(addr, vstring_str(result));

done:
    vstring_free(key);
    vstring_free(result);
    vstring_free(user);
    vstring_free(ext);
    return (changed);
}
