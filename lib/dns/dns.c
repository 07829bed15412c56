/*
 * NAME
 *	dns - MX, NS, address and TXT lookups with libldns
 * DESCRIPTION
 *	See dns.h. One resolver per process, created from the configured
 *	resolv.conf at the first query and kept (delivery agents are short
 *	lived; a changed resolv.conf is seen by the next process).
 *
 *	Only the answer section is used: records of the asked type, in
 *	whatever order the server sent them (CNAME chains are followed by
 *	the recursive server; a record of another type is ignored).
 * DIAGNOSTICS
 *	A resolv.conf that cannot be read makes every query DNS_RETRY with
 *	a warning: mail waits, it never bounces for a local problem.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "dns/dns.h"

static char *resolv_conf_path;
static ldns_resolver *resolver;
static int resolver_failed;
static int dnssec_on;			/* DO bit, trust AD (dnssec level) */
static unsigned last_ttl;		/* of dns_query()'s last answer */

void    dns_set_dnssec(int on)
{
    dnssec_on = on;
    if (resolver)
	ldns_resolver_set_dnssec(resolver, on ? true : false);
}

int     dns_dnssec_enabled(void)
{
    return (dnssec_on);
}

void    dns_set_resolv_conf(const char *path)
{
    if (resolv_conf_path)
	myfree(resolv_conf_path);
    resolv_conf_path = (path && *path) ? mystrdup(path) : 0;
    if (resolver) {
	ldns_resolver_deep_free(resolver);
	resolver = 0;
    }
    resolver_failed = 0;
}

/* dns_resolver - the process's resolver, or NULL when it can't be made */
static ldns_resolver *dns_resolver(void)
{
    const char *path = resolv_conf_path ? resolv_conf_path : "/etc/resolv.conf";
    ldns_status st;

    if (resolver || resolver_failed)
	return (resolver);
    if ((st = ldns_resolver_new_frm_file(&resolver, path)) != LDNS_STATUS_OK) {
	msg_warn("cannot use resolver configuration %s: %s",
		 path, ldns_get_errorstr_by_id(st));
	resolver = 0;
	resolver_failed = 1;
	return (0);
    }
    ldns_resolver_set_dnsrch(resolver, false);
    ldns_resolver_set_defnames(resolver, false);
    ldns_resolver_set_retry(resolver, 2);
    ldns_resolver_set_fallback(resolver, true);
    /* DO bit (EDNS0): a validating resolver then sets AD on what it validated. */
    ldns_resolver_set_dnssec(resolver, dnssec_on ? true : false);
    ldns_resolver_set_dnssec_cd(resolver, false);
    return (resolver);
}

/* dns_type_name - for messages */
static const char *dns_type_name(ldns_rr_type type)
{
    switch (type) {
    case LDNS_RR_TYPE_MX:
	return ("MX");
    case LDNS_RR_TYPE_A:
	return ("A");
    case LDNS_RR_TYPE_AAAA:
	return ("AAAA");
    case LDNS_RR_TYPE_TXT:
	return ("TXT");
    case LDNS_RR_TYPE_TLSA:
	return ("TLSA");
    case LDNS_RR_TYPE_NS:
	return ("NS");
    default:
	return ("other");
    }
}

/*
 * dns_answer_ttl - how long an answer may be cached: the smallest TTL
 * of the records of the asked type, or for a negative answer the
 * smaller of the SOA record's TTL and its minimum field (RFC 2308);
 * 0 when the answer says neither.
 */
static unsigned dns_answer_ttl(ldns_pkt *pkt, ldns_rr_type type)
{
    ldns_rr_list *list;
    unsigned ttl = 0;
    int     found = 0;

    if ((list = ldns_pkt_rr_list_by_type(pkt, type, LDNS_SECTION_ANSWER)) != 0) {
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
	    unsigned t = ldns_rr_ttl(ldns_rr_list_rr(list, i));

	    if (!found || t < ttl)
		ttl = t;
	    found = 1;
	}
	ldns_rr_list_deep_free(list);
    }
    if (!found && (list = ldns_pkt_rr_list_by_type(pkt, LDNS_RR_TYPE_SOA,
						   LDNS_SECTION_AUTHORITY)) != 0) {
	if (ldns_rr_list_rr_count(list) > 0) {
	    ldns_rr *soa = ldns_rr_list_rr(list, 0);
	    ldns_rdf *min = ldns_rr_rdf(soa, 6);

	    ttl = ldns_rr_ttl(soa);
	    if (min && ldns_rdf2native_int32(min) < ttl)
		ttl = ldns_rdf2native_int32(min);
	}
	ldns_rr_list_deep_free(list);
    }
    return (ttl);
}

