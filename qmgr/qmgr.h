/*
 * NAME
 *	qmgr - the queue manager's own data structures
 * SYNOPSIS
 *	#include "qmgr.h"
 * DESCRIPTION
 *	A QMGR_MESSAGE is a message file in active/ whose envelope qmgr
 *	has read (up to a batch of recipients at a time). Its recipients
 *	are resolved and put, per destination, in QMGR_ENTRY objects (the
 *	recipients of one message for one destination) on the to-do list
 *	of a QMGR_QUEUE (one transport + nexthop). A QMGR_TRANSPORT holds
 *	the queues of one master.cf service and its per-transport limits.
 *
 *	Modules (one job each):
 *	qmgr.c		main, triggers, the periodic timers
 *	qmgr_scan.c	incremental directory scans (never a whole folder
 *			at once)
 *	qmgr_active.c	incoming/ and deferred/ to active/, and the end of
 *			a message: removed, bounced, expired or deferred
 *	qmgr_message.c	reading an envelope and its recipients, in batches
 *	qmgr_queue.c	transports and destination queues, concurrency
 *			windows, slow start, dead destinations
 *	qmgr_deliver.c	delivery requests to private/<transport> over
 *			connections kept per destination (QMGR_AGENT),
 *			and the results recorded in the queue file
 *	qmgr_defer.c	recipients qmgr settles itself: deferred (dead
 *			destination, defer_transports, retry:) and failed
 *			(error:), logged as Postfix does
 */
#ifndef QMGR_H
#define QMGR_H
#include <sys/types.h>
#include <time.h>

#include "util/vstring.h"
#include "util/argv.h"
#include "util/htable.h"
#include "util/vstream.h"
#include "global/deliver_request.h"

#define QMGR_WARN_WIDTH	20		/* W record: "%020ld" */

typedef struct QMGR_MESSAGE QMGR_MESSAGE;
typedef struct QMGR_ENTRY QMGR_ENTRY;
typedef struct QMGR_QUEUE QMGR_QUEUE;
typedef struct QMGR_TRANSPORT QMGR_TRANSPORT;
typedef struct QMGR_AGENT QMGR_AGENT;

struct QMGR_MESSAGE {
    char   *queue_id;
    char   *path;			/* active/ID, as mail_queue_path() says */
    double  arrival_time;		/* T record */
    double  active_time;		/* when it entered active/ */
    char   *sender;
    char   *dsn_envid;
    int     dsn_ret;
    char   *client_name;
    char   *client_addr;
    char   *helo_name;
    char   *sasl_username;
    char   *filter;			/* F record: content filter, or NULL */
    char   *redirect;			/* > record: REDIRECT address, or NULL */
    int     redirected;			/* a recipient took the redirect */
    off_t   data_offset;		/* M record data */
    off_t   data_size;
    long    nrcpt;			/* R and D records in the file */
    off_t   rcpt_next;			/* next unread recipient record, 0 = none */
    int     refcount;			/* recipients in memory, not settled */
    int     in_memory;			/* recipients read this batch */
    int     deferred;			/* some recipient deferred */
    int     flush_mark;			/* flush asked for it: ignore defer_transports */
    int     verify;			/* address probe of verify(8): A verify=1 */
    int     user_verify;		/* sendmail -bv: A user_verify=1 */
    int     error;			/* could not update the file */
    int     defer_logged;		/* this run appended to defer/ */
    int     defer_log_gone;		/* no defer/ log when it was activated */
    long    warn_time;			/* W record: delay warning due, 0 = none */
    off_t   warn_offset;		/* W record data, 0 = no W record */
    ARGV   *defer_sites;		/* recipient domains deferred, for flush_add */
    VSTREAM *fp;			/* open between reading the envelope and the
					 * first batch of recipients */
    QMGR_MESSAGE *prev;
    QMGR_MESSAGE *next;
};

struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    RECIPIENT *rcpt;
    size_t  count;
    size_t  cap;
    int     site_retries;		/* sent back after an unreached site */
    QMGR_ENTRY *next;
};

