/*
 * NAME
 *	smtpd_proto - the SMTP command loop and the simple commands
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_params_init(void);
 *	SMTPD_STATE *smtpd_state_alloc(VSTREAM *client);
 *	void smtpd_session(VSTREAM *client, SMTPD_STATE *state);
 *	void smtpd_state_free(SMTPD_STATE *state);
 *	void smtpd_reply(SMTPD_STATE *state, const char *fmt, ...);
 *	int smtpd_read_line(SMTPD_STATE *state, VSTRING *buf, int *crlf);
 *	void smtpd_transaction_reset(SMTPD_STATE *state);
 *	void smtpd_log_reject(SMTPD_STATE *state, const char *stage,
 *			      const char *reply);
 *	void smtpd_log_reject_warning(SMTPD_STATE *state, const char *reply);
 *	void smtpd_log_permit(SMTPD_STATE *state, const char *text);
 *	void smtpd_banner(SMTPD_STATE *state);
 *	void smtpd_lost(SMTPD_STATE *state);
 *	void smtpd_log_action(SMTPD_STATE *state, const char *what,
 *			      const char *stage, const char *text);
 * DESCRIPTION
 *	smtpd_session() serves one client whose identity is already in
 *	state (smtpd_peer.c): connection count and rate limits
 *	(smtpd_limit.c), talk before the greeting (smtpd_guard.c), banner,
 *	then one command at a time until QUIT, end of file, a timeout or
 *	too many errors, then the "disconnect from" log line with
 *	Postfix's counters.
 *
 *	Each command line goes through smtpd_guard.c before it runs
 *	(over-long lines, smtpd_command_filter, smtpd_noop_commands,
 *	non-SMTP and forbidden commands, improper pipelining, junk
 *	commands); while smtpd waits for it, smtpd_idle.c may evict an
 *	idle client when others wait for a process.
 *
 *	Every command must arrive within smtpd_timeout (a deadline on the
 *	stream, not only a per-read timeout), so a client that trickles
 *	one byte at a time is cut off. Replies are buffered and go out
 *	when smtpd needs more input (PIPELINING): the stream flushes its
 *	output before it waits.
 *
 *	smtpd_reply() counts 4xx/5xx replies; past smtpd_soft_error_limit
 *	each error reply is delayed by smtpd_error_sleep_time, and at
 *	smtpd_hard_error_limit the session ends with 421. A reply never
 *	carries a control character or 8-bit byte (text from a table or
 *	from the client is in some replies): each becomes a space, as in
 *	Postfix. Log lines show client and table text with "?" for them
 *	(smtpd_printable()).
 * DIAGNOSTICS
 *	Log lines as Postfix's smtpd: connect from, lost connection after
 *	CMD from, timeout after CMD from, too many errors after CMD from,
 *	disconnect from ... commands=N/M.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/info_log_addr.h"
#include "global/debug_peer.h"
#include "smtpd.h"

char   *var_myhostname;
char   *var_smtpd_banner;
char   *var_myorigin;
char   *var_mail_name;
long    var_message_size_limit;
long    var_smtpd_rcpt_limit;
long    var_line_length_limit;
long    var_header_size_limit;
long    var_smtpd_timeout;
long    var_smtpd_hard_erlim;
long    var_smtpd_soft_erlim;
long    var_smtpd_err_sleep;
int     var_disable_vrfy;
int     var_smtpd_delay_reject;
int     var_strict_rfc821;
int     var_resolve_null_domain;
int     var_soft_bounce;
long    var_hopcount_limit;
int     var_smtpd_helo_required;
char   *var_bare_lf;
long    var_bare_lf_code;
long    var_queue_minfree;
char   *var_tls_level;
char   *var_discard_ehlo;
long    var_conn_count_limit;
int     var_peername_lookup;
long    var_min_data_rate;
int     var_smtpd_client_port_log;
int     var_forbid_unauth_pipe;
long    var_junk_cmd_limit;
long    var_overload_idle;
int     var_input_transp;		/* receive_override_options */
char   *var_content_filter;
int     var_show_unk_rcpt_table;
long    var_smtpd_rcpt_overlim;

static const char *cmd_names[SMTPD_CMD_COUNT] = {
    "helo", "ehlo", "xclient", "xforward", "starttls", "auth", "mail", "rcpt",
    "data", "bdat", "rset", "noop", "vrfy", "etrn", "quit", "unknown",
};

