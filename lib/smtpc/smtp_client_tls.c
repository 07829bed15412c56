/*
 * NAME
 *	smtp_client_tls - the TLS security level of each server, with DANE
 * SYNOPSIS
 *	#include "smtpc/smtp_client.h"
 *
 *	void smtp_tls_policy_init(void);
 *	int smtp_tls_policy_dest(SMTP_STATE *st, SMTP_WHY *why);
 *	int smtp_tls_policy_server(SMTP_STATE *st, const DNS_ADDR *addr,
 *				   SMTP_TLS_POLICY *pol, SMTP_WHY *why);
 *	void smtp_tls_policy_free(SMTP_TLS_POLICY *pol);
 *	int smtp_tls_level_rank(const char *level);
 * DESCRIPTION
 *	smtp_tls_policy_dest() finds the configured level of the request's
 *	destination: smtp_tls_policy_maps (the nexthop as written, then
 *	the bare destination), else smtp_tls_security_level (empty: "verify"
 *	with smtp_enforce_tls, "encrypt" when smtp_tls_enforce_peername is
 *	also off, "may" with smtp_use_tls, else "none"), with the policy's match=
 *	attributes. -1 with why (4.7.5) when the table fails or the level
 *	is not one of Postfix's.
 *
 *	smtp_tls_policy_server() turns it into the effective policy of one
 *	server before the client connects. For "dane" and "dane-only"
 *	(RFC 7672, as Postfix does it):
 *
 *	- without smtp_dns_support_level = dnssec: "dane" is "may" and
 *	  "dane-only" a configuration problem (the server is skipped),
 *	  each with Postfix's warning;
 *	- an MX RRset that was not validated: smtp_tls_dane_insecure_mx_policy
 *	  decides ("may": no TLSA lookup; "encrypt": TLSA records only
 *	  require TLS; "dane": they are used, and success is logged
 *	  "Trusted", not "Verified"); "[host]" and LMTP "inet:" nexthops
 *	  count as a validated MX of themselves;
 *	- a host address that was not validated, or no validated TLSA
 *	  RRset at _port._tcp.host: "dane" is "may", "dane-only" skips the
 *	  server ("no TLSA records found");
 *	- TLSA records, none usable (PKIX usages, unknown selectors,
 *	  digests not in tls_dane_digests: each logged): "dane" is
 *	  "encrypt", "dane-only" skips the server ("TLSA records
 *	  unusable");
 *	- usable records: the certificate must match them (tls_client(3)).
 *	A TLSA lookup that fails (SERVFAIL, also for a bogus signature)
 *	skips the server ("TLSA lookup error for host:port").
 *
 *	smtp_tls_level_rank(): 0 none, 1 opportunistic (may), 2 encrypt,
 *	3 authenticated.
 * DIAGNOSTICS
 *	Postfix's warnings: "warning: NEXTHOP: dane configured with dnssec
 *	lookups disabled", "warning: TLS policy lookup for NEXTHOP/HOST:
 *	no TLSA records found", "warning: _25._tcp.HOST unsupported TLSA
 *	certificate usage: 1 1 1 HEX".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/maps.h"
#include "tls/tls_dane.h"
#include "tls/tls_client.h"
#include "global/mail_tls.h"
#include "smtpc/smtp_client.h"

static MAPS *tls_policy_maps;

static void sts_dest(SMTP_STATE *);
static void policy_set(SMTP_TLS_POLICY *, const char *);

/* tls_possible - may any destination use TLS? (Postfix: else no TLS engine) */
static int tls_possible(void)
{
    const char *level = smtp_conf.tls_level;

    if (*smtp_conf.tls_policy_maps || smtp_param_bool_soft(VAR_SMTP_TLS_WRAPPERMODE))
	return (1);
    if (*level == 0)
	return (smtp_param_bool(VAR_SMTP_ENFORCE_TLS) || smtp_param_bool_soft(VAR_SMTP_USE_TLS));
    return (strcasecmp(level, "none") != 0);
}

/*
 * smtp_tls_policy_init - open smtp_tls_policy_maps and make the TLS
 * client context: certificates, CAs and the session cache are opened
 * here, before chroot and the privilege drop.
 */
