/*
 * NAME
 *	pickup_milter - non_smtpd_milters: the milters of local mail
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	void pickup_milter_init(void);
 *	void pickup_milter_mail(PICKUP_STATE *st);
 *	void pickup_milter_rcpt(PICKUP_STATE *st, const char *rcpt);
 *	void pickup_milter_data(PICKUP_STATE *st);
 *	void pickup_milter_message(PICKUP_STATE *st);
 *	void pickup_milter_close(PICKUP_STATE *st);
 * DESCRIPTION
 *	Postfix's cleanup shows local mail to non_smtpd_milters as if it
 *	came over ESMTP from localhost; so does pickup, with milter(3).
 *	pickup_milter_init() (before the chroot) notes whether
 *	non_smtpd_milters is set and receive_override_options does not say
 *	no_milters, and parses the list (a bad entry is fatal); when not,
 *	every other function returns at once.
 *
 *	For each message, pickup_milter_mail() connects to the milters and
 *	sends CONNECT (host "localhost", address 127.0.0.1, port 0, IPv4),
 *	HELO "localhost" and MAIL with the sender as rewritten (without
 *	angle brackets, "" for the null sender, as Postfix sends it);
 *	pickup_milter_rcpt() sends RCPT for each recipient as rewritten,
 *	pickup_milter_data() DATA, and pickup_milter_message() the headers
 *	(our Received: hidden) and body of the complete queue file, before
 *	it is committed. pickup_milter_close() ends the connections.
 *
 *	Macros: j, v, {daemon_name} (milter.c), _ "localhost [127.0.0.1]",
 *	{client_addr} 127.0.0.1, {client_name} and {client_ptr}
 *	localhost, {client_port} 0, {daemon_addr} 127.0.0.1,
 *	{daemon_port} 0, i (the queue ID), {mail_addr} and {rcpt_addr};
 *	no {mail_host}, {rcpt_host}, {auth_*} or TLS macros (checked
 *	against Postfix 3.7.11).
 *
 *	What the milters say, as Postfix's cleanup does it, logged in its
 *	words ("QID: milter-reject: END-OF-MESSAGE from
 *	localhost[127.0.0.1]: 5.7.1 Command rejected; from=<s> to=<r>"):
 *	a 5xx reply returns the message to its sender with its headers
 *	only (PICKUP_OUT_BOUNCE); a 4xx reply or tempfail leaves it in
 *	maildrop/ (PICKUP_OUT_DEFER); discard drops it ("milter-discard:
 *	... milter triggers DISCARD action"); quarantine holds it
 *	("milter-hold: ... milter triggers HOLD action"). A milter cannot
 *	refuse one recipient of local mail: that is logged as Postfix's
 *	"milter configuration error: can't reject recipient in
 *	non-smtpd(8) submission" and the message waits in maildrop/.
 *	Changes (headers, body, sender, recipients added or removed) are
 *	made to the queue file with milter_edit(3); added recipients go
 *	through rewriting and virtual aliasing.
 * SEE ALSO
 *	milter(3), milter_edit(3)
 */
#include <sys/socket.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/info_log_addr.h"
#include "global/input_transp.h"
#include "global/mail_addr.h"
#include "global/mail_conf.h"
#include "global/milter.h"
#include "global/milter_edit.h"
#include "pickup.h"

#define CLIENT_NAME	"localhost"
#define CLIENT_ADDR	"127.0.0.1"
#define CLIENT_PORT	"0"

void    pickup_milter_init(void)
{
    ARGV   *list = argv_split_list(mail_conf_str(VAR_NON_SMTPD_MILTERS));

    pickup_conf.milters = list->argc > 0
	&& !(pickup_conf.input_transp & INPUT_TRANSP_MILTER);
    argv_free(list);
    /* Parse now: a bad entry is a configuration error at start. */
    if (pickup_conf.milters)
	milter_free(milter_create(VAR_NON_SMTPD_MILTERS));
}

/* What the macro callback needs. */
typedef struct MILTER_CTX {
    PICKUP_STATE *st;
    VSTRING *mail_addr;			/* {mail_addr} */
    VSTRING *rcpt_addr;			/* {rcpt_addr} */
} MILTER_CTX;

static MILTER_CTX milter_ctx;

