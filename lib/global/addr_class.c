/*
 * NAME
 *	addr_class - Postfix's address classes: which class a domain is in
 * DESCRIPTION
 *	See addr_class.h. The state is one per process: the three domain
 *	lists (mail_list(3), so /file/name and type:table items work and
 *	parent_domain_matches_subdomains is honoured), the addresses of
 *	inet_interfaces and proxy_interfaces in binary form, and the last
 *	answer.
 * BUGS
 *	XXX An address of proxy_interfaces that inet_protocols does not
 *	enable is left out; Postfix refuses to start its resolver then
 *	("host not found").
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/addr_class.h"

/* One address of this host, as the bytes of an in_addr or in6_addr. */
typedef struct AC_ADDR {
    int     family;
    unsigned char bytes[16];
} AC_ADDR;

typedef struct AC_ADDR_LIST {
    const char *param;			/* VAR_INET_INTERFACES ... */
    AC_ADDR *addrs;
    size_t  count;
    int     error;			/* a host name did not resolve */
} AC_ADDR_LIST;

static int ac_ready;
static MATCH_LIST *ac_mydest;		/* mydestination */
static MATCH_LIST *ac_alias;		/* virtual_alias_domains */
static MATCH_LIST *ac_relay;		/* relay_domains */
static AC_ADDR_LIST ac_inet = {VAR_INET_INTERFACES, 0, 0, 0};
static AC_ADDR_LIST ac_proxy = {VAR_PROXY_INTERFACES, 0, 0, 0};
static char *ac_myorigin;		/* lower case, no trailing dot */

/* The last answer (never a failure: that is asked again). */
static char *ac_last_domain;
static ADDR_CLASS_INFO ac_last_info;

/* ac_family_enabled - inet_protocols: all, ipv4, ipv6 */

static int ac_family_enabled(int family)
{
    ARGV   *list = argv_split_list(mail_conf_str(VAR_INET_PROTOCOLS));
    int     v4 = 0, v6 = 0;

    for (size_t i = 0; i < list->argc; i++) {
	if (strcasecmp(list->argv[i], "all") == 0)
	    v4 = v6 = 1;
	else if (strcasecmp(list->argv[i], "ipv4") == 0)
	    v4 = 1;
	else if (strcasecmp(list->argv[i], "ipv6") == 0)
	    v6 = 1;
    }
    argv_free(list);
    if (!v4 && !v6)
	v4 = v6 = 1;
    return (family == AF_INET ? v4 : v6);
}

/* ac_addr_add - one address, when its family is enabled */

static void ac_addr_add(AC_ADDR_LIST *list, int family, const void *bytes)
{
    AC_ADDR *a;

    if (!ac_family_enabled(family))
	return;
    list->addrs = myrealloc(list->addrs, (list->count + 1) * sizeof(*list->addrs));
    a = list->addrs + list->count++;
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->bytes, bytes, family == AF_INET ? 4 : 16);
}

/* ac_addr_add_sockaddr - the address of a struct sockaddr, if inet */

static void ac_addr_add_sockaddr(AC_ADDR_LIST *list, const struct sockaddr *sa)
{
    if (sa == 0)
	return;
    if (sa->sa_family == AF_INET)
	ac_addr_add(list, AF_INET, &((const struct sockaddr_in *) sa)->sin_addr);
    else if (sa->sa_family == AF_INET6)
	ac_addr_add(list, AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr);
}

/* ac_addr_parse - a numeric address in binary form; 0 when not one */

static int ac_addr_parse(const char *text, AC_ADDR *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, text, a->bytes) == 1)
	a->family = AF_INET;
    else if (inet_pton(AF_INET6, text, a->bytes) == 1)
	a->family = AF_INET6;
    return (a->family != 0);
}

/* ac_addr_list_init - the addresses an inet_interfaces-style list names */