void    smtpd_params_init(void)
{
    var_myhostname = mystrdup(mail_conf_str(VAR_MYHOSTNAME));
    var_smtpd_banner = mystrdup(mail_conf_str(VAR_SMTPD_BANNER));
    var_myorigin = mystrdup(mail_conf_str(VAR_MYORIGIN));
    var_mail_name = mystrdup(mail_conf_str(VAR_MAIL_NAME));
    var_message_size_limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    var_smtpd_rcpt_limit = mail_conf_int(VAR_SMTPD_RECIPIENT_LIMIT);
    var_line_length_limit = mail_conf_int(VAR_LINE_LENGTH_LIMIT);
    if (var_line_length_limit < 512)
	var_line_length_limit = 512;
    var_header_size_limit = mail_conf_int(VAR_HEADER_SIZE_LIMIT);
    var_smtpd_timeout = mail_conf_time(VAR_SMTPD_TIMEOUT);
    var_smtpd_hard_erlim = mail_conf_int(VAR_SMTPD_HARD_ERROR_LIMIT);
    var_smtpd_soft_erlim = mail_conf_int(VAR_SMTPD_SOFT_ERROR_LIMIT);
    var_smtpd_err_sleep = mail_conf_time(VAR_SMTPD_ERROR_SLEEP_TIME);
    var_disable_vrfy = mail_conf_bool(VAR_DISABLE_VRFY_COMMAND);
    var_soft_bounce = mail_conf_bool(VAR_SOFT_BOUNCE);
    var_hopcount_limit = mail_conf_int(VAR_HOPCOUNT_LIMIT);
    var_smtpd_delay_reject = mail_conf_bool(VAR_SMTPD_DELAY_REJECT);
    var_strict_rfc821 = mail_conf_bool(VAR_STRICT_RFC821_ENVELOPES);
    var_resolve_null_domain = mail_conf_bool(VAR_RESOLVE_NULL_DOMAIN);
    var_smtpd_helo_required = mail_conf_bool(VAR_SMTPD_HELO_REQUIRED);
    var_bare_lf = mystrdup(mail_conf_str(VAR_SMTPD_FORBID_BARE_NEWLINE));
    var_bare_lf_code = mail_conf_int(VAR_SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE);
    var_queue_minfree = mail_conf_int(VAR_QUEUE_MINFREE);
    var_tls_level = mystrdup(mail_conf_str(VAR_SMTPD_TLS_SECURITY_LEVEL));
    if (*var_tls_level == 0) {
	myfree(var_tls_level);
	var_tls_level = mystrdup(mail_conf_bool(VAR_SMTPD_ENFORCE_TLS) ? "encrypt" :
			  mail_conf_bool(VAR_SMTPD_USE_TLS) ? "may" : "none");
    }
    var_discard_ehlo = mystrdup(mail_conf_str(VAR_SMTPD_DISCARD_EHLO_KEYWORDS));
    var_conn_count_limit = mail_conf_int(VAR_SMTPD_CLIENT_CONNECTION_COUNT_LIMIT);
    var_peername_lookup = mail_conf_bool(VAR_SMTPD_PEERNAME_LOOKUP);
    var_min_data_rate = mail_conf_int(VAR_SMTPD_MIN_DATA_RATE);
    var_smtpd_client_port_log = mail_conf_bool(VAR_SMTPD_CLIENT_PORT_LOGGING);
    smtpd_expand_init();
    debug_peer_init();
    var_forbid_unauth_pipe = mail_conf_bool(VAR_SMTPD_FORBID_UNAUTH_PIPELINING);
    var_junk_cmd_limit = mail_conf_int(VAR_SMTPD_JUNK_COMMAND_LIMIT);
    var_overload_idle = mail_conf_time(VAR_SMTPD_OVERLOAD_IDLE_TIME);
    var_input_transp = input_transp_mask(VAR_RECEIVE_OVERRIDE_OPTIONS,
					 mail_conf_str(VAR_RECEIVE_OVERRIDE_OPTIONS));
    var_content_filter = mystrdup(mail_conf_str(VAR_CONTENT_FILTER));
    var_show_unk_rcpt_table = mail_conf_bool(VAR_SHOW_USER_UNKNOWN_TABLE_NAME);
    var_smtpd_rcpt_overlim = mail_conf_int(VAR_SMTPD_RECIPIENT_OVERSHOOT_LIMIT);
    if (strcasecmp(var_bare_lf, "no") && strcasecmp(var_bare_lf, "normalize")
	&& strcasecmp(var_bare_lf, "yes") && strcasecmp(var_bare_lf, "reject")
	&& strcasecmp(var_bare_lf, "note"))
	msg_fatal("invalid smtpd_forbid_bare_newline value: \"%s\"", var_bare_lf);
}

