/*
 * NAME
 *	mbox_open - open and lock a UNIX mailbox or a file for appending
 * SYNOPSIS
 *	See mbox_open.h.
 * DESCRIPTION
 *	The order is the one Debian's mail programs expect for
 *	/var/mail: dot lock, open, kernel lock. Reading the lock
 *	parameters here (deliver_lock_attempts, deliver_lock_delay,
 *	stale_lock_time) keeps every caller the same.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mbox_open.h"

int     mbox_lock_mask(const char *list)
{
    char   *copy = mystrdup(list);
    char   *cp = copy;
    char   *name;
    int     mask = 0;

    while ((name = mystrtok(&cp, ", \t\r\n")) != 0) {
	if (strcasecmp(name, "flock") == 0)
	    mask |= MBOX_LOCK_FLOCK;
	else if (strcasecmp(name, "fcntl") == 0)
	    mask |= MBOX_LOCK_FCNTL;
	else if (strcasecmp(name, "dotlock") == 0)
	    mask |= MBOX_LOCK_DOT;
	else
	    msg_fatal("invalid %s value: \"%s\"", VAR_MAILBOX_DELIVERY_LOCK, name);
    }
    myfree(copy);
    return (mask);
}

const char *mbox_dsn(int err, const char *def_dsn)
{
    switch (err) {
    case EDQUOT:
    case EFBIG:
	return ("5.2.2");
    case ENOSPC:
    case EIO:
    case EAGAIN:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case ESTALE:
	return ("4.3.0");
    default:
	return (def_dsn);
    }
}

static void set_error(MBOX_ERROR *err, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(MBOX_ERROR *err, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    snprintf(err->dsn, sizeof(err->dsn), "%s", dsn);
    vstring_reset(err->text);
    va_start(ap, fmt);
    vstring_vsprintf_append(err->text, fmt, ap);
    va_end(ap);
}

/* lock_delay - the wait between two tries */
static void lock_delay(void)
{
    long    delay = mail_conf_time(VAR_DELIVER_LOCK_DELAY);

    if (delay > 0)
	sleep((unsigned) delay);
}

/* dot_lock - make path.lock; 0, or -1 with errno */
static int dot_lock(const char *lock_path)
{
    long    attempts = mail_conf_int(VAR_DELIVER_LOCK_ATTEMPTS);
    long    stale = mail_conf_time(VAR_STALE_LOCK_TIME);
    struct stat st;
    int     fd;

    for (long i = 0; i < (attempts > 0 ? attempts : 1); i++) {
	if (i > 0)
	    lock_delay();
	if ((fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL, 0)) >= 0) {
	    close(fd);
	    return (0);
	}
	if (errno != EEXIST)
	    return (-1);
	/* A lock that nobody touched for stale_lock_time is abandoned. */
	if (lstat(lock_path, &st) == 0 && st.st_ctime < time((time_t *) 0) - stale)
	    (void) unlink(lock_path);
	errno = EEXIST;
    }
    return (-1);
}

/* kernel_lock - fcntl and/or flock, non-blocking, with retries */
static int kernel_lock(int fd, int mask)
{
    long    attempts = mail_conf_int(VAR_DELIVER_LOCK_ATTEMPTS);
    struct flock lk;

    for (long i = 0; i < (attempts > 0 ? attempts : 1); i++) {
	int     ok = 1;

	if (i > 0)
	    lock_delay();
	if (mask & MBOX_LOCK_FCNTL) {
	    memset(&lk, 0, sizeof(lk));
	    lk.l_type = F_WRLCK;
	    lk.l_whence = SEEK_SET;
	    if (fcntl(fd, F_SETLK, &lk) < 0)
		ok = 0;
	}
	if (ok && (mask & MBOX_LOCK_FLOCK) && flock(fd, LOCK_EX | LOCK_NB) < 0)
	    ok = 0;
	if (ok)
	    return (0);
	if (errno != EAGAIN && errno != EACCES && errno != EWOULDBLOCK)
	    return (-1);
    }
    errno = EAGAIN;
    return (-1);
}

/* open_file - the file itself: existing (checked) or new */
static int open_file(const char *path, int flags, uid_t chown_uid, gid_t chown_gid,
		             struct stat *st, MBOX_ERROR *err)
{
    struct stat lst;
    int     fd;

