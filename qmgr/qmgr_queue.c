/*
 * NAME
 *	qmgr_queue - transports, destination queues and concurrency
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	QMGR_TRANSPORT *qmgr_transport_find(const char *name);
 *	QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *t, const char *nexthop);
 *	void qmgr_queue_add(QMGR_QUEUE *q, QMGR_MESSAGE *m, const RECIPIENT *r);
 *	int qmgr_schedule(void);
 *	void qmgr_queue_success(QMGR_QUEUE *q);
 *	void qmgr_queue_failure(QMGR_QUEUE *q, const char *status,
 *				const char *reason, int limited);
 *	void qmgr_transport_throttle(QMGR_TRANSPORT *t, const char *reason);
 *	void qmgr_queue_flush_dead(void);
 * DESCRIPTION
 *	A transport is a master.cf service; its limits are read once from
 *	the per-transport parameters (<transport>_destination_concurrency_limit
 *	and friends, else the default_ ones; initial_destination_concurrency
 *	has no default_ form). A queue is one nexthop of a transport. Its
 *	to-do list holds entries: recipients of one message, at most
 *	<transport>_destination_recipient_limit of them (0 = no limit), so
 *	that one entry is one delivery request.
 *
 *	Concurrency as Postfix's qmgr does it: a destination starts with a
 *	window of initial_destination_concurrency parallel deliveries
 *	(slow start), capped by the destination concurrency limit. A
 *	delivery that reaches the destination grows the window by
 *	positive_feedback/window (one more per window of successes); one
 *	that fails at the site (connection or greeting) shrinks it by
 *	negative_feedback/window and counts 1/window of a failed cohort.
 *	When failed cohorts reach the failed_cohort_limit the destination
 *	is dead: its waiting recipients and any new ones are deferred at
 *	once with "delivery temporarily suspended: <reason>", until
 *	minimal_backoff_time passes or a flush (QMGR_REQ_FLUSH_DEAD)
 *	revives it with a fresh window.
 *
 *	Rate delays: with <transport>_destination_rate_delay a queue waits
 *	that long after the end of each delivery before its next one; with
 *	<transport>_transport_rate_delay the transport starts a delivery at
 *	most once per that time, whatever the destination; either makes the
 *	destination concurrency one, as in Postfix.
 *
 *	A transport without an agent (connect to private/<transport>
 *	fails) is throttled for transport_retry_time; its mail is deferred
 *	with "mail transport unavailable".
 *
 *	qmgr_schedule() starts deliveries: queues with work take turns
 *	(round robin per transport) while their window and the
 *	transport's process limit allow. It returns 1 when an agent's
 *	socket was full (the caller tries again a little later).
 * BUGS
 *	XXX: queues and transports are never freed; there is one per
 *	destination seen since the start (bounded by the routes in use).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "util/events.h"
#include "qmgr.h"

static HTABLE *transport_table;
static QMGR_TRANSPORT *transport_list;

/* transport_initial - <t>_initial_destination_concurrency, else the global */
static long transport_initial(const char *name)
{
    VSTRING *pname = vstring_alloc(64);
    const char *raw;
    long    value;

    vstring_sprintf(pname, "%s_initial_destination_concurrency", name);
    if ((raw = mail_conf_raw(vstring_str(pname))) != 0) {
	char   *text = mail_conf_expand(raw);

	value = atol(text);
	myfree(text);
    } else {
	value = mail_conf_int(VAR_INITIAL_DESTINATION_CONCURRENCY);
    }
    vstring_free(pname);
    return (value > 0 ? value : 1);
}

/*
 * feedback_parse - <t>_destination_concurrency_{positive,negative}_feedback
 * as Postfix reads it: "number", "number/number" or "number/concurrency",
 * the value in 0..1.
 */