/*
 * dns_query - one query; the answer's records of that type, or a status.
 * *secure (when not NULL): the resolver validated the answer (AD bit, only
 * believed with dnssec lookups on).
 */
static int dns_query(const char *name, ldns_rr_type type,
		             ldns_rr_list **answer, int *secure, VSTRING *why)
{
    ldns_resolver *res = dns_resolver();
    ldns_rdf *dname;
    ldns_pkt *pkt = 0;
    ldns_status st;
    ldns_rr_list *rrs;
    ldns_pkt_rcode rcode;
    VSTRING *abs_name = vstring_alloc(100);
    int     ret;

    *answer = 0;
    if (secure)
	*secure = 0;
    vstring_strcpy(abs_name, name);
    if (vstring_len(abs_name) == 0 || vstring_end(abs_name)[-1] != '.')
	vstring_addch(abs_name, '.');

#define DNS_WHY(text) \
    (why ? (void) vstring_sprintf(why, "Name service error for name=%s type=%s: %s", \
				  name, dns_type_name(type), (text)) : (void) 0)

    if (res == 0) {
	DNS_WHY("Host not found, try again");
	vstring_free(abs_name);
	return (DNS_RETRY);
    }
    if ((dname = ldns_dname_new_frm_str(vstring_str(abs_name))) == 0) {
	DNS_WHY("Host not found");
	vstring_free(abs_name);
	return (DNS_NOTFOUND);
    }
    vstring_free(abs_name);
    st = ldns_resolver_query_status(&pkt, res, dname, type, LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_rdf_deep_free(dname);
    if (st != LDNS_STATUS_OK || pkt == 0) {
	if (pkt)
	    ldns_pkt_free(pkt);
	DNS_WHY("Host not found, try again");
	return (DNS_RETRY);
    }
    rcode = ldns_pkt_get_rcode(pkt);
    last_ttl = dns_answer_ttl(pkt, type);
    if (secure)
	*secure = dnssec_on && ldns_pkt_ad(pkt);
    if (rcode == LDNS_RCODE_NXDOMAIN) {
	DNS_WHY("Host not found");
	ret = DNS_NOTFOUND;
    } else if (rcode != LDNS_RCODE_NOERROR) {
	DNS_WHY("Host not found, try again");
	ret = DNS_RETRY;
    } else if ((rrs = ldns_pkt_rr_list_by_type(pkt, type, LDNS_SECTION_ANSWER)) == 0
	       || ldns_rr_list_rr_count(rrs) == 0) {
	if (rrs)
	    ldns_rr_list_deep_free(rrs);
	DNS_WHY("Host found but no data record of requested type");
	ret = DNS_NODATA;
    } else {
	*answer = rrs;
	ret = DNS_OK;
    }
    ldns_pkt_free(pkt);
    return (ret);
}

/*
 * dns_lookup_rbl - the A records of a DNS list's name, as text, and how
 * long the answer (or the absence of one) may be cached.
 */
int     dns_lookup_rbl(const char *name, ARGV *addrs, unsigned *ttl, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     st;

    last_ttl = 0;
    if ((st = dns_query(name, LDNS_RR_TYPE_A, &rrs, 0, why)) == DNS_OK) {
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	    ldns_rdf *rdf = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
	    char    ip[INET_ADDRSTRLEN];

	    if (rdf && ldns_rdf_size(rdf) == 4
		&& inet_ntop(AF_INET, ldns_rdf_data(rdf), ip, sizeof(ip)))
		argv_add(addrs, ip);
	}
	ldns_rr_list_deep_free(rrs);
    }
    *ttl = last_ttl;
    return (st);
}

