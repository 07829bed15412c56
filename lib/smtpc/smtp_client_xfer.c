/*
 * NAME
 *	smtp_client_xfer - one mail transaction: MAIL, RCPT, DATA
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	int smtp_session_xfer(SMTP_SESSION *sess, SMTP_STATE *st);
 * DESCRIPTION
 *	Sends MAIL FROM, one RCPT TO per recipient still pending, and DATA
 *	(not for an address probe, DEL_REQ_FLAG_VERIFY), all at once when
 *	the server offers PIPELINING (RFC 2920), else one at a time; then
 *	reads the replies in order. MAIL gets SIZE= when the server offers
 *	SIZE, and RET=/ENVID= and per recipient NOTIFY=/ORCPT= when it
 *	offers DSN (RFC 3461), xtext-encoded.
 *	With srs_domain set (ours), a request that carries a recipient
 *	aliased to another domain goes out with the SRS form of its
 *	sender (srs_request_sender()); other mail keeps its sender.
 *
 *	The message is read from the queue file (the M record's data at
 *	req->data_offset, req->data_size bytes, lines already ending in
 *	CRLF) and sent dot-stuffed, followed by "." (RFC 5321 4.5.2).
 *
 *	Results: SMTP has one reply to the end of data for all accepted
 *	recipients, LMTP one per accepted recipient (RFC 2033). Each
 *	recipient's result goes to smtp_rcpt_status(): "host X said: 550
 *	5.1.1 ... (in reply to RCPT TO command)" and so on.
 *
 *	A "452 4.5.3" reply (too many recipients) after an accepted one
 *	leaves that recipient for the next transaction on the same session
 *	(st->more_rcpts), as Postfix does.
 *
 *	When the transaction did not reach the end of DATA, RSET brings a
 *	healthy session back to its initial state so it can be reused.
 * DIAGNOSTICS
 *	Returns 0 when the session can be used again, -1 when it must be
 *	closed (lost, timed out, or the queue file could not be read: the
 *	connection is then dropped so the server discards the message).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/queue_file.h"
#include "smtpc/smtp_client.h"

/* xtext - RFC 3461 encoding of a DSN parameter value */
static void xtext(VSTRING *out, const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	if (*cp < 33 || *cp > 126 || *cp == '+' || *cp == '=')
	    vstring_sprintf_append(out, "+%02X", *cp);
	else
	    vstring_addch(out, *cp);
    }
}

static void notify_text(VSTRING *out, int notify)
{
    if (notify & DSN_NOTIFY_NEVER) {
	vstring_strcat(out, "NEVER");
	return;
    }
    if (notify & DSN_NOTIFY_SUCCESS)
	vstring_strcat(out, "SUCCESS,");
    if (notify & DSN_NOTIFY_FAILURE)
	vstring_strcat(out, "FAILURE,");
    if (notify & DSN_NOTIFY_DELAY)
	vstring_strcat(out, "DELAY,");
    vstring_truncate(out, vstring_len(out) - 1);
}

/* send_mail_from - the MAIL command with its parameters */
static void send_mail_from(SMTP_SESSION *sess, SMTP_STATE *st)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *sender = vstring_alloc(100);

    /* Forwarded mail leaves with an SRS sender when SRS is on (srs(3)). */
    (void) srs_request_sender(smtp_conf.srs, req, sender, time((time_t *) 0));
    vstring_sprintf(cmd, "MAIL FROM:<%s>", vstring_str(sender));
    vstring_free(sender);
    if (sess->features & SMTP_FEATURE_SIZE)
	vstring_sprintf_append(cmd, " SIZE=%ld", (long) req->data_size);
    if (sess->features & SMTP_FEATURE_DSN) {
	if (req->dsn_ret)
	    vstring_sprintf_append(cmd, " RET=%s",
				   req->dsn_ret == DSN_RET_HDRS ? "HDRS" : "FULL");
	if (req->dsn_envid && *req->dsn_envid) {
	    vstring_strcat(cmd, " ENVID=");
	    xtext(cmd, req->dsn_envid);
	}
    }
    smtp_chat_cmd(sess, "%s", vstring_str(cmd));
    vstring_free(cmd);
}

