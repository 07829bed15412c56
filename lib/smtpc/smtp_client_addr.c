/*
 * NAME
 *	smtp_client_addr - the server addresses for a destination
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	int smtp_addr_find(SMTP_DEST *dest, DNS_ADDR_LIST *out, SMTP_WHY *why,
 *			   int *mx_self);
 * DESCRIPTION
 *	For a destination with MX lookup (a domain nexthop) the MX hosts
 *	in preference order, each with its addresses; with
 *	smtp_randomize_addresses (the default) the hosts and addresses of
 *	equal preference in random order, else in the order of the DNS
 *	answer. Without MX records the domain's own addresses. A host's
 *	addresses come from smtp_host_lookup: "dns", "native" (the
 *	system's resolver: /etc/hosts, nsswitch.conf) or both in the order
 *	given, the second asked for names the first did not find. For
 *	"[host]" (and LMTP inet: destinations) only the host's addresses.
 *	An IP address literal needs no lookup.
 *
 *	The backup MX rule: when one of the MX hosts is this host (its
 *	name is myhostname, or one of its addresses is one of ours:
 *	inet_interfaces, where "all" means every local interface address,
 *	or proxy_interfaces; see addr_class(3)), only hosts strictly
 *	more preferred than the best
 *	of ours are kept. None left: "4.4.4 unable to find primary relay
 *	for X" when we are a backup, "5.4.6 mail for X loops back to
 *	myself" when we are the best MX. So a backup MX never delivers to
 *	itself or to another backup. *mx_self (when not NULL) tells the
 *	caller that we are one of the MX hosts (no fallback relay then).
 *
 *	With smtp_dns_support_level = disabled there is no MX lookup and
 *	addresses come from the system resolver (getaddrinfo), as
 *	Postfix's "native" lookups. dest->mx_secure tells whether the MX
 *	RRset (or its absence) was DNSSEC-validated; "[host]" counts as
 *	validated.
 *
 *	Then smtp_address_preference (ipv4, ipv6: that family first within
 *	each preference; any: as found) and inet_protocols choose the
 *	order and families, and smtp_mx_address_limit cuts the list.
 * DIAGNOSTICS
 *	Returns 0 with at least one address, else -1 with why set: 5.4.4
 *	"Host or domain name not found. Name service error for ..." when
 *	the name does not exist, 4.4.3 for a temporary DNS failure. MX
 *	hosts without addresses: the warning "no MX host for X has a valid
 *	address record" and 5.4.4, or 4.4.4 with
 *	smtp_defer_if_no_mx_address_found, as Postfix.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/addr_class.h"
#include "smtpc/smtp_client.h"

static int own_addr(const DNS_ADDR *a)
{
    /* A list that cannot be read counts as ours: never deliver to ourself. */
    return (addr_class_own_addr(a->ip) != 0);
}

static int own_name(const char *host)
{
    return (strcasecmp(host, mail_conf_str(VAR_MYHOSTNAME)) == 0);
}

/* addr_dns_why - Postfix's wording and status for a failed lookup */
static void addr_dns_why(SMTP_WHY *why, int status, const char *text)
{
    if (status == DNS_RETRY)
	smtp_why_set(why, 0, "4.4.3", "Host or domain name not found. %s", text);
    else if (status == DNS_NULLMX)
	smtp_why_set(why, 0, "5.1.10", "%s", text);
    else
	smtp_why_set(why, 0, "5.4.4", "Host or domain name not found. %s", text);
}

