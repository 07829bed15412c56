/*
 * NAME
 *	smtpd_dnsaccess - access tables for the servers of a DNS name, and
 *	permit_mx_backup
 * SYNOPSIS
 *	#include "smtpd.h"
 *	#include "smtpd_check.h"
 *
 *	void smtpd_dnsaccess_init(void);
 *	int smtpd_dnsaccess(SMTPD_STATE *state, const char *restriction,
 *			    MAPS *maps, int depth, int *result);
 *	int smtpd_dnsaccess_mx_backup(SMTPD_STATE *state);
 * DESCRIPTION
 *	The restrictions of smtpd_check.c that look up, in the DNS, the
 *	servers of a name (the client's verified or unverified host name,
 *	the HELO name, the domain of the sender or recipient) and ask an
 *	access(5) table about them, as Postfix 3.7 does; and
 *	permit_mx_backup. Table results are acted on by smtpd_check.c
 *	(smtpd_chk_lookup(), smtpd_chk_domain_access()).
 *
 *	smtpd_dnsaccess_init() reads inet_protocols (which address
 *	families a server name is looked up in, A before AAAA) and
 *	permit_mx_backup_networks, once per process.
 *
 *	smtpd_dnsaccess() returns 0 when restriction is not one of its
 *	names, else 1 with the restriction's CHK_* result in *result:
 *	check_{client,reverse_client_hostname,helo,sender,recipient}_
 *	{a,mx,ns}_access and check_reverse_client_hostname_access.
 *	Names: the client's verified name (not "unknown"), its unverified
 *	reverse name (not "unknown"), the HELO name, the domain of the
 *	sender or recipient as the client gave it (the text after the last
 *	"@", or the whole address when it has none; not the null sender).
 *	The replies name the client as name[addr] (the reverse name for
 *	the unverified one), the HELO name or the address, with the class
 *	"Client host", "Unverified Client host", "Helo command", "Sender
 *	address" or "Recipient address".
 *
 *	_mx_access: the MX hosts in the order of the DNS answer; a name
 *	without MX records (or that does not exist) is its own MX host,
 *	a null MX has none. _ns_access: the NS hosts; a name without NS
 *	records gets those of its parent domain, then its grandparent's,
 *	and so on. For each server, its name (and parent domains) is
 *	looked up in the table, then each of its addresses (and networks,
 *	by dropping the last octet or IPv6 "part" one at a time).
 *	_a_access: only the addresses of the name itself. An address literal
 *	("[192.0.2.1]", "[IPv6:2001:db8::1]") or a bare address is its own
 *	server's address (no NS servers). The first table entry found
 *	decides, DUNNO included. A result of OK (a number, RELAY, or a
 *	restriction list that permits) is refused: three warnings ("...
 *	returns OK for NAME", "this is not allowed for security reasons",
 *	"use DUNNO instead of OK if you want to make an exception") and
 *	451 4.3.5 Server configuration error, as Postfix.
 *
 *	check_reverse_client_hostname_access is check_client_access with
 *	the unverified reverse name (the address is looked up even when
 *	the name is "unknown"); it refuses OK the same way.
 *
 *	smtpd_dnsaccess_mx_backup() is permit_mx_backup: CHK_OK for a
 *	recipient whose domain is ours (permit_auth_destination), or whose
 *	MX hosts include this host (an address of inet_interfaces or
 *	proxy_interfaces) below the lowest preference: a primary MX host is
 *	not a backup, nor is a domain without MX records, with a null MX,
 *	or an address literal. With permit_mx_backup_networks, each
 *	primary MX host must match it (by name or by every address). An
 *	address with sender-specified routing (user%host@, user!host@,
 *	"user@host"@) is not permitted. DNS lookups that fail for a while
 *	hold a defer_if_reject reply: "450 4.4.4 <rcpt>: Recipient address
 *	rejected: Unable to look up mail exchanger information: Host not
 *	found, try again" (the MX lookup) or "... Unable to look up mail
 *	exchanger host HOST: REASON" (an MX host's addresses).
 *
 *	Server addresses come from the DNS through resolv_conf (lib/dns),
 *	not /etc/hosts as Postfix's getaddrinfo() also reads; failures are
 *	reported in getaddrinfo's words ("Name or service not known", "No
 *	address associated with hostname", "Temporary failure in name
 *	resolution") as Postfix logs them.
 * DIAGNOSTICS
 *	"warning: Unable to look up MX host for DOMAIN: Host not found, try
 *	again", "warning: Unable to look up NS host for NAME: Host not
 *	found", "warning: Unable to look up MX host HOST for Sender address
 *	ADDR: Name or service not known", "warning: numeric domain name in
 *	resource data of MX record for DOMAIN: ADDR": Postfix's lines; the
 *	restriction goes on as if the table had no entry.
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/mail_list.h"
#include "global/addr_class.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "dns/dns.h"
#include "smtpd.h"
#include "smtpd_check.h"

static int families;			/* DNS_FAMILY_* of inet_protocols */
static MATCH_LIST *mx_backup_networks;	/* permit_mx_backup_networks, or NULL */