static void send_rcpt_to(SMTP_SESSION *sess, const RECIPIENT *rcpt)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "RCPT TO:<%s>", rcpt->address);
    if (sess->features & SMTP_FEATURE_DSN) {
	if (rcpt->dsn_notify) {
	    vstring_strcat(cmd, " NOTIFY=");
	    notify_text(cmd, rcpt->dsn_notify);
	}
	if (rcpt->dsn_orcpt && *rcpt->dsn_orcpt) {
	    const char *semi = strchr(rcpt->dsn_orcpt, ';');

	    if (semi) {
		vstring_strcat(cmd, " ORCPT=");
		vstring_strncat(cmd, rcpt->dsn_orcpt, semi - rcpt->dsn_orcpt + 1);
		xtext(cmd, semi + 1);
	    }
	}
    }
    smtp_chat_cmd(sess, "%s", vstring_str(cmd));
    vstring_free(cmd);
}

/* send_message - the queue file's message, dot-stuffed, and "." */
static int send_message(SMTP_SESSION *sess, SMTP_STATE *st, VSTRING *why_text)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf;
    VSTREAM *fp;
    off_t   left = req->data_size;
    int     bol = 1;
    size_t  col = 0;
    size_t  limit = smtp_conf.line_length_limit > 0 && smtp_conf.line_length_limit < 2 ?
    2 : (size_t) smtp_conf.line_length_limit;
    ssize_t n;

    vstring_sprintf(path, "%s/%s", req->queue_name, req->queue_id);
    if ((fp = vstream_open(vstring_str(path), O_RDONLY, 0)) == 0) {
	vstring_sprintf(why_text, "cannot open queue file %s: %m", vstring_str(path));
	vstring_free(path);
	return (-1);
    }
    if (vstream_seek(fp, req->data_offset, SEEK_SET) < 0) {
	vstring_sprintf(why_text, "cannot seek queue file %s: %m", vstring_str(path));
	vstream_close(fp);
	vstring_free(path);
	return (-1);
    }
    buf = vstring_alloc(VSTREAM_BUFSIZE_HINT);
    vstring_space(buf, VSTREAM_BUFSIZE_HINT);
    vstream_set_timeout(sess->stream, smtp_conf.data_xfer_timeout);
    while (left > 0) {
	size_t  want = left > VSTREAM_BUFSIZE_HINT ? VSTREAM_BUFSIZE_HINT : (size_t) left;
	const char *cp, *end, *nl;

	if ((n = vstream_read(fp, vstring_str(buf), want)) <= 0) {
	    vstring_sprintf(why_text, "error reading queue file %s: %s",
			    vstring_str(path), n == 0 || errno == 0 ?
			    "unexpected end of file" : strerror(errno));
	    vstream_close(fp);
	    vstring_free(path);
	    vstring_free(buf);
	    return (-1);
	}
	left -= n;
	for (cp = vstring_str(buf), end = cp + n; cp < end; /* void */ ) {
	    const char *run_end, *content_end;

	    if (bol && *cp == '.') {
		vstream_write(sess->stream, ".", 1);
		col = 1;			/* the limit is on the wire */
	    }
	    bol = 0;
	    nl = memchr(cp, '\n', end - cp);
	    run_end = nl ? nl + 1 : end;
	    content_end = nl ? (nl > cp && nl[-1] == '\r' ? nl - 1 : nl) : end;
	    /* Lines over the limit are broken with CRLF SPACE, as Postfix does. */
	    if (limit > 0 && col + (size_t) (content_end - cp) > limit) {
		size_t  take = limit - col;

		vstream_write(sess->stream, cp, take);
		vstream_write(sess->stream, "\r\n ", 3);
		cp += take;
		col = 1;
		continue;
	    }
	    vstream_write(sess->stream, cp, run_end - cp);
	    if (nl) {
		bol = 1;
		col = 0;
	    } else
		col += run_end - cp;
	    cp = run_end;
	}
	if (vstream_ferror(sess->stream))
	    break;
    }
    if (!bol)
	vstream_write(sess->stream, "\r\n", 2);
    smtp_chat_cmd(sess, ".");
    vstream_close(fp);
    vstring_free(path);
    vstring_free(buf);
    return (0);
}