void    smtp_tls_policy_init(void)
{
    TLS_CLIENT_INIT init;
    VSTRING *why;

    if (*smtp_conf.tls_policy_maps)
	tls_policy_maps = maps_create(smtp_param_name(VAR_SMTP_TLS_POLICY_MAPS),
				      smtp_conf.tls_policy_maps, DICT_FLAG_DEFAULT);
    if (!tls_possible())
	return;
    memset(&init, 0, sizeof(init));
    init.prefix = smtp_conf.name;
    init.chain_files = smtp_param_str(VAR_SMTP_TLS_CHAIN_FILES);
    init.cert_file = smtp_param_str(VAR_SMTP_TLS_CERT_FILE);
    init.key_file = smtp_param_str(VAR_SMTP_TLS_KEY_FILE);
    init.CAfile = smtp_param_str(VAR_SMTP_TLS_CAFILE);
    init.CApath = smtp_param_str(VAR_SMTP_TLS_CAPATH);
    init.verify_depth = smtp_param_int(VAR_SMTP_TLS_SCERT_VERIFYDEPTH);
    init.dane_digests = mail_conf_str(VAR_TLS_DANE_DIGESTS);
    init.digest = smtp_param_str(VAR_SMTP_TLS_FINGERPRINT_DIGEST);
    /* These keep the parameter name: smtp_param_name() has one buffer. */
    init.cache_timeout = mail_tls_scache_timeout(smtp_param_name(VAR_SMTP_TLS_SESSION_CACHE_TIMEOUT));
    if (init.cache_timeout > 0)
	init.cache = mail_tls_scache_open(smtp_param_name(VAR_SMTP_TLS_SESSION_CACHE_DATABASE));
    why = vstring_alloc(100);
    if (tls_client_init(&init, why) < 0)
	msg_warn("%s: disabling TLS support", vstring_str(why));
    vstring_free(why);
}

/* tls_level_name - a level word of a policy, or NULL when unknown */
static const char *tls_level_name(const char *word)
{
    static const char *levels[] = {
	"none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure",
    };

    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
	if (strcasecmp(word, levels[i]) == 0)
	    return (levels[i]);
    return (0);
}

/*
 * policy_attrs - the level and attributes of an smtp_tls_policy_maps
 * entry (Postfix 3.7's attributes and warnings); 0 when the entry is
 * invalid (the delivery is then deferred).
 */
static int policy_attrs(SMTP_STATE *st, const char *key, char **cp)
{
    VSTRING *where = vstring_alloc(100);
    char   *word, *name, *val;
    int     ok = 1;
    int     fpt, pkix;

    vstring_sprintf(where, "%s, next-hop destination \"%s\"",
		    smtp_param_name(VAR_SMTP_TLS_POLICY_MAPS), key);
#define WHERE vstring_str(where)
    if ((word = mystrtok(cp, " \t\r\n,")) == 0) {
	msg_warn("%s: invalid empty policy", WHERE);
	vstring_free(where);
	return (0);
    }
    if ((st->tls_level = tls_level_name(word)) == 0) {
	msg_warn("%s: invalid security level \"%s\"", WHERE, word);
	vstring_free(where);
	return (0);
    }
    if (strcmp(st->tls_level, "none") == 0) {
	while ((word = mystrtok(cp, " \t\r\n,")) != 0)
	    msg_warn("%s: ignoring attribute \"%s\" with TLS disabled", WHERE, word);
	vstring_free(where);
	return (1);
    }
    fpt = strcmp(st->tls_level, "fingerprint") == 0;
    pkix = strcmp(st->tls_level, "verify") == 0 || strcmp(st->tls_level, "secure") == 0;
    while (ok && (word = mystrtok(cp, " \t\r\n,")) != 0) {
	if ((val = strchr(word, '=')) == 0 || val == word) {
	    msg_warn("%s: malformed attribute/value pair \"%s\": %s", WHERE, word,
		     val ? "missing attribute name" : "missing '=' after attribute name");
	    ok = 0;
	    break;
	}
	*val++ = 0;
	name = word;
	if (strcasecmp(name, "ciphers") == 0 || strcasecmp(name, "protocols") == 0
	    || strcasecmp(name, "exclude") == 0) {
	    char  **slot = strcasecmp(name, "ciphers") == 0 ? &st->tls_grade :
	    strcasecmp(name, "protocols") == 0 ? &st->tls_protocols : &st->tls_exclude;

	    if (*val == 0 && slot == &st->tls_grade) {
		msg_warn("%s: attribute \"%s\" has empty value", WHERE, name);
		ok = 0;
	    } else if (*slot) {
		msg_warn("%s: attribute \"%s\" is specified multiple times", WHERE, name);
		ok = 0;
	    } else {
		*slot = mystrdup(val);
	    }
	} else if (strcasecmp(name, "match") == 0) {
	    if (*val == 0) {
		msg_warn("%s: attribute \"%s\" has empty value", WHERE, name);
		ok = 0;
	    } else if (!fpt && !pkix) {
		msg_warn("%s: attribute \"%s\" invalid at security level \"%s\"",
			 WHERE, name, st->tls_level);
		ok = 0;
	    } else {
		/* fingerprint: "|" between fingerprints; else ":" between names. */
		for (char *p = val; *p; p++)
		    if (*p == (fpt ? '|' : ':'))
			*p = ' ';
		vstring_sprintf_append(st->tls_match, "%s%s",
				       vstring_len(st->tls_match) ? " " : "", val);
	    }
	} else if (strcasecmp(name, "tafile") == 0) {
	    /* Postfix's trust anchor files: not implemented, refused aloud. */
	    msg_warn("%s: attribute \"%s\" is not implemented by this mail system",
		     WHERE, name);
	    ok = 0;
	} else {
	    msg_warn("%s: invalid attribute name: \"%s\"", WHERE, name);
	    ok = 0;
	}
    }
#undef WHERE
    vstring_free(where);
    return (ok);
}

