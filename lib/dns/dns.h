/*
 * NAME
 *	dns - MX, NS, address and TXT lookups with libldns
 * SYNOPSIS
 *	void dns_set_resolv_conf(const char *path);
 *
 *	int dns_lookup_mx(const char *name, DNS_MX_LIST *list, VSTRING *why);
 *	int dns_lookup_mx_answer(const char *name, DNS_MX_LIST *list,
 *				 VSTRING *why);
 *	int dns_lookup_ns(const char *name, ARGV *hosts, VSTRING *why);
 *	void dns_mx_sort(DNS_MX_LIST *list);
 *	void dns_mx_list_free(DNS_MX_LIST *list);
 *
 *	int dns_lookup_addr(const char *host, int pref, int families,
 *			    DNS_ADDR_LIST *out, VSTRING *why);
 *	int dns_addr_literal(const char *text, int pref, DNS_ADDR_LIST *out);
 *	void dns_addr_list_init(DNS_ADDR_LIST *list);
 *	void dns_addr_list_free(DNS_ADDR_LIST *list);
 *	void dns_addr_add(DNS_ADDR_LIST *list, const char *host, int pref,
 *			  int family, const void *addr);
 *
 *	int dns_lookup_txt(const char *name, VSTRING *text, VSTRING *why);
 *	int dns_lookup_rbl(const char *name, ARGV *addrs, unsigned *ttl,
 *			   VSTRING *why);
 *	int dns_rbl_filter_match(const char *filter,
 *				 const unsigned char *addr);
 *	int dns_lookup_mailhost(const char *domain, VSTRING *why);
 *
 *	void dns_set_dnssec(int on);
 *	int dns_dnssec_enabled(void);
 *	int dns_lookup_tlsa(const char *name, DNS_TLSA_LIST *list, VSTRING *why);
 *	void dns_tlsa_list_free(DNS_TLSA_LIST *list);
 *	int dns_lookup_txt_list(const char *name, ARGV *out, int *secure,
 *				VSTRING *why);
 * DESCRIPTION
 *	The resolver reads the file named by dns_set_resolv_conf() (the
 *	resolv_conf parameter, ours; default /etc/resolv.conf) when the
 *	first query is made. Names are queried as absolute names: no
 *	search list, no default domain, as Postfix's SMTP client does.
 *
 *	dns_lookup_mx() appends the MX records of name to list, in the
 *	order of dns_mx_sort(): ascending preference, random order among
 *	equal preferences. A null MX (RFC 7505, "0 .") is reported as
 *	DNS_NULLMX. dns_lookup_mx_answer() is the same without the
 *	sorting: the records in the order of the answer (Postfix's
 *	check_*_mx_access restrictions go through them in that order).
 *
 *	dns_lookup_ns() appends the names of the NS records of name to
 *	hosts (no trailing dot), in the order of the answer.
 *
 *	dns_lookup_addr() appends the A (families & DNS_FAMILY_INET) and
 *	AAAA (DNS_FAMILY_INET6) addresses of host, labelled with host and
 *	pref. dns_addr_literal() does the same for an IPv4 or IPv6 address
 *	written as text (without brackets), without a query.
 *
 *	dns_lookup_txt() puts the text of the TXT records of name into
 *	text: the strings of one record joined together, records
 *	separated by " / " (as Postfix shows them in rbl_reason), made
 *	one printable line ('?' for control and 8-bit bytes) of at most
 *	DNS_TXT_MAX bytes: it ends up in SMTP replies.
 *
 *	dns_lookup_rbl() appends the A records of name (a DNS list
 *	query, "2.0.0.127.zen.example") to addrs as dotted quads and sets
 *	ttl to how long the answer may be cached: the smallest TTL of the
 *	records, or for NXDOMAIN and NODATA the negative caching time of
 *	the SOA record in the answer (RFC 2308; 0 without one).
 *
 *	dns_rbl_filter_match() says whether a DNS list answer (4 bytes)
 *	matches a filter of the "domain=filter" form of
 *	reject_rbl_client and postscreen_dnsbl_sites: four dot-separated
 *	parts, each a number or "[a..b;c;...]" (values and ranges): 1
 *	match, 0 no match, -1 malformed filter.
 *
 *	dns_lookup_mailhost() asks whether domain can receive mail: an MX
 *	record, else an A or AAAA record. DNS_OK when one exists,
 *	DNS_NULLMX for a null MX, DNS_RETRY when a temporary error left
 *	the question open, else DNS_NOTFOUND or DNS_NODATA.
 *
 *	DNSSEC: dns_set_dnssec(1) (smtp_dns_support_level = dnssec) makes
 *	every query ask with the DO bit (EDNS0), and an answer counts as
 *	validated when the resolver set the AD bit. We do not validate:
 *	as Postfix documents, resolv.conf must name a validating resolver
 *	that the host trusts (a local one on loopback). Validation is
 *	recorded per answer: DNS_MX_LIST.secure (the MX RRset),
 *	DNS_ADDR.secure (the A or AAAA RRset the address came from),
 *	DNS_TLSA_LIST.secure. A bogus answer is the resolver's SERVFAIL,
 *	so DNS_RETRY. With DNSSEC off every secure flag is 0.
 *
 *	dns_lookup_tlsa() appends the TLSA records of name
 *	("_25._tcp.mx.example.com") to list: usage, selector, matching
 *	type and the association data as bytes, whatever their values
 *	(the caller decides which are usable).
 *
 *	dns_lookup_txt_list() appends each TXT record of name to out as
 *	one string (its character-strings concatenated, NUL bytes as '?'),
 *	for policy records (MTA-STS, TLS-RPT) that are parsed, not shown.
 * DIAGNOSTICS
 *	Results: DNS_OK; DNS_NOTFOUND (the name does not exist); DNS_NODATA
 *	(it exists, without records of that type); DNS_RETRY (a temporary
 *	error: timeout, SERVFAIL, no server); DNS_NULLMX. why gets
 *	Postfix's text, "Name service error for name=X type=MX: Host not
 *	found" or "...: Host not found, try again" or "...: Host found but
 *	no data record of requested type".
 */
