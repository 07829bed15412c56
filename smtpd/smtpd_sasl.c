/*
 * NAME
 *	smtpd_sasl - SMTP AUTH (RFC 4954) and the checks of authenticated
 *	senders
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_sasl_init(void);
 *	void smtpd_sasl_ehlo(SMTPD_STATE *state, VSTRING *reply);
 *	void smtpd_sasl_auth_cmd(SMTPD_STATE *state, char *args);
 *	void smtpd_sasl_reset(SMTPD_STATE *state);
 *	void smtpd_sasl_mail_auth(SMTPD_STATE *state, const char *value);
 *	const char *smtpd_sasl_log_info(SMTPD_STATE *state);
 *	void smtpd_sasl_queue_attrs(SMTPD_STATE *state, QUEUE_WRITER *qw);
 *	const char *smtpd_sasl_protocol(SMTPD_STATE *state, const char *proto);
 *	void smtpd_sasl_received(SMTPD_STATE *state, VSTRING *buf);
 *
 *	#include "smtpd_check.h"
 *
 *	int smtpd_sasl_permit(SMTPD_STATE *state);
 *	int smtpd_sasl_login_mismatch(SMTPD_STATE *state, const char *name);
 *	int smtpd_sasl_unlisted_sender(SMTPD_STATE *state,
 *				       int (*rcpt_check)(SMTPD_STATE *),
 *				       int implicit);
 * DESCRIPTION
 *	smtpd_sasl_init() reads the SASL parameters once per process,
 *	before chroot and the privilege drop: smtpd_sasl_auth_enable,
 *	smtpd_sasl_type (dovecot or cyrus) with smtpd_sasl_path
 *	(global/xsasl_server.h), smtpd_sasl_service,
 *	smtpd_sasl_security_options and smtpd_sasl_tls_security_options,
 *	smtpd_sasl_local_domain, smtpd_sasl_exceptions_networks,
 *	smtpd_sasl_response_limit, smtpd_tls_auth_only,
 *	broken_sasl_auth_clients, smtpd_sasl_authenticated_header,
 *	smtpd_sender_login_maps and smtpd_reject_unlisted_sender.
 *
 *	Each session gets its SASL server when it first needs one (EHLO or
 *	AUTH), with the TLS or the plain-text security options; after
 *	STARTTLS, smtpd_sasl_reset() forgets it and any login, as RFC 3207
 *	asks (Postfix too: the client may AUTH again).
 *
 *	smtpd_sasl_ehlo() adds "250-AUTH mechanisms" (and
 *	"250-AUTH=mechanisms" with broken_sasl_auth_clients) unless AUTH
 *	is off, or needs TLS first (smtpd_tls_auth_only), or the client is
 *	in smtpd_sasl_exceptions_networks, or the server has no mechanism.
 *
 *	smtpd_sasl_auth_cmd() is the AUTH command. In Postfix's order:
 *	"503 5.5.1 Error: send HELO/EHLO first" (smtpd_helo_required),
 *	"503 5.5.1 Error: authentication not enabled" (off, or before TLS
 *	with smtpd_tls_auth_only), "503 5.5.1 Error: MAIL transaction in
 *	progress", "503 5.5.1 Error: already authenticated", "501 5.5.4
 *	Syntax: AUTH mechanism", then the exchange of global/xsasl_smtp.c
 *	(334 challenges; 235, 535, 454, 501 aborted, 500 response too
 *	long). Failures are errors of the session: they count towards
 *	smtpd_soft_error_limit, after which each reply waits
 *	smtpd_error_sleep_time, and smtpd_hard_error_limit, which ends the
 *	session (smtpd_reply()); the disconnect line counts them in
 *	"auth=N/M". A server that cannot be reached answers "454 4.7.0
 *	Temporary authentication failure: authentication server
 *	unavailable" (Postfix's smtpd exits instead: it would stop
 *	receiving mail for everyone while the authentication server is
 *	down).
 *
 *	After authentication, smtpd_sasl_mail_auth() keeps the AUTH=
 *	parameter of MAIL FROM (RFC 4954; "<>" means none) for the log and
 *	the queue file; without a login it is ignored, as Postfix does.
 *	smtpd_sasl_log_info() is the text appended to "QID:
 *	client=host[addr]": ", sasl_method=M, sasl_username=U" and ",
 *	sasl_sender=S"; smtpd_sasl_queue_attrs() stores the same as
 *	queue file attributes. smtpd_sasl_protocol() is the Received:
 *	protocol of an authenticated client (ESMTPA, ESMTPSA);
 *	smtpd_sasl_received() adds "(Authenticated sender: U)" to the
 *	Received: header with smtpd_sasl_authenticated_header.
 *
 *	smtpd_sasl_permit() is permit_sasl_authenticated: CHK_OK for an
 *	authenticated client, else CHK_DUNNO.
 *
 *	smtpd_sasl_login_mismatch() is reject_sender_login_mismatch and
 *	its variants (name is the restriction). smtpd_sender_login_maps
 *	gives the login names that own a sender address (looked up as
 *	user+ext@domain, user@domain, user for a local domain, @domain;
 *	the result is a list of names). An authenticated client whose
 *	login is not an owner gets "553 5.7.1 <sender>: Sender address
 *	rejected: not owned by user LOGIN"; an unauthenticated client
 *	that uses an address with owners gets "553 5.7.1 <sender>: Sender
 *	address rejected: not logged in". reject_sender_login_mismatch
 *	checks both; reject_authenticated_sender_login_mismatch and
 *	reject_unauthenticated_sender_login_mismatch one each;
 *	reject_known_sender_login_mismatch only addresses that have owners.
 *	The null sender is never checked. A table that cannot be read
 *	answers 451 4.3.0 (smtpd_chk_tempfail()).
 *
 *	smtpd_sasl_unlisted_sender() is reject_unlisted_sender (and, with
 *	implicit, smtpd_reject_unlisted_sender, after the sender
 *	restrictions): the sender address must exist as a recipient would
 *	(rcpt_check is the access policy's reject_unlisted_recipient),
 *	else Postfix's reply for senders: "550 5.1.0 <sender>: Sender
 *	address rejected: User unknown in relay recipient table" (the
 *	table and code of the address's class). The null sender passes.
 *
 *	smtpd_client_auth_rate_limit: every AUTH command is counted first,
 *	before any other check (smtpd_limit.c, shared by all smtpd
 *	processes); over the limit it is answered "450 4.7.1 Error: too
 *	many AUTH commands from addr" with "warning: AUTH command rate
 *	limit exceeded: N from host[addr] for service S", as Postfix does.
 */
