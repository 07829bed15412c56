/*
 * NAME
 *	qmgr_deliver - hand recipients to a delivery agent, record results
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	int qmgr_deliver(QMGR_ENTRY *entry);
 *	void qmgr_deliver_result(QMGR_MESSAGE *m, RECIPIENT *rcpt,
 *				 const DSN_RESULT *result);
 *	QMGR_AGENT *qmgr_agent_find(QMGR_QUEUE *queue, int *room);
 *	void qmgr_agent_idle_again(QMGR_AGENT *agent);
 *	void qmgr_agent_close(QMGR_AGENT *agent);
 *	void qmgr_queue_trim_idle(QMGR_QUEUE *queue);
 * DESCRIPTION
 *	qmgr_deliver() sends one delivery request for the entry's
 *	recipients (deliver_request.h) to an agent: over the idle
 *	connection given, or over a new connection to private/<transport>
 *	(master starts an agent for each connection). It waits for the
 *	reply in the event loop, never blocking on it: the reply is
 *	collected as it comes and parsed once complete. A connection is
 *	in the event loop from connect to close, with one handler: input
 *	is the reply of the request under way, or the end of an idle
 *	agent (no change of the epoll set per request). It returns 0 when
 *	the request is under way, 1 when the agent's socket is full (try
 *	again later; the entry is untouched), and -1 when the transport
 *	has no agent (the transport is throttled and the entry deferred).
 *
 *	An agent whose reply says it takes another request (smtp, lmtp)
 *	stays connected, idle, for QMGR_AGENT_IDLE_TIME seconds, marked
 *	with the destination it served: its SMTP session there stays open
 *	meanwhile. qmgr_agent_find() picks the agent for a delivery to a
 *	destination: an idle one that served it (most recent first), else
 *	an agent that served another destination and has been idle for a
 *	second, else none with *room set when the transport may have one
 *	more agent (deliveries plus idle agents below its process limit),
 *	else the idle agent that served another destination longest ago.
 *	(Reusing agents also keeps a master.cf maxproc below the process
 *	limit from making a new connection wait for an agent that qmgr
 *	holds idle.) So the
 *	sessions open to a destination are its deliveries in progress and
 *	its idle agents, and a new session is opened only when no idle
 *	one is there: the window bounds the sessions, not only the
 *	deliveries. qmgr_queue_trim_idle() closes a destination's idle
 *	agents beyond its window (after the window shrank).
 *	qmgr_agent_idle_again() puts back an agent that was found but not
 *	used. An idle agent that went away (max_idle, max_use, a restart)
 *	before its next request is noticed as a connection that ends
 *	without a byte of reply: the entry goes back to its queue and out
 *	over a new connection, without feedback.
 *
 *	Site failures: a reply with hop_status (deliver_request.h) counts
 *	a failure at the destination. When qmgr asked the agent to leave
 *	such recipients to it (DEL_REQ_FLAG_SITE_RETRY: asked when a
 *	delivery there got through since the destination was created or
 *	revived, at most QMGR_SITE_RETRY_MAX times per entry; the agent
 *	leaves them only when a server answered and refused the session,
 *	i.e. the site works but limits the sessions it takes), the
 *	entry goes back to the front of its queue instead of being
 *	deferred; if the feedback made the destination dead, it is
 *	deferred with "delivery temporarily suspended" as the others.
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
 *	Concurrency feedback: a reply with hop_status, or from an agent
 *	that does not send it a delivery in which every recipient was
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
    QMGR_AGENT *agent;
    DELIVER_REQUEST *req;
    int     fd;
    int     reused;			/* the connection served a request before */
    VSTRING *reply;
    ATTR_FRAME frame;			/* where the reply's list ends */
    size_t  read_pos;			/* memory_read()'s place in reply */
    int     complete;
} DELIVERY;

static int agent_timer_on;

/* idle_unlink - take an agent off its transport's idle list */
static void idle_unlink(QMGR_AGENT *a)
{
    QMGR_TRANSPORT *t = a->transport;

    if (a->prev)
	a->prev->next = a->next;
    else
	t->idle_head = a->next;
    if (a->next)
	a->next->prev = a->prev;
    else
	t->idle_tail = a->prev;
    a->prev = a->next = 0;
    t->idle--;
    if (a->queue)
	a->queue->idle--;
}

void    qmgr_agent_close(QMGR_AGENT *a)
{
    event_disable_readwrite(a->fd);
    close(a->fd);
    myfree(a);
}

