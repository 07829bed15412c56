/*
 * NAME
 *	bounce - delivery status notifications
 * SYNOPSIS
 *	bounce [generic daemon options]	(master.cf: private/bounce, and the
 *					 defer and trace services)
 * DESCRIPTION
 *	Serves the requests of bounce_client.h (request=flush | warn |
 *	success | trace, queue_name=, queue_id=). It reads the message file
 *	(queue_envelope) and the status log the request is about, picks
 *	the recipients to report (newest entry per recipient; flush: those
 *	with action=failed in bounce/ID, unless their DSN NOTIFY excludes
 *	FAILURE; warn: the delayed ones in defer/ID whose NOTIFY is
 *	unspecified or asks for DELAY; success: the delivered or relayed
 *	ones in bounce/ID that asked NOTIFY=SUCCESS; trace: every one in
 *	trace/ID, the report of sendmail -bv), and writes one
 *	notification (bounce_notice) as a new queue file in incoming/ from
 *	the null sender to the message's sender, then wakes qmgr. It logs
 *	"QID: sender non-delivery notification: NEWQID" (delay:
 *	"sender delay notification", success: "sender delivery status
 *	notification", as trace) and replies status=0; after a flush the
 *	bounce/ log is removed, after a trace the trace/ log.
 *
 *	A message from the null sender (or from double_bounce_sender)
 *	never causes a notification to its sender. The failure of one
 *	from double_bounce_sender (a postmaster notice) is dropped with
 *	Postfix's warning "QID: undeliverable postmaster notification
 *	discarded". The failure of one from the null sender is a
 *	double bounce: when notify_classes contains "2bounce" it goes to
 *	2bounce_notice_recipient ("QID: postmaster non-delivery
 *	notification: NEWQID"), else it is dropped and logged. With
 *	"bounce" in notify_classes the postmaster (bounce_notice_recipient)
 *	gets a copy of every non-delivery notice with the headers only;
 *	with "delay", delay_notice_recipient gets a copy of delay notices.
 *	Postmaster copies are sent from double_bounce_sender, so they never
 *	bounce back.
 *
 *	The original message is returned in full unless the client asked
 *	RET=HDRS or it is larger than bounce_size_limit; delay and success
 *	notices and the trace report return only the headers.
 * DIAGNOSTICS
 *	status=1 when the message or its log cannot be read, or the
 *	notification cannot be written: qmgr keeps the message and asks
 *	again later.
 * SEE ALSO
 *	bounce_client(3), dsn_log(3), qmgr(8), RFC 3464
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/htable.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "util/argv.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/qmgr_trigger.h"
#include "global/queue_file.h"
#include "global/queue_envelope.h"
#include "global/dsn_log.h"
#include "global/bounce_client.h"
#include "bounce.h"

#define BOUNCE_STAT_OK		0
#define BOUNCE_STAT_FAIL	1

/* notify_class - is name in notify_classes? */
static int notify_class(const char *name)
{
    ARGV   *classes = argv_split(mail_conf_str(VAR_NOTIFY_CLASSES), ", \t\r\n");
    int     found = 0;

    for (size_t i = 0; i < classes->argc && !found; i++)
	found = strcasecmp(classes->argv[i], name) == 0;
    argv_free(classes);
    return (found);
}

/* full_address - "name" qualified with @myhostname when it has no domain */
static const char *full_address(VSTRING *buf, const char *name)
{
    if (strchr(name, '@'))
	return (vstring_str(vstring_strcpy(buf, name)));
    vstring_sprintf(buf, "%s@%s", name, mail_conf_str(VAR_MYHOSTNAME));
    return (vstring_str(buf));
}

/* wanted - does this log entry belong in a notice of this kind? */
static int wanted(int kind, DSN_LOG_ENTRY *e)
{
    const char *action = e->action ? e->action : "";

    switch (kind) {
    case BOUNCE_KIND_FAILED:
	return (strcmp(action, "failed") == 0
		&& (e->notify == 0 || (e->notify & DSN_NOTIFY_FAILURE)));
    case BOUNCE_KIND_DELAYED:
	return (strcmp(action, "delayed") == 0
		&& (e->notify == 0 || (e->notify & DSN_NOTIFY_DELAY)));
    case BOUNCE_KIND_TRACE:
	return (1);
    default:
	return ((strcmp(action, "delivered") == 0 || strcmp(action, "relayed") == 0
		 || strcmp(action, "expanded") == 0)
		&& (e->notify & DSN_NOTIFY_SUCCESS));
    }
}