    for (int tries = 0; tries < 2; tries++) {
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOFOLLOW)) >= 0) {
	    if (fstat(fd, st) < 0 || lstat(path, &lst) < 0) {
		set_error(err, mbox_dsn(errno, "5.2.0"), "cannot open file: %s", strerror(errno));
		close(fd);
		return (-1);
	    }
	    if (S_ISLNK(lst.st_mode)) {
		set_error(err, "5.2.0", "file is a symbolic link");
		close(fd);
		return (-1);
	    }
	    if (lst.st_dev != st->st_dev || lst.st_ino != st->st_ino) {
		set_error(err, "4.2.0", "file was replaced while it was opened");
		close(fd);
		return (-1);
	    }
	    if (S_ISREG(st->st_mode) && st->st_nlink != 1) {
		set_error(err, "5.2.0", "file has %lu hard links", (unsigned long) st->st_nlink);
		close(fd);
		return (-1);
	    }
	    break;
	}
	if (errno == ELOOP || (errno == EMLINK && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))) {
	    set_error(err, "5.2.0", "file is a symbolic link");
	    return (-1);
	}
	if (errno != ENOENT || !(flags & MBOX_CREATE)) {
	    set_error(err, mbox_dsn(errno, "5.2.0"), "cannot open file: %s", strerror(errno));
	    return (-1);
	}
	/* Missing: create it, exclusively; someone may be quicker. */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CREAT | O_EXCL, 0600)) >= 0) {
	    if (fstat(fd, st) < 0
		|| (chown_uid != (uid_t) -1 && fchown(fd, chown_uid, chown_gid) < 0)) {
		set_error(err, mbox_dsn(errno, "5.2.0"), "cannot create file: %s", strerror(errno));
		close(fd);
		(void) unlink(path);
		return (-1);
	    }
	    if (chown_uid != (uid_t) -1) {
		st->st_uid = chown_uid;
		st->st_gid = chown_gid;
	    }
	    break;
	}
	if (errno != EEXIST) {
	    set_error(err, mbox_dsn(errno, "5.2.0"), "cannot create file exclusively: %s", strerror(errno));
	    return (-1);
	}
    }
    if (fd < 0) {
	set_error(err, "4.2.0", "cannot open file: %s", strerror(errno));
	return (-1);
    }
    /* Appends need no non-blocking mode; a FIFO must not stall us though. */
    if (S_ISREG(st->st_mode))
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return (fd);
}

MBOX   *mbox_open(const char *path, int lock_mask, int flags,
		          uid_t chown_uid, gid_t chown_gid, MBOX_ERROR *err)
{
    MBOX   *mbox = mycalloc(1, sizeof(*mbox));
    struct stat st;
    int     fd;

    /* Devices (/dev/null) are neither locked nor created. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
	lock_mask = 0;

    if (lock_mask & MBOX_LOCK_DOT) {
	VSTRING *lock_path = vstring_alloc(100);

	vstring_sprintf(lock_path, "%s.lock", path);
	if (dot_lock(vstring_str(lock_path)) == 0) {
	    mbox->lock_path = vstring_export(lock_path);
	} else if ((flags & MBOX_DOT_LOCK_MAY_FAIL) && errno != EEXIST) {
	    msg_warn("unable to create lock file %s: %m", vstring_str(lock_path));
	    vstring_free(lock_path);
	} else {
	    set_error(err, errno == EEXIST ? "4.2.0" : mbox_dsn(errno, "5.2.0"),
		      "unable to create lock file %s: %s",
		      vstring_str(lock_path), strerror(errno));
	    vstring_free(lock_path);
	    myfree(mbox);
	    return (0);
	}
    }
    if ((fd = open_file(path, flags, chown_uid, chown_gid, &mbox->st, err)) < 0) {
	mbox_release(mbox);
	return (0);
    }
    mbox->fp = vstream_fdopen(fd);
    if (S_ISREG(mbox->st.st_mode)
	&& (lock_mask & (MBOX_LOCK_FCNTL | MBOX_LOCK_FLOCK))
	&& kernel_lock(fd, lock_mask) < 0) {
	set_error(err, "4.2.0", "unable to lock for exclusive access: %s", strerror(errno));
	mbox_release(mbox);
	return (0);
    }
    return (mbox);
}

void    mbox_release(MBOX *mbox)
{
    if (mbox->fp)
	(void) vstream_close(mbox->fp);
    if (mbox->lock_path) {
	if (unlink(mbox->lock_path) < 0 && errno != ENOENT)
	    msg_warn("remove lock file %s: %m", mbox->lock_path);
	myfree(mbox->lock_path);
    }
    myfree(mbox);
}
