/*
 * NAME
 *	smtpd_milter - smtpd_milters: the milter events of an SMTP session
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_milter_init(void);
 *	void smtpd_milter_connect(SMTPD_STATE *state);
 *	int smtpd_milter_helo(SMTPD_STATE *state);
 *	int smtpd_milter_mail(SMTPD_STATE *state, const char *addr,
 *			      const char *params);
 *	int smtpd_milter_rcpt(SMTPD_STATE *state, const char *addr,
 *			      const char *params);
 *	int smtpd_milter_data(SMTPD_STATE *state);
 *	int smtpd_milter_unknown(SMTPD_STATE *state, const char *line);
 *	int smtpd_milter_message(SMTPD_STATE *state, QUEUE_WRITER *qw,
 *				 int hidden);
 *	void smtpd_milter_abort(SMTPD_STATE *state);
 *	void smtpd_milter_disconnect(SMTPD_STATE *state);
 * DESCRIPTION
 *	smtpd's side of milter(3). smtpd_milter_init() (before the
 *	chroot) notes whether smtpd_milters is set and receive_override_
 *	options does not say no_milters; when not, every other function
 *	returns at once (mail without milters pays nothing).
 *
 *	smtpd_milter_connect() contacts the filters when the session
 *	starts and sends CONNECT. A refusal is logged as Postfix does
 *	("NOQUEUE: milter-reject: CONNECT from host[addr]: 451 4.7.1
 *	Service unavailable - try again later; proto=SMTP"); the greeting
 *	is then sent as usual for 4xx (the filter refuses the later
 *	commands), "554 $myhostname ESMTP not accepting connections" for
 *	5xx, and "421" ends the session.
 *
 *	The command hooks return SMTPD_CHECK_OK, or SMTPD_CHECK_REJECT
 *	after they have logged "milter-reject: HELO|MAIL|RCPT|DATA from
 *	..." and put the filter's reply in state->reply for the caller to
 *	send. A discard logs "milter-discard: ...: milter triggers DISCARD
 *	action" and marks the transaction (state->milter_discard): the
 *	client is told the message was queued and nothing is kept. A
 *	quarantine logs "milter-hold: ..." and marks it for the hold queue
 *	(state->milter_hold). A 421 reply ends the session after it is sent.
 *
 *	smtpd_milter_message() runs at the end of DATA, when the queue
 *	file is complete but not committed: each filter sees the message
 *	(without our Received: header and the PREPEND headers above it:
 *	hidden) and the changes of the filters before it. Changes rewrite
 *	the queue file (milter_edit(3)); recipients a filter adds go
 *	through virtual alias expansion like any other. It returns
 *	SMTPD_CHECK_OK (commit; a quarantine or discard is marked as
 *	above) or SMTPD_CHECK_REJECT with the reply in state->reply,
 *	logged as Postfix's cleanup does: "QID: milter-reject:
 *	END-OF-MESSAGE from host[addr]: 5.7.1 Command rejected; from=<s>
 *	to=<r> proto=ESMTP helo=<h>".
 *
 *	Macros: j, v, {daemon_name} (milter.c), _, {client_addr},
 *	{client_name}, {client_port}, {client_ptr}, {daemon_addr},
 *	{daemon_port}, i (the queue ID once the file exists), {mail_addr},
 *	{mail_host}, {mail_mailer}, {rcpt_addr}, {rcpt_host},
 *	{rcpt_mailer} (host and mailer as routing would send there),
 *	{tls_version}, {cipher}, {cipher_bits} with TLS, and for a client
 *	that logged in {auth_type} (the mechanism), {auth_authen} (the
 *	login name) and {auth_author} (MAIL FROM AUTH=).
 * SEE ALSO
 *	milter(3), milter_edit(3)
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/milter.h"
#include "global/milter_edit.h"
#include "global/input_transp.h"
#include "global/resolve.h"
#include "global/info_log_addr.h"
#include "tls/tls_server.h"
#include "smtpd.h"

static int milters_on;			/* smtpd_milters set, not no_milters */

void    smtpd_milter_init(void)
{
    ARGV   *list = argv_split_list(mail_conf_str(VAR_SMTPD_MILTERS));

    milters_on = list->argc > 0 && !(var_input_transp & INPUT_TRANSP_MILTER);
    argv_free(list);
    if (milters_on) {
	/* Parse now: a bad entry is a configuration error at start. */
	milter_free(milter_create(VAR_SMTPD_MILTERS));
	resolve_init();
    }
}

