/*
 * NAME
 *	pickup_text - the headers and body of a local message
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	void pickup_text_begin(PICKUP_STATE *st);
 *	void pickup_text_line(PICKUP_STATE *st, const char *line, size_t len);
 *	void pickup_text_end(PICKUP_STATE *st);
 *	void pickup_text_free(PICKUP_STATE *st);
 * DESCRIPTION
 *	The message text as Postfix's cleanup writes that of local mail.
 *	pickup_text_begin() starts the message record with our Received:
 *	header; pickup_text_line() takes the text a line at a time
 *	(without its line end); pickup_text_end() ends it.
 *
 *	Each header (ours included) is held until it is complete (up to
 *	header_size_limit; the rest is cut), then, in Postfix's order:
 *	header_checks (hbc(3): a REJECT returns the message to its sender
 *	with the headers only, or leaves it in maildrop/ for a 4.X.Y
 *	status; DISCARD drops it; HOLD, FILTER and REDIRECT are recorded;
 *	IGNORE drops the header; REPLACE text goes on in its place;
 *	PREPEND text is written before it); its Message-Id is logged
 *	("QID: message-id=<id>", and resent-message-id=); a Received:
 *	header counts as a hop, and at hopcount_limit hops the message is
 *	a mail loop ("warning: QID: message rejected: hopcount exceeded",
 *	returned as "5.4.0 too many hops"); a header named in
 *	message_drop_headers is removed; the addresses of an address
 *	header are rewritten as the envelope's are (addr_rewrite(3);
 *	always, for local mail; for sendmail -G only with
 *	remote_header_rewrite_domain, as Postfix's remote context).
 *
 *	At the end of the headers a missing Message-Id:, Date: and From:
 *	(the sender as rewritten, with sendmail's full name) are added, or
 *	their Resent- forms when the message has a Resent- header; for -G
 *	mail only with always_add_missing_headers, else a message without
 *	Message-Id: is logged "message-id=<>".
 *
 *	Body lines go through body_checks up to body_checks_size_limit
 *	(empty lines are not looked up). After a refusal of the content
 *	no more body is written, and after DISCARD nothing at all.
 *
 *	The log lines of the actions are Postfix's cleanup's for local
 *	mail: "QID: reject: header Subject: x from local;
 *	from=<sender> to=<last recipient>: 5.7.1 text".
 * SEE ALSO
 *	hbc(3), addr_rewrite(3), header_checks(5)
 */
#include <string.h>
#include <strings.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_header.h"
#include "global/queue_writer.h"
#include "pickup.h"

/* text_log - Postfix's cleanup line for local mail */
static void text_log(void *context, const char *action, const char *where,
		             const char *text, const char *extra)
{
    PICKUP_STATE *st = context;
    VSTRING *buf = vstring_alloc(300);

    hbc_log_start(buf, st->queue_id, action, where, text, "local",
		  st->sender ? st->sender : "", st->last_rcpt);
    hbc_log_end(buf, extra);
    vstring_free(buf);
}

/* text_write - message bytes into the queue file */
static void text_write(PICKUP_STATE *st, const char *buf, size_t len)
{
    (void) queue_writer_msg_write(st->qw, buf, len);
}

