/*
 * NAME
 *	smtpd_data - DATA, and the message pipeline that DATA and BDAT share
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_data_cmd(SMTPD_STATE *state, char *args);
 *
 *	int smtpd_msg_accept(SMTPD_STATE *state);
 *	SMTPD_MSG *smtpd_msg_begin(SMTPD_STATE *state);
 *	void smtpd_msg_text(SMTPD_MSG *msg, const char *text, size_t len,
 *			    int first_piece, int line_end);
 *	void smtpd_msg_finish(SMTPD_MSG *msg);
 *	long smtpd_msg_size(SMTPD_MSG *msg);
 *	void smtpd_msg_end(SMTPD_MSG *msg, int bdat);
 *	void smtpd_msg_free(SMTPD_MSG *msg);
 * DESCRIPTION
 *	The message pipeline (used by DATA here and by BDAT in
 *	smtpd_bdat.c): smtpd_msg_accept() decides whether a message may be
 *	sent now (a sender, a valid recipient, smtpd_data_restrictions)
 *	and otherwise answers ("503 5.5.1 Error: need RCPT command"
 *	without MAIL, "554 5.5.1 Error: no valid recipients" after MAIL,
 *	or the restriction's reply) and returns 0. smtpd_msg_begin()
 *	starts the message in the queue file opened at the first RCPT;
 *	smtpd_msg_text() takes it a line (or a piece of a long line) at a
 *	time, without its line end; line_end is SMTPD_MSG_NONE (more of
 *	the line follows), SMTPD_MSG_CRLF or SMTPD_MSG_LF (a bare LF, for
 *	smtpd_forbid_bare_newline). smtpd_msg_finish() ends the text;
 *	smtpd_msg_size() is the size of the client's text as stored (CRLF
 *	line ends), smtpd_msg_end() gives the final reply (bdat: Postfix's
 *	"250 2.0.0 Ok: N bytes queued as QID" instead of DATA's "250
 *	2.0.0 Ok: queued as QID") and smtpd_msg_free() releases it.
 *
 *	DATA: after "354", the message is read line by line and streamed into
 *	the queue file opened at the first RCPT (queue_writer.h): our
 *	Received: header first, then the lines exactly as received after
 *	dot-unstuffing, each ended by CRLF. For clients that match
 *	local_header_rewrite_clients (default: permit_inet_interfaces, the
 *	host's own addresses) or with always_add_missing_headers, a
 *	missing "Message-Id:", "Date:" and "From:" (the envelope sender)
 *	are added at the end of the headers, or "Resent-Message-Id:",
 *	"Resent-Date:", "Resent-From:" when the message has a Resent-
 *	header, as Postfix's cleanup does; mail from other clients is kept
 *	as it is (their DKIM signatures stay valid) and is logged with
 *	"message-id=<>" when it has none.
 *
 *	End of data is only "." on a line of its own that follows a CRLF
 *	and ends in CRLF. A line that ends in a bare LF is handled as
 *	smtpd_forbid_bare_newline says: no, normalize and yes store it as
 *	a CRLF line (it never ends the message: "\n.\n", "\r.\n",
 *	"\n.\r\n" and "\r\n.\n" are content, so no input splits one
 *	message into two); note does the same and logs it; reject answers
 *	"550 5.5.2 Error: bare <LF> received" at the end and disconnects.
 *	Clients in smtpd_forbid_bare_newline_exclusions are treated as no.
 *
 *	A message over message_size_limit is read to its end but not
 *	kept: 552 5.3.4. A message with more Received: and Delivered-To:
 *	headers than hopcount_limit is a mail loop: "554 5.4.0 Error: too
 *	many hops" and "warning: QID: message rejected: hopcount exceeded",
 *	as Postfix's cleanup says it, and nothing is queued. A write error (full disk: 452 4.3.1, other:
 *	451 4.3.0) removes the file. "250 2.0.0 Ok: queued as QID" is sent
 *	only after queue_writer_commit() has made the file durable; then
 *	qmgr is woken through public/qmgr.
 *
 *	With header_checks set, each header is held in memory (up to
 *	header_size_limit) until it is complete and then goes through
 *	smtpd_content_check() (smtpd_content.c) before it is written, our
 *	Received: header included; with body_checks, each body line goes
 *	through it as it is written. The body is never held. A REJECT or a
 *	table error answers at the end of DATA and removes the file;
 *	DISCARD answers "250 ... queued as" and removes it; HOLD commits it
 *	into hold/ (queue_writer_hold()).
 *
 *	With smtpd_milters, the milters see the complete file before it is
 *	committed (data_milters_refused(), smtpd_milter.c); their changes
 *	rewrite it, their refusal removes it, a quarantine commits it into
 *	hold/. With smtpd_proxy_filter the file is only a spool: the
 *	message goes to the filter and the filter's reply is sent
 *	(smtpd_proxy.c). The content filter (content_filter or a FILTER
 *	action) is recorded at commit (queue_writer_filter()).
 *
 *	The whole message must arrive within smtpd_timeout plus one second
 *	for every smtpd_min_data_rate bytes received (Postfix's
 *	smtpd_min_data_rate, always on here), and each read within
 *	smtpd_timeout: a client that trickles its message is cut off.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_addr.h"
#include "global/mail_conf.h"
#include "global/mail_header.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"
#include "global/queue_writer.h"
#include "smtpd.h"

typedef struct SMTPD_MSG DATA_STATE;

/* Headers whose absence cleanup makes good (add_missing_headers). */
#define HAVE_DATE		(1<<0)
#define HAVE_FROM		(1<<1)
#define HAVE_RESENT		(1<<2)	/* any Resent- header */
#define HAVE_RESENT_MSGID	(1<<3)
#define HAVE_RESENT_DATE	(1<<4)
#define HAVE_RESENT_FROM	(1<<5)