#include <sys/socket.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/mail_addr_find.h"
#include "global/xsasl_server.h"
#include "global/xsasl_smtp.h"
#include "smtpd.h"
#include "smtpd_check.h"

/* A session's SASL server. */
struct SMTPD_SASL {
    XSASL_SERVER *server;		/* NULL: could not be made */
    int     unavailable;		/* ... and it was said in the log */
    int     used;			/* an exchange ran on it */
};

static int sasl_enable;
static XSASL_SERVER_IMPL *sasl_impl;
static char *sasl_service;
static char *sasl_opts;
static char *sasl_tls_opts;
static char *sasl_realm;
static long sasl_resp_limit;
static int tls_auth_only;
static int broken_clients;
static int auth_header;
static int reject_unlisted_sender;
static MATCH_LIST *sasl_exceptions;
static MAPS *login_maps;

void    smtpd_sasl_init(void)
{
    sasl_enable = mail_conf_bool(VAR_SMTPD_SASL_AUTH_ENABLE);
    tls_auth_only = mail_conf_bool(VAR_SMTPD_TLS_AUTH_ONLY);
    broken_clients = mail_conf_bool(VAR_BROKEN_SASL_AUTH_CLIENTS);
    auth_header = mail_conf_bool(VAR_SMTPD_SASL_AUTHENTICATED_HEADER);
    reject_unlisted_sender = mail_conf_bool(VAR_SMTPD_REJECT_UNLISTED_SENDER);
    sasl_resp_limit = mail_conf_int(VAR_SMTPD_SASL_RESPONSE_LIMIT);
    if (*mail_conf_str(VAR_SMTPD_SENDER_LOGIN_MAPS))
	login_maps = maps_create(VAR_SMTPD_SENDER_LOGIN_MAPS,
			  mail_conf_str(VAR_SMTPD_SENDER_LOGIN_MAPS), DICT_FLAG_DEFAULT);
    if (!sasl_enable)
	return;
    sasl_service = mystrdup(mail_conf_str(VAR_SMTPD_SASL_SERVICE));
    sasl_opts = mystrdup(mail_conf_str(VAR_SMTPD_SASL_SECURITY_OPTIONS));
    sasl_tls_opts = mystrdup(mail_conf_str(VAR_SMTPD_SASL_TLS_SECURITY_OPTIONS));
    sasl_realm = mystrdup(mail_conf_str(VAR_SMTPD_SASL_LOCAL_DOMAIN));
    /* Bad options are configuration errors: say so now, not per client. */
    (void) xsasl_security_flags(sasl_opts);
    (void) xsasl_security_flags(sasl_tls_opts);
    sasl_exceptions = mail_list_create(VAR_SMTPD_SASL_EXCEPTIONS_NETWORKS);
    sasl_impl = xsasl_server_init(mail_conf_str(VAR_SMTPD_SASL_TYPE),
				  mail_conf_str(VAR_SMTPD_SASL_PATH));
}

