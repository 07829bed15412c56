/*
 * NAME
 *	addr_rewrite - canonical address mapping and masquerading
 * DESCRIPTION
 *	See addr_rewrite.h. Tables and lists are opened once, by
 *	addr_rewrite_create(); a process that outlives a table change
 *	exits after its current request, as every daemon does.
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/mail_addr.h"
#include "global/addr_map.h"
#include "global/addr_canon.h"
#include "global/addr_rewrite.h"

#define MAX_RECURSION	10		/* canonical result of a result ... */

struct ADDR_REWRITE {
    MAPS   *snd_maps;			/* sender_canonical_maps */
    MAPS   *rcpt_maps;			/* recipient_canonical_maps */
    MAPS   *maps;			/* canonical_maps */
    int     snd_classes;		/* sender_canonical_classes */
    int     rcpt_classes;		/* recipient_canonical_classes */
    int     classes;			/* canonical_classes */
    ARGV   *masq_domains;		/* masquerade_domains */
    int     masq_classes;		/* masquerade_classes */
    MATCH_LIST *masq_exceptions;	/* masquerade_exceptions */
    ADDR_CANON *canon;			/* canonical form */
    char   *remote_domain;		/* remote_header_rewrite_domain */
    VSTRING *work;
};

/* parse_classes - a *_classes parameter as ADDR_REWRITE_* bits */
static int parse_classes(const char *param)
{
    static const struct {
	const char *name;
	int     bit;
    }       names[] = {
	{"envelope_sender", ADDR_REWRITE_ENV_SENDER},
	{"envelope_recipient", ADDR_REWRITE_ENV_RCPT},
	{"header_sender", ADDR_REWRITE_HDR_SENDER},
	{"header_recipient", ADDR_REWRITE_HDR_RCPT},
    };
    ARGV   *items = argv_split_list(mail_conf_str(param));
    int     bits = 0;
    size_t  i, j;

    for (i = 0; i < items->argc; i++) {
	for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
	    if (strcasecmp(items->argv[i], names[j].name) == 0)
		break;
	if (j == sizeof(names) / sizeof(names[0]))
	    msg_fatal("%s: unknown address class: \"%s\"", param, items->argv[i]);
	bits |= names[j].bit;
    }
    argv_free(items);
    return (bits);
}

static MAPS *maps_or_null(const char *param)
{
    const char *value = mail_conf_str(param);

    return (*value ? maps_create(param, value, DICT_FLAG_DEFAULT) : 0);
}

ADDR_REWRITE *addr_rewrite_create(void)
{
    ADDR_REWRITE *rw = mycalloc(1, sizeof(*rw));

    rw->snd_maps = maps_or_null(VAR_SENDER_CANONICAL_MAPS);
    rw->rcpt_maps = maps_or_null(VAR_RECIPIENT_CANONICAL_MAPS);
    rw->maps = maps_or_null(VAR_CANONICAL_MAPS);
    rw->snd_classes = parse_classes(VAR_SENDER_CANONICAL_CLASSES);
    rw->rcpt_classes = parse_classes(VAR_RECIPIENT_CANONICAL_CLASSES);
    rw->classes = parse_classes(VAR_CANONICAL_CLASSES);
    rw->masq_domains = argv_split_list(mail_conf_str(VAR_MASQUERADE_DOMAINS));
    rw->masq_classes = parse_classes(VAR_MASQUERADE_CLASSES);
    rw->masq_exceptions = *mail_conf_str(VAR_MASQUERADE_EXCEPTIONS) ?
	mail_list_create(VAR_MASQUERADE_EXCEPTIONS) : 0;
    rw->canon = addr_canon_create();
    rw->remote_domain = mystrdup(mail_conf_str(VAR_REMOTE_HEADER_REWRITE_DOMAIN));
    rw->work = vstring_alloc(100);
    return (rw);
}