SMTPD_STATE *smtpd_state_alloc(VSTREAM *client)
{
    SMTPD_STATE *state = mycalloc(1, sizeof(*state));

    state->client = client;
    state->protocol = "SMTP";
    state->where = "CONNECT";
    state->buffer = vstring_alloc(100);
    state->reply = vstring_alloc(100);
    state->defer_if_permit = vstring_alloc(100);
    state->defer_if_reject = vstring_alloc(100);
    state->dip_client = vstring_alloc(10);
    state->dip_helo = vstring_alloc(10);
    state->dip_sender = vstring_alloc(10);
    return (state);
}

void    smtpd_transaction_reset(SMTPD_STATE *state)
{
    if (state->msg) {
	smtpd_msg_free(state->msg);
	state->msg = 0;
    }
    state->bdat_state = SMTPD_BDAT_NONE;
    smtpd_xforward_reset(state);
    smtpd_milter_abort(state);
    smtpd_proxy_close(state);
    state->milter_hold = state->milter_hold_session;
    state->milter_discard = 0;
    myfree(state->filter);
    state->filter = 0;
    if (state->qw) {
	queue_writer_abort(state->qw);
	state->qw = 0;
    }
    myfree(state->sender);
    myfree(state->dsn_envid);
    myfree(state->policy_instance);
    state->policy_instance = 0;
    if (state->prepend) {
	argv_free(state->prepend);
	state->prepend = 0;
    }
    myfree(state->recipient);
    myfree(state->sender_given);
    myfree(state->rcpt_given);
    myfree(state->first_rcpt);
    myfree(state->last_rcpt);
    myfree(state->queue_id);
    myfree(state->sasl_sender);
    state->sasl_sender = 0;
    state->sender = state->dsn_envid = state->recipient = 0;
    state->sender_given = state->rcpt_given = 0;
    state->first_rcpt = state->last_rcpt = state->queue_id = 0;
    state->dsn_ret = 0;
    state->msg_size = 0;
    state->rcpt_count = state->rcpt_tried = 0;
    state->rcpt_overshoot = 0;
}

void    smtpd_state_free(SMTPD_STATE *state)
{
    smtpd_transaction_reset(state);
    smtpd_sasl_reset(state);
    myfree(state->name);
    myfree(state->reverse_name);
    myfree(state->addr);
    myfree(state->port);
    myfree(state->namaddr);
    myfree(state->rfc_addr);
    myfree(state->helo_name);
    myfree(state->access_denied);
    vstring_free(state->buffer);
    vstring_free(state->reply);
    vstring_free(state->defer_if_permit);
    vstring_free(state->defer_if_reject);
    vstring_free(state->dip_client);
    vstring_free(state->dip_helo);
    vstring_free(state->dip_sender);
    if (state->bdat_line)
	vstring_free(state->bdat_line);
    myfree(state);
}

/*
 * log_reply_lines - with verbose logging (-v, debug_peer_list), each line
 * of a reply as Postfix logs it: "> host[addr]: 250-PIPELINING"
 */
static void log_reply_lines(SMTPD_STATE *state, const char *text)
{
    const char *cp, *end;

    if (msg_verbose == 0)
	return;
    for (cp = text; *cp; cp = *end ? end + 2 : end) {
	if ((end = strstr(cp, "\r\n")) == 0)
	    end = cp + strlen(cp);
	msg_info("> %s: %.*s", state->namaddr, (int) (end - cp), cp);
    }
}

