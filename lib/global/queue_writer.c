/*
 * NAME
 *	queue_writer - write one complete message file into a queue
 * DESCRIPTION
 *	See queue_writer.h. The M record's length is not known until the
 *	message has been streamed in, so its header is written with a
 *	zero length and patched with pwrite(2) at commit time, after the
 *	stream buffer has been flushed.
 */
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/queue_pool.h"
#include "global/queue_writer.h"

#define QW_BUFSIZE	(32 * 1024)
#define QW_PAD_UNIT	4096

struct QUEUE_WRITER {
    char   *queue;			/* "incoming" */
    VSTRING *id;			/* queue ID */
    VSTREAM *fp;			/* the file */
    struct timeval arrival;
    int     err;			/* errno of the first failure */
    int     warn_done;			/* W record written */
    int     null_sender;		/* sender is "" */
    off_t   msg_head;			/* offset of the M record, or -1 */
    off_t   msg_size;			/* message bytes so far */
    char   *commit_queue;		/* queue_writer_hold(): "hold" */
    char   *filter;			/* F record, or NULL */
    char   *redirect;			/* > record, or NULL */
    char   *tmp_path;			/* pool/ or queue_writer_rewrite() file, or NULL */
    int     pooled;			/* tmp_path is from pool/ */
    int     unnamed;			/* a file without a name (O_TMPFILE) */
    off_t   reuse_size;			/* a file from pool/: its old size */
    int     rewrites;			/* for the next temporary name */
    uint64_t sync_ticket;		/* incoming/ syncs started before its entry */
    mode_t  mode;			/* the file's mode, before the complete mark */
};

static uint64_t dir_sync_ticket(void);
static int dir_sync_incoming(uint64_t, const char *);

/* qw_fail - remember the first failure */
static int qw_fail(QUEUE_WRITER *qw)
{
    if (qw->err == 0)
	qw->err = errno ? errno : EIO;
    return (-1);
}

/* qw_put - write one record, or note why not */
static int qw_put(QUEUE_WRITER *qw, int type, const char *data, size_t len)
{
    if (qw->err)
	return (-1);
    errno = 0;
    if (rec_put(qw->fp, type, data, len) != 0)
	return (qw_fail(qw));
    return (0);
}

QUEUE_WRITER *queue_writer_open(const char *queue)
{
    QUEUE_WRITER *qw;
    VSTRING *id = vstring_alloc(20);
    VSTREAM *fp;
    struct stat st;
    char    buf[64];

    VSTRING *claim = 0;
    int     incoming = (strcmp(queue, MAIL_QUEUE_INCOMING) == 0);

    /*
     * For incoming/: a file of a delivered message, if pool/ has one,
     * else a new file without a name; either gets its name in incoming/
     * when it is complete and on disk. Else a new file, named in its
     * queue from the start.
     */
    fp = 0;
    if (incoming) {
	claim = vstring_alloc(64);
	if ((fp = mail_queue_reuse(0600, id, &st, claim)) == 0) {
	    vstring_free(claim);
	    claim = 0;
	    fp = mail_queue_enter_unnamed(queue, 0600, id, &st);
	}
    }
    if (fp == 0 && (fp = mail_queue_enter_stat(queue, 0600, id, &st)) == 0) {
	int     saved = errno;

	vstring_free(id);
	errno = saved;
	return (0);
    }
    qw = mycalloc(1, sizeof(*qw));
    qw->queue = mystrdup(queue);
    qw->id = id;
    qw->fp = fp;
    qw->mode = st.st_mode & 07777;
    if (claim) {
	qw->tmp_path = vstring_export(claim);
	qw->pooled = 1;
	qw->reuse_size = st.st_size;
    } else if (st.st_nlink == 0) {
	qw->unnamed = 1;
    } else {
	qw->sync_ticket = dir_sync_ticket();	/* its entry is in place */
    }
    /* The body goes out in large writes (a 100 KB message: 4, not 13). */
    vstream_set_bufsize(fp, QW_BUFSIZE);
    qw->msg_head = -1;
    gettimeofday(&qw->arrival, (struct timezone *) 0);
    qw_put(qw, REC_TYPE_VERSION, QUEUE_FILE_VERSION, strlen(QUEUE_FILE_VERSION));
    snprintf(buf, sizeof(buf), "%ld %ld", (long) qw->arrival.tv_sec,
	     (long) qw->arrival.tv_usec);
    qw_put(qw, REC_TYPE_TIME, buf, strlen(buf));
    return (qw);
}

