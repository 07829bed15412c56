/*
 * NAME
 *	qmgr_active - messages entering and leaving the active queue
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	int qmgr_active_room(void);
 *	int qmgr_active_feed(QMGR_SCAN *scan, int max_files, time_t now,
 *			     int from_deferred);
 *	void qmgr_active_done(QMGR_MESSAGE *message);
 * DESCRIPTION
 *	qmgr_active_feed() takes up to max_files names from a folder scan
 *	while there is room (qmgr_message_active_limit messages and
 *	qmgr_message_recipient_limit recipients in memory). A name is
 *	taken only when it is a regular file (never through a symlink),
 *	complete (owner-execute bit) when it comes from incoming/, and due
 *	(modification time not in the future) when it comes from
 *	deferred/. The file is renamed into active/, its envelope read
 *	(a file that does not parse goes to corrupt/ with Postfix's warning
 *	'saving corrupt file "QID" from queue "active" to queue "corrupt"'
 *	after one that says what is wrong), the
 *	old defer/ log removed (this attempt writes a new one), and
 *	Postfix's "QID: from=<sender>, size=N, nrcpt=N (queue active)"
 *	logged. Files in active/ itself (left by a crash or a restart)
 *	are taken up in place. A file with the force-expire mark of
 *	postsuper -e (QMGR_EXPIRE_MARK_MODE) is not delivered: its defer/
 *	log is kept, every recipient still to be delivered fails with its
 *	last delay reason (or "message is administratively expired"),
 *	"QID: from=<sender>, status=force-expired, returned to sender" is
 *	logged, and the message ends as below. It returns the number of
 *	names looked at.
 *
 *	qmgr_active_done() ends a message whose recipients are all
 *	settled:
 *	- some deferred and the message older than maximal_queue_lifetime
 *	  (bounce_queue_lifetime for the null sender): the deferred
 *	  recipients fail with their last reason ("QID: from=<sender>,
 *	  status=expired, returned to sender") and go to bounce/;
 *	- some deferred: the message moves to deferred/ with its next
 *	  attempt time as the file's modification time, after
 *	  clamp(time in queue, minimal_backoff_time, maximal_backoff_time);
 *	  each deferred recipient domain in fast_flush_domains is
 *	  registered with the flush service (flush_add);
 *	- otherwise, for sendmail -bv (A user_verify=1) the bounce service
 *	  sends the delivery status report of trace/QID (bounce_trace);
 *	  when bounce/QID exists the bounce service is asked for
 *	  a notice (bounce_flush) and the message is removed after it says
 *	  yes ("QID: removed"); if it cannot, the message waits in
 *	  deferred/ and is tried again.
 * DIAGNOSTICS
 *	Warnings for files that cannot be moved or read.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/htable.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_pool.h"
#include "global/info_log_addr.h"
#include "global/queue_file.h"
#include "global/dsn_log.h"
#include "global/qmgr_trigger.h"
#include "global/bounce_client.h"
#include "global/flush_client.h"
#include "global/resolve.h"
#include "qmgr.h"

int     qmgr_active_count;
static HTABLE *active_ids;

static double now_exact(void)
{
    struct timeval tv;

    gettimeofday(&tv, 0);
    return (tv.tv_sec + tv.tv_usec / 1e6);
}

int     qmgr_active_room(void)
{
    return (qmgr_active_count < var_qmgr_active_limit
	    && qmgr_rcpt_in_memory < var_qmgr_rcpt_limit);
}

static void active_expire(QMGR_MESSAGE *, int);

/*
 * active_start - read a message that is in active/ and start on it. A
 * force-expired one (postsuper -e) is returned to its sender at once,
 * with the reasons of its defer log, which is kept for that.
 */