struct SMTPD_MSG {
    SMTPD_STATE *state;
    QUEUE_WRITER *qw;
    int     in_header;			/* still in the message header */
    int     seen_header;		/* a header line was seen */
    int     have_msgid;
    int     have;			/* HAVE_* headers seen */
    int     hops;			/* Received: and Delivered-To: headers */
    int     add_headers;		/* local_header_rewrite_clients */
    int     rewrite_local;		/* smtpd_check_rewrite_client() */
    long    hdr_len;			/* length of the current header */
    int     drop_header;		/* current header over the limit */
    int     too_big;
    int     bare_lf;			/* a line ended in a bare LF */
    char   *msgid;			/* for the log */
    /* header_checks, body_checks (smtpd_content.c) */
    int     hdr_checks;			/* header_checks is set */
    int     hold_headers;		/* checks, rewriting or dropping */
    int     body_checks;		/* body_checks is set */
    VSTRING *hdr;			/* the current header, held for the check */
    VSTRING *key;			/* what the table sees */
    VSTRING *out;			/* PREPEND or REPLACE text */
    long    body_offset;		/* body bytes so far, LF line ends */
    long    body_limit;			/* body_checks_size_limit */
    long    size;			/* client text stored, CRLF line ends */
    int     at_bol;			/* the client text ended in a line end */
    SMTPD_CONTENT content;
    char   *pend;			/* message bytes not yet handed over */
    size_t  pend_len;
    off_t   qw_size;			/* queue_writer_msg_size() */
};

 /*
  * Message bytes are collected in ds->pend and handed to the queue writer
  * a block at a time: the file gets the same bytes in the same order, with
  * one call per block instead of two per line.
  */
#define DATA_PEND_SIZE	8192

 /*
  * Once a message has passed 8 KB (the stream's first buffer), the
  * client's stream reads the rest in larger pieces: fewer system calls
  * per message, and a small message does not pay for larger buffers.
  * What the client sees is the same.
  */
#define DATA_READ_SIZE	(32 * 1024)

/* data_flush - hand the collected message bytes to the queue writer */
static void data_flush(DATA_STATE *ds)
{
    if (ds->pend_len > 0) {
	(void) queue_writer_msg_write(ds->qw, ds->pend, ds->pend_len);
	ds->pend_len = 0;
	ds->qw_size = queue_writer_msg_size(ds->qw);
    }
}

/* data_write - message bytes, unless the message is too big */
static void data_write(DATA_STATE *ds, const char *buf, size_t len)
{
    if (ds->too_big)
	return;
    if (var_message_size_limit > 0
	&& ds->qw_size + (off_t) (ds->pend_len + len) > var_message_size_limit) {
	ds->too_big = 1;
	return;
    }
    if (ds->pend_len + len > DATA_PEND_SIZE) {
	data_flush(ds);
	if (len > DATA_PEND_SIZE / 2) {
	    (void) queue_writer_msg_write(ds->qw, buf, len);
	    ds->qw_size = queue_writer_msg_size(ds->qw);
	    return;
	}
    }
    memcpy(ds->pend + ds->pend_len, buf, len);
    ds->pend_len += len;
}

/*
 * header_emit - one whole header (CRLF lines) through header_checks. The
 * table sees it as cleanup shows it: lines joined by "\n", no final line end.
 */
