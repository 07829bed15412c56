/*
 * NAME
 *	virtual_alias - virtual alias domains and recipient expansion
 * DESCRIPTION
 *	See virtual_alias.h. Whether a domain is a virtual alias domain,
 *	and whether it is local for the local-part lookup, is the answer
 *	of addr_class(3).
 *
 *	Addresses are in internal form (quotes removed), in the table's
 *	keys as in the queue file; table values are read in external form.
 * DIAGNOSTICS
 *	"warning: virtual_alias_maps map lookup problem for ADDR",
 *	"warning: unreasonable virtual_alias_maps map nesting for ADDR",
 *	"warning: unreasonable virtual_alias_maps map expansion size for
 *	ADDR", "warning: unreasonable virtual_alias_maps result ...",
 *	and addr_class(3)'s warnings when a domain list cannot be read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/htable.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/maps.h"
#include "global/mail_addr.h"
#include "global/addr_class.h"
#include "global/virtual_alias.h"

#define VA_MAPS_NAME	VAR_VIRTUAL_ALIAS_MAPS

struct VIRTUAL_ALIAS {
    MAPS   *maps;			/* virtual_alias_maps, or NULL */
    char   *delim;			/* recipient_delimiter */
    int     propagate;			/* "virtual" in propagate_unmatched_ext */
    long    recursion_limit;
    long    expansion_limit;
    long    addr_len_limit;
    char   *myorigin;
};

/* virtual_alias_create - read the configuration */

VIRTUAL_ALIAS *virtual_alias_create(void)
{
    VIRTUAL_ALIAS *va = mycalloc(1, sizeof(*va));
    const char *maps = mail_conf_str(VA_MAPS_NAME);

    addr_class_init();
    va->maps = (*maps ? maps_create(VA_MAPS_NAME, maps, DICT_FLAG_DEFAULT) : 0);
    va->delim = mystrdup(mail_conf_str(VAR_RECIPIENT_DELIMITER));
    va->propagate = string_list_has(mail_conf_str(VAR_PROPAGATE_UNMATCHED_EXTENSIONS),
				"virtual");
    va->recursion_limit = mail_conf_int(VAR_VIRTUAL_ALIAS_RECURSION_LIMIT);
    va->expansion_limit = mail_conf_int(VAR_VIRTUAL_ALIAS_EXPANSION_LIMIT);
    va->addr_len_limit = mail_conf_int(VAR_VIRTUAL_ALIAS_ADDRESS_LENGTH_LIMIT);
    va->myorigin = mystrdup(mail_conf_str(VAR_MYORIGIN));
    return (va);
}

void    virtual_alias_free(VIRTUAL_ALIAS *va)
{
    if (va->maps)
	maps_free(va->maps);
    myfree(va->delim);
    myfree(va->myorigin);
    myfree(va);
}

int     virtual_alias_changes(VIRTUAL_ALIAS *va)
{
    return (va->maps != 0);
}

/* virtual_alias_domain - is this a virtual alias domain? */

int     virtual_alias_domain(VIRTUAL_ALIAS *va, const char *domain)
{
    (void) va;
    switch (addr_class_domain(domain, (ADDR_CLASS_INFO *) 0)) {
    case ADDR_CLASS_RETRY:
	return (VIRTUAL_ALIAS_RETRY);
    case ADDR_CLASS_ALIAS:
	return (VIRTUAL_ALIAS_YES);
    default:
	return (VIRTUAL_ALIAS_NO);
    }
}

/* va_split_ext - split local part at the recipient delimiter */

static char *va_split_ext(VIRTUAL_ALIAS *va, char *local)
{
    size_t  len;
    size_t  llen = strlen(local);

    if (*va->delim == 0)
	return (0);
    /* Never split these, as Postfix. */
    if (strcasecmp(local, "postmaster") == 0
	|| strcasecmp(local, "MAILER-DAEMON") == 0
	|| strcasecmp(local, mail_conf_str(VAR_DOUBLE_BOUNCE_SENDER)) == 0)
	return (0);
    if (strchr(va->delim, '-') != 0
	&& (strncasecmp(local, "owner-", 6) == 0
	    || (llen > 8 && strcasecmp(local + llen - 8, "-request") == 0)))
	return (0);
    len = strcspn(local, va->delim);
    if (len == 0 || local[len] == 0)
	return (0);
    return (local + len);		/* the delimiter and what follows */
}

