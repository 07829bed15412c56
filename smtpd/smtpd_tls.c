/*
 * NAME
 *	smtpd_tls - STARTTLS, smtpd_tls_security_level, client certificates
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_tls_init(void);
 *	int smtpd_tls_offered(SMTPD_STATE *state);
 *	int smtpd_tls_required(SMTPD_STATE *state);
 *	int smtpd_tls_wrapper(SMTPD_STATE *state);
 *	void smtpd_starttls_cmd(SMTPD_STATE *state, char *args);
 *	int smtpd_tls_abort(SMTPD_STATE *state);
 *	void smtpd_tls_received(SMTPD_STATE *state, VSTRING *lines);
 *	void smtpd_tls_end(SMTPD_STATE *state);
 *	int smtpd_tls_permit_ccert(SMTPD_STATE *state, int all);
 * DESCRIPTION
 *	smtpd_tls_init() runs before privileges are dropped: with
 *	smtpd_tls_security_level may or encrypt (or the old
 *	smtpd_use_tls / smtpd_enforce_tls) it loads the keys and
 *	certificates (smtpd_tls_chain_files, else smtpd_tls_cert_file and
 *	smtpd_tls_key_file) with smtpd_tls_protocols and smtpd_tls_ciphers
 *	(smtpd_tls_mandatory_protocols and smtpd_tls_mandatory_ciphers at
 *	level encrypt), smtpd_tls_exclude_ciphers and
 *	smtpd_tls_dh1024_param_file, and opens the session cache
 *	smtpd_tls_session_cache_database (lib/tls/tls_server.c,
 *	global/mail_tls.c). A certificate that cannot be loaded is logged;
 *	STARTTLS then answers 454 4.7.0.
 *
 *	Client certificates: with smtpd_tls_ask_ccert (or
 *	smtpd_tls_req_ccert at level encrypt, or in wrapper mode) the
 *	client is asked for one; it is trusted when it verifies against
 *	smtpd_tls_CAfile and smtpd_tls_CApath within
 *	smtpd_tls_ccert_verifydepth, and its fingerprints use
 *	smtpd_tls_fingerprint_digest. smtpd_tls_req_ccert at level may is
 *	ignored with Postfix's warning "Can't require client certs unless
 *	TLS is required". When it is enforced and the certificate is
 *	missing or not trusted, the handshake completes, and the next
 *	command gets "421 4.7.1 HOST Error: No client certificate
 *	presented" (or "Client certificate not trusted"), logged as
 *	"NOQUEUE: abort: TLS from host[addr]: ...", and the session ends
 *	(smtpd_tls_abort(), which the command loop calls for each command
 *	it reads, before counting it).
 *
 *	With smtpd_tls_loglevel >= 1 each session is logged as Postfix
 *	does: "Trusted TLS connection established from host[addr]:
 *	TLSv1.3 with cipher ... (256/256 bits) key-exchange X25519
 *	server-signature RSA-PSS (2048 bits) server-digest SHA256
 *	client-signature ...", "Untrusted ..." (a certificate that did
 *	not verify), "Anonymous ..." (none); with >= 2 also "host[addr]:
 *	Reusing old session" before it, for a resumed session (with "
 *	(RFC 5077 session ticket)" when no cache file is configured and
 *	the session came back in a ticket).
 *
 *	smtpd_tls_received() appends the smtpd_tls_received_header lines
 *	of the Received: header (each "\t...\r\n"): "(using TLSv1.3 with
 *	cipher X (256/256 bits)", on TLS 1.3 a line "key-exchange ...
 *	server-digest SHA256" and one "client-signature ... client-digest
 *	SHA256" when the client signed, then ")"; then "(Client CN "cn",
 *	Issuer "cn" (verified OK))" or "(not verified)", "(Client did not
 *	present a certificate)", or "(No client certificate requested)".
 *	Nothing without TLS or with the parameter off.
 *
 *	smtpd_tls_permit_ccert() is permit_tls_clientcerts (all = 0): the
 *	client's certificate fingerprint, then its public key fingerprint,
 *	is a key of relay_clientcerts (the certificate need not verify:
 *	the fingerprint is the proof, as in Postfix); and
 *	permit_tls_all_clientcerts (all = 1): the certificate verified.
 *	CHK_OK, CHK_DUNNO, or a 451 tempfail reply when relay_clientcerts
 *	cannot be read.
 *
 *	smtpd_tls_offered() says whether EHLO lists STARTTLS;
 *	smtpd_tls_required() whether MAIL, VRFY and ETRN must wait for TLS
 *	(level encrypt: "530 5.7.0 Must issue a STARTTLS command first").
 *	smtpd_tls_wrapper() starts TLS at connect time with
 *	smtpd_tls_wrappermode (port 465). smtpd_tls_end() ends TLS at the
 *	end of a session and forgets its description.
 *
 *	smtpd_client_new_tls_session_rate_limit (smtpd_limit.c) is
 *	applied before the handshake: "421 4.7.0 host Error: too many new
 *	TLS sessions from addr" (in wrapper mode the connection is just
 *	closed).
 *
 *	smtpd_starttls_cmd() answers 220, discards whatever the client
 *	pipelined after STARTTLS (it is never executed), does the
 *	handshake within smtpd_starttls_timeout and forgets the session
 *	state as RFC 3207 asks: the client must say EHLO again, and AUTH
 *	again when it had.
 */
