/*
 * NAME
 *	smtpd_xclient - XCLIENT and XFORWARD
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_xclient_init(void);
 *	void smtpd_xclient_authorize(SMTPD_STATE *state);
 *	void smtpd_xclient_cmd(SMTPD_STATE *state, char *args);
 *	void smtpd_xforward_cmd(SMTPD_STATE *state, char *args);
 *	void smtpd_xforward_reset(SMTPD_STATE *state);
 *	int smtpd_xforward_active(SMTPD_STATE *state);
 * DESCRIPTION
 *	Postfix's extensions for proxies and content filters (Postfix's
 *	XCLIENT_README and XFORWARD_README), for the clients in
 *	smtpd_authorized_xclient_hosts and smtpd_authorized_xforward_hosts
 *	(lists of networks and host names, empty by default). Only those
 *	see the keywords in the EHLO reply; everybody else gets "550 5.7.0
 *	Error: insufficient authorization" and nothing changes.
 *	smtpd_xclient_authorize() decides, at connect and again after
 *	XCLIENT (for the new identity).
 *
 *	"XCLIENT attr=value ..." (NAME, REVERSE_NAME, ADDR, PORT, PROTO,
 *	HELO, LOGIN, DESTADDR, DESTPORT; values in xtext, "[UNAVAILABLE]"
 *	and "[TEMPUNAVAIL]" for unknown): a proxy hands over the client it
 *	serves. Every value is checked first, then all take effect at
 *	once: the client name, address and port that the access
 *	restrictions, the limits' exceptions, the log ("connect" excepted)
 *	and our Received: header use; HELO and PROTO as if the client had
 *	sent HELO or EHLO (until it does); LOGIN as if the client had
 *	logged in with AUTH (sasl_method=XCLIENT); DESTADDR and DESTPORT are checked and not used (we
 *	record no server address). The transaction ends, and the reply is
 *	a new greeting (the client says EHLO again). Postfix does not
 *	count a successful XCLIENT as a good command in the disconnect
 *	line; neither do we.
 *
 *	"XFORWARD attr=value ..." (NAME, ADDR, PORT, PROTO, HELO, IDENT,
 *	SOURCE): a content filter that sends mail back tells where it came
 *	from. Attributes add up, command by command, until the end of the
 *	next mail transaction (or RSET). They change no decision: they go
 *	into the queue file (log_client_name, log_client_address,
 *	log_client_port, log_helo_name, log_protocol, log_ident,
 *	rewrite_context), where our smtp client finds them for its own
 *	XFORWARD, and into the log ("QID: client=host[addr],
 *	orig_queue_id=IDENT, orig_client=NAME[ADDR]"); Received: names the
 *	real client, as in Postfix.
 *
 *	Replies, as Postfix 3.7: "220 ..." (XCLIENT), "250 2.0.0 Ok"
 *	(XFORWARD), "501 5.5.4 Syntax: XCLIENT attribute=value...", "550
 *	5.7.0 Error: insufficient authorization", "503 5.5.1 Error: MAIL
 *	transaction in progress", "501 5.5.4 Error: attribute=value
 *	expected", "501 5.5.4 Bad XCLIENT attribute name: X", "501 5.5.4
 *	Bad ADDR syntax: V" (and so on; V made printable).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/debug_peer.h"
#include "smtpd.h"

static MATCH_LIST *xclient_hosts;
static MATCH_LIST *xforward_hosts;

void    smtpd_xclient_init(void)
{
    xclient_hosts = mail_list_create(VAR_SMTPD_AUTHORIZED_XCLIENT_HOSTS);
    xforward_hosts = mail_list_create(VAR_SMTPD_AUTHORIZED_XFORWARD_HOSTS);
}

/* authorized - is the client in the list (a list error: no) */
static int authorized(MATCH_LIST *list, SMTPD_STATE *state, const char *name)
{
    int     m = match_list_client(list, state->name, state->addr);

    if (m < 0)
	msg_warn("%s: table lookup problem for %s; not authorized", name, state->namaddr);
    return (m > 0);
}