const char *queue_writer_id(QUEUE_WRITER *qw)
{
    return (vstring_str(qw->id));
}

const struct timeval *queue_writer_time(QUEUE_WRITER *qw)
{
    return (&qw->arrival);
}

int     queue_writer_errno(QUEUE_WRITER *qw)
{
    return (qw->err);
}

int     queue_writer_status(int err)
{
    switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
	return (QUEUE_WRITER_STAT_NOSPACE);
    default:
	return (QUEUE_WRITER_STAT_WRITE);
    }
}

int     queue_writer_sender(QUEUE_WRITER *qw, const char *sender)
{
    qw->null_sender = (*sender == 0);
    return (qw_put(qw, REC_TYPE_SENDER, sender, strlen(sender)));
}

int     queue_writer_attr(QUEUE_WRITER *qw, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    vstring_sprintf(buf, "%s=%s", name, value);
    ret = qw_put(qw, REC_TYPE_ATTR, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
    return (ret);
}

/* qw_warn - the delay-warning time record, once, before recipients */
static int qw_warn(QUEUE_WRITER *qw)
{
    char    buf[32];
    long    delay;
    long    when = 0;

    if (qw->warn_done)
	return (qw->err ? -1 : 0);
    qw->warn_done = 1;
    /* arrival + delay_warning_time; 0 = none (also for the null sender) */
    if (!qw->null_sender && (delay = mail_conf_time(VAR_DELAY_WARNING_TIME)) > 0)
	when = (long) qw->arrival.tv_sec + delay;
    snprintf(buf, sizeof(buf), "%020ld", when);
    return (qw_put(qw, REC_TYPE_WARN, buf, strlen(buf)));
}

int     queue_writer_rcpt(QUEUE_WRITER *qw, const char *addr,
			          const char *orig_addr, int notify,
			          const char *orcpt)
{
    char    buf[32];

    qw_warn(qw);
    if (orig_addr && strcmp(orig_addr, addr) != 0)
	qw_put(qw, REC_TYPE_ORCP, orig_addr, strlen(orig_addr));
    if (notify) {
	snprintf(buf, sizeof(buf), "%d", notify);
	qw_put(qw, REC_TYPE_NOTIFY, buf, strlen(buf));
    }
    if (orcpt)
	qw_put(qw, REC_TYPE_DSN_ORCPT, orcpt, strlen(orcpt));
    return (qw_put(qw, REC_TYPE_RCPT, addr, strlen(addr)));
}

int     queue_writer_msg_begin(QUEUE_WRITER *qw)
{
    qw_warn(qw);
    if (qw->err)
	return (-1);
    qw->msg_head = vstream_tell(qw->fp);
    return (qw_put(qw, REC_TYPE_MESSAGE, "", 0));
}

int     queue_writer_msg_write(QUEUE_WRITER *qw, const void *buf, size_t len)
{
    if (qw->err)
	return (-1);
    errno = 0;
    if (vstream_write(qw->fp, buf, len) != 0)
	return (qw_fail(qw));
    qw->msg_size += len;
    return (0);
}

off_t   queue_writer_msg_size(QUEUE_WRITER *qw)
{
    return (qw->msg_size);
}

/* qw_free - release memory, the file is closed or removed already */
static void qw_free(QUEUE_WRITER *qw)
{
    myfree(qw->queue);
    myfree(qw->commit_queue);
    myfree(qw->filter);
    myfree(qw->redirect);
    myfree(qw->tmp_path);
    vstring_free(qw->id);
    myfree(qw);
}

void    queue_writer_abort(QUEUE_WRITER *qw)
{
    int     saved = errno;

    /* Before the close, which drops a pool/ file's lock (queue_pool(3)). */
    if (qw->tmp_path)
	(void) unlink(qw->tmp_path);
    if (qw->fp) {
	(void) close(vstream_fileno(qw->fp));
	qw->fp->wlen = 0;			/* drop unwritten output */
	vstream_release(qw->fp);
	qw->fp = 0;
    }
    /* A file from pool/, or without a name, has no name in a queue yet. */
    if (!qw->pooled && !qw->unnamed)
	(void) mail_queue_remove(qw->queue, vstring_str(qw->id));
    qw_free(qw);
    errno = saved;
}

/*
 * Group commit of incoming/. Processes that write into incoming/ share
 * a page of DIR_SYNC_FILE, mapped by each (MAP_SHARED). "started"
 * counts the fsyncs of incoming/ that were begun: a sync's number is
 * the value its read-modify-write of "started" stored. "done" is the
 * highest number of a sync that completed. "wake" is a futex word that
 * a syncer bumps after it stores "done"; "waiters" counts the processes
 * that may sleep on it. All are accessed with atomic operations only.
 *
 * A writer takes its ticket t, a read-modify-write of "started" that
 * returns t, after the last change of its entry in incoming/ (the
 * link). Every sync numbered above t got its number from a
 * read-modify-write that follows the ticket in the modification order
 * of "started"; the ticket is seq_cst (a release) and so is each
 * syncer's read-modify-write (an acquire), so the link happens before
 * that sync's fsync(2) begins, and an fsync of a folder makes every
 * entry that it holds when it begins durable. Hence: when "done" > t
 * (an acquire load, pairing with the syncer's release store after its
 * fsync returned), the entry is durable, and the writer does no fsync
 * of incoming/.
 *
 * At commit a writer loops:
 *
 *   "done" > t: durable, finished.
 *   "started" > t: a sync numbered above t is under way; wait for
 *	"done" > t.
 *   "started" == t and "done" < t: a sync begun before the ticket is
 *	under way (it may not cover the entry); wait for it to complete
 *	("done" >= t), so that the next sync covers every writer that
 *	linked meanwhile (leader and followers).
 *   otherwise: claim sync number t+1 with a compare-and-swap of
 *	"started" from t. Success: fsync incoming/, raise "done" to t+1
 *	(unless higher), bump "wake" and wake the sleepers. Failure:
 *	another writer claimed t+1, after the ticket: go round.
 *
 * A waiter sleeps on "wake" (FUTEX_WAIT, not private: the page is a
 * shared file mapping) with the value it read before it looked at
 * "done", so a wakeup between the two is not lost (the futex returns
 * at once); the syncer reads "waiters" after its bump and skips the
 * FUTEX_WAKE system call when nobody can be asleep (all four
 * operations seq_cst: either it sees the waiter, or the waiter sees the
 * bump and the "done" before it). A wait ends after DIR_SYNC_WAIT_MS
 * without completion: the syncer may have been killed in its fsync,
 * or its fsync failed; the waiter then takes a new number with an
 * unconditional add and syncs itself, so a dead syncer costs at most
 * two waits. A process killed during its sync records nothing. Without
 * the shared page (not there, not ours, root), with incoming/ hashed,
 * or without futexes, every commit syncs its folder, as before.
 */
#define DIR_SYNC_FILE	"private/.incoming-sync"
#define DIR_SYNC_WAIT_MS	50

typedef struct DIR_SYNC_SHARE {
    uint64_t started;			/* syncs begun */
    uint64_t done;			/* highest sync number completed */
    uint32_t wake;			/* futex word: bumped after "done" */
    uint32_t waiters;			/* processes that may sleep on it */
} DIR_SYNC_SHARE;

static DIR_SYNC_SHARE *dir_sync_share;

static DIR_SYNC_SHARE *dir_sync_map(void)
{
    static int tried;

    if (tried)
	return (dir_sync_share);
    tried = 1;
    /* A hashed incoming/ has more than one folder to sync. */
    if (!mail_queue_hashed(MAIL_QUEUE_INCOMING))
	dir_sync_share = (DIR_SYNC_SHARE *)
	    mail_queue_shared_page(DIR_SYNC_FILE, sizeof(DIR_SYNC_SHARE));
    return (dir_sync_share);
}

/* dir_sync_ticket - after the last change of an entry in incoming/ */
static uint64_t dir_sync_ticket(void)
{
    DIR_SYNC_SHARE *sh = dir_sync_map();

    return (sh ? __atomic_fetch_add(&sh->started, 0, __ATOMIC_SEQ_CST) : 0);
}

/* dir_sync_now_ms - a monotonic clock (vDSO: no system call) */
static long long dir_sync_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* dir_sync_wait - until "done" > floor; -1 after DIR_SYNC_WAIT_MS */
static int dir_sync_wait(DIR_SYNC_SHARE *sh, uint64_t floor)
{
#if defined(__linux__) && defined(SYS_futex)
    long long deadline = dir_sync_now_ms() + DIR_SYNC_WAIT_MS;
    long long left;
    struct timespec ts;
    uint32_t seen;
    int     ret;

    __atomic_add_fetch(&sh->waiters, 1, __ATOMIC_SEQ_CST);
    for (;;) {
	seen = __atomic_load_n(&sh->wake, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) > floor) {
	    ret = 0;
	    break;
	}
	if ((left = deadline - dir_sync_now_ms()) <= 0) {
	    ret = -1;
	    break;
	}
	ts.tv_sec = left / 1000;
	ts.tv_nsec = (left % 1000) * 1000000;
	/* Returns when woken, at once if "wake" moved, or at the timeout. */
	(void) syscall(SYS_futex, &sh->wake, FUTEX_WAIT, seen, &ts, (void *) 0, 0);
    }
    __atomic_sub_fetch(&sh->waiters, 1, __ATOMIC_SEQ_CST);
    return (ret);
#else
    (void) sh;
    (void) floor;
    return (-1);
#endif
}

