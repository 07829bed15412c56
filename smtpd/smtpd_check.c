/*
 * NAME
 *	smtpd_check - the access policy: Postfix's restriction lists
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_check_init(void);
 *	int smtpd_check_client(SMTPD_STATE *state);
 *	int smtpd_check_helo(SMTPD_STATE *state);
 *	int smtpd_check_mail(SMTPD_STATE *state);
 *	int smtpd_check_rcpt(SMTPD_STATE *state);
 *	int smtpd_check_etrn(SMTPD_STATE *state, const char *domain);
 *	int smtpd_check_data(SMTPD_STATE *state);
 *	int smtpd_check_eod(SMTPD_STATE *state);
 *	int smtpd_check_queue_space(SMTPD_STATE *state, long size);
 *	int smtpd_check_mynetworks(SMTPD_STATE *state);
 *	int smtpd_check_bare_lf_exempt(SMTPD_STATE *state);
 *	int smtpd_check_event_exempt(SMTPD_STATE *state);
 *	int smtpd_check_fast_flush(const char *domain);
 * DESCRIPTION
 *	smtpd_check_init() parses smtpd_{client,helo,sender,relay,
 *	recipient,etrn}_restrictions and opens every table they name, plus
 *	the lists (mynetworks, fast_flush_domains, and the address class
 *	lists of addr_class(3): mydestination, inet_interfaces,
 *	proxy_interfaces, virtual_alias_domains, relay_domains) and
 *	relay_recipient_maps, once per process and before privileges are
 *	dropped.
 *
 *	Each check returns SMTPD_CHECK_OK or SMTPD_CHECK_REJECT with the
 *	reply in state->reply. A list is evaluated left to right: permit
 *	(and OK results) ends the list, DUNNO goes on, a reject ends the
 *	check. With smtpd_delay_reject (the default) the client, helo and
 *	sender lists are evaluated at RCPT time, before the relay and
 *	recipient lists; then, with smtpd_reject_unlisted_recipient, the
 *	recipient must be known: an address with a virtual alias is; one of
 *	the virtual alias class without one is not (smtpd_forward.c); one
 *	of the relay class must be in relay_recipient_maps when that is set
 *	(550 5.1.1 ... User unknown in relay recipient table); one of the
 *	local class must be in local_recipient_maps (smtpd_local.c: 550
 *	5.1.1 ... User unknown in local recipient table).
 *
 *	smtpd_check_data() and smtpd_check_eod() evaluate
 *	smtpd_data_restrictions at DATA and smtpd_end_of_data_restrictions
 *	after the final dot ("<DATA>: Data command rejected: ...",
 *	"<END-OF-MESSAGE>: End-of-data rejected: ..."); a recipient check
 *	there sees the recipient only when the message has just one.
 *
 *	warn_if_reject makes the next restriction log "reject_warning: ..."
 *	with the reply it would give (or hold, for defer_if_*) and go on,
 *	as in Postfix; such a restriction does not count as relay
 *	protection.
 *
 *	Restrictions: permit, reject, defer ("Try again later"), defer_if_permit,
 *	defer_if_reject, permit_mynetworks,
 *	reject_unauth_destination, defer_unauth_destination,
 *	permit_auth_destination, reject_unlisted_recipient,
 *	reject_multi_recipient_bounce (multi_recipient_bounce_reject_code),
 *	reject_unverified_recipient, reject_unverified_sender
 *	(smtpd_forward.c),
 *	reject_non_fqdn_recipient, reject_non_fqdn_sender,
 *	reject_non_fqdn_helo_hostname, check_client_access,
 *	check_helo_access, check_sender_access, check_recipient_access,
 *	check_ccert_access (the client certificate's fingerprint, then
 *	its public key fingerprint, or the order of "{ search_order =
 *	... }"; replies name the certificate's CommonName: "554 5.7.1
 *	<cn>: Client certificate rejected: ...")
 *	(results OK, REJECT [text], DEFER [text], DEFER_IF_PERMIT [text],
 *	DEFER_IF_REJECT [text], DUNNO, 4xx/5xx text, a number (OK), or
 *	restriction names; PREPEND header), check_policy_service
 *	(smtpd_policy.c; its action is taken as a table result),
 *	reject_unauth_pipelining (state->ill_pipelining, set by the
 *	command loop in smtpd_proto.c); in smtpd_tls.c:
 *	permit_tls_clientcerts (relay_clientcerts) and
 *	permit_tls_all_clientcerts; in smtpd_sasl.c:
 *	permit_sasl_authenticated, reject_sender_login_mismatch,
 *	reject_authenticated_sender_login_mismatch,
 *	reject_unauthenticated_sender_login_mismatch,
 *	reject_known_sender_login_mismatch, reject_unlisted_sender (and
 *	smtpd_reject_unlisted_sender after the sender restrictions).
 *
 *	DNS lists (smtpd_dnscheck.c): reject_rbl_client domain[=filter] (the client's reversed
 *	IPv4 octets or IPv6 nibbles under domain), reject_rhsbl_client,
 *	reject_rhsbl_helo, reject_rhsbl_sender, reject_rhsbl_recipient
 *	(the client name, helo name or address domain under domain) and
 *	permit_dnswl_client domain[=filter]. Listed means an A record, or
 *	one the filter matches (d.d.d.d, each octet a number or "[a..b;c]").
 *	The reply is the rbl_reply_maps template of the list's domain, else
 *	default_rbl_reply, expanded (smtpd_expand.c) with rbl_code
 *	(maps_rbl_reject_code), rbl_class, rbl_what, rbl_domain, rbl_reason
 *	(the TXT records, joined with " / ") and the client and envelope
 *	values; 5.7.1 unless the
 *	template has a status. A lookup error is logged and counts as not
 *	listed; for permit_dnswl_client it also holds a defer_if_reject
 *	"450 4.7.1 <addr>: Client host rejected: Service unavailable".
 *
 *	permit_rhswl_client, reject_rhsbl_reverse_client and the obsolete
 *	reject_maps_rbl are DNS lists too. The access tables of the DNS
 *	servers of a name (check_*_{a,mx,ns}_access),
 *	check_reverse_client_hostname_access and permit_mx_backup are in
 *	smtpd_dnsaccess.c; check_etrn_access (the ETRN domain and its
 *	parents, only at ETRN), check_sasl_access (the login name),
 *	reject_plaintext_session (plaintext_reject_code), "sleep seconds"
 *	and the old names (reject_unknown_client, reject_unknown_hostname,
 *	reject_invalid_hostname, reject_non_fqdn_hostname as their new
 *	names; check_relay_domains, reject_maps_rbl and
 *	permit_naked_ip_address with Postfix's warnings) are here. A
 *	restriction after permit, reject, defer or check_relay_domains is
 *	logged as ignored each time the list gets there.
 *
 *	reject_invalid_helo_hostname (syntax of the name or address
 *	literal), reject_unknown_helo_hostname (an MX, A or AAAA record;
 *	DNS errors per unknown_helo_hostname_tempfail_action),
 *	reject_unknown_reverse_client_hostname (no PTR name) and
 *	reject_unknown_client_hostname (no confirmed name), with Postfix's
 *	replies and reply code parameters.
 *
 *	reject_unknown_sender_domain, reject_unknown_recipient_domain: a
 *	domain that is not of the local or virtual alias class needs
 *	an MX, A or AAAA record: else unknown_address_reject_code with
 *	4.1.8 (sender) or 4.1.2 (recipient) "Domain not found"; a null MX
 *	gets 550 5.7.27 (sender) or 556 5.1.10 (recipient) "Domain D does
 *	not accept mail (nullMX)"; a lookup error gets 450 "Domain not
 *	found", held per unknown_address_tempfail_action (defer_if_permit)
 *	or given at once (defer). The null sender and address literals are
 *	not checked.
 *
 *	defer_if_reject holds a 450 reply that replaces a 5xx reject later
 *	in the same stage (client, helo, sender, RCPT with the relay and
 *	recipient lists, ETRN). defer_if_permit holds a 450 reply given at
 *	RCPT (or ETRN) time when the request would otherwise be accepted;
 *	one held by the client, helo or sender stage carries over to each
 *	RCPT. The first one held wins. A verify service failure with
 *	unverified_*_tempfail_action = defer_if_permit holds its reply so.
 *
 *	The relay check goes by the recipient's address class
 *	(addr_class(3)): a domain of the relay class is ours to relay for,
 *	unless its local part asks for more routing (user%other@,
 *	"user@other"@, other!user@) and allow_untrusted_routing is off
 *	(the default); one of the local class (mydestination, or an address
 *	literal of this host such as [192.0.2.1]) or of the virtual alias
 *	class is ours unless its local part routes elsewhere, which
 *	Postfix's resolver would follow; anything else is relaying.
 *
 *	smtpd_restriction_classes: a name of that list is a parameter
 *	whose value is a restriction list; the name runs that list where
 *	it appears in a list or as a table or policy result (Postfix's own
 *	names win). Tables and classes nest up to MAX_DEPTH levels, then
 *	"warning: access table T entry V causes unreasonable recursion"
 *	(or "restriction class C ...") and 451 4.3.5.
 *
 *	smtpd_log_access_permit_actions: a permit of a restriction or a
 *	table (OK, a number) whose name the list matches is logged as
 *	Postfix does ("permit: RCPT from ...: action=X for Class=name ;").
 *
 *	reject_unlisted_recipient routes the recipient (resolve(3)) and
 *	refuses one that goes to error: (550, or unknown_virtual_alias_
 *	reject_code for the virtual alias class) or retry: (450), with the
 *	status and text of the entry ("Address is undeliverable" when it
 *	has none), before the class's recipient table.
 *
 *	Lookups use an address with "@$myorigin" when it had none
 *	(state->recipient, sender); replies, logs and the non-FQDN checks
 *	use it as given (state->rcpt_given, sender_given). A bare
 *	"postmaster" recipient is always accepted (RFC 5321 4.5.1).
 *
 *	An access table that could not be opened (a missing file, an
 *	unsupported type) answers "451 4.3.5 <x>: Class address rejected:
 *	Server configuration error", as Postfix 3.7; another table or list
 *	that cannot answer (a lookup error, a bad regular expression)
 *	answers "451 4.3.0 <x>: Temporary lookup failure", never "not
 *	found" (stricter than Postfix 3.7, DESIGN section 8).
 *	With verbose logging (debug_peer_list) each restriction is logged
 *	before and after with its CHK_* status, as Postfix's
 *	"generic_checks: name=X status=N".
 * DIAGNOSTICS
 *	Fatal: no relay protection in either relay list. Warning and
 *	451 4.3.5 for an unknown restriction name; warn_if_reject does not
 *	soften a 451 4.3.5 configuration error (Postfix 3.7 neither).
 */