/* select_rcpts - the newest entry per recipient that is wanted */
static DSN_LOG_ENTRY **select_rcpts(int kind, DSN_LOG *log, size_t *count)
{
    DSN_LOG_ENTRY **list = mymalloc((log->count + 1) * sizeof(*list));
    HTABLE *newest = htable_create(log->count + 1);

    /* Later entries replace earlier ones for the same recipient. */
    for (size_t i = 0; i < log->count; i++) {
	DSN_LOG_ENTRY *e = log->entries + i;
	HTABLE_INFO *ht;

	if (e->recipient == 0)
	    continue;
	if ((ht = htable_locate(newest, e->recipient)) != 0)
	    ht->value = e;
	else
	    htable_enter(newest, e->recipient, e);
    }
    *count = 0;
    for (size_t i = 0; i < log->count; i++) {
	DSN_LOG_ENTRY *e = log->entries + i;

	if (e->recipient && htable_find(newest, e->recipient) == e && wanted(kind, e))
	    list[(*count)++] = e;
    }
    htable_free(newest, (void (*) (void *)) 0);
    return (list);
}

static void wake_qmgr(void)
{
    char    req[1] = {QMGR_REQ_SCAN_INCOMING};

    if (qmgr_trigger(req, 1) < 0 && msg_verbose)
	msg_info("cannot wake qmgr: %s", strerror(errno));
}

/*
 * mark_notified - the success notice for these recipients went out: a
 * "notified" entry, newer than theirs, keeps a retry of the message
 * (the failure notice could not be sent, say) from sending it again.
 */
static void mark_notified(const char *id, DSN_LOG_ENTRY **rcpts, size_t count)
{
    for (size_t i = 0; i < count; i++) {
	RECIPIENT rcpt;
	DSN_RESULT res;

	memset(&rcpt, 0, sizeof(rcpt));
	memset(&res, 0, sizeof(res));
	rcpt.address = rcpts[i]->recipient;
	rcpt.orig_addr = rcpts[i]->orig_recipient;
	rcpt.offset = rcpts[i]->offset;
	rcpt.dsn_notify = rcpts[i]->notify;
	rcpt.dsn_orcpt = rcpts[i]->orcpt;
	snprintf(res.status, sizeof(res.status), "%s",
		 rcpts[i]->status ? rcpts[i]->status : "2.0.0");
	res.action = 'n';
	res.reason = rcpts[i]->reason;
	if (dsn_log_append(MAIL_QUEUE_BOUNCE, id, &rcpt, &res) < 0)
	    msg_warn("%s: cannot mark %s notified in the bounce log: %s",
		     id, rcpts[i]->recipient, strerror(errno));
    }
}