/* dir_sync_done - publish a completed sync, wake who waits for it */
static void dir_sync_done(DIR_SYNC_SHARE *sh, uint64_t mine)
{
    uint64_t seen = __atomic_load_n(&sh->done, __ATOMIC_RELAXED);

    while (seen < mine && !__atomic_compare_exchange_n(&sh->done, &seen, mine, 0,
				       __ATOMIC_RELEASE, __ATOMIC_RELAXED))
	 /* seen is updated: try again while ours is the higher number */ ;
    __atomic_add_fetch(&sh->wake, 1, __ATOMIC_SEQ_CST);
#if defined(__linux__) && defined(SYS_futex)
    if (__atomic_load_n(&sh->waiters, __ATOMIC_SEQ_CST) > 0)
	(void) syscall(SYS_futex, &sh->wake, FUTEX_WAKE, INT_MAX, (void *) 0, (void *) 0, 0);
#endif
}

/* dir_sync_incoming - incoming/ synced since the ticket, by us or another */
static int dir_sync_incoming(uint64_t ticket, const char *id)
{
    DIR_SYNC_SHARE *sh = dir_sync_map();
    uint64_t mine;
    uint64_t started;
    int     waited_before = 0;

    if (sh == 0)
	return (mail_queue_sync(MAIL_QUEUE_INCOMING, id));
    for (;;) {
	if (__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) > ticket)
	    return (0);
	started = __atomic_load_n(&sh->started, __ATOMIC_SEQ_CST);
	if (started > ticket) {
	    /* Sync ticket+1 or later began after the entry was made. */
	    if (dir_sync_wait(sh, ticket) == 0)
		return (0);
	    mine = __atomic_add_fetch(&sh->started, 1, __ATOMIC_SEQ_CST);
	    break;
	}
	if (!waited_before && __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) < ticket) {
	    /* One begun before the entry is under way: then one for all. */
	    waited_before = 1;
	    if (dir_sync_wait(sh, ticket - 1) < 0) {
		mine = __atomic_add_fetch(&sh->started, 1, __ATOMIC_SEQ_CST);
		break;
	    }
	    continue;
	}
	if (__atomic_compare_exchange_n(&sh->started, &started, ticket + 1, 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
	    mine = ticket + 1;
	    break;
	}
	/* Another writer claimed ticket+1, after our entry: wait for it. */
    }
    if (mail_queue_sync(MAIL_QUEUE_INCOMING, id) < 0)
	return (-1);
    dir_sync_done(sh, mine);
    return (0);
}