static void ac_addr_list_init(AC_ADDR_LIST *list)
{
    ARGV   *items = argv_split_list(mail_conf_str(list->param));
    struct ifaddrs *ifa, *ifp;
    struct addrinfo hints, *res, *rp;
    AC_ADDR a;

    for (size_t i = 0; i < items->argc; i++) {
	char   *item = items->argv[i];
	size_t  len = strlen(item);
	int     err;

	if (strcasecmp(item, "all") == 0) {
	    if (getifaddrs(&ifa) < 0) {
		msg_warn("%s: getifaddrs: %m", list->param);
		list->error = 1;
		continue;
	    }
	    for (ifp = ifa; ifp; ifp = ifp->ifa_next)
		ac_addr_add_sockaddr(list, ifp->ifa_addr);
	    freeifaddrs(ifa);
	    continue;
	}
	if (strcasecmp(item, "loopback-only") == 0) {
	    (void) ac_addr_parse("127.0.0.1", &a);
	    ac_addr_add(list, a.family, a.bytes);
	    (void) ac_addr_parse("::1", &a);
	    ac_addr_add(list, a.family, a.bytes);
	    continue;
	}
	if (len > 2 && item[0] == '[' && item[len - 1] == ']') {
	    item[len - 1] = 0;
	    item++;
	}
	if (ac_addr_parse(item, &a)) {
	    ac_addr_add(list, a.family, a.bytes);
	    continue;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((err = getaddrinfo(item, 0, &hints, &res)) != 0) {
	    msg_warn("%s: host not found: %s: %s", list->param, item, gai_strerror(err));
	    list->error = 1;
	    continue;
	}
	for (rp = res; rp; rp = rp->ai_next)
	    ac_addr_add_sockaddr(list, rp->ai_addr);
	freeaddrinfo(res);
    }
    argv_free(items);
}

/* ac_addr_list_has - 1, 0, or -1 when the list is incomplete */

static int ac_addr_list_has(const AC_ADDR_LIST *list, const AC_ADDR *a)
{
    for (size_t i = 0; i < list->count; i++)
	if (list->addrs[i].family == a->family
	    && memcmp(list->addrs[i].bytes, a->bytes, a->family == AF_INET ? 4 : 16) == 0)
	    return (1);
    return (list->error ? -1 : 0);
}

static void ac_addr_list_free(AC_ADDR_LIST *list)
{
    if (list->addrs)
	myfree(list->addrs);
    list->addrs = 0;
    list->count = 0;
    list->error = 0;
}

/* ac_lower_domain - lower case copy without one trailing dot */

static char *ac_lower_domain(const char *domain)
{
    char   *copy = lowercase(mystrdup(domain));
    size_t  len = strlen(copy);

    if (len > 1 && copy[len - 1] == '.' && copy[len - 2] != '.')
	copy[len - 1] = 0;
    return (copy);
}

void    addr_class_init(void)
{
    if (ac_ready)
	return;
    ac_mydest = mail_list_create(VAR_MYDESTINATION);
    ac_alias = mail_list_create(VAR_VIRTUAL_ALIAS_DOMAINS);
    ac_relay = mail_list_create(VAR_RELAY_DOMAINS);
    ac_addr_list_init(&ac_inet);
    ac_addr_list_init(&ac_proxy);
    ac_myorigin = ac_lower_domain(mail_conf_str(VAR_MYORIGIN));
    ac_ready = 1;
}

void    addr_class_reset(void)
{
    if (!ac_ready)
	return;
    match_list_free(ac_mydest);
    match_list_free(ac_alias);
    match_list_free(ac_relay);
    ac_mydest = ac_alias = ac_relay = 0;
    ac_addr_list_free(&ac_inet);
    ac_addr_list_free(&ac_proxy);
    myfree(ac_myorigin);
    ac_myorigin = 0;
    if (ac_last_domain)
	myfree(ac_last_domain);
    ac_last_domain = 0;
    ac_ready = 0;
}

/* ac_list_match - a domain list; failures are logged */

static int ac_list_match(MATCH_LIST *list, const char *domain)
{
    int     m;

    if ((m = match_list_domain(list, domain)) < 0)
	msg_warn("%s", match_list_error(list));
    return (m);
}

/*
 * ac_literal - is the domain an address literal of this host: the
 * parameter that says so, NULL when not, or "" when the answer is
 * unknown (an interface host name did not resolve).
 */
static const char *ac_literal(const char *domain)
{
    size_t  len = strlen(domain);
    char   *text;
    const char *addr;
    AC_ADDR a;
    int     ok;
    const char *ret = 0;

    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
	return (0);
    text = mystrndup(domain + 1, len - 2);
    if (strncasecmp(text, "ipv6:", 5) == 0) {
	addr = text + 5;
	ok = inet_pton(AF_INET6, addr, a.bytes) == 1;
	a.family = AF_INET6;
    } else {
	addr = text;
	ok = inet_pton(AF_INET, addr, a.bytes) == 1;
	a.family = AF_INET;
    }
    if (ok) {
	int     inet = ac_addr_list_has(&ac_inet, &a);
	int     proxy = ac_addr_list_has(&ac_proxy, &a);

	if (inet > 0)
	    ret = VAR_INET_INTERFACES;
	else if (proxy > 0)
	    ret = VAR_PROXY_INTERFACES;
	else if (inet < 0 || proxy < 0)
	    ret = "";
    }
    myfree(text);
    return (ret);
}

/*
 * ac_local - the local class: the parameter that puts the domain in it,
 * NULL when none does, "" when the answer is unknown.
 */
static const char *ac_local(const char *domain)
{
    int     m;

    if ((m = ac_list_match(ac_mydest, domain)) > 0)
	return (VAR_MYDESTINATION);
    if (m < 0)
	return ("");
    return (ac_literal(domain));
}

/* ac_decide - the class of a normalized domain, without the cache */

static int ac_decide(const char *domain, ADDR_CLASS_INFO *info)
{
    const char *param;
    int     m;

    info->domain_param = 0;
    if (*domain == 0) {
	info->class = ADDR_CLASS_DEFAULT;
    } else if ((param = ac_local(domain)) != 0) {
	if (*param == 0)
	    return (info->class = ADDR_CLASS_RETRY);
	info->class = ADDR_CLASS_LOCAL;
	info->domain_param = param;
	if (match_list_domain(ac_alias, domain) > 0)
	    msg_warn("do not list domain %s in BOTH %s and %s",
		     domain, VAR_MYDESTINATION, VAR_VIRTUAL_ALIAS_DOMAINS);
    } else if ((m = ac_list_match(ac_alias, domain)) != 0) {
	if (m < 0)
	    return (info->class = ADDR_CLASS_RETRY);
	info->class = ADDR_CLASS_ALIAS;
	info->domain_param = VAR_VIRTUAL_ALIAS_DOMAINS;
	if (match_list_domain(ac_relay, domain) > 0)
	    msg_warn("do not list domain %s in BOTH %s and %s",
		     domain, VAR_VIRTUAL_ALIAS_DOMAINS, VAR_RELAY_DOMAINS);
    } else if ((m = ac_list_match(ac_relay, domain)) != 0) {
	if (m < 0)
	    return (info->class = ADDR_CLASS_RETRY);
	info->class = ADDR_CLASS_RELAY;
	info->domain_param = VAR_RELAY_DOMAINS;
    } else {
	info->class = ADDR_CLASS_DEFAULT;
    }
    info->rcpt_param = addr_class_rcpt_param(info->class);
    return (info->class);
}

int     addr_class_domain(const char *domain, ADDR_CLASS_INFO *info)
{
    ADDR_CLASS_INFO dummy;
    char   *key;

    addr_class_init();
    if (info == 0)
	info = &dummy;
    key = ac_lower_domain(domain);
    if (ac_last_domain && strcmp(ac_last_domain, key) == 0) {
	*info = ac_last_info;
	myfree(key);
	return (info->class);
    }
    if (ac_decide(key, info) == ADDR_CLASS_RETRY) {
	info->domain_param = info->rcpt_param = 0;
	myfree(key);
	return (ADDR_CLASS_RETRY);
    }
    if (ac_last_domain)
	myfree(ac_last_domain);
    ac_last_domain = key;
    ac_last_info = *info;
    return (info->class);
}

int     addr_class_addr(const char *addr, ADDR_CLASS_INFO *info)
{
    const char *at = strrchr(addr, '@');

    addr_class_init();
    return (addr_class_domain(at && at[1] ? at + 1 : ac_myorigin, info));
}

int     addr_class_listed(int class, const char *domain)
{
    char   *key;
    const char *param;
    int     m = -1;

    addr_class_init();
    key = ac_lower_domain(domain);
    switch (class) {
    case ADDR_CLASS_LOCAL:
	m = (param = ac_local(key)) == 0 ? 0 : *param ? 1 : -1;
	break;
    case ADDR_CLASS_ALIAS:
	m = ac_list_match(ac_alias, key);
	break;
    case ADDR_CLASS_RELAY:
	m = ac_list_match(ac_relay, key);
	break;
    default:
	msg_panic("addr_class_listed: bad class %d", class);
    }
    myfree(key);
    return (m);
}

int     addr_class_bare_user(const char *domain)
{
    char   *key;
    const char *param;
    int     m;

    /*
     * Only the local question: a relay_domains that cannot be read does
     * not stop a virtual alias lookup of a local address.
     */
    addr_class_init();
    key = ac_lower_domain(domain);
    if (strcmp(key, ac_myorigin) == 0)
	m = 1;
    else if (ac_last_domain && strcmp(ac_last_domain, key) == 0)
	m = (ac_last_info.class == ADDR_CLASS_LOCAL);
    else
	m = (param = ac_local(key)) == 0 ? 0 : *param ? 1 : -1;
    myfree(key);
    return (m);
}

/* ac_addr_numeric - a numeric address, IPv4-mapped IPv6 as IPv4; 0: not one */
static int ac_addr_numeric(const char *addr, AC_ADDR *a)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!ac_addr_parse(addr, a))
	return (0);
    /* A client's IPv4 address may come as ::ffff:a.b.c.d. */
    if (a->family == AF_INET6 && memcmp(a->bytes, v4mapped, sizeof(v4mapped)) == 0) {
	memmove(a->bytes, a->bytes + 12, 4);
	memset(a->bytes + 4, 0, 12);
	a->family = AF_INET;
    }
    return (1);
}