/* bounce_one - the notices for one request; BOUNCE_STAT_OK or _FAIL */
static int bounce_one(int kind, const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *new_id = vstring_alloc(32);
    VSTRING *addr = vstring_alloc(64);
    VSTRING *dbl = vstring_alloc(64);
    VSTREAM *msg;
    QUEUE_ENVELOPE *env;
    DSN_LOG log;
    DSN_LOG_ENTRY **rcpts = 0;
    size_t  count = 0;
    int     status = BOUNCE_STAT_OK;
    const char *log_queue = kind == BOUNCE_KIND_DELAYED ? MAIL_QUEUE_DEFER
	: kind == BOUNCE_KIND_TRACE ? MAIL_QUEUE_TRACE : MAIL_QUEUE_BOUNCE;
    const char *what = kind == BOUNCE_KIND_FAILED ? "non-delivery notification" :
	kind == BOUNCE_KIND_DELAYED ? "delay notification" : "delivery status notification";
    int     null_sender;
    int     hdrs_only;
    const char *ret;

    mail_queue_path(path, queue, id);
    if ((msg = vstream_open(vstring_str(path), O_RDONLY, 0)) == 0) {
	msg_warn("%s: open %s: %s", id, vstring_str(path), strerror(errno));
	status = BOUNCE_STAT_FAIL;
	goto out;
    }
    if ((env = queue_envelope_read(msg, id)) == 0) {
	msg_warn("%s: cannot read message file %s", id, vstring_str(path));
	vstream_close(msg);
	status = BOUNCE_STAT_FAIL;
	goto out;
    }
    if (dsn_log_read(log_queue, id, &log) < 0) {
	if (errno != ENOENT) {
	    msg_warn("%s: read %s log: %s", id, log_queue, strerror(errno));
	    status = BOUNCE_STAT_FAIL;
	}
	log.count = 0;
	log.entries = 0;
    }
    rcpts = select_rcpts(kind, &log, &count);
    full_address(dbl, mail_conf_str(VAR_DOUBLE_BOUNCE_SENDER));
    null_sender = *env->sender == 0 || strcasecmp(env->sender, vstring_str(dbl)) == 0
	|| strcasecmp(env->sender, mail_conf_str(VAR_DOUBLE_BOUNCE_SENDER)) == 0;
    ret = queue_envelope_attr(env, "dsn_ret");
    hdrs_only = kind != BOUNCE_KIND_FAILED || (ret && strcasecmp(ret, "HDRS") == 0)
	|| env->msg_size > mail_conf_int(VAR_BOUNCE_SIZE_LIMIT);

    if (status == BOUNCE_STAT_OK && count > 0) {
	if (!null_sender) {
	    if (bounce_notice(kind, env, msg, rcpts, count, env->sender, "",
			      hdrs_only, new_id) < 0) {
		status = BOUNCE_STAT_FAIL;
	    } else {
		msg_info("%s: sender %s: %s", id, what, vstring_str(new_id));
		if (kind == BOUNCE_KIND_SUCCESS)
		    mark_notified(id, rcpts, count);
	    }
	} else if (kind == BOUNCE_KIND_FAILED && *env->sender) {
	    /* From double_bounce_sender: a postmaster notice; Postfix's words. */
	    msg_warn("%s: undeliverable postmaster notification discarded", id);
	} else if (kind == BOUNCE_KIND_FAILED) {
	    /* A bounce that bounces: only the postmaster may hear of it. */
	    if (notify_class("2bounce")) {
		full_address(addr, mail_conf_str(VAR_2BOUNCE_NOTICE_RECIPIENT));
		if (bounce_notice(kind, env, msg, rcpts, count, vstring_str(addr),
				  vstring_str(dbl), 1, new_id) < 0)
		    status = BOUNCE_STAT_FAIL;
		else
		    msg_info("%s: postmaster %s: %s", id, what, vstring_str(new_id));
	    } else {
		msg_info("%s: sender is null: %s discarded (double bounce)", id, what);
	    }
	} else if (kind == BOUNCE_KIND_SUCCESS || kind == BOUNCE_KIND_TRACE) {
	    /* Postfix's words for a report that has nowhere to go. */
	    msg_info("%s: not sending trace/success notification for %s-bounce message",
		     id, *env->sender ? "double" : "single");
	}

	/* Copies for the postmaster, when notify_classes asks for them. */
	if (status == BOUNCE_STAT_OK && !null_sender
	    && ((kind == BOUNCE_KIND_FAILED && notify_class("bounce"))
		|| (kind == BOUNCE_KIND_DELAYED && notify_class("delay")))) {
	    full_address(addr, mail_conf_str(kind == BOUNCE_KIND_FAILED ?
			 VAR_BOUNCE_NOTICE_RECIPIENT : VAR_DELAY_NOTICE_RECIPIENT));
	    if (bounce_notice(kind, env, msg, rcpts, count, vstring_str(addr),
			      vstring_str(dbl), 1, new_id) == 0)
		msg_info("%s: postmaster %s: %s", id, what, vstring_str(new_id));
	}
	if (status == BOUNCE_STAT_OK)
	    wake_qmgr();
    }
    if (status == BOUNCE_STAT_OK && (kind == BOUNCE_KIND_FAILED || kind == BOUNCE_KIND_TRACE)
	&& dsn_log_remove(log_queue, id) < 0 && errno != ENOENT)
	msg_warn("%s: remove %s log: %s", id, log_queue, strerror(errno));
    myfree(rcpts);
    dsn_log_free(&log);
    queue_envelope_free(env);
    vstream_close(msg);
out:
    vstring_free(path);
    vstring_free(new_id);
    vstring_free(addr);
    vstring_free(dbl);
    return (status);
}

static void bounce_service(VSTREAM *client, const char *service, char **argv)
{
    BOUNCE_REQUEST req;
    VSTRING *why = vstring_alloc(100);
    int     kind = 0;
    int     status;
    int     got;

    (void) service;
    (void) argv;
    vstream_set_timeout(client, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    if ((got = bounce_request_read(client, &req, why)) == 0)
	goto out;
    if (got < 0) {
	msg_warn("malformed bounce service request: %s", vstring_str(why));
	status = BOUNCE_STAT_FAIL;
    } else {
	if (strcmp(req.request, BOUNCE_REQ_FLUSH) == 0)
	    kind = BOUNCE_KIND_FAILED;
	else if (strcmp(req.request, BOUNCE_REQ_WARN) == 0)
	    kind = BOUNCE_KIND_DELAYED;
	else if (strcmp(req.request, BOUNCE_REQ_SUCCESS) == 0)
	    kind = BOUNCE_KIND_SUCCESS;
	else if (strcmp(req.request, BOUNCE_REQ_TRACE) == 0)
	    kind = BOUNCE_KIND_TRACE;
	if (kind == 0 || !mail_queue_id_ok(req.queue_id)
	    || (strcmp(req.queue_name, MAIL_QUEUE_INCOMING) != 0
		&& strcmp(req.queue_name, MAIL_QUEUE_ACTIVE) != 0
		&& strcmp(req.queue_name, MAIL_QUEUE_DEFERRED) != 0
		&& strcmp(req.queue_name, MAIL_QUEUE_HOLD) != 0)) {
	    msg_warn("bad bounce service request: request=%s queue_name=%s queue_id=%s",
		     req.request, req.queue_name, req.queue_id);
	    status = BOUNCE_STAT_FAIL;
	} else {
	    status = bounce_one(kind, req.queue_name, req.queue_id);
	}
    }
    (void) attr_send_status(client, status);
out:
    bounce_request_free(&req);
    vstring_free(why);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {0};

    msg_init("postfix", "bounce");
    single_server_main(argc, argv, bounce_service, &opts);
}