void    queue_writer_hold(QUEUE_WRITER *qw)
{
    if (qw->commit_queue == 0)
	qw->commit_queue = mystrdup(MAIL_QUEUE_HOLD);
}

/*
 * qw_pad - a P record before E, so that the file ends at a multiple of
 * QW_PAD_UNIT. qmgr gives a delivered file to pool/; the next message
 * of about the same size then ends where the old one did, the file
 * keeps its size and its blocks, and commit syncs its data alone.
 */
static void qw_pad(QUEUE_WRITER *qw)
{
    static const char zeros[QW_PAD_UNIT];
    off_t   least = vstream_tell(qw->fp) + 2 * REC_HEADER_LEN;
    off_t   pad = (QW_PAD_UNIT - least % QW_PAD_UNIT) % QW_PAD_UNIT;

    qw_put(qw, REC_TYPE_PAD, zeros, (size_t) pad);
}

/*
 * qw_finish - the records after the message, E, the M record's length.
 * The length goes into the stream buffer when the M record's header is
 * still there (a message that fits in QW_BUFSIZE: one write(2), no
 * pwrite), else into the file after the flush.
 */
static int qw_finish(QUEUE_WRITER *qw)
{
    unsigned char len[4];
    off_t   size = qw->msg_size;
    VSTREAM *fp;
    off_t   buf_start;
    int     patched = 0;

    if (qw->msg_head < 0 && qw->err == 0)
	queue_writer_msg_begin(qw);
    if (qw->filter)
	qw_put(qw, REC_TYPE_FILTER, qw->filter, strlen(qw->filter));
    if (qw->redirect)
	qw_put(qw, REC_TYPE_REDIRECT, qw->redirect, strlen(qw->redirect));
    qw_pad(qw);
    qw_put(qw, REC_TYPE_END, "", 0);
    if (qw->err == 0 && size > 0xffffffffL) {
	errno = EFBIG;
	qw_fail(qw);
    }
    if (qw->err)
	return (-1);
    len[0] = (size >> 24) & 0xff;
    len[1] = (size >> 16) & 0xff;
    len[2] = (size >> 8) & 0xff;
    len[3] = size & 0xff;
    /* Output only (no read buffer): wbuf[0] is at file offset pos - wlen. */
    fp = qw->fp;
    buf_start = fp->pos - (off_t) fp->wlen;
    if (fp->wbuf && fp->rlen == 0 && qw->msg_head + 1 >= buf_start
	&& qw->msg_head + 1 + 4 <= fp->pos) {
	memcpy(fp->wbuf + (qw->msg_head + 1 - buf_start), len, 4);
	patched = 1;
    }
    errno = 0;
    if (vstream_fflush(fp) != 0)
	return (qw_fail(qw));
    if (!patched && pwrite(vstream_fileno(fp), len, 4, qw->msg_head + 1) != 4)
	return (qw_fail(qw));
    /* A reused file: cut what is left of the old message. */
    if (qw->reuse_size > vstream_tell(fp)) {
	if (ftruncate(vstream_fileno(fp), vstream_tell(fp)) < 0)
	    return (qw_fail(qw));
	qw->reuse_size = 0;
    }
    return (0);
}

