/*
 * NAME
 *	qmgr_defer - recipients that qmgr settles without a delivery agent
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_defer_rcpt(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *prog,
 *			     const char *status, const char *reason);
 *	void qmgr_bounce_rcpt(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *prog,
 *			      const char *status, const char *reason);
 *	void qmgr_defer_entry(QMGR_ENTRY *entry, const char *prog,
 *			      const char *status, const char *reason);
 *	void qmgr_error_transport(QMGR_MESSAGE *m, RECIPIENT *rcpt,
 *				  const char *transport, const char *text);
 *	DELIVER_REQUEST *qmgr_request_shell(QMGR_MESSAGE *m,
 *				const char *transport, const char *nexthop);
 * DESCRIPTION
 *	qmgr_defer_rcpt() logs Postfix's "status=deferred" line for the
 *	recipient (relay=none), appends it to the message's defer/ log and
 *	marks the message as deferred. qmgr_bounce_rcpt() logs
 *	"status=bounced", appends to bounce/ and marks the recipient done
 *	in the queue file; with soft_bounce = yes it logs
 *	"status=SOFTBOUNCE" with a 4.X.Y status and defers the recipient
 *	instead, as Postfix does. Both then release the recipient
 *	(qmgr_message_rcpt_done), which may finish and free the message.
 *	prog names the program in the log line (NULL: qmgr itself).
 *
 *	qmgr_error_transport() is the built-in error and retry transports
 *	("error:5.1.2 text", "retry:4.3.5 text"): the text after an
 *	optional leading status code is the reason; error: fails the
 *	recipient (default 5.0.0), retry: defers it (default 4.0.0). The
 *	lines are logged as postfix/error: in Postfix both are the error(8)
 *	program (master.cf "retry ... error"), and the program name is what
 *	the log shows. Postfix also hands "deferred transport", "mail
 *	transport unavailable" and "delivery temporarily suspended" to that
 *	agent, so those lines say postfix/error too (checked against
 *	Debian's Postfix 3.7.11).
 *
 *	qmgr_request_shell() makes a delivery request without recipients
 *	for a message: what delivery requests and log lines are built on.
 *	A probe (A verify=1) gets DEL_REQ_FLAG_VERIFY, other mail
 *	DEL_REQ_FLAG_RECORD with address_verify_learn_deliveries.
 *
 *	qmgr_probe_done() finishes one recipient of a probe: its result
 *	goes to verify(8) and the recipient is marked done; probes get
 *	no defer or bounce log entries and never a DSN.
 *
 *	qmgr_trace_done() finishes one recipient of sendmail -bv (A
 *	user_verify=1; requests get DEL_REQ_FLAG_USER_VERIFY): whatever
 *	the result, it goes to the message's trace/ log as "deliverable"
 *	or "undeliverable", its reason after "delivery via RELAY: " when
 *	an agent reached a relay (Postfix's words), and the recipient is
 *	marked done; the report goes out when the message is finished
 *	(qmgr_active.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_queue.h"
#include "global/dsn_log.h"
#include "global/mail_conf.h"
#include "global/verify_clnt.h"
#include "qmgr.h"

/* qmgr_learn_deliveries - address_verify_learn_deliveries, read once */
static int qmgr_learn_deliveries(void)
{
    static int learn = -1;

    if (learn < 0)
	learn = mail_conf_bool(VAR_ADDRESS_VERIFY_LEARN_DELIVERIES);
    return (learn);
}

/*
 * qmgr_probe_done - a probe that qmgr settles itself (dead site, error
 * transport): its result goes to verify(8), as Postfix's qmgr does, and
 * the probe is finished: no defer or bounce log, never a DSN.
 */