void    smtpd_xclient_authorize(SMTPD_STATE *state)
{
    state->xclient_ok = authorized(xclient_hosts, state, VAR_SMTPD_AUTHORIZED_XCLIENT_HOSTS);
    state->xforward_ok = authorized(xforward_hosts, state, VAR_SMTPD_AUTHORIZED_XFORWARD_HOSTS);
}

/* Attributes, with the check each value must pass. */
#define ATTR_NAME	0		/* host name */
#define ATTR_ADDR	1		/* IPv4, or IPV6:address */
#define ATTR_PORT	2		/* 0..65535 */
#define ATTR_PROTO	3		/* SMTP, ESMTP (XFORWARD: a word) */
#define ATTR_HELO	4		/* printable text */
#define ATTR_WORD	5		/* printable, no space */
#define ATTR_SOURCE	6		/* LOCAL, REMOTE */

typedef struct XATTR {
    const char *name;
    int     check;
    int     slot;			/* index into the values array */
} XATTR;

static const XATTR xclient_attrs[] = {
    {"NAME", ATTR_NAME, 0}, {"REVERSE_NAME", ATTR_NAME, 1}, {"ADDR", ATTR_ADDR, 2},
    {"PORT", ATTR_PORT, 3}, {"PROTO", ATTR_PROTO, 4}, {"HELO", ATTR_HELO, 5},
    {"LOGIN", ATTR_WORD, 6}, {"DESTADDR", ATTR_ADDR, 7}, {"DESTPORT", ATTR_PORT, 8},
    {0, 0, 0},
};

#define XC_NAME		0
#define XC_REVERSE	1
#define XC_ADDR		2
#define XC_PORT		3
#define XC_PROTO	4
#define XC_HELO		5
#define XC_LOGIN	6
#define XC_COUNT	9

static const XATTR xforward_attrs[] = {
    {"NAME", ATTR_NAME, 0}, {"ADDR", ATTR_ADDR, 1}, {"PORT", ATTR_PORT, 2},
    {"PROTO", ATTR_WORD, 3}, {"HELO", ATTR_HELO, 4}, {"IDENT", ATTR_WORD, 5},
    {"SOURCE", ATTR_SOURCE, 6},
    {0, 0, 0},
};

#define XF_COUNT	7

#define UNAVAILABLE(v) (strcmp((v), "[UNAVAILABLE]") == 0 || strcmp((v), "[TEMPUNAVAIL]") == 0)

/* printable_text - ASCII 0x20..0x7e only (space allowed or not) */
static int printable_text(const char *v, int space_ok)
{
    for (const unsigned char *cp = (const unsigned char *) v; *cp; cp++)
	if (*cp < (space_ok ? 0x20 : 0x21) || *cp > 0x7e)
	    return (0);
    return (*v != 0);
}

/*
 * check_value - is a decoded value good for its attribute; the value to
 * keep goes into out ("unknown" for an unavailable name or address).
 */