/*
 * qw_publish - give the file the queue ID's name in a queue, when it has
 * another one (pool/, a milter's version) or none. 0, or -1 with errno.
 * A rewritten file replaces the first version under that name; the
 * others never replace a name.
 */
static int qw_publish(QUEUE_WRITER *qw, const char *queue)
{
    VSTRING *path;
    int     ret;

    if (qw->unnamed) {
	if ((ret = mail_queue_link_fd(vstream_fileno(qw->fp), queue, vstring_str(qw->id))) == 0)
	    qw->unnamed = 0;
    } else if (qw->tmp_path) {
	path = vstring_alloc(100);
	ret = (qw->pooled ? mail_queue_publish(qw->tmp_path, queue, vstring_str(qw->id)) :
	       rename(qw->tmp_path, mail_queue_path(path, queue, vstring_str(qw->id))));
	vstring_free(path);
	if (ret == 0) {
	    myfree(qw->tmp_path);
	    qw->tmp_path = 0;
	    qw->pooled = 0;
	}
    } else {
	return (0);
    }
    if (ret == 0)
	qw->sync_ticket = dir_sync_ticket();	/* the entry changed */
    return (ret);
}

int     queue_writer_seal(QUEUE_WRITER *qw)
{
    if (qw_finish(qw) < 0)
	return (-1);
    /* A file from pool/ still has the complete mark: qmgr must not take it. */
    if ((qw->mode & S_IXUSR) != 0) {
	if (fchmod(vstream_fileno(qw->fp), qw->mode & ~S_IXUSR) < 0)
	    return (qw_fail(qw));
	qw->mode &= ~S_IXUSR;
    }
    /* It takes the queue ID's name: readers look there. */
    if (qw_publish(qw, qw->queue) < 0)
	qw_fail(qw);
    return (qw->err ? -1 : 0);
}