static void feedback_parse(QMGR_FEEDBACK *fb, const char *transport, const char *param)
{
    const char *text = mail_conf_transport_str(transport, param);
    char   *copy = mystrdup(text);
    char   *num = copy;
    char   *den = strchr(copy, '/');
    char   *end;
    double  value;

    if (den)
	*den++ = 0;
    num = trimblanks(num);
    value = strtod(num, &end);
    fb->per = QMGR_FEEDBACK_CONST;
    if (*num == 0 || *end != 0 || !(value >= 0 && value <= 1))
	msg_fatal("%s_%s: bad feedback value: %s", transport,
		  param + sizeof("default_") - 1, text);
    if (den) {
	double  d;

	den = trimblanks(den);
	if (strcmp(den, "concurrency") == 0) {
	    fb->per = QMGR_FEEDBACK_WINDOW;
	} else if ((d = strtod(den, &end)) > 0 && *den && *end == 0 && value / d <= 1) {
	    value /= d;
	} else {
	    msg_fatal("%s_%s: bad feedback value: %s", transport,
		      param + sizeof("default_") - 1, text);
	}
    }
    fb->value = value;
    myfree(copy);
}

/* feedback_value - the feedback for a window of this size */
static double feedback_value(const QMGR_FEEDBACK *fb, double window)
{
    if (window < 1)
	window = 1;
    switch (fb->per) {
    case QMGR_FEEDBACK_WINDOW:
	return (fb->value / window);
    default:
	return (fb->value);
    }
}

QMGR_TRANSPORT *qmgr_transport_list(void)
{
    return (transport_list);
}

QMGR_TRANSPORT *qmgr_transport_find(const char *name)
{
    QMGR_TRANSPORT *t;

    if (transport_table == 0)
	transport_table = htable_create(16);
    if ((t = htable_find(transport_table, name)) != 0)
	return (t);
    t = mycalloc(1, sizeof(*t));
    t->name = mystrdup(name);
    t->queues = htable_create(64);
    t->process_limit = (int) var_process_limit;
    if (t->process_limit <= 0)
	t->process_limit = 100;
    t->dest_limit = (int) mail_conf_transport_int(name, VAR_DEFAULT_DESTINATION_CONCURRENCY_LIMIT);
    t->initial = (int) transport_initial(name);
    t->rcpt_limit = (int) mail_conf_transport_int(name, VAR_DEFAULT_DESTINATION_RECIPIENT_LIMIT);
    feedback_parse(&t->pos_feedback, name,
		   VAR_DEFAULT_DESTINATION_CONCURRENCY_POSITIVE_FEEDBACK);
    feedback_parse(&t->neg_feedback, name,
		   VAR_DEFAULT_DESTINATION_CONCURRENCY_NEGATIVE_FEEDBACK);
    t->cohort_limit = (double) mail_conf_transport_int(name,
				VAR_DEFAULT_DESTINATION_CONCURRENCY_FAILED_COHORT_LIMIT);
    if (t->dest_limit > 0 && t->initial > t->dest_limit)
	t->initial = t->dest_limit;
    t->dest_rate_delay = mail_conf_transport_time(name, VAR_DEFAULT_DESTINATION_RATE_DELAY);
    t->rate_delay = mail_conf_transport_time(name, VAR_DEFAULT_TRANSPORT_RATE_DELAY);
    htable_enter(transport_table, name, t);
    t->next = transport_list;
    transport_list = t;
    return (t);
}

QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *t, const char *nexthop)
{
    QMGR_QUEUE *q;

    if ((q = htable_find(t->queues, nexthop)) != 0)
	return (q);
    q = mycalloc(1, sizeof(*q));
    q->nexthop = mystrdup(nexthop);
    q->transport = t;
    q->window = t->initial;
    htable_enter(t->queues, nexthop, q);
    return (q);
}

void    qmgr_queue_ready(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;

    if (q->on_ready || q->todo == 0 || q->paused)
	return;
    q->on_ready = 1;
    q->next_ready = 0;
    if (t->ready_tail)
	t->ready_tail->next_ready = q;
    else
	t->ready = q;
    t->ready_tail = q;
}

static QMGR_QUEUE *ready_pop(QMGR_TRANSPORT *t)
{
    QMGR_QUEUE *q = t->ready;

    if (q) {
	t->ready = q->next_ready;
	if (t->ready == 0)
	    t->ready_tail = 0;
	q->next_ready = 0;
	q->on_ready = 0;
    }
    return (q);
}

