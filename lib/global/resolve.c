/*
 * NAME
 *	resolve - route a recipient to (transport, nexthop, recipient)
 * SYNOPSIS
 *	See resolve.h.
 * DESCRIPTION
 *	The parameters are read once by resolve_init() (qmgr calls it
 *	after the skeleton read main.cf); tables are opened then too. The
 *	address class is addr_class(3)'s answer.
 *	Domains of the local class (mydestination, address literals of
 *	this host) go to local_transport.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_addr_find.h"
#include "util/htable.h"
#include "dict/match_list.h"
#include "global/mail_list.h"
#include "global/addr_class.h"
#include "global/addr_canon.h"
#include "global/resolve.h"

static int resolve_ready;
static HTABLE *other_lists;		/* resolve_domain_match(), by name */
static MAPS *transport_maps;
static MAPS *snd_relay_maps;
static MAPS *snd_transport_maps;
static ADDR_CANON *canon;		/* canonical form of a routed local part */
static int null_domain;			/* resolve_null_domain */

/* domain_list_create - a domain-list parameter, as match_list(3) reads it */
static MATCH_LIST *domain_list_create(const char *param)
{
    return (mail_list_create(param));
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
    addr_class_init();
    transport_maps = maps_or_null(VAR_TRANSPORT_MAPS);
    snd_relay_maps = maps_or_null(VAR_SENDER_DEPENDENT_RELAYHOST_MAPS);
    snd_transport_maps = maps_or_null(VAR_SENDER_DEPENDENT_DEFAULT_TRANSPORT_MAPS);
    canon = addr_canon_create();
    null_domain = mail_conf_bool(VAR_RESOLVE_NULL_DOMAIN);
    resolve_ready = 1;
}

