/*
 * NAME
 *	smtpd_tls - STARTTLS and smtpd_tls_security_level
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_tls_init(void);
 *	int smtpd_tls_offered(SMTPD_STATE *state);
 *	int smtpd_tls_required(SMTPD_STATE *state);
 *	int smtpd_tls_wrapper(SMTPD_STATE *state);
 *	void smtpd_starttls_cmd(SMTPD_STATE *state, char *args);
 * DESCRIPTION
 *	smtpd_tls_init() runs before privileges are dropped: with
 *	smtpd_tls_security_level may or encrypt (or the old
 *	smtpd_use_tls / smtpd_enforce_tls) it loads smtpd_tls_cert_file
 *	and smtpd_tls_key_file with smtpd_tls_protocols and
 *	smtpd_tls_ciphers (smtpd_tls_mandatory_protocols and
 *	smtpd_tls_mandatory_ciphers at level encrypt) and
 *	smtpd_tls_exclude_ciphers (lib/tls/tls_server.c). A certificate that
 *	cannot be loaded is logged; STARTTLS then answers 454 4.7.0.
 *
 *	smtpd_tls_offered() says whether EHLO lists STARTTLS;
 *	smtpd_tls_required() whether MAIL, VRFY and ETRN must wait for TLS
 *	(level encrypt: "530 5.7.0 Must issue a STARTTLS command first").
 *	smtpd_tls_wrapper() starts TLS at connect time with
 *	smtpd_tls_wrappermode (port 465).
 *
 *	smtpd_client_new_tls_session_rate_limit (smtpd_limit.c) is
 *	applied before the handshake: "421 4.7.0 host Error: too many new
 *	TLS sessions from addr" (in wrapper mode the connection is just
 *	closed). Every session is new here (no session cache).
 *
 *	smtpd_starttls_cmd() answers 220, discards whatever the client
 *	pipelined after STARTTLS (it is never executed), does the
 *	handshake within smtpd_starttls_timeout and forgets the session
 *	state as RFC 3207 asks: the client must say EHLO again, and AUTH
 *	again when it had.
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/mail_conf.h"
#include "tls/tls_server.h"
#include "global/mail_tls.h"
#include "smtpd.h"

#define TLS_LEV_NONE	0
#define TLS_LEV_MAY	1
#define TLS_LEV_ENCRYPT	2

static int tls_level;
static TLS_SERVER_CTX *tls_ctx;

void    smtpd_tls_init(void)
{
    VSTRING *why;
    const char *grade;

    if (strcasecmp(var_tls_level, "none") == 0)
	tls_level = TLS_LEV_NONE;
    else if (strcasecmp(var_tls_level, "may") == 0)
	tls_level = TLS_LEV_MAY;
    else if (strcasecmp(var_tls_level, "encrypt") == 0)
	tls_level = TLS_LEV_ENCRYPT;
    else
	msg_fatal("invalid smtpd_tls_security_level value: \"%s\"", var_tls_level);
    if (tls_level == TLS_LEV_NONE && !mail_conf_bool(VAR_SMTPD_TLS_WRAPPERMODE))
	return;
    why = vstring_alloc(100);
    grade = mail_conf_str(tls_level == TLS_LEV_ENCRYPT ?
			  VAR_SMTPD_TLS_MANDATORY_CIPHERS : VAR_SMTPD_TLS_CIPHERS);
    tls_ctx = tls_server_init(mail_conf_str(VAR_SMTPD_TLS_CERT_FILE),
			      mail_conf_str(VAR_SMTPD_TLS_KEY_FILE),
			      mail_conf_str(tls_level == TLS_LEV_ENCRYPT ?
					    VAR_SMTPD_TLS_MANDATORY_PROTOCOLS :
					    VAR_SMTPD_TLS_PROTOCOLS),
			      grade, mail_tls_cipherlist(grade),
			      mail_conf_str(VAR_SMTPD_TLS_EXCLUDE_CIPHERS), why);
    if (tls_ctx == 0)
	msg_warn("TLS is not available: %s", vstring_str(why));
    vstring_free(why);
}

int     smtpd_tls_offered(SMTPD_STATE *state)
{
    (void) state;
    return (tls_level >= TLS_LEV_MAY);
}

int     smtpd_tls_required(SMTPD_STATE *state)
{
    return (tls_level == TLS_LEV_ENCRYPT && !state->tls);
}

/* tls_start - the handshake; -1 ends the session */
static int tls_start(SMTPD_STATE *state)
{
    VSTRING *why = vstring_alloc(100);
    int     ret;

    ret = tls_server_start(tls_ctx, state->client,
			   (int) mail_conf_time(VAR_SMTPD_STARTTLS_TIMEOUT), why);
    if (ret < 0) {
	msg_info("SSL_accept error from %s: %s", state->namaddr, vstring_str(why));
	msg_info("lost connection after %s from %s", state->where, state->namaddr);
	smtpd_notify_reason(state, "lost connection");
	state->quit = 1;
    } else {
	state->tls = 1;
	if (mail_conf_int(VAR_SMTPD_TLS_LOGLEVEL) > 0)
	    msg_info("Anonymous TLS connection established from %s: %s with cipher %s (%d/%d bits)",
		     state->namaddr, tls_server_protocol(state->client),
		     tls_server_cipher(state->client),
		     tls_server_bits(state->client), tls_server_bits(state->client));
    }
    vstring_free(why);
    return (ret);
}

int     smtpd_tls_wrapper(SMTPD_STATE *state)
{
    if (!mail_conf_bool(VAR_SMTPD_TLS_WRAPPERMODE))
	return (0);
    if (tls_ctx == 0) {
	msg_warn("smtpd_tls_wrappermode requires a usable certificate");
	return (-1);
    }
    if (smtpd_limit_newtls(state) < 0)
	return (-1);
    return (tls_start(state));
}

void    smtpd_starttls_cmd(SMTPD_STATE *state, char *args)
{
    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: STARTTLS");
	return;
    }
    if (state->tls) {
	smtpd_reply(state, "554 5.5.1 Error: TLS already active");
	return;
    }
    if (tls_level == TLS_LEV_NONE) {
	smtpd_reply(state, "502 5.5.1 Error: command not implemented");
	return;
    }
    if (state->sender) {
	smtpd_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
	return;
    }
    if (tls_ctx == 0) {
	smtpd_reply(state, "454 4.7.0 TLS not available due to local problem");
	return;
    }
    if (smtpd_limit_newtls(state) < 0) {
	smtpd_reply(state, "421 4.7.0 %s Error: too many new TLS sessions from %s",
		    var_myhostname, state->addr);
	state->quit = 1;
	return;
    }
    smtpd_reply(state, "220 2.0.0 Ready to start TLS");
    /* tls_server_start() flushes the reply and drops pipelined input. */
    if (tls_start(state) == 0) {
	smtpd_transaction_reset(state);
	smtpd_sasl_reset(state);
	myfree(state->helo_name);
	state->helo_name = 0;
	state->protocol = "SMTP";
	state->pipelining = 0;
    }
}