#include <sys/statvfs.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/maps.h"
#include "global/mail_addr_find.h"
#include "dict/match_list.h"
#include "global/mail_list.h"
#include "global/mail_queue.h"
#include "global/addr_class.h"
#include "global/resolve.h"
#include "global/mail_addr.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_local.h"

/*
 * How deep table results and restriction classes may nest. Postfix gives
 * up on a table entry at about the same depth; a class that names itself
 * without a table in between crashes Postfix 3.7's smtpd, here it gets
 * the same warning and 451 4.3.5.
 */
#define MAX_DEPTH	100

static ARGV *client_list, *helo_list, *sender_list, *relay_list, *rcpt_list, *etrn_list;
static ARGV *data_list, *eod_list;
static MATCH_LIST *mynetworks;
static MATCH_LIST *fast_flush, *bare_lf_excl, *event_excl;
static MAPS *relay_rcpt_maps;		/* relay_recipient_maps, or NULL */
static ARGV *table_names;			/* opened access tables */
static MAPS **tables;

static long reject_code, defer_code, relay_code, unknown_relay_code, unknown_alias_code;
static long access_reject_code, access_defer_code, non_fqdn_code, multi_bounce_code;
static long unknown_client_code;
static long plaintext_code, invalid_hostname_code;
static int sasl_enable;			/* smtpd_sasl_auth_enable */
/*
 * Reply texts and logs show an address as the client gave it; lookups
 * use it with @$myorigin when it had no domain (smtpd_envelope.c).
 */
#define RCPT_NAME(s)	((s)->rcpt_given ? (s)->rcpt_given : (s)->recipient)
#define SENDER_NAME(s)	((s)->sender_given ? (s)->sender_given : (s)->sender)

static int reject_unlisted;
static int allow_untrusted_routing;
static ARGV *class_names;			/* smtpd_restriction_classes */
static ARGV **class_lists;			/* their restriction lists */
static MATCH_LIST *permit_log_actions;	/* smtpd_log_access_permit_actions */
static RESOLVE_REPLY *rcpt_route;		/* reject_unlisted_recipient */

/* table_find - the MAPS of an access table named in a restriction */
static MAPS *table_find(const char *name)
{
    size_t  i;

    for (i = 0; i < table_names->argc; i++)
	if (strcmp(table_names->argv[i], name) == 0)
	    return (tables[i]);
    return (0);
}

/* table_open - open a table once */
static void table_open(const char *name)
{
    if (table_find(name))
	return;
    argv_add(table_names, name);
    tables = myrealloc(tables, table_names->argc * sizeof(*tables));
    tables[table_names->argc - 1] = maps_create(name, name, DICT_FLAG_DEFAULT);
}

/*
 * ccert_arg - the argument of check_ccert_access: "type:table", or
 * (Postfix 3.5) "type:table, { search_order = cert_fingerprint,
 * pubkey_fingerprint }". Returns the table (myfree it); order[] gets
 * CCERT_CERT and CCERT_PKEY in search order (default: both, in that
 * order), *count how many. An unknown search type is a configuration
 * error.
 */
#define CCERT_CERT	0
#define CCERT_PKEY	1

static char *ccert_arg(const char *arg, int *order, int *count)
{
    ARGV   *items = argv_split_list(arg);
    char   *table = mystrdup(items->argc > 0 ? items->argv[0] : "");
    int     n = 0;

    for (size_t i = 1; i < items->argc; i++) {
	char   *copy = mystrdup(items->argv[i]);
	char   *bp = copy;
	char   *name = mystrtok(&bp, " \t=");
	char   *value;

	if (name == 0 || strcmp(name, "search_order") != 0)
	    msg_fatal("check_ccert_access %s: unknown attribute in \"%s\"", table,
		      items->argv[i]);
	while (bp && *bp == ' ')
	    bp++;
	if (bp && *bp == '=')
	    bp++;
	while ((value = mystrtok_list(&bp)) != 0) {
	    int     type = strcmp(value, "cert_fingerprint") == 0 ? CCERT_CERT
	    : strcmp(value, "pubkey_fingerprint") == 0 ? CCERT_PKEY : -1;

	    if (type < 0)
		msg_fatal("check_ccert_access %s: unknown search type \"%s\"", table, value);
	    if (order && n < 2)
		order[n++] = type;
	}
	myfree(copy);
    }
    if (order && n == 0) {
	order[n++] = CCERT_CERT;
	order[n++] = CCERT_PKEY;
    }
    if (count)
	*count = n;
    argv_free(items);
    return (table);
}

/* restriction_list - parse a restrictions parameter, open its tables */
static ARGV *restriction_list(const char *param)
{
    ARGV   *list = argv_split_list(mail_conf_str(param));
    size_t  i;

    for (i = 0; i < list->argc; i++) {
	if (strncmp(list->argv[i], "check_", 6) == 0
	    && strcmp(list->argv[i] + strlen(list->argv[i]) - 7, "_access") == 0) {
	    if (i + 1 >= list->argc)
		msg_fatal("restriction %s in %s needs a table argument",
			  list->argv[i], param);
	    if (strcmp(list->argv[i], "check_ccert_access") == 0) {
		char   *table = ccert_arg(list->argv[++i], (int *) 0, (int *) 0);

		table_open(table);
		myfree(table);
		continue;
	    }
	    table_open(list->argv[++i]);
	} else if (strcmp(list->argv[i], "check_policy_service") == 0) {
	    if (i + 1 >= list->argc)
		msg_fatal("restriction %s in %s needs a server argument",
			  list->argv[i], param);
	    i++;
	}
    }
    return (list);
}

/* class_find - the restriction list of a smtpd_restriction_classes name */
static ARGV *class_find(const char *name)
{
    for (size_t i = 0; class_names && i < class_names->argc; i++)
	if (strcmp(class_names->argv[i], name) == 0)
	    return (class_lists[i]);
    return (0);
}

/*
 * class_init - smtpd_restriction_classes: each name is a main.cf
 * parameter whose value is a restriction list; its tables are opened now.
 */
static void class_init(void)
{
    class_names = argv_split_list(mail_conf_str(VAR_SMTPD_RESTRICTION_CLASSES));
    class_lists = mymalloc((class_names->argc + 1) * sizeof(*class_lists));
    for (size_t i = 0; i < class_names->argc; i++) {
	const char *name = class_names->argv[i];

	if (*mail_conf_str(name) == 0)
	    msg_fatal("restriction class `%s' needs a definition", name);
	class_lists[i] = restriction_list(name);
    }
}

/*
 * has_relay_protection - is there a restriction that stops relaying,
 * also inside a restriction class that the list names
 */
static int has_relay_protection(ARGV *list, int depth)
{
    size_t  i;
    ARGV   *class;

    for (i = 0; i < list->argc; i++) {
	const char *r = list->argv[i];

	/* One that only warns (warn_if_reject) protects nothing. */
	if (strcmp(r, "warn_if_reject") == 0) {
	    i++;
	    continue;
	}
	if (strcmp(r, "reject_unauth_destination") == 0
	    || strcmp(r, "defer_unauth_destination") == 0
	    || strcmp(r, "reject") == 0 || strcmp(r, "defer") == 0
	    || strcmp(r, "defer_if_permit") == 0
	    || strcmp(r, "check_relay_domains") == 0)
	    return (1);
	/* Nothing after permit ever runs: it protects nothing (Postfix). */
	if (strcmp(r, "permit") == 0) {
	    if (i + 1 < list->argc)
		msg_warn("restriction `%s' after `%s' is ignored", list->argv[i + 1], r);
	    return (0);
	}
	if (depth < MAX_DEPTH && (class = class_find(r)) != 0
	    && has_relay_protection(class, depth + 1))
	    return (1);
    }
    return (0);
}

