/*
 * NAME
 *	smtpd_notify - session transcripts and postmaster notices
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_notify_init(void);
 *	void smtpd_notify_in(SMTPD_STATE *state, const char *line);
 *	void smtpd_notify_reply(SMTPD_STATE *state, const char *text);
 *	void smtpd_notify_class(SMTPD_STATE *state, int class);
 *	void smtpd_notify_eod(SMTPD_STATE *state);
 *	void smtpd_notify_flush(SMTPD_STATE *state);
 *	void smtpd_notify_reason(SMTPD_STATE *state, const char *reason);
 *	void smtpd_notify_end(SMTPD_STATE *state);
 * DESCRIPTION
 *	Postfix's smtpd keeps the dialogue of a session ("In:  " for what
 *	the client sent, "Out: " for each reply line) and, when the
 *	session had an error of a class listed in notify_classes, mails
 *	that transcript to the postmaster. This module does the same.
 *
 *	smtpd_notify_init() reads notify_classes (an unknown class is
 *	fatal, as in Postfix), error_notice_recipient,
 *	bounce_notice_recipient, double_bounce_sender, myorigin and
 *	smtpd_history_flush_threshold.
 *
 *	smtpd_notify_in() records a line that the client sent (a command
 *	or an AUTH response; never message content). smtpd_notify_reply()
 *	is called by smtpd_reply() with each reply: a reply of 400 or more
 *	adds its error class to the session's error mask, then each of
 *	its lines is recorded. The class of a reply, as Debian's Postfix
 *	3.7 classifies the same session:
 *
 *	policy	   a restriction, access table, milter or header/body
 *		   check rejected (the reply is the one in state->reply,
 *		   unless a restriction said otherwise with state->
 *		   reply_class), rate and connection limits ("450 4.7.1
 *		   Error: too much mail from ..."), "VRFY command is
 *		   disabled", "Message size exceeds fixed limit" (MAIL
 *		   SIZE=).
 *	protocol   syntax errors and commands out of order (500, 501,
 *		   502, 503, 504, 521, 555 replies and 5.5.2/5.5.4 status),
 *		   reject_unauth_pipelining.
 *	resource   "queue file write error", "Insufficient system
 *		   storage", "Temporary lookup failure".
 *	software   "451 4.3.5 Server configuration error" without an
 *		   address (an unknown restriction); with an address (a
 *		   table that failed) Postfix counts it as policy.
 *	bounce	   the message was refused after DATA: "message file too
 *		   big", "too many hops".
 *	none	   "User unknown ...", "too many recipients" (452 4.5.3),
 *		   "Must issue a STARTTLS command first",
 *		   the SASL exchange's replies (535 5.7.8 authentication
 *		   failed, 501 5.7.0 Authentication aborted),
 *		   "no valid recipients", timeouts, "SMTP protocol
 *		   synchronization" (the session is dropped).
 *
 *	smtpd_notify_class() gives the class of the next reply explicitly
 *	(SMTPD_NOTIFY_*), for a reply whose text alone does not say it.
 *
 *	smtpd_notify_flush() is called when EHLO or RSET arrives, and
 *	smtpd_notify_eod() before the reply to the end of a message (DATA
 *	or BDAT LAST): when the transcript holds more than
 *	smtpd_history_flush_threshold lines, the notice is sent if the
 *	error mask asks for one, and the transcript and the error mask
 *	start again. A message that was queued clears the error mask
 *	first (Postfix sends no notice for errors before a message that
 *	it accepted).
 *
 *	smtpd_notify_reason() records why the session ended early
 *	("lost connection", "timeout", "too many errors"), for the
 *	notice's "Session aborted, reason:" line. smtpd_notify_end() sends
 *	the notice at the end of the session when the error mask asks for
 *	one, and frees the transcript.
 *
 *	The notice is a new queue file in incoming/ (queue_writer(3)),
 *	from double_bounce_sender@$myhostname to error_notice_recipient
 *	(bounce_notice_recipient when the bounce class is among the
 *	errors), a name without a domain qualified with @$myorigin; qmgr
 *	is woken. Its headers are those Postfix's notice has after its
 *	cleanup: Received, Date, From ("Mail Delivery System
 *	<MAILER-DAEMON@$myhostname>"), To ("Postmaster <recipient>";
 *	Postfix writes error_notice_recipient there even when the
 *	envelope goes to bounce_notice_recipient, and so do we), Subject
 *	("$mail_name SMTP server: errors from name[addr]") and
 *	Message-Id. The body is "Transcript of session follows.", the
 *	transcript (lines made printable and wrapped at 78 columns at
 *	spaces, continuation lines indented by 4), the reason line and
 *	"For other details, see the local mail logfile". Since the
 *	notice is not an SMTP session and comes from double_bounce_sender,
 *	it causes neither another notice nor a bounce.
 * DIAGNOSTICS
 *	"QID: message-id=<...>" for a notice (Postfix's cleanup logs the
 *	same); a warning when the notice cannot be written.
 * SEE ALSO
 *	smtpd_proto.c, queue_writer(3), postconf(5) notify_classes
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_trigger.h"
#include "global/mail_header.h"
#include "global/qmgr_trigger.h"
#include "global/queue_writer.h"
#include "smtpd.h"

#define NOTIFY_WIDTH	78		/* Postfix's transcript line width */
#define NOTIFY_INDENT	4		/* continuation lines */

