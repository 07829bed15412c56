/*
 * NAME
 *	odmr_queue - the mail that waits for a site's domains
 * SYNOPSIS
 *	#include "odmr.h"
 *
 *	ODMR_QUEUE *odmr_queue_find(ARGV *domains);
 *	size_t odmr_queue_count(ODMR_QUEUE *q);
 *	void odmr_queue_release(ODMR_QUEUE *q);
 *	void odmr_queue_seen(ODMR_QUEUE *q, const char *queue_id);
 *	size_t odmr_queue_in_flight(ODMR_QUEUE *q);
 *	void odmr_queue_free(ODMR_QUEUE *q);
 * DESCRIPTION
 *	odmr_queue_find() reads the envelopes in incoming/, active/ and
 *	deferred/ (not hold/: held mail stays held) and keeps the queue
 *	IDs of the complete messages that have a recipient not yet done
 *	whose domain is one of domains (lower case; exact match, as the
 *	ATRN domains name them). This costs one read of each queued
 *	envelope per accepted ATRN.
 *
 *	odmr_queue_release() asks the flush service to deliver those in
 *	deferred/ now, one by one (flush_send_file(), as postqueue -i
 *	does: it needs no fast_flush_domains entry). The flush service
 *	marks each message (qmgr_trigger.h), so that qmgr delivers it in
 *	spite of defer_transports, and wakes qmgr.
 *
 *	odmr_queue_seen() notes that a message came to the session: its
 *	attempt is under way.
 *
 *	odmr_queue_in_flight() follows them: a message that reaches
 *	deferred/ unmarked before it was released or seen (it was new,
 *	or in qmgr's hands) is released then; one that comes back to
 *	deferred/ after that, or left the queue, or is on hold, is
 *	finished: each message gets one attempt per session. It returns
 *	how many are still on their way (incoming/, active/, or released
 *	and marked), 0 when this session has nothing more to wait for.
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstream.h"
#include "global/mail_queue.h"
#include "global/queue_scan.h"
#include "global/queue_envelope.h"
#include "global/qmgr_trigger.h"
#include "global/flush_client.h"
#include "odmr.h"

struct ODMR_QUEUE {
    ARGV   *ids;
    char   *released;			/* per ID: we asked for it */
    char   *finished;			/* per ID: its attempt is over */
};

typedef struct FIND_CTX {
    ARGV   *domains;
    ARGV   *ids;
} FIND_CTX;

/* rcpt_domain_in - is the address's domain one of the list */
static int rcpt_domain_in(const char *addr, ARGV *domains)
{
    const char *at = strrchr(addr, '@');

    if (at == 0)
	return (0);
    for (size_t i = 0; i < domains->argc; i++)
	if (strcasecmp(at + 1, domains->argv[i]) == 0)
	    return (1);
    return (0);
}

static int find_one(const char *queue, const char *id, const char *path, void *ctx)
{
    FIND_CTX *fc = ctx;
    VSTREAM *fp;
    QUEUE_ENVELOPE *env;
    struct stat st;

    (void) queue;
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	return (0);				/* gone meanwhile */
    if (fstat(vstream_fileno(fp), &st) < 0 || !MAIL_QUEUE_MSG_COMPLETE(&st)) {
	(void) vstream_close(fp);
	return (0);				/* still being written */
    }
    if ((env = queue_envelope_read(fp, id)) != 0) {
	for (size_t i = 0; i < env->rcpt_count; i++) {
	    if (!env->rcpts[i].done && rcpt_domain_in(env->rcpts[i].address, fc->domains)) {
		argv_add(fc->ids, id);
		break;
	    }
	}
	queue_envelope_free(env);
    }
    (void) vstream_close(fp);
    return (0);
}

ODMR_QUEUE *odmr_queue_find(ARGV *domains)
{
    static const char *queues[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED};
    ODMR_QUEUE *q = mycalloc(1, sizeof(*q));
    FIND_CTX fc;

    fc.domains = domains;
    fc.ids = argv_alloc(10);
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
	(void) queue_scan(queues[i], find_one, &fc);
    q->ids = fc.ids;
    q->released = mycalloc(q->ids->argc + 1, 1);
    q->finished = mycalloc(q->ids->argc + 1, 1);
    return (q);
}

size_t  odmr_queue_count(ODMR_QUEUE *q)
{
    return (q->ids->argc);
}

#define WHERE_NONE	0
#define WHERE_MOVING	1			/* incoming/, active/ */
#define WHERE_DEFERRED	2			/* deferred/, unmarked */
#define WHERE_MARKED	3			/* deferred/, flush mark set */
#define WHERE_HOLD	4

/* where - which folder holds the message now */
static int where(const char *id)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    int     found = WHERE_NONE;

    if (lstat(mail_queue_path(path, MAIL_QUEUE_INCOMING, id), &st) == 0
	|| lstat(mail_queue_path(path, MAIL_QUEUE_ACTIVE, id), &st) == 0)
	found = WHERE_MOVING;
    else if (lstat(mail_queue_path(path, MAIL_QUEUE_DEFERRED, id), &st) == 0)
	found = (st.st_mode & QMGR_FLUSH_MARK_MODE) ? WHERE_MARKED : WHERE_DEFERRED;
    else if (lstat(mail_queue_path(path, MAIL_QUEUE_HOLD, id), &st) == 0)
	found = WHERE_HOLD;
    vstring_free(path);
    return (found);
}

/* release - ask the flush service for one message */
static void release(ODMR_QUEUE *q, size_t i)
{
    if (flush_send_file(q->ids->argv[i]) != FLUSH_STAT_OK)
	msg_warn("%s: flush service failure: the message waits for the next ATRN",
		 q->ids->argv[i]);
    q->released[i] = 1;
}

void    odmr_queue_release(ODMR_QUEUE *q)
{
    for (size_t i = 0; i < q->ids->argc; i++) {
	switch (where(q->ids->argv[i])) {
	case WHERE_DEFERRED:
	    release(q, i);
	    break;
	case WHERE_MARKED:
	    q->released[i] = 1;			/* someone flushed it already */
	    break;
	default:
	    break;
	}
    }
}

void    odmr_queue_seen(ODMR_QUEUE *q, const char *queue_id)
{
    for (size_t i = 0; i < q->ids->argc; i++)
	if (strcmp(q->ids->argv[i], queue_id) == 0)
	    q->released[i] = 1;
}

size_t  odmr_queue_in_flight(ODMR_QUEUE *q)
{
    size_t  count = 0;

    for (size_t i = 0; i < q->ids->argc; i++) {
	if (q->finished[i])
	    continue;
	switch (where(q->ids->argv[i])) {
	case WHERE_MOVING:
	    count++;
	    break;
	case WHERE_MARKED:
	    q->released[i] = 1;
	    count++;
	    break;
	case WHERE_DEFERRED:
	    if (!q->released[i]) {
		release(q, i);
		count++;
	    } else {
		q->finished[i] = 1;
	    }
	    break;
	default:
	    q->finished[i] = 1;
	    break;
	}
    }
    return (count);
}

void    odmr_queue_free(ODMR_QUEUE *q)
{
    argv_free(q->ids);
    myfree(q->released);
    myfree(q->finished);
    myfree(q);
}