void    qmgr_trace_done(QMGR_MESSAGE *m, RECIPIENT *rcpt, const DSN_RESULT *res)
{
    DSN_RESULT trace = *res;
    VSTRING *why = vstring_alloc(100);

    trace.action = res->action == 'd' ? 'v' : 'u';
    if (res->relay && *res->relay && strcmp(res->relay, "none") != 0) {
	vstring_sprintf(why, "delivery via %s: %s", res->relay, res->reason ? res->reason : "");
	trace.reason = vstring_str(why);
    }
    if (dsn_log_append(MAIL_QUEUE_TRACE, m->queue_id, rcpt, &trace) < 0)
	msg_warn("%s: cannot append to the trace log: %m; %s is left out of the report",
		 m->queue_id, rcpt->address);
    vstring_free(why);
    qmgr_message_mark_done(m, rcpt->offset);
    qmgr_message_rcpt_done(m);
}

void    qmgr_probe_done(QMGR_MESSAGE *m, RECIPIENT *rcpt, int addr_status,
			        const char *reason)
{
    (void) verify_clnt_update(rcpt->address, addr_status, reason);
    if (rcpt->orig_addr && *rcpt->orig_addr && strcasecmp(rcpt->orig_addr, rcpt->address) != 0)
	(void) verify_clnt_update(rcpt->orig_addr, addr_status, reason);
    qmgr_message_mark_done(m, rcpt->offset);
    qmgr_message_rcpt_done(m);
}

DELIVER_REQUEST *qmgr_request_shell(QMGR_MESSAGE *m, const char *transport,
				            const char *nexthop)
{
    DELIVER_REQUEST *req = mycalloc(1, sizeof(*req));

    req->queue_name = mystrdup(MAIL_QUEUE_ACTIVE);
    req->queue_id = mystrdup(m->queue_id);
    req->data_offset = m->data_offset;
    req->data_size = m->data_size;
    req->sender = mystrdup(m->sender);
    req->nexthop = mystrdup(nexthop ? nexthop : "");
    req->transport = mystrdup(transport ? transport : "");
    req->dsn_envid = mystrdup(m->dsn_envid);
    req->dsn_ret = m->dsn_ret;
    req->client_name = mystrdup(m->client_name);
    req->client_addr = mystrdup(m->client_addr);
    req->helo_name = mystrdup(m->helo_name);
    req->sasl_username = mystrdup(m->sasl_username);
    req->arrival_time = m->arrival_time;
    req->active_time = m->active_time;
    /* Probes stop after RCPT; other deliveries may teach verify(8). */
    if (m->verify)
	req->flags |= DEL_REQ_FLAG_VERIFY;
    else if (m->user_verify)
	req->flags |= DEL_REQ_FLAG_USER_VERIFY;
    else if (qmgr_learn_deliveries())
	req->flags |= DEL_REQ_FLAG_RECORD;
    return (req);
}

/* log_result - deliver_log() as another program name when asked */
static void log_result(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *prog,
		               const DSN_RESULT *res)
{
    DELIVER_REQUEST *req = qmgr_request_shell(m, 0, 0);
    char   *saved = 0;

    if (prog) {
	saved = mystrdup(msg_prog());
	msg_init(0, prog);
    }
    deliver_log(req, rcpt, res);
    if (saved) {
	msg_init(0, saved);
	myfree(saved);
    }
    deliver_request_free(req);
}

static void fill(DSN_RESULT *res, int action, const char *status, const char *reason)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->status, sizeof(res->status), "%s", status);
    res->action = action;
    res->reason = (char *) reason;
    res->relay = (char *) "none";
}

void    qmgr_defer_rcpt(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *prog,
			        const char *status, const char *reason)
{
    DSN_RESULT res;

    fill(&res, 'x', status, reason);
    log_result(m, rcpt, prog, &res);
    if (m->user_verify) {
	qmgr_trace_done(m, rcpt, &res);
	return;
    }
    if (m->verify) {
	qmgr_probe_done(m, rcpt, VERIFY_ADDR_DEFER, reason);
	return;
    }
    m->defer_logged = 1;
    if (dsn_log_append(MAIL_QUEUE_DEFER, m->queue_id, rcpt, &res) < 0)
	msg_warn("%s: cannot append to the defer log: %m", m->queue_id);
    m->deferred = 1;
    qmgr_message_defer_site(m, rcpt->address);
    qmgr_message_rcpt_done(m);
}