/*
 * policy_lookup - the smtp_tls_policy_maps entry of the destination, as
 * Postfix looks it up: the nexthop as written, without LMTP's "inet:"
 * and without the default port; a bare domain also as ".parent" for
 * each parent domain. key gets the name that was found (or the first).
 */
static const char *policy_lookup(SMTP_STATE *st, VSTRING *key)
{
    const char *nexthop = st->dest.nexthop;
    const char *value, *colon, *dot;
    size_t  len;

    if (strncasecmp(nexthop, "inet:", 5) == 0)
	nexthop += 5;
    len = strlen(nexthop);
    /* ":port" after a name or "]": dropped when it is the default port. */
    if ((colon = strrchr(nexthop, ':')) != 0
	&& (nexthop[0] != '[' || colon[-1] == ']')
	&& (nexthop[0] == '[' || strchr(nexthop, ':') == colon)
	&& smtp_dest_port(colon + 1) == smtp_dest_port(smtp_conf.tcp_port))
	len = (size_t) (colon - nexthop);
    vstring_strncpy(key, nexthop, len);
    if ((value = maps_find(tls_policy_maps, vstring_str(key), 0)) != 0
	|| tls_policy_maps->error != 0)
	return (value);
    /* Parent domains, only for a domain without [] or port. */
    if (strchr(vstring_str(key), '[') || strchr(vstring_str(key), ':')
	|| strchr(vstring_str(key), '/'))
	return (0);
    for (dot = strchr(vstring_str(key) + 1, '.'); dot; dot = strchr(dot + 1, '.')) {
	if ((value = maps_find(tls_policy_maps, dot, 0)) != 0) {
	    char   *found = mystrdup(dot);

	    vstring_strcpy(key, found);
	    myfree(found);
	    return (value);
	}
	if (tls_policy_maps->error != 0)
	    return (0);
    }
    return (0);
}

/* smtp_tls_attrs_free - forget the attributes of a policy entry */
void    smtp_tls_attrs_free(SMTP_STATE *st)
{
    if (st->tls_protocols)
	myfree(st->tls_protocols);
    if (st->tls_grade)
	myfree(st->tls_grade);
    if (st->tls_exclude)
	myfree(st->tls_exclude);
    st->tls_protocols = st->tls_grade = st->tls_exclude = 0;
}


int     smtp_tls_level_rank(const char *level)
{
    if (strcasecmp(level, "may") == 0)
	return (1);
    if (strcasecmp(level, "encrypt") == 0)
	return (2);
    if (strcasecmp(level, "verify") == 0 || strcasecmp(level, "secure") == 0
	|| strcasecmp(level, "fingerprint") == 0 || strcasecmp(level, "dane") == 0
	|| strcasecmp(level, "dane-only") == 0)
	return (3);
    return (0);
}

