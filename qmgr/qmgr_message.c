/*
 * NAME
 *	qmgr_message - read a message's envelope and its recipients
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	QMGR_MESSAGE *qmgr_message_open(const char *queue_id, int flush_mark,
 *					const char **why);
 *	int qmgr_message_read_rcpts(QMGR_MESSAGE *message);
 *	int qmgr_message_mark_done(QMGR_MESSAGE *message, off_t rcpt_offset);
 *	void qmgr_message_rcpt_done(QMGR_MESSAGE *message);
 *	void qmgr_message_defer_site(QMGR_MESSAGE *message, const char *addr);
 *	void qmgr_message_free(QMGR_MESSAGE *message);
 * DESCRIPTION
 *	qmgr_message_open() reads active/<queue_id> once from start to
 *	end with rec_get()/rec_get_head(): the envelope records are kept,
 *	the message data is skipped (only its offset and size are
 *	noted), every length is checked against the file size
 *	(queue_file.h), and recipients are counted. A file that does not
 *	parse (truncated record, no sender, no arrival time, no M or E
 *	record, or an absurd length) yields NULL with *why set; the
 *	caller moves it to corrupt/. So does an address (S, R, O, Q
 *	record) or DSN envelope ID with a control character (CR, LF, NUL
 *	...): such a file was damaged or forged (smtpd never writes one),
 *	relaying it could inject commands into the next SMTP session, and
 *	logging it would put raw control characters in the log.
 *
 *	A content filter (the F record of content_filter or a FILTER
 *	action) overrides routing: every recipient goes to its
 *	transport:nexthop first (nexthop default: default_filter_nexthop,
 *	else the recipient domain), except for address probes and
 *	sendmail -bv.
 *
 *	A REDIRECT (the > record of a header_checks or body_checks action)
 *	overrides the recipients, as in Postfix: of the recipients still to
 *	be delivered, the one that comes first in the order of Postfix's
 *	qmgr (domain, then address, ignoring case) is sent to the redirect
 *	address instead (its own address becomes the original recipient,
 *	orig_to= in the log), and every other one is marked done without
 *	delivery, so the message goes out once.
 *
 *	The file stays open (m->fp) for the first
 *	qmgr_message_read_rcpts(), which closes it.
 *
 *	qmgr_message_read_rcpts() reads the next batch of recipients
 *	that are still to be delivered (R records; D records are done),
 *	with their O, N and Q records, and hands each to the router
 *	(resolve, then a destination queue, or settled at once for
 *	error:, retry:, defer_transports and lookup errors). The batch
 *	is what qmgr_message_recipient_limit leaves over for all messages
 *	together, at least qmgr_message_recipient_minimum, so memory
 *	stays bounded for any queue size. It returns the number read.
 *
 *	qmgr_message_rcpt_done() says one recipient in memory is settled;
 *	the last one reads the next batch or finishes the message
 *	(qmgr_active_done).
 * DIAGNOSTICS
 *	Warnings for files that cannot be opened or updated.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/resolve.h"
#include "qmgr.h"

long    qmgr_rcpt_in_memory;

static VSTRING *path_buf;

static const char *active_path(const char *queue_id)
{
    if (path_buf == 0)
	path_buf = vstring_alloc(64);
    return (mail_queue_path(path_buf, MAIL_QUEUE_ACTIVE, queue_id));
}

void    qmgr_message_free(QMGR_MESSAGE *m)
{
    if (m->fp)
	vstream_close(m->fp);
    myfree(m->queue_id);
    myfree(m->path);
    myfree(m->sender);
    myfree(m->dsn_envid);
    myfree(m->client_name);
    myfree(m->client_addr);
    myfree(m->helo_name);
    myfree(m->sasl_username);
    myfree(m->filter);
    myfree(m->redirect);
    argv_free(m->defer_sites);
    myfree(m);
}

/* line_safe - no control character (CR, LF, NUL ...) in a record's data */
static int line_safe(VSTRING *buf)
{
    for (size_t i = 0; i < vstring_len(buf); i++) {
	unsigned char ch = vstring_str(buf)[i];

	if (ch < 0x20 || ch == 0x7f)
	    return (0);
    }
    return (1);
}