void    smtpd_check_init(void)
{
    table_names = argv_alloc(5);
    class_init();
    client_list = restriction_list(VAR_SMTPD_CLIENT_RESTRICTIONS);
    helo_list = restriction_list(VAR_SMTPD_HELO_RESTRICTIONS);
    sender_list = restriction_list(VAR_SMTPD_SENDER_RESTRICTIONS);
    relay_list = restriction_list(VAR_SMTPD_RELAY_RESTRICTIONS);
    rcpt_list = restriction_list(VAR_SMTPD_RECIPIENT_RESTRICTIONS);
    etrn_list = restriction_list(VAR_SMTPD_ETRN_RESTRICTIONS);
    data_list = restriction_list(VAR_SMTPD_DATA_RESTRICTIONS);
    eod_list = restriction_list(VAR_SMTPD_END_OF_DATA_RESTRICTIONS);
    if (!has_relay_protection(relay_list, 0) && !has_relay_protection(rcpt_list, 0))
	msg_fatal("in parameter smtpd_relay_restrictions or "
		  "smtpd_recipient_restrictions, specify at least one working "
		  "instance of: reject_unauth_destination, "
		  "defer_unauth_destination, reject, defer, defer_if_permit "
		  "or check_relay_domains");
    mynetworks = mail_list_create(VAR_MYNETWORKS);
    addr_class_init();
    fast_flush = mail_list_create(VAR_FAST_FLUSH_DOMAINS);
    bare_lf_excl = mail_list_create(VAR_SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS);
    event_excl = mail_list_create(VAR_SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS);
    if (*mail_conf_str(VAR_RELAY_RECIPIENT_MAPS))
	relay_rcpt_maps = maps_create(VAR_RELAY_RECIPIENT_MAPS,
			mail_conf_str(VAR_RELAY_RECIPIENT_MAPS), DICT_FLAG_DEFAULT);
    reject_code = mail_conf_int(VAR_REJECT_CODE);
    defer_code = mail_conf_int(VAR_DEFER_CODE);
    relay_code = mail_conf_int(VAR_RELAY_DOMAINS_REJECT_CODE);
    unknown_relay_code = mail_conf_int(VAR_UNKNOWN_RELAY_RECIPIENT_REJECT_CODE);
    unknown_alias_code = mail_conf_int(VAR_UNKNOWN_VIRTUAL_ALIAS_REJECT_CODE);
    access_reject_code = mail_conf_int(VAR_ACCESS_MAP_REJECT_CODE);
    access_defer_code = mail_conf_int(VAR_ACCESS_MAP_DEFER_CODE);
    non_fqdn_code = mail_conf_int(VAR_NON_FQDN_REJECT_CODE);
    multi_bounce_code = mail_conf_int(VAR_MULTI_RECIPIENT_BOUNCE_REJECT_CODE);
    unknown_client_code = mail_conf_int(VAR_UNKNOWN_CLIENT_REJECT_CODE);
    invalid_hostname_code = mail_conf_int(VAR_INVALID_HOSTNAME_REJECT_CODE);
    smtpd_dnscheck_init();
    smtpd_dnsaccess_init();
    plaintext_code = mail_conf_int(VAR_PLAINTEXT_REJECT_CODE);
    sasl_enable = mail_conf_bool(VAR_SMTPD_SASL_AUTH_ENABLE);
    permit_log_actions = match_list_create(VAR_SMTPD_LOG_ACCESS_PERMIT_ACTIONS,
			    mail_conf_str(VAR_SMTPD_LOG_ACCESS_PERMIT_ACTIONS), 0);
    resolve_init();
    rcpt_route = resolve_reply_alloc();
    reject_unlisted = mail_conf_bool(VAR_SMTPD_REJECT_UNLISTED_RECIPIENT);
    allow_untrusted_routing = mail_conf_bool(VAR_ALLOW_UNTRUSTED_ROUTING);
    smtpd_forward_init();
}

/* smtpd_chk_reject - format a reject reply */
int     smtpd_chk_reject(SMTPD_STATE *state, long code, const char *dsn,
			         const char *fmt,...)
{
    va_list ap;
    char    fixed_dsn[16];

    /* soft_bounce: a 5xx reject becomes 4xx (554 -> 454), as in Postfix. */
    if (code >= 500 && code < 600 && var_soft_bounce)
	code -= 100;
    /* A 4xx reply carries a 4.x.x status, a 5xx one a 5.x.x status. */
    snprintf(fixed_dsn, sizeof(fixed_dsn), "%s", dsn);
    fixed_dsn[0] = code >= 500 ? '5' : '4';
    vstring_sprintf(state->reply, "%ld %s ", code, fixed_dsn);
    state->reply_class = 0;			/* policy, unless the caller says */
    va_start(ap, fmt);
    vstring_vsprintf_append(state->reply, fmt, ap);
    va_end(ap);
    return (CHK_REJECT);
}

/*
 * smtpd_chk_defer_if - hold a reply for defer_if_permit or defer_if_reject; the
 * first one of a stage is the one given.
 */
void    smtpd_chk_defer_if(SMTPD_STATE *state, VSTRING *held, long code,
			           const char *dsn, const char *fmt,...)
{
    VSTRING *text = vstring_alloc(100);
    va_list ap;

    vstring_sprintf(text, "%ld %s ", code, dsn);
    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    smtpd_chk_hold(state, held, vstring_str(text));
    vstring_free(text);
}

void    smtpd_chk_hold(SMTPD_STATE *state, VSTRING *held, const char *reply)
{
    /* Under warn_if_reject it is logged, not held. */
    if (state->warn_if_reject)
	smtpd_log_reject_warning(state, reply);
    else if (vstring_len(held) == 0)
	vstring_strcpy(held, reply);
}

/* stage_begin - a new stage (client, helo, sender, RCPT, ETRN) */
static void stage_begin(SMTPD_STATE *state)
{
    vstring_truncate(state->defer_if_permit, 0);
    vstring_truncate(state->defer_if_reject, 0);
}

/*
 * stage_end - the stage's outcome: a 5xx reject becomes the held
 * defer_if_reject reply, when there is one.
 */
static int stage_end(SMTPD_STATE *state, int r)
{
    if (r == CHK_REJECT && vstring_str(state->reply)[0] == '5'
	&& vstring_len(state->defer_if_reject) > 0) {
	vstring_strcpy(state->reply, vstring_str(state->defer_if_reject));
	state->reply_class = 0;			/* a policy reply */
    }
    return (r);
}

/*
 * stage_permit - what an accepted request gets: the first
 * defer_if_permit reply held (earlier stages first), else CHK_OK.
 */
static int stage_permit(SMTPD_STATE *state, VSTRING **held, int count)
{
    for (int i = 0; i < count; i++) {
	if (vstring_len(held[i]) > 0) {
	    vstring_strcpy(state->reply, vstring_str(held[i]));
	    state->reply_class = 0;		/* a policy reply */
	    return (CHK_REJECT);
	}
    }
    return (CHK_OK);
}