static int check_value(int check, const char *v, VSTRING *out)
{
    unsigned char bin[sizeof(struct in6_addr)];

    vstring_strcpy(out, v);
    switch (check) {
    case ATTR_NAME:
	if (UNAVAILABLE(v)) {
	    vstring_strcpy(out, "unknown");
	    return (1);
	}
	return (printable_text(v, 0) && smtpd_valid_hostname(v));
    case ATTR_ADDR:
	if (UNAVAILABLE(v)) {
	    vstring_strcpy(out, "unknown");
	    return (1);
	}
	if (strncasecmp(v, "IPV6:", 5) == 0) {
	    char    text[INET6_ADDRSTRLEN];

	    if (inet_pton(AF_INET6, v + 5, bin) != 1
		|| inet_ntop(AF_INET6, bin, text, sizeof(text)) == 0)
		return (0);
	    vstring_strcpy(out, text);
	    return (1);
	}
	return (inet_pton(AF_INET, v, bin) == 1);
    case ATTR_PORT:
	if (UNAVAILABLE(v)) {
	    vstring_strcpy(out, "0");
	    return (1);
	}
	return (alldig(v) && strlen(v) <= 5 && atoi(v) <= 65535);
    case ATTR_PROTO:
	if (strcasecmp(v, "SMTP") == 0 || strcasecmp(v, "ESMTP") == 0) {
	    vstring_strcpy(out, strcasecmp(v, "SMTP") == 0 ? "SMTP" : "ESMTP");
	    return (1);
	}
	return (0);
    case ATTR_HELO:
	return (UNAVAILABLE(v) || (printable_text(v, 1) && strlen(v) <= 255));
    case ATTR_WORD:
	return (UNAVAILABLE(v) || (printable_text(v, 0) && strlen(v) <= 255));
    case ATTR_SOURCE:
	if (strcasecmp(v, "LOCAL") == 0 || strcasecmp(v, "REMOTE") == 0) {
	    vstring_strcpy(out, strcasecmp(v, "LOCAL") == 0 ? "local" : "remote");
	    return (1);
	}
	return (0);
    }
    return (0);
}

/*
 * parse_attrs - "NAME=value ..." into values[slot] (mystrdup'ed, or
 * NULL when not given); 0, or -1 after the error reply.
 */
static int parse_attrs(SMTPD_STATE *state, const char *cmd, const XATTR *table,
		               char *args, char **values)
{
    char   *cp = args;
    char   *word;
    VSTRING *decoded = vstring_alloc(100);
    VSTRING *value = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);
    int     ret = 0;

    while (ret == 0 && (word = mystrtok(&cp, " \t")) != 0) {
	char   *raw = split_at(word, '=');
	const XATTR *attr;

	if (raw == 0 || *raw == 0 || *word == 0) {
	    smtpd_reply(state, "501 5.5.4 Error: attribute=value expected");
	    ret = -1;
	    break;
	}
	for (attr = table; attr->name; attr++)
	    if (strcasecmp(attr->name, word) == 0)
		break;
	if (attr->name == 0) {
	    smtpd_reply(state, "501 5.5.4 Bad %s attribute name: %s", cmd,
			smtpd_printable(text, word));
	    ret = -1;
	    break;
	}
	if (smtpd_xtext_decode(raw, decoded) < 0
	    || strlen(vstring_str(decoded)) != vstring_len(decoded)
	    || !check_value(attr->check, vstring_str(decoded), value)) {
	    smtpd_reply(state, "501 5.5.4 Bad %s syntax: %s", attr->name,
			smtpd_printable(text, vstring_str(decoded)));
	    ret = -1;
	    break;
	}
	myfree(values[attr->slot]);
	values[attr->slot] = mystrdup(vstring_str(value));
    }
    vstring_free(decoded);
    vstring_free(value);
    vstring_free(text);
    return (ret);
}

/* refused - the checks every X command shares; 1 when answered */
static int refused(SMTPD_STATE *state, const char *cmd, char *args, int allowed)
{
    if (*args == 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: %s attribute=value...", cmd);
	return (1);
    }
    if (!allowed) {
	smtpd_reply(state, "550 5.7.0 Error: insufficient authorization");
	return (1);
    }
    if (state->sender) {
	smtpd_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
	return (1);
    }
    return (0);
}

