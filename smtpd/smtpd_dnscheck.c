/*
 * NAME
 *	smtpd_dnscheck - DNS lists and host name checks of the restrictions
 * SYNOPSIS
 *	#include "smtpd.h"
 *	#include "smtpd_check.h"
 *
 *	void smtpd_dnscheck_init(void);
 *	int smtpd_dnscheck_list(SMTPD_STATE *state, const char *name,
 *				const char *spec);
 *	int smtpd_dnscheck_domain(SMTPD_STATE *state, const char *addr,
 *				  int is_sender);
 *	int smtpd_dnscheck_helo_syntax(SMTPD_STATE *state);
 *	int smtpd_dnscheck_helo(SMTPD_STATE *state);
 *	int smtpd_dnscheck_maps_rbl(SMTPD_STATE *state);
 * DESCRIPTION
 *	The parts of the access policy (smtpd_check.c) that ask the DNS
 *	(lib/dns/dns.c, through resolv_conf) or judge host names. Each returns
 *	a CHK_* result of smtpd_check.h, with the reply in state->reply
 *	for CHK_REJECT.
 *
 *	smtpd_dnscheck_init() reads maps_rbl_reject_code, rbl_reply_maps,
 *	the reply codes and resolv_conf, once per process.
 *
 *	smtpd_dnscheck_list() is reject_rbl_client, permit_dnswl_client,
 *	permit_rhswl_client and reject_rhsbl_client, _reverse_client,
 *	_helo, _sender, _recipient (name) with the list spec
 *	"domain[=filter]"; smtpd_dnscheck_maps_rbl() is the obsolete
 *	reject_maps_rbl: reject_rbl_client with each domain of
 *	maps_rbl_domains. permit_dnswl_client and permit_rhswl_client
 *	(the client's verified name under the domain) do not permit a
 *	recipient that reject_unauth_destination would refuse: they are
 *	silently ignored then, as in Postfix. smtpd_dnscheck_domain() is
 *	reject_unknown_sender_domain / reject_unknown_recipient_domain;
 *	smtpd_dnscheck_helo_syntax() reject_invalid_helo_hostname and
 *	smtpd_dnscheck_helo() reject_unknown_helo_hostname. The replies
 *	are described in smtpd_check.c and smtpd(8).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/maps.h"
#include "dns/dns.h"
#include "global/mail_addr.h"
#include "smtpd.h"
#include "smtpd_check.h"

static MAPS *rbl_reply_maps;
static long rbl_code, unknown_addr_code;
static long invalid_hostname_code, unknown_hostname_code;

void    smtpd_dnscheck_init(void)
{
    rbl_code = mail_conf_int(VAR_MAPS_RBL_REJECT_CODE);
    invalid_hostname_code = mail_conf_int(VAR_INVALID_HOSTNAME_REJECT_CODE);
    unknown_hostname_code = mail_conf_int(VAR_UNKNOWN_HOSTNAME_REJECT_CODE);
    unknown_addr_code = mail_conf_int(VAR_UNKNOWN_ADDRESS_REJECT_CODE);
    if (*mail_conf_str(VAR_RBL_REPLY_MAPS))
	rbl_reply_maps = maps_create(VAR_RBL_REPLY_MAPS, mail_conf_str(VAR_RBL_REPLY_MAPS),
				     DICT_FLAG_DEFAULT);
    dns_set_resolv_conf(mail_conf_str(VAR_RESOLV_CONF));
}

/*
 * DNS lists. A client address is looked up as its reversed octets (IPv4)
 * or nibbles (IPv6) under the list's domain, a domain name as itself
 * under it. An A record answer means "listed", unless the list is given
 * as domain=filter: then only an answer that the filter matches counts.
 */

/*
 * rbl_listed - look prefix up in the list spec ("domain[=filter]").
 * 1 listed (the TXT text in reason), 0 not listed, -1 lookup error
 * (logged), -2 bad filter (logged). domain gets the list's domain.
 */