#define SERVER_A	1		/* the name's own addresses */
#define SERVER_MX	2
#define SERVER_NS	3
#define SERVER_NAME	4		/* check_reverse_client_hostname_access */

#define WHO_CLIENT	1
#define WHO_REVERSE	2
#define WHO_HELO	3
#define WHO_SENDER	4
#define WHO_RCPT	5

static const struct {
    const char *name;
    int     type;			/* SERVER_* */
    int     who;			/* WHO_* */
} restrictions[] = {
    {"check_client_a_access", SERVER_A, WHO_CLIENT},
    {"check_client_mx_access", SERVER_MX, WHO_CLIENT},
    {"check_client_ns_access", SERVER_NS, WHO_CLIENT},
    {"check_reverse_client_hostname_access", SERVER_NAME, WHO_REVERSE},
    {"check_reverse_client_hostname_a_access", SERVER_A, WHO_REVERSE},
    {"check_reverse_client_hostname_mx_access", SERVER_MX, WHO_REVERSE},
    {"check_reverse_client_hostname_ns_access", SERVER_NS, WHO_REVERSE},
    {"check_helo_a_access", SERVER_A, WHO_HELO},
    {"check_helo_mx_access", SERVER_MX, WHO_HELO},
    {"check_helo_ns_access", SERVER_NS, WHO_HELO},
    {"check_sender_a_access", SERVER_A, WHO_SENDER},
    {"check_sender_mx_access", SERVER_MX, WHO_SENDER},
    {"check_sender_ns_access", SERVER_NS, WHO_SENDER},
    {"check_recipient_a_access", SERVER_A, WHO_RCPT},
    {"check_recipient_mx_access", SERVER_MX, WHO_RCPT},
    {"check_recipient_ns_access", SERVER_NS, WHO_RCPT},
    {0, 0, 0},
};

void    smtpd_dnsaccess_init(void)
{
    ARGV   *list = argv_split_list(mail_conf_str(VAR_INET_PROTOCOLS));

    families = 0;
    for (size_t i = 0; i < list->argc; i++) {
	if (strcasecmp(list->argv[i], "all") == 0)
	    families |= DNS_FAMILY_INET | DNS_FAMILY_INET6;
	else if (strcasecmp(list->argv[i], "ipv4") == 0)
	    families |= DNS_FAMILY_INET;
	else if (strcasecmp(list->argv[i], "ipv6") == 0)
	    families |= DNS_FAMILY_INET6;
    }
    argv_free(list);
    if (families == 0)
	families = DNS_FAMILY_INET | DNS_FAMILY_INET6;
    if (*mail_conf_str(VAR_PERMIT_MX_BACKUP_NETWORKS))
	mx_backup_networks = mail_list_create(VAR_PERMIT_MX_BACKUP_NETWORKS);
}

/* dns_text - Postfix's words for a failed DNS query */
static const char *dns_text(int status)
{
    switch (status) {
    case DNS_NOTFOUND:
	return ("Host not found");
    case DNS_NODATA:
	return ("Host found but no data record of requested type");
    default:
	return ("Host not found, try again");
    }
}

/* gai_text - getaddrinfo's words for a failed address lookup */
static const char *gai_text(int status)
{
    switch (status) {
    case DNS_NOTFOUND:
	return ("Name or service not known");
    case DNS_NODATA:
	return ("No address associated with hostname");
    default:
	return ("Temporary failure in name resolution");
    }
}

/* numeric - a bare IPv4 or IPv6 address */
static int numeric(const char *name)
{
    return (valid_ipv4_addr(name) || valid_ipv6_addr(name));
}

/*
 * host_addrs - the addresses of a host name, A records before AAAA
 * records, as getaddrinfo() gives them; DNS_OK or why there are none
 */
