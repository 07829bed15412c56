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
 *	"put" with a compare-and-swap of "take", then renames the slot's
 *	file to its own name, "_<pid>.<n>". Whatever goes wrong in between
 *	(a writer killed after its claim, a slot that a crash left full
 *	or empty) costs one new file or one removal, never a message: a
 *	slot that is still full when qmgr comes round again is skipped (the
 *	delivered file is removed instead), and its file is taken by the
 *	writer of the next round.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
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
    static unsigned serial;
    POOL_RING *ring;
    char    slot[32];
    char    claim[64];
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
	snprintf(claim, sizeof(claim), "_%ld.%u", (long) getpid(), serial++);
	if (renameat2(pfd, slot, pfd, claim, RENAME_NOREPLACE) < 0)
	    continue;
	if ((fd = openat(pfd, claim, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	    (void) unlinkat(pfd, claim, 0);
	    continue;
	}
	/* Two names: a crash kept one of them in a queue. Not reused. */
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_nlink != 1
	    || st->st_uid != geteuid()) {
	    (void) close(fd);
	    (void) unlinkat(pfd, claim, 0);
	    continue;
	}
	vstring_sprintf(path, "%s/%s", MAIL_QUEUE_POOL, claim);
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

/* pool_process_gone - no such process, or one that died (a zombie) */
static int pool_process_gone(pid_t pid)
{
    char    path[64];
    char    buf[256];
    char   *cp;
    ssize_t len;
    int     fd;

    if (kill(pid, 0) < 0)
	return (errno == ESRCH);
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
	return (errno == ENOENT);
    len = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    if (len <= 0)
	return (0);
    buf[len] = 0;
    /* "pid (comm) S ...": the state follows the last ")". */
    if ((cp = strrchr(buf, ')')) == 0 || cp[1] != ' ')
	return (0);
    return (cp[2] == 'Z' || cp[2] == 'X');
}

int     queue_pool_clean(void)
{
    struct dirent *dp;
    DIR    *dir;
    int     count = 0;

    if ((dir = opendir(MAIL_QUEUE_POOL)) == 0)
	return (0);
    while ((dp = readdir(dir)) != 0) {
	long    pid;

	/* "_<pid>.<n>": a claim of a process that is gone. */
	if (dp->d_name[0] != '_' || sscanf(dp->d_name + 1, "%ld.", &pid) != 1 || pid <= 0)
	    continue;
	if (!pool_process_gone((pid_t) pid))
	    continue;
	if (unlinkat(dirfd(dir), dp->d_name, 0) == 0)
	    count++;
    }
    (void) closedir(dir);
    return (count);
}