/* smtpd_reply - send (buffer) one reply line, count errors */
void    smtpd_reply(SMTPD_STATE *state, const char *fmt,...)
{
    static VSTRING *buf;
    va_list ap;

    if (buf == 0)
	buf = vstring_alloc(100);
    /* Most replies are fixed text or "%s": no formatting needed. */
    va_start(ap, fmt);
    if (strchr(fmt, '%') == 0) {
	vstring_strcpy(buf, fmt);
    } else if (strcmp(fmt, "%s") == 0) {
	vstring_strcpy(buf, va_arg(ap, const char *));
    } else {
	vstring_reset(buf);
	vstring_vsprintf_append(buf, fmt, ap);
    }
    va_end(ap);
    /* Text from tables or the client: no line breaks, no 8-bit. */
    for (unsigned char *cp = (unsigned char *) vstring_str(buf); *cp; cp++)
	if (*cp < 0x20 || *cp >= 0x7f)
	    *cp = ' ';
    state->last_code = atoi(vstring_str(buf));
    if (state->last_code >= 400) {
	smtpd_expand_footer(state, buf);
	state->error_count++;
	if (state->error_count > var_smtpd_soft_erlim && var_smtpd_err_sleep > 0) {
	    (void) vstream_fflush(state->client);
	    sleep((unsigned) var_smtpd_err_sleep);
	}
    }
    smtpd_notify_reply(state, vstring_str(buf));
    log_reply_lines(state, vstring_str(buf));
    vstring_strcat(buf, "\r\n");
    (void) vstream_write(state->client, vstring_str(buf), vstring_len(buf));
}

/* smtpd_log_action - "QID: what: STAGE from client: reply; from=<> to=<> ..." */
void    smtpd_log_action(SMTPD_STATE *state, const char *what, const char *stage,
			         const char *reply)
{
    VSTRING *buf = vstring_alloc(200);
    VSTRING *addr = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);

    /* The reply as the client saw it (smtpd_reply()), the rest with "?". */
    vstring_strcpy(text, reply);
    for (unsigned char *cp = (unsigned char *) vstring_str(text); *cp; cp++)
	if (*cp < 0x20 || *cp >= 0x7f)
	    *cp = ' ';
    vstring_sprintf(buf, "%s: %s: %s from %s: %s;",
		    state->queue_id ? state->queue_id : "NOQUEUE",
		    what, stage, state->namaddr, vstring_str(text));
    /* The addresses as the client gave them, as Postfix logs them. */
    if (state->sender)
	vstring_sprintf_append(buf, " from=<%s>", smtpd_printable(text, info_log_addr(addr,
		     state->sender_given ? state->sender_given : state->sender)));
    if (state->recipient)
	vstring_sprintf_append(buf, " to=<%s>", smtpd_printable(text, info_log_addr(addr,
		     state->rcpt_given ? state->rcpt_given : state->recipient)));
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
	vstring_sprintf_append(buf, " helo=<%s>", smtpd_printable(text, state->helo_name));
    msg_info("%s", vstring_str(buf));
    vstring_free(text);
    vstring_free(buf);
    vstring_free(addr);
}

/* smtpd_log_reject - "NOQUEUE: reject: RCPT from ..." */
void    smtpd_log_reject(SMTPD_STATE *state, const char *stage, const char *reply)
{
    smtpd_log_action(state, "reject", stage, reply);
}

/* smtpd_log_permit - smtpd_log_access_permit_actions, at this command */
void    smtpd_log_permit(SMTPD_STATE *state, const char *text)
{
    smtpd_log_action(state, "permit", state->where, text);
}

/* smtpd_log_reject_warning - the same for warn_if_reject, at this command */
void    smtpd_log_reject_warning(SMTPD_STATE *state, const char *reply)
{
    smtpd_log_action(state, "reject_warning", state->where, reply);
}

/*
 * smtpd_read_line - one input line without its line end. *crlf says
 * whether it ended in CRLF (0: a bare LF, or no LF at all for
 * VSTREAM_LONG pieces). Returns vstream_get_line()'s result.
 */
int     smtpd_read_line(SMTPD_STATE *state, VSTRING *buf, int *crlf)
{
    int     ret = vstream_get_line(state->client, buf, var_line_length_limit);

    *crlf = 0;
    if (ret == VSTREAM_LINE && vstring_len(buf) > 0
	&& vstring_str(buf)[vstring_len(buf) - 1] == '\r') {
	vstring_truncate(buf, vstring_len(buf) - 1);
	*crlf = 1;
    }
    return (ret);
}