static void active_start(const char *queue_id, int flush_mark, int expire_mark)
{
    QMGR_MESSAGE *m;
    const char *why;

    if ((m = qmgr_message_open(queue_id, flush_mark, &why)) == 0) {
	if (strcmp(why, "cannot open") == 0) {
	    msg_warn("%s: open active/%s: %m", queue_id, queue_id);
	    return;
	}
	msg_warn("%s: corrupt queue file: %s", queue_id, why);
	msg_warn("saving corrupt file \"%s\" from queue \"%s\" to queue \"%s\"",
		 queue_id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_CORRUPT);
	if (mail_queue_rename(queue_id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_CORRUPT) < 0)
	    msg_warn("%s: move to %s/: %m", queue_id, MAIL_QUEUE_CORRUPT);
	return;
    }
    m->active_time = now_exact();
    if (!expire_mark && dsn_log_remove(MAIL_QUEUE_DEFER, queue_id) < 0 && errno != ENOENT)
	msg_warn("%s: remove the defer log: %m", queue_id);
    else
	m->defer_log_gone = 1;
    {
	VSTRING *buf = vstring_alloc(100);

	msg_info("%s: from=<%s>, size=%lld, nrcpt=%ld (queue active)", queue_id,
		 info_log_addr(buf, m->sender), (long long) m->data_size, m->nrcpt);
	vstring_free(buf);
    }
    if (active_ids == 0)
	active_ids = htable_create(1024);
    htable_enter(active_ids, queue_id, m);
    qmgr_active_count++;

    /* This may settle every recipient and finish the message at once. */
    m->refcount++;
    if (expire_mark) {
	active_expire(m, 1);
	m->rcpt_next = 0;			/* nothing left to read */
    } else {
	qmgr_message_read_rcpts(m);
    }
    qmgr_message_rcpt_done_hold(m);
}

int     qmgr_active_feed(QMGR_SCAN *scan, int max_files, time_t now, int from_deferred)
{
    VSTRING *path = vstring_alloc(64);
    const char *queue_id;
    struct stat st;
    int     seen = 0;
    int     in_active;

    while (seen < max_files && qmgr_active_room()
	   && (queue_id = qmgr_scan_next(scan, path)) != 0) {
	char   *id = mystrdup(queue_id);

	seen++;
	in_active = strncmp(vstring_str(path), MAIL_QUEUE_ACTIVE "/",
			    sizeof(MAIL_QUEUE_ACTIVE)) == 0;
	if (active_ids && htable_find(active_ids, id) != 0) {
	    myfree(id);
	    continue;
	}
	if (lstat(vstring_str(path), &st) < 0) {
	    if (errno != ENOENT)
		msg_warn("lstat %s: %m", vstring_str(path));
	    myfree(id);
	    continue;
	}
	if (!S_ISREG(st.st_mode)) {
	    msg_warn("%s: not a regular file; skipped", vstring_str(path));
	    myfree(id);
	    continue;
	}
	if (!MAIL_QUEUE_MSG_COMPLETE(&st)) {
	    /* Being written, or left half-written by a crash. */
	    myfree(id);
	    continue;
	}
	if (from_deferred && st.st_mtime > now) {
	    myfree(id);
	    continue;
	}
	if (!in_active) {
	    const char *from = from_deferred ? MAIL_QUEUE_DEFERRED : MAIL_QUEUE_INCOMING;

	    if (mail_queue_rename(id, from, MAIL_QUEUE_ACTIVE) < 0) {
		if (errno != ENOENT)
		    msg_warn("%s: move %s to %s/: %m", id, vstring_str(path),
			     MAIL_QUEUE_ACTIVE);
		myfree(id);
		continue;
	    }
	}
	/* The flush service and postsuper -e mark files (qmgr_trigger.h). */
	active_start(id, (st.st_mode & QMGR_FLUSH_MARK_MODE) != 0,
		     (st.st_mode & QMGR_EXPIRE_MARK_MODE) != 0);
	myfree(id);
    }
    vstring_free(path);
    return (seen);
}

/*
 * active_expire - every recipient still to be delivered fails with the
 * reason it was deferred for in this attempt (forced: in the last one,
 * before postsuper -e; without one, "message is administratively
 * expired").
 */