struct QMGR_QUEUE {
    char   *nexthop;
    QMGR_TRANSPORT *transport;
    QMGR_ENTRY *todo;			/* FIFO */
    QMGR_ENTRY *todo_tail;
    int     busy;			/* deliveries in progress */
    int     idle;			/* idle agents whose last delivery was here */
    double  window;			/* concurrency window (a whole number) */
    double  success;			/* positive feedback towards window + 1 */
    double  failure;			/* negative feedback credit */
    double  failed_cohorts;		/* since the last success */
    int     reached;			/* a delivery got through since revived */
    int     ceiling;			/* sessions the site took when it refused one */
    time_t  ceiling_until;		/* ceiling in force until then */
    int     dead;
    char   *dead_status;
    char   *dead_reason;
    QMGR_QUEUE *next_ready;		/* on the transport's round robin */
    int     on_ready;
    int     paused;			/* waits out the destination rate delay */
};

/* Concurrency feedback: a constant, or a number over the window. */
typedef struct QMGR_FEEDBACK {
    double  value;
    int     per;			/* QMGR_FEEDBACK_CONST or _WINDOW */
} QMGR_FEEDBACK;

#define QMGR_FEEDBACK_CONST	0	/* "1", "1/2" */
#define QMGR_FEEDBACK_WINDOW	1	/* "1/concurrency" */

/*
 * A connection to a delivery agent. qmgr keeps it after a reply that
 * says the agent takes another request (deliver_request.h): the next
 * delivery to the same destination goes to the same agent, whose SMTP
 * session to that destination is still open.
 */
struct QMGR_AGENT {
    int     fd;
    QMGR_TRANSPORT *transport;
    QMGR_QUEUE *queue;			/* its last delivery's destination */
    int     requests;			/* requests sent on this connection */
    time_t  idle_since;
    QMGR_AGENT *prev;			/* the transport's idle agents, */
    QMGR_AGENT *next;			/* most recently idle first */
    void   *delivery;			/* the request under way, or NULL (idle) */
};

struct QMGR_TRANSPORT {
    char   *name;
    HTABLE *queues;			/* by nexthop */
    QMGR_QUEUE *ready;			/* queues with work, round robin */
    QMGR_QUEUE *ready_tail;
    int     busy;			/* deliveries in progress */
    int     idle;			/* idle agent connections */
    QMGR_AGENT *idle_head;
    QMGR_AGENT *idle_tail;
    int     process_limit;
    int     dest_limit;			/* 0 = no limit */
    int     initial;
    int     rcpt_limit;
    QMGR_FEEDBACK pos_feedback;
    QMGR_FEEDBACK neg_feedback;
    double  cohort_limit;
    int     dead;			/* no agent: mail transport unavailable */
    int     deferred;			/* in defer_transports */
    long    dest_rate_delay;		/* seconds between deliveries to a queue */
    long    rate_delay;			/* seconds between deliveries, transport */
    int     paused;			/* waits out the transport rate delay */
    QMGR_TRANSPORT *next;
};

/* qmgr.c: parameters, read once at start. */
extern long var_qmgr_active_limit;
extern long var_qmgr_rcpt_limit;
extern long var_qmgr_rcpt_minimum;
extern long var_min_backoff;
extern long var_max_backoff;
extern long var_queue_run_delay;
extern long var_max_queue_life;
extern long var_bounce_queue_life;
extern long var_transport_retry;
extern long var_process_limit;
extern long var_ipc_timeout;

/* qmgr_scan.c */
typedef struct QMGR_SCAN QMGR_SCAN;
extern QMGR_SCAN *qmgr_scan_create(const char *queue);
extern void qmgr_scan_request(QMGR_SCAN *);
extern int qmgr_scan_busy(QMGR_SCAN *);
extern const char *qmgr_scan_next(QMGR_SCAN *, VSTRING *path);