/* smtpd_lost - log why input ended */
void    smtpd_lost(SMTPD_STATE *state)
{
    smtpd_notify_reason(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
    if (vstream_ftimeout(state->client)) {
	msg_info("timeout after %s from %s", state->where, state->namaddr);
	vstream_clearerr(state->client);
	vstream_clear_deadline(state->client);
	vstream_set_timeout(state->client, 10);
	smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    } else {
	msg_info("lost connection after %s from %s", state->where, state->namaddr);
    }
    state->quit = 1;
}

/* smtpd_bare_lf - what to do with a line that ended in a bare LF */
static int smtpd_bare_lf(SMTPD_STATE *state)
{
    switch (state->bare_lf_mode) {
    case SMTPD_BARE_LF_NOTE:
	msg_info("bare <LF> received after %s from %s", state->where, state->namaddr);
	return (0);
    case SMTPD_BARE_LF_REJECT:
	msg_info("disconnect: bare <LF> received after %s from %s",
		 state->where, state->namaddr);
	smtpd_reply(state, "%ld 5.5.2 %s Error: bare <LF> received",
		    var_bare_lf_code, var_myhostname);
	state->quit = 1;
	return (-1);
    default:
	return (0);
    }
}

/* offer - is an EHLO keyword not in smtpd_discard_ehlo_keywords */
static int offer(ARGV *discard, const char *kw)
{
    size_t  i;

    for (i = 0; i < discard->argc; i++)
	if (strcasecmp(discard->argv[i], kw) == 0)
	    return (0);
    return (1);
}

/* helo_cmd - HELO and EHLO */
static void helo_cmd_common(SMTPD_STATE *state, char *args, int esmtp)
{
    const char *verb = esmtp ? "EHLO" : "HELO";
    char   *name;
    ARGV   *discard;

    /* As Postfix, "HELO a b" names "a b". */
    name = args;
    if (*name == 0) {
	smtpd_reply(state, "501 Syntax: %s hostname", verb);
	return;
    }
    smtpd_transaction_reset(state);
    myfree(state->helo_name);
    state->helo_name = mystrdup(name);
    if (smtpd_milter_helo(state) != SMTPD_CHECK_OK) {
	/* Logged with the old protocol name; later lines say ESMTP (Postfix). */
	state->protocol = esmtp ? "ESMTP" : "SMTP";
	smtpd_reply(state, "%s", vstring_str(state->reply));
	return;
    }
    state->protocol = esmtp ? "ESMTP" : "SMTP";
    state->pipelining = 0;
    if (!var_smtpd_delay_reject && smtpd_check_helo(state) != SMTPD_CHECK_OK) {
	myfree(state->helo_name);
	state->helo_name = 0;
	smtpd_reply(state, "%s", vstring_str(state->reply));
	return;
    }
    if (!esmtp) {
	smtpd_reply(state, "250 %s", var_myhostname);
	return;
    }
    discard = argv_split(var_discard_ehlo, ", \t\r\n");
#define OFFER(kw) offer(discard, (kw))
    vstring_sprintf(state->reply, "250-%s\r\n", var_myhostname);
    if (OFFER("PIPELINING")) {
	vstring_strcat(state->reply, "250-PIPELINING\r\n");
	state->pipelining = 1;
    }
    if (OFFER("SIZE")) {
	if (var_message_size_limit > 0)
	    vstring_sprintf_append(state->reply, "250-SIZE %ld\r\n", var_message_size_limit);
	else
	    vstring_strcat(state->reply, "250-SIZE\r\n");
    }
    if (!var_disable_vrfy && OFFER("VRFY"))
	vstring_strcat(state->reply, "250-VRFY\r\n");
    if (OFFER("ETRN"))
	vstring_strcat(state->reply, "250-ETRN\r\n");
    if (!state->tls && smtpd_tls_offered(state) && OFFER("STARTTLS"))
	vstring_strcat(state->reply, "250-STARTTLS\r\n");
    if (OFFER("AUTH"))
	smtpd_sasl_ehlo(state, state->reply);
    /* Only to the hosts that may use them, as Postfix. */
    if (state->xclient_ok && OFFER("XCLIENT"))
	vstring_strcat(state->reply, "250-XCLIENT NAME ADDR PROTO HELO "
		       "REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n");
    if (state->xforward_ok && OFFER("XFORWARD"))
	vstring_strcat(state->reply, "250-XFORWARD NAME ADDR PROTO HELO "
		       "SOURCE PORT IDENT\r\n");
    if (OFFER("ENHANCEDSTATUSCODES"))
	vstring_strcat(state->reply, "250-ENHANCEDSTATUSCODES\r\n");
    if (OFFER("8BITMIME"))
	vstring_strcat(state->reply, "250-8BITMIME\r\n");
    if (OFFER("DSN"))
	vstring_strcat(state->reply, "250-DSN\r\n");
    /* RFC 3030 BDAT; BINARYMIME is not offered (BODY=BINARYMIME is refused). */
    if (OFFER("CHUNKING"))
	vstring_strcat(state->reply, "250-CHUNKING\r\n");
    argv_free(discard);
    /* The last line has a space after the code. */
    vstring_truncate(state->reply, vstring_len(state->reply) - 2);
    {
	char   *last = strrchr(vstring_str(state->reply), '\n');

	last = last ? last + 1 : vstring_str(state->reply);
	last[3] = ' ';
    }
    state->last_code = 250;
    smtpd_notify_reply(state, vstring_str(state->reply));
    log_reply_lines(state, vstring_str(state->reply));
    (void) vstream_fprintf(state->client, "%s\r\n", vstring_str(state->reply));
}

static void helo_cmd(SMTPD_STATE *state, char *args)
{
    helo_cmd_common(state, args, 0);
}

static void ehlo_cmd(SMTPD_STATE *state, char *args)
{
    helo_cmd_common(state, args, 1);
}

static void rset_cmd(SMTPD_STATE *state, char *args)
{
    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: RSET");
	return;
    }
    smtpd_transaction_reset(state);
    smtpd_reply(state, "250 2.0.0 Ok");
}