int     smtp_tls_policy_dest(SMTP_STATE *st, SMTP_WHY *why)
{
    const char *value = 0;
    const char *level = smtp_conf.tls_level;
    char   *copy, *cp;
    int     ok;
    VSTRING *key;

    if (st->tls_match == 0)
	st->tls_match = vstring_alloc(50);
    vstring_reset(st->tls_match);
    smtp_tls_attrs_free(st);
    st->tls_level = 0;
    st->tls_from_map = 0;
    mta_sts_policy_free(&st->sts);
    st->sts_status = MTA_STS_NONE;
    key = vstring_alloc(100);
    if (tls_policy_maps) {
	value = policy_lookup(st, key);
	if (value == 0 && tls_policy_maps->error != 0) {
	    smtp_why_set(why, 0, "4.7.5", "TLS policy lookup error for %s", st->dest.nexthop);
	    vstring_free(key);
	    return (-1);
	}
    }
    if (value == 0) {
	vstring_free(key);
	/* Empty level: the legacy smtp_enforce_tls / smtp_use_tls, as Postfix. */
	if (*level == 0) {
	    if (smtp_param_bool(VAR_SMTP_ENFORCE_TLS))
		st->tls_level = smtp_param_bool(VAR_SMTP_TLS_ENFORCE_PEERNAME) ?
		    "verify" : "encrypt";
	    else
		st->tls_level = smtp_param_bool_soft(VAR_SMTP_USE_TLS) ? "may" : "none";
	    return (0);
	}
	if ((st->tls_level = tls_level_name(level)) == 0) {
	    msg_warn("invalid %s value: \"%s\"", smtp_param_name(VAR_SMTP_TLS_SECURITY_LEVEL),
		     smtp_conf.tls_level);
	    smtp_why_set(why, 0, "4.7.5", "TLS policy lookup error for %s", st->dest.nexthop);
	    return (-1);
	}
	sts_dest(st);
	return (0);
    }
    st->tls_from_map = 1;
    copy = mystrdup(value);
    cp = copy;
    ok = policy_attrs(st, vstring_str(key), &cp);
    vstring_free(key);
    myfree(copy);
    if (!ok) {
	/* Postfix 3.7: the delivery is deferred as a configuration error. */
	smtp_why_set(why, 0, "4.7.5", "client TLS configuration problem");
	return (-1);
    }
    return (0);
}

/*
 * sts_dest - the MTA-STS policy of an MX destination, when enabled and the
 * level is main.cf's may, encrypt or dane (a policy-map entry wins).
 */
static void sts_dest(SMTP_STATE *st)
{
    VSTRING *why;

    if (smtp_conf.proto != SMTP_PROTO_SMTP || !st->dest.use_mx || smtp_conf.dns_disabled
	|| !mail_conf_bool(VAR_SMTP_MTA_STS_ENABLE)
	|| (strcmp(st->tls_level, "may") != 0 && strcmp(st->tls_level, "encrypt") != 0
	    && strcmp(st->tls_level, "dane") != 0))
	return;
    why = vstring_alloc(100);
    st->sts_status = mta_sts_lookup(st->dest.host, &st->sts, why);
    vstring_free(why);
}

/* sts_server - MTA-STS for a server without DANE; 0, or -1 with why */
static int sts_server(SMTP_STATE *st, const char *host, SMTP_TLS_POLICY *pol, SMTP_WHY *why)
{
    if (st->sts_status != MTA_STS_FOUND || st->sts.mode == MTA_STS_MODE_NONE)
	return (0);
    snprintf(pol->sts_mode, sizeof(pol->sts_mode), "%s", mta_sts_mode_name(st->sts.mode));
    vstring_sprintf(st->tls_match, "%s", host);
    {
	VSTRING *mx = vstring_alloc(100);

	for (size_t i = 0; i < st->sts.mx->argc; i++)
	    vstring_sprintf_append(mx, "%s%s", i ? " " : "", st->sts.mx->argv[i]);
	snprintf(pol->sts_mx, sizeof(pol->sts_mx), "%s", vstring_str(mx));
	vstring_free(mx);
    }
    if (st->sts.mode != MTA_STS_MODE_ENFORCE)
	return (0);
    if (!mta_sts_mx_match(&st->sts, host)) {
	smtp_why_set(why, 0, "4.7.5", "MX host %s does not match the MTA-STS policy of %s",
		     host, st->dest.host);
	pol->rpt_failure = "validation-failure";
	pol->rpt_reason = "mx-not-in-policy";
	return (-1);
    }
    /* enforce: TLS with a certificate valid for the MX host name. */
    policy_set(pol, "verify");
    return (0);
}

void    smtp_tls_policy_free(SMTP_TLS_POLICY *pol)
{
    tls_dane_free(pol->dane);
    pol->dane = 0;
    if (pol->tlsa_text)
	argv_free(pol->tlsa_text);
    pol->tlsa_text = 0;
    pol->rpt_tlsa = 0;
    pol->rpt_failure = pol->rpt_reason = 0;
}