static int host_addrs(const char *host, DNS_ADDR_LIST *list)
{
    int     st4 = DNS_NODATA, st6 = DNS_NODATA;

    /* The C library does not ask about a name that is no host name. */
    if (!valid_hostname(host))
	return (DNS_NOTFOUND);
    if (families & DNS_FAMILY_INET)
	st4 = dns_lookup_addr(host, 0, DNS_FAMILY_INET, list, (VSTRING *) 0);
    if ((families & DNS_FAMILY_INET6) && st4 != DNS_NOTFOUND)
	st6 = dns_lookup_addr(host, 0, DNS_FAMILY_INET6, list, (VSTRING *) 0);
    if (list->count > 0)
	return (DNS_OK);
    if (st4 == DNS_RETRY || st6 == DNS_RETRY)
	return (DNS_RETRY);
    if (st4 == DNS_NOTFOUND || st6 == DNS_NOTFOUND)
	return (DNS_NOTFOUND);
    return (DNS_NODATA);
}

/*
 * addr_access - an address, then its networks: "192.0.2.1", "192.0.2",
 * "192.0", "192"; "2001:db8::1", "2001:db8:", "2001:db8", "2001".
 * 1 when the table decided (*ret set).
 */
static int addr_access(SMTPD_STATE *state, MAPS *maps, const char *addr,
		               const char *name, const char *class, int depth,
		               int *ret)
{
    int     delim = strchr(addr, ':') ? ':' : '.';
    char   *copy, *cut;
    int     found;

    if ((found = smtpd_chk_lookup(state, maps, addr, 0, name, class, depth, ret)) != 0)
	return (1);
    copy = mystrdup(addr);
    while (found == 0 && (cut = strrchr(copy, delim)) != 0) {
	*cut = 0;
	found = smtpd_chk_lookup(state, maps, copy, MAPS_FIND_FIXED, name, class, depth, ret);
    }
    myfree(copy);
    return (found != 0);
}

/* literal_addr - the address of "[192.0.2.1]" or "[IPv6:...]", or NULL */
static char *literal_addr(const char *domain)
{
    size_t  len = strlen(domain);
    const char *start = domain + 1;
    char   *addr;

    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
	return (0);
    len -= 2;
    if (len > 5 && strncasecmp(start, "IPv6:", 5) == 0) {
	start += 5;
	len -= 5;
    }
    addr = mystrndup(start, len);
    if (!numeric(addr)) {
	myfree(addr);
	return (0);
    }
    return (addr);
}

/* mx_numeric_warn - Postfix's resolver complains about these */
static void mx_numeric_warn(const char *domain, const char *host)
{
    if (numeric(host))
	msg_warn("numeric domain name in resource data of MX record for %s: %s",
		 domain, host);
}

/* server_hosts - the MX or NS hosts of domain; 0 when there are none */
static int server_hosts(int type, const char *domain, const char *value,
			        ARGV *hosts)
{
    const char *type_name = type == SERVER_MX ? "MX" : "NS";
    const char *d = domain;
    DNS_MX_LIST mx = {0};
    int     st;

    if (type == SERVER_MX) {
	/* Postfix's resolver does not ask about a name that is no name. */
	st = valid_hostname(domain) ? dns_lookup_mx_answer(domain, &mx, (VSTRING *) 0)
	    : DNS_NOTFOUND;
	if (st == DNS_NOTFOUND || st == DNS_NODATA) {
	    argv_add(hosts, domain);		/* its own MX host */
	    return (1);
	}
	if (st == DNS_NULLMX)
	    return (0);
	if (st != DNS_OK) {
	    msg_warn("Unable to look up %s host for %s: %s", type_name, domain, dns_text(st));
	    return (0);
	}
	for (size_t i = 0; i < mx.count; i++) {
	    mx_numeric_warn(domain, mx.mx[i].host);
	    if (strcmp(mx.mx[i].host, ".") != 0)
		argv_add(hosts, mx.mx[i].host);
	}
	dns_mx_list_free(&mx);
	return (hosts->argc > 0);
    }

    /* No NS records: those of the parent domain, and so on up. */
    for (;;) {
	st = valid_hostname(d) ? dns_lookup_ns(d, hosts, (VSTRING *) 0) : DNS_NOTFOUND;
	if (st != DNS_NOTFOUND && st != DNS_NODATA)
	    break;
	if ((d = strchr(d, '.')) == 0 || d[1] == 0) {
	    d = 0;
	    break;
	}
	d++;
    }
    if (st != DNS_OK) {
	msg_warn("Unable to look up %s host for %s: %s", type_name, d ? d : value,
		 dns_text(st));
	return (0);
    }
    for (size_t i = 0; i < hosts->argc; i++)
	if (numeric(hosts->argv[i]))
	    msg_warn("numeric domain name in resource data of NS record for %s: %s",
		     d, hosts->argv[i]);
    return (1);
}