/* lost - every pending recipient learns that the session was lost */
static int lost(SMTP_SESSION *sess, SMTP_STATE *st, const char *what, int *idx, size_t n)
{
    for (size_t k = 0; k < n; k++) {
	if (!st->pending[idx[k]])
	    continue;
	if (vstream_ftimeout(sess->stream))
	    smtp_rcpt_status(st, idx[k], sess->relay, "4.4.2",
			     "conversation with %s timed out while %s",
			     sess->namaddr, what);
	else
	    smtp_rcpt_status(st, idx[k], sess->relay, "4.4.2",
			     "lost connection with %s while %s", sess->namaddr, what);
    }
    return (-1);
}

static void said(SMTP_STATE *st, size_t i, SMTP_SESSION *sess, SMTP_REPLY *r,
		         const char *cmd)
{
    st->remote_mta = sess->host;
    st->diag = vstring_str(r->text);
    smtp_rcpt_status(st, i, sess->relay, r->dsn, "host %s said: %s (in reply to %s command)",
		     sess->namaddr, vstring_str(r->text), cmd);
    st->remote_mta = st->diag = 0;
}

/* accepted - a success reply for one recipient */
static void accepted_by(SMTP_STATE *st, size_t i, SMTP_SESSION *sess, SMTP_REPLY *r)
{
    st->remote_mta = sess->host;
    st->diag = vstring_str(r->text);
    if (sess->features & SMTP_FEATURE_DSN)
	st->result_flags = DSN_RESULT_FLAG_NEXT_HOP_DSN;
    smtp_rcpt_status(st, i, sess->relay, r->dsn, "%s", vstring_str(r->text));
    st->remote_mta = st->diag = 0;
    st->result_flags = 0;
}