/* rpt_set - the TLS-RPT view of a DANE policy (smtp_client_tlsrpt.c) */
static void rpt_set(SMTP_TLS_POLICY *pol, const char *failure, const char *reason)
{
    pol->rpt_tlsa = 1;
    pol->rpt_failure = failure;
    pol->rpt_reason = reason;
}

/* policy_set - the effective level */
static void policy_set(SMTP_TLS_POLICY *pol, const char *level)
{
    snprintf(pol->level, sizeof(pol->level), "%s", level);
    pol->rank = smtp_tls_level_rank(level);
}

/* policy_fail - Postfix's warning and reason when a server is skipped */
static int policy_fail(SMTP_STATE *st, const char *host, SMTP_WHY *why, const char *text)
{
    msg_warn("TLS policy lookup for %s/%s: %s", st->dest.host, host, text);
    smtp_why_set(why, 0, "4.7.5", "%s", text);
    return (-1);
}

/* tlsa_hex - association data for a log line */
static void tlsa_hex(VSTRING *out, const DNS_TLSA *t)
{
    vstring_reset(out);
    for (size_t i = 0; i < t->len; i++)
	vstring_sprintf_append(out, "%02X", t->data[i]);
}

/* dane_records - the usable TLSA records of host; DNS_* status; text: the RRset */
static int dane_records(SMTP_STATE *st, const char *host, TLS_DANE **dane,
			        int *found, VSTRING *tlsa_why, ARGV **text)
{
    DNS_TLSA_LIST list = {0};
    VSTRING *qname = vstring_alloc(100);
    VSTRING *hex;
    const char *digests = mail_conf_str(VAR_TLS_DANE_DIGESTS);
    int     status;

    *dane = 0;
    *found = 0;
    vstring_sprintf(qname, "_%d._tcp.%s", st->dest.port, host);
    status = dns_lookup_tlsa(vstring_str(qname), &list, tlsa_why);
    if (status != DNS_OK || !list.secure) {
	dns_tlsa_list_free(&list);
	vstring_free(qname);
	return (status == DNS_RETRY ? DNS_RETRY : DNS_NOTFOUND);
    }
    *found = 1;
    *dane = tls_dane_alloc(host);
    hex = vstring_alloc(100);
    for (size_t i = 0; i < list.count; i++) {
	const DNS_TLSA *t = list.tlsa + i;
	const char *what = 0;

	if (smtp_conf.tlsrpt) {
	    VSTRING *rr = vstring_alloc(100);

	    tlsa_hex(hex, t);
	    vstring_sprintf(rr, "%u %u %u %s", t->usage, t->selector, t->mtype, vstring_str(hex));
	    if (*text == 0)
		*text = argv_alloc(list.count);
	    argv_add(*text, vstring_str(rr));
	    vstring_free(rr);
	}
	if (tls_dane_add(*dane, t->usage, t->selector, t->mtype, t->data, t->len, digests))
	    continue;
	if (t->usage != TLS_DANE_USAGE_DANE_TA && t->usage != TLS_DANE_USAGE_DANE_EE)
	    what = "certificate usage";
	else if (t->selector > 1)
	    what = "selector";
	else
	    what = "matching type";
	tlsa_hex(hex, t);
	msg_warn("%s unsupported TLSA %s: %u %u %u %s", vstring_str(qname), what,
		 t->usage, t->selector, t->mtype, vstring_str(hex));
    }
    vstring_free(hex);
    dns_tlsa_list_free(&list);
    vstring_free(qname);
    if ((*dane)->count == 0) {
	tls_dane_free(*dane);
	*dane = 0;
    }
    return (DNS_OK);
}

static int smtp_tls_policy_dane(SMTP_STATE *, const DNS_ADDR *, const char *,
				        SMTP_TLS_POLICY *, SMTP_WHY *);

