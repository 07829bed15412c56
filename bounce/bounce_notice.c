/*
 * NAME
 *	bounce_notice - write one delivery status notification
 * SYNOPSIS
 *	#include "bounce.h"
 * DESCRIPTION
 *	The notification is a multipart/report (RFC 3462) with
 *	report-type=delivery-status and three parts:
 *
 *	1. text/plain: what happened, in words, and one line per
 *	   recipient "<address>: reason".
 *	2. message/delivery-status (RFC 3464): per-message fields
 *	   Reporting-MTA, X-Postfix-Queue-ID, X-Postfix-Sender,
 *	   Arrival-Date (and Original-Envelope-Id when the client gave
 *	   ENVID), then per recipient Final-Recipient, Original-Recipient
 *	   (the DSN ORCPT, else the address before aliasing), Action,
 *	   Status, Remote-MTA, Diagnostic-Code, and Will-Retry-Until for
 *	   delayed mail.
 *	3. the original message as message/rfc822, or only its headers as
 *	   text/rfc822-headers (RET=HDRS, delay and success notices, or a
 *	   message larger than bounce_size_limit).
 *
 *	The report of sendmail -bv (BOUNCE_KIND_TRACE, "Mail Delivery
 *	Status Report") has Postfix's words ("Enclosed is the mail delivery
 *	report that you requested."), one paragraph per recipient folded at
 *	76 columns, Action: deliverable or undeliverable, and the headers
 *	of the message.
 *
 *	All lines end in CRLF, as the message record of a queue file does.
 * SEE ALSO
 *	RFC 3464, RFC 3462, bounce(8)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "global/mail_queue.h"
#include "global/queue_writer.h"
#include "global/queue_envelope.h"
#include "global/dsn_log.h"
#include "bounce.h"

#define LINE(buf, ...) do { vstring_sprintf_append(buf, __VA_ARGS__); \
	vstring_strcat(buf, "\r\n"); } while (0)

static const char *rfc822_date(VSTRING *buf, time_t when)
{
    struct tm tm;
    char    text[64];

    localtime_r(&when, &tm);
    strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S %z", &tm);
    vstring_strcpy(buf, text);
    return (vstring_str(buf));
}

/*
 * wrap_line - text as lines of at most 76 columns, broken at spaces, the
 * continuation lines indented by four, as Postfix folds its reports (a
 * word longer than a line stays whole).
 */
static void wrap_line(VSTRING *out, const char *text)
{
    const int width = 76;
    const int indent = 4;
    int     col = 0;
    const char *cp = text;

    while (*cp) {
	size_t  len = strcspn(cp, " ");

	if (len > 0) {
	    if (col > 0 && col + 1 + (int) len > width) {
		vstring_sprintf_append(out, "\r\n%*s", indent, "");
		col = indent;
	    } else if (col > 0) {
		vstring_strcat(out, " ");
		col += 1;
	    }
	    vstring_memcat(out, cp, len);
	    col += (int) len;
	}
	cp += len;
	while (*cp == ' ')
	    cp++;
    }
    vstring_strcat(out, "\r\n");
}

/* trace_text - the words of the sendmail -bv report, Postfix's */
static void trace_text(VSTRING *out, DSN_LOG_ENTRY **rcpts, size_t count)
{
    VSTRING *line = vstring_alloc(200);

    LINE(out, "This is the mail system at host %s.", mail_conf_str(VAR_MYHOSTNAME));
    LINE(out, "%s", "");
    LINE(out, "Enclosed is the mail delivery report that you requested.");
    LINE(out, "%s", "");
    LINE(out, "%*s%s", 19, "", "The mail system");
    for (size_t i = 0; i < count; i++) {
	DSN_LOG_ENTRY *e = rcpts[i];

	LINE(out, "%s", "");
	vstring_sprintf(line, "<%s>", e->recipient);
	if (e->orig_recipient && *e->orig_recipient
	    && strcasecmp(e->orig_recipient, e->recipient) != 0)
	    vstring_sprintf_append(line, " (expanded from <%s>)", e->orig_recipient);
	vstring_sprintf_append(line, ": %s", e->reason ? e->reason : e->status ? e->status : "");
	wrap_line(out, vstring_str(line));
    }
    vstring_free(line);
}

