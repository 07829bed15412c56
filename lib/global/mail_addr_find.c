/*
 * NAME
 *	mail_addr_find - Postfix's lookup orders for addresses in tables
 * SYNOPSIS
 *	See mail_addr_find.h.
 * DESCRIPTION
 *	maps_find_transport(): user+ext@domain (all tables), user@domain,
 *	domain, then ".parent" keys for each parent domain (or bare parent
 *	domains when "transport_maps" is listed in
 *	parent_domain_matches_subdomains), then "*". Only the first query
 *	goes to pattern tables. The null address is looked up as
 *	$empty_address_recipient@$myhostname. When ext_key is not NULL it
 *	receives a copy of the key that matched (myfree it), or NULL.
 *
 *	maps_find_addr(): user+ext@domain (all tables), user@domain,
 *	then user+ext and user when the domain is local, then @domain,
 *	each step as enabled by the MAPS_ADDR_* strategy bits.
 *
 *	maps_find_sender(): the sender as maps_find_addr() does it (the
 *	null sender as $empty_address_relayhost_maps_lookup_key); a DUNNO
 *	result means "no override" and is returned as NULL with error 0.
 *
 *	maps_find_sasl(): the sender (as maps_find_addr(); the caller
 *	passes NULL or "" unless sender-dependent authentication is on:
 *	smtp_ or lmtp_sender_dependent_authentication), then host, then
 *	nexthop, each as written.
 *
 *	"Local" (for the bare user step) is addr_class_bare_user(): the
 *	domain is $myorigin or in the local class (mydestination, an
 *	address literal of inet_interfaces or proxy_interfaces).
 * DIAGNOSTICS
 *	A table error stops every search: NULL with maps->error set. So
 *	does a list that cannot say whether the domain is local
 *	(DICT_ERR_RETRY).
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/addr_class.h"
#include "global/mail_addr_find.h"

/* maps_strip_ext - local part without its extension, or NULL */

static char *maps_strip_ext(const char *local, size_t len)
{
    const char *delims = mail_conf_str(VAR_RECIPIENT_DELIMITER);
    size_t  i;

    if (*delims == 0)
	return (0);
    /* The first delimiter character splits; not at the very start. */
    for (i = 1; i < len; i++)
	if (strchr(delims, local[i]))
	    return (mystrndup(local, i));
    return (0);
}

/* maps_try - one lookup step; 1 when the search is over */

static int maps_try(MAPS *maps, const char *key, int flags,
		            const char **result, VSTRING *matched)
{
    *result = maps_find(maps, key, flags);
    if (*result && matched)
	vstring_strcpy(matched, key);
    return (*result != 0 || maps->error != DICT_ERR_NONE);
}

static const char *maps_addr_order(MAPS *maps, const char *addr,
				           int strategy, VSTRING *matched)
{
    const char *at = strrchr(addr, '@');
    const char *result = 0;
    const char *domain = at ? at + 1 : 0;
    size_t  local_len = at ? (size_t) (at - addr) : strlen(addr);
    char   *bare = maps_strip_ext(addr, local_len);
    VSTRING *key = vstring_alloc(100);
    int     done = 0;
    int     is_local;

    if (strategy & MAPS_ADDR_FULL)
	done = maps_try(maps, addr, 0, &result, matched);
    if (!done && bare && (strategy & MAPS_ADDR_NOEXT)) {
	vstring_strcpy(key, bare);
	if (domain)
	    vstring_sprintf_append(key, "@%s", domain);
	done = maps_try(maps, vstring_str(key), MAPS_FIND_FIXED, &result, matched);
    }
    if (!done && domain && (strategy & MAPS_ADDR_LOCALPART)
	&& (is_local = addr_class_bare_user(domain)) != 0) {
	if (is_local < 0) {
	    maps->error = DICT_ERR_RETRY;
	    done = 1;
	} else {
	    vstring_strncpy(key, addr, local_len);
	    done = maps_try(maps, vstring_str(key), MAPS_FIND_FIXED, &result, matched);
	    if (!done && bare)
		done = maps_try(maps, bare, MAPS_FIND_FIXED, &result, matched);
	}
    }
    if (!done && domain && (strategy & MAPS_ADDR_AT_DOMAIN)) {
	vstring_sprintf(key, "@%s", domain);
	done = maps_try(maps, vstring_str(key), MAPS_FIND_FIXED, &result, matched);
    }
    (void) done;
    if (bare)
	myfree(bare);
    vstring_free(key);
    return (result);
}