/* message_attr - one "name=value" A record */
static void message_attr(QMGR_MESSAGE *m, char *text)
{
    char   *value = split_at(text, '=');

    if (value == 0)
	return;
#define SET(field) do { myfree(m->field); m->field = mystrdup(value); } while (0)
    if (strcmp(text, "client_name") == 0)
	SET(client_name);
    else if (strcmp(text, "client_address") == 0)
	SET(client_addr);
    else if (strcmp(text, "helo_name") == 0)
	SET(helo_name);
    else if (strcmp(text, "sasl_username") == 0)
	SET(sasl_username);
    else if (strcmp(text, "dsn_envid") == 0)
	SET(dsn_envid);
    else if (strcmp(text, "verify") == 0)
	m->verify = (strcmp(value, "1") == 0);
    else if (strcmp(text, "user_verify") == 0)
	m->user_verify = (strcmp(value, "1") == 0);
    else if (strcmp(text, "dsn_ret") == 0)
	m->dsn_ret = strcasecmp(value, "FULL") == 0 ? DSN_RET_FULL :
	    strcasecmp(value, "HDRS") == 0 ? DSN_RET_HDRS : 0;
}

QMGR_MESSAGE *qmgr_message_open(const char *queue_id, int flush_mark, const char **why)
{
    VSTREAM *fp;
    VSTRING *buf;
    QMGR_MESSAGE *m;
    int     type;
    int     have_time = 0;
    int     have_end = 0;
    int     have_data = 0;
    off_t   rec_start;

    *why = 0;
    if ((fp = vstream_open(active_path(queue_id), O_RDONLY, 0)) == 0) {
	*why = "cannot open";
	return (0);
    }
    buf = vstring_alloc(100);
    m = mycalloc(1, sizeof(*m));
    m->queue_id = mystrdup(queue_id);
    m->path = mystrdup(active_path(queue_id));
    m->dsn_envid = mystrdup("");
    m->client_name = mystrdup("");
    m->client_addr = mystrdup("");
    m->helo_name = mystrdup("");
    m->sasl_username = mystrdup("");
    m->defer_sites = argv_alloc(2);
    m->flush_mark = flush_mark;

    for (;;) {
	rec_start = vstream_tell(fp);
	if (have_end) {
	    /* Nothing may follow the end record. */
	    size_t  len;

	    if (rec_get_head(fp, &len) != REC_TYPE_EOF)
		*why = "data after the end record";
	    break;
	}
	if (!have_data) {
	    /* Peek at the type: the M record's data is skipped, not read. */
	    size_t  len;

	    type = rec_get_head(fp, &len);
	    if (type == REC_TYPE_MESSAGE) {
		m->data_offset = vstream_tell(fp);
		m->data_size = (off_t) len;
		if (vstream_seek(fp, (off_t) len, SEEK_CUR) < 0) {
		    *why = "cannot skip the message data";
		    break;
		}
		have_data = 1;
		continue;
	    }
	    if (type < 0) {
		*why = type == REC_TYPE_EOF ? "premature end of file" : "bad record";
		break;
	    }
	    if (len > REC_MAX_LEN_ENVELOPE) {
		*why = "envelope record too long";
		break;
	    }
	    vstring_reset(buf);
	    vstring_space(buf, len);
	    if (len > 0 && vstream_read(fp, vstring_str(buf), len) != (ssize_t) len) {
		*why = "truncated record";
		break;
	    }
	    buf->len = len;
	    buf->data[len] = 0;
	} else {
	    type = rec_get(fp, buf, REC_MAX_LEN_ENVELOPE);
	    if (type < 0) {
		*why = type == REC_TYPE_EOF ? "no end record" : "bad record";
		break;
	    }
	}
	switch (type) {
	case REC_TYPE_TIME:
	    {
		long    sec = 0, usec = 0;

		if (sscanf(vstring_str(buf), "%ld %ld", &sec, &usec) < 1 || sec < 0
		    || usec < 0 || usec > 999999) {
		    *why = "bad arrival time";
		    break;
		}
		m->arrival_time = sec + usec / 1e6;
		have_time = 1;
	    }
	    break;
	case REC_TYPE_SENDER:
	    if (!line_safe(buf))
		*why = "bad sender";
	    else if (m->sender == 0)
		m->sender = mystrdup(vstring_str(buf));
	    break;
	case REC_TYPE_ATTR:
	    if (strncmp(vstring_str(buf), "dsn_envid=", 10) == 0 && !line_safe(buf))
		*why = "bad envelope ID";
	    else
		message_attr(m, vstring_str(buf));
	    break;
	case REC_TYPE_WARN:
	    /* Fixed width, so it can be rewritten in place. */
	    if (vstring_len(buf) == QMGR_WARN_WIDTH) {
		m->warn_time = atol(vstring_str(buf));
		m->warn_offset = rec_start + REC_HEADER_LEN;
	    }
	    break;
	case REC_TYPE_ORCP:
	case REC_TYPE_NOTIFY:
	case REC_TYPE_DSN_ORCPT:
	    if (have_data)
		*why = "recipient after the message data";
	    else if (!line_safe(buf))
		*why = type == REC_TYPE_ORCP ? "bad original recipient" : "bad recipient record";
	    else if (m->rcpt_next == 0 && m->nrcpt == 0)
		m->rcpt_next = rec_start;
	    break;
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
	    if (have_data) {
		*why = "recipient after the message data";
		break;
	    }
	    if (vstring_len(buf) == 0 || !line_safe(buf)) {
		*why = "bad recipient";
		break;
	    }
	    if (m->rcpt_next == 0 && m->nrcpt == 0)
		m->rcpt_next = rec_start;
	    m->nrcpt++;
	    break;
	case REC_TYPE_FILTER:
	    myfree(m->filter);
	    m->filter = vstring_len(buf) > 0 ? mystrdup(vstring_str(buf)) : 0;
	    break;
	case REC_TYPE_REDIRECT:
	    if (!line_safe(buf) || strchr(vstring_str(buf), '@') == 0)
		*why = "bad redirect address";
	    myfree(m->redirect);
	    m->redirect = mystrdup(vstring_str(buf));
	    break;
	case REC_TYPE_END:
	    if (!have_data)
		*why = "end record before the message data";
	    have_end = 1;
	    break;
	default:
	    /* V, and types we do not know. */
	    break;
	}
	if (*why)
	    break;
    }
    if (*why == 0 && vstream_ferror(fp))
	*why = "read error";
    if (*why == 0 && (m->sender == 0 || !have_time || !have_data || !have_end))
	*why = m->sender == 0 ? "no sender" : !have_time ? "no arrival time" :
	    "no message data";
    if (*why == 0 && m->nrcpt == 0)
	*why = "no recipients";
    vstring_free(buf);
    if (*why) {
	vstream_close(fp);
	if (m->sender == 0)
	    m->sender = mystrdup("");
	qmgr_message_free(m);
	return (0);
    }
    /* The first batch of recipients is read next: keep the file open. */
    m->fp = fp;
    return (m);
}