#include <string.h>
#include <strings.h>
#include <openssl/x509.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "tls/tls_server.h"
#include "tls/tls_scache.h"
#include "tls/tls_info.h"
#include "global/mail_tls.h"
#include "smtpd.h"
#include "smtpd_check.h"

#define TLS_LEV_NONE	0
#define TLS_LEV_MAY	1
#define TLS_LEV_ENCRYPT	2

static int tls_level;
static TLS_SERVER_CTX *tls_ctx;
static int ask_ccert;			/* ask for a client certificate */
static int req_ccert;			/* ... and require a trusted one */
static int tls_loglevel;
static int received_header;		/* smtpd_tls_received_header */
static MAPS *relay_ccerts;		/* relay_clientcerts, or NULL */

void    smtpd_tls_init(void)
{
    VSTRING *why;
    TLS_SERVER_PARAMS p;
    int     wrapper = mail_conf_bool(VAR_SMTPD_TLS_WRAPPERMODE);
    int     enforce;

    if (strcasecmp(var_tls_level, "none") == 0)
	tls_level = TLS_LEV_NONE;
    else if (strcasecmp(var_tls_level, "may") == 0)
	tls_level = TLS_LEV_MAY;
    else if (strcasecmp(var_tls_level, "encrypt") == 0)
	tls_level = TLS_LEV_ENCRYPT;
    else
	msg_fatal("invalid smtpd_tls_security_level value: \"%s\"", var_tls_level);
    tls_loglevel = (int) mail_conf_int(VAR_SMTPD_TLS_LOGLEVEL);
    received_header = mail_conf_bool(VAR_SMTPD_TLS_RECEIVED_HEADER);
    if (*mail_conf_str(VAR_RELAY_CLIENTCERTS))
	relay_ccerts = maps_create(VAR_RELAY_CLIENTCERTS, mail_conf_str(VAR_RELAY_CLIENTCERTS),
				   DICT_FLAG_DEFAULT);
    if (tls_level == TLS_LEV_NONE && !wrapper)
	return;
    enforce = (tls_level == TLS_LEV_ENCRYPT || wrapper);
    req_ccert = mail_conf_bool(VAR_SMTPD_TLS_REQ_CCERT);
    if (req_ccert && !enforce) {
	msg_warn("Can't require client certs unless TLS is required");
	req_ccert = 0;
    }
    ask_ccert = mail_conf_bool(VAR_SMTPD_TLS_ASK_CCERT) || req_ccert;

    mail_tls_server_params(&p, tls_level == TLS_LEV_ENCRYPT);
    p.ask_ccert = ask_ccert;
    p.context = mail_server_name();
    p.cache_timeout = mail_tls_scache_timeout(VAR_SMTPD_TLS_SESSION_CACHE_TIMEOUT);
    p.cache = p.cache_timeout > 0 ?
	mail_tls_scache_open(VAR_SMTPD_TLS_SESSION_CACHE_DATABASE) : 0;
    p.ticket_cipher = mail_conf_str(VAR_TLS_SESSION_TICKET_CIPHER);
    if (*p.ticket_cipher && !tls_scache_ticket_cipher_ok(p.ticket_cipher)) {
	/* Postfix 3.7's words. */
	msg_warn("%s: invalid value: %s; session tickets disabled",
		 VAR_TLS_SESSION_TICKET_CIPHER, p.ticket_cipher);
	p.ticket_cipher = "";
    }
    why = vstring_alloc(100);
    if ((tls_ctx = tls_server_init(&p, why)) == 0) {
	if (*p.chain_files)
	    msg_warn("%s: disabling TLS support", vstring_str(why));
	else
	    msg_warn("TLS is not available: %s", vstring_str(why));
    }
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
    TLS_INFO *info;

    info = tls_server_start(tls_ctx, state->client,
			    (int) mail_conf_time(VAR_SMTPD_STARTTLS_TIMEOUT), why);
    if (info == 0) {
	msg_info("SSL_accept error from %s: %s", state->namaddr, vstring_str(why));
	msg_info("lost connection after %s from %s", state->where, state->namaddr);
	smtpd_notify_reason(state, "lost connection");
	state->quit = 1;
	vstring_free(why);
	return (-1);
    }
    state->tls = 1;
    state->tls_info = info;
    if (tls_loglevel >= 2 && info->reused)
	msg_info("%s: Reusing old session%s", state->namaddr,
		 info->ticket ? " (RFC 5077 session ticket)" : "");
    if (req_ccert && info->peer_cert && !info->peer_trusted)
	msg_info("certificate verification failed for %s: %s", state->namaddr,
		 X509_verify_cert_error_string(info->verify_error));
    if (tls_loglevel >= 1) {
	tls_info_summary(info, why);
	msg_info("%s TLS connection established from %s: %s",
		 tls_info_trust(info), state->namaddr, vstring_str(why));
    }
    vstring_free(why);
    return (0);
}