int     queue_writer_commit(QUEUE_WRITER *qw)
{
    int     fd = vstream_fileno(qw->fp);
    int     synced = 0;
    int     data_only;

    (void) qw_finish(qw);

    /*
     * The complete mark comes after the last write, before the fsync. A
     * file from pool/ has it still (mail_queue_reuse()): only its data
     * changed, and if its size changed, fdatasync(2) syncs that too.
     */
    data_only = qw->pooled && (qw->mode & S_IXUSR) != 0;
    if (qw->err == 0 && (qw->mode & S_IXUSR) == 0) {
	if (fchmod(fd, qw->mode | S_IXUSR) < 0)
	    qw_fail(qw);
	qw->mode |= S_IXUSR;
    }

    /*
     * A file that gets its queue name now (a new one without a name, one
     * from pool/, a milter's version) is on disk before it has that
     * name: after a crash the name never shows an old or half-written
     * file.
     */
    if (qw->err == 0 && (synced = (qw->tmp_path != 0 || qw->unnamed)) != 0
	&& (data_only ? fdatasync(fd) : fsync(fd)) < 0)
	qw_fail(qw);
    /*
     * A held message moves when it is complete and before anything is
     * made durable: after a crash it is in one folder or the other, and
     * the client has not yet been told it was accepted.
     */
    if (qw->err == 0 && (qw->tmp_path || qw->unnamed)) {
	/* It takes the queue ID's name, in its final folder. */
	const char *final = qw->commit_queue ? qw->commit_queue : qw->queue;
	int     had_name = !qw->pooled && !qw->unnamed;	/* a first version */

	if (qw_publish(qw, final) < 0) {
	    qw_fail(qw);
	} else if (qw->commit_queue) {
	    char   *from = qw->queue;

	    qw->queue = qw->commit_queue;
	    qw->commit_queue = from;
	    if (had_name) {
		(void) mail_queue_remove(from, vstring_str(qw->id));
		if (mail_queue_sync(from, vstring_str(qw->id)) < 0)
		    qw_fail(qw);
	    }
	}
    } else if (qw->err == 0 && qw->commit_queue) {
	char   *from = qw->queue;

	if (mail_queue_rename(vstring_str(qw->id), from, qw->commit_queue) < 0) {
	    qw_fail(qw);
	} else {
	    qw->queue = qw->commit_queue;	/* where abort must remove it */
	    qw->commit_queue = from;
	    if (mail_queue_sync(from, vstring_str(qw->id)) < 0)
		qw_fail(qw);
	}
    }
    if (qw->err == 0 && !synced && fsync(fd) < 0)
	qw_fail(qw);
    if (qw->err == 0
	&& (strcmp(qw->queue, MAIL_QUEUE_INCOMING) == 0 ?
	    dir_sync_incoming(qw->sync_ticket, vstring_str(qw->id)) :
	    mail_queue_sync(qw->queue, vstring_str(qw->id))) < 0)
	qw_fail(qw);
    if (qw->err) {
	errno = qw->err;
	queue_writer_abort(qw);
	return (-1);
    }
    if (close(fd) < 0) {
	int     saved = errno;

	qw->fp->wlen = 0;
	vstream_release(qw->fp);
	qw->fp = 0;
	(void) mail_queue_remove(qw->queue, vstring_str(qw->id));
	qw_free(qw);
	errno = saved;
	return (-1);
    }
    vstream_release(qw->fp);
    qw_free(qw);
    return (0);
}