void    qmgr_entry_free(QMGR_ENTRY *e)
{
    for (size_t i = 0; i < e->count; i++) {
	myfree(e->rcpt[i].address);
	myfree(e->rcpt[i].orig_addr);
	myfree(e->rcpt[i].dsn_orcpt);
    }
    myfree(e->rcpt);
    myfree(e);
}

QMGR_ENTRY *qmgr_entry_take(QMGR_QUEUE *q)
{
    QMGR_ENTRY *e = q->todo;

    if (e) {
	q->todo = e->next;
	if (q->todo == 0)
	    q->todo_tail = 0;
	e->next = 0;
    }
    return (e);
}

static void entry_push_front(QMGR_QUEUE *q, QMGR_ENTRY *e)
{
    e->next = q->todo;
    q->todo = e;
    if (q->todo_tail == 0)
	q->todo_tail = e;
}

/* qmgr_entry_requeue - an entry that was not tried goes out first next */
void    qmgr_entry_requeue(QMGR_ENTRY *e)
{
    entry_push_front(e->queue, e);
    qmgr_queue_ready(e->queue);
}

/* qmgr_queue_limit - how many deliveries the queue may have at once */
int     qmgr_queue_limit(QMGR_QUEUE *q)
{
    int     limit = (int) q->window;

    /* A rate delay makes the limit one (Postfix). */
    if (q->transport->dest_rate_delay > 0 || q->transport->rate_delay > 0)
	return (1);

    if (q->transport->dest_limit > 0 && limit > q->transport->dest_limit)
	limit = q->transport->dest_limit;
    return (limit < 1 ? 1 : limit);
}

/* suspended_reason - why a dead queue or transport takes no mail */
static const char *queue_blocked(QMGR_QUEUE *q, const char **status)
{
    if (q->transport->dead) {
	*status = "4.3.0";
	return ("mail transport unavailable");
    }
    if (q->dead) {
	*status = q->dead_status;
	return (q->dead_reason);
    }
    return (0);
}

void    qmgr_queue_add(QMGR_QUEUE *q, QMGR_MESSAGE *m, const RECIPIENT *r)
{
    QMGR_ENTRY *e = q->todo_tail;
    const char *status;
    const char *why;

    if ((why = queue_blocked(q, &status)) != 0) {
	RECIPIENT copy = *r;

	qmgr_defer_rcpt(m, &copy, "error", status, why);
	return;
    }
    if (e == 0 || e->message != m
	|| (q->transport->rcpt_limit > 0 && e->count >= (size_t) q->transport->rcpt_limit)) {
	e = mycalloc(1, sizeof(*e));
	e->message = m;
	e->queue = q;
	if (q->todo_tail)
	    q->todo_tail->next = e;
	else
	    q->todo = e;
	q->todo_tail = e;
    }
    if (e->count >= e->cap) {
	e->cap = e->cap ? 2 * e->cap : 4;
	e->rcpt = myrealloc(e->rcpt, e->cap * sizeof(*e->rcpt));
    }
    RECIPIENT *to = e->rcpt + e->count++;

    memset(to, 0, sizeof(*to));
    to->offset = r->offset;
    to->address = mystrdup(r->address);
    to->orig_addr = mystrdup(r->orig_addr ? r->orig_addr : "");
    to->dsn_notify = r->dsn_notify;
    to->dsn_orcpt = mystrdup(r->dsn_orcpt ? r->dsn_orcpt : "");
    qmgr_queue_ready(q);
}

/* queue_defer_all - settle a blocked queue's waiting recipients */
static void queue_defer_all(QMGR_QUEUE *q, const char *status, const char *reason)
{
    QMGR_ENTRY *e;
    char   *st = mystrdup(status);
    char   *why = mystrdup(reason);

    while ((e = qmgr_entry_take(q)) != 0)
	qmgr_defer_entry(e, "error", st, why);
    myfree(st);
    myfree(why);
}