/* macro - a macro's value for local mail, or NULL */
static const char *macro(const char *name, void *context)
{
    MILTER_CTX *ctx = context;

    if (strcmp(name, "_") == 0)
	return (CLIENT_NAME " [" CLIENT_ADDR "]");
    if (strcmp(name, "i") == 0)
	return (ctx->st->queue_id);
    if (strcmp(name, "{client_addr}") == 0 || strcmp(name, "{daemon_addr}") == 0)
	return (CLIENT_ADDR);
    if (strcmp(name, "{client_name}") == 0 || strcmp(name, "{client_ptr}") == 0)
	return (CLIENT_NAME);
    if (strcmp(name, "{client_port}") == 0 || strcmp(name, "{daemon_port}") == 0)
	return (CLIENT_PORT);
    if (strcmp(name, "{mail_addr}") == 0)
	return (vstring_str(ctx->mail_addr));
    if (strcmp(name, "{rcpt_addr}") == 0)
	return (ctx->st->last_rcpt ? vstring_str(ctx->rcpt_addr) : 0);
    return (0);
}

/* milter_log - "QID: milter-ACTION: STAGE from localhost[127.0.0.1]: text; ..." */
static void milter_log(PICKUP_STATE *st, const char *action, const char *stage,
		               const char *text)
{
    VSTRING *buf = vstring_alloc(200);
    VSTRING *addr = vstring_alloc(100);
    char   *first = mystrdup(text);
    char   *nl;

    if ((nl = strpbrk(first, "\r\n")) != 0)
	*nl = 0;
    vstring_sprintf(buf, "%s: milter-%s: %s from %s[%s]: %s;", st->queue_id, action,
		    stage, CLIENT_NAME, CLIENT_ADDR, first);
    if (st->sender)
	vstring_sprintf_append(buf, " from=<%s>", info_log_addr(addr, st->sender));
    if (st->last_rcpt)
	vstring_sprintf_append(buf, " to=<%s>", info_log_addr(addr, st->last_rcpt));
    msg_info("%s", vstring_str(buf));
    myfree(first);
    vstring_free(buf);
    vstring_free(addr);
}

/*
 * milter_result - act on an event's result; 0 to go on, -1 when the
 * milters have decided for the message (no more events).
 */
static int milter_result(PICKUP_STATE *st, int status, const char *stage)
{
    const char *reply;

    switch (status) {
    case MILTER_CONTINUE:
	return (0);
    case MILTER_HOLD:
	if (!st->hold)
	    milter_log(st, "hold", stage, "milter triggers HOLD action");
	st->hold = 1;
	return (0);
    case MILTER_DISCARD:
	milter_log(st, "discard", stage, "milter triggers DISCARD action");
	pickup_outcome(st, PICKUP_OUT_DISCARD, (char *) 0);
	return (-1);
    default:
	/* A refusal: "5xx X.Y.Z text" bounces, "4xx ..." waits. */
	reply = milter_reply(st->milters);
	milter_log(st, "reject", stage, strlen(reply) > 4 ? reply + 4 : reply);
	if (*reply == '5') {
	    char   *text = mystrdup(strlen(reply) > 4 ? reply + 4 : "5.7.1 Command rejected");
	    char   *nl;

	    if ((nl = strpbrk(text, "\r\n")) != 0)
		*nl = 0;
	    pickup_outcome(st, PICKUP_OUT_BOUNCE, text);
	    st->hdrs_only = 1;
	    myfree(text);
	} else {
	    pickup_outcome(st, PICKUP_OUT_DEFER, (char *) 0);
	}
	return (-1);
    }
}

/* milter_active - may the next event go? */
static int milter_active(PICKUP_STATE *st)
{
    return (st->milters != 0 && st->outcome == PICKUP_OUT_OK);
}