/* va_find - one lookup with Postfix's order; *ext set when unmatched */

static char *va_find(VIRTUAL_ALIAS *va, const char *addr, char **ext, int *error)
{
    char   *local = mystrdup(addr);
    char   *domain = split_at_right(local, '@');
    char   *extp;
    char   *bare_local = 0;
    const char *hit;
    VSTRING *key = vstring_alloc(100);
    char   *result = 0;
    int     is_local = 0;

    *ext = 0;
    *error = 0;

    /* user+ext@domain: the whole address, every table. */
    if ((hit = maps_find(va->maps, addr, 0)) != 0) {
	result = mystrdup(hit);
	goto done;
    }
    if (va->maps->error)
	goto fail;

    if ((extp = va_split_ext(va, local)) != 0) {
	*ext = mystrdup(extp);
	bare_local = mystrndup(local, extp - local);
    }
    /* user@domain without the extension. */
    if (bare_local) {
	vstring_strcpy(key, bare_local);
	if (domain) {
	    vstring_addch(key, '@');
	    vstring_strcat(key, domain);
	}
	if ((hit = maps_find(va->maps, vstring_str(key), MAPS_FIND_FIXED)) != 0) {
	    result = mystrdup(hit);
	    goto done;
	}
	if (va->maps->error)
	    goto fail;
    }
    /* The local part alone when the domain is ours. */
    if (domain != 0 && (is_local = addr_class_bare_user(domain)) < 0)
	goto fail;
    if (domain == 0 || is_local) {
	if (domain && (hit = maps_find(va->maps, local, MAPS_FIND_FIXED)) != 0) {
	    myfree(*ext);
	    *ext = 0;
	    result = mystrdup(hit);
	    goto done;
	}
	if (va->maps->error)
	    goto fail;
	if (bare_local && (hit = maps_find(va->maps, bare_local, MAPS_FIND_FIXED)) != 0) {
	    result = mystrdup(hit);
	    goto done;
	}
	if (va->maps->error)
	    goto fail;
    }
    /* The @domain catch-all. */
    if (domain && *domain) {
	vstring_sprintf(key, "@%s", domain);
	if ((hit = maps_find(va->maps, vstring_str(key), MAPS_FIND_FIXED)) != 0) {
	    result = mystrdup(hit);
	    goto done;
	}
	if (va->maps->error)
	    goto fail;
    }
    goto done;

fail:
    *error = 1;
done:
    if (result == 0 && *ext) {
	myfree(*ext);
	*ext = 0;
    }
    if (bare_local)
	myfree(bare_local);
    vstring_free(key);
    myfree(local);
    return (result);
}

/* va_add_result - one item of a lookup result, canonicalized */

static void va_add_result(VIRTUAL_ALIAS *va, ARGV *out, const char *item,
			          const char *addr, const char *ext)
{
    VSTRING *buf = vstring_alloc(100);
    const char *at;
    size_t  len = strlen(item);

    /* <address> */
    if (len >= 2 && item[0] == '<' && item[len - 1] == '>') {
	item++;
	len -= 2;
    }
    /* Results are in external form ("a b"@x); we keep internal form. */
    {
	char   *ext_form = mystrndup(item, len);

	mail_addr_internalize(buf, ext_form);
	myfree(ext_form);
    }
    if (vstring_len(buf) == 0) {
	vstring_free(buf);
	return;
    }
    /* "@otherdomain": keep the user, without the extension. */
    if (*vstring_str(buf) == '@') {
	VSTRING *tmp = vstring_alloc(100);
	const char *ratsign = strrchr(addr, '@');
	size_t  ulen = ratsign ? (size_t) (ratsign - addr) : strlen(addr);

	if (ext && strlen(ext) <= ulen)
	    ulen -= strlen(ext);
	vstring_strncpy(tmp, addr, ulen);
	vstring_strcat(tmp, vstring_str(buf));
	vstring_strcpy(buf, vstring_str(tmp));
	vstring_free(tmp);
    }
    /* The unmatched extension goes to every target's local part. */
    if (ext && va->propagate) {
	at = strrchr(vstring_str(buf), '@');
	if (at) {
	    VSTRING *tmp = vstring_alloc(100);

	    vstring_strncpy(tmp, vstring_str(buf), at - vstring_str(buf));
	    vstring_strcat(tmp, ext);
	    vstring_strcat(tmp, at);
	    vstring_strcpy(buf, vstring_str(tmp));
	    vstring_free(tmp);
	} else {
	    vstring_strcat(buf, ext);
	}
    }
    if (strrchr(vstring_str(buf), '@') == 0) {
	vstring_addch(buf, '@');
	vstring_strcat(buf, va->myorigin);
    }
    argv_add(out, vstring_str(buf));
    vstring_free(buf);
}