static int rbl_listed(const char *prefix, const char *spec, VSTRING *domain,
		              VSTRING *reason)
{
    const char *eq = strchr(spec, '=');
    VSTRING *query = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    DNS_ADDR_LIST list;
    int     ret = 0;
    int     st;

    vstring_strncpy(domain, spec, eq ? (size_t) (eq - spec) : strlen(spec));
    vstring_sprintf(query, "%s.%s", prefix, vstring_str(domain));
    vstring_truncate(reason, 0);
    dns_addr_list_init(&list);
    st = dns_lookup_addr(vstring_str(query), 0, DNS_FAMILY_INET, &list, why);
    if (st == DNS_RETRY) {
	msg_warn("%s: RBL lookup error: Host or domain name not found. %s",
		 vstring_str(query), vstring_str(why));
	ret = -1;
    } else if (st == DNS_OK) {
	for (size_t i = 0; i < list.count && ret == 0; i++) {
	    if (eq == 0)
		ret = 1;
	    else if ((ret = dns_rbl_filter_match(eq + 1, list.addr[i].addr)) < 0) {
		msg_warn("bad DNS list filter in \"%s\"", spec);
		ret = -2;
	    }
	}
	if (ret == 1)
	    dns_lookup_txt(vstring_str(query), reason, 0);
    }
    dns_addr_list_free(&list);
    vstring_free(query);
    vstring_free(why);
    return (ret);
}

/* rbl_client_prefix - the reversed client address; 0 when not an address */
static int rbl_client_prefix(const char *addr, VSTRING *prefix)
{
    unsigned char buf[16];
    static const char hex[] = "0123456789abcdef";

    vstring_truncate(prefix, 0);
    if (inet_pton(AF_INET, addr, buf) == 1) {
	vstring_sprintf(prefix, "%u.%u.%u.%u", buf[3], buf[2], buf[1], buf[0]);
	return (1);
    }
    if (inet_pton(AF_INET6, addr, buf) == 1) {
	for (int i = 15; i >= 0; i--)
	    vstring_sprintf_append(prefix, "%s%c.%c", i < 15 ? "." : "",
				   hex[buf[i] & 0xf], hex[buf[i] >> 4]);
	return (1);
    }
    return (0);
}

/* The values that a DNS list reply template may name. */
typedef struct RBL_REPLY {
    SMTPD_STATE *state;
    const char *class;			/* rbl_class */
    const char *what;			/* rbl_what */
    const char *domain;			/* rbl_domain */
    const char *reason;			/* rbl_reason, rbl_txt */
    char    code[16];			/* rbl_code */
} RBL_REPLY;

/* rbl_attr - a name of DNS list templates, or NULL (smtpd_expand.c) */
static const char *rbl_attr(const char *name, void *context)
{
    RBL_REPLY *r = (RBL_REPLY *) context;

    if (strcmp(name, "rbl_code") == 0)
	return (r->code);
    if (strcmp(name, "rbl_class") == 0)
	return (r->class);
    if (strcmp(name, "rbl_what") == 0)
	return (r->what);
    if (strcmp(name, "rbl_domain") == 0)
	return (r->domain);
    if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
	return (r->reason);
    return (0);
}

/*
 * rbl_reject - the reply for a listed client or domain: the template of
 * rbl_reply_maps for the list's domain, else default_rbl_reply; 5.7.1
 * when the template gives no status code.
 */