void    queue_writer_filter(QUEUE_WRITER *qw, const char *filter)
{
    myfree(qw->filter);
    qw->filter = (filter && *filter) ? mystrdup(filter) : 0;
}

void    queue_writer_redirect(QUEUE_WRITER *qw, const char *addr)
{
    myfree(qw->redirect);
    qw->redirect = (addr && *addr) ? mystrdup(addr) : 0;
}

const char *queue_writer_get_filter(QUEUE_WRITER *qw)
{
    return (qw->filter);
}

int     queue_writer_rec(QUEUE_WRITER *qw, int type, const char *data, size_t len)
{
    if (type == REC_TYPE_WARN)
	qw->warn_done = 1;
    return (qw_put(qw, type, data, len));
}

off_t   queue_writer_msg_offset(QUEUE_WRITER *qw)
{
    return (qw->msg_head < 0 ? -1 : qw->msg_head + REC_HEADER_LEN);
}

/* qw_path - the file being written now */
static const char *qw_path(QUEUE_WRITER *qw, VSTRING *buf)
{
    if (qw->unnamed) {
	vstring_sprintf(buf, "/proc/self/fd/%d", vstream_fileno(qw->fp));
	return (vstring_str(buf));
    }
    if (qw->tmp_path) {
	vstring_strcpy(buf, qw->tmp_path);
	return (vstring_str(buf));
    }
    return (mail_queue_path(buf, qw->queue, vstring_str(qw->id)));
}

VSTREAM *queue_writer_reader(QUEUE_WRITER *qw)
{
    VSTRING *path;
    VSTREAM *fp;

    if (qw->err)
	return (0);
    errno = 0;
    if (vstream_fflush(qw->fp) != 0) {
	qw_fail(qw);
	return (0);
    }
    path = vstring_alloc(100);
    if ((fp = vstream_open(qw_path(qw, path), O_RDONLY, 0)) == 0)
	qw_fail(qw);
    vstring_free(path);
    return (fp);
}

int     queue_writer_rewrite(QUEUE_WRITER *qw)
{
    VSTRING *path;
    struct stat st;
    int     fd;

    if (qw->err)
	return (-1);
    /* The file being replaced: its reader keeps it open. */
    if (vstream_fflush(qw->fp) != 0)
	return (qw_fail(qw));
    if (qw->tmp_path) {
	/*
	 * Removed, not given back to pool/: the reader still reads it. The
	 * name goes before the close drops a pool/ file's lock.
	 */
	(void) unlink(qw->tmp_path);
    }
    (void) vstream_close(qw->fp);
    qw->fp = 0;
    if (qw->tmp_path) {
	myfree(qw->tmp_path);
	qw->tmp_path = 0;
	qw->pooled = 0;
	qw->reuse_size = 0;
    }
    qw->unnamed = 0;				/* closed above: it is gone */
    /* Not a queue ID: qmgr never looks at it, and it has no complete mark. */
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s.edit%d", qw->queue, vstring_str(qw->id), ++qw->rewrites);
    if ((fd = open(vstring_str(path), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
	vstring_free(path);
	/* Keep abort's bookkeeping sound: a stream that writes nowhere. */
	qw->fp = vstream_fdopen(open("/dev/null", O_WRONLY | O_CLOEXEC));
	return (qw_fail(qw));
    }
    qw->tmp_path = vstring_export(path);
    qw->fp = vstream_fdopen(fd);
    if (fstat(fd, &st) < 0)
	return (qw_fail(qw));
    qw->mode = st.st_mode & 07777;
    qw->msg_head = -1;
    qw->msg_size = 0;
    qw->warn_done = 0;
    return (0);
}