/* addr_native - getaddrinfo() addresses of host, as a DNS_* status */
static int addr_native(const char *host, DNS_ADDR_LIST *out, VSTRING *text)
{
    struct addrinfo hints, *res, *rp;
    int     err;

    if (dns_addr_literal(host, 0, out))
	return (DNS_OK);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = smtp_conf.families == DNS_FAMILY_INET ? AF_INET :
	smtp_conf.families == DNS_FAMILY_INET6 ? AF_INET6 : AF_UNSPEC;
    if ((err = getaddrinfo(host, 0, &hints, &res)) != 0) {
	vstring_sprintf(text, "Name service error for name=%s type=A: %s", host,
			err == EAI_AGAIN ? "Host not found, try again" : "Host not found");
	return (err == EAI_AGAIN ? DNS_RETRY : DNS_NOTFOUND);
    }
    for (rp = res; rp; rp = rp->ai_next) {
	if (rp->ai_family == AF_INET)
	    dns_addr_add(out, host, 0, AF_INET, &((struct sockaddr_in *) rp->ai_addr)->sin_addr);
	else if (rp->ai_family == AF_INET6)
	    dns_addr_add(out, host, 0, AF_INET6,
			 &((struct sockaddr_in6 *) rp->ai_addr)->sin6_addr);
    }
    freeaddrinfo(res);
    if (out->count == 0) {
	vstring_sprintf(text, "Name service error for name=%s type=A: Host not found", host);
	return (DNS_NOTFOUND);
    }
    return (DNS_OK);
}

/*
 * host_addrs - the addresses of host as smtp_host_lookup says: "dns",
 * "native" (getaddrinfo: /etc/hosts, nsswitch.conf), or both in the
 * order given, the next one asked only when a name is not found by the
 * one before.
 */
static int host_addrs(const char *host, int pref, DNS_ADDR_LIST *out, VSTRING *text)
{
    int     st = DNS_NOTFOUND;

    for (int i = 0; i < smtp_conf.host_lookup_count; i++) {
	size_t  before = out->count;

	if (smtp_conf.host_lookup[i] == SMTP_HOST_LOOKUP_DNS) {
	    st = dns_lookup_addr(host, pref, smtp_conf.families, out, text);
	} else {
	    st = addr_native(host, out, text);
	    for (size_t j = before; j < out->count; j++)
		out->addr[j].pref = pref;
	}
	if (st != DNS_NOTFOUND && st != DNS_NODATA)
	    break;
    }
    return (st);
}

/* addr_shuffle - random order within each run of equal preference */
static void addr_shuffle(DNS_ADDR_LIST *list)
{
    size_t  start, end, i, j;
    DNS_ADDR tmp;

    for (start = 0; start < list->count; start = end) {
	for (end = start + 1; end < list->count
	     && list->addr[end].pref == list->addr[start].pref; end++)
	     /* void */ ;
	for (i = end - 1; i > start; i--) {
	    j = start + (size_t) random() % (i - start + 1);
	    tmp = list->addr[i];
	    list->addr[i] = list->addr[j];
	    list->addr[j] = tmp;
	}
    }
}

/* mx_by_pref - ascending preference, answer order kept among equals */
static void mx_by_pref(DNS_MX_LIST *mx)
{
    for (size_t i = 1; i < mx->count; i++) {
	DNS_MX  cur = mx->mx[i];
	size_t  j = i;

	for (; j > 0 && mx->mx[j - 1].pref > cur.pref; j--)
	    mx->mx[j] = mx->mx[j - 1];
	mx->mx[j] = cur;
    }
}

/* addr_order - smtp_address_preference within each MX preference */
static void addr_order(DNS_ADDR_LIST *list)
{
    const char *pref = smtp_conf.address_preference;
    int     first;
    size_t  start, end, i, k;
    DNS_ADDR *tmp;

    if (strcasecmp(pref, "ipv4") == 0)
	first = AF_INET;
    else if (strcasecmp(pref, "ipv6") == 0)
	first = AF_INET6;
    else
	return;
    tmp = mymalloc(sizeof(DNS_ADDR) * (list->count ? list->count : 1));
    for (start = 0; start < list->count; start = end) {
	for (end = start; end < list->count
	     && list->addr[end].pref == list->addr[start].pref; end++)
	     /* void */ ;
	k = 0;
	for (i = start; i < end; i++)
	    if (list->addr[i].family == first)
		tmp[k++] = list->addr[i];
	for (i = start; i < end; i++)
	    if (list->addr[i].family != first)
		tmp[k++] = list->addr[i];
	memcpy(list->addr + start, tmp, k * sizeof(DNS_ADDR));
    }
    myfree(tmp);
}