/* va_lookup - addresses that addr maps to, or NULL */

static ARGV *va_lookup(VIRTUAL_ALIAS *va, const char *addr, int *error)
{
    char   *ext;
    char   *value;
    ARGV   *out;
    const char *cp;
    const char *start;
    int     quoted = 0;

    if ((value = va_find(va, addr, &ext, error)) == 0)
	return (0);
    out = argv_alloc(2);
    for (start = cp = value;; cp++) {
	if (*cp == '"')
	    quoted = !quoted;
	else if (*cp == '\\' && quoted && cp[1])
	    cp++;
	else if ((*cp == ',' && !quoted) || *cp == 0) {
	    char   *item = mystrndup(start, cp - start);

	    va_add_result(va, out, trimblanks(item), addr, ext);
	    myfree(item);
	    if (*cp == 0)
		break;
	    start = cp + 1;
	}
    }
    myfree(value);
    if (ext)
	myfree(ext);
    return (out);
}

/* virtual_alias_rcpt_check - does this recipient exist? */

int     virtual_alias_rcpt_check(VIRTUAL_ALIAS *va, const char *addr)
{
    const char *at = strrchr(addr, '@');
    int     error = 0;
    int     rc;

    if (va->maps) {
	ARGV   *found = va_lookup(va, addr, &error);

	if (found) {
	    argv_free(found);
	    return (VIRTUAL_ALIAS_FOUND);
	}
	if (error) {
	    msg_warn("%s map lookup problem for %s", VA_MAPS_NAME, addr);
	    return (VIRTUAL_ALIAS_RETRY);
	}
    }
    if (at == 0)
	return (VIRTUAL_ALIAS_NONE);
    rc = virtual_alias_domain(va, at + 1);
    if (rc == VIRTUAL_ALIAS_RETRY)
	return (VIRTUAL_ALIAS_RETRY);
    return (rc == VIRTUAL_ALIAS_YES ? VIRTUAL_ALIAS_UNKNOWN : VIRTUAL_ALIAS_NONE);
}

/* Results. */

VIRTUAL_ALIAS_RESULT *virtual_alias_result_alloc(void)
{
    VIRTUAL_ALIAS_RESULT *res = mycalloc(1, sizeof(*res));

    res->seen = htable_create(16);
    return (res);
}

void    virtual_alias_result_free(VIRTUAL_ALIAS_RESULT *res)
{
    for (size_t i = 0; i < res->count; i++) {
	myfree(res->targets[i].address);
	myfree(res->targets[i].orig);
    }
    if (res->targets)
	myfree(res->targets);
    htable_free(res->seen, 0);
    myfree(res);
}

int     virtual_alias_result_add(VIRTUAL_ALIAS_RESULT *res, const char *addr,
				         const char *orig)
{
    VSTRING *key = vstring_alloc(100);
    int     added = 0;

    vstring_sprintf(key, "%s\n%s", addr, orig);
    lowercase(vstring_str(key));
    if (htable_locate(res->seen, vstring_str(key)) == 0) {
	htable_enter(res->seen, vstring_str(key), 0);
	if (res->count >= res->cap) {
	    res->cap = res->cap ? 2 * res->cap : 4;
	    res->targets = myrealloc(res->targets, res->cap * sizeof(*res->targets));
	}
	res->targets[res->count].address = mystrdup(addr);
	res->targets[res->count].orig = mystrdup(orig);
	res->count++;
	added = 1;
    }
    vstring_free(key);
    return (added);
}