#ifndef DNS_H
#define DNS_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstring.h"
#include "util/argv.h"

#define DNS_OK		0
#define DNS_NOTFOUND	1
#define DNS_NODATA	2
#define DNS_RETRY	3
#define DNS_NULLMX	4

#define DNS_TXT_MAX	500		/* bytes of TXT text kept */

#define DNS_FAMILY_INET		(1<<0)
#define DNS_FAMILY_INET6	(1<<1)

typedef struct DNS_MX {
    char   *host;			/* no trailing dot */
    int     pref;
} DNS_MX;

typedef struct DNS_MX_LIST {
    DNS_MX *mx;
    size_t  count;
    size_t  cap;
    int     secure;			/* the MX RRset was DNSSEC-validated */
} DNS_MX_LIST;

typedef struct DNS_ADDR {
    char   *host;			/* the name the address belongs to */
    int     pref;			/* MX preference, 0 without MX */
    int     family;			/* AF_INET or AF_INET6 */
    unsigned char addr[16];		/* network byte order */
    char    ip[46];			/* printable address */
    int     secure;			/* its A/AAAA RRset was DNSSEC-validated */
} DNS_ADDR;

typedef struct DNS_ADDR_LIST {
    DNS_ADDR *addr;
    size_t  count;
    size_t  cap;
} DNS_ADDR_LIST;

typedef struct DNS_TLSA {
    unsigned char usage;		/* 0..3: PKIX-TA PKIX-EE DANE-TA DANE-EE */
    unsigned char selector;		/* 0 certificate, 1 public key */
    unsigned char mtype;		/* 0 full, 1 SHA2-256, 2 SHA2-512 */
    unsigned char *data;
    size_t  len;
} DNS_TLSA;

typedef struct DNS_TLSA_LIST {
    DNS_TLSA *tlsa;
    size_t  count;
    size_t  cap;
    int     secure;			/* the TLSA RRset was DNSSEC-validated */
} DNS_TLSA_LIST;

extern void dns_set_resolv_conf(const char *);
extern void dns_set_dnssec(int);
extern int dns_dnssec_enabled(void);
extern int dns_lookup_tlsa(const char *, DNS_TLSA_LIST *, VSTRING *);
extern void dns_tlsa_list_free(DNS_TLSA_LIST *);
extern int dns_lookup_txt_list(const char *, ARGV *, int *, VSTRING *);
extern int dns_lookup_mx(const char *, DNS_MX_LIST *, VSTRING *);
extern int dns_lookup_mx_answer(const char *, DNS_MX_LIST *, VSTRING *);
extern int dns_lookup_ns(const char *, ARGV *, VSTRING *);
extern void dns_mx_sort(DNS_MX_LIST *);
extern void dns_mx_list_free(DNS_MX_LIST *);
extern int dns_lookup_addr(const char *, int, int, DNS_ADDR_LIST *, VSTRING *);
extern int dns_addr_literal(const char *, int, DNS_ADDR_LIST *);
extern void dns_addr_list_init(DNS_ADDR_LIST *);
extern void dns_addr_list_free(DNS_ADDR_LIST *);
extern void dns_addr_add(DNS_ADDR_LIST *, const char *, int, int, const void *);
extern int dns_lookup_txt(const char *, VSTRING *, VSTRING *);
extern int dns_lookup_mailhost(const char *, VSTRING *);
extern int dns_lookup_rbl(const char *, ARGV *, unsigned *, VSTRING *);
extern int dns_rbl_filter_match(const char *, const unsigned char *);

#endif