int     smtpd_tls_abort(SMTPD_STATE *state)
{
    const char *why;

    if (!req_ccert || !state->tls || state->tls_info == 0 || state->tls_info->peer_trusted)
	return (0);
    why = state->tls_info->peer_cert ? "Client certificate not trusted"
	: "No client certificate presented";
    msg_info("NOQUEUE: abort: TLS from %s: %s", state->namaddr, why);
    smtpd_reply(state, "421 4.7.1 %s Error: %s", var_myhostname, why);
    state->quit = 1;
    return (1);
}

void    smtpd_tls_received(SMTPD_STATE *state, VSTRING *lines)
{
    const TLS_INFO *info = state->tls_info;

    if (!received_header || !state->tls || info == 0)
	return;
    vstring_sprintf_append(lines, "\t(using %s with cipher %s (%d/%d bits)",
			   info->protocol, info->cipher, info->bits, info->alg_bits);
    if (*info->kex)
	vstring_sprintf_append(lines, "\r\n\t %s", info->kex);
    if (*info->peer_sig)
	vstring_sprintf_append(lines, "\r\n\t %s", info->peer_sig);
    vstring_strcat(lines, ")\r\n");
    if (info->peer_cert)
	vstring_sprintf_append(lines, "\t(Client CN \"%s\", Issuer \"%s\" (%s))\r\n",
			       info->peer_CN, info->issuer_CN,
			       info->peer_trusted ? "verified OK" : "not verified");
    else if (ask_ccert)
	vstring_strcat(lines, "\t(Client did not present a certificate)\r\n");
    else
	vstring_strcat(lines, "\t(No client certificate requested)\r\n");
}

int     smtpd_tls_permit_ccert(SMTPD_STATE *state, int all)
{
    const TLS_INFO *info = state->tls_info;
    const char *fprints[2];

    if (!state->tls || info == 0 || !info->peer_cert)
	return (CHK_DUNNO);
    if (all)
	return (info->peer_trusted ? CHK_OK : CHK_DUNNO);
    if (relay_ccerts == 0)
	return (CHK_DUNNO);
    fprints[0] = info->cert_fprint;
    fprints[1] = info->pkey_fprint;
    for (int i = 0; i < 2; i++) {
	if (*fprints[i] == 0)
	    continue;
	if (maps_find(relay_ccerts, fprints[i], 0) != 0) {
	    if (msg_verbose)
		msg_info("Relaying allowed for certified client: %s", fprints[i]);
	    return (CHK_OK);
	}
	if (relay_ccerts->error) {
	    msg_warn("%s: table lookup problem for \"%s\"", relay_ccerts->title, fprints[i]);
	    return (smtpd_chk_tempfail(state, state->namaddr));
	}
    }
    return (CHK_DUNNO);
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

void    smtpd_tls_end(SMTPD_STATE *state)
{
    if (state->tls)
	tls_server_stop(state->client);
    tls_info_free(state->tls_info);
    state->tls_info = 0;
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