int     smtp_addr_find(SMTP_DEST *dest, DNS_ADDR_LIST *out, SMTP_WHY *why,
		               int *mx_self)
{
    DNS_MX_LIST mx = {0};
    VSTRING *text = vstring_alloc(100);
    int     st;
    int     soft = 0;
    int     self_pref = -1;
    size_t  i, keep;

    if (mx_self)
	*mx_self = 0;
    /* "[host]" counts as the validated "host. IN MX 0 host." (Postfix). */
    dest->mx_secure = 1;
    /* smtp_dns_support_level = disabled: the system's resolver, no MX. */
    if (smtp_conf.dns_disabled) {
	if ((st = addr_native(dest->host, out, text)) != DNS_OK) {
	    addr_dns_why(why, st, vstring_str(text));
	    vstring_free(text);
	    return (-1);
	}
	vstring_free(text);
	addr_order(out);
	goto limit;
    }
    /* Without MX lookup: the host's own addresses. */
    if (!dest->use_mx || dns_addr_literal(dest->host, 0, out)) {
	if (out->count == 0
	    && (st = host_addrs(dest->host, 0, out, text)) != DNS_OK) {
	    addr_dns_why(why, st, vstring_str(text));
	    vstring_free(text);
	    return (-1);
	}
	vstring_free(text);
	addr_order(out);
	goto limit;
    }
    if (smtp_conf.randomize_addresses) {
	st = dns_lookup_mx(dest->host, &mx, text);
    } else if ((st = dns_lookup_mx_answer(dest->host, &mx, text)) == DNS_OK) {
	mx_by_pref(&mx);
    }
    dest->mx_secure = mx.secure;
    if (st == DNS_NODATA) {
	/* No MX: the domain's own addresses (RFC 5321 implicit MX). */
	if ((st = host_addrs(dest->host, 0, out, text)) != DNS_OK) {
	    addr_dns_why(why, st, vstring_str(text));
	    vstring_free(text);
	    return (-1);
	}
	vstring_free(text);
	addr_order(out);
	goto limit;
    }
    if (st != DNS_OK) {
	addr_dns_why(why, st, vstring_str(text));
	vstring_free(text);
	return (-1);
    }
    for (i = 0; i < mx.count; i++) {
	size_t  before = out->count;

	st = host_addrs(mx.mx[i].host, mx.mx[i].pref, out, text);
	if (st == DNS_RETRY)
	    soft = 1;
	if (own_name(mx.mx[i].host) && (self_pref < 0 || mx.mx[i].pref < self_pref))
	    self_pref = mx.mx[i].pref;
	for (size_t j = before; j < out->count; j++)
	    if (own_addr(out->addr + j) && (self_pref < 0 || out->addr[j].pref < self_pref))
		self_pref = out->addr[j].pref;
    }

    /* The backup MX rule: only hosts more preferred than ourselves. */
    if (mx_self)
	*mx_self = (self_pref >= 0);
    if (self_pref >= 0) {
	for (keep = 0; keep < out->count && out->addr[keep].pref < self_pref; keep++)
	     /* void */ ;
	for (i = keep; i < out->count; i++)
	    myfree(out->addr[i].host);
	out->count = keep;
	if (keep == 0) {
	    if (mx.count > 0 && self_pref <= mx.mx[0].pref)
		smtp_why_set(why, 0, "5.4.6", "mail for %s loops back to myself",
			     dest->host);
	    else
		smtp_why_set(why, 0, "4.4.4", "unable to find primary relay for %s",
			     dest->host);
	    dns_mx_list_free(&mx);
	    vstring_free(text);
	    return (-1);
	}
    }
    if (out->count == 0) {
	msg_warn("no MX host for %s has a valid address record", dest->host);
	smtp_why_set(why, 0, soft ? "4.4.3" : smtp_conf.defer_no_mx_address ? "4.4.4" : "5.4.4",
		     "Host or domain name not found. %s", vstring_str(text));
	dns_mx_list_free(&mx);
	vstring_free(text);
	return (-1);
    }
    dns_mx_list_free(&mx);
    vstring_free(text);
    if (smtp_conf.randomize_addresses)
	addr_shuffle(out);
    addr_order(out);

limit:
    if (smtp_conf.mx_address_limit > 0 && out->count > (size_t) smtp_conf.mx_address_limit) {
	for (i = smtp_conf.mx_address_limit; i < out->count; i++)
	    myfree(out->addr[i].host);
	out->count = smtp_conf.mx_address_limit;
    }
    return (0);
}