static void active_expire(QMGR_MESSAGE *m, int forced)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *buf = vstring_alloc(100);
    VSTREAM *fp;
    DSN_LOG log;
    int     have_log;
    int     type;
    off_t   rec_start;
    RECIPIENT rcpt;

    msg_info("%s: from=<%s>, status=%s, returned to sender", m->queue_id,
	     info_log_addr(buf, m->sender), forced ? "force-expired" : "expired");
    have_log = (dsn_log_read(MAIL_QUEUE_DEFER, m->queue_id, &log) == 0);
    if ((fp = vstream_open(vstring_str(vstring_strcpy(path, m->path)), O_RDONLY, 0)) == 0) {
	msg_warn("%s: open %s: %m", m->queue_id, vstring_str(path));
	m->error = 1;
    } else {
	memset(&rcpt, 0, sizeof(rcpt));
	for (;;) {
	    rec_start = vstream_tell(fp);
	    type = rec_get(fp, buf, REC_MAX_LEN_ENVELOPE);
	    if (type < 0 || type == REC_TYPE_MESSAGE || type == REC_TYPE_END)
		break;
	    if (type == REC_TYPE_ORCP) {
		myfree(rcpt.orig_addr);
		rcpt.orig_addr = mystrdup(vstring_str(buf));
	    } else if (type == REC_TYPE_NOTIFY) {
		rcpt.dsn_notify = atoi(vstring_str(buf)) & 0xf;
	    } else if (type == REC_TYPE_DSN_ORCPT) {
		myfree(rcpt.dsn_orcpt);
		rcpt.dsn_orcpt = mystrdup(vstring_str(buf));
	    } else if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE) {
		if (type == REC_TYPE_RCPT) {
		    DSN_RESULT res;
		    const DSN_LOG_ENTRY *last = 0;

		    for (size_t i = 0; have_log && i < log.count; i++)
			if (log.entries[i].offset == (long) rec_start)
			    last = log.entries + i;
		    memset(&res, 0, sizeof(res));
		    snprintf(res.status, sizeof(res.status), "%s",
			     last && last->status ? last->status : "4.4.7");
		    res.action = 'f';
		    res.reason = last && last->reason ? last->reason :
			forced ? "message is administratively expired" : "message expired";
		    res.relay = "none";
		    res.remote_mta = last ? last->remote_mta : 0;
		    res.diag = last ? last->diag : 0;
		    rcpt.offset = rec_start;
		    rcpt.address = vstring_str(buf);
		    if (rcpt.orig_addr == 0)
			rcpt.orig_addr = mystrdup("");
		    if (rcpt.dsn_orcpt == 0)
			rcpt.dsn_orcpt = mystrdup("");
		    if (dsn_log_append(MAIL_QUEUE_BOUNCE, m->queue_id, &rcpt, &res) < 0) {
			msg_warn("%s: cannot append to the bounce log: %m", m->queue_id);
			m->error = 1;
		    } else {
			qmgr_message_mark_done(m, rec_start);
		    }
		    rcpt.address = 0;
		}
		myfree(rcpt.orig_addr);
		myfree(rcpt.dsn_orcpt);
		rcpt.orig_addr = rcpt.dsn_orcpt = 0;
		rcpt.dsn_notify = 0;
	    }
	}
	myfree(rcpt.orig_addr);
	myfree(rcpt.dsn_orcpt);
	vstream_close(fp);
    }
    if (have_log)
	dsn_log_free(&log);
    vstring_free(path);
    vstring_free(buf);
}

/* active_defer - to deferred/, next attempt after the back-off */
static void active_defer(QMGR_MESSAGE *m, long delay)
{
    VSTRING *path = vstring_alloc(64);
    struct timeval times[2];
    time_t  now = time((time_t *) 0);

    vstring_strcpy(path, m->path);
    times[0].tv_sec = times[1].tv_sec = now + delay;
    times[0].tv_usec = times[1].tv_usec = 0;
    if (utimes(vstring_str(path), times) < 0)
	msg_warn("%s: set the next attempt time: %m", m->queue_id);
    if (m->flush_mark) {
	struct stat st;

	/* Only the flush mark goes: a postsuper -e mark meanwhile stays. */
	if (stat(vstring_str(path), &st) < 0
	    || chmod(vstring_str(path), (st.st_mode & 07777) & ~QMGR_FLUSH_MARK_MODE) < 0)
	    msg_warn("%s: clear the flush mark: %m", m->queue_id);
    }
    if (mail_queue_rename(m->queue_id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED) < 0)
	msg_warn("%s: move to %s/: %m", m->queue_id, MAIL_QUEUE_DEFERRED);
    vstring_free(path);
}

/*
 * active_warn - a deferred message whose delay-warning time has passed
 * gets one warning (bounce_client.h); the null sender never gets one.
 */
static void active_warn(QMGR_MESSAGE *m, time_t now)
{
    VSTRING *path;

    if (m->warn_time <= 0 || m->warn_time > (long) now || *m->sender == 0
	|| m->verify || m->user_verify)
	return;
    path = vstring_alloc(64);
    mail_queue_path(path, MAIL_QUEUE_DEFER, m->queue_id);
    if (access(vstring_str(path), F_OK) == 0) {
	if (bounce_warn(MAIL_QUEUE_ACTIVE, m->queue_id) != 0)
	    msg_warn("%s: bounce service failure; the delay warning is sent later",
		     m->queue_id);
	else
	    (void) qmgr_message_warn_sent(m);
    }
    vstring_free(path);
}