static int rbl_reject(SMTPD_STATE *state, const char *class, const char *what,
		              const char *domain, const char *reason)
{
    RBL_REPLY r;
    SMTPD_EXPAND_ATTR attr;
    const char *tmpl = 0;
    VSTRING *text = vstring_alloc(100);
    const char *cp;
    char    dsn[16] = "5.7.1";
    long    code;
    int     ret;

    r.state = state;
    r.class = class;
    r.what = what;
    r.domain = domain;
    r.reason = reason;
    snprintf(r.code, sizeof(r.code), "%ld", rbl_code);
    if (rbl_reply_maps && (tmpl = maps_find(rbl_reply_maps, domain, 0)) == 0
	&& rbl_reply_maps->error) {
	msg_warn("%s: table lookup problem for \"%s\"", rbl_reply_maps->title, domain);
	vstring_free(text);
	return (smtpd_chk_tempfail(state, domain));
    }
    if (tmpl == 0 && (tmpl = mail_conf_raw(VAR_DEFAULT_RBL_REPLY)) == 0)
	tmpl = mail_conf_default(VAR_DEFAULT_RBL_REPLY);
    memset(&attr, 0, sizeof(attr));
    attr.recipient = state->rcpt_given ? state->rcpt_given : state->recipient;
    attr.lookup = rbl_attr;
    attr.context = (void *) &r;
    smtpd_expand(state, tmpl, text, &attr);
    cp = vstring_str(text);
    if (!(strlen(cp) > 4 && (cp[0] == '4' || cp[0] == '5') && isdigit((unsigned char) cp[1])
	  && isdigit((unsigned char) cp[2]) && cp[3] == ' ')) {
	msg_warn("DNS list reply for %s: does not start with a 4xx or 5xx code: \"%s\"",
		 domain, cp);
	vstring_free(text);
	return (smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error"));
    }
    code = strtol(cp, 0, 10);
    for (cp += 4; *cp == ' '; cp++)
	 /* void */ ;
    /* "554 5.7.0 text": the status code comes from the template. */
    if (isdigit((unsigned char) cp[0]) && cp[1] == '.' && cp[0] == vstring_str(text)[0]) {
	size_t  n = strcspn(cp, " ");

	if (n < sizeof(dsn)) {
	    memcpy(dsn, cp, n);
	    dsn[n] = 0;
	    for (cp += n; *cp == ' '; cp++)
		 /* void */ ;
	}
    }
    ret = smtpd_chk_reject(state, code, dsn, "%s", cp);
    vstring_free(text);
    return (ret);
}

/*
 * rbl_check - reject_rbl_client, reject_rhsbl_*: prefix is the reversed
 * address or the domain, what the text shown for it.
 */
static int rbl_check(SMTPD_STATE *state, const char *prefix, const char *spec,
		             const char *class, const char *what)
{
    VSTRING *domain = vstring_alloc(50);
    VSTRING *reason = vstring_alloc(100);
    int     r = CHK_DUNNO;

    switch (rbl_listed(prefix, spec, domain, reason)) {
    case 1:
	r = rbl_reject(state, class, what, vstring_str(domain), vstring_str(reason));
	break;
    case -2:
	r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	break;
    }
    vstring_free(domain);
    vstring_free(reason);
    return (r);
}

/*
 * dnswl_check - permit_dnswl_client (the client address) and
 * permit_rhswl_client (its verified name). A lookup error must not let
 * the client past a later reject: it holds a defer_if_reject reply. A
 * listed client gets no relaying: a recipient that is not ours makes
 * the permit a DUNNO.
 */
static int dnswl_check(SMTPD_STATE *state, const char *spec, int by_name)
{
    VSTRING *prefix = vstring_alloc(50);
    VSTRING *domain = vstring_alloc(50);
    VSTRING *reason = vstring_alloc(100);
    const char *who = by_name ? state->name : state->addr;
    int     r = CHK_DUNNO;
    int     have;

    if (by_name) {
	vstring_strcpy(prefix, state->name);
	have = strcmp(state->name, "unknown") != 0;
    } else {
	have = rbl_client_prefix(state->addr, prefix);
    }
    if (have) {
	switch (rbl_listed(vstring_str(prefix), spec, domain, reason)) {
	case 1:
	    if (state->recipient == 0 || smtpd_chk_auth_destination(state) == CHK_OK)
		r = CHK_OK;
	    break;
	case -1:
	    smtpd_chk_defer_if(state, state->defer_if_reject, 450, "4.7.1",
		     "<%s>: Client host rejected: Service unavailable", who);
	    break;
	case -2:
	    r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	    break;
	}
    }
    vstring_free(prefix);
    vstring_free(domain);
    vstring_free(reason);
    return (r);
}

/* rhsbl_domain - the domain of an address for a DNS list, or NULL */
static char *rhsbl_domain(const char *addr)
{
    char   *domain;

    if (addr == 0 || *addr == 0 || (domain = smtpd_chk_lower_domain(addr)) == 0)
	return (0);
    if (*domain == '[' || *domain == 0) {
	myfree(domain);
	return (0);
    }
    return (domain);
}

/*
 * smtpd_dnscheck_domain - reject_unknown_sender_domain and
 * reject_unknown_recipient_domain: a domain that we are not the final
 * destination for must have an MX or an address record.
 */
int     smtpd_dnscheck_domain(SMTPD_STATE *state, const char *addr, int is_sender)
{
    const char *class = is_sender ? "Sender address" : "Recipient address";
    const char *dsn = is_sender ? "4.1.8" : "4.1.2";
    const char *action;
    char   *domain;
    int     m, st;
    int     r = CHK_DUNNO;

    if ((domain = rhsbl_domain(addr)) == 0)
	return (CHK_DUNNO);
    m = smtpd_chk_final_domain(domain);
    if (m < 0) {
	myfree(domain);
	return (smtpd_chk_tempfail(state, addr));
    }
    if (m > 0) {
	myfree(domain);
	return (CHK_DUNNO);
    }
    switch (st = dns_lookup_mailhost(domain, 0)) {
    case DNS_OK:
	break;
    case DNS_NULLMX:
	r = smtpd_chk_reject(state, is_sender ? 550 : 556, is_sender ? "5.7.27" : "5.1.10",
			 "<%s>: %s rejected: Domain %s does not accept mail (nullMX)",
			 addr, class, domain);
	break;
    case DNS_RETRY:
	action = mail_conf_str(VAR_UNKNOWN_ADDRESS_TEMPFAIL_ACTION);
	if (strcasecmp(action, "defer_if_permit") == 0)
	    smtpd_chk_defer_if(state, state->defer_if_permit, 450, dsn,
		     "<%s>: %s rejected: Domain not found", addr, class);
	else				/* "defer" */
	    r = smtpd_chk_reject(state, 450, dsn, "<%s>: %s rejected: Domain not found",
			     addr, class);
	break;
    default:
	r = smtpd_chk_reject(state, unknown_addr_code, dsn,
			 "<%s>: %s rejected: Domain not found", addr, class);
	break;
    }
    myfree(domain);
    return (r);
}

/* smtpd_dnscheck_helo_syntax - reject_invalid_helo_hostname: bad syntax of name or literal */
int     smtpd_dnscheck_helo_syntax(SMTPD_STATE *state)
{
    const char *helo = state->helo_name;
    char    buf[16];
    char   *lit;
    size_t  len;
    int     ok;

    if (helo == 0)
	return (CHK_DUNNO);
    /* A bare address passes here (Postfix 3.7), not the DNS check. */
    if (*helo != '[')
	return (smtpd_valid_hostname(helo) || valid_ipv4_addr(helo)
		|| valid_ipv6_addr(helo) ? CHK_DUNNO :
		smtpd_chk_reject(state, invalid_hostname_code, "5.5.2",
			     "<%s>: Helo command rejected: Invalid name", helo));
    len = strlen(helo);
    if (len < 3 || helo[len - 1] != ']')
	return (smtpd_chk_reject(state, invalid_hostname_code, "5.5.2",
			     "<%s>: Helo command rejected: invalid ip address", helo));
    lit = mystrndup(helo + 1, len - 2);
    ok = strncasecmp(lit, "IPv6:", 5) == 0 ? inet_pton(AF_INET6, lit + 5, buf) == 1
	: inet_pton(AF_INET, lit, buf) == 1;
    myfree(lit);
    return (ok ? CHK_DUNNO :
	    smtpd_chk_reject(state, invalid_hostname_code, "5.5.2",
			 "<%s>: Helo command rejected: invalid ip address", helo));
}

/*
 * smtpd_dnscheck_helo - reject_unknown_helo_hostname: a HELO name (not an
 * address literal) needs an MX, A or AAAA record.
 */
int     smtpd_dnscheck_helo(SMTPD_STATE *state)
{
    const char *helo = state->helo_name;

    if (helo == 0 || *helo == '[')
	return (CHK_DUNNO);
    /* A bare address is no host name: "Host not found" (Postfix 3.7). */
    switch (valid_ipv4_addr(helo) || valid_ipv6_addr(helo) ? DNS_NOTFOUND
	    : dns_lookup_mailhost(helo, 0)) {
    case DNS_OK:
    case DNS_NULLMX:
	return (CHK_DUNNO);
    case DNS_RETRY:
	if (strcasecmp(mail_conf_str(VAR_UNKNOWN_HELO_HOSTNAME_TEMPFAIL_ACTION),
		       "defer_if_permit") == 0) {
	    smtpd_chk_defer_if(state, state->defer_if_permit, 450, "4.7.1",
		     "<%s>: Helo command rejected: Host not found", helo);
	    return (CHK_DUNNO);
	}
	return (smtpd_chk_reject(state, 450, "4.7.1",
			     "<%s>: Helo command rejected: Host not found", helo));
    default:
	return (smtpd_chk_reject(state, unknown_hostname_code, "4.7.1",
			     "<%s>: Helo command rejected: Host not found", helo));
    }
}

/*
 * smtpd_dnscheck_list - reject_rbl_client, permit_dnswl_client and
 * reject_rhsbl_* with their list argument spec ("domain[=filter]").
 */
int     smtpd_dnscheck_list(SMTPD_STATE *state, const char *n, const char *spec)
{
    char   *domain = 0;
    VSTRING *prefix;
    int     r = CHK_DUNNO;

    if (strcasecmp(n, "permit_dnswl_client") == 0) {
	r = dnswl_check(state, spec, 0);
    } else if (strcasecmp(n, "permit_rhswl_client") == 0) {
	r = dnswl_check(state, spec, 1);
    } else if (strcasecmp(n, "reject_rhsbl_reverse_client") == 0) {
	if (strcmp(state->reverse_name, "unknown") != 0)
	    r = rbl_check(state, state->reverse_name, spec, "Unverified Client host",
			  state->reverse_name);
    } else if (strcasecmp(n, "reject_rbl_client") == 0) {
	prefix = vstring_alloc(80);
	if (rbl_client_prefix(state->addr, prefix))
	    r = rbl_check(state, vstring_str(prefix), spec, "Client host", state->addr);
	vstring_free(prefix);
    } else if (strcasecmp(n, "reject_rhsbl_client") == 0) {
	if (strcmp(state->name, "unknown") != 0)
	    r = rbl_check(state, state->name, spec, "Client host", state->name);
    } else if (strcasecmp(n, "reject_rhsbl_helo") == 0) {
	if (state->helo_name && *state->helo_name && *state->helo_name != '[')
	    r = rbl_check(state, state->helo_name, spec, "Helo command",
			  state->helo_name);
    } else if (strcasecmp(n, "reject_rhsbl_sender") == 0) {
	if ((domain = rhsbl_domain(state->sender)) != 0)
	    r = rbl_check(state, domain, spec, "Sender address", state->sender);
    } else if (strcasecmp(n, "reject_rhsbl_recipient") == 0) {
	if ((domain = rhsbl_domain(state->recipient)) != 0)
	    r = rbl_check(state, domain, spec, "Recipient address",
			  state->recipient);
    } else {
	msg_warn("unknown smtpd restriction: \"%s\"", n);
	r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
    }
    if (domain)
	myfree(domain);
    return (r);
}

/* smtpd_dnscheck_maps_rbl - reject_maps_rbl: each domain of maps_rbl_domains */
int     smtpd_dnscheck_maps_rbl(SMTPD_STATE *state)
{
    ARGV   *domains = argv_split_list(mail_conf_str(VAR_MAPS_RBL_DOMAINS));
    int     r = CHK_DUNNO;

    for (size_t i = 0; r == CHK_DUNNO && i < domains->argc; i++)
	r = smtpd_dnscheck_list(state, "reject_rbl_client", domains->argv[i]);
    argv_free(domains);
    return (r);
}