/* mac_resolve - {mail,rcpt}_{host,mailer} of an address, as routing has them */
static const char *mac_resolve(SMTPD_STATE *state, const char *addr, int want_host)
{
    static RESOLVE_REPLY *reply;

    if (reply == 0)
	reply = resolve_reply_alloc();
    if (resolve_addr(state->sender ? state->sender : "", addr, reply) != RESOLVE_OK)
	return (0);
    return (want_host ? vstring_str(reply->nexthop) : vstring_str(reply->transport));
}

/* mac_daemon - our end of the connection: address or port */
static const char *mac_daemon(SMTPD_STATE *state, int want_port)
{
    static char buf[INET6_ADDRSTRLEN + 10];
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(vstream_fileno(state->client), (struct sockaddr *) &ss, &len) < 0)
	return (0);
    if (ss.ss_family == AF_INET) {
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

	if (want_port)
	    snprintf(buf, sizeof(buf), "%u", ntohs(sin->sin_port));
	else
	    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
    } else if (ss.ss_family == AF_INET6) {
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

	if (want_port)
	    snprintf(buf, sizeof(buf), "%u", ntohs(sin6->sin6_port));
	else
	    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
    } else {
	return (0);
    }
    return (buf);
}

/* smtpd_milter_macro - a macro's value for this session, or NULL */
static const char *smtpd_milter_macro(const char *name, void *ctx)
{
    SMTPD_STATE *state = ctx;
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(100);
    if (strcmp(name, "_") == 0) {
	vstring_sprintf(buf, "%s [%s]%s", state->reverse_name, state->addr,
			strcasecmp(state->name, state->reverse_name) == 0 ? "" :
			" (may be forged)");
	return (vstring_str(buf));
    }
    if (strcmp(name, "i") == 0)
	return (state->queue_id);
    if (strcmp(name, "{client_addr}") == 0)
	return (state->addr);
    if (strcmp(name, "{client_name}") == 0)
	return (state->name);
    if (strcmp(name, "{client_port}") == 0)
	return (state->port);
    if (strcmp(name, "{client_ptr}") == 0)
	return (state->reverse_name);
    if (strcmp(name, "{daemon_addr}") == 0)
	return (mac_daemon(state, 0));
    if (strcmp(name, "{daemon_port}") == 0)
	return (mac_daemon(state, 1));
    if (strcmp(name, "{mail_addr}") == 0)
	return (state->sender);
    if (strcmp(name, "{auth_type}") == 0)
	return (state->sasl_method);
    if (strcmp(name, "{auth_authen}") == 0)
	return (state->sasl_username);
    if (strcmp(name, "{auth_author}") == 0)
	return (state->sasl_sender);
    if (strcmp(name, "{mail_host}") == 0 || strcmp(name, "{mail_mailer}") == 0) {
	if (state->sender == 0 || *state->sender == 0)
	    return (strcmp(name, "{mail_mailer}") == 0 ? "local" : 0);
	return (mac_resolve(state, state->sender, name[6] == 'h'));
    }
    if (strcmp(name, "{rcpt_addr}") == 0)
	return (state->recipient);
    if (strcmp(name, "{rcpt_host}") == 0 || strcmp(name, "{rcpt_mailer}") == 0)
	return (state->recipient ? mac_resolve(state, state->recipient, name[6] == 'h') : 0);
    if (state->tls) {
	if (strcmp(name, "{tls_version}") == 0)
	    return (tls_server_protocol(state->client));
	if (strcmp(name, "{cipher}") == 0)
	    return (tls_server_cipher(state->client));
	if (strcmp(name, "{cipher_bits}") == 0) {
	    vstring_sprintf(buf, "%d", tls_server_bits(state->client));
	    return (vstring_str(buf));
	}
    }
    return (0);
}

/* milter_log - "QID: milter-ACTION: STAGE from client: text; from=<> ..." */
static void milter_log(SMTPD_STATE *state, const char *action, const char *stage,
		               const char *text, const char *rcpt)
{
    VSTRING *buf = vstring_alloc(200);
    VSTRING *addr = vstring_alloc(100);

    vstring_sprintf(buf, "%s: milter-%s: %s from %s: %s;",
		    state->queue_id ? state->queue_id : "NOQUEUE",
		    action, stage, state->namaddr, text);
    if (state->sender)
	vstring_sprintf_append(buf, " from=<%s>", info_log_addr(addr, state->sender));
    if (rcpt)
	vstring_sprintf_append(buf, " to=<%s>", info_log_addr(addr, rcpt));
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
	vstring_sprintf_append(buf, " helo=<%s>", state->helo_name);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
    vstring_free(addr);
}