/* rcpt_clear - forget the per-recipient records read so far */
static void rcpt_clear(RECIPIENT *r)
{
    myfree(r->orig_addr);
    myfree(r->dsn_orcpt);
    r->orig_addr = mystrdup("");
    r->dsn_orcpt = mystrdup("");
    r->dsn_notify = 0;
}

/* message_assign - route one recipient and queue or settle it */
/*
 * message_filter - a message with a content filter goes there first,
 * whatever its recipients' routes: transport and nexthop of the F record;
 * without a nexthop, default_filter_nexthop, else the recipient domain,
 * else $myhostname (Postfix 2.7 and later).
 */
static void message_filter(QMGR_MESSAGE *m, RECIPIENT *rcpt, RESOLVE_REPLY *reply)
{
    char   *transport = mystrdup(m->filter);
    char   *nexthop = split_at(transport, ':');
    const char *at;

    if (nexthop == 0 || *nexthop == 0) {
	if (*(nexthop = (char *) mail_conf_str(VAR_DEFAULT_FILTER_NEXTHOP)) == 0)
	    nexthop = (char *) (((at = strrchr(rcpt->address, '@')) != 0 && at[1]) ?
				at + 1 : mail_conf_str(VAR_MYHOSTNAME));
    }
    vstring_strcpy(reply->transport, transport);
    vstring_strcpy(reply->nexthop, nexthop);
    vstring_strcpy(reply->recipient, rcpt->address);
    reply->flags = 0;
    myfree(transport);
}

static void message_assign(QMGR_MESSAGE *m, RECIPIENT *rcpt, RESOLVE_REPLY *reply)
{
    const char *transport;
    const char *nexthop;

    /* Address probes (verify, sendmail -bv) are never filtered. */
    if (m->filter && !m->verify && !m->user_verify) {
	message_filter(m, rcpt, reply);
    } else if (resolve_addr(m->sender, rcpt->address, reply) != RESOLVE_OK) {
	qmgr_defer_rcpt(m, rcpt, 0, "4.3.0", "address resolver failure");
	return;
    } else if (strcmp(vstring_str(reply->recipient), rcpt->address) != 0) {
	/* The resolver followed the routing of a local part: deliver there. */
	if (*rcpt->orig_addr == 0) {
	    myfree(rcpt->orig_addr);
	    rcpt->orig_addr = mystrdup(rcpt->address);
	}
	rcpt->address = vstring_str(reply->recipient);
    }
    transport = vstring_str(reply->transport);
    nexthop = vstring_str(reply->nexthop);

    /* The built-in transports. */
    if (strcmp(transport, "error") == 0 || strcmp(transport, "retry") == 0) {
	qmgr_error_transport(m, rcpt, transport, nexthop);
	return;
    }
    if (!m->flush_mark && string_list_has(mail_conf_str(VAR_DEFER_TRANSPORTS), transport)) {
	qmgr_defer_rcpt(m, rcpt, "error", "4.3.2", "deferred transport");
	return;
    }
    qmgr_queue_add(qmgr_queue_find(qmgr_transport_find(transport), nexthop), m, rcpt);
}