void    resolve_reset(void)
{
    addr_class_reset();
    if (!resolve_ready)
	return;
    if (transport_maps)
	maps_free(transport_maps);
    if (snd_relay_maps)
	maps_free(snd_relay_maps);
    if (snd_transport_maps)
	maps_free(snd_transport_maps);
    if (other_lists) {
	htable_free(other_lists, (void (*) (void *)) match_list_free);
	other_lists = 0;
    }
    transport_maps = snd_relay_maps = snd_transport_maps = 0;
    addr_canon_free(canon);
    canon = 0;
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

/* addr_domain - the domain of an address, lower case, no trailing dot */
static void addr_domain(const char *addr, VSTRING *domain)
{
    const char *at;

    if ((at = strrchr(addr, '@')) != 0 && at[1] != 0)
	vstring_strcpy(domain, at + 1);
    else if (at != 0 && null_domain)
	vstring_strcpy(domain, mail_conf_str(VAR_MYHOSTNAME));
    else
	vstring_strcpy(domain, mail_conf_str(VAR_MYORIGIN));
    lowercase(vstring_str(domain));
    while (vstring_len(domain) > 1 && vstring_end(domain)[-1] == '.')
	vstring_truncate(domain, vstring_len(domain) - 1);
}

/*
 * strip_local - Postfix's resolver: while the domain is local and the
 * local part still routes ("user@other"@here, user%other@here,
 * other!user@here), drop the local domain and take the local part in
 * canonical form as the address. -1 when a domain list failed.
 */
static int strip_local(VSTRING *addr, VSTRING *domain)
{
    const char *at;
    int     class;

    for (int n = 0; n < 100; n++) {
	addr_domain(vstring_str(addr), domain);
	if ((at = strrchr(vstring_str(addr), '@')) == 0
	    || !addr_canon_routed(canon, vstring_str(addr), at - vstring_str(addr)))
	    return (0);
	if ((class = addr_class_domain(vstring_str(domain), (ADDR_CLASS_INFO *) 0))
	    == ADDR_CLASS_RETRY)
	    return (-1);
	if (class != ADDR_CLASS_LOCAL)
	    return (0);
	vstring_truncate(addr, at - vstring_str(addr));
	addr_canon(canon, addr, (char *) 0);
    }
    return (0);
}

int     resolve_addr(const char *sender, const char *rcpt, RESOLVE_REPLY *reply)
{
    VSTRING *domain = vstring_alloc(64);
    VSTRING *chan_tr = vstring_alloc(16);
    VSTRING *chan_nh = vstring_alloc(64);
    const char *value;
    int     has_nexthop;
    int     explicit_nexthop;
    int     ret = RESOLVE_OK;
    int     class;

    resolve_init();
    vstring_strcpy(reply->recipient, rcpt);
    vstring_reset(reply->transport);
    vstring_reset(reply->nexthop);
    reply->flags = 0;
    if (sender == 0)
	sender = "";

    /* The final address and its domain (lower case, no trailing dot). */
    if (strip_local(reply->recipient, domain) < 0) {
	ret = RESOLVE_RETRY;
	goto done;
    }
    rcpt = vstring_str(reply->recipient);

    /* The address class (its lists log their own failures). */
    if ((class = addr_class_domain(vstring_str(domain), (ADDR_CLASS_INFO *) 0))
	== ADDR_CLASS_RETRY) {
	ret = RESOLVE_RETRY;
	goto done;
    }

    /*
     * 0. An address of a virtual alias domain that is still here had no
     * alias (smtpd expands the others before queueing): it bounces.
     */
    if (class == ADDR_CLASS_ALIAS) {
	reply->flags |= RESOLVE_CLASS_ALIAS;
	vstring_strcpy(reply->transport, "error");
	vstring_strcpy(reply->nexthop, "5.1.1 User unknown in virtual alias table");
	goto done;
    }

    /*
     * 1. The class's transport. A local domain goes to local_transport
     * (nexthop as written there, else the domain), and never to another
     * host under that name; transport_maps may still say otherwise.
     */
    if (class == ADDR_CLASS_LOCAL) {
	reply->flags |= RESOLVE_CLASS_LOCAL;
	has_nexthop = split_channel(mail_conf_str(VAR_LOCAL_TRANSPORT), chan_tr, chan_nh);
	vstring_strcpy(reply->transport, vstring_str(chan_tr));
	trim(reply->transport);
	trim(chan_nh);
	explicit_nexthop = has_nexthop && vstring_len(chan_nh) > 0;
	vstring_strcpy(reply->nexthop, explicit_nexthop ?
		       vstring_str(chan_nh) : vstring_str(domain));
	goto table;
    }
    if (class == ADDR_CLASS_RELAY) {
	reply->flags |= RESOLVE_CLASS_RELAY;
	value = mail_conf_str(VAR_RELAY_TRANSPORT);
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
	    value = mail_conf_str(VAR_DEFAULT_TRANSPORT);
    }
    has_nexthop = split_channel(value, chan_tr, chan_nh);
    vstring_strcpy(reply->transport, vstring_str(chan_tr));
    trim(reply->transport);

    /* 2. The nexthop. */
    if ((explicit_nexthop = has_nexthop && vstring_len(chan_nh) > 0) != 0) {
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
	    value = mail_conf_str(VAR_RELAYHOST);
	vstring_strcpy(reply->nexthop, *value ? value : vstring_str(domain));
    }

    /* 3. transport_maps overrides what it names. */
table:
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
		explicit_nexthop = vstring_len(chan_nh) > 0;
	    } else if (vstring_len(chan_nh) > 0) {
		vstring_strcpy(reply->nexthop, vstring_str(chan_nh));
		explicit_nexthop = 1;
	    }
	    /* ":" and "" change nothing. */
	}
    }
    if (vstring_len(reply->transport) == 0) {
	msg_warn("empty transport for <%s>; using default_transport", rcpt);
	split_channel(mail_conf_str(VAR_DEFAULT_TRANSPORT), reply->transport, chan_nh);
    }
    /* "error:" and "retry:" without text have none: not the domain. */
    if (!explicit_nexthop && (strcmp(vstring_str(reply->transport), "error") == 0
			      || strcmp(vstring_str(reply->transport), "retry") == 0))
	vstring_reset(reply->nexthop);

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

int     resolve_domain_match(const char *param, const char *domain)
{
    MATCH_LIST *list;
    char   *key;
    int     ret;

    resolve_init();
    if (other_lists == 0)
	other_lists = htable_create(4);
    if ((list = htable_find(other_lists, param)) == 0) {
	list = domain_list_create(param);
	htable_enter(other_lists, param, list);
    }
    key = lowercase(mystrdup(domain));
    ret = match_list_domain(list, key);
    myfree(key);
    return (ret);
}