static int notify_mask;
static long notify_hist_threshold;
static char *notify_error_rcpt;
static char *notify_bounce_rcpt;
static char *notify_sender;
static char *notify_origin;

static const struct {
    const char *name;
    int     mask;
}       notify_names[] = {
    {"bounce", SMTPD_NOTIFY_BOUNCE},
    {"2bounce", 0},
    {"data", 0},
    {"delay", 0},
    {"policy", SMTPD_NOTIFY_POLICY},
    {"protocol", SMTPD_NOTIFY_PROTOCOL},
    {"resource", SMTPD_NOTIFY_RESOURCE},
    {"software", SMTPD_NOTIFY_SOFTWARE},
    {0, 0},
};

void    smtpd_notify_init(void)
{
    const char *value = mail_conf_str(VAR_NOTIFY_CLASSES);
    ARGV   *names = argv_split(value, ", \t\r\n");

    notify_mask = 0;
    for (size_t i = 0; i < names->argc; i++) {
	size_t  n;

	for (n = 0; notify_names[n].name; n++)
	    if (strcasecmp(notify_names[n].name, names->argv[i]) == 0)
		break;
	if (notify_names[n].name == 0)
	    msg_fatal("unknown %s value \"%s\" in \"%s\"",
		      VAR_NOTIFY_CLASSES, names->argv[i], value);
	notify_mask |= notify_names[n].mask;
    }
    argv_free(names);
    notify_hist_threshold = mail_conf_int(VAR_SMTPD_HISTORY_FLUSH_THRESHOLD);
    notify_error_rcpt = mystrdup(mail_conf_str(VAR_ERROR_NOTICE_RECIPIENT));
    notify_bounce_rcpt = mystrdup(mail_conf_str(VAR_BOUNCE_NOTICE_RECIPIENT));
    notify_sender = mystrdup(mail_conf_str(VAR_DOUBLE_BOUNCE_SENDER));
    notify_origin = mystrdup(mail_conf_str(VAR_MYORIGIN));
}

/* history_add - one transcript line */
static void history_add(SMTPD_STATE *state, const char *prefix, const char *text, size_t len)
{
    static VSTRING *line;

    if (line == 0)
	line = vstring_alloc(100);
    vstring_strcpy(line, prefix);
    vstring_memcat(line, text, len);
    if (state->history == 0)
	state->history = argv_alloc(10);
    argv_add(state->history, vstring_str(line));
}

void    smtpd_notify_in(SMTPD_STATE *state, const char *line)
{
    history_add(state, "In:  ", line, strlen(line));
}

void    smtpd_notify_class(SMTPD_STATE *state, int class)
{
    state->notify_next = class;
}

/* has - does the reply text contain this (case matters)? */
static int has(const char *text, const char *what)
{
    return (strstr(text, what) != 0);
}