/*
 * server_access - the table entries of the servers of value (a name or
 * an address); 1 when the table decided (*ret set)
 */
static int server_access(SMTPD_STATE *state, MAPS *maps, int type, const char *value,
			         const char *name, const char *class, int depth,
			         int *ret)
{
    const char *domain = strrchr(value, '@') ? strrchr(value, '@') + 1 : value;
    const char *type_name = type == SERVER_MX ? "MX" : "NS";
    ARGV   *hosts;
    char   *addr;
    int     found = 0;

    if (*domain == 0)
	return (0);

    /* An address literal is its own server, without name servers. */
    if (*domain == '[') {
	if (type == SERVER_NS || (addr = literal_addr(domain)) == 0)
	    return (0);
	found = addr_access(state, maps, addr, name, class, depth, ret);
	myfree(addr);
	return (found);
    }
    hosts = argv_alloc(5);
    if (type == SERVER_A)
	argv_add(hosts, domain);
    else if (!server_hosts(type, domain, value, hosts)) {
	argv_free(hosts);
	return (0);
    }
    for (size_t i = 0; !found && i < hosts->argc; i++) {
	const char *host = hosts->argv[i];
	DNS_ADDR_LIST list;
	int     st;

	if (numeric(host)) {
	    found = addr_access(state, maps, host, name, class, depth, ret);
	    continue;
	}
	if (type != SERVER_A
	    && (found = smtpd_chk_domain_access(state, maps, host, name, class, depth, ret)))
	    break;
	dns_addr_list_init(&list);
	if ((st = host_addrs(host, &list)) != DNS_OK) {
	    if (type != SERVER_A)
		msg_warn("Unable to look up %s host %s for %s %s: %s",
			 type_name, host, class, name, gai_text(st));
	}
	for (size_t j = 0; !found && j < list.count; j++)
	    found = addr_access(state, maps, list.addr[j].ip, name, class, depth, ret);
	dns_addr_list_free(&list);
    }
    argv_free(hosts);
    return (found);
}

/*
 * reverse_name_access - check_reverse_client_hostname_access: the
 * unverified name and its parents, the address and its networks
 */
static int reverse_name_access(SMTPD_STATE *state, MAPS *maps, int depth, int *ret)
{
    const char *name = state->reverse_name;

    if (strcmp(name, "unknown") != 0
	&& smtpd_chk_domain_access(state, maps, name, name, "Unverified Client host",
				   depth, ret))
	return (1);
    return (addr_access(state, maps, state->addr, name, "Unverified Client host", depth, ret));
}

int     smtpd_dnsaccess(SMTPD_STATE *state, const char *restriction, MAPS *maps,
			        int depth, int *result)
{
    const char *value, *name, *class;
    int     i;
    int     r = CHK_DUNNO;

    for (i = 0; restrictions[i].name; i++)
	if (strcasecmp(restrictions[i].name, restriction) == 0)
	    break;
    if (restrictions[i].name == 0)
	return (0);

    /* What is looked up, and how the reply names it. */
    switch (restrictions[i].who) {
    case WHO_CLIENT:
	value = strcmp(state->name, "unknown") ? state->name : 0;
	name = state->namaddr;
	class = "Client host";
	break;
    case WHO_REVERSE:
	value = strcmp(state->reverse_name, "unknown") ? state->reverse_name : 0;
	name = state->reverse_name;
	class = "Unverified Client host";
	break;
    case WHO_HELO:
	value = name = state->helo_name;
	class = "Helo command";
	break;
    case WHO_SENDER:
	value = name = state->sender_given ? state->sender_given : state->sender;
	class = "Sender address";
	break;
    default:
	value = name = state->rcpt_given ? state->rcpt_given : state->recipient;
	class = "Recipient address";
	break;
    }
    if (restrictions[i].type == SERVER_NAME) {
	reverse_name_access(state, maps, depth, &r);
	value = state->reverse_name;
    } else if (value != 0 && *value != 0) {
	server_access(state, maps, restrictions[i].type, value, name, class, depth, &r);
    }

    /* A server's name or address is no reason to let a client in. */
    if (r == CHK_OK) {
	msg_warn("restriction %s returns OK for %s", restrictions[i].name, value);
	msg_warn("this is not allowed for security reasons");
	msg_warn("use DUNNO instead of OK if you want to make an exception");
	r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
    }
    *result = r;
    return (1);
}