void    addr_rewrite_free(ADDR_REWRITE *rw)
{
    if (rw->snd_maps)
	maps_free(rw->snd_maps);
    if (rw->rcpt_maps)
	maps_free(rw->rcpt_maps);
    if (rw->maps)
	maps_free(rw->maps);
    argv_free(rw->masq_domains);
    if (rw->masq_exceptions)
	match_list_free(rw->masq_exceptions);
    addr_canon_free(rw->canon);
    myfree(rw->remote_domain);
    vstring_free(rw->work);
    myfree(rw);
}

int     addr_rewrite_enabled(ADDR_REWRITE *rw, int class)
{
    return (!(class & ADDR_REWRITE_REMOTE) || *rw->remote_domain != 0);
}

/* canonicalize - Postfix's "local" (or "remote") rewriting context */
static void canonicalize(ADDR_REWRITE *rw, int class, VSTRING *addr)
{
    addr_canon(rw->canon, addr, (class & ADDR_REWRITE_REMOTE) ? rw->remote_domain : 0);
}

/* map_recursive - apply one table until the address settles */
static int map_recursive(MAPS *maps, VSTRING *addr)
{
    int     status;

    for (int i = 0; i < MAX_RECURSION; i++) {
	if ((status = addr_map(maps, "canonical", addr)) <= 0)
	    return (status);
    }
    msg_warn("%s: recursion limit exceeded for \"%s\"", maps->title, vstring_str(addr));
    return (0);
}

/* masquerade - strip the subdomains of masquerade_domains */
static int masquerade(ADDR_REWRITE *rw, VSTRING *addr)
{
    char   *cp = vstring_str(addr);
    char   *at = strrchr(cp, '@');
    const char *domain;
    size_t  dlen;
    int     rc;

    if (at == 0 || at[1] == 0 || rw->masq_domains->argc == 0)
	return (0);
    if (rw->masq_exceptions) {
	vstring_strncpy(rw->work, cp, at - cp);
	lowercase(vstring_str(rw->work));
	if ((rc = match_list_string(rw->masq_exceptions, vstring_str(rw->work))) != 0)
	    return (rc < 0 ? -1 : 0);
    }
    domain = at + 1;
    dlen = strlen(domain);
    for (size_t i = 0; i < rw->masq_domains->argc; i++) {
	const char *item = rw->masq_domains->argv[i];
	int     negate = (*item == '!');
	size_t  ilen;

	if (negate)
	    item++;
	ilen = strlen(item);
	if (ilen == 0)
	    continue;
	if (dlen == ilen && strcasecmp(domain, item) == 0)
	    return (0);				/* already the domain itself */
	if (dlen > ilen && domain[dlen - ilen - 1] == '.'
	    && strcasecmp(domain + dlen - ilen, item) == 0) {
	    if (negate)
		return (0);
	    vstring_truncate(addr, (at + 1) - cp);
	    vstring_strcat(addr, item);
	    return (1);
	}
    }
    return (0);
}

int     addr_rewrite(ADDR_REWRITE *rw, int class, const char *addr, VSTRING *result)
{
    int     which = class & ADDR_REWRITE_CLASSES;
    int     is_sender = which & (ADDR_REWRITE_ENV_SENDER | ADDR_REWRITE_HDR_SENDER);
    MAPS   *first = is_sender ? rw->snd_maps : rw->rcpt_maps;
    int     first_classes = is_sender ? rw->snd_classes : rw->rcpt_classes;

    vstring_strcpy(result, addr);
    if (!addr_rewrite_enabled(rw, class))
	return (0);
    canonicalize(rw, class, result);
    if (*vstring_str(result)) {
	if (first && (first_classes & which) && map_recursive(first, result) < 0)
	    return (-1);
	if (rw->maps && (rw->classes & which) && map_recursive(rw->maps, result) < 0)
	    return (-1);
	if ((rw->masq_classes & which) && masquerade(rw, result) < 0)
	    return (-1);
    }
    return (strcmp(vstring_str(result), addr) != 0);
}