static void header_emit(DATA_STATE *ds, const char *raw, size_t len)
{
    const char *end = raw + len;
    const char *cp;
    int     action = SMTPD_CONTENT_KEEP;

    if (ds->hdr_checks) {
	vstring_reset(ds->key);
	for (cp = raw; cp < end; cp++) {
	    if (*cp == '\r' && cp + 1 < end && cp[1] == '\n')
		continue;
	    vstring_memcat(ds->key, cp, 1);
	}
	if (vstring_len(ds->key) > 0 && vstring_str(ds->key)[vstring_len(ds->key) - 1] == '\n')
	    vstring_truncate(ds->key, vstring_len(ds->key) - 1);
	switch (action = smtpd_content_check(&ds->content, SMTPD_CONTENT_HEADER,
					     vstring_str(ds->key), ds->out)) {
	case SMTPD_CONTENT_DROP:
	    return;
	case SMTPD_CONTENT_REPLACE:
	    data_write(ds, vstring_str(ds->out), vstring_len(ds->out));
	    data_write(ds, "\r\n", 2);
	    return;
	case SMTPD_CONTENT_PREPEND:
	    data_write(ds, vstring_str(ds->out), vstring_len(ds->out));
	    data_write(ds, "\r\n", 2);
	    break;
	}
    }
    /* message_drop_headers, then cleanup's address rewriting. */
    if (smtpd_rewrite_drop_header(raw, len))
	return;
    switch (smtpd_rewrite_header(ds->rewrite_local, raw, len, ds->out)) {
    case 1:
	data_write(ds, vstring_str(ds->out), vstring_len(ds->out));
	return;
    case -1:
	if (vstring_len(ds->content.reply) == 0)
	    vstring_strcpy(ds->content.reply, "451 4.3.0 Error: queue file write error");
	break;
    }
    data_write(ds, raw, len);
}

/* header_flush - the header held for header_checks is complete */
static void header_flush(DATA_STATE *ds)
{
    if (ds->hold_headers && vstring_len(ds->hdr) > 0) {
	header_emit(ds, vstring_str(ds->hdr), vstring_len(ds->hdr));
	vstring_reset(ds->hdr);
    }
}

/*
 * content_write - message text: a header is held until it is complete
 * when header_checks must see it whole; everything else is written.
 */
static void content_write(DATA_STATE *ds, const char *buf, size_t len)
{
    if (ds->hold_headers && ds->in_header)
	vstring_memcat(ds->hdr, buf, len);
    else
	data_write(ds, buf, len);
}

/*
 * body_emit - one body line, or one piece of a long line (Postfix also
 * checks long lines in pieces), through body_checks. Empty lines and text
 * past body_checks_size_limit are not looked up, as in Postfix.
 */
static void body_emit(DATA_STATE *ds, const char *buf, size_t len,
		              int first_piece, int line_end)
{
    int     action = SMTPD_CONTENT_KEEP;

    if (len > 0 && (ds->body_limit == 0 || ds->body_offset < ds->body_limit)) {
	vstring_reset(ds->key);
	vstring_memcat(ds->key, buf, len);
	action = smtpd_content_check(&ds->content, SMTPD_CONTENT_BODY,
				     vstring_str(ds->key), ds->out);
    }
    ds->body_offset += len + (line_end ? 1 : 0);
    switch (action) {
    case SMTPD_CONTENT_DROP:
	if (first_piece)
	    return;
	break;
    case SMTPD_CONTENT_REPLACE:
	data_write(ds, vstring_str(ds->out), vstring_len(ds->out));
	break;
    case SMTPD_CONTENT_PREPEND:
	data_write(ds, vstring_str(ds->out), vstring_len(ds->out));
	data_write(ds, "\r\n", 2);
	/* FALLTHROUGH */
    default:
	data_write(ds, buf, len);
	break;
    }
    if (line_end)
	data_write(ds, "\r\n", 2);
}

