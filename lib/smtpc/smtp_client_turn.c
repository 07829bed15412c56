/*
 * NAME
 *	smtp_client_turn - the client engine on a connection the server
 *	side opened (ODMR, RFC 2645)
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	SMTP_SESSION *smtp_turn_session(VSTREAM *stream, const char *host,
 *					const char *addr, int port);
 *	int smtp_turn_handshake(SMTP_SESSION *sess, SMTP_WHY *why);
 *	int smtp_turn_deliver(SMTP_SESSION *sess, DELIVER_REQUEST *req);
 *	void smtp_turn_end(SMTP_SESSION *sess, int healthy);
 * DESCRIPTION
 *	After ATRN a customer site that connected to us becomes the SMTP
 *	server on the same connection, and we its client (odmr(8)). These
 *	functions run the engine's own greeting/EHLO handshake and mail
 *	transaction on that connection, so the site's mail gets the same
 *	per-recipient results, log lines, DSNs and queue updates as any
 *	delivery of the smtp agent.
 *
 *	smtp_turn_session() wraps the open stream (possibly already TLS,
 *	negotiated by the server side: the stream's I/O stays as it is);
 *	host, addr and port name the site in "relay=host[addr]:port".
 *
 *	smtp_turn_handshake() reads the site's greeting and sends EHLO
 *	(HELO when EHLO is refused) with smtp_helo_name; never STARTTLS
 *	nor AUTH (the site logged in to us). 0, or -1 with why.
 *
 *	smtp_turn_deliver() delivers one request of qmgr over the session:
 *	MAIL, RCPT, DATA as smtp_client_deliver() does (pipelining, DSN,
 *	452 4.5.3 in several transactions), and reports each recipient
 *	with deliver_result() and deliver_log(). There is no other server
 *	to try: a temporary error is final for this attempt (the message
 *	waits in the queue for the next ATRN). It returns 1 when the
 *	session can carry the next request, 0 when it is lost.
 *
 *	smtp_turn_end() sends QUIT when the session is healthy and frees
 *	it, leaving the stream (and its TLS) to its owner.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "smtpc/smtp_client.h"

SMTP_SESSION *smtp_turn_session(VSTREAM *stream, const char *host, const char *addr,
				        int port)
{
    SMTP_SESSION *sess = mycalloc(1, sizeof(*sess));
    VSTRING *buf = vstring_alloc(100);

    sess->stream = stream;
    sess->host = mystrdup(host);
    sess->addr = mystrdup(addr);
    sess->port = port;
    vstring_sprintf(buf, "%s[%s]", host, addr);
    sess->namaddr = mystrdup(vstring_str(buf));
    vstring_sprintf_append(buf, ":%d", port);
    sess->relay = vstring_export(buf);
    sess->start = time((time_t *) 0);
    return (sess);
}

int     smtp_turn_handshake(SMTP_SESSION *sess, SMTP_WHY *why)
{
    SMTP_STATE st;
    int     ret;

    /* No TLS level, no MX destination, no credentials: greeting and EHLO. */
    memset(&st, 0, sizeof(st));
    st.dest.host = sess->host;
    ret = smtp_session_handshake(sess, &st, why);
    smtp_tls_policy_free(&st.tls);
    return (ret);
}

int     smtp_turn_deliver(SMTP_SESSION *sess, DELIVER_REQUEST *req)
{
    SMTP_STATE st;
    size_t  before;
    int     healthy;

    memset(&st, 0, sizeof(st));
    st.req = req;
    st.start = smtp_now();
    st.pending = mymalloc(req->rcpt_count + 1);
    memset(st.pending, 1, req->rcpt_count + 1);
    st.npending = req->rcpt_count;
    st.final = 1;
    smtp_why_init(&st.why);
    st.conn_use = ++sess->use_count;
    st.xfer_start = smtp_now();
    st.conn_setup = st.xfer_start - st.start;

    /* Transactions until a 452 4.5.3 no longer holds recipients back. */
    do {
	before = st.npending;
	st.more_rcpts = 0;
	healthy = (smtp_session_xfer(sess, &st) == 0);
    } while (healthy && st.more_rcpts && st.npending > 0 && st.npending < before);

    /* What is left learns the last failure. */
    if (st.npending > 0 && !st.why.set)
	smtp_why_set(&st.why, sess->relay, "4.4.2", "lost connection with %s",
		     sess->namaddr);
    for (size_t i = 0; i < req->rcpt_count && st.npending > 0; i++)
	if (st.pending[i])
	    smtp_rcpt_status(&st, i, st.why.relay, st.why.dsn, "%s",
			     vstring_str(st.why.text));
    smtp_why_free(&st.why);
    myfree(st.pending);
    return (healthy);
}

void    smtp_turn_end(SMTP_SESSION *sess, int healthy)
{
    if (healthy)
	smtp_session_quit(sess);
    sess->stream = 0;
    sess->tls = 0;
    smtp_session_free(sess);
}