static void queue_unthrottle(int event, void *context)
{
    QMGR_QUEUE *q = context;

    (void) event;
    if (!q->dead)
	return;
    q->dead = 0;
    q->window = q->transport->initial;
    q->success = q->failure = 0;
    q->failed_cohorts = 0;
    q->reached = 0;
    qmgr_queue_ready(q);
}

/*
 * qmgr_queue_success - a delivery reached the destination. Positive
 * feedback adds up until it makes one more parallel delivery (Postfix's
 * hysteresis of 1); it applies only while the window is in use (below
 * the deliveries in progress plus the initial concurrency), so that a
 * window never grows far past what the destination has shown it takes.
 * The caller has not yet counted the delivery as finished.
 */
void    qmgr_queue_success(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;

    q->failed_cohorts = 0;
    q->reached = 1;
    if (q->window < 1)
	q->window = 1;
    if ((t->dest_limit > 0 && q->window >= t->dest_limit)
	|| q->window >= q->busy + t->initial)
	return;
    if (q->ceiling > 0 && q->window >= q->ceiling && time((time_t *) 0) < q->ceiling_until)
	return;
    q->success += feedback_value(&t->pos_feedback, q->window);
    while (q->success >= 1 - 1e-9) {
	q->window += 1;
	q->success -= 1;
	q->failure = 0;
    }
    if (t->dest_limit > 0 && q->window > t->dest_limit)
	q->window = t->dest_limit;
}

/*
 * qmgr_queue_failure - a delivery could not reach the destination
 * (connection or handshake). Negative feedback takes a delivery off the
 * window at the start of its cycle (Postfix's reversed hysteresis), and
 * each failure counts 1/window of a failed pseudo-cohort; at the
 * failed_cohort_limit the destination is dead.
 */
void    qmgr_queue_failure(QMGR_QUEUE *q, const char *status, const char *reason,
			           int limited)
{
    QMGR_TRANSPORT *t = q->transport;
    double  before = q->window < 1 ? 1 : q->window;
    int     others = q->busy - 1 + q->idle;

    if (q->dead)
	return;

    /*
     * Refused while other deliveries there are under way (the caller
     * has not yet counted this one as finished): the site limits the
     * sessions it takes. The window does not grow past what it took,
     * for minimal_backoff_time; then one more session is tried again.
     */
    if (q->busy > 1) {
	q->ceiling = q->busy - 1;
	q->ceiling_until = time((time_t *) 0) + var_min_backoff;
    }

    /*
     * A site that refuses one more session (the recipients go back to the
     * queue: DEL_REQ_FLAG_SITE_RETRY) while it holds others of ours, or
     * after it took mail since it was revived, is up and limits its
     * sessions: the window shrinks, but the refusal is not evidence that
     * the site is dead. (A session that finished just before the refusal
     * came back must not make it count: with the window already shrunk
     * to one, one count declares the site dead.) Each message is sent
     * back so at most QMGR_SITE_RETRY_MAX times; after that, and for a
     * site never reached, a refusal counts.
     */
    if (!(limited && (others > 0 || q->reached)))
	q->failed_cohorts += 1.0 / before;
    q->failure -= feedback_value(&t->neg_feedback, before);
    while (q->failure < -1e-9) {
	q->window -= 1;
	q->failure += 1;
	q->success = 0;
    }
    if (q->window < 1)
	q->window = 1;
    if (q->ceiling > 0 && q->window > q->ceiling && time((time_t *) 0) < q->ceiling_until)
	q->window = q->ceiling;
    if (t->cohort_limit > 0 && q->failed_cohorts >= t->cohort_limit - 1e-9) {
	VSTRING *why = vstring_alloc(100);

	q->dead = 1;
	myfree(q->dead_status);
	myfree(q->dead_reason);
	q->dead_status = mystrdup(status && *status == '4' ? status : "4.4.1");
	vstring_sprintf(why, "delivery temporarily suspended: %s", reason);
	q->dead_reason = vstring_export(why);
	event_request_timer(queue_unthrottle, q, var_min_backoff * 1000L);
	queue_defer_all(q, q->dead_status, q->dead_reason);
    }
}