static const char *va_domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return (at ? at + 1 : "");
}

int     virtual_alias_result_forwarded(const VIRTUAL_ALIAS_RESULT *res)
{
    for (size_t i = 0; i < res->count; i++)
	if (strcasecmp(va_domain_of(res->targets[i].address),
		       va_domain_of(res->targets[i].orig)) != 0)
	    return (1);
    return (0);
}

/* virtual_alias_expand - recursive 1:N expansion of one recipient */

int     virtual_alias_expand(VIRTUAL_ALIAS *va, const char *rcpt,
			             VIRTUAL_ALIAS_RESULT *res, VSTRING *why)
{
    ARGV   *list = argv_alloc(4);
    HTABLE *self = htable_create(8);	/* expanded into themselves */
    VSTRING *lc = vstring_alloc(100);
    int     ret = VIRTUAL_ALIAS_OK;

    argv_add(list, rcpt);
    for (size_t i = 0; va->maps && ret == VIRTUAL_ALIAS_OK && i < list->argc; i++) {
	if ((long) list->argc > va->expansion_limit) {
	    msg_warn("unreasonable %s map expansion size for %s -- deferring delivery",
		     VA_MAPS_NAME, rcpt);
	    vstring_strcpy(why, "4.6.0 Alias expansion error");
	    ret = VIRTUAL_ALIAS_RETRY;
	    break;
	}
	for (long count = 0;; count++) {
	    ARGV   *found;
	    char   *lhs;
	    int     error;

	    vstring_strcpy(lc, list->argv[i]);
	    lowercase(vstring_str(lc));
	    if (htable_locate(self, vstring_str(lc)) != 0)
		break;
	    if (count >= va->recursion_limit) {
		msg_warn("unreasonable %s map nesting for %s -- deferring delivery",
			 VA_MAPS_NAME, rcpt);
		vstring_strcpy(why, "4.6.0 Alias expansion error");
		ret = VIRTUAL_ALIAS_RETRY;
		break;
	    }
	    if ((found = va_lookup(va, list->argv[i], &error)) == 0) {
		if (error) {
		    msg_warn("%s map lookup problem for %s -- deferring delivery",
			     VA_MAPS_NAME, list->argv[i]);
		    vstring_strcpy(why, "4.3.0 Temporary lookup failure");
		    ret = VIRTUAL_ALIAS_RETRY;
		}
		break;
	    }
	    if (found->argc == 0) {
		/* An alias with an empty value: nothing to deliver to. */
		argv_free(found);
		break;
	    }
	    lhs = mystrdup(list->argv[i]);
	    for (size_t j = 0; j < found->argc; j++) {
		if ((long) strlen(found->argv[j]) > va->addr_len_limit) {
		    msg_warn("unreasonable %s result %.300s... -- message not accepted, try again later",
			     VA_MAPS_NAME, found->argv[j]);
		    vstring_strcpy(why, "4.6.0 Alias expansion error");
		    ret = VIRTUAL_ALIAS_RETRY;
		    break;
		}
		if (j == 0) {
		    myfree(list->argv[i]);
		    list->argv[i] = mystrdup(found->argv[j]);
		} else {
		    argv_add(list, found->argv[j]);
		}
		/* An address may expand into itself, once. */
		if (strcasecmp(lhs, found->argv[j]) == 0) {
		    vstring_strcpy(lc, lhs);
		    lowercase(vstring_str(lc));
		    if (htable_locate(self, vstring_str(lc)) == 0)
			htable_enter(self, vstring_str(lc), 0);
		}
	    }
	    myfree(lhs);
	    argv_free(found);
	    if (ret != VIRTUAL_ALIAS_OK)
		break;
	}
    }
    if (ret == VIRTUAL_ALIAS_OK)
	for (size_t i = 0; i < list->argc; i++)
	    (void) virtual_alias_result_add(res, list->argv[i], rcpt);
    argv_free(list);
    htable_free(self, 0);
    vstring_free(lc);
    return (ret);
}
