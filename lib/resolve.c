/*
 * NAME
 *	resolve - route a recipient to (transport, nexthop, recipient)
 * SYNOPSIS
 *	See resolve.h.
 * DESCRIPTION
 *	The parameters are read once by resolve_init() (qmgr calls it
 *	after the skeleton read main.cf); tables are opened then too.
 *
 *	relay_domains is a Postfix domain list: literal domains,
 *	".domain" (subdomains only), "!pattern" exclusions, "/file/name"
 *	items (replaced by the file's words) and "type:table" items
 *	(the domain and its parents are looked up as keys); the first
 *	match wins.
 * BUGS
 *	XXX: the domain list here is our own small matcher; it moves to
 *	the shared match_list module once that exists in lib/.
 *	Domains of mydestination (local delivery) are routed like any
 *	other domain: this system has no local delivery agent.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "mymalloc.h"
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "argv.h"
#include "stringops.h"
#include "mail_conf.h"
#include "dict.h"
#include "maps.h"
#include "resolve.h"

/* One item of a domain list. */
typedef struct DOMAIN_ITEM {
    int     negate;
    char   *pattern;			/* lower case; NULL for a table */
    MAPS   *table;
} DOMAIN_ITEM;

typedef struct DOMAIN_LIST {
    DOMAIN_ITEM *items;
    size_t  count;
    int     parent;			/* "example.com" matches subdomains */
} DOMAIN_LIST;

static int resolve_ready;
static DOMAIN_LIST *relay_domains;
static MAPS *transport_maps;
static MAPS *snd_relay_maps;
static MAPS *snd_transport_maps;

/* in_list - is name an item of the list parameter param? */
static int in_list(const char *param, const char *name)
{
    char   *copy = mystrdup(mail_conf_str(param));
    char   *cp = copy;
    char   *item;
    int     found = 0;

    while ((item = mystrtok(&cp, LIST_DELIMS)) != 0)
	if (strcasecmp(item, name) == 0)
	    found = 1;
    myfree(copy);
    return (found);
}

static void domain_list_add(DOMAIN_LIST *list, const char *param,
			            const char *text, int depth);

/* domain_list_file - the words of a /file/name item */
static void domain_list_file(DOMAIN_LIST *list, const char *param,
			             const char *path, int negate, int depth)
{
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    VSTRING *all = vstring_alloc(100);

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	msg_warn("%s: open %s: %m; the list item is ignored", param, path);
    } else {
	while (vstream_get_line(fp, line, 4096) != VSTREAM_EOF) {
	    char   *cp = vstring_str(line);

	    while (isspace((unsigned char) *cp))
		cp++;
	    char   *word;

	    if (*cp == '#')
		continue;
	    while ((word = mystrtok_list(&cp)) != 0)
		vstring_sprintf_append(all, "%s%s ", negate ? "!" : "", word);
	}
	vstream_close(fp);
    }
    /* With "!/file" every word of the file became an exclusion above. */
    domain_list_add(list, param, vstring_str(all), depth + 1);
    vstring_free(line);
    vstring_free(all);
}

static void domain_list_add(DOMAIN_LIST *list, const char *param,
			            const char *text, int depth)
{
    char   *copy = mystrdup(text);
    char   *cp = copy;
    char   *item;

    if (depth > 10) {
	msg_warn("%s: /file/name items nested too deep", param);
	myfree(copy);
	return;
    }
    while ((item = mystrtok_list(&cp)) != 0) {
	int     negate = 0;

	while (*item == '!') {
	    negate = !negate;
	    item++;
	}
	if (*item == 0)
	    continue;
	if (*item == '/') {
	    domain_list_file(list, param, item, negate, depth);
	    continue;
	}
	list->items = myrealloc(list->items, (list->count + 1) * sizeof(*list->items));
	DOMAIN_ITEM *di = list->items + list->count++;

	di->negate = negate;
	di->pattern = 0;
	di->table = 0;
	if (strchr(item, ':') != 0 && item[0] != '[') {
	    di->table = maps_create(param, item, DICT_FLAG_DEFAULT);
	} else {
	    di->pattern = lowercase(mystrdup(item));
	}
    }
    myfree(copy);
}

static DOMAIN_LIST *domain_list_create(const char *param)
{
    DOMAIN_LIST *list = mycalloc(1, sizeof(*list));

    list->parent = in_list("parent_domain_matches_subdomains", param);
    domain_list_add(list, param, mail_conf_str(param), 0);
    return (list);
}

static void domain_list_free(DOMAIN_LIST *list)
{
    for (size_t i = 0; i < list->count; i++) {
	myfree(list->items[i].pattern);
	if (list->items[i].table)
	    maps_free(list->items[i].table);
    }
    myfree(list->items);
    myfree(list);
}