/* local_endpoint - the server side of the client's connection */
static void local_endpoint(SMTPD_STATE *state, char *addr, size_t alen,
			           char *port, size_t plen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    *addr = *port = 0;
    if (getsockname(vstream_fileno(state->client), (struct sockaddr *) &ss, &len) == 0
	&& (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
	&& getnameinfo((struct sockaddr *) &ss, len, addr, alen, port, plen,
		       NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
	/* An IPv4-mapped address reads as IPv4, as the client's does. */
	if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
	    memmove(addr, addr + 7, strlen(addr + 7) + 1);
    }
}

/* sasl_server - this session's server, made on first use; NULL if none */
static XSASL_SERVER *sasl_server(SMTPD_STATE *state)
{
    XSASL_SERVER_PARAMS params;
    VSTRING *why;
    char    addr[NI_MAXHOST], port[NI_MAXSERV];

    if (!sasl_enable)
	return (0);
    if (state->sasl == 0)
	state->sasl = mycalloc(1, sizeof(*state->sasl));
    if (state->sasl->server == 0) {
	local_endpoint(state, addr, sizeof(addr), port, sizeof(port));
	memset(&params, 0, sizeof(params));
	params.service = sasl_service;
	params.user_realm = sasl_realm;
	params.security_options = state->tls ? sasl_tls_opts : sasl_opts;
	params.tls = state->tls;
	params.server_name = var_myhostname;
	params.client_addr = state->addr;
	params.client_port = state->port;
	params.server_addr = addr;
	params.server_port = port;
	why = vstring_alloc(100);
	state->sasl->server = xsasl_server_create(sasl_impl, &params, why);
	if (state->sasl->server == 0 && !state->sasl->unavailable) {
	    msg_warn("SASL: %s", vstring_str(why));
	    msg_warn("no SASL authentication mechanisms");
	    state->sasl->unavailable = 1;
	}
	vstring_free(why);
	if (state->sasl->server && *xsasl_server_mechs(state->sasl->server) == 0
	    && !state->sasl->unavailable) {
	    msg_warn("no SASL authentication mechanisms");
	    state->sasl->unavailable = 1;
	}
    }
    return (state->sasl->server);
}

/* sasl_active - AUTH may be used in this session now */
static int sasl_active(SMTPD_STATE *state)
{
    return (sasl_enable && !(tls_auth_only && !state->tls));
}

void    smtpd_sasl_ehlo(SMTPD_STATE *state, VSTRING *reply)
{
    XSASL_SERVER *server;
    const char *mechs;

    if (!sasl_active(state)
	|| match_list_client(sasl_exceptions, state->name, state->addr) != 0
	|| (server = sasl_server(state)) == 0
	|| *(mechs = xsasl_server_mechs(server)) == 0)
	return;
    vstring_sprintf_append(reply, "250-AUTH %s\r\n", mechs);
    if (broken_clients)
	vstring_sprintf_append(reply, "250-AUTH=%s\r\n", mechs);
}

void    smtpd_sasl_reset(SMTPD_STATE *state)
{
    if (state->sasl) {
	if (state->sasl->server)
	    xsasl_server_free(state->sasl->server);
	myfree(state->sasl);
	state->sasl = 0;
    }
    myfree(state->sasl_method);
    myfree(state->sasl_username);
    myfree(state->sasl_sender);
    state->sasl_method = state->sasl_username = state->sasl_sender = 0;
}

/* printable - a copy of client text fit for the log and the queue file */
static char *printable(const char *text)
{
    char   *copy = mystrdup(text);

    for (char *cp = copy; *cp; cp++)
	if ((unsigned char) *cp < ' ' || (unsigned char) *cp >= 127)
	    *cp = '?';
    return (copy);
}

/* The exchange talks through smtpd's reply and input functions. */

static void auth_reply(void *ctx, const char *text)
{
    /* Postfix 3.7 sends no notice for 535 or "501 5.7.0 ... aborted". */
    smtpd_notify_class((SMTPD_STATE *) ctx, SMTPD_NOTIFY_NONE);
    smtpd_reply((SMTPD_STATE *) ctx, "%s", text);
}

static int auth_read(void *ctx, VSTRING *buf, long limit)
{
    SMTPD_STATE *state = ctx;
    int     ret;

    /* Each response gets the time of a command. */
    vstream_set_deadline(state->client, (int) var_smtpd_timeout);
    ret = vstream_get_line(state->client, buf, (size_t) limit);
    if (ret == VSTREAM_LONG) {
	VSTRING *junk = vstring_alloc(100);

	while ((ret = vstream_get_line(state->client, junk, 4096)) == VSTREAM_LONG)
	     /* void */ ;
	vstring_free(junk);
	return (ret == VSTREAM_LINE ? XSASL_SMTP_READ_LONG : XSASL_SMTP_READ_LOST);
    }
    if (ret != VSTREAM_LINE)
	return (XSASL_SMTP_READ_LOST);
    if (vstring_len(buf) > 0 && vstring_end(buf)[-1] == '\r')
	vstring_truncate(buf, vstring_len(buf) - 1);
    if (msg_verbose)
	msg_info("< %s: (SASL response)", state->namaddr);
    /* As Postfix's transcript (postconf(5) notify_classes warns of it). */
    smtpd_notify_in(state, vstring_str(buf));
    return (XSASL_SMTP_READ_OK);
}

void    smtpd_sasl_auth_cmd(SMTPD_STATE *state, char *args)
{
    XSASL_SMTP_IO io = {auth_reply, auth_read, state};
    XSASL_SERVER *server;
    ARGV   *av;
    const char *name;

    /* smtpd_client_auth_rate_limit, before anything else, as Postfix. */
    if (smtpd_limit_auth(state) < 0) {
	smtpd_reply(state, "450 4.7.1 Error: too many AUTH commands from %s", state->addr);
	return;
    }
    if (var_smtpd_helo_required && state->helo_name == 0) {
	smtpd_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
	return;
    }
    if (!sasl_active(state)) {
	smtpd_reply(state, "503 5.5.1 Error: authentication not enabled");
	return;
    }
    if (state->sender) {
	smtpd_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
	return;
    }
    if (state->sasl_username) {
	smtpd_reply(state, "503 5.5.1 Error: already authenticated");
	return;
    }
    av = argv_split(args, " \t");
    if (av->argc < 1 || av->argc > 2) {
	smtpd_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
	argv_free(av);
	return;
    }
    /* As Postfix: a fresh server for each exchange (libsasl2 wants it). */
    if (state->sasl && state->sasl->used && state->sasl->server) {
	xsasl_server_free(state->sasl->server);
	state->sasl->server = 0;
    }
    if ((server = sasl_server(state)) == 0 || *xsasl_server_mechs(server) == 0) {
	smtpd_reply(state, "454 4.7.0 Temporary authentication failure: "
		    "authentication server unavailable");
	argv_free(av);
	return;
    }
    state->sasl->used = 1;
    switch (xsasl_smtp_auth(server, &io, state->namaddr, av->argv[0],
			    av->argc > 1 ? av->argv[1] : 0, sasl_resp_limit)) {
    case XSASL_AUTH_DONE:
	/* Kept printable: they go to the log, the queue file, policy servers. */
	name = xsasl_server_username(server);
	state->sasl_username = printable(name ? name : "");
	state->sasl_method = printable(av->argv[0]);
	break;
    case XSASL_SMTP_LOST:
	/* The command loop sees the stream's error or end of file. */
	break;
    default:
	break;
    }
    argv_free(av);
}

void    smtpd_sasl_mail_auth(SMTPD_STATE *state, const char *value)
{
    myfree(state->sasl_sender);
    state->sasl_sender = 0;
    if (state->sasl_username && strcmp(value, "<>") != 0)
	state->sasl_sender = printable(value);
}

const char *smtpd_sasl_log_info(SMTPD_STATE *state)
{
    static VSTRING *buf;

    if (state->sasl_username == 0)
	return ("");
    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_sprintf(buf, ", sasl_method=%s, sasl_username=%s",
		    state->sasl_method, state->sasl_username);
    if (state->sasl_sender)
	vstring_sprintf_append(buf, ", sasl_sender=%s", state->sasl_sender);
    return (vstring_str(buf));
}

void    smtpd_sasl_queue_attrs(SMTPD_STATE *state, QUEUE_WRITER *qw)
{
    if (state->sasl_username == 0)
	return;
    queue_writer_attr(qw, "sasl_method", state->sasl_method);
    queue_writer_attr(qw, "sasl_username", state->sasl_username);
    if (state->sasl_sender)
	queue_writer_attr(qw, "sasl_sender", state->sasl_sender);
}

const char *smtpd_sasl_protocol(SMTPD_STATE *state, const char *proto)
{
    if (state->sasl_username == 0)
	return (proto);
    return (state->tls ? "ESMTPSA" : "ESMTPA");
}

void    smtpd_sasl_received(SMTPD_STATE *state, VSTRING *buf)
{
    if (state->sasl_username == 0 || !auth_header)
	return;
    vstring_sprintf_append(buf, "\t(Authenticated sender: %s)\r\n", state->sasl_username);
}

int     smtpd_sasl_permit(SMTPD_STATE *state)
{
    return (state->sasl_username ? CHK_OK : CHK_DUNNO);
}

/* owned_by - is login one of the names in owners */
static int owned_by(const char *owners, const char *login)
{
    ARGV   *av = argv_split(owners, LIST_DELIMS);
    int     found = 0;

    for (size_t i = 0; i < av->argc && !found; i++)
	found = strcasecmp(av->argv[i], login) == 0;
    argv_free(av);
    return (found);
}

int     smtpd_sasl_login_mismatch(SMTPD_STATE *state, const char *name)
{
    int     check_auth, check_unauth, known_only = 0;
    const char *owners;

    if (strcasecmp(name, "reject_sender_login_mismatch") == 0) {
	check_auth = check_unauth = 1;
    } else if (strcasecmp(name, "reject_authenticated_sender_login_mismatch") == 0) {
	check_auth = 1, check_unauth = 0;
    } else if (strcasecmp(name, "reject_unauthenticated_sender_login_mismatch") == 0) {
	check_auth = 0, check_unauth = 1;
    } else if (strcasecmp(name, "reject_known_sender_login_mismatch") == 0) {
	check_auth = check_unauth = known_only = 1;
    } else {
	msg_warn("unknown smtpd restriction: \"%s\"", name);
	return (smtpd_chk_reject(state, 451, "4.3.5", "Server configuration error"));
    }
    if (state->sender == 0 || *state->sender == 0 || login_maps == 0)
	return (CHK_DUNNO);
    if (state->sasl_username ? !check_auth : !check_unauth)
	return (CHK_DUNNO);
    owners = maps_find_addr(login_maps, state->sender, MAPS_ADDR_DEFAULT);
    if (owners == 0 && login_maps->error) {
	msg_warn("%s lookup error for \"%s\"", login_maps->title, state->sender);
	return (smtpd_chk_tempfail(state, state->sender));
    }
    if (owners == 0 && known_only)
	return (CHK_DUNNO);
    if (state->sasl_username) {
	if (owners == 0 || !owned_by(owners, state->sasl_username))
	    return (smtpd_chk_reject(state, 553, "5.7.1", "<%s>: Sender address "
				     "rejected: not owned by user %s", state->sender,
				     state->sasl_username));
    } else if (owners != 0) {
	return (smtpd_chk_reject(state, 553, "5.7.1", "<%s>: Sender address "
				 "rejected: not logged in", state->sender));
    }
    return (CHK_DUNNO);
}

/* replace - the first "from" in buf becomes "to" */
static void replace(VSTRING *buf, const char *from, const char *to)
{
    char   *hit = strstr(vstring_str(buf), from);
    VSTRING *out;

    if (hit == 0)
	return;
    out = vstring_alloc(vstring_len(buf) + 10);
    vstring_strncpy(out, vstring_str(buf), hit - vstring_str(buf));
    vstring_strcat(out, to);
    vstring_strcat(out, hit + strlen(from));
    vstring_strcpy(buf, vstring_str(out));
    vstring_free(out);
}

int     smtpd_sasl_unlisted_sender(SMTPD_STATE *state, int (*rcpt_check) (SMTPD_STATE *),
				           int implicit)
{
    char   *saved;
    char   *saved_given;
    int     r;

    if (implicit && !reject_unlisted_sender)
	return (CHK_DUNNO);
    if (state->sender == 0 || *state->sender == 0)
	return (CHK_DUNNO);

    /*
     * The recipient check answers for the address; its reply speaks of a
     * recipient (5.1.1): as Postfix, a sender's is 5.1.0.
     */
    saved = state->recipient;
    saved_given = state->rcpt_given;
    state->recipient = state->sender;
    state->rcpt_given = state->sender_given;
    r = rcpt_check(state);
    state->recipient = saved;
    state->rcpt_given = saved_given;
    if (r == CHK_REJECT) {
	replace(state->reply, ": Recipient address rejected: ", ": Sender address rejected: ");
	if (strncmp(vstring_str(state->reply) + 3, " 5.1.1 ", 7) == 0
	    || strncmp(vstring_str(state->reply) + 3, " 4.1.1 ", 7) == 0)
	    vstring_str(state->reply)[8] = '0';
    }
    return (r);
}