void    smtpd_xclient_cmd(SMTPD_STATE *state, char *args)
{
    char   *v[XC_COUNT] = {0};
    VSTRING *buf;

    if (refused(state, "XCLIENT", args, state->xclient_ok))
	return;
    if (parse_attrs(state, "XCLIENT", xclient_attrs, args, v) < 0)
	goto done;

    /* All values are good: the client is now the one the proxy names. */
    smtpd_transaction_reset(state);
    buf = vstring_alloc(100);
    if (v[XC_ADDR]) {
	myfree(state->addr);
	myfree(state->rfc_addr);
	state->addr = mystrdup(v[XC_ADDR]);
	if (strchr(v[XC_ADDR], ':'))
	    vstring_sprintf(buf, "IPv6:%s", v[XC_ADDR]);
	else
	    vstring_strcpy(buf, v[XC_ADDR]);
	state->rfc_addr = mystrdup(vstring_str(buf));
    }
    if (v[XC_NAME]) {
	myfree(state->name);
	state->name = mystrdup(v[XC_NAME]);
    }
    if (v[XC_REVERSE]) {
	myfree(state->reverse_name);
	state->reverse_name = mystrdup(v[XC_REVERSE]);
    }
    if (v[XC_PORT]) {
	myfree(state->port);
	state->port = mystrdup(v[XC_PORT]);
    }
    myfree(state->namaddr);
    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    if (var_smtpd_client_port_log)
	vstring_sprintf_append(buf, ":%s", state->port);
    state->namaddr = mystrdup(vstring_str(buf));
    vstring_free(buf);
    /* debug_peer_list: the client that the proxy speaks for decides. */
    debug_peer_restore();
    (void) debug_peer_check(state->name, state->addr);
    myfree(state->helo_name);
    state->helo_name = (v[XC_HELO] && !UNAVAILABLE(v[XC_HELO])) ? mystrdup(v[XC_HELO]) : 0;
    state->protocol = v[XC_PROTO] && strcmp(v[XC_PROTO], "ESMTP") == 0 ? "ESMTP" : "SMTP";
    state->pipelining = 0;
    if (v[XC_LOGIN]) {
	/* As if the client had logged in with AUTH: sasl_method=XCLIENT. */
	myfree(state->sasl_method);
	myfree(state->sasl_username);
	state->sasl_method = state->sasl_username = 0;
	if (!UNAVAILABLE(v[XC_LOGIN])) {
	    state->sasl_method = mystrdup("XCLIENT");
	    state->sasl_username = mystrdup(v[XC_LOGIN]);
	}
    }
    smtpd_peer_policy(state);
    smtpd_xclient_authorize(state);
    smtpd_banner(state);

done:
    for (int i = 0; i < XC_COUNT; i++)
	myfree(v[i]);
}

void    smtpd_xforward_cmd(SMTPD_STATE *state, char *args)
{
    char   *v[XF_COUNT] = {0};
    SMTPD_XFORWARD *xf = &state->xforward;
    char  **fields[XF_COUNT] = {&xf->name, &xf->addr, &xf->port, &xf->proto,
    &xf->helo, &xf->ident, &xf->source};

    if (refused(state, "XFORWARD", args, state->xforward_ok))
	return;
    if (parse_attrs(state, "XFORWARD", xforward_attrs, args, v) == 0) {
	for (int i = 0; i < XF_COUNT; i++) {
	    if (v[i] == 0)
		continue;
	    myfree(*fields[i]);
	    *fields[i] = UNAVAILABLE(v[i]) ? 0 : v[i];
	    if (*fields[i] == 0)
		myfree(v[i]);
	    v[i] = 0;
	}
	smtpd_reply(state, "250 2.0.0 Ok");
    }
    for (int i = 0; i < XF_COUNT; i++)
	myfree(v[i]);
}

void    smtpd_xforward_reset(SMTPD_STATE *state)
{
    SMTPD_XFORWARD *xf = &state->xforward;

    myfree(xf->name);
    myfree(xf->addr);
    myfree(xf->port);
    myfree(xf->proto);
    myfree(xf->helo);
    myfree(xf->ident);
    myfree(xf->source);
    memset(xf, 0, sizeof(*xf));
}

int     smtpd_xforward_active(SMTPD_STATE *state)
{
    SMTPD_XFORWARD *xf = &state->xforward;

    return (xf->name || xf->addr || xf->port || xf->proto || xf->helo
	    || xf->ident || xf->source);
}
