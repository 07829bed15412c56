/*
 * NAME
 *	queue_pool - files of delivered messages, kept for new ones
 * DESCRIPTION
 *	See queue_pool.h. pool/ is a ring of POOL_COUNT_MAX slots, files
 *	named "s<n>", with two counters in a page that mail_owner's
 *	processes share (POOL_RING_FILE, mapped MAP_SHARED): "put" counts
 *	the files that qmgr placed, "take" the slots that writers claimed.
 *	Slot n of placement p is p modulo POOL_COUNT_MAX.
 *
 *	qmgr (the only one that places files) renames a file into the
 *	slot of "put" (never over a file that is still there), then
 *	raises "put" (a release): a writer that sees "put" above its
 *	number finds the file in place. A writer claims a number below
 *	"put" with a compare-and-swap of "take", opens the slot's file and
 *	takes an exclusive flock(2) on it, then checks that the slot's
 *	name still is that file. The file is the writer's from then on: it
 *	keeps the name and the lock until it renames the file into a queue
 *	(or removes it, when the transaction ends otherwise), and only then
 *	closes it. A writer of a later round that opens the same file
 *	finds it locked, or renamed away once the lock is free, and skips
 *	it. Whatever goes wrong (a writer killed while it writes: the
 *	kernel drops its lock and the file stays in its slot; a slot that a
 *	crash left full or empty) costs one new file or one removal, never
 *	a message: a slot that is still full when qmgr comes round again is
 *	skipped (the delivered file is removed instead), and its file is
 *	taken by the writer of the next round.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/vstring.h"
#include "global/mail_queue.h"
#include "global/queue_pool.h"

#define POOL_RING_FILE	"private/.pool-ring"

typedef struct POOL_RING {
    uint64_t put;			/* files placed in pool/ */
    uint64_t take;			/* slots claimed */
} POOL_RING;

/* pool_ring - the shared counters, or null (root, no file, not ours) */
static POOL_RING *pool_ring(void)
{
    static POOL_RING *ring;
    static int tried;

    if (!tried) {
	tried = 1;
	ring = (POOL_RING *) mail_queue_shared_page(POOL_RING_FILE, sizeof(POOL_RING));
    }
    return (ring);
}

/* slot_name - the file name of a placement's slot */
static void slot_name(char *buf, size_t len, uint64_t seq)
{
    snprintf(buf, len, "s%u", (unsigned) (seq % POOL_COUNT_MAX));
}

int     queue_pool_take(VSTRING *path, struct stat *st)
{
    POOL_RING *ring;
    struct stat named;
    char    slot[32];
    uint64_t take;
    int     tries;
    int     pfd;
    int     fd;

    if ((ring = pool_ring()) == 0)
	return (-1);
    for (tries = 0; tries < 4; tries++) {
	take = __atomic_load_n(&ring->take, __ATOMIC_RELAXED);
	if (take >= __atomic_load_n(&ring->put, __ATOMIC_ACQUIRE))
	    return (-1);			/* empty */
	if (!__atomic_compare_exchange_n(&ring->take, &take, take + 1, 0,
					  __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
	    continue;				/* another writer took it */
	if ((pfd = mail_queue_dir_fd(MAIL_QUEUE_POOL)) < 0)
	    return (-1);
	slot_name(slot, sizeof(slot), take);
	if ((fd = openat(pfd, slot, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0)
	    continue;				/* a slot that a crash left empty */
	/* A writer of an earlier round still has it. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	    (void) close(fd);
	    continue;
	}
	/* Published (renamed away) between the open and the lock. */
	if (fstat(fd, st) < 0 || fstatat(pfd, slot, &named, AT_SYMLINK_NOFOLLOW) < 0
	    || named.st_ino != st->st_ino || named.st_dev != st->st_dev) {
	    (void) close(fd);
	    continue;
	}
	/* Two names: a crash kept one of them in a queue. Not reused. */
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 || st->st_uid != geteuid()) {
	    (void) unlinkat(pfd, slot, 0);
	    (void) close(fd);
	    continue;
	}
	vstring_sprintf(path, "%s/%s", MAIL_QUEUE_POOL, slot);
	return (fd);
    }
    return (-1);
}

int     queue_pool_put(const char *queue, const char *id, off_t size)
{
    POOL_RING *ring;
    VSTRING *path;
    char    slot[32];
    uint64_t put;
    int     pfd;
    int     ret;

    if (size <= POOL_FILE_MAX && (ring = pool_ring()) != 0
	&& (put = __atomic_load_n(&ring->put, __ATOMIC_RELAXED))
	- __atomic_load_n(&ring->take, __ATOMIC_RELAXED) < POOL_COUNT_MAX
	&& (pfd = mail_queue_dir_fd(MAIL_QUEUE_POOL)) >= 0) {
	path = vstring_alloc(64);
	slot_name(slot, sizeof(slot), put);
	ret = renameat2(AT_FDCWD, mail_queue_path(path, queue, id), pfd, slot,
			RENAME_NOREPLACE);
	vstring_free(path);
	if (ret == 0) {
	    __atomic_store_n(&ring->put, put + 1, __ATOMIC_RELEASE);
	    return (0);
	}
	if (errno == EEXIST)			/* not taken since the last round */
	    __atomic_store_n(&ring->put, put + 1, __ATOMIC_RELEASE);
    }
    return (mail_queue_remove(queue, id));
}