/* dns_name_text - a domain name rdf as text without the final dot */
static char *dns_name_text(const ldns_rdf *rdf)
{
    char   *text = ldns_rdf2str(rdf);
    char   *copy;
    size_t  len;

    if (text == 0)
	return (mystrdup(""));
    len = strlen(text);
    if (len > 1 && text[len - 1] == '.')
	len--;
    copy = mystrndup(text, len);
    free(text);
    return (copy);
}

static int dns_mx_compare(const void *a, const void *b)
{
    const DNS_MX *ma = a;
    const DNS_MX *mb = b;

    return (ma->pref - mb->pref);
}

void    dns_mx_sort(DNS_MX_LIST *list)
{
    size_t  start, end, i, j;
    DNS_MX  tmp;

    qsort(list->mx, list->count, sizeof(DNS_MX), dns_mx_compare);

    /* Shuffle each run of equal preference (Fisher-Yates). */
    for (start = 0; start < list->count; start = end) {
	for (end = start + 1; end < list->count
	     && list->mx[end].pref == list->mx[start].pref; end++)
	     /* void */ ;
	for (i = end - 1; i > start; i--) {
	    j = start + (size_t) random() % (i - start + 1);
	    tmp = list->mx[i];
	    list->mx[i] = list->mx[j];
	    list->mx[j] = tmp;
	}
    }
}

int     dns_lookup_mx_answer(const char *name, DNS_MX_LIST *list, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     ret;
    size_t  i;

    if ((ret = dns_query(name, LDNS_RR_TYPE_MX, &rrs, &list->secure, why)) != DNS_OK)
	return (ret);
    for (i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rr *rr = ldns_rr_list_rr(rrs, i);
	ldns_rdf *pref_rdf = ldns_rr_rdf(rr, 0);
	ldns_rdf *host_rdf = ldns_rr_rdf(rr, 1);
	char   *host;

	if (pref_rdf == 0 || host_rdf == 0)
	    continue;
	host = dns_name_text(host_rdf);
	if (ldns_rr_list_rr_count(rrs) == 1 && strcmp(host, ".") == 0) {
	    myfree(host);
	    ldns_rr_list_deep_free(rrs);
	    if (why)
		vstring_sprintf(why, "Domain %s does not accept mail (nullMX)", name);
	    return (DNS_NULLMX);
	}
	if (list->count >= list->cap) {
	    list->cap = list->cap ? 2 * list->cap : 8;
	    list->mx = myrealloc(list->mx, list->cap * sizeof(DNS_MX));
	}
	list->mx[list->count].host = host;
	list->mx[list->count].pref = ldns_rdf2native_int16(pref_rdf);
	list->count++;
    }
    ldns_rr_list_deep_free(rrs);
    return (DNS_OK);
}

int     dns_lookup_mx(const char *name, DNS_MX_LIST *list, VSTRING *why)
{
    int     ret;

    if ((ret = dns_lookup_mx_answer(name, list, why)) == DNS_OK)
	dns_mx_sort(list);
    return (ret);
}

int     dns_lookup_ns(const char *name, ARGV *hosts, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     ret;

    if ((ret = dns_query(name, LDNS_RR_TYPE_NS, &rrs, 0, why)) != DNS_OK)
	return (ret);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rdf *rdf = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);
	char   *host;

	if (rdf == 0)
	    continue;
	host = dns_name_text(rdf);
	argv_add(hosts, host);
	myfree(host);
    }
    ldns_rr_list_deep_free(rrs);
    return (DNS_OK);
}

void    dns_mx_list_free(DNS_MX_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
	myfree(list->mx[i].host);
    myfree(list->mx);
    list->mx = 0;
    list->count = list->cap = 0;
    list->secure = 0;
}

void    dns_addr_list_init(DNS_ADDR_LIST *list)
{
    list->addr = 0;
    list->count = list->cap = 0;
}

void    dns_addr_list_free(DNS_ADDR_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
	myfree(list->addr[i].host);
    myfree(list->addr);
    dns_addr_list_init(list);
}

void    dns_addr_add(DNS_ADDR_LIST *list, const char *host, int pref,
		             int family, const void *addr)
{
    DNS_ADDR *da;

    if (list->count >= list->cap) {
	list->cap = list->cap ? 2 * list->cap : 8;
	list->addr = myrealloc(list->addr, list->cap * sizeof(DNS_ADDR));
    }
    da = list->addr + list->count++;
    memset(da, 0, sizeof(*da));
    da->host = mystrdup(host);
    da->pref = pref;
    da->family = family;
    memcpy(da->addr, addr, family == AF_INET6 ? 16 : 4);
    inet_ntop(family, addr, da->ip, sizeof(da->ip));
}