/* reply_class - the error class of a reply of 400 or more */
static int reply_class(SMTPD_STATE *state, const char *text, int code)
{
    const char *status = "";
    size_t  rlen = vstring_len(state->reply);

    if (strlen(text) > 4 && isdigit((unsigned char) text[4]) && text[5] == '.')
	status = text + 4;
    /* Configuration errors: an unknown restriction or similar. */
    if (strcmp(status, "4.3.5 Server configuration error") == 0)
	return (SMTPD_NOTIFY_SOFTWARE);
    if (has(text, "Error: queue file write error")
	|| has(text, "Insufficient system storage")
	|| has(text, "Temporary lookup failure")
	|| has(text, "Error: temporary lookup failure"))
	return (SMTPD_NOTIFY_RESOURCE);
    if (state->notify_next)
	return (state->notify_next);
    /* A restriction's, milter's or table's reply (the text it made). */
    if (rlen > 0 && strncmp(text, vstring_str(state->reply), rlen) == 0)
	return (state->reply_class ? state->reply_class : SMTPD_NOTIFY_POLICY);
    if (has(text, "Error: message file too big") || has(text, "Error: too many hops")
	|| has(text, "Chunk exceeds message size limit"))
	return (SMTPD_NOTIFY_BOUNCE);
    if (has(text, "Must issue a STARTTLS command first"))
	return (SMTPD_NOTIFY_NONE);
    if (*status == '4' && strncmp(status + 1, ".7.", 3) == 0)
	return (SMTPD_NOTIFY_POLICY);
    if (*status == '5' && strncmp(status + 1, ".7.", 3) == 0)
	return (SMTPD_NOTIFY_POLICY);
    if (has(text, "VRFY command is disabled") || has(text, "Message size exceeds fixed limit"))
	return (SMTPD_NOTIFY_POLICY);
    if ((code >= 500 && code <= 504) || code == 521 || code == 555
	|| strncmp(status, "5.5.2 ", 6) == 0 || strncmp(status, "5.5.4 ", 6) == 0
	|| strncmp(status, "5.1.3 ", 6) == 0 || strncmp(status, "5.1.7 ", 6) == 0)
	return (SMTPD_NOTIFY_PROTOCOL);
    return (SMTPD_NOTIFY_NONE);
}

void    smtpd_notify_reply(SMTPD_STATE *state, const char *text)
{
    int     code = atoi(text);
    const char *cp, *end;

    if (code >= 400)
	state->error_mask |= reply_class(state, text, code);
    state->notify_next = 0;
    state->reply_class = 0;
    /* The end of a message: a queued one forgives earlier errors. */
    if (state->notify_eod) {
	state->notify_eod = 0;
	if (code >= 200 && code < 300)
	    state->error_mask = 0;
	smtpd_notify_flush(state);
    }
    for (cp = text; *cp; cp = *end ? end + 2 : end) {
	if ((end = strstr(cp, "\r\n")) == 0)
	    end = cp + strlen(cp);
	history_add(state, "Out: ", cp, (size_t) (end - cp));
    }
}

void    smtpd_notify_eod(SMTPD_STATE *state)
{
    state->notify_eod = 1;
}

void    smtpd_notify_reason(SMTPD_STATE *state, const char *reason)
{
    if (state->notify_reason == 0)
	state->notify_reason = reason;
}

/* qualify - "name" with @$myorigin when it has no domain */
static const char *qualify(VSTRING *buf, const char *addr)
{
    if (strchr(addr, '@') || *addr == 0)
	vstring_strcpy(buf, addr);
    else
	vstring_sprintf(buf, "%s@%s", addr, notify_origin);
    return (vstring_str(buf));
}

/* wrap_line - one transcript line, printable, wrapped at spaces */
static void wrap_line(VSTRING *out, const char *line)
{
    VSTRING *text = vstring_alloc(100);
    const char *start, *word, *space;
    size_t  width = NOTIFY_WIDTH;
    int     indent = 0;

    /* Postfix's printable(): anything else becomes '?'. */
    vstring_strcpy(text, line);
    for (unsigned char *cp = (unsigned char *) vstring_str(text); *cp; cp++)
	if (!isprint(*cp) && *cp < 0x80)
	    *cp = '?';
    /* A line breaks before a word that would take it past the width. */
    for (start = word = vstring_str(text); word != 0; word = *space ? space + 1 : 0) {
	space = word + strcspn(word, " \t");
	if (word > start && (size_t) (space - start) > width) {
	    size_t  len = (size_t) (word - start);

	    while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
		len--;
	    vstring_sprintf_append(out, " %*s%.*s\r\n", indent, "", (int) len, start);
	    while (*word == ' ' || *word == '\t')
		word++;
	    if (indent == 0) {
		indent = NOTIFY_INDENT;
		width -= NOTIFY_INDENT;
	    }
	    start = word;
	}
    }
    {
	size_t  len = strlen(start);

	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
	    len--;
	vstring_sprintf_append(out, " %*s%.*s\r\n", indent, "", (int) len, start);
    }
    vstring_free(text);
}