/* domain_item_match - 1 match, 0 no match, -1 table error */
static int domain_item_match(DOMAIN_LIST *list, DOMAIN_ITEM *di, const char *domain)
{
    const char *parent;

    if (di->pattern) {
	const char *pat = di->pattern;

	if (strcmp(pat, domain) == 0)
	    return (1);
	for (parent = strchr(domain, '.'); parent; parent = strchr(parent + 1, '.')) {
	    if (pat[0] == '.' && strcmp(pat, parent) == 0)
		return (1);
	    if (list->parent && pat[0] != '.' && strcmp(pat, parent + 1) == 0)
		return (1);
	}
	return (0);
    }

    /* A table: the domain itself (any table), then its parents. */
    if (maps_find(di->table, domain, 0) != 0)
	return (1);
    if (di->table->error)
	return (-1);
    VSTRING *key = vstring_alloc(64);
    int     ret = 0;

    for (parent = strchr(domain, '.'); parent && ret == 0; parent = strchr(parent + 1, '.')) {
	vstring_strcpy(key, list->parent ? parent + 1 : parent);
	if (maps_find(di->table, vstring_str(key), MAPS_FIND_FIXED) != 0)
	    ret = 1;
	else if (di->table->error)
	    ret = -1;
    }
    vstring_free(key);
    return (ret);
}

/* domain_list_match - 1 match, 0 no match, -1 table error */
static int domain_list_match(DOMAIN_LIST *list, const char *domain)
{
    for (size_t i = 0; i < list->count; i++) {
	int     m = domain_item_match(list, list->items + i, domain);

	if (m < 0)
	    return (-1);
	if (m > 0)
	    return (list->items[i].negate ? 0 : 1);
    }
    return (0);
}

static MAPS *maps_or_null(const char *param)
{
    const char *value = mail_conf_str(param);

    return (*value ? maps_create(param, value, DICT_FLAG_DEFAULT) : 0);
}

void    resolve_init(void)
{
    if (resolve_ready)
	return;
    relay_domains = domain_list_create("relay_domains");
    transport_maps = maps_or_null("transport_maps");
    snd_relay_maps = maps_or_null("sender_dependent_relayhost_maps");
    snd_transport_maps = maps_or_null("sender_dependent_default_transport_maps");
    resolve_ready = 1;
}

void    resolve_reset(void)
{
    if (!resolve_ready)
	return;
    domain_list_free(relay_domains);
    if (transport_maps)
	maps_free(transport_maps);
    if (snd_relay_maps)
	maps_free(snd_relay_maps);
    if (snd_transport_maps)
	maps_free(snd_transport_maps);
    relay_domains = 0;
    transport_maps = snd_relay_maps = snd_transport_maps = 0;
    resolve_ready = 0;
}

RESOLVE_REPLY *resolve_reply_alloc(void)
{
    RESOLVE_REPLY *r = mymalloc(sizeof(*r));

    r->transport = vstring_alloc(16);
    r->nexthop = vstring_alloc(64);
    r->recipient = vstring_alloc(64);
    r->flags = 0;
    return (r);
}

void    resolve_reply_free(RESOLVE_REPLY *r)
{
    vstring_free(r->transport);
    vstring_free(r->nexthop);
    vstring_free(r->recipient);
    myfree(r);
}

/*
 * split_channel - "transport:nexthop" at the first colon. Returns 1 when
 * there was a colon (nexthop set, maybe empty), 0 when the whole value
 * is a transport name.
 */
static int split_channel(const char *value, VSTRING *transport, VSTRING *nexthop)
{
    const char *colon = strchr(value, ':');

    if (colon == 0) {
	vstring_strcpy(transport, value);
	vstring_reset(nexthop);
	return (0);
    }
    vstring_strncpy(transport, value, colon - value);
    vstring_strcpy(nexthop, colon + 1);
    return (1);
}

/* trim - remove surrounding white space from a VSTRING */
static void trim(VSTRING *s)
{
    char   *copy = mystrdup(vstring_str(s));

    vstring_strcpy(s, trimblanks(copy + strspn(copy, " \t")));
    myfree(copy);
}