static void queue_unpause(int event, void *context)
{
    QMGR_QUEUE *q = context;

    (void) event;
    q->paused = 0;
    qmgr_queue_ready(q);
}

static void transport_unpause(int event, void *context)
{
    QMGR_TRANSPORT *t = context;

    (void) event;
    t->paused = 0;
}

/*
 * qmgr_queue_rate_delay - a delivery to q ended: with
 * <transport>_destination_rate_delay the next one to the same
 * destination waits that long.
 */
void    qmgr_queue_rate_delay(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;

    if (t->dest_rate_delay > 0 && !q->paused) {
	q->paused = 1;
	event_request_timer(queue_unpause, q, t->dest_rate_delay * 1000L);
    }
}

/* transport_rate_delay - a delivery started: the transport's next waits */
static void transport_rate_delay(QMGR_TRANSPORT *t)
{
    if (t->rate_delay > 0 && !t->paused) {
	t->paused = 1;
	event_request_timer(transport_unpause, t, t->rate_delay * 1000L);
    }
}

static void transport_unthrottle(int event, void *context)
{
    QMGR_TRANSPORT *t = context;

    (void) event;
    t->dead = 0;
}

void    qmgr_transport_throttle(QMGR_TRANSPORT *t, const char *reason)
{
    HTABLE_INFO **list;

    if (!t->dead) {
	t->dead = 1;
	event_request_timer(transport_unthrottle, t, var_transport_retry * 1000L);
    }
    list = htable_list(t->queues);
    for (HTABLE_INFO **ht = list; *ht; ht++)
	queue_defer_all((QMGR_QUEUE *) (*ht)->value, "4.3.0", reason);
    myfree(list);
    while (ready_pop(t) != 0)
	 /* void */ ;
}

void    qmgr_queue_flush_dead(void)
{
    for (QMGR_TRANSPORT *t = transport_list; t; t = t->next) {
	HTABLE_INFO **list = htable_list(t->queues);

	if (t->dead) {
	    event_cancel_timer(transport_unthrottle, t);
	    t->dead = 0;
	}
	for (HTABLE_INFO **ht = list; *ht; ht++) {
	    QMGR_QUEUE *q = (*ht)->value;

	    if (q->dead) {
		event_cancel_timer(queue_unthrottle, q);
		queue_unthrottle(0, q);
	    }
	}
	myfree(list);
    }
}

int     qmgr_idle(void)
{
    for (QMGR_TRANSPORT *t = transport_list; t; t = t->next)
	if (t->busy > 0 || t->ready)
	    return (0);
    return (1);
}

int     qmgr_schedule(void)
{
    int     full = 0;

    for (QMGR_TRANSPORT *t = transport_list; t; t = t->next) {
	QMGR_QUEUE *q;

	/*
	 * Each turn either starts a delivery (bounded by the windows and
	 * the process limit) or takes a queue off the ready list, so the
	 * loop ends. A queue at its window is put back when one of its
	 * deliveries ends. A delivery goes to an idle agent that served
	 * the same destination when there is one (its session is still
	 * open), else to a new agent, else to an agent that served
	 * another destination (qmgr_agent_find).
	 */
	while (!t->dead && !t->paused && t->busy < t->process_limit
	       && (q = ready_pop(t)) != 0) {
	    QMGR_ENTRY *e;
	    QMGR_AGENT *agent;
	    int     room;

	    if (q->dead || q->busy >= qmgr_queue_limit(q))
		continue;
	    agent = qmgr_agent_find(q, &room);
	    if (agent == 0 && !room) {
		qmgr_queue_ready(q);
		break;
	    }
	    if ((e = qmgr_entry_take(q)) == 0) {
		if (agent)
		    qmgr_agent_idle_again(agent);
		continue;
	    }
	    if (qmgr_deliver(e, agent) > 0) {
		/* The agent cannot take it now; qmgr.c tries again soon. */
		entry_push_front(q, e);
		qmgr_queue_ready(q);
		full = 1;
		break;
	    }
	    qmgr_queue_ready(q);
	    transport_rate_delay(t);
	}
    }
    return (full);
}