/*
 * mx_host_own - is an MX host this host: 1 yes, 0 no, -1 its addresses
 * could not be found (a defer_if_reject reply is held)
 */
static int mx_host_own(SMTPD_STATE *state, const char *host, DNS_ADDR_LIST *list)
{
    int     st;

    dns_addr_list_init(list);
    if (numeric(host)) {
	dns_addr_literal(host, 0, list);
    } else if ((st = host_addrs(host, list)) != DNS_OK) {
	smtpd_chk_defer_if(state, state->defer_if_reject, 450, "4.4.4",
			   "<%s>: Recipient address rejected: "
			   "Unable to look up mail exchanger host %s: %s",
			   state->rcpt_given ? state->rcpt_given : state->recipient,
			   host, gai_text(st));
	return (-1);
    }
    for (size_t i = 0; i < list->count; i++)
	if (addr_class_own_addr(list->addr[i].ip) > 0)
	    return (1);
    return (0);
}

/*
 * mx_primary_allowed - permit_mx_backup_networks matches every address of
 * every primary MX host: 1 yes, 0 no, -1 the list could not be read
 */
static int mx_primary_allowed(SMTPD_STATE *state, DNS_MX_LIST *mx)
{
    DNS_ADDR_LIST list;
    int     ok = 1;
    int     m;

    for (size_t i = 0; ok > 0 && i < mx->count && mx->mx[i].pref == mx->mx[0].pref; i++) {
	if (mx_host_own(state, mx->mx[i].host, &list) < 0 || list.count == 0)
	    ok = 0;
	for (size_t j = 0; ok > 0 && j < list.count; j++)
	    if ((m = match_list_client(mx_backup_networks, mx->mx[i].host,
				       list.addr[j].ip)) <= 0)
		ok = m;
	dns_addr_list_free(&list);
    }
    if (ok < 0)
	msg_warn("%s: %s", VAR_PERMIT_MX_BACKUP_NETWORKS,
		 match_list_error(mx_backup_networks));
    return (ok);
}

int     smtpd_dnsaccess_mx_backup(SMTPD_STATE *state)
{
    const char *rcpt = state->rcpt_given ? state->rcpt_given : state->recipient;
    DNS_MX_LIST mx = {0};
    DNS_ADDR_LIST list;
    char   *domain;
    size_t  i;
    int     st, own = 0;

    if (state->recipient == 0)
	return (CHK_DUNNO);
    /* Our own domains: as permit_auth_destination. */
    if ((st = smtpd_chk_auth_destination(state)) < 0)
	return (smtpd_chk_tempfail(state, rcpt));
    if (st == CHK_OK)
	return (CHK_OK);
    if (smtpd_addr_routed(state->recipient))
	return (CHK_DUNNO);
    if ((domain = smtpd_chk_lower_domain(state->recipient)) == 0)
	return (CHK_DUNNO);
    if (*domain == '[' || !valid_hostname(domain)) {
	myfree(domain);
	return (CHK_DUNNO);
    }
    st = dns_lookup_mx(domain, &mx, (VSTRING *) 0);
    for (i = 0; i < mx.count; i++)
	mx_numeric_warn(domain, mx.mx[i].host);
    myfree(domain);
    if (st == DNS_RETRY)
	smtpd_chk_defer_if(state, state->defer_if_reject, 450, "4.4.4",
			   "<%s>: Recipient address rejected: Unable to look up "
			   "mail exchanger information: %s", rcpt, dns_text(st));
    if (st != DNS_OK) {
	dns_mx_list_free(&mx);
	return (CHK_DUNNO);
    }

    /* A primary MX host is not a backup. */
    for (i = 0; own <= 0 && i < mx.count && mx.mx[i].pref == mx.mx[0].pref; i++) {
	own = mx_host_own(state, mx.mx[i].host, &list);
	dns_addr_list_free(&list);
    }
    if (own > 0) {
	dns_mx_list_free(&mx);
	return (CHK_DUNNO);
    }
    for (own = 0; own <= 0 && i < mx.count; i++) {
	own = mx_host_own(state, mx.mx[i].host, &list);
	dns_addr_list_free(&list);
    }
    if (own > 0 && mx_backup_networks && (own = mx_primary_allowed(state, &mx)) < 0) {
	dns_mx_list_free(&mx);
	return (smtpd_chk_tempfail(state, rcpt));
    }
    dns_mx_list_free(&mx);
    return (own > 0 ? CHK_OK : CHK_DUNNO);
}