/*
 * redirect_order - the order in which Postfix's qmgr lists recipients
 * before it resolves them (domain, then address, ignoring case): the
 * first one takes a REDIRECT.
 */
static int redirect_order(const char *a, const char *b)
{
    const char *at_a = strrchr(a, '@');
    const char *at_b = strrchr(b, '@');
    int     rc;

    if (at_a && at_b && (rc = strcasecmp(at_a, at_b)) != 0)
	return (rc);
    return (strcasecmp(a, b));
}

/*
 * redirect_candidate - keep the recipient that comes first (in best),
 * mark the other one done: a redirected message is delivered once.
 */
static void redirect_candidate(QMGR_MESSAGE *m, RECIPIENT *best, RECIPIENT *rcpt)
{
    if (m->redirected) {
	(void) qmgr_message_mark_done(m, rcpt->offset);
	return;
    }
    if (best->address && redirect_order(best->address, rcpt->address) <= 0) {
	(void) qmgr_message_mark_done(m, rcpt->offset);
	return;
    }
    if (best->address) {
	(void) qmgr_message_mark_done(m, best->offset);
	myfree(best->address);
	myfree(best->orig_addr);
	myfree(best->dsn_orcpt);
    }
    best->offset = rcpt->offset;
    best->address = mystrdup(rcpt->address);
    best->orig_addr = mystrdup(rcpt->orig_addr);
    best->dsn_orcpt = mystrdup(rcpt->dsn_orcpt);
    best->dsn_notify = rcpt->dsn_notify;
}

int     qmgr_message_read_rcpts(QMGR_MESSAGE *m)
{
    VSTREAM *fp;
    VSTRING *buf;
    RESOLVE_REPLY *reply;
    RECIPIENT rcpt;
    RECIPIENT redirect_best;		/* REDIRECT: the recipient that goes */
    long    batch;
    int     count = 0;
    int     type;
    off_t   rec_start;

    if (m->rcpt_next == 0) {
	if (m->fp) {
	    vstream_close(m->fp);
	    m->fp = 0;
	}
	return (0);
    }
    batch = var_qmgr_rcpt_limit - qmgr_rcpt_in_memory;
    if (batch < var_qmgr_rcpt_minimum)
	batch = var_qmgr_rcpt_minimum;
    if (batch < 1)
	batch = 1;
    if ((fp = m->fp) != 0)
	m->fp = 0;
    else
	fp = vstream_open(m->path, O_RDONLY, 0);
    if (fp == 0 || vstream_seek(fp, m->rcpt_next, SEEK_SET) < 0) {
	msg_warn("%s: open %s: %m", m->queue_id, m->path);
	if (fp)
	    vstream_close(fp);
	m->rcpt_next = 0;
	m->error = 1;
	return (0);
    }
    buf = vstring_alloc(100);
    reply = resolve_reply_alloc();
    memset(&rcpt, 0, sizeof(rcpt));
    rcpt_clear(&rcpt);
    memset(&redirect_best, 0, sizeof(redirect_best));

    /* Hold the message while recipients may be settled at once. */
    m->refcount++;
    m->rcpt_next = 0;
    for (;;) {
	rec_start = vstream_tell(fp);
	if (count >= batch) {
	    m->rcpt_next = rec_start;
	    break;
	}
	type = rec_get(fp, buf, REC_MAX_LEN_ENVELOPE);
	if (type < 0 || type == REC_TYPE_MESSAGE || type == REC_TYPE_END)
	    break;			/* the M record is too long for rec_get() */
	switch (type) {
	case REC_TYPE_ORCP:
	    myfree(rcpt.orig_addr);
	    rcpt.orig_addr = mystrdup(vstring_str(buf));
	    break;
	case REC_TYPE_NOTIFY:
	    rcpt.dsn_notify = atoi(vstring_str(buf)) & 0xf;
	    break;
	case REC_TYPE_DSN_ORCPT:
	    myfree(rcpt.dsn_orcpt);
	    rcpt.dsn_orcpt = mystrdup(vstring_str(buf));
	    break;
	case REC_TYPE_DONE:
	    rcpt_clear(&rcpt);
	    break;
	case REC_TYPE_RCPT:
	    rcpt.offset = rec_start;
	    rcpt.address = vstring_str(buf);
	    /* REDIRECT: the recipient that goes there is chosen below. */
	    if (m->redirect) {
		redirect_candidate(m, &redirect_best, &rcpt);
		rcpt.address = 0;
		rcpt_clear(&rcpt);
		break;
	    }
	    count++;
	    m->refcount++;
	    m->in_memory++;
	    qmgr_rcpt_in_memory++;
	    message_assign(m, &rcpt, reply);
	    rcpt.address = 0;
	    rcpt_clear(&rcpt);
	    break;
	default:
	    break;
	}
    }
    /* REDIRECT: one delivery, of the chosen recipient, to the redirect address. */
    if (redirect_best.address) {
	if (*redirect_best.orig_addr == 0) {
	    myfree(redirect_best.orig_addr);
	    redirect_best.orig_addr = mystrdup(redirect_best.address);
	}
	myfree(redirect_best.address);
	redirect_best.address = m->redirect;
	m->redirected = 1;
	count++;
	m->refcount++;
	m->in_memory++;
	qmgr_rcpt_in_memory++;
	message_assign(m, &redirect_best, reply);
	myfree(redirect_best.orig_addr);
	myfree(redirect_best.dsn_orcpt);
    }
    myfree(rcpt.orig_addr);
    myfree(rcpt.dsn_orcpt);
    resolve_reply_free(reply);
    vstring_free(buf);
    vstream_close(fp);
    qmgr_message_rcpt_done_hold(m);
    return (count);
}