void    pickup_milter_mail(PICKUP_STATE *st)
{
    const char *args[2];

    if (!pickup_conf.milters)
	return;
    if (milter_ctx.mail_addr == 0) {
	milter_ctx.mail_addr = vstring_alloc(100);
	milter_ctx.rcpt_addr = vstring_alloc(100);
    }
    milter_ctx.st = st;
    vstring_reset(milter_ctx.mail_addr);
    st->milters = milter_create(VAR_NON_SMTPD_MILTERS);
    milter_macro_callback(st->milters, macro, &milter_ctx);
    if (milter_result(st, milter_conn_event(st->milters, CLIENT_NAME, CLIENT_ADDR,
					    CLIENT_PORT, AF_INET), "CONNECT") < 0
	|| milter_result(st, milter_helo_event(st->milters, CLIENT_NAME), "EHLO") < 0)
	return;
    /* The sender as Postfix sends it here: no angle brackets. */
    if (*st->sender)
	mail_addr_externalize(milter_ctx.mail_addr, st->sender);
    args[0] = vstring_str(milter_ctx.mail_addr);
    args[1] = 0;
    (void) milter_result(st, milter_mail_event(st->milters, args), "MAIL");
}

void    pickup_milter_rcpt(PICKUP_STATE *st, const char *rcpt)
{
    const char *args[2];
    int     status;

    if (!milter_active(st))
	return;
    if (*rcpt)
	mail_addr_externalize(milter_ctx.rcpt_addr, rcpt);
    else
	vstring_reset(milter_ctx.rcpt_addr);
    args[0] = vstring_str(milter_ctx.rcpt_addr);
    args[1] = 0;
    status = milter_rcpt_event(st->milters, args);
    if (status == MILTER_REJECT || status == MILTER_SHUTDOWN) {
	(void) milter_result(st, status, "RCPT");
	msg_warn("%s: milter configuration error: can't reject recipient "
		 "in non-smtpd(8) submission", st->queue_id);
	msg_warn("%s: message not accepted, try again later", st->queue_id);
	pickup_outcome(st, PICKUP_OUT_DEFER, (char *) 0);
    } else {
	(void) milter_result(st, status, "RCPT");
    }
}

void    pickup_milter_data(PICKUP_STATE *st)
{
    if (milter_active(st))
	(void) milter_result(st, milter_data_event(st->milters), "DATA");
}

/* edit_add_rcpt - a recipient a milter added: rewritten, aliased, written */
static int edit_add_rcpt(void *context, QUEUE_WRITER *qw, const char *addr)
{
    (void) qw;
    return (pickup_envelope_add_rcpt((PICKUP_STATE *) context, addr));
}

/* What the apply callback needs. */
typedef struct EDIT_CTX {
    PICKUP_STATE *st;
    VSTREAM *reader;			/* the file version the milters read */
} EDIT_CTX;

/* edit_apply - one milter's changes: a new version of the queue file */
static int edit_apply(void *context, const MILTER_EDITS *e, VSTREAM **fp,
		              off_t *offset, off_t *size)
{
    EDIT_CTX *ec = context;
    PICKUP_STATE *st = ec->st;
    VSTREAM *next;

    if (milter_edit_apply(st->qw, e, *fp, *offset, *size, edit_add_rcpt, st) < 0
	|| (next = queue_writer_reader(st->qw)) == 0) {
	msg_warn("%s: cannot make the milter's changes: %s", st->queue_id,
		 queue_writer_errno(st->qw) ? strerror(queue_writer_errno(st->qw)) :
		 "bad queue file");
	return (-1);
    }
    (void) vstream_close(ec->reader);
    ec->reader = next;
    *fp = next;
    *offset = queue_writer_msg_offset(st->qw);
    *size = queue_writer_msg_size(st->qw);
    if (e->sender) {
	myfree(st->sender);
	st->sender = mystrdup(e->sender);
    }
    return (0);
}

void    pickup_milter_message(PICKUP_STATE *st)
{
    EDIT_CTX ec;

    if (!milter_active(st))
	return;
    ec.st = st;
    if ((ec.reader = queue_writer_reader(st->qw)) == 0) {
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	return;
    }
    /* Our Received: header is not shown, as Postfix hides its own. */
    (void) milter_result(st, milter_message(st->milters, ec.reader,
					    queue_writer_msg_offset(st->qw),
					    queue_writer_msg_size(st->qw), 1,
					    edit_apply, &ec), "END-OF-MESSAGE");
    (void) vstream_close(ec.reader);
}

void    pickup_milter_close(PICKUP_STATE *st)
{
    if (st->milters) {
	milter_free(st->milters);
	st->milters = 0;
    }
}