/* text_part - the words that a person reads */
static void text_part(VSTRING *out, int kind, QUEUE_ENVELOPE *env,
		              DSN_LOG_ENTRY **rcpts, size_t count)
{
    const char *host = mail_conf_str(VAR_MYHOSTNAME);

    if (kind == BOUNCE_KIND_TRACE) {
	trace_text(out, rcpts, count);
	return;
    }
    LINE(out, "This is the mail system at host %s.", host);
    LINE(out, "%s", "");
    switch (kind) {
    case BOUNCE_KIND_FAILED:
	LINE(out, "Your message could not be delivered to one or more of its");
	LINE(out, "recipients, and the mail system has stopped trying. The reason");
	LINE(out, "for each recipient is given below; the delivery report and the");
	LINE(out, "returned message (or its headers) are attached.");
	LINE(out, "%s", "");
	LINE(out, "If you need help, write to <postmaster> and include this report.");
	LINE(out, "You may leave out the returned message itself.");
	break;
    case BOUNCE_KIND_DELAYED:
	LINE(out, "####################################################");
	LINE(out, "# THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND #");
	LINE(out, "####################################################");
	LINE(out, "%s", "");
	LINE(out, "Your message has not reached the recipients listed below yet.");
	LINE(out, "The mail system keeps trying. If it still cannot deliver the");
	LINE(out, "message %ld days after it arrived, it will return it to you.",
	     mail_conf_time(VAR_MAXIMAL_QUEUE_LIFETIME) / 86400);
	break;
    case BOUNCE_KIND_SUCCESS:
	LINE(out, "Your message was delivered to the recipients listed below,");
	LINE(out, "as you asked when you sent it. The next system did not offer");
	LINE(out, "to confirm delivery itself, so this is the last report that");
	LINE(out, "you will receive about these recipients.");
	break;
    }
    LINE(out, "%s", "");
    LINE(out, "%*s%s", 19, "", "The mail system");
    LINE(out, "%s", "");
    (void) env;
    for (size_t i = 0; i < count; i++) {
	const char *why = rcpts[i]->reason ? rcpts[i]->reason : rcpts[i]->status;

	if (rcpts[i]->orig_recipient && *rcpts[i]->orig_recipient
	    && strcasecmp(rcpts[i]->orig_recipient, rcpts[i]->recipient) != 0)
	    LINE(out, "<%s> (expanded from <%s>): %s", rcpts[i]->recipient,
		 rcpts[i]->orig_recipient, why ? why : "");
	else
	    LINE(out, "<%s>: %s", rcpts[i]->recipient, why ? why : "");
    }
}