int     dns_addr_literal(const char *text, int pref, DNS_ADDR_LIST *out)
{
    unsigned char buf[16];

    if (inet_pton(AF_INET, text, buf) == 1) {
	dns_addr_add(out, text, pref, AF_INET, buf);
	return (1);
    }
    if (strncasecmp(text, "ipv6:", 5) == 0)
	text += 5;
    if (inet_pton(AF_INET6, text, buf) == 1) {
	dns_addr_add(out, text, pref, AF_INET6, buf);
	return (1);
    }
    return (0);
}

/* dns_add_rrs - append the A or AAAA records of an answer */
static void dns_add_rrs(DNS_ADDR_LIST *out, const char *host, int pref,
			        ldns_rr_list *rrs, int family, int secure)
{
    size_t  want = (family == AF_INET6 ? 16 : 4);

    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rdf *rdf = ldns_rr_rdf(ldns_rr_list_rr(rrs, i), 0);

	if (rdf && ldns_rdf_size(rdf) == want) {
	    dns_addr_add(out, host, pref, family, ldns_rdf_data(rdf));
	    out->addr[out->count - 1].secure = secure;
	}
    }
}

int     dns_lookup_addr(const char *host, int pref, int families,
			        DNS_ADDR_LIST *out, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     secure;
    int     st4 = DNS_NODATA, st6 = DNS_NODATA;
    size_t  before = out->count;
    VSTRING *why6 = vstring_alloc(100);

    if (dns_addr_literal(host, pref, out)) {
	vstring_free(why6);
	return (DNS_OK);
    }
    if (families & DNS_FAMILY_INET6) {
	if ((st6 = dns_query(host, LDNS_RR_TYPE_AAAA, &rrs, &secure, why6)) == DNS_OK) {
	    dns_add_rrs(out, host, pref, rrs, AF_INET6, secure);
	    ldns_rr_list_deep_free(rrs);
	}
    }
    if ((families & DNS_FAMILY_INET) && st6 != DNS_NOTFOUND) {
	if ((st4 = dns_query(host, LDNS_RR_TYPE_A, &rrs, &secure, why)) == DNS_OK) {
	    dns_add_rrs(out, host, pref, rrs, AF_INET, secure);
	    ldns_rr_list_deep_free(rrs);
	}
    }
    if (out->count > before) {
	vstring_free(why6);
	return (DNS_OK);
    }
    /* Nothing found: report the more hopeful of the two answers. */
    if (why && (!(families & DNS_FAMILY_INET) || st6 == DNS_NOTFOUND
		|| (st6 == DNS_RETRY && st4 != DNS_RETRY)))
	vstring_strcpy(why, vstring_str(why6));
    vstring_free(why6);
    if (st4 == DNS_RETRY || st6 == DNS_RETRY)
	return (DNS_RETRY);
    if (st6 == DNS_NOTFOUND || st4 == DNS_NOTFOUND)
	return (DNS_NOTFOUND);
    return (DNS_NODATA);
}

int     dns_lookup_txt(const char *name, VSTRING *text, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     ret;

    vstring_truncate(text, 0);
    if ((ret = dns_query(name, LDNS_RR_TYPE_TXT, &rrs, 0, why)) != DNS_OK)
	return (ret);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rr *rr = ldns_rr_list_rr(rrs, i);

	if (i > 0)
	    vstring_strcat(text, " / ");
	/* Each string is a length byte and that many bytes. */
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
	    ldns_rdf *rdf = ldns_rr_rdf(rr, j);
	    const uint8_t *data = ldns_rdf_data(rdf);
	    size_t  size = ldns_rdf_size(rdf);

	    if (size > 0 && (size_t) data[0] + 1 <= size)
		vstring_strncat(text, (const char *) data + 1, data[0]);
	}
    }
    ldns_rr_list_deep_free(rrs);
    /* The text ends up in SMTP replies and logs: one printable line. */
    for (char *cp = vstring_str(text); *cp; cp++)
	if ((unsigned char) *cp < ' ' || (unsigned char) *cp >= 127)
	    *cp = '?';
    if (vstring_len(text) > DNS_TXT_MAX)
	vstring_truncate(text, DNS_TXT_MAX);
    return (DNS_OK);
}