int     addr_class_interface(const char *addr)
{
    AC_ADDR a;

    addr_class_init();
    if (!ac_addr_numeric(addr, &a))
	return (0);
    return (ac_addr_list_has(&ac_inet, &a));
}

int     addr_class_own_addr(const char *addr)
{
    AC_ADDR a;
    int     inet;

    addr_class_init();
    if (!ac_addr_numeric(addr, &a))
	return (0);
    if ((inet = ac_addr_list_has(&ac_inet, &a)) > 0)
	return (1);
    switch (ac_addr_list_has(&ac_proxy, &a)) {
    case 1:
	return (1);
    case 0:
	return (inet);
    default:
	return (-1);
    }
}

const char *addr_class_name(int class)
{
    switch (class) {
    case ADDR_CLASS_LOCAL:
	return ("local");
    case ADDR_CLASS_ALIAS:
	return ("virtual alias");
    case ADDR_CLASS_RELAY:
	return ("relay");
    case ADDR_CLASS_DEFAULT:
	return ("default");
    default:
	return ("unknown");
    }
}

const char *addr_class_rcpt_param(int class)
{
    switch (class) {
    case ADDR_CLASS_LOCAL:
	return (VAR_LOCAL_RECIPIENT_MAPS);
    case ADDR_CLASS_ALIAS:
	return (VAR_VIRTUAL_ALIAS_MAPS);
    case ADDR_CLASS_RELAY:
	return (VAR_RELAY_RECIPIENT_MAPS);
    default:
	return (0);
    }
}
