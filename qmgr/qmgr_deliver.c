/*
 * NAME
 *	qmgr_deliver - hand recipients to a delivery agent, record results
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	int qmgr_deliver(QMGR_ENTRY *entry);
 *	void qmgr_deliver_result(QMGR_MESSAGE *m, RECIPIENT *rcpt,
 *				 const DSN_RESULT *result);
 * DESCRIPTION
 *	qmgr_deliver() connects to private/<transport> (master starts an
 *	agent for each connection), sends one delivery request for the
 *	entry's recipients (deliver_request.h) and waits for the reply in
 *	the event loop, never blocking on it: the reply is collected as it
 *	comes and parsed once complete. It returns 0 when the request is
 *	under way, 1 when the agent's socket is full (try again later; the
 *	entry is untouched), and -1 when the transport has no agent (the
 *	transport is throttled and the entry deferred).
 *
 *	When the reply is in, each recipient's result is recorded:
 *	delivered ('d') recipients are marked done in the queue file
 *	(after a bounce/ entry with action=relayed, or delivered for a
 *	final delivery, when the recipient asked NOTIFY=SUCCESS and the
 *	next hop did not announce DSN: the success notice),
 *	failed ('f') ones are appended to bounce/ and then marked done,
 *	deferred ('x') ones are appended to defer/. A recipient without a
 *	result, or an agent that dies, means "deferred". The agent has
 *	already logged each result.
 *
 *	Concurrency feedback: a delivery in which every recipient was
 *	deferred, and not because of a RCPT TO or DATA reply or for a
 *	reason of that recipient alone (DSN_RESULT_FLAG_RECIPIENT: local's
 *	locked mailbox), is a failure at the site (connection or
 *	greeting); any other outcome is a
 *	success for the destination.
 * DIAGNOSTICS
 *	Warnings for agents that cannot be reached or that fail.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/events.h"
#include "util/attr.h"
#include "global/mail_queue.h"
#include "global/dsn_log.h"
#include "global/queue_file.h"
#include "qmgr.h"

#define REPLY_MAX	(64 << 20)	/* a reply this long is an error */

typedef struct DELIVERY {
    QMGR_ENTRY *entry;
    DELIVER_REQUEST *req;
    int     fd;
    VSTRING *reply;
    ATTR_FRAME frame;			/* where the reply's list ends */
    size_t  read_pos;			/* memory_read()'s place in reply */
    int     complete;
} DELIVERY;

/* memory_read - a VSTREAM read function over the collected reply */
static ssize_t memory_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    DELIVERY *d = ctx;
    size_t  left = vstring_len(d->reply) - d->read_pos;

    (void) fd;
    (void) timeout_ms;
    if (len > left)
	len = left;
    memcpy(buf, vstring_str(d->reply) + d->read_pos, len);
    d->read_pos += len;
    return ((ssize_t) len);
}

void    qmgr_deliver_result(QMGR_MESSAGE *m, RECIPIENT *rcpt, const DSN_RESULT *res)
{
    /* sendmail -bv: every answer goes in the report. */
    if (m->user_verify) {
	qmgr_trace_done(m, rcpt, res);
	return;
    }
    /* A probe is finished whatever the answer; the agent told verify(8). */
    if (m->verify) {
	qmgr_message_mark_done(m, rcpt->offset);
	qmgr_message_rcpt_done(m);
	return;
    }
    switch (res->action) {
    case 'd':
	/* NOTIFY=SUCCESS and the next hop does not do DSN: we tell. */
	if ((rcpt->dsn_notify & DSN_NOTIFY_SUCCESS)
	    && !(res->flags & DSN_RESULT_FLAG_NEXT_HOP_DSN)) {
	    DSN_RESULT ok = *res;

	    ok.action = (res->flags & DSN_RESULT_FLAG_FINAL) ? 'd' : 'r';
	    if (dsn_log_append(MAIL_QUEUE_BOUNCE, m->queue_id, rcpt, &ok) < 0)
		msg_warn("%s: cannot append to the bounce log: %m; no success notice for %s",
			 m->queue_id, rcpt->address);
	}
	qmgr_message_mark_done(m, rcpt->offset);
	break;
    case 'f':
	if (dsn_log_append(MAIL_QUEUE_BOUNCE, m->queue_id, rcpt, res) < 0) {
	    msg_warn("%s: cannot append to the bounce log: %m; recipient %s kept",
		     m->queue_id, rcpt->address);
	    m->deferred = 1;
	} else {
	    qmgr_message_mark_done(m, rcpt->offset);
	}
	break;
    default:
	if (dsn_log_append(MAIL_QUEUE_DEFER, m->queue_id, rcpt, res) < 0)
	    msg_warn("%s: cannot append to the defer log: %m", m->queue_id);
	m->deferred = 1;
	qmgr_message_defer_site(m, rcpt->address);
	break;
    }
    qmgr_message_rcpt_done(m);
}