/*
 * milter_result - act on an event's result: log it, put the reply in
 * state->reply. Returns SMTPD_CHECK_OK or SMTPD_CHECK_REJECT.
 */
static int milter_result(SMTPD_STATE *state, int st, const char *stage)
{
    const char *reply = milter_reply(state->milters);

    switch (st) {
    case MILTER_CONTINUE:
	return (SMTPD_CHECK_OK);
    case MILTER_DISCARD:
	milter_log(state, "discard", stage, "milter triggers DISCARD action", state->recipient);
	state->milter_discard = 1;
	return (SMTPD_CHECK_OK);
    case MILTER_HOLD:
	milter_log(state, "hold", stage, "milter triggers HOLD action", state->recipient);
	state->milter_hold = 1;
	if (strcmp(stage, "CONNECT") == 0 || strcmp(stage, "HELO") == 0
	    || strcmp(stage, "EHLO") == 0)
	    state->milter_hold_session = 1;
	return (SMTPD_CHECK_OK);
    case MILTER_SHUTDOWN:
	state->quit = 1;
	/* FALLTHROUGH */
    default:
	milter_log(state, "reject", stage, reply, state->recipient);
	vstring_strcpy(state->reply, reply);
	if (strncmp(reply, "421", 3) == 0)
	    state->quit = 1;
	return (SMTPD_CHECK_REJECT);
    }
}

void    smtpd_milter_connect(SMTPD_STATE *state)
{
    int     family = strchr(state->addr, ':') ? AF_INET6 : AF_INET;
    int     st;

    if (!milters_on)
	return;
    state->milters = milter_create(VAR_SMTPD_MILTERS);
    milter_macro_callback(state->milters, smtpd_milter_macro, state);
    st = milter_conn_event(state->milters, state->name, state->addr, state->port, family);
    /*
     * As Postfix: after a 4xx the greeting is sent as usual and the
     * filter refuses the commands; a 5xx replaces the greeting; 421 ends
     * the session.
     */
    if (milter_result(state, st, "CONNECT") == SMTPD_CHECK_REJECT) {
	if (strncmp(vstring_str(state->reply), "421", 3) == 0) {
	    state->milter_banner = 1;
	} else if (*vstring_str(state->reply) == '5') {
	    vstring_sprintf(state->reply, "554 %s ESMTP not accepting connections",
			    var_myhostname);
	    state->milter_banner = 1;
	}
    }
}

int     smtpd_milter_helo(SMTPD_STATE *state)
{
    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    return (milter_result(state, milter_helo_event(state->milters, state->helo_name),
			  state->where));
}

/* args_event - MAIL or RCPT: "<addr>" and the ESMTP parameters */
static int args_event(SMTPD_STATE *state, int rcpt, const char *addr, const char *params)
{
    ARGV   *args = argv_alloc(4);
    ARGV   *words = argv_split(params ? params : "", " \t");
    VSTRING *buf = vstring_alloc(100);
    int     st;

    vstring_sprintf(buf, "<%s>", addr);
    argv_add(args, vstring_str(buf));
    for (size_t i = 0; i < words->argc; i++)
	argv_add(args, words->argv[i]);
    st = rcpt ? milter_rcpt_event(state->milters, (const char **) args->argv)
	: milter_mail_event(state->milters, (const char **) args->argv);
    argv_free(args);
    argv_free(words);
    vstring_free(buf);
    return (milter_result(state, st, rcpt ? "RCPT" : "MAIL"));
}

int     smtpd_milter_mail(SMTPD_STATE *state, const char *addr, const char *params)
{
    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    state->milter_hold = state->milter_hold_session;
    state->milter_discard = 0;
    return (args_event(state, 0, addr, params));
}

int     smtpd_milter_rcpt(SMTPD_STATE *state, const char *addr, const char *params)
{
    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    return (args_event(state, 1, addr, params));
}

int     smtpd_milter_data(SMTPD_STATE *state)
{
    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    return (milter_result(state, milter_data_event(state->milters), "DATA"));
}

int     smtpd_milter_unknown(SMTPD_STATE *state, const char *line)
{
    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    return (milter_result(state, milter_unknown_event(state->milters, line), "UNKNOWN"));
}