/* add_header - "Name: value" CRLF */
static void add_header(PICKUP_STATE *st, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s: %s\r\n", name, value);
    text_write(st, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

/* header_value - the value of a whole header, unfolded and trimmed */
static char *header_value(const char *text, size_t len)
{
    VSTRING *buf = vstring_alloc(100);
    const char *end = text + len;
    const char *cp = memchr(text, ':', len) + 1;
    char   *value;
    size_t  n;

    for (; cp < end && (*cp == ' ' || *cp == '\t'); cp++)
	 /* void */ ;
    for (; cp < end; cp++)
	if (*cp != '\r' && *cp != '\n')
	    vstring_addch(buf, *cp);
    value = vstring_export(buf);
    for (n = strlen(value); n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'); n--)
	value[n - 1] = 0;
    return (value);
}

/*
 * content_result - act on what header_checks or body_checks decided: a
 * REJECT (5xx: bounce with the headers only; 4xx: later), DISCARD, HOLD,
 * a table error.
 */
static void content_result(PICKUP_STATE *st)
{
    HBC    *hbc = &st->content;
    const char *reply = vstring_str(hbc->reply);

    if (hbc->error) {
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
    } else if (*reply == '4') {
	pickup_outcome(st, PICKUP_OUT_DEFER, reply + 4);
    } else if (*reply == '5' && !st->hdrs_only) {
	/* A content refusal takes over a mail loop's reason. */
	if (st->outcome <= PICKUP_OUT_BOUNCE) {
	    st->outcome = PICKUP_OUT_BOUNCE;
	    vstring_strcpy(st->reason, reply + 4);
	}
	st->hdrs_only = 1;
    }
    if (hbc->discard)
	pickup_outcome(st, PICKUP_OUT_DISCARD, (char *) 0);
    if (hbc->hold)
	st->hold = 1;
}

/* checks_active - does this part go through header_checks or body_checks? */
static int checks_active(PICKUP_STATE *st, int what)
{
    return (hbc_maps_active(pickup_conf.checks, what) && !st->content.done);
}

/* header_dropped - is it one of message_drop_headers? */
static int header_dropped(const char *text, size_t len)
{
    ARGV   *names = pickup_conf.drop_headers;

    for (size_t i = 0; i < names->argc; i++)
	if (mail_header_is(text, len, names->argv[i]))
	    return (1);
    return (0);
}

/* header_seen - what cleanup notes of a header: Message-Id, hops, ... */
static void header_seen(PICKUP_STATE *st, const char *text, size_t len)
{
    char   *value;

    if (mail_header_name_len(text, len) > 7 && strncasecmp(text, "Resent-", 7) == 0)
	st->resent = 1;
    if (mail_header_is(text, len, "Message-Id")) {
	st->have_msgid = 1;
	value = header_value(text, len);
	msg_info("%s: message-id=%s", st->queue_id, value);
	myfree(value);
    } else if (mail_header_is(text, len, "Resent-Message-Id")) {
	st->have_resent_msgid = 1;
	value = header_value(text, len);
	msg_info("%s: resent-message-id=%s", st->queue_id, value);
	myfree(value);
    }
    st->have_date |= mail_header_is(text, len, "Date");
    st->have_from |= mail_header_is(text, len, "From");
    st->have_resent_date |= mail_header_is(text, len, "Resent-Date");
    st->have_resent_from |= mail_header_is(text, len, "Resent-From");
    if (mail_header_is(text, len, "Received")
	&& ++st->hops >= pickup_conf.hopcount_limit) {
	msg_warn("%s: message rejected: hopcount exceeded", st->queue_id);
	if (st->outcome < PICKUP_OUT_BOUNCE) {
	    st->outcome = PICKUP_OUT_BOUNCE;
	    vstring_strcpy(st->reason, "5.4.0 too many hops");
	}
    }
}

/* header_out - a header after the checks: dropped, rewritten, written */
static void header_out(PICKUP_STATE *st, const char *text, size_t len)
{
    VSTRING *rewritten;
    int     flags = (st->gateway ? ADDR_REWRITE_REMOTE : 0)
    | (st->mappings ? 0 : ADDR_REWRITE_CANON_ONLY);

    header_seen(st, text, len);
    if (header_dropped(text, len))
	return;
    rewritten = vstring_alloc(100);
    switch (addr_rewrite_header(pickup_conf.rewrite, flags, text, len, rewritten)) {
    case 1:
	text_write(st, vstring_str(rewritten), vstring_len(rewritten));
	break;
    case -1:
	msg_warn("%s: header address rewriting: table lookup failed; trying again later",
		 st->queue_id);
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	/* FALLTHROUGH */
    default:
	text_write(st, text, len);
	break;
    }
    vstring_free(rewritten);
}

/* header_flush - the current header is complete */
static void header_flush(PICKUP_STATE *st)
{
    const char *text = vstring_str(st->header);
    size_t  len = vstring_len(st->header);
    VSTRING *key;

    if (len == 0)
	return;
    if (st->outcome >= PICKUP_OUT_DISCARD) {
	vstring_reset(st->header);
	return;
    }
    if (checks_active(st, HBC_HEADER)) {
	/* The table sees the header as cleanup shows it: "\n" line breaks. */
	key = vstring_alloc(len);
	for (size_t i = 0; i < len; i++)
	    if (text[i] != '\r')
		vstring_addch(key, text[i]);
	if (vstring_len(key) > 0 && vstring_str(key)[vstring_len(key) - 1] == '\n')
	    vstring_truncate(key, vstring_len(key) - 1);
	switch (hbc_check(&st->content, HBC_HEADER, vstring_str(key), st->out)) {
	case HBC_DROP:
	    vstring_reset(st->header);
	    break;
	case HBC_PREPEND:
	    text_write(st, vstring_str(st->out), vstring_len(st->out));
	    text_write(st, "\r\n", 2);
	    break;
	case HBC_REPLACE:
	    /* The new header goes on in place of the old one. */
	    vstring_strcpy(st->header, vstring_str(st->out));
	    vstring_strcat(st->header, "\r\n");
	    break;
	}
	vstring_free(key);
	content_result(st);
	if (st->outcome >= PICKUP_OUT_DISCARD)
	    vstring_reset(st->header);
    }
    if (vstring_len(st->header) > 0)
	header_out(st, vstring_str(st->header), vstring_len(st->header));
    vstring_reset(st->header);
}

/* headers_end - add what is missing, as Postfix's cleanup does */
static void headers_end(PICKUP_STATE *st)
{
    VSTRING *buf;
    time_t  now = queue_writer_time(st->qw)->tv_sec;
    int     need_msgid, need_date, need_from;

    header_flush(st);				/* the last header counts too */
    st->in_header = 0;
    if (st->outcome >= PICKUP_OUT_DISCARD)
	return;
    /* Gateway mail (sendmail -G) is left as it is, as in Postfix. */
    if (st->gateway && !pickup_conf.always_add) {
	if (!st->have_msgid)
	    msg_info("%s: message-id=<>", st->queue_id);
	return;
    }
    buf = vstring_alloc(100);
    need_msgid = st->resent ? !st->have_resent_msgid : !st->have_msgid;
    need_date = st->resent ? !st->have_resent_date : !st->have_date;
    need_from = st->resent ? !st->have_resent_from : !st->have_from;
    if (need_msgid) {
	mail_header_message_id(buf, now, st->queue_id);
	add_header(st, st->resent ? "Resent-Message-Id" : "Message-Id", vstring_str(buf));
	msg_info("%s: %smessage-id=%s", st->queue_id, st->resent ? "resent-" : "",
		 vstring_str(buf));
    }
    if (need_date) {
	mail_header_date(buf, now);
	add_header(st, st->resent ? "Resent-Date" : "Date", vstring_str(buf));
    }
    if (need_from) {
	if (*st->sender == 0)
	    vstring_strcpy(buf, "MAILER-DAEMON");
	else
	    mail_header_from(buf, st->full_name, st->sender);
	add_header(st, st->resent ? "Resent-From" : "From", vstring_str(buf));
    }
    vstring_free(buf);
}

/* body_line - one body line through body_checks into the file */
static void body_line(PICKUP_STATE *st, const char *line, size_t len)
{
    int     action = HBC_KEEP;
    long    limit = pickup_conf.body_limit;

    /* After a content refusal or DISCARD the rest is not kept. */
    if (st->outcome >= PICKUP_OUT_DISCARD || st->hdrs_only)
	return;
    if (len > 0 && checks_active(st, HBC_BODY)
	&& (limit == 0 || st->body_offset < limit)) {
	VSTRING *key = vstring_alloc(len + 1);

	vstring_memcat(key, line, len);
	action = hbc_check(&st->content, HBC_BODY, vstring_str(key), st->out);
	vstring_free(key);
	content_result(st);
	if (st->outcome >= PICKUP_OUT_DISCARD || st->hdrs_only)
	    return;
    }
    st->body_offset += len + 1;
    switch (action) {
    case HBC_DROP:
	return;
    case HBC_REPLACE:
	text_write(st, vstring_str(st->out), vstring_len(st->out));
	break;
    case HBC_PREPEND:
	text_write(st, vstring_str(st->out), vstring_len(st->out));
	text_write(st, "\r\n", 2);
	/* FALLTHROUGH */
    default:
	text_write(st, line, len);
	break;
    }
    text_write(st, "\r\n", 2);
}

void    pickup_text_line(PICKUP_STATE *st, const char *line, size_t len)
{
    long    limit = pickup_conf.header_limit;

    if (st->in_header) {
	if (len == 0) {
	    headers_end(st);
	    if (st->outcome < PICKUP_OUT_DISCARD)
		text_write(st, "\r\n", 2);
	    return;
	} else if ((line[0] == ' ' || line[0] == '\t') && vstring_len(st->header) > 0) {
	    if (!st->cut && (long) (vstring_len(st->header) + len + 2) <= limit) {
		vstring_memcat(st->header, line, len);
		vstring_strcat(st->header, "\r\n");
	    } else {
		st->cut = 1;
	    }
	    return;
	} else if (mail_header_name_len(line, len) > 0) {
	    header_flush(st);
	    st->cut = 0;
	    if ((long) len + 2 > limit)
		len = limit > 2 ? limit - 2 : 0;
	    vstring_memcat(st->header, line, len);
	    vstring_strcat(st->header, "\r\n");
	    return;
	} else {
	    /* Not a header: the body starts here, without an empty line. */
	    headers_end(st);
	    if (st->outcome < PICKUP_OUT_DISCARD)
		text_write(st, "\r\n", 2);
	}
    }
    body_line(st, line, len);
}

void    pickup_text_begin(PICKUP_STATE *st)
{
    VSTRING *received = vstring_alloc(200);

    st->in_header = 1;
    st->header = vstring_alloc(1024);
    st->out = vstring_alloc(100);
    hbc_begin(&st->content, pickup_conf.checks, st->queue_id, text_log, st);
    queue_writer_msg_begin(st->qw);

    /* Our Received: goes through the header processing like the others. */
    mail_header_received_local(received, st->uid, st->queue_id,
			       queue_writer_time(st->qw)->tv_sec);
    vstring_strcpy(st->header, vstring_str(received));
    header_flush(st);
    vstring_free(received);
}

void    pickup_text_end(PICKUP_STATE *st)
{
    if (st->in_header)
	headers_end(st);
}

void    pickup_text_free(PICKUP_STATE *st)
{
    if (st->header) {
	vstring_free(st->header);
	vstring_free(st->out);
	hbc_end(&st->content);
	st->header = 0;
    }
}