int     smtp_tls_policy_server(SMTP_STATE *st, const DNS_ADDR *addr,
			               SMTP_TLS_POLICY *pol, SMTP_WHY *why)
{
    const char *level = st->tls_level ? st->tls_level : "none";
    int     dane_only = (strcmp(level, "dane-only") == 0);
    const char *host = addr ? addr->host : st->dest.host;

    smtp_tls_policy_free(pol);
    pol->dane_trusted_only = 0;
    pol->sts_mode[0] = pol->sts_mx[0] = 0;
    policy_set(pol, level);
    if (st->sts_status == MTA_STS_FOUND && st->tls_match)
	vstring_reset(st->tls_match);
    /* Postfix's words for a fingerprint policy without fingerprints. */
    if (strcmp(level, "fingerprint") == 0
	&& (st->tls_match == 0 || vstring_len(st->tls_match) == 0)
	&& *smtp_param_str(VAR_SMTP_TLS_FINGERPRINT_CERT_MATCH) == 0) {
	msg_warn("nexthop domain %s: configured at fingerprint security level, "
		 "but with no fingerprints to match.", st->dest.nexthop);
	msg_warn("TLS policy lookup for %s/%s: %s", st->dest.nexthop, host,
		 "client TLS configuration problem");
	smtp_why_set(why, 0, "4.7.5", "client TLS configuration problem");
	return (-1);
    }
    if (strcmp(level, "dane") != 0 && !dane_only)
	return (sts_server(st, host, pol, why));
    if (smtp_tls_policy_dane(st, addr, host, pol, why) < 0)
	return (-1);
    /* DANE takes precedence over MTA-STS (RFC 8461 section 2). */
    if (pol->dane == 0 && !dane_only)
	return (sts_server(st, host, pol, why));
    return (0);
}

/* smtp_tls_policy_dane - dane and dane-only for one server */
static int smtp_tls_policy_dane(SMTP_STATE *st, const DNS_ADDR *addr, const char *host,
				        SMTP_TLS_POLICY *pol, SMTP_WHY *why)
{
    const char *level = st->tls_level;
    int     dane_only = (strcmp(level, "dane-only") == 0);
    const char *mx_policy = "dane";
    TLS_DANE *dane = 0;
    VSTRING *tlsa_why;
    int     found, status;

    /* DANE needs validated DNS answers. */
    if (!dns_dnssec_enabled()) {
	msg_warn("%s: %s configured with dnssec lookups disabled", st->dest.host, level);
	if (dane_only)
	    return (policy_fail(st, host, why, "client TLS configuration problem"));
	policy_set(pol, "may");
	return (0);
    }
    if (addr == 0 || !addr->secure) {
	/* A host name or address that was not validated has no TLSA. */
	if (dane_only) {
	    rpt_set(pol, "dane-required", 0);
	    return (policy_fail(st, host, why, "no TLSA records found"));
	}
	policy_set(pol, "may");
	return (0);
    }
    if (!st->dest.mx_secure && smtp_conf.proto == SMTP_PROTO_SMTP) {
	mx_policy = mail_conf_str(VAR_SMTP_TLS_DANE_INSECURE_MX_POLICY);
	if (strcasecmp(mx_policy, "may") != 0 && strcasecmp(mx_policy, "encrypt") != 0
	    && strcasecmp(mx_policy, "dane") != 0) {
	    msg_warn("invalid %s value: \"%s\"; using \"may\"",
		     VAR_SMTP_TLS_DANE_INSECURE_MX_POLICY, mx_policy);
	    mx_policy = "may";
	}
	if (strcasecmp(mx_policy, "may") == 0 && !dane_only) {
	    policy_set(pol, "may");
	    return (0);
	}
	pol->dane_trusted_only = 1;
    }
    tlsa_why = vstring_alloc(100);
    status = dane_records(st, host, &dane, &found, tlsa_why, &pol->tlsa_text);
    vstring_free(tlsa_why);
    if (status == DNS_RETRY) {
	smtp_why_set(why, 0, "4.7.5", "TLSA lookup error for %s:%d", host, st->dest.port);
	rpt_set(pol, "dnssec-invalid", 0);
	return (-1);
    }
    if (!found) {
	if (dane_only) {
	    rpt_set(pol, "dane-required", 0);
	    return (policy_fail(st, host, why, "no TLSA records found"));
	}
	policy_set(pol, "may");
	return (0);
    }
    if (dane == 0) {
	rpt_set(pol, "tlsa-invalid", "all-unusable-records");
	if (dane_only)
	    return (policy_fail(st, host, why, "TLSA records unusable"));
	policy_set(pol, "encrypt");
	return (0);
    }
    if (strcasecmp(mx_policy, "encrypt") == 0 && !dane_only) {
	tls_dane_free(dane);
	policy_set(pol, "encrypt");
	return (0);
    }
    rpt_set(pol, 0, 0);
    pol->dane = dane;
    policy_set(pol, dane_only ? "dane-only" : "dane");
    return (0);
}