/* qmgr_active.c */
extern int qmgr_active_count;
extern int qmgr_active_room(void);
extern void qmgr_active_recover(void);
extern int qmgr_active_feed(QMGR_SCAN *, int max_files, time_t now, int from_deferred);
extern void qmgr_active_done(QMGR_MESSAGE *);
extern void qmgr_active_refill(void);

/* qmgr_message.c */
extern long qmgr_rcpt_in_memory;
extern QMGR_MESSAGE *qmgr_message_open(const char *queue_id, int flush_mark, const char **why);
extern int qmgr_message_read_rcpts(QMGR_MESSAGE *);
extern void qmgr_message_free(QMGR_MESSAGE *);
extern int qmgr_message_mark_done(QMGR_MESSAGE *, off_t rcpt_offset);
extern void qmgr_message_rcpt_done(QMGR_MESSAGE *);
extern void qmgr_message_rcpt_done_hold(QMGR_MESSAGE *);
extern void qmgr_message_defer_site(QMGR_MESSAGE *, const char *address);
extern int qmgr_message_warn_sent(QMGR_MESSAGE *);

/* qmgr_queue.c */
extern QMGR_TRANSPORT *qmgr_transport_find(const char *name);
extern QMGR_TRANSPORT *qmgr_transport_list(void);
extern QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *, const char *nexthop);
extern void qmgr_queue_add(QMGR_QUEUE *, QMGR_MESSAGE *, const RECIPIENT *);
extern void qmgr_queue_success(QMGR_QUEUE *);
extern void qmgr_queue_failure(QMGR_QUEUE *, const char *status, const char *reason,
			               int limited);
extern void qmgr_entry_requeue(QMGR_ENTRY *);
extern int qmgr_queue_limit(QMGR_QUEUE *);
extern void qmgr_queue_flush_dead(void);
extern void qmgr_transport_throttle(QMGR_TRANSPORT *, const char *reason);
extern void qmgr_queue_rate_delay(QMGR_QUEUE *);
extern int qmgr_schedule(void);
extern QMGR_ENTRY *qmgr_entry_take(QMGR_QUEUE *);
extern void qmgr_entry_free(QMGR_ENTRY *);
extern void qmgr_queue_ready(QMGR_QUEUE *);
extern int qmgr_idle(void);

/* qmgr_deliver.c */
#define QMGR_AGENT_IDLE_TIME	2	/* seconds an idle agent is kept */
#define QMGR_SITE_RETRY_MAX	3	/* times an entry is sent back */
extern QMGR_AGENT *qmgr_agent_find(QMGR_QUEUE *, int *);
extern void qmgr_agent_close(QMGR_AGENT *);
extern void qmgr_agent_idle_again(QMGR_AGENT *);
extern void qmgr_queue_trim_idle(QMGR_QUEUE *);
extern int qmgr_deliver(QMGR_ENTRY *, QMGR_AGENT *);
extern void qmgr_deliver_result(QMGR_MESSAGE *, RECIPIENT *, const DSN_RESULT *);

/* qmgr_defer.c */
extern void qmgr_defer_rcpt(QMGR_MESSAGE *, RECIPIENT *, const char *prog,
			            const char *status, const char *reason);
extern void qmgr_bounce_rcpt(QMGR_MESSAGE *, RECIPIENT *, const char *prog,
			             const char *status, const char *reason);
extern void qmgr_defer_entry(QMGR_ENTRY *, const char *prog, const char *status,
			             const char *reason);
extern void qmgr_error_transport(QMGR_MESSAGE *, RECIPIENT *, const char *transport,
				         const char *text);
extern void qmgr_probe_done(QMGR_MESSAGE *, RECIPIENT *, int, const char *);
extern void qmgr_trace_done(QMGR_MESSAGE *, RECIPIENT *, const DSN_RESULT *);
extern DELIVER_REQUEST *qmgr_request_shell(QMGR_MESSAGE *, const char *transport,
					           const char *nexthop);

#endif