int     qmgr_message_mark_done(QMGR_MESSAGE *m, off_t offset)
{
    int     fd;
    int     ret;

    if ((fd = open(m->path, O_WRONLY | O_CLOEXEC)) < 0) {
	msg_warn("%s: open %s: %m", m->queue_id, m->path);
	m->error = 1;
	return (-1);
    }
    if ((ret = rec_mark_done(fd, offset)) < 0) {
	msg_warn("%s: update %s: %m", m->queue_id, m->path);
	m->error = 1;
    }
    close(fd);
    return (ret);
}

/* qmgr_message_rcpt_done_hold - drop the reader's hold on the message */
void    qmgr_message_rcpt_done_hold(QMGR_MESSAGE *m)
{
    if (--m->refcount > 0)
	return;
    /* Everything read so far is settled: read more, or finish. */
    if (m->rcpt_next != 0 && !m->error) {
	qmgr_message_read_rcpts(m);
	return;
    }
    qmgr_active_done(m);
}

void    qmgr_message_rcpt_done(QMGR_MESSAGE *m)
{
    m->in_memory--;
    qmgr_rcpt_in_memory--;
    qmgr_message_rcpt_done_hold(m);
}

void    qmgr_message_defer_site(QMGR_MESSAGE *m, const char *address)
{
    const char *at = strrchr(address, '@');
    char   *site;

    if (at == 0 || at[1] == 0)
	return;
    site = lowercase(mystrdup(at + 1));
    for (size_t i = 0; i < m->defer_sites->argc; i++) {
	if (strcmp(m->defer_sites->argv[i], site) == 0) {
	    myfree(site);
	    return;
	}
    }
    if (m->defer_sites->argc < 100)
	argv_add(m->defer_sites, site);
    myfree(site);
}

/*
 * qmgr_message_warn_sent - the delay warning went out: rewrite the W
 * record to 0 in place, so the message causes no second one.
 */
int     qmgr_message_warn_sent(QMGR_MESSAGE *m)
{
    char    buf[QMGR_WARN_WIDTH + 1];
    int     fd;
    int     ret = 0;

    m->warn_time = 0;
    if (m->warn_offset == 0)
	return (0);
    snprintf(buf, sizeof(buf), "%020ld", 0L);
    if ((fd = open(m->path, O_WRONLY | O_CLOEXEC)) < 0) {
	msg_warn("%s: open %s: %m", m->queue_id, m->path);
	return (-1);
    }
    if (pwrite(fd, buf, QMGR_WARN_WIDTH, m->warn_offset) != QMGR_WARN_WIDTH
	|| fsync(fd) < 0) {
	msg_warn("%s: rewrite the delay warning time: %m", m->queue_id);
	ret = -1;
    }
    (void) close(fd);
    return (ret);
}