/* notify_send - queue the postmaster notice */
static void notify_send(SMTPD_STATE *state)
{
    QUEUE_WRITER *qw;
    VSTRING *out = vstring_alloc(1024);
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *rcpt = vstring_alloc(100);
    VSTRING *sender = vstring_alloc(100);
    VSTRING *msgid = vstring_alloc(100);
    const char *rcpt_name = (state->error_mask & SMTPD_NOTIFY_BOUNCE) ?
	notify_bounce_rcpt : notify_error_rcpt;
    time_t  now = time((time_t *) 0);
    int     err;

    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("cannot send a postmaster notice: create a queue file: %s",
		 strerror(errno));
	goto out;
    }
    mail_header_message_id(msgid, now, queue_writer_id(qw));
    /* What Postfix's cleanup makes of the notice that its smtpd writes. */
    mail_header_date(tmp, now);
    vstring_sprintf(out, "Received: by %s (%s)\r\n\tid %s; %s\r\n",
		    var_myhostname, var_mail_name, queue_writer_id(qw), vstring_str(tmp));
    vstring_sprintf_append(out, "Date: %s\r\n", vstring_str(tmp));
    /* Postfix: MAILER-DAEMON and double_bounce_sender @$myhostname. */
    vstring_sprintf(sender, "%s@%s", "MAILER-DAEMON", var_myhostname);
    mail_header_from(tmp, "Mail Delivery System", vstring_str(sender));
    vstring_sprintf_append(out, "From: %s\r\n", vstring_str(tmp));
    mail_header_from(tmp, "Postmaster", qualify(rcpt, notify_error_rcpt));
    vstring_sprintf_append(out, "To: %s\r\n", vstring_str(tmp));
    vstring_sprintf_append(out, "Subject: %s SMTP server: errors from %s\r\n",
			   var_mail_name, state->namaddr);
    vstring_sprintf_append(out, "Message-Id: %s\r\n", vstring_str(msgid));
    vstring_strcat(out, "\r\nTranscript of session follows.\r\n\r\n");
    for (size_t i = 0; state->history && i < state->history->argc; i++)
	wrap_line(out, state->history->argv[i]);
    vstring_strcat(out, "\r\n");
    if (state->notify_reason)
	vstring_sprintf_append(out, "Session aborted, reason: %s\r\n", state->notify_reason);
    vstring_strcat(out, "\r\nFor other details, see the local mail logfile\r\n");

    if (strchr(notify_sender, '@'))
	vstring_strcpy(sender, notify_sender);
    else
	vstring_sprintf(sender, "%s@%s", notify_sender, var_myhostname);
    queue_writer_sender(qw, vstring_str(sender));
    qualify(rcpt, rcpt_name);
    queue_writer_rcpt(qw, vstring_str(rcpt), rcpt_name, 0, (const char *) 0);
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, vstring_str(out), vstring_len(out));
    vstring_strcpy(tmp, queue_writer_id(qw));
    if ((err = queue_writer_errno(qw)) != 0) {
	queue_writer_abort(qw);
	msg_warn("%s: cannot send a postmaster notice: %s", vstring_str(tmp), strerror(err));
    } else if (queue_writer_commit(qw) != 0) {
	msg_warn("%s: cannot send a postmaster notice: %s", vstring_str(tmp), strerror(errno));
    } else {
	msg_info("%s: message-id=%s", vstring_str(tmp), vstring_str(msgid));
	(void) mail_trigger("public", mail_conf_str(VAR_QUEUE_SERVICE_NAME),
			    (char[]) {QMGR_REQ_SCAN_INCOMING}, 1);
    }
out:
    vstring_free(out);
    vstring_free(tmp);
    vstring_free(rcpt);
    vstring_free(sender);
    vstring_free(msgid);
}

void    smtpd_notify_flush(SMTPD_STATE *state)
{
    if (state->history == 0 || (long) state->history->argc <= notify_hist_threshold)
	return;
    if (state->error_mask & notify_mask)
	notify_send(state);
    argv_truncate(state->history, 0);
    state->error_mask = 0;
}

void    smtpd_notify_end(SMTPD_STATE *state)
{
    if (state->error_mask & notify_mask)
	notify_send(state);
    if (state->history) {
	argv_free(state->history);
	state->history = 0;
    }
    state->error_mask = 0;
    state->notify_reason = 0;
}