static void noop_cmd(SMTPD_STATE *state, char *args)
{
    (void) args;
    smtpd_reply(state, "250 2.0.0 Ok");
}

static void quit_cmd(SMTPD_STATE *state, char *args)
{
    (void) args;
    smtpd_reply(state, "221 2.0.0 Bye");
    state->quit = 1;
}

static void vrfy_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    char   *rest;

    if (var_disable_vrfy) {
	smtpd_reply(state, "502 5.5.1 VRFY command is disabled");
	return;
    }
    if (*args == 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: VRFY address");
	return;
    }
    if (smtpd_tls_required(state)) {
	smtpd_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
	return;
    }
    addr = vstring_alloc(100);
    if (smtpd_addr_extract(args, addr, &rest) < 0 || vstring_len(addr) == 0 || *rest) {
	smtpd_reply(state, "501 5.1.3 Bad recipient address syntax");
	vstring_free(addr);
	return;
    }
    myfree(state->recipient);
    myfree(state->rcpt_given);
    state->recipient = smtpd_canonical_addr(vstring_str(addr));
    state->rcpt_given = mystrdup(vstring_str(addr));
    if (smtpd_check_rcpt(state) != SMTPD_CHECK_OK) {
	smtpd_log_reject(state, "VRFY", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
    } else {
	smtpd_reply(state, "252 2.0.0 %s", args);
    }
    myfree(state->recipient);
    myfree(state->rcpt_given);
    state->recipient = state->rcpt_given = 0;
    vstring_free(addr);
}

typedef struct SMTPD_CMD {
    const char *name;
    int     index;
    void    (*action) (SMTPD_STATE *, char *);
} SMTPD_CMD;

static const SMTPD_CMD smtpd_cmds[] = {
    {"HELO", SMTPD_CMD_HELO, helo_cmd},
    {"EHLO", SMTPD_CMD_EHLO, ehlo_cmd},
    {"XCLIENT", SMTPD_CMD_XCLIENT, smtpd_xclient_cmd},
    {"XFORWARD", SMTPD_CMD_XFORWARD, smtpd_xforward_cmd},
    {"STARTTLS", SMTPD_CMD_STARTTLS, smtpd_starttls_cmd},
    {"AUTH", SMTPD_CMD_AUTH, smtpd_sasl_auth_cmd},
    {"MAIL", SMTPD_CMD_MAIL, smtpd_mail_cmd},
    {"RCPT", SMTPD_CMD_RCPT, smtpd_rcpt_cmd},
    {"DATA", SMTPD_CMD_DATA, smtpd_data_cmd},
    {"BDAT", SMTPD_CMD_BDAT, smtpd_bdat_cmd},
    {"RSET", SMTPD_CMD_RSET, rset_cmd},
    {"NOOP", SMTPD_CMD_NOOP, noop_cmd},
    {"VRFY", SMTPD_CMD_VRFY, vrfy_cmd},
    {"ETRN", SMTPD_CMD_ETRN, smtpd_etrn_cmd},
    {"QUIT", SMTPD_CMD_QUIT, quit_cmd},
    {0, 0, 0},
};