int     dns_lookup_mailhost(const char *domain, VSTRING *why)
{
    DNS_MX_LIST mx = {0};
    DNS_ADDR_LIST addr;
    int     st_mx, st_addr;

    st_mx = dns_lookup_mx(domain, &mx, why);
    dns_mx_list_free(&mx);
    if (st_mx == DNS_OK || st_mx == DNS_NULLMX || st_mx == DNS_NOTFOUND)
	return (st_mx);
    dns_addr_list_init(&addr);
    st_addr = dns_lookup_addr(domain, 0, DNS_FAMILY_INET | DNS_FAMILY_INET6,
			      &addr, st_mx == DNS_RETRY ? 0 : why);
    dns_addr_list_free(&addr);
    if (st_addr == DNS_OK)
	return (DNS_OK);
    return (st_mx == DNS_RETRY ? DNS_RETRY : st_addr);
}

/*
 * dns_lookup_txt_list - each TXT record of name as its own string (the
 * record's strings joined, RFC 7208 style), raw bytes kept except NUL.
 */
int     dns_lookup_txt_list(const char *name, ARGV *out, int *secure, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     ret;
    VSTRING *one;

    if ((ret = dns_query(name, LDNS_RR_TYPE_TXT, &rrs, secure, why)) != DNS_OK)
	return (ret);
    one = vstring_alloc(100);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rr *rr = ldns_rr_list_rr(rrs, i);

	vstring_reset(one);
	for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
	    ldns_rdf *rdf = ldns_rr_rdf(rr, j);
	    const uint8_t *data = ldns_rdf_data(rdf);
	    size_t  size = ldns_rdf_size(rdf);

	    if (size > 0 && (size_t) data[0] + 1 <= size)
		for (size_t k = 1; k <= data[0]; k++)
		    vstring_addch(one, data[k] ? (char) data[k] : '?');
	}
	argv_add(out, vstring_str(one));
    }
    vstring_free(one);
    ldns_rr_list_deep_free(rrs);
    return (DNS_OK);
}

void    dns_tlsa_list_free(DNS_TLSA_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
	myfree(list->tlsa[i].data);
    myfree(list->tlsa);
    memset(list, 0, sizeof(*list));
}

int     dns_lookup_tlsa(const char *name, DNS_TLSA_LIST *list, VSTRING *why)
{
    ldns_rr_list *rrs;
    int     ret;

    if ((ret = dns_query(name, LDNS_RR_TYPE_TLSA, &rrs, &list->secure, why)) != DNS_OK)
	return (ret);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
	ldns_rr *rr = ldns_rr_list_rr(rrs, i);
	ldns_rdf *u, *s, *m, *d;
	DNS_TLSA *t;

	/* usage, selector, matching type (one byte each), data (hex) */
	if (ldns_rr_rd_count(rr) != 4
	    || (u = ldns_rr_rdf(rr, 0)) == 0 || ldns_rdf_size(u) != 1
	    || (s = ldns_rr_rdf(rr, 1)) == 0 || ldns_rdf_size(s) != 1
	    || (m = ldns_rr_rdf(rr, 2)) == 0 || ldns_rdf_size(m) != 1
	    || (d = ldns_rr_rdf(rr, 3)) == 0)
	    continue;
	if (list->count >= list->cap) {
	    list->cap = list->cap ? 2 * list->cap : 4;
	    list->tlsa = myrealloc(list->tlsa, list->cap * sizeof(DNS_TLSA));
	}
	t = list->tlsa + list->count++;
	t->usage = ldns_rdf_data(u)[0];
	t->selector = ldns_rdf_data(s)[0];
	t->mtype = ldns_rdf_data(m)[0];
	t->len = ldns_rdf_size(d);
	t->data = mymalloc(t->len ? t->len : 1);
	memcpy(t->data, ldns_rdf_data(d), t->len);
    }
    ldns_rr_list_deep_free(rrs);
    return (DNS_OK);
}