void    smtpd_milter_abort(SMTPD_STATE *state)
{
    if (state->milters)
	milter_abort(state->milters);
}

void    smtpd_milter_disconnect(SMTPD_STATE *state)
{
    if (state->milters) {
	milter_free(state->milters);
	state->milters = 0;
    }
}

/* What the apply callback needs. */
typedef struct EDIT_CTX {
    SMTPD_STATE *state;
    QUEUE_WRITER *qw;
    VSTREAM *reader;			/* the file version the filters read */
} EDIT_CTX;

/* edit_add_rcpt - a recipient a filter added: aliases expanded, written */
static int edit_add_rcpt(void *ctx, QUEUE_WRITER *qw, const char *addr)
{
    SMTPD_STATE *state = ((EDIT_CTX *) ctx)->state;
    char   *saved = state->recipient;
    int     ret = 0;

    (void) qw;
    state->recipient = mystrdup(addr);
    if (smtpd_forward_expand(state) != SMTPD_FWD_OK) {
	msg_warn("%s: milter added recipient <%s>: %s", state->queue_id, addr,
		 vstring_str(state->reply));
	ret = -1;
    } else if (smtpd_forward_write_rcpt(state, 0, (char *) 0) < 0) {
	ret = -1;
    }
    myfree(state->recipient);
    state->recipient = saved;
    return (ret);
}

/* edit_apply - one filter's changes: a new version of the queue file */
static int edit_apply(void *ctx, const MILTER_EDITS *e, VSTREAM **fp,
		              off_t *offset, off_t *size)
{
    EDIT_CTX *ec = ctx;
    VSTREAM *next;

    if (milter_edit_apply(ec->qw, e, *fp, *offset, *size, edit_add_rcpt, ec) < 0
	|| (next = queue_writer_reader(ec->qw)) == 0) {
	msg_warn("%s: cannot make the milter's changes: %s", ec->state->queue_id,
		 queue_writer_errno(ec->qw) ? strerror(queue_writer_errno(ec->qw)) :
		 "bad queue file");
	return (-1);
    }
    (void) vstream_close(ec->reader);
    ec->reader = next;
    *fp = next;
    *offset = queue_writer_msg_offset(ec->qw);
    *size = queue_writer_msg_size(ec->qw);
    if (e->sender) {
	myfree(ec->state->sender);
	ec->state->sender = mystrdup(e->sender);
    }
    return (0);
}

/* eom_log - cleanup's END-OF-MESSAGE line: the reply without its code */
static void eom_log(SMTPD_STATE *state, const char *action, const char *text)
{
    char   *first = mystrdup(text);
    char   *nl;

    if ((nl = strpbrk(first, "\r\n")) != 0)
	*nl = 0;
    milter_log(state, action, "END-OF-MESSAGE",
	       strlen(first) > 4 && (first[3] == ' ' || first[3] == '-') ? first + 4 : first,
	       state->last_rcpt);
    myfree(first);
}

int     smtpd_milter_message(SMTPD_STATE *state, QUEUE_WRITER *qw, int hidden)
{
    EDIT_CTX ec;
    int     st;

    if (state->milters == 0)
	return (SMTPD_CHECK_OK);
    ec.state = state;
    ec.qw = qw;
    if ((ec.reader = queue_writer_reader(qw)) == 0) {
	vstring_strcpy(state->reply, "451 4.3.0 Error: queue file write error");
	return (SMTPD_CHECK_REJECT);
    }
    st = milter_message(state->milters, ec.reader, queue_writer_msg_offset(qw),
			queue_writer_msg_size(qw), hidden, edit_apply, &ec);
    (void) vstream_close(ec.reader);
    switch (st) {
    case MILTER_CONTINUE:
	return (SMTPD_CHECK_OK);
    case MILTER_DISCARD:
	eom_log(state, "discard", "milter triggers DISCARD action");
	state->milter_discard = 1;
	return (SMTPD_CHECK_OK);
    case MILTER_HOLD:
	eom_log(state, "hold", "milter triggers HOLD action");
	state->milter_hold = 1;
	return (SMTPD_CHECK_OK);
    case MILTER_SHUTDOWN:
	state->quit = 1;
	/* FALLTHROUGH */
    default:
	vstring_strcpy(state->reply, milter_reply(state->milters));
	eom_log(state, "reject", vstring_str(state->reply));
	if (strncmp(vstring_str(state->reply), "421", 3) == 0)
	    state->quit = 1;
	return (SMTPD_CHECK_REJECT);
    }
}