/* qmgr_soft_bounce - soft_bounce, read once */
static int qmgr_soft_bounce(void)
{
    static int soft = -1;

    if (soft < 0)
	soft = mail_conf_bool(VAR_SOFT_BOUNCE);
    return (soft);
}

void    qmgr_bounce_rcpt(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *prog,
			         const char *status, const char *reason)
{
    DSN_RESULT res;

    fill(&res, 'f', status, reason);
    log_result(m, rcpt, prog, &res);
    if (m->user_verify) {
	qmgr_trace_done(m, rcpt, &res);
	return;
    }
    if (m->verify) {
	qmgr_probe_done(m, rcpt, VERIFY_ADDR_BOUNCE, reason);
	return;
    }

    /* soft_bounce: logged as SOFTBOUNCE above; the recipient stays queued. */
    if (qmgr_soft_bounce()) {
	res.action = 'x';
	res.status[0] = '4';
	m->defer_logged = 1;
	if (dsn_log_append(MAIL_QUEUE_DEFER, m->queue_id, rcpt, &res) < 0)
	    msg_warn("%s: cannot append to the defer log: %m", m->queue_id);
	m->deferred = 1;
	qmgr_message_defer_site(m, rcpt->address);
	qmgr_message_rcpt_done(m);
	return;
    }

    /*
     * The bounce log entry comes first: a crash in between sends the
     * notice twice rather than never.
     */
    if (dsn_log_append(MAIL_QUEUE_BOUNCE, m->queue_id, rcpt, &res) < 0) {
	msg_warn("%s: cannot append to the bounce log: %m; recipient %s kept",
		 m->queue_id, rcpt->address);
	m->deferred = 1;
    } else {
	qmgr_message_mark_done(m, rcpt->offset);
    }
    qmgr_message_rcpt_done(m);
}

void    qmgr_defer_entry(QMGR_ENTRY *entry, const char *prog, const char *status,
			         const char *reason)
{
    QMGR_MESSAGE *m = entry->message;
    size_t  count = entry->count;
    RECIPIENT *rcpt = entry->rcpt;

    /* The last release may free the message: touch nothing after it. */
    entry->rcpt = 0;
    entry->count = 0;
    qmgr_entry_free(entry);
    for (size_t i = 0; i < count; i++)
	qmgr_defer_rcpt(m, rcpt + i, prog, status, reason);
    for (size_t i = 0; i < count; i++) {
	myfree(rcpt[i].address);
	myfree(rcpt[i].orig_addr);
	myfree(rcpt[i].dsn_orcpt);
    }
    myfree(rcpt);
}

/* status_prefix - length of a leading "X.Y.Z " code, 0 if none */
static size_t status_prefix(const char *text, VSTRING *code)
{
    const char *cp = text;
    int     dots = 0;

    if (*cp != '2' && *cp != '4' && *cp != '5')
	return (0);
    while (isdigit((unsigned char) *cp) || *cp == '.') {
	if (*cp == '.')
	    dots++;
	cp++;
    }
    if (dots != 2 || cp[-1] == '.' || (*cp != 0 && *cp != ' ' && *cp != '\t'))
	return (0);
    vstring_strncpy(code, text, cp - text);
    while (*cp == ' ' || *cp == '\t')
	cp++;
    return (cp - text);
}

void    qmgr_error_transport(QMGR_MESSAGE *m, RECIPIENT *rcpt, const char *transport,
			             const char *text)
{
    VSTRING *code = vstring_alloc(16);
    size_t  skip = status_prefix(text, code);
    int     retry = (strcmp(transport, "retry") == 0);
    const char *status;
    const char *reason = text + skip;

    if (skip == 0 || vstring_str(code)[0] != (retry ? '4' : '5'))
	status = retry ? "4.0.0" : "5.0.0";
    else
	status = vstring_str(code);
    if (*reason == 0)
	reason = retry ? "delivery temporarily suspended" : "mail delivery failed";
    if (retry)
	qmgr_defer_rcpt(m, rcpt, "error", status, reason);
    else
	qmgr_bounce_rcpt(m, rcpt, "error", status, reason);
    vstring_free(code);
}