/* site_failure - did the delivery fail before any recipient was tried? */
static int site_failure(DELIVER_REQUEST *req, int reply_ok)
{
    if (!reply_ok)
	return (1);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	RECIPIENT *r = req->rcpt + i;

	if (!r->have_result)
	    continue;
	if (r->result.action != 'x' || (r->result.flags & DSN_RESULT_FLAG_RECIPIENT))
	    return (0);
	if (r->result.reason && (strstr(r->result.reason, "in reply to RCPT TO")
				 || strstr(r->result.reason, "DATA command")))
	    return (0);
    }
    return (1);
}

static void delivery_done(DELIVERY *d, int reply_ok)
{
    QMGR_ENTRY *e = d->entry;
    QMGR_QUEUE *q = e->queue;
    QMGR_TRANSPORT *t = q->transport;
    QMGR_MESSAGE *m = e->message;
    DELIVER_REQUEST *req = d->req;
    const char *fail_status = "4.3.0";
    const char *fail_reason = "unknown mail transport error";

    event_disable_readwrite(d->fd);
    close(d->fd);
    q->busy--;
    t->busy--;

    /* Feedback first: it may declare the destination dead. */
    if (site_failure(req, reply_ok)) {
	for (size_t i = 0; i < req->rcpt_count; i++) {
	    if (req->rcpt[i].have_result) {
		fail_status = req->rcpt[i].result.status;
		fail_reason = req->rcpt[i].result.reason;
		break;
	    }
	}
	qmgr_queue_failure(q, fail_status, fail_reason);
    } else {
	qmgr_queue_success(q);
    }

    /*
     * Record the results. The last one may finish and free the message,
     * so the request (which owns copies of everything) is what we walk.
     */
    for (size_t i = 0; i < req->rcpt_count; i++) {
	RECIPIENT *r = req->rcpt + i;

	if (reply_ok && r->have_result) {
	    qmgr_deliver_result(m, r, &r->result);
	} else {
	    qmgr_defer_rcpt(m, r, 0, "4.3.0", "unknown mail transport error");
	}
    }
    deliver_request_free(req);
    myfree(e);
    vstring_free(d->reply);
    myfree(d);
    qmgr_queue_ready(q);
}

static void delivery_read(int event, void *context)
{
    DELIVERY *d = context;
    char    buf[8192];
    ssize_t n;

    (void) event;
    n = read(d->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	if (n < 0)
	    msg_warn("read reply from private/%s: %m", d->req->transport);
	else
	    msg_warn("private/%s: delivery agent ended without a reply for %s",
		     d->req->transport, d->req->queue_id);
	delivery_done(d, 0);
	return;
    }
    vstring_memcat(d->reply, buf, (size_t) n);
    d->complete = attr_frame_scan(&d->frame, buf, (size_t) n);
    if (!d->complete && vstring_len(d->reply) < REPLY_MAX)
	return;
    if (!d->complete) {
	msg_warn("private/%s: reply too long", d->req->transport);
	delivery_done(d, 0);
	return;
    }

    /* Parse the complete reply from memory. */
    VSTREAM *mem = vstream_fdopen(-1);
    int     ok;

    d->read_pos = 0;
    vstream_set_io(mem, memory_read, 0, d);
    ok = (deliver_reply_read(mem, d->req) == 0);
    vstream_release(mem);
    delivery_done(d, ok);
}

int     qmgr_deliver(QMGR_ENTRY *e)
{
    QMGR_QUEUE *q = e->queue;
    QMGR_TRANSPORT *t = q->transport;
    struct sockaddr_un sun;
    DELIVERY *d;
    VSTREAM *stream;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "private/%s", t->name)
	>= sizeof(sun.sun_path)) {
	msg_warn("transport name too long: %s", t->name);
	qmgr_transport_throttle(t, "mail transport unavailable");
	qmgr_defer_entry(e, "error", "4.3.0", "mail transport unavailable");
	return (-1);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	msg_warn("socket: %m");
	return (1);
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
	int     err = errno;

	close(fd);
	if (err == EAGAIN || err == EINTR)
	    return (1);
	errno = err;
	msg_warn("connect to transport private/%s: %m", t->name);
	qmgr_defer_entry(e, "error", "4.3.0", "mail transport unavailable");
	qmgr_transport_throttle(t, "mail transport unavailable");
	return (-1);
    }
    d = mycalloc(1, sizeof(*d));
    d->entry = e;
    d->fd = fd;
    d->reply = vstring_alloc(256);
    d->req = qmgr_request_shell(e->message, t->name, q->nexthop);

    /* The request owns the recipients from now on. */
    d->req->rcpt = e->rcpt;
    d->req->rcpt_count = e->count;
    e->rcpt = 0;
    e->count = 0;

    q->busy++;
    t->busy++;
    stream = vstream_fdopen(fd);
    vstream_set_timeout(stream, (int) (var_ipc_timeout > 0 ? var_ipc_timeout : 60));
    if (deliver_request_send(stream, d->req) < 0) {
	msg_warn("send request to private/%s: %m", t->name);
	vstream_release(stream);
	delivery_done(d, 0);
	return (0);
    }
    vstream_release(stream);
    event_enable_read(fd, delivery_read, d);
    return (0);
}
