/*
 * NAME
 *	qmgr - the queue manager
 * SYNOPSIS
 *	qmgr [generic daemon options]	(started by master, one process)
 * DESCRIPTION
 *	One event-driven process (trigger_server_main, events.h) that
 *	moves mail from incoming/ to active/, routes every recipient
 *	(resolve.h), hands recipients per destination to the delivery
 *	agents on private/<transport>, records their results, and
 *	retries deferred mail. See qmgr(8) and qmgr.h for the modules.
 *
 *	Triggers on public/qmgr (qmgr_trigger.h): I scans incoming/, D
 *	deferred/, A both, F revives dead destinations, W (master's
 *	wakeup) scans incoming/. deferred/ is also scanned every
 *	queue_run_delay. At start, messages left in active/ by an earlier
 *	qmgr are taken up again, then incoming/ and deferred/ are scanned.
 *
 *	Runs as mail_owner, in the queue directory; never blocks on the
 *	network, nor on a whole directory: each turn of the event loop
 *	looks at a bounded number of names.
 */
#include <stdio.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "util/events.h"
#include "global/qmgr_trigger.h"
#include "global/resolve.h"
#include "qmgr.h"

long    var_qmgr_active_limit;
long    var_qmgr_rcpt_limit;
long    var_qmgr_rcpt_minimum;
long    var_min_backoff;
long    var_max_backoff;
long    var_queue_run_delay;
long    var_max_queue_life;
long    var_bounce_queue_life;
long    var_transport_retry;
long    var_process_limit;
long    var_ipc_timeout;

#define QMGR_SCAN_BATCH	100		/* names per folder per loop turn */

static QMGR_SCAN *active_scan;		/* left over from before the start */
static QMGR_SCAN *incoming_scan;
static QMGR_SCAN *deferred_scan;
static int need_feed;
static int retry_soon;

void    qmgr_active_refill(void)
{
    need_feed = 1;
}

static void deferred_timer(int event, void *context)
{
    (void) event;
    (void) context;
    qmgr_scan_request(deferred_scan);
    need_feed = 1;
    event_request_timer(deferred_timer, 0, var_queue_run_delay * 1000L);
}

static void retry_timer(int event, void *context)
{
    (void) event;
    (void) context;
    retry_soon = 0;
}

static void qmgr_service(char *buf, ssize_t len, const char *service, char **argv)
{
    (void) service;
    (void) argv;
    for (ssize_t i = 0; i < len; i++) {
	switch (buf[i]) {
	case QMGR_REQ_SCAN_INCOMING:
	case QMGR_REQ_WAKEUP:
	    qmgr_scan_request(incoming_scan);
	    break;
	case QMGR_REQ_SCAN_DEFERRED:
	    qmgr_scan_request(deferred_scan);
	    break;
	case QMGR_REQ_SCAN_ALL:
	    qmgr_scan_request(incoming_scan);
	    qmgr_scan_request(deferred_scan);
	    break;
	case QMGR_REQ_FLUSH_DEAD:
	    qmgr_queue_flush_dead();
	    break;
	default:
	    break;
	}
    }
    need_feed = 1;
}

/* qmgr_loop - before each wait: take in mail, start deliveries */
static int qmgr_loop(const char *service, char **argv)
{
    time_t  now = time((time_t *) 0);
    int     more = 0;

    (void) service;
    (void) argv;

    /* Leftovers in active/ first, so nothing is read twice. */
    if (qmgr_scan_busy(active_scan)) {
	qmgr_active_feed(active_scan, QMGR_SCAN_BATCH, now, 0);
	more = qmgr_scan_busy(active_scan) && qmgr_active_room();
    } else if (need_feed || qmgr_scan_busy(incoming_scan) || qmgr_scan_busy(deferred_scan)) {
	need_feed = 0;
	if (qmgr_scan_busy(incoming_scan))
	    qmgr_active_feed(incoming_scan, QMGR_SCAN_BATCH, now, 0);
	if (qmgr_scan_busy(deferred_scan))
	    qmgr_active_feed(deferred_scan, QMGR_SCAN_BATCH, now, 1);
	more = (qmgr_scan_busy(incoming_scan) || qmgr_scan_busy(deferred_scan))
	    && qmgr_active_room();
    }
    if (!retry_soon && qmgr_schedule() > 0) {
	/* An agent socket was full: look again shortly. */
	retry_soon = 1;
	event_request_timer(retry_timer, 0, 200);
    }
    return (more ? 0 : -1);
}

/* qmgr_pre_init - as root, before chroot: open the routing tables */
static void qmgr_pre_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    resolve_init();
}

static void qmgr_post_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    var_qmgr_active_limit = mail_conf_int(VAR_QMGR_MESSAGE_ACTIVE_LIMIT);
    var_qmgr_rcpt_limit = mail_conf_int(VAR_QMGR_MESSAGE_RECIPIENT_LIMIT);
    var_qmgr_rcpt_minimum = mail_conf_int(VAR_QMGR_MESSAGE_RECIPIENT_MINIMUM);
    var_min_backoff = mail_conf_time(VAR_MINIMAL_BACKOFF_TIME);
    var_max_backoff = mail_conf_time(VAR_MAXIMAL_BACKOFF_TIME);
    var_queue_run_delay = mail_conf_time(VAR_QUEUE_RUN_DELAY);
    var_max_queue_life = mail_conf_time(VAR_MAXIMAL_QUEUE_LIFETIME);
    var_bounce_queue_life = mail_conf_time(VAR_BOUNCE_QUEUE_LIFETIME);
    var_transport_retry = mail_conf_time(VAR_TRANSPORT_RETRY_TIME);
    var_process_limit = mail_conf_int(VAR_DEFAULT_PROCESS_LIMIT);
    var_ipc_timeout = mail_conf_time(VAR_QMGR_IPC_TIMEOUT);
    /*
     * The bounce, flush and verify clients (ipc_call) wait ipc_timeout
     * for an answer; for qmgr that is qmgr_ipc_timeout, as in Postfix.
     */
    {
	char    text[32];

	snprintf(text, sizeof(text), "%lds", var_ipc_timeout);
	mail_conf_set(VAR_IPC_TIMEOUT, text);
    }
    if (var_max_backoff < var_min_backoff)
	var_max_backoff = var_min_backoff;
    if (var_bounce_queue_life > var_max_queue_life) {
	msg_warn("bounce_queue_lifetime is larger than maximal_queue_lifetime "
		 "- using %lds", var_max_queue_life);
	var_bounce_queue_life = var_max_queue_life;
    }
    resolve_init();

    active_scan = qmgr_scan_create(MAIL_QUEUE_ACTIVE);
    incoming_scan = qmgr_scan_create(MAIL_QUEUE_INCOMING);
    deferred_scan = qmgr_scan_create(MAIL_QUEUE_DEFERRED);
    qmgr_scan_request(active_scan);
    qmgr_scan_request(incoming_scan);
    qmgr_scan_request(deferred_scan);
    need_feed = 1;
    event_request_timer(deferred_timer, 0, var_queue_run_delay * 1000L);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = qmgr_pre_init,
	.post_init = qmgr_post_init,
	.loop = qmgr_loop,
	.unlimited = 1,
    };

    trigger_server_main(argc, argv, qmgr_service, &opts);
    return (0);
}