int     smtpd_chk_tempfail(SMTPD_STATE *state, const char *name)
{
    return (smtpd_chk_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure", name));
}

/*
 * log_permit - smtpd_log_access_permit_actions: "permit: RCPT from
 * host[addr]: action=permit_mynetworks for Client host=host[addr] ;
 * ..." for a restriction, "action=OK for Recipient address=x from
 * TABLE; ..." for a table result, as Postfix logs them.
 */
static void log_permit(SMTPD_STATE *state, const char *action, const char *name,
		               const char *class, const char *table)
{
    VSTRING *text;
    int     m;

    if ((m = match_list_string(permit_log_actions, action)) <= 0) {
	if (m < 0)
	    msg_warn("%s: %s", VAR_SMTPD_LOG_ACCESS_PERMIT_ACTIONS,
		     match_list_error(permit_log_actions));
	return;
    }
    text = vstring_alloc(100);
    /* A restriction's text ends in a blank before the ";", as Postfix's. */
    vstring_sprintf(text, "action=%s for %s=%s ", action, class, name);
    if (table)
	vstring_sprintf_append(text, "from %s", table);
    smtpd_log_permit(state, vstring_str(text));
    vstring_free(text);
}

/* lower_domain - a lower-case copy of an address's domain, or NULL */
char   *smtpd_chk_lower_domain(const char *addr)
{
    const char *domain = smtpd_addr_domain(addr);
    char   *copy;
    size_t  len;

    if (domain == 0)
	return (0);
    copy = lowercase(mystrdup(domain));
    /* A trailing dot names the same domain. */
    if ((len = strlen(copy)) > 1 && copy[len - 1] == '.')
	copy[len - 1] = 0;
    return (copy);
}

/* smtpd_chk_final_domain - local or virtual alias class? 1, 0, -1 */
int     smtpd_chk_final_domain(const char *domain)
{
    switch (addr_class_domain(domain, (ADDR_CLASS_INFO *) 0)) {
    case ADDR_CLASS_RETRY:
	return (-1);
    case ADDR_CLASS_LOCAL:
    case ADDR_CLASS_ALIAS:
	return (1);
    default:
	return (0);
    }
}

/* permit_auth_destination - CHK_OK when the recipient is ours, -1 error */
static int permit_auth_destination(SMTPD_STATE *state)
{
    char   *domain;
    int     class;

    if (state->recipient == 0)
	return (CHK_DUNNO);
    if (smtpd_forward_destination(state) == SMTPD_FWD_OK)
	return (CHK_OK);			/* SRS bounce address */
    if ((domain = smtpd_chk_lower_domain(state->recipient)) == 0)
	return (CHK_OK);			/* gets @$myorigin */
    class = addr_class_domain(domain, (ADDR_CLASS_INFO *) 0);
    myfree(domain);
    switch (class) {
    case ADDR_CLASS_RETRY:
	return (-1);
    case ADDR_CLASS_LOCAL:
    case ADDR_CLASS_ALIAS:
	/* Routing in the local part goes elsewhere: Postfix follows it. */
	return (smtpd_addr_routed(state->recipient) ? CHK_DUNNO : CHK_OK);
    case ADDR_CLASS_RELAY:
	/* Sender-specified routing to a relay domain (allow_untrusted_routing). */
	if (smtpd_addr_routed(state->recipient) && !allow_untrusted_routing)
	    return (CHK_DUNNO);
	return (CHK_OK);
    default:
	return (CHK_DUNNO);
    }
}

/* unauth_destination - reject/defer_unauth_destination */
static int unauth_destination(SMTPD_STATE *state, int defer)
{
    int     r = permit_auth_destination(state);

    if (r < 0)
	return (smtpd_chk_tempfail(state, RCPT_NAME(state)));
    if (r == CHK_OK || state->recipient == 0)
	return (CHK_DUNNO);
    return (smtpd_chk_reject(state, defer ? relay_code - 100 : relay_code,
			 defer ? "4.7.1" : "5.7.1",
			 "<%s>: Relay access denied", RCPT_NAME(state)));
}

/* rcpt_table_check - the recipient must be a key of its class's table */
static int rcpt_table_check(SMTPD_STATE *state, MAPS *maps, long code,
			            const char *table_text)
{
    if (maps == 0)
	return (CHK_DUNNO);
    if (maps_find_addr(maps, state->recipient, MAPS_ADDR_DEFAULT) != 0)
	return (CHK_DUNNO);
    if (maps->error) {
	msg_warn("%s lookup error for \"%s\"", maps->title, state->recipient);
	return (smtpd_chk_tempfail(state, RCPT_NAME(state)));
    }
    (void) smtpd_chk_reject(state, code, "5.1.1",
			    "<%s>: Recipient address rejected: User unknown%s%s",
			    RCPT_NAME(state), var_show_unk_rcpt_table ? " in " : "",
			    var_show_unk_rcpt_table ? table_text : "");
    /* Postfix sends no postmaster notice for an unknown user. */
    state->reply_class = SMTPD_NOTIFY_NONE;
    return (CHK_REJECT);
}

/*
 * class_rcpt_check - the recipient table of the recipient's address class
 * (addr_class_rcpt_param()), after virtual aliases were asked.
 */
static int class_rcpt_check(SMTPD_STATE *state, const ADDR_CLASS_INFO *info)
{
    switch (info->class) {
    case ADDR_CLASS_RELAY:
	return (rcpt_table_check(state, relay_rcpt_maps, unknown_relay_code,
				 "relay recipient table"));
    case ADDR_CLASS_LOCAL:
	/* local_recipient_maps, with the password database (smtpd_local.c). */
	return (smtpd_local_unlisted(state));
    default:
	return (CHK_DUNNO);
    }
}

/* status_len - the length of a leading "X.YYY.ZZZ" status code, or 0 */
static size_t status_len(const char *text)
{
    const char *cp = text;
    size_t  n;

    if (*cp != '2' && *cp != '4' && *cp != '5')
	return (0);
    for (int part = 0; part < 2; part++) {
	if (*++cp != '.' || (n = strspn(cp + 1, "0123456789")) < 1 || n > 3)
	    return (0);
	cp += n;
    }
    cp++;
    return (*cp == 0 || *cp == ' ' || *cp == '\t' ? (size_t) (cp - text) : 0);
}

/*
 * error_transport - a recipient that routes to the error or retry
 * transport is refused now, as Postfix does: "error:[5.x.x] text" gets
 * 550 (5.1.1 unless the text starts with a status), an address of the
 * virtual alias class unknown_virtual_alias_reject_code, "retry:[4.x.x]
 * text" 450 (4.1.1); empty text is "Address is undeliverable".
 */
static int error_transport(SMTPD_STATE *state)
{
    const char *transport = vstring_str(rcpt_route->transport);
    int     retry = strcmp(transport, "retry") == 0;
    const char *text = vstring_str(rcpt_route->nexthop);
    char    dsn[16];
    size_t  n;
    long    code;

    if (!retry && strcmp(transport, "error") != 0)
	return (CHK_DUNNO);
    snprintf(dsn, sizeof(dsn), "%s", retry ? "4.1.1" : "5.1.1");
    /* A leading status "d.ddd.ddd" replaces the default one. */
    if ((n = status_len(text)) > 0 && n < sizeof(dsn)) {
	memcpy(dsn, text, n);
	dsn[n] = 0;
	for (text += n; *text == ' ' || *text == '\t'; text++)
	     /* void */ ;
    }
    if (retry)
	code = 450;
    else if (rcpt_route->flags & RESOLVE_CLASS_ALIAS)
	code = unknown_alias_code;
    else
	code = 550;
    /* show_user_unknown_table_name = no: "User unknown in virtual alias table" */
    if (!var_show_unk_rcpt_table && strncmp(text, "User unknown in ", 16) == 0)
	text = "User unknown";
    (void) smtpd_chk_reject(state, code, dsn, "<%s>: Recipient address rejected: %s",
			    RCPT_NAME(state), *text ? text : "Address is undeliverable");
    if (strncmp(text, "User unknown", 12) == 0)
	state->reply_class = SMTPD_NOTIFY_NONE;
    return (CHK_REJECT);
}

/*
 * unlisted_recipient - reject_unlisted_recipient: an address with a
 * virtual alias exists; one that routes to error: or retry: does not;
 * else the recipient table of its address class decides.
 */
static int unlisted_recipient(SMTPD_STATE *state)
{
    ADDR_CLASS_INFO info;
    int     r;

    /* receive_override_options = no_unknown_recipient_checks */
    if (state->recipient == 0 || (var_input_transp & INPUT_TRANSP_UNKNOWN_RCPT))
	return (CHK_DUNNO);
    /* An address with a virtual alias (or a valid SRS address) exists. */
    switch (smtpd_forward_unlisted(state)) {
    case SMTPD_FWD_OK:
	return (CHK_DUNNO);
    case SMTPD_FWD_REJECT:
	return (CHK_REJECT);
    }
    if (resolve_addr(state->sender ? state->sender : "", state->recipient,
		     rcpt_route) != RESOLVE_OK)
	return (smtpd_chk_tempfail(state, RCPT_NAME(state)));
    if ((r = error_transport(state)) != CHK_DUNNO)
	return (r);
    /* The class of the final address: "user@other"@here is other's. */
    if (addr_class_addr(vstring_str(rcpt_route->recipient), &info) == ADDR_CLASS_RETRY)
	return (smtpd_chk_tempfail(state, RCPT_NAME(state)));
    return (class_rcpt_check(state, &info));
}

static int generic_checks(SMTPD_STATE *, ARGV *, const char *, const char *, int);

/*
 * prepend_header - a PREPEND result: the header goes above our Received:
 * header (smtpd_data.c), once per message.
 */
static void prepend_header(SMTPD_STATE *state, const char *text, const char *table)
{
    const char *cp;

    for (cp = text; *cp > ' ' && *cp < 127 && *cp != ':'; cp++)
	 /* void */ ;
    if (cp == text || *cp != ':') {
	msg_warn("%s: PREPEND action without valid \"name: value\" header: %.100s",
		 table, text);
	return;
    }
    if (state->prepend == 0)
	state->prepend = argv_alloc(2);
    for (size_t i = 0; i < state->prepend->argc; i++)
	if (strcmp(state->prepend->argv[i], text) == 0)
	    return;
    argv_add(state->prepend, text);
}

/* access_result - act on the value found in an access table */
static int access_result(SMTPD_STATE *state, const char *value,
			         const char *name, const char *class,
			         const char *table, int depth)
{
    char   *copy = mystrdup(value);
    char   *cp = copy;
    char   *word = mystrtok(&cp, " \t");
    char   *text;
    int     ret;
    long    code;
    char    dsn[16];

    if (word == 0)
	word = "";
    text = cp ? cp : "";
    while (*text == ' ' || *text == '\t')
	text++;
    if (strcasecmp(word, "OK") == 0 || (*word && *text == 0 && alldig(word))) {
	log_permit(state, word, name, class, table);
	ret = CHK_OK;
    } else if (strcasecmp(word, "DUNNO") == 0) {
	ret = CHK_DUNNO;
    } else if (strcasecmp(word, "PREPEND") == 0) {
	prepend_header(state, text, table);
	ret = CHK_DUNNO;
    } else if (strcasecmp(word, "FILTER") == 0) {
	/* After the queue: the message goes to this transport:nexthop first. */
	if (smtpd_content_filter(state, text) < 0) {
	    msg_warn("access table %s entry \"%s\" requires transport:destination",
		     table, name);
	} else {
	    VSTRING *why = vstring_alloc(100);

	    vstring_sprintf(why, "<%s>: %s triggers FILTER %s", name, class, text);
	    smtpd_log_action(state, "filter", state->where, vstring_str(why));
	    vstring_free(why);
	}
	ret = CHK_DUNNO;
    } else if (strcasecmp(word, "DEFER_IF_PERMIT") == 0
	       || strcasecmp(word, "DEFER_IF_REJECT") == 0) {
	smtpd_chk_defer_if(state, toupper((unsigned char) word[9]) == 'P' ?
		 state->defer_if_permit : state->defer_if_reject,
		 access_defer_code, "4.7.1", "<%s>: %s rejected: %s",
		 name, class, *text ? text : "Service unavailable");
	ret = CHK_DUNNO;
    } else if (strcasecmp(word, "REJECT") == 0 || strcasecmp(word, "DEFER") == 0) {
	int     defer = strcasecmp(word, "DEFER") == 0;

	ret = smtpd_chk_reject(state, defer ? access_defer_code : access_reject_code,
			   defer ? "4.7.1" : "5.7.1", "<%s>: %s rejected: %s",
			   name, class, *text ? text : "Access denied");
    } else if (strlen(word) == 3 && (word[0] == '4' || word[0] == '5')
	       && isdigit((unsigned char) word[1]) && isdigit((unsigned char) word[2])) {
	code = atol(word);
	snprintf(dsn, sizeof(dsn), "%c.7.1", word[0]);
	/* "5xx 5.1.1 text": the status code comes from the table. */
	if (isdigit((unsigned char) text[0]) && text[1] == '.') {
	    size_t  n = strcspn(text, " \t");

	    if (n < sizeof(dsn) && text[0] == word[0]) {
		memcpy(dsn, text, n);
		dsn[n] = 0;
		text += n;
		while (*text == ' ' || *text == '\t')
		    text++;
	    }
	}
	ret = smtpd_chk_reject(state, code, dsn, "<%s>: %s rejected: %s",
			   name, class, *text ? text : "Access denied");
    } else {
	ARGV   *list = argv_split_list(value);

	if (depth >= MAX_DEPTH) {
	    msg_warn("access table %s entry %s causes unreasonable recursion",
		     table, value);
	    ret = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	} else {
	    ret = generic_checks(state, list, name, class, depth + 1);
	}
	argv_free(list);
    }
    myfree(copy);
    return (ret);
}

/* lookup - one key in a table; 1 found (*ret set), 0 not, -1 error */
static int lookup(SMTPD_STATE *state, MAPS *maps, const char *key, int flags,
		          const char *name, const char *class, int depth, int *ret)
{
    const char *value = maps_find(maps, key, flags);

    if (value) {
	*ret = access_result(state, value, name, class, maps->title, depth);
	return (1);
    }
    /* A table that could not be opened: Postfix's configuration error. */
    if (maps->error == DICT_ERR_CONFIG) {
	*ret = smtpd_chk_reject(state, 451, "4.3.5", "<%s>: %s rejected: Server configuration error",
				name, class);
	return (-1);
    }
    if (maps->error) {
	msg_warn("%s: table lookup problem for \"%s\"", maps->title, key);
	*ret = smtpd_chk_tempfail(state, name);
	return (-1);
    }
    return (0);
}

/* check_domain_access - a domain, then its parents; 1 when decided */
static int check_domain_access(SMTPD_STATE *state, MAPS *maps, const char *domain,
			               const char *name, const char *class,
			               int depth, int *ret)
{
    const char *cp;
    VSTRING *key;
    int     found;
    /* Not a parameter: the name access tables go by in that list. */
    int     parent_match = mail_list_parent_flag("smtpd_access_maps") != 0;

    if ((found = lookup(state, maps, domain, 0, name, class, depth, ret)) != 0)
	return (1);
    key = vstring_alloc(100);
    for (cp = strchr(domain, '.'); cp && cp[1]; cp = strchr(cp + 1, '.')) {
	vstring_strcpy(key, parent_match ? cp + 1 : cp);
	if ((found = lookup(state, maps, vstring_str(key), MAPS_FIND_FIXED,
			    name, class, depth, ret)) != 0)
	    break;
    }
    vstring_free(key);
    return (found != 0);
}

/*
 * check_mail_access - check_sender_access, check_recipient_access: addr
 * is looked up, name is what the reply shows
 */
static int check_mail_access(SMTPD_STATE *state, MAPS *maps, const char *addr,
			             const char *name, const char *class, int depth)
{
    const char *key = *addr ? addr : mail_conf_str(VAR_SMTPD_NULL_ACCESS_LOOKUP_KEY);
    char   *domain;
    int     ret = CHK_DUNNO;
    VSTRING *buf;

    if (lookup(state, maps, key, 0, name, class, depth, &ret))
	return (ret);
    if ((domain = smtpd_chk_lower_domain(addr)) != 0) {
	if (check_domain_access(state, maps, domain, name, class, depth, &ret)) {
	    myfree(domain);
	    return (ret);
	}
	myfree(domain);
	buf = vstring_alloc(100);
	vstring_strncpy(buf, addr, smtpd_addr_domain(addr) - addr);
	lookup(state, maps, vstring_str(buf), MAPS_FIND_FIXED, name, class, depth, &ret);
	vstring_free(buf);
    }
    return (ret);
}

/* check_client_access - host name and parents, address and networks */
static int check_client_access(SMTPD_STATE *state, MAPS *maps, int depth)
{
    int     ret = CHK_DUNNO;
    char   *copy, *dot;

    if (strcmp(state->name, "unknown") != 0
	&& check_domain_access(state, maps, state->name, state->namaddr,
			       "Client host", depth, &ret))
	return (ret);
    if (lookup(state, maps, state->addr, 0, state->namaddr, "Client host", depth, &ret))
	return (ret);
    if (strchr(state->addr, ':') == 0) {
	copy = mystrdup(state->addr);
	while ((dot = strrchr(copy, '.')) != 0) {
	    *dot = 0;
	    if (lookup(state, maps, copy, MAPS_FIND_FIXED, state->namaddr,
		       "Client host", depth, &ret))
		break;
	}
	myfree(copy);
    }
    return (ret);
}

/* smtpd_chk_lookup - lookup() for the other parts of the policy */
int     smtpd_chk_lookup(SMTPD_STATE *state, MAPS *maps, const char *key, int flags,
		               const char *name, const char *class, int depth, int *ret)
{
    return (lookup(state, maps, key, flags, name, class, depth, ret));
}

/* smtpd_chk_domain_access - check_domain_access() for the other parts */
int     smtpd_chk_domain_access(SMTPD_STATE *state, MAPS *maps, const char *domain,
			             const char *name, const char *class, int depth,
				        int *ret)
{
    return (check_domain_access(state, maps, domain, name, class, depth, ret));
}

/* smtpd_chk_auth_destination - permit_auth_destination() for the others */
int     smtpd_chk_auth_destination(SMTPD_STATE *state)
{
    return (permit_auth_destination(state));
}

/* policy_check - check_policy_service server */
static int policy_check(SMTPD_STATE *state, const char *server, const char *name,
			        const char *class, int depth)
{
    VSTRING *action = vstring_alloc(100);
    const char *etrn = strcmp(state->where, "ETRN") == 0 ? name : 0;
    int     r;

    if (smtpd_policy_query(state, server, etrn, action) < 0)
	vstring_strcpy(action, mail_conf_str(VAR_SMTPD_POLICY_SERVICE_DEFAULT_ACTION));
    r = access_result(state, vstring_str(action), name, class, server, depth);
    vstring_free(action);
    return (r);
}

/* unverified - reject_unverified_{recipient,sender} as a list result */
static int unverified(SMTPD_STATE *state, const char *addr, int is_sender)
{
    switch (smtpd_forward_unverified(state, addr, is_sender)) {
    case SMTPD_FWD_REJECT:
	return (CHK_REJECT);
    case SMTPD_FWD_DEFER_IF_PERMIT:
	smtpd_chk_hold(state, state->defer_if_permit, vstring_str(state->reply));
	return (CHK_DUNNO);
    default:
	return (CHK_DUNNO);
    }
}

/*
 * The steps of generic_checks(). Each knows some restriction names: it
 * returns STEP_DONE when it knows n (its result in *r, which is CHK_DUNNO
 * on entry), STEP_UNKNOWN when not.
 */
#define STEP_UNKNOWN	0		/* not one of this step's names */
#define STEP_DONE	1		/* *r is the restriction's result */
#define STEP_FINAL	2		/* *r is an error warn_if_reject keeps */

/* verdict_step - restrictions that decide by themselves */
static int verdict_step(SMTPD_STATE *state, const char *n, const char *name,
			        const char *class, int *r)
{
    if (strcasecmp(n, "permit") == 0) {
	*r = CHK_OK;
    } else if (strcasecmp(n, "reject") == 0) {
	*r = smtpd_chk_reject(state, reject_code, "5.7.1", "<%s>: %s rejected: Access denied",
			      name, class);
    } else if (strcasecmp(n, "defer") == 0) {
	*r = smtpd_chk_reject(state, defer_code, "4.3.2", "<%s>: %s rejected: Try again later",
			      name, class);
    } else if (strcasecmp(n, "defer_if_permit") == 0) {
	smtpd_chk_defer_if(state, state->defer_if_permit, 450, "4.7.0",
		     "<%s>: %s rejected: defer_if_permit requested", name, class);
    } else if (strcasecmp(n, "defer_if_reject") == 0) {
	smtpd_chk_defer_if(state, state->defer_if_reject, 450, "4.7.0",
		     "<%s>: %s rejected: defer_if_reject requested", name, class);
    } else if (strcasecmp(n, "permit_sasl_authenticated") == 0) {
	*r = smtpd_sasl_permit(state);
    } else if (strcasecmp(n, "permit_tls_clientcerts") == 0) {
	*r = smtpd_tls_permit_ccert(state, 0);
    } else if (strcasecmp(n, "permit_tls_all_clientcerts") == 0) {
	*r = smtpd_tls_permit_ccert(state, 1);
    } else if (strcasecmp(n, "dunno") == 0) {
	 /* nothing */ ;
    } else {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/* client_step - the client, its HELO name and its pipelining */
static int client_step(SMTPD_STATE *state, const char *n, const char *name,
		               const char *class, int *r)
{
    int     m;

    if (strcasecmp(n, "permit_mynetworks") == 0) {
	if ((m = match_list_client(mynetworks, state->name, state->addr)) < 0)
	    *r = smtpd_chk_tempfail(state, state->namaddr);
	else if (m > 0)
	    *r = CHK_OK;
    } else if (strcasecmp(n, "reject_unknown_reverse_client_hostname") == 0) {
	if (strcmp(state->reverse_name, "unknown") == 0)
	    *r = smtpd_chk_reject(state, unknown_client_code, "4.7.1", "Client host rejected: "
			  "cannot find your reverse hostname, [%s]", state->addr);
    } else if (strcasecmp(n, "reject_unknown_client_hostname") == 0) {
	if (strcmp(state->name, "unknown") == 0)
	    *r = smtpd_chk_reject(state, unknown_client_code, "4.7.25", "Client host rejected: "
				  "cannot find your hostname, [%s]", state->addr);
    } else if (strcasecmp(n, "reject_non_fqdn_helo_hostname") == 0) {
	if (state->helo_name && (strchr(state->helo_name, '.') == 0
				 || !smtpd_valid_hostname(state->helo_name)))
	    *r = smtpd_chk_reject(state, non_fqdn_code, "5.5.2",
				  "<%s>: Helo command rejected: "
				  "need fully-qualified hostname", state->helo_name);
    } else if (strcasecmp(n, "reject_invalid_helo_hostname") == 0) {
	*r = smtpd_dnscheck_helo_syntax(state);
    } else if (strcasecmp(n, "reject_unknown_helo_hostname") == 0) {
	*r = smtpd_dnscheck_helo(state);
    } else if (strcasecmp(n, "reject_unauth_pipelining") == 0) {
	if (state->ill_pipelining) {
	    *r = smtpd_chk_reject(state, 503, "5.5.0", "<%s>: %s rejected: "
			     "Improper use of SMTP command pipelining", name, class);
	    /* Postfix counts this as a protocol error, not policy. */
	    state->reply_class = SMTPD_NOTIFY_PROTOCOL;
	}
    } else {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/* sender_step - the sender address */
static int sender_step(SMTPD_STATE *state, const char *n, const char *name,
		               const char *class, int *r)
{
    if (strcasecmp(n, "reject_non_fqdn_sender") == 0) {
	if (state->sender && *state->sender && !smtpd_addr_fqdn(SENDER_NAME(state)))
	    *r = smtpd_chk_reject(state, non_fqdn_code, "5.5.2",
				  "<%s>: Sender address rejected: "
				  "need fully-qualified address", SENDER_NAME(state));
    } else if (strcasecmp(n, "reject_unknown_sender_domain") == 0) {
	if (state->sender)
	    *r = smtpd_dnscheck_domain(state, state->sender, 1);
    } else if (strcasecmp(n, "reject_unverified_sender") == 0) {
	if (state->sender)
	    *r = unverified(state, state->sender, 1);
    } else if (strcasecmp(n, "reject_multi_recipient_bounce") == 0) {
	/* At RCPT the current recipient is not counted yet. */
	if (state->sender && *state->sender == 0
	    && state->rcpt_count + (strcmp(state->where, "RCPT") == 0) > 1)
	    *r = smtpd_chk_reject(state, multi_bounce_code, "5.5.3",
			   "<%s>: %s rejected: Multi-recipient bounce", name, class);
    } else if (strncasecmp(n, "reject_", 7) == 0 && strlen(n) > 21
	       && strcasecmp(n + strlen(n) - 21, "sender_login_mismatch") == 0) {
	*r = smtpd_sasl_login_mismatch(state, n);
    } else if (strcasecmp(n, "reject_unlisted_sender") == 0) {
	*r = smtpd_sasl_unlisted_sender(state, unlisted_recipient, 0);
    } else {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/* recipient_step - the recipient: relay control, whether it exists */
static int recipient_step(SMTPD_STATE *state, const char *n, int *r)
{
    int     m;

    if (strcasecmp(n, "reject_unauth_destination") == 0) {
	*r = unauth_destination(state, 0);
    } else if (strcasecmp(n, "defer_unauth_destination") == 0) {
	*r = unauth_destination(state, 1);
    } else if (strcasecmp(n, "permit_auth_destination") == 0) {
	if ((m = permit_auth_destination(state)) < 0)
	    *r = smtpd_chk_tempfail(state, RCPT_NAME(state));
	else
	    *r = m;
    } else if (strcasecmp(n, "reject_unlisted_recipient") == 0
	       || strcasecmp(n, "check_recipient_maps") == 0) {
	*r = unlisted_recipient(state);
    } else if (strcasecmp(n, "reject_unverified_recipient") == 0) {
	if (state->recipient)
	    *r = unverified(state, state->recipient, 0);
    } else if (strcasecmp(n, "reject_non_fqdn_recipient") == 0) {
	if (state->recipient && !smtpd_addr_fqdn(RCPT_NAME(state)))
	    *r = smtpd_chk_reject(state, non_fqdn_code, "5.5.2",
				  "<%s>: Recipient address rejected: "
				  "need fully-qualified address", RCPT_NAME(state));
    } else if (strcasecmp(n, "reject_unknown_recipient_domain") == 0) {
	if (state->recipient)
	    *r = smtpd_dnscheck_domain(state, state->recipient, 0);
    } else {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/*
 * relay_domains_check - check_relay_domains (obsolete): permit a client
 * whose name is in relay_domains, or a recipient of ours; else reject
 */
static int relay_domains_check(SMTPD_STATE *state)
{
    int     m;

    if (strcmp(state->name, "unknown") != 0
	&& (m = addr_class_listed(ADDR_CLASS_RELAY, state->name)) != 0)
	return (m > 0 ? CHK_OK : smtpd_chk_tempfail(state, state->namaddr));
    if (state->recipient == 0)
	return (CHK_DUNNO);
    if ((m = permit_auth_destination(state)) < 0)
	return (smtpd_chk_tempfail(state, RCPT_NAME(state)));
    if (m == CHK_OK)
	return (CHK_OK);
    return (smtpd_chk_reject(state, relay_code, "5.7.1",
			     "<%s>: Recipient address rejected: Relay access denied",
			     RCPT_NAME(state)));
}

/* naked_ip_check - permit_naked_ip_address (obsolete): HELO 192.0.2.1 */
static int naked_ip_check(SMTPD_STATE *state)
{
    const char *helo = state->helo_name;

    msg_warn("restriction permit_naked_ip_address is deprecated. "
	     "Use permit_mynetworks or permit_sasl_authenticated instead");
    if (helo == 0 || *helo == 0 || helo[strspn(helo, "0123456789.:")] != 0)
	return (CHK_DUNNO);
    if (valid_ipv4_addr(helo))
	return (CHK_OK);
    return (smtpd_chk_reject(state, invalid_hostname_code, "5.5.2",
			     "<%s>: Helo command rejected: invalid ip address", helo));
}

/* warn_obsolete - Postfix's warning for a restriction it will drop, once */
static void warn_obsolete(const char *name, const char *instead, int *warned)
{
    if (!*warned)
	msg_warn("support for restriction \"%s\" will be removed from Postfix; "
		 "use \"%s\" instead", name, instead);
    *warned = 1;
}

/*
 * extra_step - permit_mx_backup, reject_plaintext_session, and the old
 * names that Postfix 3.7 still takes: reject_unknown_client,
 * reject_unknown_hostname, reject_invalid_hostname and
 * reject_non_fqdn_hostname (silently, as their new names),
 * check_relay_domains, reject_maps_rbl and permit_naked_ip_address (with
 * Postfix's warnings)
 */
static int extra_step(SMTPD_STATE *state, const char *n, const char *name,
		              const char *class, int *r)
{
    static const char *synonyms[][2] = {
	{"reject_unknown_client", "reject_unknown_client_hostname"},
	{"reject_unknown_hostname", "reject_unknown_helo_hostname"},
	{"reject_invalid_hostname", "reject_invalid_helo_hostname"},
	{"reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname"},
    };
    static int warned_relay_domains, warned_maps_rbl;

    for (size_t i = 0; i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
	if (strcasecmp(n, synonyms[i][0]) == 0)
	    return (client_step(state, synonyms[i][1], name, class, r));
    if (strcasecmp(n, "permit_mx_backup") == 0) {
	*r = smtpd_dnsaccess_mx_backup(state);
    } else if (strcasecmp(n, "reject_plaintext_session") == 0) {
	if (!state->tls)
	    *r = smtpd_chk_reject(state, plaintext_code, "4.7.1",
				  "Session encryption is required");
    } else if (strcasecmp(n, "check_relay_domains") == 0) {
	warn_obsolete("check_relay_domains", "reject_unauth_destination",
		      &warned_relay_domains);
	*r = relay_domains_check(state);
    } else if (strcasecmp(n, "reject_maps_rbl") == 0) {
	warn_obsolete("reject_maps_rbl", "reject_rbl_client domain-name", &warned_maps_rbl);
	*r = smtpd_dnscheck_maps_rbl(state);
    } else if (strcasecmp(n, "permit_naked_ip_address") == 0) {
	*r = naked_ip_check(state);
    } else {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/*
 * more_access_step - the tables of the ETRN domain (and its parents, only
 * at ETRN), of the SASL login name (as it is: Postfix 3.7 does not add
 * smtpd_sasl_local_domain), and of the servers of a DNS name
 * (smtpd_dnsaccess.c). name is the ETRN domain at ETRN.
 */
static int more_access_step(SMTPD_STATE *state, const char *n, MAPS *maps,
			            const char *name, int depth, int *r)
{
    if (strcasecmp(n, "check_etrn_access") == 0) {
	if (strcmp(state->where, "ETRN") == 0)
	    check_domain_access(state, maps, name, name, "Etrn command", depth, r);
    } else if (strcasecmp(n, "check_sasl_access") == 0) {
	if (!sasl_enable)
	    msg_warn("restriction `check_sasl_access' ignored: no SASL support");
	else if (state->sasl_username && *state->sasl_username)
	    lookup(state, maps, state->sasl_username, 0, state->sasl_username,
		   "SASL login name", depth, r);
    } else if (!smtpd_dnsaccess(state, n, maps, depth, r)) {
	return (STEP_UNKNOWN);
    }
    return (STEP_DONE);
}

/*
 * sleep_step - "sleep seconds": pause, then go on with the list; anything
 * but a number after it is a configuration error, as in Postfix
 */
static int sleep_step(SMTPD_STATE *state, ARGV *list, size_t *ip, int *r)
{
    const char *arg = *ip + 1 < list->argc ? list->argv[++*ip] : "";
    unsigned long seconds;

    if (*arg == 0 || arg[strspn(arg, "0123456789")] != 0) {
	msg_warn("restriction sleep must be followed by number");
	*r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	return (STEP_DONE);
    }
    seconds = strtoul(arg, (char **) 0, 10);
    sleep(seconds > UINT_MAX ? UINT_MAX : (unsigned) seconds);
    return (STEP_DONE);
}

/* warn_ignored - what follows a restriction that always decides is dead */
static void warn_ignored(SMTPD_STATE *state, ARGV *list, size_t i)
{
    static const char *final[] = {"permit", "reject", "defer", "check_relay_domains", 0};

    if (state->warn_if_reject || i + 1 >= list->argc)
	return;
    for (const char **cp = final; *cp; cp++)
	if (strcasecmp(list->argv[i], *cp) == 0)
	    msg_warn("restriction `%s' after `%s' is ignored", list->argv[i + 1],
		     list->argv[i]);
}

/* is_access_restriction - check_<what>_access */
static int is_access_restriction(const char *n)
{
    size_t  len = strlen(n);

    return (len > 13 && strncasecmp(n, "check_", 6) == 0
	    && strcmp(n + len - 7, "_access") == 0);
}

/*
 * ccert_access - check_ccert_access: the client certificate's
 * fingerprints in search order; the reply names its CommonName
 */
static int ccert_access(SMTPD_STATE *state, const char *arg, int depth)
{
    const TLS_INFO *info = state->tls_info;
    int     order[2], count, ret = CHK_DUNNO;
    char   *table = ccert_arg(arg, order, &count);
    MAPS   *maps;

    if (state->tls && info && info->peer_cert) {
	if ((maps = table_find(table)) == 0) {
	    table_open(table);
	    maps = table_find(table);
	}
	for (int i = 0; i < count; i++) {
	    const char *key = order[i] == CCERT_CERT ? info->cert_fprint : info->pkey_fprint;

	    if (*key && lookup(state, maps, key, 0, info->peer_CN, "Client certificate",
			       depth, &ret) != 0)
		break;
	}
    }
    myfree(table);
    return (ret);
}

/* access_step - check_<what>_access table: one table of the list */
static int access_step(SMTPD_STATE *state, const char *n, const char *table,
		               const char *name, int depth, int *r)
{
    MAPS   *maps;

    if (strcasecmp(n, "check_ccert_access") == 0) {
	*r = ccert_access(state, table, depth);
	return (STEP_DONE);
    }

    if ((maps = table_find(table)) == 0) {
	/* A table named only in an access result: open it now. */
	table_open(table);
	maps = table_find(table);
    }
    if (strcasecmp(n, "check_client_access") == 0) {
	*r = check_client_access(state, maps, depth);
    } else if (strcasecmp(n, "check_helo_access") == 0) {
	if (state->helo_name)
	    check_domain_access(state, maps, state->helo_name,
				state->helo_name, "Helo command", depth, r);
    } else if (strcasecmp(n, "check_sender_access") == 0) {
	if (state->sender)
	    *r = check_mail_access(state, maps, state->sender, SENDER_NAME(state),
				   "Sender address", depth);
    } else if (strcasecmp(n, "check_recipient_access") == 0) {
	if (state->recipient)
	    *r = check_mail_access(state, maps, state->recipient, RCPT_NAME(state),
				   "Recipient address", depth);
    } else {
	return (more_access_step(state, n, maps, name, depth, r));
    }
    return (STEP_DONE);
}

/*
 * argument_step - restrictions followed by an argument in the list: DNS
 * lists, access tables, the policy service. *ip is moved past the
 * argument. A DNS list without its domain is a configuration error that
 * warn_if_reject does not soften.
 */
static int argument_step(SMTPD_STATE *state, ARGV *list, size_t *ip,
			         const char *name, const char *class, int depth,
			         int *r)
{
    const char *n = list->argv[*ip];
    int     has_arg = *ip + 1 < list->argc;

    if (strcasecmp(n, "reject_rbl_client") == 0
	|| strcasecmp(n, "permit_dnswl_client") == 0
	|| strcasecmp(n, "permit_rhswl_client") == 0
	|| strncasecmp(n, "reject_rhsbl_", 13) == 0) {
	if (!has_arg) {
	    msg_warn("restriction %s requires domain name argument", n);
	    return (STEP_DONE);
	}
	*r = smtpd_dnscheck_list(state, n, list->argv[++*ip]);
	return (STEP_DONE);
    }
    if (is_access_restriction(n) && has_arg) {
	++*ip;
	if (access_step(state, n, list->argv[*ip], name, depth, r) == STEP_UNKNOWN)
	    return (STEP_UNKNOWN);
	return (STEP_DONE);
    }
    if (strcasecmp(n, "sleep") == 0)
	return (sleep_step(state, list, ip, r));
    if (strcasecmp(n, "check_policy_service") == 0 && has_arg) {
	*r = policy_check(state, list->argv[++*ip], name, class, depth);
	return (STEP_DONE);
    }
    return (STEP_UNKNOWN);
}

/* soften_reject - under warn_if_reject a reject is logged, not given */
static int soften_reject(SMTPD_STATE *state, int r)
{
    /* A configuration error is not a reject: Postfix 3.7 gives it anyway. */
    if (state->warn_if_reject && r == CHK_REJECT
	&& strcmp(vstring_str(state->reply), "451 4.3.5 Server configuration error") != 0) {
	smtpd_log_reject_warning(state, vstring_str(state->reply));
	return (CHK_DUNNO);
    }
    return (r);
}

/* is_client_permit - a permit about the client, whatever the list */
static int is_client_permit(const char *n)
{
    static const char *names[] = {
	"permit_mynetworks", "permit_dnswl_client", "permit_rhswl_client",
	"permit_inet_interfaces",
	"permit_sasl_authenticated", "permit_tls_clientcerts",
	"permit_tls_all_clientcerts", 0,
    };

    for (const char **cp = names; *cp; cp++)
	if (strcasecmp(n, *cp) == 0)
	    return (1);
    return (0);
}

/*
 * class_step - a name of smtpd_restriction_classes: its list, in the
 * same context (a name of Postfix's own wins over a class so named)
 */
static int class_step(SMTPD_STATE *state, const char *n, const char *name,
		              const char *class, int depth, int *r)
{
    ARGV   *list;

    if ((list = class_find(n)) == 0)
	return (STEP_UNKNOWN);
    if (depth >= MAX_DEPTH) {
	msg_warn("restriction class %s causes unreasonable recursion", n);
	*r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	return (STEP_FINAL);
    }
    *r = generic_checks(state, list, name, class, depth + 1);
    return (STEP_DONE);
}

/* generic_checks - evaluate one restriction list */
static int generic_checks(SMTPD_STATE *state, ARGV *list, const char *name,
			          const char *class, int depth)
{
    size_t  i;
    int     r = CHK_DUNNO;
    int     step;
    int     outer_warn = state->warn_if_reject;
    int     warn = 0;
    int     builtin;

    for (i = 0; i < list->argc && r == CHK_DUNNO; i++) {
	const char *n = list->argv[i];

	/* warn_if_reject: the next restriction logs instead of rejecting. */
	if (strcasecmp(n, "warn_if_reject") == 0) {
	    warn = 1;
	    continue;
	}
	state->warn_if_reject = warn || outer_warn;
	if (msg_verbose)
	    msg_info("generic_checks: name=%s", n);
	builtin = 0;
	warn_ignored(state, list, i);
	if (verdict_step(state, n, name, class, &r) || client_step(state, n, name, class, &r)
	    || sender_step(state, n, name, class, &r) || recipient_step(state, n, &r)
	    || extra_step(state, n, name, class, &r))
	    step = builtin = STEP_DONE;
	else if ((step = argument_step(state, list, &i, name, class, depth, &r)) == STEP_UNKNOWN)
	    step = class_step(state, n, name, class, depth, &r);
	/* permit_dnswl_client is a restriction too; tables log their own. */
	if (r == CHK_OK && (builtin || strcasecmp(n, "permit_dnswl_client") == 0
			    || strcasecmp(n, "permit_rhswl_client") == 0)) {
	    if (is_client_permit(n))
		log_permit(state, n, state->namaddr, "Client host", (char *) 0);
	    else
		log_permit(state, n, name, class, (char *) 0);
	}
	if (msg_verbose)
	    msg_info("generic_checks: name=%s status=%d", n, r);
	if (step == STEP_FINAL)
	    break;
	if (step == STEP_UNKNOWN) {
	    msg_warn("unknown smtpd restriction: \"%s\"", n);
	    r = smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error");
	}
	r = soften_reject(state, r);
	warn = 0;
    }
    state->warn_if_reject = outer_warn;
    return (r);
}

/* result - the outcome of a list for the caller */
static int result(int r)
{
    return (r == CHK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK);
}

/*
 * Each stage's checks: its list (or lists), then its defer_if_reject.
 * A stage's defer_if_permit is kept for the RCPT (and ETRN) stage.
 */
static int client_checks(SMTPD_STATE *state)
{
    int     r;

    stage_begin(state);
    r = stage_end(state, generic_checks(state, client_list, state->namaddr,
					"Client host", 0));
    vstring_strcpy(state->dip_client, vstring_str(state->defer_if_permit));
    return (r);
}

static int helo_checks(SMTPD_STATE *state)
{
    int     r = CHK_DUNNO;

    stage_begin(state);
    if (state->helo_name)
	r = stage_end(state, generic_checks(state, helo_list, state->helo_name,
					    "Helo command", 0));
    vstring_strcpy(state->dip_helo, vstring_str(state->defer_if_permit));
    return (r);
}

static int sender_checks(SMTPD_STATE *state)
{
    int     r = CHK_DUNNO;

    stage_begin(state);
    if (state->sender)
	r = stage_end(state, generic_checks(state, sender_list, SENDER_NAME(state),
					    "Sender address", 0));
    /* smtpd_reject_unlisted_sender: even when the restrictions permit. */
    if (r != CHK_REJECT && smtpd_sasl_unlisted_sender(state, unlisted_recipient, 1) == CHK_REJECT)
	r = stage_end(state, CHK_REJECT);
    vstring_strcpy(state->dip_sender, vstring_str(state->defer_if_permit));
    return (r);
}

int     smtpd_check_client(SMTPD_STATE *state)
{
    return (result(client_checks(state)));
}

int     smtpd_check_helo(SMTPD_STATE *state)
{
    return (result(helo_checks(state)));
}

int     smtpd_check_mail(SMTPD_STATE *state)
{
    return (result(sender_checks(state)));
}

int     smtpd_check_rcpt(SMTPD_STATE *state)
{
    VSTRING *held[4];
    int     r;

    /* RFC 5321 4.5.1: "postmaster" without a domain is always accepted. */
    if (state->rcpt_given && strcasecmp(state->rcpt_given, "postmaster") == 0)
	return (SMTPD_CHECK_OK);
    if (var_smtpd_delay_reject) {
	if (client_checks(state) == CHK_REJECT
	    || helo_checks(state) == CHK_REJECT
	    || sender_checks(state) == CHK_REJECT)
	    return (SMTPD_CHECK_REJECT);
    }
    stage_begin(state);
    if ((r = generic_checks(state, relay_list, RCPT_NAME(state),
			    "Recipient address", 0)) != CHK_REJECT)
	r = generic_checks(state, rcpt_list, RCPT_NAME(state), "Recipient address", 0);
    if (r != CHK_REJECT && smtpd_forward_rcpt_check(state) == SMTPD_FWD_REJECT)
	r = CHK_REJECT;
    if (r != CHK_REJECT && reject_unlisted && unlisted_recipient(state) == CHK_REJECT)
	r = CHK_REJECT;
    if (stage_end(state, r) == CHK_REJECT)
	return (SMTPD_CHECK_REJECT);

    /* Accepted: unless some stage said defer_if_permit. */
    held[0] = state->dip_client;
    held[1] = state->dip_helo;
    held[2] = state->dip_sender;
    held[3] = state->defer_if_permit;
    return (result(stage_permit(state, held, 4)));
}

int     smtpd_check_etrn(SMTPD_STATE *state, const char *domain)
{
    VSTRING *held[3];
    int     r;

    if (var_smtpd_delay_reject
	&& (client_checks(state) == CHK_REJECT || helo_checks(state) == CHK_REJECT))
	return (SMTPD_CHECK_REJECT);
    stage_begin(state);
    if ((r = stage_end(state, generic_checks(state, etrn_list, domain,
					     "Etrn command", 0))) == CHK_REJECT)
	return (SMTPD_CHECK_REJECT);
    held[0] = state->dip_client;
    held[1] = state->dip_helo;
    held[2] = state->defer_if_permit;
    return (result(stage_permit(state, held, 3)));
}

/*
 * data_stage - smtpd_data_restrictions or smtpd_end_of_data_restrictions.
 * A recipient-based check sees the recipient only when there is just
 * one: a reply that names one recipient must hold for all of them.
 */
static int data_stage(SMTPD_STATE *state, ARGV *list, const char *name, const char *class)
{
    char   *saved = state->recipient;
    char   *saved_given = state->rcpt_given;
    int     r;

    if (list->argc == 0)
	return (SMTPD_CHECK_OK);
    /* XXX The recipient shows with its @$myorigin, if it got one. */
    state->recipient = state->rcpt_count == 1 ? state->first_rcpt : 0;
    state->rcpt_given = 0;
    stage_begin(state);
    r = stage_end(state, generic_checks(state, list, name, class, 0));
    if (r != CHK_REJECT)
	r = stage_permit(state, &state->defer_if_permit, 1);
    state->recipient = saved;
    state->rcpt_given = saved_given;
    return (result(r));
}

int     smtpd_check_data(SMTPD_STATE *state)
{
    return (data_stage(state, data_list, "DATA", "Data command"));
}

int     smtpd_check_eod(SMTPD_STATE *state)
{
    return (data_stage(state, eod_list, "END-OF-MESSAGE", "End-of-data"));
}

int     smtpd_check_queue_space(SMTPD_STATE *state, long size)
{
    struct statvfs st;
    double  avail;

    if (size <= 0 && var_queue_minfree <= 0)
	return (SMTPD_CHECK_OK);
    if (statvfs(MAIL_QUEUE_INCOMING, &st) < 0)
	return (SMTPD_CHECK_OK);
    avail = (double) st.f_bavail * (double) st.f_frsize;
    if (avail < var_queue_minfree + 1.5 * (double) size) {
	vstring_strcpy(state->reply, "452 4.3.1 Insufficient system storage");
	msg_warn("not enough free space in mail queue: %.0f bytes < 1.5*message size limit",
		 avail);
	return (SMTPD_CHECK_REJECT);
    }
    return (SMTPD_CHECK_OK);
}

int     smtpd_check_mynetworks(SMTPD_STATE *state)
{
    return (match_list_client(mynetworks, state->name, state->addr) > 0);
}

int     smtpd_check_bare_lf_exempt(SMTPD_STATE *state)
{
    return (match_list_client(bare_lf_excl, state->name, state->addr) > 0);
}

int     smtpd_check_event_exempt(SMTPD_STATE *state)
{
    return (match_list_client(event_excl, state->name, state->addr) > 0);
}

/*
 * smtpd_check_rewrite_client - local_header_rewrite_clients: may missing
 * Message-Id: and Date: headers be added to this client's mail
 */
int     smtpd_check_rewrite_client(SMTPD_STATE *state)
{
    static ARGV *list;			/* the parameter does not change */
    size_t  i;
    int     found = 0;

    if (list == 0)
	list = argv_split_list(mail_conf_str(VAR_LOCAL_HEADER_REWRITE_CLIENTS));

    for (i = 0; i < list->argc && !found; i++) {
	const char *item = list->argv[i];

	if (strcasecmp(item, "permit_inet_interfaces") == 0)
	    found = addr_class_interface(state->addr) > 0;
	else if (strcasecmp(item, "permit_mynetworks") == 0)
	    found = smtpd_check_mynetworks(state);
	else if (strcasecmp(item, "permit_tls_clientcerts") == 0)
	    found = smtpd_tls_permit_ccert(state, 0) == CHK_OK;
	else if (strcasecmp(item, "permit_tls_all_clientcerts") == 0)
	    found = smtpd_tls_permit_ccert(state, 1) == CHK_OK;
	else if (strcasecmp(item, "static:all") == 0)
	    found = 1;
    }
    return (found);
}

int     smtpd_check_fast_flush(const char *domain)
{
    char   *copy = lowercase(mystrdup(domain));
    int     m = match_list_domain(fast_flush, copy);

    myfree(copy);
    return (m);
}