int     smtp_session_xfer(SMTP_SESSION *sess, SMTP_STATE *st)
{
    DELIVER_REQUEST *req = st->req;
    int     verify = (req->flags & DEL_REQ_FLAG_VERIFY) != 0;
    int     pipelining = (sess->features & SMTP_FEATURE_PIPELINING) != 0;
    int    *idx = mymalloc(sizeof(int) * (req->rcpt_count + 1));
    char   *accepted = mycalloc(req->rcpt_count + 1, 1);
    size_t  n = 0, naccepted = 0, k;
    SMTP_REPLY *reply = smtp_reply_alloc();
    VSTRING *why_text = vstring_alloc(100);
    int     mail_ok = 0;
    int     ret = -1;
    int     in_data = 0;

    for (k = 0; k < req->rcpt_count; k++)
	if (st->pending[k])
	    idx[n++] = (int) k;

    /* A message the server announced it cannot take is bounced now. */
    if (!verify && sess->size_limit > 0 && req->data_size > sess->size_limit) {
	for (k = 0; k < n; k++)
	    smtp_rcpt_status(st, idx[k], sess->relay, "5.3.4",
			     "message size %ld exceeds size limit %ld of server %s",
			     (long) req->data_size, sess->size_limit, sess->namaddr);
	ret = 0;
	goto done;
    }

    /* MAIL FROM (and with PIPELINING everything up to DATA at once). */
    vstream_set_timeout(sess->stream, smtp_conf.mail_timeout);
    send_mail_from(sess, st);
    if (pipelining) {
	for (k = 0; k < n; k++)
	    send_rcpt_to(sess, req->rcpt + idx[k]);
	if (!verify)
	    smtp_chat_cmd(sess, "DATA");
    }
    if (smtp_chat_reply(sess, reply) < 0) {
	lost(sess, st, "sending MAIL FROM", idx, n);
	goto done;
    }
    if (reply->code / 100 == 2)
	mail_ok = 1;
    else
	for (k = 0; k < n; k++)
	    said(st, idx[k], sess, reply, "MAIL FROM");

    /* RCPT TO replies. */
    if (mail_ok || pipelining) {
	vstream_set_timeout(sess->stream, smtp_conf.rcpt_timeout);
	for (k = 0; k < n; k++) {
	    if (!pipelining)
		send_rcpt_to(sess, req->rcpt + idx[k]);
	    if (smtp_chat_reply(sess, reply) < 0) {
		lost(sess, st, "sending RCPT TO", idx, n);
		goto done;
	    }
	    if (!mail_ok)
		continue;
	    if (reply->code / 100 == 2) {
		accepted[k] = 1;
		naccepted++;
		if (verify)
		    accepted_by(st, idx[k], sess, reply);
	    } else if (reply->code == 452 && strcmp(reply->dsn, "4.5.3") == 0
		       && naccepted > 0) {
		/* Too many recipients: the rest go in the next transaction. */
		st->more_rcpts = 1;
		smtp_why_set(&st->why, sess->relay, reply->dsn,
			     "host %s said: %s (in reply to RCPT TO command)",
			     sess->namaddr, vstring_str(reply->text));
	    } else {
		said(st, idx[k], sess, reply, "RCPT TO");
	    }
	}
    }

    /* DATA. */
    if (!verify && (pipelining || (mail_ok && naccepted > 0))) {
	vstream_set_timeout(sess->stream, smtp_conf.data_init_timeout);
	if (!pipelining)
	    smtp_chat_cmd(sess, "DATA");
	if (smtp_chat_reply(sess, reply) < 0) {
	    lost(sess, st, "sending DATA command", idx, n);
	    goto done;
	}
	if (reply->code == 354) {
	    in_data = 1;
	    if (naccepted == 0 || !mail_ok) {
		/* A server that wants data after refusing everything. */
		smtp_chat_cmd(sess, ".");
		if (smtp_chat_reply(sess, reply) < 0)
		    goto done;
		in_data = 0;
	    } else if (send_message(sess, st, why_text) < 0) {
		msg_warn("%s: %s", req->queue_id, vstring_str(why_text));
		for (k = 0; k < n; k++)
		    if (accepted[k])
			smtp_rcpt_status(st, idx[k], sess->relay, "4.3.0", "%s",
					 vstring_str(why_text));
		goto done;			/* drop the connection: no "." */
	    }
	} else if (mail_ok) {
	    for (k = 0; k < n; k++)
		if (accepted[k])
		    said(st, idx[k], sess, reply, "DATA");
	}
    }

    /* End of data: one reply (SMTP), or one per accepted recipient (LMTP). */
    if (in_data) {
	vstream_set_timeout(sess->stream, smtp_conf.data_done_timeout);
	for (k = 0; k < n; k++) {
	    if (!accepted[k])
		continue;
	    if (smtp_chat_reply(sess, reply) < 0) {
		lost(sess, st, "sending end of data -- message may be sent more than once",
		     idx, n);
		goto done;
	    }
	    if (reply->code / 100 == 2)
		accepted_by(st, idx[k], sess, reply);
	    else
		said(st, idx[k], sess, reply, "end of DATA");
	    if (smtp_conf.proto == SMTP_PROTO_SMTP) {
		/* The one reply is every accepted recipient's. */
		for (size_t j = k + 1; j < n; j++) {
		    if (!accepted[j])
			continue;
		    if (reply->code / 100 == 2)
			accepted_by(st, idx[j], sess, reply);
		    else
			said(st, idx[j], sess, reply, "end of DATA");
		}
		break;
	    }
	}
	ret = 0;
	goto done;
    }

    /* No message went out: RSET, so the session can serve the next one. */
    vstream_set_timeout(sess->stream, smtp_param_time_soft(VAR_SMTP_RSET_TIMEOUT, 20));
    smtp_chat_cmd(sess, "RSET");
    if (smtp_chat_reply(sess, reply) == 0 && reply->code / 100 == 2)
	ret = 0;

done:
    myfree(idx);
    myfree(accepted);
    smtp_reply_free(reply);
    vstring_free(why_text);
    return (ret);
}