/* has_type - does a diagnostic start with its type ("smtp; ...")? */
static int has_type(const char *diag)
{
    size_t  len = strspn(diag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

    return (len > 0 && diag[len] == ';');
}

/* status_part - the machine-readable report, RFC 3464 */
static void status_part(VSTRING *out, int kind, QUEUE_ENVELOPE *env,
			        DSN_LOG_ENTRY **rcpts, size_t count)
{
    VSTRING *date = vstring_alloc(64);
    VSTRING *diag = vstring_alloc(100);
    const char *envid = queue_envelope_attr(env, "dsn_envid");

    LINE(out, "Reporting-MTA: dns; %s", mail_conf_str(VAR_MYHOSTNAME));
    LINE(out, "X-Postfix-Queue-ID: %s", env->queue_id);
    LINE(out, "X-Postfix-Sender: rfc822; %s", env->sender);
    if (envid && *envid)
	LINE(out, "Original-Envelope-Id: %s", envid);
    LINE(out, "Arrival-Date: %s", rfc822_date(date, (time_t) env->arrival_sec));
    for (size_t i = 0; i < count; i++) {
	DSN_LOG_ENTRY *e = rcpts[i];
	const char *action;

	LINE(out, "%s", "");
	LINE(out, "Final-Recipient: rfc822; %s", e->recipient);
	if (e->orcpt && *e->orcpt)
	    LINE(out, "Original-Recipient: %s", e->orcpt);
	else if (e->orig_recipient && *e->orig_recipient
		 && strcmp(e->orig_recipient, e->recipient) != 0)
	    LINE(out, "Original-Recipient: rfc822; %s", e->orig_recipient);
	switch (kind) {
	case BOUNCE_KIND_FAILED:
	    action = "failed";
	    break;
	case BOUNCE_KIND_DELAYED:
	    action = "delayed";
	    break;
	case BOUNCE_KIND_TRACE:
	    action = e->action && strcmp(e->action, "deliverable") == 0 ?
		"deliverable" : "undeliverable";
	    break;
	default:
	    action = e->action && strcmp(e->action, "relayed") == 0 ? "relayed"
		: e->action && strcmp(e->action, "expanded") == 0 ? "expanded" : "delivered";
	    break;
	}
	LINE(out, "Action: %s", action);
	LINE(out, "Status: %s", e->status && *e->status ? e->status :
	     kind == BOUNCE_KIND_FAILED ? "5.0.0" :
	     kind == BOUNCE_KIND_DELAYED ? "4.0.0" : "2.0.0");
	if (e->remote_mta && *e->remote_mta)
	    LINE(out, "Remote-MTA: dns; %s", e->remote_mta);
	vstring_truncate(diag, 0);
	if (e->diag && *e->diag)
	    vstring_sprintf(diag, "Diagnostic-Code: %s%s", has_type(e->diag) ? "" : "smtp; ",
			    e->diag);
	else if (e->reason && *e->reason)
	    vstring_sprintf(diag, "Diagnostic-Code: X-Postfix; %s", e->reason);
	/* The sendmail -bv report is folded as Postfix folds it. */
	if (vstring_len(diag) > 0 && kind == BOUNCE_KIND_TRACE)
	    wrap_line(out, vstring_str(diag));
	else if (vstring_len(diag) > 0)
	    LINE(out, "%s", vstring_str(diag));
	if (e->time > 0 && kind != BOUNCE_KIND_TRACE)
	    LINE(out, "Last-Attempt-Date: %s", rfc822_date(date, (time_t) e->time));
	if (kind == BOUNCE_KIND_DELAYED)
	    LINE(out, "Will-Retry-Until: %s", rfc822_date(date,
		(time_t) (env->arrival_sec + mail_conf_time(VAR_MAXIMAL_QUEUE_LIFETIME))));
    }
    vstring_free(date);
    vstring_free(diag);
}

/* copy_original - the returned message or its headers; -1 on read error */
static int copy_original(QUEUE_WRITER *qw, VSTREAM *msg, QUEUE_ENVELOPE *env, int hdrs_only)
{
    VSTRING *line = vstring_alloc(1024);
    off_t   left = env->msg_size;
    int     status;

    if (vstream_seek(msg, env->msg_offset, SEEK_SET) < 0) {
	vstring_free(line);
	return (-1);
    }
    while (left > 0 && (status = vstream_get_line(msg, line, 4096)) != VSTREAM_EOF) {
	size_t  len = vstring_len(line);

	if ((off_t) len + (status == VSTREAM_LINE) > left)
	    len = (size_t) left - (status == VSTREAM_LINE);
	left -= (off_t) len + (status == VSTREAM_LINE);
	/* The empty line after the headers ends the headers. */
	if (hdrs_only && status == VSTREAM_LINE
	    && (len == 0 || (len == 1 && vstring_str(line)[0] == '\r')))
	    break;
	queue_writer_msg_write(qw, vstring_str(line), len);
	if (status == VSTREAM_LINE)
	    queue_writer_msg_write(qw, "\n", 1);
    }
    vstring_free(line);
    return (0);
}

int     bounce_notice(int kind, QUEUE_ENVELOPE *env, VSTREAM *msg,
		              DSN_LOG_ENTRY **rcpts, size_t count,
		              const char *to, const char *from, int hdrs_only,
		              VSTRING *new_id)
{
    QUEUE_WRITER *qw;
    VSTRING *out = vstring_alloc(4096);
    VSTRING *date = vstring_alloc(64);
    VSTRING *boundary = vstring_alloc(64);
    const char *host = mail_conf_str(VAR_MYHOSTNAME);
    const char *subject;
    time_t  now = time((time_t *) 0);
    int     err;

    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("%s: cannot create a notification file: %s", env->queue_id, strerror(errno));
	vstring_free(out);
	vstring_free(date);
	vstring_free(boundary);
	return (-1);
    }
    vstring_strcpy(new_id, queue_writer_id(qw));
    subject = kind == BOUNCE_KIND_FAILED ? "Undelivered Mail Returned to Sender" :
	kind == BOUNCE_KIND_DELAYED ? "Delayed Mail (still being retried)" :
	kind == BOUNCE_KIND_TRACE ? "Mail Delivery Status Report" :
	"Successful Mail Delivery Report";
    vstring_sprintf(boundary, "%s.%ld/%s", vstring_str(new_id), (long) now, host);

    LINE(out, "Date: %s", rfc822_date(date, now));
    LINE(out, "From: %s@%s (Mail Delivery System)", "MAILER-DAEMON", host);
    LINE(out, "Subject: %s", subject);
    LINE(out, "To: %s", to);
    LINE(out, "Auto-Submitted: auto-replied");
    LINE(out, "MIME-Version: 1.0");
    LINE(out, "Content-Type: multipart/report; report-type=delivery-status;");
    LINE(out, "\tboundary=\"%s\"", vstring_str(boundary));
    LINE(out, "Content-Transfer-Encoding: 8bit");
    LINE(out, "Message-Id: <%s.%s@%s>", vstring_str(new_id), "bounce", host);
    LINE(out, "%s", "");
    LINE(out, "This is a MIME-encapsulated message.");
    LINE(out, "%s", "");
    LINE(out, "--%s", vstring_str(boundary));
    LINE(out, "Content-Description: Notification");
    LINE(out, "Content-Type: text/plain; charset=us-ascii");
    LINE(out, "%s", "");
    text_part(out, kind, env, rcpts, count);
    LINE(out, "%s", "");
    LINE(out, "--%s", vstring_str(boundary));
    LINE(out, "Content-Description: Delivery report");
    LINE(out, "Content-Type: message/delivery-status");
    LINE(out, "%s", "");
    status_part(out, kind, env, rcpts, count);
    LINE(out, "%s", "");
    LINE(out, "--%s", vstring_str(boundary));
    if (hdrs_only) {
	LINE(out, "Content-Description: %s", kind == BOUNCE_KIND_FAILED ?
	     "Undelivered Message Headers" : "Message Headers");
	LINE(out, "Content-Type: text/rfc822-headers");
    } else {
	LINE(out, "Content-Description: Undelivered Message");
	LINE(out, "Content-Type: message/rfc822");
	LINE(out, "Content-Transfer-Encoding: 8bit");
    }
    LINE(out, "%s", "");

    queue_writer_sender(qw, from);
    queue_writer_rcpt(qw, to, (const char *) 0, 0, (const char *) 0);
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, vstring_str(out), vstring_len(out));
    if (copy_original(qw, msg, env, hdrs_only) < 0)
	msg_warn("%s: cannot read the original message: %s", env->queue_id, strerror(errno));
    vstring_sprintf(out, "\r\n--%s--\r\n", vstring_str(boundary));
    queue_writer_msg_write(qw, vstring_str(out), vstring_len(out));
    if ((err = queue_writer_errno(qw)) != 0) {
	msg_warn("%s: cannot write notification %s: %s", env->queue_id,
		 vstring_str(new_id), strerror(err));
	queue_writer_abort(qw);
	err = -1;
    } else if (queue_writer_commit(qw) != 0) {
	msg_warn("%s: cannot write notification %s: %s", env->queue_id,
		 vstring_str(new_id), strerror(errno));
	err = -1;
    }
    vstring_free(out);
    vstring_free(date);
    vstring_free(boundary);
    return (err);
}