/* active_has_success - does the bounce/ log hold a success entry? */
static int active_has_success(QMGR_MESSAGE *m)
{
    DSN_LOG log;
    int     found = 0;

    if (dsn_log_read(MAIL_QUEUE_BOUNCE, m->queue_id, &log) < 0)
	return (0);
    for (size_t i = 0; i < log.count && !found; i++)
	found = (log.entries[i].action
		 && (strcmp(log.entries[i].action, "relayed") == 0
		     || strcmp(log.entries[i].action, "delivered") == 0));
    dsn_log_free(&log);
    return (found);
}

/* active_flush_register - tell the flush service about deferred sites */
static void active_flush_register(QMGR_MESSAGE *m)
{
    if (*mail_conf_str(VAR_FAST_FLUSH_DOMAINS) == 0)
	return;
    for (size_t i = 0; i < m->defer_sites->argc; i++) {
	const char *site = m->defer_sites->argv[i];

	/* flush_add() logs its own warning when the service is down. */
	if (resolve_domain_match(VAR_FAST_FLUSH_DOMAINS, site) > 0)
	    (void) flush_add(site, m->queue_id);
    }
}

static void active_forget(QMGR_MESSAGE *m)
{
    if (active_ids)
	htable_delete(active_ids, m->queue_id, 0);
    qmgr_active_count--;
    qmgr_message_free(m);
    qmgr_active_refill();
}

void    qmgr_active_done(QMGR_MESSAGE *m)
{
    time_t  now = time((time_t *) 0);
    long    lifetime;
    long    delay;
    VSTRING *path;
    int     have_bounce_log;

    /* Some recipients wait: expire, or back off and try again later. */
    if (m->deferred && !m->error) {
	lifetime = *m->sender ? var_max_queue_life : var_bounce_queue_life;
	if ((long) m->arrival_time < now - lifetime) {
	    active_expire(m, 0);
	    m->deferred = 0;
	} else {
	    delay = (long) (now - (long) m->arrival_time);
	    if (delay > var_max_backoff)
		delay = var_max_backoff;
	    if (delay < var_min_backoff)
		delay = var_min_backoff;
	    active_warn(m, now);
	    active_flush_register(m);
	    active_defer(m, delay);
	    active_forget(m);
	    return;
	}
    }
    if (m->error) {
	/* The file could not be updated: keep it and try again later. */
	active_defer(m, var_min_backoff);
	active_forget(m);
	return;
    }

    /* Finished. sendmail -bv: the sender gets the delivery status report. */
    path = vstring_alloc(64);
    if (m->user_verify && access(mail_queue_path(path, MAIL_QUEUE_TRACE, m->queue_id), F_OK) == 0
	&& bounce_trace(MAIL_QUEUE_ACTIVE, m->queue_id) != 0) {
	msg_warn("%s: bounce service failure; the message stays queued", m->queue_id);
	vstring_free(path);
	active_defer(m, var_min_backoff);
	active_forget(m);
	return;
    }

    /* Success notices, then failed recipients get theirs. */
    mail_queue_path(path, MAIL_QUEUE_BOUNCE, m->queue_id);
    if ((have_bounce_log = (access(vstring_str(path), F_OK) == 0)) != 0
	&& active_has_success(m)
	&& bounce_success(MAIL_QUEUE_ACTIVE, m->queue_id) != 0) {
	msg_warn("%s: bounce service failure; the message stays queued", m->queue_id);
	vstring_free(path);
	active_defer(m, var_min_backoff);
	active_forget(m);
	return;
    }
    if (have_bounce_log && access(vstring_str(path), F_OK) == 0
	&& bounce_flush(MAIL_QUEUE_ACTIVE, m->queue_id) != 0) {
	msg_warn("%s: bounce service failure; the message stays queued", m->queue_id);
	vstring_free(path);
	active_defer(m, var_min_backoff);
	active_forget(m);
	return;
    }
    vstring_free(path);
    /* A log removed at activation comes back only when this run wrote it. */
    if ((m->defer_logged || !m->defer_log_gone)
	&& dsn_log_remove(MAIL_QUEUE_DEFER, m->queue_id) < 0 && errno != ENOENT)
	msg_warn("%s: remove the defer log: %m", m->queue_id);
    /* Its file is kept for a new message, or removed. */
    if (queue_pool_put(MAIL_QUEUE_ACTIVE, m->queue_id, m->data_offset + m->data_size) < 0) {
	msg_warn("%s: remove active/%s: %m", m->queue_id, m->queue_id);
    } else {
	msg_info("%s: removed", m->queue_id);
    }
    active_forget(m);
}
