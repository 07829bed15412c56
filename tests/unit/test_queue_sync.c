/*
 * NAME
 *	test_queue_sync - the group commit of incoming/ (queue_writer.c):
 *	concurrent writers, a writer that waits for another's fsync, a
 *	syncer that died in its fsync
 * DESCRIPTION
 *	The counters are those of private/.incoming-sync, which only a
 *	process that is not root uses: run as root, the test becomes
 *	nobody first (its queue folder is nobody's). It maps the file
 *	itself, as another writer would, with the layout of queue_writer.c:
 *	started, done (64 bits each), wake (the futex word), waiters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_writer.h"
#include "util/vstring.h"
#include "unit.h"

typedef struct SHARE {
    uint64_t started;
    uint64_t done;
    uint32_t wake;
    uint32_t waiters;
} SHARE;

static char dir[] = "/tmp/test_queue_sync.XXXXXX";
static SHARE *share;

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* write_one - one message, open to commit; the result of commit */
static int write_one(const char *token, QUEUE_WRITER *qw)
{
    if (qw == 0 && (qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0)
	return (-1);
    queue_writer_sender(qw, "a@sender.test");
    queue_writer_rcpt(qw, "u@relay.test", 0, 0, 0);
    queue_writer_msg_begin(qw);
    queue_writer_msg_write(qw, "Subject: ", 9);
    queue_writer_msg_write(qw, token, strlen(token));
    queue_writer_msg_write(qw, "\r\n\r\nbody\r\n", 10);
    return (queue_writer_commit(qw));
}

/* map_share - the counters, after the first writer created the file */
static void map_share(void)
{
    int     fd;

    if (share)
	return;
    if ((fd = open("private/.incoming-sync", O_RDWR)) < 0)
	return;
    share = mmap(0, sizeof(*share), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (share == MAP_FAILED)
	share = 0;
    close(fd);
}

/* count_complete - complete message files in incoming/ */
static int count_complete(void)
{
    DIR    *dp = opendir(MAIL_QUEUE_INCOMING);
    struct dirent *de;
    struct stat st;
    char    path[300];
    int     n = 0;

    if (dp == 0)
	return (-1);
    while ((de = readdir(dp)) != 0) {
	if (!mail_queue_id_ok(de->d_name))
	    continue;
	snprintf(path, sizeof(path), "%s/%s", MAIL_QUEUE_INCOMING, de->d_name);
	if (stat(path, &st) == 0 && MAIL_QUEUE_MSG_COMPLETE(&st))
	    n++;
    }
    closedir(dp);
    return (n);
}

/* empty_incoming - remove the files of the previous test */
static void empty_incoming(void)
{
    DIR    *dp = opendir(MAIL_QUEUE_INCOMING);
    struct dirent *de;
    char    path[300];

    if (dp == 0)
	return;
    while ((de = readdir(dp)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	snprintf(path, sizeof(path), "%s/%s", MAIL_QUEUE_INCOMING, de->d_name);
	unlink(path);
    }
    closedir(dp);
}

/* second_writer - after one message made the shared page: a writer, or null */
static QUEUE_WRITER *second_writer(void)
{
    QUEUE_WRITER *qw;

    empty_incoming();
    EXPECT_INT(write_one("first", 0), 0);
    map_share();
    if (share == 0)
	return (0);
    qw = queue_writer_open(MAIL_QUEUE_INCOMING);
    EXPECT(qw != 0);
    return (qw);
}

/*
 * Eight processes commit 25 messages each at the same time: every file
 * is complete, every sync begun completed, and no more syncs of
 * incoming/ were begun than there are messages.
 */
UNIT_TEST(concurrent_writers)
{
    pid_t   pids[8];
    int     i;
    int     status;
    int     ok = 1;

    empty_incoming();
    EXPECT_INT(write_one("first", 0), 0);
    map_share();
    EXPECT(share != 0);
    if (share == 0)
	return;
    for (i = 0; i < 8; i++) {
	if ((pids[i] = fork()) == 0) {
	    char    token[32];
	    int     bad = 0;

	    for (int m = 0; m < 25; m++) {
		snprintf(token, sizeof(token), "C%d.%d", i, m);
		if (write_one(token, 0) != 0)
		    bad = 1;
	    }
	    _exit(bad);
	}
    }
    for (i = 0; i < 8; i++)
	if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i]
	    || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
	    ok = 0;
    EXPECT(ok);
    EXPECT_INT(count_complete(), 201);
    EXPECT_INT(share->done, share->started);
    EXPECT(share->started <= 201);
}

/*
 * A sync is under way in another process when this writer's file gets
 * its name in incoming/ (at commit): it began before the entry, so it
 * may not cover it. Commit waits for it to complete (the other process
 * completes it 10 ms later and wakes the waiters), then syncs once
 * itself, for every writer whose entry came meanwhile.
 */
UNIT_TEST(waits_for_sync_under_way_then_syncs)
{
    QUEUE_WRITER *qw;
    uint64_t ticket;
    pid_t   pid;
    int     status;

    if ((qw = second_writer()) == 0)
	return;
    ticket = __atomic_load_n(&share->started, __ATOMIC_SEQ_CST);
    EXPECT_INT(share->done, ticket);
    /* The other writer claims sync ticket+1 ... */
    __atomic_store_n(&share->started, ticket + 1, __ATOMIC_SEQ_CST);
    if ((pid = fork()) == 0) {
	/* ... and completes it, 10 ms later. */
	usleep(10000);
	__atomic_store_n(&share->done, ticket + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&share->wake, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &share->wake, FUTEX_WAKE, INT_MAX, 0, 0, 0);
	_exit(0);
    }
    EXPECT_INT(write_one("waiter", qw), 0);
    EXPECT(waitpid(pid, &status, 0) == pid);
    EXPECT_INT(share->started, ticket + 2);
    EXPECT_INT(share->done, ticket + 2);
    EXPECT_INT(share->waiters, 0);
    EXPECT_INT(count_complete(), 2);
}

/*
 * The process that claimed a sync was killed in its fsync: it never
 * completes. A writer whose entry comes after that claim (the name is
 * given at commit) waits about 50 ms for it, then syncs itself; so does
 * one that opened its file after the claim.
 */
UNIT_TEST(dead_syncer)
{
    QUEUE_WRITER *qw;
    uint64_t ticket;
    long long start;
    long long took;

    /* Claimed while the file is written. */
    if ((qw = second_writer()) == 0)
	return;
    ticket = __atomic_load_n(&share->started, __ATOMIC_SEQ_CST);
    __atomic_store_n(&share->started, ticket + 1, __ATOMIC_SEQ_CST);
    start = now_ms();
    EXPECT_INT(write_one("after", qw), 0);
    took = now_ms() - start;
    EXPECT(took >= 45 && took < 1000);
    EXPECT_INT(share->started, ticket + 2);
    EXPECT_INT(share->done, ticket + 2);

    /* Claimed before the file is opened. */
    ticket = __atomic_add_fetch(&share->started, 1, __ATOMIC_SEQ_CST);
    start = now_ms();
    EXPECT_INT(write_one("before", 0), 0);
    took = now_ms() - start;
    EXPECT(took >= 45 && took < 1000);
    EXPECT_INT(share->started, ticket + 1);
    EXPECT_INT(share->done, ticket + 1);
    EXPECT_INT(share->waiters, 0);
    EXPECT_INT(count_complete(), 3);
}

/*
 * With nothing under way a commit takes the next number, syncs and
 * records it: a later writer whose entry came before that sync began
 * would skip its own.
 */
UNIT_TEST(alone_syncs_once)
{
    uint64_t before;

    empty_incoming();
    EXPECT_INT(write_one("first", 0), 0);
    map_share();
    if (share == 0)
	return;
    before = share->started;
    EXPECT_INT(write_one("second", 0), 0);
    EXPECT_INT(share->started, before + 1);
    EXPECT_INT(share->done, before + 1);
    EXPECT_INT(count_complete(), 2);
}

int     main(void)
{
    char    path[400];
    FILE   *fp;
    int     ret;
    uid_t   uid = 65534;
    gid_t   gid = 65534;

    if (mkdtemp(dir) == 0)
	return (2);
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    if ((fp = fopen(path, "w")) == 0)
	return (2);
    fprintf(fp, "queue_directory = %s/queue\n", dir);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/queue", dir);
    if (mkdir(path, 0700) < 0 || chdir(path) < 0
	|| mkdir(MAIL_QUEUE_INCOMING, 0700) < 0 || mkdir("private", 0700) < 0)
	return (2);
    if (geteuid() == 0) {
	if (chown(dir, uid, gid) < 0 || chown(path, uid, gid) < 0
	    || chown(MAIL_QUEUE_INCOMING, uid, gid) < 0
	    || chown("private", uid, gid) < 0
	    || chown("../main.cf", uid, gid) < 0
	    || chmod(dir, 0755) < 0
	    || setgid(gid) < 0 || setuid(uid) < 0)
	    return (2);
    }
    mail_conf_reset();
    mail_conf_read(dir);
    ret = unit_run();
    {
	char    cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
	    ret = 2;
    }
    return (ret);
}