/* smtpd_disconnect_log - "disconnect from host[addr] ehlo=1 ... commands=5" */
/* append_int - "%d" without printf (the disconnect line is per session) */
static void append_int(VSTRING *buf, int val)
{
    char    num[24];
    char   *cp = num + sizeof(num);
    unsigned long long u = val < 0 ? -(long long) val : val;

    *--cp = 0;
    do {
	*--cp = '0' + u % 10;
    } while ((u /= 10) != 0);
    if (val < 0)
	*--cp = '-';
    vstring_strcat(buf, cp);
}

/* append_count - " name=total", or " name=ok/total" unless whole */
static void append_count(VSTRING *buf, const char *name, int ok, int total,
			         int whole)
{
    vstring_addch(buf, ' ');
    vstring_strcat(buf, name);
    vstring_addch(buf, '=');
    if (!whole) {
	append_int(buf, ok);
	vstring_addch(buf, '/');
    }
    append_int(buf, total);
}

static void smtpd_disconnect_log(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    int     i, ok = 0, total = 0;

    vstring_strcpy(buf, "disconnect from ");
    vstring_strcat(buf, state->namaddr);
    for (i = 0; i < SMTPD_CMD_COUNT; i++) {
	if (state->cmd_total[i] == 0)
	    continue;
	ok += state->cmd_ok[i];
	total += state->cmd_total[i];
	append_count(buf, cmd_names[i], state->cmd_ok[i], state->cmd_total[i],
		     state->cmd_ok[i] == state->cmd_total[i]);
    }
    /* Postfix: "commands=0/0" for a client that sent none. */
    append_count(buf, "commands", ok, total, ok == total && total > 0);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* smtpd_command - read and run one command */
static void smtpd_command(SMTPD_STATE *state)
{
    const SMTPD_CMD *cmd;
    char   *line, *verb, *args;
    int     crlf, ret;
    int     index;

    vstream_set_deadline(state->client, (int) var_smtpd_timeout);
    if (smtpd_idle_wait(state) < 0)
	return;
    ret = smtpd_read_line(state, state->buffer, &crlf);
    if (ret == VSTREAM_EOF || ret == VSTREAM_PARTIAL) {
	smtpd_lost(state);
	return;
    }
    /* smtpd_tls_req_ccert: no command runs without a trusted certificate. */
    if (smtpd_tls_abort(state))
	return;
    if (ret == VSTREAM_LINE && !crlf && smtpd_bare_lf(state) < 0)
	return;
    smtpd_notify_in(state, vstring_str(state->buffer));
    if (smtpd_guard_line(state, state->buffer, ret) != SMTPD_GUARD_RUN)
	return;
    line = vstring_str(state->buffer);
    if (msg_verbose) {
	VSTRING *text = vstring_alloc(100);

	msg_info("< %s: %s", state->namaddr, smtpd_printable(text, line));
	vstring_free(text);
    }
    while (*line == ' ' || *line == '\t')
	line++;
    args = line;
    verb = mystrtok(&args, " \t");
    if (args == 0)
	args = "";
    while (*args == ' ' || *args == '\t')
	args++;
    trimblanks(args);
    if (verb == 0) {
	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	smtpd_reply(state, "500 5.5.2 Error: bad syntax");
	return;
    }
    if (smtpd_guard_noop(state, verb) != SMTPD_GUARD_RUN)
	return;
    for (cmd = smtpd_cmds; cmd->name; cmd++)
	if (strcasecmp(cmd->name, verb) == 0)
	    break;
    if (cmd->name == 0) {
	char   *name = mystrdup(verb);

	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	/* Restore the line for the log: mystrtok() cut it at the verb. */
	if (*args)
	    verb[strlen(verb)] = ' ';
	if (smtpd_guard_unknown(state, name, line) == SMTPD_GUARD_RUN) {
	    if (smtpd_milter_unknown(state, verb) != SMTPD_CHECK_OK)
		smtpd_reply(state, "%s", vstring_str(state->reply));
	    else
		smtpd_reply(state, "500 5.5.2 Error: command not recognized");
	}
	myfree(name);
	return;
    }
    index = cmd->index;
    state->where = cmd->name;
    state->cmd_total[index]++;
    state->last_code = 0;
    /* A BDAT chunk follows its command (RFC 3030), for PIPELINING clients. */
    if ((index != SMTPD_CMD_BDAT || !state->pipelining)
	&& smtpd_guard_pipelining(state, index) != SMTPD_GUARD_RUN)
	return;
    smtpd_guard_junk(state, index);
    /* A long transcript goes out (when it must) before EHLO and RSET. */
    if (index == SMTPD_CMD_EHLO || index == SMTPD_CMD_RSET)
	smtpd_notify_flush(state);
    /* smtpd_delay_reject = no and the client was refused at connect. */
    if (state->access_denied && index != SMTPD_CMD_QUIT)
	smtpd_reply(state, "503 5.7.0 Error: access denied for %s", state->namaddr);
    else
	cmd->action(state, args);
    /* As Postfix, a successful XCLIENT (a new greeting) is not counted. */
    if (state->last_code >= 200 && state->last_code < 400 && index != SMTPD_CMD_XCLIENT)
	state->cmd_ok[index]++;
}

/*
 * smtpd_session_filters - the milters' CONNECT event; 1 when their reply
 * (in state->reply) replaces the greeting. After XCLIENT the milters
 * start again for the new client.
 */
static int smtpd_session_filters(SMTPD_STATE *state)
{
    smtpd_milter_disconnect(state);
    smtpd_milter_connect(state);
    return (state->milter_banner);
}

/*
 * smtpd_banner - the greeting, or the refusal that replaces it
 * (smtpd_delay_reject = no and smtpd_client_restrictions refuse, or a
 * milter). Also after a successful XCLIENT, for the new client identity.
 */
void    smtpd_banner(SMTPD_STATE *state)
{
    myfree(state->access_denied);
    state->access_denied = 0;
    state->milter_banner = 0;
    if (!var_smtpd_delay_reject && smtpd_check_client(state) != SMTPD_CHECK_OK) {
	state->access_denied = mystrdup(vstring_str(state->reply));
	smtpd_log_reject(state, "CONNECT", state->access_denied);
	smtpd_reply(state, "%s", state->access_denied);
    } else if (smtpd_session_filters(state) != 0) {
	smtpd_reply(state, "%s", vstring_str(state->reply));
    } else {
	smtpd_reply(state, "220 %s", var_smtpd_banner);
    }
}

void    smtpd_session(VSTREAM *client, SMTPD_STATE *state)
{
    state->client = client;
    vstream_set_timeout(client, (int) var_smtpd_timeout);
    vstream_set_deadline(client, (int) var_smtpd_timeout);
    msg_info("connect from %s", state->namaddr);
    smtpd_xclient_authorize(state);
    /* debug_peer_list: this client's session is logged verbosely. */
    (void) debug_peer_check(state->name, state->addr);

    if (smtpd_limit_connect(state) < 0) {
	smtpd_reply(state, "421 4.7.0 %s Error: too many connections from %s",
		    var_myhostname, state->addr);
	(void) vstream_fflush(client);
	msg_info("disconnect from %s commands=0/0", state->namaddr);
	smtpd_limit_disconnect();
	debug_peer_restore();
	return;
    }
    if (smtpd_tls_wrapper(state) < 0) {
	smtpd_disconnect_log(state);
	smtpd_limit_disconnect();
	debug_peer_restore();
	return;
    }
    /* A client that talks before the greeting (not after TLS wrapper mode). */
    if (state->tls || smtpd_guard_greeting(state) == SMTPD_GUARD_RUN)
	smtpd_banner(state);
    state->error_count = 0;

    while (!state->quit) {
	if (state->error_count >= var_smtpd_hard_erlim) {
	    msg_info("too many errors after %s from %s", state->where, state->namaddr);
	    smtpd_notify_reason(state, "too many errors");
	    smtpd_notify_class(state, SMTPD_NOTIFY_NONE);
	    smtpd_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
	    break;
	}
	smtpd_command(state);
	if (vstream_ferror(client) && !state->quit) {
	    smtpd_lost(state);
	    break;
	}
    }
    (void) vstream_fflush(client);
    smtpd_tls_end(state);			/* the process serves more clients */
    smtpd_transaction_reset(state);
    smtpd_milter_disconnect(state);
    smtpd_disconnect_log(state);
    smtpd_notify_end(state);
    smtpd_limit_disconnect();
    debug_peer_restore();
}