/* received_header - our Received: line, in Postfix's form */
static void received_header(DATA_STATE *ds)
{
    SMTPD_STATE *state = ds->state;
    VSTRING *buf = vstring_alloc(300);
    MAIL_HEADER_CLIENT client;
    VSTRING *auth;

    client.helo = state->helo_name;
    client.name = state->name;
    client.addr = state->rfc_addr;
    client.protocol = state->tls ? (strcmp(state->protocol, "ESMTP") == 0 ? "ESMTPS" : "SMTPS")
	: state->protocol;
    client.protocol = smtpd_sasl_protocol(state, client.protocol);
    /* smtpd_tls_received_header, then smtpd_sasl_authenticated_header. */
    auth = vstring_alloc(100);
    smtpd_tls_received(state, auth);
    smtpd_sasl_received(state, auth);
    client.comment = vstring_len(auth) ? vstring_str(auth) : 0;
    /* Before-queue filter: the filter queues, there is no ID here. */
    mail_header_received_smtp(buf, &client, state->proxy ? 0 : state->queue_id,
			      state->rcpt_count == 1 ? state->first_rcpt : 0,
			      queue_writer_time(ds->qw)->tv_sec);
    vstring_free(auth);
    header_emit(ds, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

/* add_message_id - at the end of the headers, when there was none */
static void add_message_id(DATA_STATE *ds)
{
    VSTRING *buf;
    VSTRING *addr;
    time_t  now;
    int     resent = (ds->have & HAVE_RESENT) != 0;

    if (ds->have_msgid && !ds->add_headers)
	return;
    if (!ds->add_headers) {
	/* As Postfix: nothing added to a remote client's mail. */
	ds->have_msgid = 1;
	ds->msgid = mystrdup("<>");
	return;
    }

    /*
     * As Postfix's cleanup for local clients: a missing Message-Id:, Date:
     * and From: (the envelope sender), or their Resent- forms when the
     * message has a Resent- header.
     */
    now = queue_writer_time(ds->qw)->tv_sec;
    buf = vstring_alloc(100);
    if (resent ? !(ds->have & HAVE_RESENT_MSGID) : !ds->have_msgid) {
	mail_header_message_id(buf, now, ds->state->queue_id);
	if (!ds->have_msgid) {
	    /* The log's message-id=, as Postfix logs the one it made. */
	    ds->msgid = mystrdup(vstring_str(buf));
	    ds->have_msgid = 1;
	}
	addr = vstring_alloc(100);
	vstring_sprintf(addr, "%sMessage-Id: %s\r\n", resent ? "Resent-" : "",
			vstring_str(buf));
	data_write(ds, vstring_str(addr), vstring_len(addr));
	vstring_free(addr);
    }
    if (!(ds->have & (resent ? HAVE_RESENT_DATE : HAVE_DATE))) {
	addr = vstring_alloc(100);
	mail_header_date(addr, now);
	vstring_sprintf(buf, "%sDate: %s\r\n", resent ? "Resent-" : "", vstring_str(addr));
	data_write(ds, vstring_str(buf), vstring_len(buf));
	vstring_free(addr);
    }
    if (!(ds->have & (resent ? HAVE_RESENT_FROM : HAVE_FROM))) {
	addr = vstring_alloc(100);
	if (*ds->state->sender == 0
	    || smtpd_rewrite_envelope(ds->state, ADDR_REWRITE_ENV_SENDER,
				      ds->state->sender, addr) < 0)
	    vstring_strcpy(addr, *ds->state->sender ? ds->state->sender : "MAILER-DAEMON");
	mail_addr_externalize(buf, vstring_str(addr));
	vstring_sprintf(addr, "%sFrom: %s\r\n", resent ? "Resent-" : "", vstring_str(buf));
	data_write(ds, vstring_str(addr), vstring_len(addr));
	vstring_free(addr);
    }
    vstring_free(buf);
}

/* header_name_len - length of "Name" in "Name: value", or 0 */
static size_t header_name_len(const char *line, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
	unsigned char ch = line[i];

	if (ch == ':')
	    return (i);
	if (ch <= ' ' || ch >= 127)
	    break;
    }
    if (i < len && (line[i] == ' ' || line[i] == '\t')) {
	size_t  name_len = i;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
	    i++;
	if (i < len && line[i] == ':')
	    return (name_len);
    }
    return (0);
}

/*
 * data_header - one line (or a piece of one) of the message. While in
 * the header it notes where each header starts, its size (the rest of a
 * header over header_size_limit is dropped) and its Message-ID, and
 * where the header ends: at an empty line, or at a line that is not a
 * header (an empty line is then written before it). Returns 0 to write
 * the text, 1 to drop it.
 */
static int data_header(DATA_STATE *ds, const char *line, size_t len, int first_piece)
{
    size_t  name_len;

    if (!ds->in_header)
	return (0);
    if (!first_piece) {
	ds->hdr_len += len;
	return (ds->drop_header);
    }
    if (len == 0) {
	header_flush(ds);
	add_message_id(ds);
	ds->in_header = 0;
	return (0);
    }
    if ((line[0] == ' ' || line[0] == '\t') && ds->seen_header) {
	ds->hdr_len += len;
	if (ds->hdr_len > var_header_size_limit)
	    ds->drop_header = 1;
	return (ds->drop_header);
    }
    if ((name_len = header_name_len(line, len)) > 0) {
	header_flush(ds);
	ds->seen_header = 1;
	ds->hdr_len = len;
	ds->drop_header = 0;
	if ((name_len == 8 && strncasecmp(line, "Received", 8) == 0)
	    || (name_len == 12 && strncasecmp(line, "Delivered-To", 12) == 0))
	    ds->hops++;
#define IS_NAME(n) (name_len == sizeof(n) - 1 && strncasecmp(line, n, name_len) == 0)
	if (IS_NAME("Date"))
	    ds->have |= HAVE_DATE;
	else if (IS_NAME("From"))
	    ds->have |= HAVE_FROM;
	else if (name_len > 7 && strncasecmp(line, "Resent-", 7) == 0) {
	    ds->have |= HAVE_RESENT;
	    if (IS_NAME("Resent-Message-Id"))
		ds->have |= HAVE_RESENT_MSGID;
	    else if (IS_NAME("Resent-Date"))
		ds->have |= HAVE_RESENT_DATE;
	    else if (IS_NAME("Resent-From"))
		ds->have |= HAVE_RESENT_FROM;
	}
	if (name_len == 10 && strncasecmp(line, "Message-ID", 10) == 0
	    && !ds->have_msgid) {
	    const char *val = strchr(line, ':') + 1;
	    char   *copy;

	    while (*val == ' ' || *val == '\t')
		val++;
	    copy = mystrndup(val, len - (val - line));
	    ds->msgid = mystrdup(trimblanks(copy));
	    myfree(copy);
	    ds->have_msgid = 1;
	}
	return (0);
    }
    /* Not a header: the body starts here, without an empty line. */
    header_flush(ds);
    add_message_id(ds);
    data_write(ds, "\r\n", 2);
    ds->in_header = 0;
    return (0);
}

/* data_state_free - what the pipeline allocated (not ds itself) */
static void data_state_free(DATA_STATE *ds)
{
    myfree(ds->msgid);
    myfree(ds->pend);
    if (ds->hdr)
	vstring_free(ds->hdr);
    if (ds->key)
	vstring_free(ds->key);
    if (ds->out)
	vstring_free(ds->out);
    smtpd_content_end(&ds->content);
}

/*
 * data_deadline - the message must arrive within smtpd_timeout plus one
 * second per smtpd_min_data_rate bytes received so far, so a client that
 * trickles its message cannot hold the session much longer than an
 * honest client with a slow link would.
 */
static void data_deadline(SMTPD_STATE *state, long long start)
{
    long long allowed = var_smtpd_timeout * 1000LL
	+ state->data_bytes * 1000LL / var_min_data_rate;
    long long left = start + allowed - vstream_now_ms();

    vstream_set_deadline(state->client, left > 0 ? (int) ((left + 999) / 1000) : 0);
    if (left <= 0)
	state->client->deadline_ms = vstream_now_ms();	/* already expired */
}

/* data_fail_reply - the reply for a queue file that could not be made */
static void data_fail_reply(SMTPD_STATE *state, int err)
{
    msg_warn("%s: queue file write error: %s", state->queue_id, strerror(err));
    if (queue_writer_status(err) == QUEUE_WRITER_STAT_NOSPACE)
	smtpd_reply(state, "452 4.3.1 Insufficient system storage");
    else
	smtpd_reply(state, "451 4.3.0 Error: queue file write error");
}

/*
 * data_refused - after a refused DATA: a client that sent its message
 * without waiting for the reply (RFC 2920 forbids it) would have the
 * message read as commands, so the session ends instead.
 */
static void data_refused(SMTPD_STATE *state)
{
    int     code = state->last_code;

    if (vstream_peek(state->client) == 0)
	return;
    smtpd_reply(state, "221 2.7.0 Error: I can break rules, too. Goodbye.");
    state->last_code = code;			/* DATA still failed */
    state->quit = 1;
}

/* eod_rejected - smtpd_end_of_data_restrictions, asked as END-OF-MESSAGE */
static int eod_rejected(SMTPD_STATE *state)
{
    const char *saved = state->where;
    int     rc;

    state->where = "END-OF-MESSAGE";
    rc = smtpd_check_eod(state) != SMTPD_CHECK_OK;
    state->where = saved;
    return (rc);
}

/*
 * smtpd_msg_accept - may the message be sent? Without a sender and a
 * valid recipient, or when smtpd_data_restrictions refuse, the reply is
 * sent here and the result is 0. As in Postfix, a transaction with a
 * sender but no valid recipient gets 554 (and a reject log line when
 * recipients were tried), one without MAIL gets 503.
 */
int     smtpd_msg_accept(SMTPD_STATE *state)
{
    if (state->sender == 0 || state->rcpt_count == 0) {
	if (state->sender) {
	    if (state->rcpt_tried > 0)
		smtpd_log_reject(state, state->where, "554 5.5.1 Error: no valid recipients");
	    smtpd_reply(state, "554 5.5.1 Error: no valid recipients");
	} else {
	    smtpd_reply(state, "503 5.5.1 Error: need RCPT command");
	}
	return (0);
    }
    if (smtpd_check_data(state) != SMTPD_CHECK_OK) {
	smtpd_log_reject(state, state->where, vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
	return (0);
    }
    if (smtpd_milter_data(state) != SMTPD_CHECK_OK
	|| smtpd_proxy_data(state) != SMTPD_CHECK_OK) {
	smtpd_reply(state, "%s", vstring_str(state->reply));
	data_refused(state);
	return (0);
    }
    return (1);
}

/*
 * smtpd_msg_begin - what header_checks and body_checks need, and the headers
 * that go above the client's: the PREPEND results of the access policy,
 * then our Received:.
 */
SMTPD_MSG *smtpd_msg_begin(SMTPD_STATE *state)
{
    DATA_STATE *ds = mycalloc(1, sizeof(*ds));

    ds->state = state;
    ds->at_bol = 1;
    ds->qw = state->qw;
    ds->in_header = 1;
    ds->pend = mymalloc(DATA_PEND_SIZE);
    /* The client's class does not change during a message: asked once. */
    ds->rewrite_local = smtpd_check_rewrite_client(state);
    ds->add_headers = mail_conf_bool(VAR_ALWAYS_ADD_MISSING_HEADERS)
	|| ds->rewrite_local;
    ds->hdr_checks = smtpd_content_headers_active();
    /* Whole headers are needed for header_checks, rewriting and dropping. */
    if ((ds->hold_headers = (ds->hdr_checks || smtpd_rewrite_active(ds->rewrite_local)
			     || smtpd_rewrite_drop_active())) != 0) {
	ds->hdr = vstring_alloc(1024);
	ds->out = vstring_alloc(100);
    }
    if ((ds->body_checks = smtpd_content_body_active()) != 0) {
	ds->body_limit = mail_conf_int(VAR_BODY_CHECKS_SIZE_LIMIT);
	if (ds->out == 0)
	    ds->out = vstring_alloc(100);
    }
    if (ds->hdr_checks || ds->body_checks)
	ds->key = vstring_alloc(1024);
    smtpd_content_begin(&ds->content, state);
    queue_writer_msg_begin(ds->qw);
    ds->qw_size = queue_writer_msg_size(ds->qw);
    for (size_t i = 0; state->prepend && i < state->prepend->argc; i++) {
	VSTRING *hdr = vstring_alloc(100);

	vstring_sprintf(hdr, "%s\r\n", state->prepend->argv[i]);
	header_emit(ds, vstring_str(hdr), vstring_len(hdr));
	vstring_free(hdr);
    }
    received_header(ds);
    return (ds);
}

/* data_lost - the client timed out or went away before the end of data */
static void data_lost(SMTPD_STATE *state)
{
    smtpd_notify_reason(state, vstream_ftimeout(state->client) ? "timeout" : "lost connection");
    if (vstream_ftimeout(state->client)) {
	msg_info("timeout after DATA (%ld bytes) from %s",
		 state->data_bytes, state->namaddr);
	vstream_clearerr(state->client);
	vstream_clear_deadline(state->client);
	vstream_set_timeout(state->client, 10);
	smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    } else {
	msg_info("lost connection after DATA (%ld bytes) from %s",
		 state->data_bytes, state->namaddr);
    }
    state->where = "DATA";
    state->quit = 1;
}

/*
 * msg_text - one piece of message text (DATA: dot-unstuffed) without its
 * line end (line_end says whether and which one followed): through the
 * header handling, then header_checks or body_checks, into the queue
 * file. crlf_follows: cp[len] and cp[len + 1] are that CRLF, so a line
 * that is written as it came is written in one piece.
 */
static void msg_text(DATA_STATE *ds, const char *cp, size_t len,
		             int first_piece, int line_end, int crlf_follows)
{
    SMTPD_STATE *state = ds->state;

    ds->size += len + (line_end ? 2 : 0);
    ds->at_bol = line_end != SMTPD_MSG_NONE;
    if (line_end == SMTPD_MSG_LF && !ds->bare_lf) {
	ds->bare_lf = 1;
	if (state->bare_lf_mode == SMTPD_BARE_LF_NOTE)
	    msg_info("bare <LF> received after %s from %s", state->where, state->namaddr);
    }
    if (data_header(ds, cp, len, first_piece) != 0)
	return;
    if (ds->body_checks && !ds->in_header) {
	body_emit(ds, cp, len, first_piece, line_end);
    } else if (crlf_follows && line_end == SMTPD_MSG_CRLF) {
	content_write(ds, cp, len + 2);
    } else {
	content_write(ds, cp, len);
	if (line_end)
	    content_write(ds, "\r\n", 2);
    }
}

void    smtpd_msg_text(DATA_STATE *ds, const char *cp, size_t len,
		               int first_piece, int line_end)
{
    msg_text(ds, cp, len, first_piece, line_end, 0);
}

/*
 * data_read - the message text up to the end of data. A line longer
 * than the read buffer comes in pieces; a CR that ends a piece is held
 * back until the next piece says whether it starts the line end.
 * Returns 0 at <CR><LF>.<CR><LF>, -1 when the client timed out or went
 * away (data_lost() has logged it).
 *
 * A whole line that is already in the stream's read buffer is used in
 * place; the deadline is computed only before a read that may wait for
 * the client (vstream_get_line() reads only when the buffer holds no
 * whole line), so it is the same as if it were set before every line.
 */
static int data_read(DATA_STATE *ds)
{
    SMTPD_STATE *state = ds->state;
    VSTREAM *client = state->client;
    VSTRING *line = vstring_alloc(1024);
    int     ret, crlf;
    int     prev_crlf = 1;		/* the DATA command ended in CRLF */
    int     first_piece = 1;		/* at the start of a line */
    int     pending_cr = 0;		/* a piece ended in CR */
    long long data_start = vstream_now_ms();
    size_t  max = var_line_length_limit;
    const char *cp;
    const char *nl;
    size_t  len;
    int     crlf_follows;		/* cp[len] is the line's CRLF */

    for (;;) {
	/* As vstream_get_line(): an LF within the first max bytes. */
	len = vstream_peek(client);
	if (len > 0 && (nl = memchr(cp = vstream_peek_data(client), '\n',
				    len < max ? len : max)) != 0) {
	    len = nl - cp;
	    vstream_skip(client, len + 1);
	    ret = VSTREAM_LINE;
	    if ((crlf_follows = crlf = (len > 0 && cp[len - 1] == '\r')) != 0)
		len--;
	} else {
	    crlf_follows = 0;
	    if (state->data_bytes >= DATA_PEND_SIZE)
		vstream_set_bufsize(client, DATA_READ_SIZE);
	    data_deadline(state, data_start);
	    ret = smtpd_read_line(state, line, &crlf);
	    if (ret == VSTREAM_EOF || ret == VSTREAM_PARTIAL) {
		data_lost(state);
		vstring_free(line);
		return (-1);
	    }
	    cp = vstring_str(line);
	    len = vstring_len(line);
	}
	state->data_bytes += len + (ret == VSTREAM_LINE ? 1 + crlf : 0);

	/* A CR that ended the previous piece belongs to this line end. */
	if (pending_cr) {
	    pending_cr = 0;
	    if (ret == VSTREAM_LINE && len == 0 && !crlf) {
		crlf = 1;
	    } else {
		ds->size += 1;
		if (data_header(ds, "\r", 1, 0) == 0)
		    content_write(ds, "\r", 1);
	    }
	}
	if (ret == VSTREAM_LONG && len > 0 && cp[len - 1] == '\r') {
	    pending_cr = 1;
	    len--;
	}
	if (ret == VSTREAM_LINE) {
	    if (first_piece && prev_crlf && crlf && len == 1 && cp[0] == '.')
		break;				/* <CR><LF>.<CR><LF> */
	}
	if (first_piece && len > 0 && cp[0] == '.') {
	    cp++;
	    len--;
	}
	msg_text(ds, cp, len, first_piece, ret != VSTREAM_LINE ? SMTPD_MSG_NONE :
		 crlf ? SMTPD_MSG_CRLF : SMTPD_MSG_LF, crlf_follows);
	first_piece = (ret == VSTREAM_LINE);
	prev_crlf = (ret == VSTREAM_LINE && crlf);
    }
    vstring_free(line);
    smtpd_msg_finish(ds);
    return (0);
}

/* smtpd_msg_finish - the end of the client's text */
void    smtpd_msg_finish(DATA_STATE *ds)
{
    if (ds->in_header) {
	header_flush(ds);
	add_message_id(ds);
    }
    data_flush(ds);
}

long    smtpd_msg_size(DATA_STATE *ds)
{
    return (ds->size);
}

/*
 * data_milters_refused - the milters see the message before it is
 * committed (smtpd_milter.c); they may change it (the queue file is then
 * rewritten), hold or discard it. 1 when they refused it (the reply is
 * sent), 0 to go on. The headers above the client's (PREPEND results and
 * our Received:) are not shown to them, as Postfix hides its own.
 */
static int data_milters_refused(DATA_STATE *ds)
{
    SMTPD_STATE *state = ds->state;
    int     hidden = 1 + (state->prepend ? (int) state->prepend->argc : 0);

    if (state->milters == 0 || state->milter_discard || ds->content.discard)
	return (0);
    if (smtpd_milter_message(state, ds->qw, hidden) == SMTPD_CHECK_OK)
	return (0);
    smtpd_reply(state, "%s", vstring_str(state->reply));
    return (1);
}

/*
 * smtpd_msg_end - the reply to the end of data (DATA or BDAT LAST): a
 * refusal (bare LF under reject, size, write error, smtpd_end_of_data_restrictions, a content
 * check), or the message made durable first and then "250 ... queued
 * as" and qmgr woken.
 */
void    smtpd_msg_end(DATA_STATE *ds, int bdat)
{
    SMTPD_STATE *state = ds->state;
    VSTRING *ok = vstring_alloc(100);

    data_flush(ds);
    smtpd_notify_eod(state);
    if (bdat)
	vstring_sprintf(ok, "250 2.0.0 Ok: %ld bytes queued as %s", ds->size, state->queue_id);
    else
	vstring_sprintf(ok, "250 2.0.0 Ok: queued as %s", state->queue_id);
    if (state->bare_lf_mode == SMTPD_BARE_LF_REJECT && ds->bare_lf) {
	msg_info("%s: reject: bare <LF> received from %s", state->queue_id, state->namaddr);
	smtpd_reply(state, "%ld 5.5.2 %s Error: bare <LF> received",
		    var_bare_lf_code, var_myhostname);
	state->quit = 1;
    } else if (ds->too_big) {
	msg_warn("%s: queue file size limit exceeded", state->queue_id);
	smtpd_reply(state, "552 5.3.4 Error: message file too big");
    } else if (queue_writer_errno(ds->qw) != 0) {
	data_fail_reply(state, queue_writer_errno(ds->qw));
    } else if (eod_rejected(state)) {
	smtpd_log_reject(state, "END-OF-MESSAGE", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
    } else if (vstring_len(ds->content.reply) > 0) {
	/* header_checks or body_checks REJECT, or a table lookup error */
	smtpd_notify_class(state, SMTPD_NOTIFY_POLICY);
	smtpd_reply(state, "%s", vstring_str(ds->content.reply));
    } else if (ds->hops > var_hopcount_limit) {
	/* A mail loop, as Postfix's cleanup sees it; nothing is queued. */
	msg_warn("%s: message rejected: hopcount exceeded", state->queue_id);
	smtpd_reply(state, "554 5.4.0 Error: too many hops");
    } else if (data_milters_refused(ds)) {
	/* A milter said no; its reply is sent, the file goes. */ ;
    } else if (ds->content.discard || state->milter_discard) {
	/* DISCARD: the client is told it was queued; the file goes. */
	smtpd_reply(state, "%s", vstring_str(ok));
	state->junk_cmds = 0;
    } else if (state->proxy) {
	/* smtpd_proxy_filter: the filter queues it, its reply is ours. */
	(void) smtpd_proxy_message(state, ds->qw);
	smtpd_reply(state, "%s", vstring_str(state->reply));
    } else {
	if (ds->content.hold || state->milter_hold)
	    queue_writer_hold(ds->qw);
	/* FILTER action, else content_filter: the queue file records it. */
	if (ds->content.filter)
	    (void) smtpd_content_filter(state, vstring_str(ds->content.filter));
	queue_writer_filter(ds->qw, state->filter ? state->filter : var_content_filter);
	state->qw = 0;				/* commit frees it */
	if (queue_writer_commit(ds->qw) < 0) {
	    data_fail_reply(state, errno);
	} else {
	    if (ds->msgid) {
		VSTRING *text = vstring_alloc(100);

		msg_info("%s: message-id=%s", state->queue_id, smtpd_printable(text, ds->msgid));
		vstring_free(text);
	    }
	    smtpd_reply(state, "%s", vstring_str(ok));
	    state->junk_cmds = 0;
	    (void) mail_trigger_kept("public", mail_conf_str(VAR_QUEUE_SERVICE_NAME),
				     (char[]) {QMGR_REQ_SCAN_INCOMING}, 1);
	}
    }
    vstring_free(ok);
}

void    smtpd_msg_free(DATA_STATE *ds)
{
    data_state_free(ds);
    myfree(ds);
}

void    smtpd_data_cmd(SMTPD_STATE *state, char *args)
{
    DATA_STATE *ds;

    if (*args) {
	smtpd_reply(state, "501 5.5.4 Syntax: DATA");
	return;
    }
    if (state->bdat_state != SMTPD_BDAT_NONE) {
	smtpd_reply(state, "503 5.5.1 Error: DATA after BDAT");
	return;
    }
    if (!smtpd_msg_accept(state)) {
	data_refused(state);
	return;
    }
    ds = smtpd_msg_begin(state);
    smtpd_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    state->data_bytes = 0;
    if (data_read(ds) < 0) {
	smtpd_msg_free(ds);
	smtpd_transaction_reset(state);
	state->last_code = 0;
	return;
    }
    smtpd_msg_end(ds, 0);
    smtpd_msg_free(ds);
    smtpd_transaction_reset(state);
}