const char *maps_find_addr(MAPS *maps, const char *addr, int strategy)
{
    maps->error = DICT_ERR_NONE;
    return (maps_addr_order(maps, addr, strategy, 0));
}

const char *maps_find_addr_key(MAPS *maps, const char *addr, int strategy,
			               VSTRING *matched)
{
    maps->error = DICT_ERR_NONE;
    vstring_reset(matched);
    return (maps_addr_order(maps, addr, strategy, matched));
}

const char *maps_find_transport(MAPS *maps, const char *addr, char **ext_key)
{
    VSTRING *matched = vstring_alloc(100);
    VSTRING *null_addr = 0;
    const char *result;
    const char *at;
    const char *name;
    const char *next;
    int     bare_parents;

    if (ext_key)
	*ext_key = 0;
    if (*addr == 0) {
	null_addr = vstring_alloc(100);
	vstring_sprintf(null_addr, "%s@%s", mail_conf_str(VAR_EMPTY_ADDRESS_RECIPIENT),
			mail_conf_str(VAR_MYHOSTNAME));
	addr = vstring_str(null_addr);
    }
    maps->error = DICT_ERR_NONE;
    result = maps_addr_order(maps, addr, MAPS_ADDR_FULL | MAPS_ADDR_NOEXT,
			     matched);
    if (result == 0 && maps->error == DICT_ERR_NONE
	&& (at = strrchr(addr, '@')) != 0 && at[1] != 0) {
	bare_parents = string_list_has(mail_conf_str(VAR_PARENT_DOMAIN_MATCHES_SUBDOMAINS),
				       VAR_TRANSPORT_MAPS);
	for (name = at + 1; *name; name = next) {
	    if (maps_try(maps, name, MAPS_FIND_FIXED, &result, matched))
		break;
	    if ((next = strchr(name + 1, '.')) == 0)
		break;
	    if (bare_parents)
		next++;
	}
    }
    if (result == 0 && maps->error == DICT_ERR_NONE)
	(void) maps_try(maps, "*", MAPS_FIND_FIXED, &result, matched);
    if (result && ext_key)
	*ext_key = mystrdup(vstring_str(matched));
    vstring_free(matched);
    if (null_addr)
	vstring_free(null_addr);
    return (result);
}

const char *maps_find_sender(MAPS *maps, const char *sender)
{
    const char *result;

    maps->error = DICT_ERR_NONE;
    if (*sender == 0)
	result = maps_find(maps, mail_conf_str(VAR_EMPTY_ADDRESS_RELAYHOST_MAPS_LOOKUP_KEY), 0);
    else
	result = maps_addr_order(maps, sender, MAPS_ADDR_DEFAULT, 0);
    if (result && strcasecmp(result, "DUNNO") == 0)
	result = 0;
    return (result);
}

const char *maps_find_sasl(MAPS *maps, const char *sender, const char *host,
			           const char *nexthop)
{
    const char *result = 0;

    maps->error = DICT_ERR_NONE;
    if (sender && *sender) {
	result = maps_addr_order(maps, sender, MAPS_ADDR_DEFAULT, 0);
	if (result || maps->error)
	    return (result);
    }
    if (host && *host) {
	result = maps_find(maps, host, 0);
	if (result || maps->error)
	    return (result);
    }
    if (nexthop && *nexthop && (host == 0 || strcmp(host, nexthop) != 0))
	result = maps_find(maps, nexthop, 0);
    return (result);
}