/* agent_timer - close the agents that have been idle long enough */
static void agent_timer(int event, void *context)
{
    time_t  now = time((time_t *) 0);
    int     left = 0;

    (void) event;
    (void) context;
    agent_timer_on = 0;
    for (QMGR_TRANSPORT *t = qmgr_transport_list(); t; t = t->next) {
	QMGR_AGENT *a = t->idle_tail;

	while (a && now - a->idle_since >= QMGR_AGENT_IDLE_TIME) {
	    QMGR_AGENT *prev = a->prev;

	    idle_unlink(a);
	    qmgr_agent_close(a);
	    a = prev;
	}
	left += t->idle;
    }
    if (left) {
	event_request_timer(agent_timer, 0, 1000);
	agent_timer_on = 1;
    }
}

/* agent_gone - an idle agent closed its end (or said something unasked) */
static void agent_gone(int event, void *context)
{
    QMGR_AGENT *a = context;

    (void) event;
    idle_unlink(a);
    qmgr_agent_close(a);
}

/* agent_idle - an agent that takes another request waits for one */
static void agent_idle(QMGR_AGENT *a, QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = a->transport;

    a->queue = q;
    a->idle_since = time((time_t *) 0);
    a->prev = 0;
    a->next = t->idle_head;
    if (t->idle_head)
	t->idle_head->prev = a;
    else
	t->idle_tail = a;
    t->idle_head = a;
    t->idle++;
    q->idle++;
    if (!agent_timer_on) {
	event_request_timer(agent_timer, 0, 1000);
	agent_timer_on = 1;
    }
}

QMGR_AGENT *qmgr_agent_find(QMGR_QUEUE *q, int *room)
{
    QMGR_TRANSPORT *t = q->transport;
    QMGR_AGENT *a;

    *room = 0;
    if (q->idle > 0) {
	for (a = t->idle_head; a; a = a->next)
	    if (a->queue == q)
		break;
    } else if ((a = t->idle_tail) != 0 && time((time_t *) 0) - a->idle_since >= 1) {
	/* Its destination had no work for a while: this one does. */
    } else if (t->busy + t->idle < t->process_limit) {
	*room = 1;
	return (0);
    }
    if (a)
	idle_unlink(a);
    return (a);
}

void    qmgr_agent_idle_again(QMGR_AGENT *a)
{
    agent_idle(a, a->queue);
}

void    qmgr_queue_trim_idle(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;
    QMGR_AGENT *a = t->idle_tail;

    while (a && q->idle > 0 && q->busy + q->idle > qmgr_queue_limit(q)) {
	QMGR_AGENT *prev = a->prev;

	if (a->queue == q) {
	    idle_unlink(a);
	    qmgr_agent_close(a);
	}
	a = prev;
    }
}

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
	m->defer_logged = 1;
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
    if (!reply_ok || req->hop_status)
	return (1);
    if (req->more)
	return (0);			/* an agent that reports hop_status */
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

/* entry_back - the request's recipients, untried, go back to their queue */
static void entry_back(DELIVERY *d)
{
    QMGR_ENTRY *e = d->entry;

    e->rcpt = d->req->rcpt;
    e->count = e->cap = d->req->rcpt_count;
    d->req->rcpt = 0;
    d->req->rcpt_count = 0;
    qmgr_entry_requeue(e);
}

/* delivery_free - the delivery's memory; the entry is someone else's */
static void delivery_free(DELIVERY *d)
{
    deliver_request_free(d->req);
    vstring_free(d->reply);
    myfree(d);
}