int     resolve_addr(const char *sender, const char *rcpt, RESOLVE_REPLY *reply)
{
    VSTRING *domain = vstring_alloc(64);
    VSTRING *chan_tr = vstring_alloc(16);
    VSTRING *chan_nh = vstring_alloc(64);
    const char *at;
    const char *value;
    int     has_nexthop;
    int     ret = RESOLVE_OK;
    int     m;

    resolve_init();
    vstring_strcpy(reply->recipient, rcpt);
    vstring_reset(reply->transport);
    vstring_reset(reply->nexthop);
    reply->flags = 0;
    if (sender == 0)
	sender = "";

    /* The recipient domain, lower case, without a trailing dot. */
    if ((at = strrchr(rcpt, '@')) != 0 && at[1] != 0)
	vstring_strcpy(domain, at + 1);
    else
	vstring_strcpy(domain, mail_conf_str("myorigin"));
    lowercase(vstring_str(domain));
    while (vstring_len(domain) > 1 && vstring_end(domain)[-1] == '.')
	vstring_truncate(domain, vstring_len(domain) - 1);

    /* 1. The address class and its transport. */
    if ((m = domain_list_match(relay_domains, vstring_str(domain))) < 0) {
	msg_warn("relay_domains lookup error for %s", vstring_str(domain));
	ret = RESOLVE_RETRY;
	goto done;
    }
    if (m > 0) {
	reply->flags |= RESOLVE_CLASS_RELAY;
	value = mail_conf_str("relay_transport");
    } else {
	reply->flags |= RESOLVE_CLASS_DEFAULT;
	value = 0;
	if (snd_transport_maps) {
	    value = maps_find_sender(snd_transport_maps, sender);
	    if (value == 0 && snd_transport_maps->error) {
		msg_warn("sender_dependent_default_transport_maps lookup error for <%s>",
			 sender);
		ret = RESOLVE_RETRY;
		goto done;
	    }
	}
	if (value == 0)
	    value = mail_conf_str("default_transport");
    }
    has_nexthop = split_channel(value, chan_tr, chan_nh);
    vstring_strcpy(reply->transport, vstring_str(chan_tr));
    trim(reply->transport);

    /* 2. The nexthop. */
    if (has_nexthop && vstring_len(chan_nh) > 0) {
	vstring_strcpy(reply->nexthop, vstring_str(chan_nh));
    } else {
	value = 0;
	if (snd_relay_maps) {
	    value = maps_find_sender(snd_relay_maps, sender);
	    if (value == 0 && snd_relay_maps->error) {
		msg_warn("sender_dependent_relayhost_maps lookup error for <%s>", sender);
		ret = RESOLVE_RETRY;
		goto done;
	    }
	}
	if (value == 0 || *value == 0)
	    value = mail_conf_str("relayhost");
	vstring_strcpy(reply->nexthop, *value ? value : vstring_str(domain));
    }

    /* 3. transport_maps overrides what it names. */
    if (transport_maps) {
	value = maps_find_transport(transport_maps, rcpt, 0);
	if (value == 0 && transport_maps->error) {
	    msg_warn("transport_maps lookup error for <%s>", rcpt);
	    ret = RESOLVE_RETRY;
	    goto done;
	}
	if (value) {
	    char   *copy = trimblanks(mystrdup(value + strspn(value, " \t")));

	    has_nexthop = split_channel(copy, chan_tr, chan_nh);
	    myfree(copy);
	    reply->flags |= RESOLVE_FLAG_TABLE;
	    if (vstring_len(chan_tr) > 0) {
		vstring_strcpy(reply->transport, vstring_str(chan_tr));
		/* "transport:" resets the nexthop to the recipient domain. */
		vstring_strcpy(reply->nexthop, vstring_len(chan_nh) > 0 ?
			       vstring_str(chan_nh) : vstring_str(domain));
	    } else if (vstring_len(chan_nh) > 0) {
		vstring_strcpy(reply->nexthop, vstring_str(chan_nh));
	    }
	    /* ":" and "" change nothing. */
	}
    }
    if (vstring_len(reply->transport) == 0) {
	msg_warn("empty transport for <%s>; using default_transport", rcpt);
	split_channel(mail_conf_str("default_transport"), reply->transport, chan_nh);
    }

done:
    if (ret != RESOLVE_OK) {
	vstring_reset(reply->transport);
	vstring_reset(reply->nexthop);
    }
    vstring_free(domain);
    vstring_free(chan_tr);
    vstring_free(chan_nh);
    return (ret);
}

int     resolve_split_nexthop(const char *nexthop, VSTRING *host, VSTRING *port,
			              int *no_mx)
{
    const char *cp = nexthop;
    const char *end;

    vstring_reset(host);
    vstring_reset(port);
    *no_mx = 0;
    if (strncasecmp(cp, "inet:", 5) == 0)
	cp += 5;
    if (*cp == '[') {
	if ((end = strchr(cp, ']')) == 0 || end == cp + 1)
	    return (-1);
	vstring_strncpy(host, cp + 1, end - cp - 1);
	*no_mx = 1;
	cp = end + 1;
	if (*cp == ':')
	    vstring_strcpy(port, cp + 1);
	else if (*cp != 0)
	    return (-1);
    } else {
	/* host:port; a bare IPv6 address without brackets is all host. */
	end = strchr(cp, ':');
	if (end && strchr(end + 1, ':') == 0) {
	    vstring_strncpy(host, cp, end - cp);
	    vstring_strcpy(port, end + 1);
	} else {
	    vstring_strcpy(host, cp);
	}
    }
    if (vstring_len(host) == 0)
	return (-1);
    if (*cp && vstring_len(port) == 0 && strchr(cp, ':') && cp[strlen(cp) - 1] == ':')
	return (-1);
    return (0);
}
