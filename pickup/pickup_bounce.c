/*
 * NAME
 *	pickup_bounce - return a refused local message to its sender
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	int pickup_bounce(PICKUP_STATE *st);
 * DESCRIPTION
 *	sendmail has returned long before pickup sees a message, so a 5xx
 *	refusal (header_checks or body_checks REJECT, a milter, a mail
 *	loop) cannot be answered: the message goes back to its sender, as
 *	Postfix's cleanup bounces it.
 *
 *	pickup_bounce() finishes the queue file without its complete mark
 *	(queue_writer_seal(): qmgr never takes it), with "dsn_ret=HDRS"
 *	after the message when the content was refused (Postfix then
 *	returns the headers only; for a mail loop the whole message), logs
 *	each recipient as Postfix's cleanup does ("QID: to=<r>,
 *	relay=none, delay=0.02, delays=0.02/0/0/0, dsn=5.7.1,
 *	status=bounced (text)") into the bounce/ log, and asks the bounce
 *	service for the notice (bounce_flush(), which reads incoming/QID).
 *	Then the queue file is removed. Recipients with NOTIFY=NEVER (BCC)
 *	are logged but left out of the notice by the bounce service; mail
 *	from the null sender is a double bounce there.
 *
 *	It returns 0 (the maildrop file may go), or -1 when the notice
 *	could not be made: the queue file and the bounce/ log are removed
 *	and the maildrop file stays for a later wakeup.
 * SEE ALSO
 *	bounce(8), bounce_client(3), dsn_log(3)
 */
#include <sys/time.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/bounce_client.h"
#include "global/deliver_request.h"
#include "global/dsn_log.h"
#include "global/mail_queue.h"
#include "global/queue_envelope.h"
#include "pickup.h"

/* split_reason - "5.7.1 text" into a status and a text */
static const char *split_reason(const char *reason, char *status, size_t size)
{
    size_t  len = strcspn(reason, " ");

    if ((reason[0] == '5' || reason[0] == '4') && reason[1] == '.' && len < size) {
	memcpy(status, reason, len);
	status[len] = 0;
	reason += len;
	while (*reason == ' ')
	    reason++;
    } else {
	snprintf(status, size, "%s", "5.0.0");
    }
    return (reason);
}

int     pickup_bounce(PICKUP_STATE *st)
{
    QUEUE_WRITER *qw = st->qw;
    QUEUE_ENVELOPE *env = 0;
    VSTREAM *fp = 0;
    DELIVER_REQUEST req;
    DSN_RESULT res;
    RECIPIENT rcpt;
    struct timeval now;
    const struct timeval *arrival = queue_writer_time(qw);
    int     ret = 0;

    st->qw = 0;
    if (st->hdrs_only)
	(void) queue_writer_attr(qw, "dsn_ret", "HDRS");
    if (queue_writer_seal(qw) < 0 || (fp = queue_writer_reader(qw)) == 0
	|| (env = queue_envelope_read(fp, st->queue_id)) == 0) {
	msg_warn("%s: cannot return the message to its sender: %s; trying again later",
		 st->queue_id, queue_writer_errno(qw) ?
		 strerror(queue_writer_errno(qw)) : "bad queue file");
	ret = -1;
    }

    /* Each recipient fails here, as cleanup's bounce logs it. */
    if (ret == 0) {
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	gettimeofday(&now, (struct timezone *) 0);
	req.queue_id = st->queue_id;
	req.arrival_time = arrival->tv_sec + arrival->tv_usec / 1e6;
	req.active_time = now.tv_sec + now.tv_usec / 1e6;
	res.action = 'f';
	res.reason = (char *) split_reason(vstring_str(st->reason), res.status,
					   sizeof(res.status));
	res.relay = "none";
	for (size_t i = 0; ret == 0 && i < env->rcpt_count; i++) {
	    QUEUE_RCPT *r = env->rcpts + i;

	    if (r->done)
		continue;
	    memset(&rcpt, 0, sizeof(rcpt));
	    rcpt.offset = r->offset;
	    rcpt.address = r->address;
	    rcpt.orig_addr = r->orig_addr;
	    rcpt.dsn_notify = r->notify;
	    rcpt.dsn_orcpt = r->orcpt;
	    if (dsn_log_append(MAIL_QUEUE_BOUNCE, st->queue_id, &rcpt, &res) < 0) {
		msg_warn("%s: write the bounce log: %s; trying again later",
			 st->queue_id, strerror(errno));
		ret = -1;
	    } else {
		deliver_log(&req, &rcpt, &res);
	    }
	}
    }
    if (ret == 0 && bounce_flush(MAIL_QUEUE_INCOMING, st->queue_id) != 0) {
	msg_warn("%s: bounce service failure; trying again later", st->queue_id);
	ret = -1;
    }
    if (ret < 0)
	(void) dsn_log_remove(MAIL_QUEUE_BOUNCE, st->queue_id);
    if (env)
	queue_envelope_free(env);
    if (fp)
	(void) vstream_close(fp);
    queue_writer_abort(qw);
    return (ret);
}