/* untried - no recipient of the request has a result */
static int untried(const DELIVER_REQUEST *req)
{
    for (size_t i = 0; i < req->rcpt_count; i++)
	if (req->rcpt[i].have_result)
	    return (0);
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
    int     site_failed;

    d->agent->delivery = 0;

    /*
     * An idle agent that went away before it read this request: nothing
     * was tried, nothing is counted; the entry goes out again over a new
     * connection.
     */
    if (!reply_ok && d->reused && vstring_len(d->reply) == 0) {
	qmgr_agent_close(d->agent);
	q->busy--;
	t->busy--;
	entry_back(d);
	delivery_free(d);
	return;
    }

    /* Feedback first: it may declare the destination dead. */
    if ((site_failed = site_failure(req, reply_ok)) != 0) {
	if (req->hop_status) {
	    fail_status = req->hop_status;
	    fail_reason = req->hop_reason;
	}
	for (size_t i = 0; !req->hop_status && i < req->rcpt_count; i++) {
	    if (req->rcpt[i].have_result) {
		fail_status = req->rcpt[i].result.status;
		fail_reason = req->rcpt[i].result.reason;
		break;
	    }
	}
	qmgr_queue_failure(q, fail_status, fail_reason,
			   reply_ok && req->hop_status && (req->flags & DEL_REQ_FLAG_SITE_RETRY)
			   && untried(req));
    } else {
	qmgr_queue_success(q);
    }
    q->busy--;
    t->busy--;
    qmgr_queue_rate_delay(q);

    /* The connection: kept for the next delivery, or closed. */
    if (reply_ok && req->more && !q->dead && q->busy + q->idle < qmgr_queue_limit(q))
	agent_idle(d->agent, q);
    else
	qmgr_agent_close(d->agent);
    qmgr_queue_trim_idle(q);

    /*
     * Recipients that the agent left to us because the site could not
     * be reached: back to the front of the queue while the destination
     * lives, deferred with the others when it died.
     */
    if (reply_ok && site_failed && req->hop_status && (req->flags & DEL_REQ_FLAG_SITE_RETRY)
	&& untried(req)) {
	if (q->dead) {
	    e->rcpt = req->rcpt;
	    e->count = e->cap = req->rcpt_count;
	    req->rcpt = 0;
	    req->rcpt_count = 0;
	    qmgr_defer_entry(e, "error", q->dead_status, q->dead_reason);
	} else {
	    e->site_retries++;
	    entry_back(d);
	}
	delivery_free(d);
	return;
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
    delivery_free(d);
    myfree(e);
    qmgr_queue_ready(q);
}

static void delivery_read(DELIVERY *d)
{
    char    buf[8192];
    ssize_t n;

    n = read(d->fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	/* An idle agent may have gone away: delivery_done() retries quietly. */
	if (d->reused && vstring_len(d->reply) == 0)
	    ;
	else if (n < 0)
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

/*
 * agent_event - the agent's connection stays in the event loop from
 * connect to close (no epoll change per request): its input is the
 * reply to the request under way, or, when idle, its end.
 */
static void agent_event(int event, void *context)
{
    QMGR_AGENT *a = context;

    if (a->delivery)
	delivery_read(a->delivery);
    else
	agent_gone(event, a);
}

/* agent_connect - a new connection to private/<transport>; see qmgr_deliver */
static int agent_connect(QMGR_ENTRY *e, int *fdp)
{
    QMGR_TRANSPORT *t = e->queue->transport;
    struct sockaddr_un sun;
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
    *fdp = fd;
    return (0);
}

int     qmgr_deliver(QMGR_ENTRY *e, QMGR_AGENT *agent)
{
    QMGR_QUEUE *q = e->queue;
    QMGR_TRANSPORT *t = q->transport;
    DELIVERY *d;
    VSTREAM *stream;
    int     ret;
    int     fd;

    if (agent == 0) {
	if ((ret = agent_connect(e, &fd)) != 0)
	    return (ret);
	agent = mycalloc(1, sizeof(*agent));
	agent->fd = fd;
	agent->transport = t;
	event_enable_read(fd, agent_event, agent);
    }
    d = mycalloc(1, sizeof(*d));
    d->entry = e;
    d->agent = agent;
    d->fd = agent->fd;
    d->reused = agent->requests++ > 0;
    d->reply = vstring_alloc(256);
    d->req = qmgr_request_shell(e->message, t->name, q->nexthop);

    /*
     * A site that took a delivery since it was revived, or that holds
     * other sessions of ours right now, is up: when it answers a new
     * session with a refusal, that is a limit on its sessions, and the
     * agent leaves those recipients to us. Otherwise, and for
     * connections that fail, the agent defers as Postfix's does (the
     * site may be down).
     */
    if ((q->reached || q->busy + q->idle > 0) && e->site_retries < QMGR_SITE_RETRY_MAX)
	d->req->flags |= DEL_REQ_FLAG_SITE_RETRY;

    /* The request owns the recipients from now on. */
    d->req->rcpt = e->rcpt;
    d->req->rcpt_count = e->count;
    e->rcpt = 0;
    e->count = 0;

    q->busy++;
    t->busy++;
    stream = vstream_fdopen(d->fd);
    vstream_set_timeout(stream, (int) (var_ipc_timeout > 0 ? var_ipc_timeout : 60));
    if (deliver_request_send(stream, d->req) < 0) {
	if (!d->reused)
	    msg_warn("send request to private/%s: %m", t->name);
	vstream_release(stream);
	delivery_done(d, 0);
	return (0);
    }
    vstream_release(stream);
    agent->delivery = d;
    return (0);
}
