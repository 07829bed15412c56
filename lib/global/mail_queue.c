/*
 * NAME
 *	mail_queue - queue folders, queue IDs and message file paths
 * SYNOPSIS
 *	#include "global/mail_queue.h"
 * DESCRIPTION
 *	See mail_queue.h. All paths are relative to queue_directory (the
 *	caller's working directory).
 *
 *	Short queue IDs are "%05X%lX": the microseconds of the creation
 *	time in five hex digits, then the inode number in hex. Long queue
 *	IDs (enable_long_queue_ids) are the seconds in base 52 (at least
 *	six digits), the microseconds in four base-52 digits, the letter
 *	"z", then the inode number in base 51; the alphabet is 0-9 and the
 *	consonants, upper case first, so an ID holds no vowel. The base-52
 *	digits may include "z" (the last digit); the inode part never
 *	does, so the separator is the last "z".
 *
 *	Hashed queues (hash_queue_names) have hash_queue_depth levels of
 *	one-character folders. The characters are the hex digits of the
 *	microseconds, which for short IDs are simply the first characters
 *	of the ID; long IDs are converted first, so both shapes land in the
 *	same folders.
 *
 *	mail_queue_enter() creates the file without a name (O_TMPFILE)
 *	and links it under its queue ID (link fails instead of replacing an
 *	existing name), both through the queue folder's kept descriptor
 *	(mail_queue_dir_fd()), which is also what mail_queue_sync() fsyncs. Where that cannot be done (no O_TMPFILE, no /proc
 *	in a chroot) it writes "queue/T<pid>.<counter>" first, links that
 *	under its queue ID and removes the temporary name.
 * DIAGNOSTICS
 *	Functions that touch the file system return -1 (or a null
 *	stream) with errno set; mail_queue_mkdirs() logs what failed.
 */
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_pool.h"

static const char lg_alphabet[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

#define LG_SEC_BASE	52
#define LG_INUM_BASE	51
#define LG_SEC_PAD	6
#define LG_USEC_PAD	4
#define LG_SEPARATOR	'z'
#define SH_USEC_PAD	5
#define SH_MAX_LEN	(SH_USEC_PAD + 16)
#define LG_MAX_LEN	40

/* lg_digit - value of one long-ID digit, -1 if not one */
static int lg_digit(int ch, int base)
{
    const char *cp;

    if (ch == 0 || (cp = strchr(lg_alphabet, ch)) == 0 || cp - lg_alphabet >= base)
	return (-1);
    return ((int) (cp - lg_alphabet));
}

/* lg_encode - append a number in base 52 or 51, padded with "0" */
static void lg_encode(VSTRING *buf, unsigned long long value, int base, int pad)
{
    char    tmp[64];
    int     n = 0;

    do {
	tmp[n++] = lg_alphabet[value % base];
	value /= base;
    } while (value > 0);
    while (n < pad)
	tmp[n++] = '0';
    while (n > 0)
	vstring_addch(buf, tmp[--n]);
}

/* make_id - the queue ID for a file of this inode created now */
static void make_id(VSTRING *id, const struct timeval *tv, ino_t ino)
{
    vstring_reset(id);
    if (mail_conf_bool(VAR_ENABLE_LONG_QUEUE_IDS)) {
	lg_encode(id, (unsigned long long) tv->tv_sec, LG_SEC_BASE, LG_SEC_PAD);
	lg_encode(id, (unsigned long long) tv->tv_usec, LG_SEC_BASE, LG_USEC_PAD);
	vstring_addch(id, LG_SEPARATOR);
	lg_encode(id, (unsigned long long) ino, LG_INUM_BASE, 1);
    } else {
	vstring_sprintf(id, "%05X%llX", (unsigned) tv->tv_usec,
			(unsigned long long) ino);
    }
}

int     mail_queue_id_ok(const char *id)
{
    size_t  len;
    const char *sep;

    if (id == 0 || (len = strlen(id)) == 0)
	return (0);

    /* Short: upper-case hex only. */
    if (strspn(id, "0123456789ABCDEF") == len)
	return (len > SH_USEC_PAD && len <= SH_MAX_LEN);

    /* Long: seconds, microseconds, "z", inode number. */
    if (len > LG_MAX_LEN || (sep = strrchr(id, LG_SEPARATOR)) == 0
	|| sep - id < LG_SEC_PAD + LG_USEC_PAD || sep[1] == 0)
	return (0);
    for (const char *cp = id; cp < sep; cp++)
	if (lg_digit(*cp, LG_SEC_BASE) < 0)
	    return (0);
    for (const char *cp = sep + 1; *cp; cp++)
	if (lg_digit(*cp, LG_INUM_BASE) < 0)
	    return (0);
    return (1);
}

/* hash_digits - the hex digits of the microseconds of an ID */
static void hash_digits(char *out, const char *id)
{
    const char *sep;

    if ((sep = strrchr(id, LG_SEPARATOR)) != 0 && sep - id >= LG_USEC_PAD) {
	unsigned long usec = 0;
	int     d;

	for (const char *cp = sep - LG_USEC_PAD; cp < sep; cp++) {
	    if ((d = lg_digit(*cp, LG_SEC_BASE)) < 0)
		d = 0;
	    usec = usec * LG_SEC_BASE + d;
	}
	for (int i = SH_USEC_PAD - 1; i >= 0; i--) {
	    out[i] = "0123456789ABCDEF"[usec & 0xf];
	    usec >>= 4;
	}
    } else {
	int     i;

	for (i = 0; i < SH_USEC_PAD && id[i]; i++)
	    out[i] = id[i];
	for (; i < SH_USEC_PAD; i++)
	    out[i] = '0';
    }
    out[SH_USEC_PAD] = 0;
}

/* queue_is_hashed - is the queue listed in hash_queue_names? */
static int queue_is_hashed(const char *queue)
{
    static char *split_from;		/* the value "names" was split from */
    static ARGV *names;
    const char *value = mail_conf_str(VAR_HASH_QUEUE_NAMES);
    int     found = 0;

    /* Split again only when the setting changed (a configuration reload). */
    if (names == 0 || strcmp(split_from, value) != 0) {
	if (names)
	    argv_free(names);
	myfree(split_from);
	split_from = mystrdup(value);
	names = argv_split(value, ", \t\r\n");
    }
    for (size_t i = 0; i < names->argc && !found; i++)
	found = strcmp(names->argv[i], queue) == 0;
    return (found);
}

/* mail_queue_dir - the folder of one message: "deferred/7" or "incoming" */
static const char *mail_queue_dir(VSTRING *buf, const char *queue, const char *id)
{
    vstring_strcpy(buf, queue);
    if (queue_is_hashed(queue)) {
	char    digits[SH_USEC_PAD + 1];
	long    depth = mail_conf_int(VAR_HASH_QUEUE_DEPTH);

	hash_digits(digits, id);
	for (long i = 0; i < depth && i < SH_USEC_PAD; i++) {
	    vstring_addch(buf, '/');
	    vstring_addch(buf, digits[i]);
	}
    }
    return (vstring_str(buf));
}

const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id)
{
    mail_queue_dir(buf, queue, id);
    vstring_addch(buf, '/');
    vstring_strcat(buf, id);
    return (vstring_str(buf));
}

/* make_parents - create the hash folders of a message's path */
static int make_parents(const char *queue, const char *id)
{
    VSTRING *dir = vstring_alloc(64);
    char   *cp;
    int     ret = 0;

    mail_queue_dir(dir, queue, id);
    for (cp = vstring_str(dir) + strlen(queue); ret == 0 && cp; cp = strchr(cp + 1, '/')) {
	char    saved = *cp;

	if (saved == 0)
	    break;
	*cp = 0;
	if (mkdir(vstring_str(dir), 0700) < 0 && errno != EEXIST)
	    ret = -1;
	*cp = saved;
    }
    if (ret == 0 && mkdir(vstring_str(dir), 0700) < 0 && errno != EEXIST)
	ret = -1;
    vstring_free(dir);
    return (ret);
}

/*
 * Queue folder descriptors, opened at first use relative to the working
 * directory of that moment (queue_directory: daemons chdir there, and
 * chroot there, before they write a message) and kept open: a folder is
 * fsynced through the descriptor that its new entries were made in.
 */
#define QUEUE_FD_MAX	16

static struct {
    char   *name;
    int     fd;
} queue_fds[QUEUE_FD_MAX];

int     mail_queue_dir_fd(const char *queue)
{
    int     i;
    int     fd;

    for (i = 0; i < QUEUE_FD_MAX && queue_fds[i].name; i++)
	if (strcmp(queue_fds[i].name, queue) == 0)
	    return (queue_fds[i].fd);
    fd = open(queue, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#ifdef O_PATH
    /* maildrop/ for postdrop: write and search, no read; no fsync then. */
    if (fd < 0 && errno == EACCES)
	fd = open(queue, O_PATH | O_DIRECTORY | O_CLOEXEC);
#endif
    if (fd < 0)
	return (-1);
    if (i < QUEUE_FD_MAX) {
	queue_fds[i].name = mystrdup(queue);
	queue_fds[i].fd = fd;
	return (fd);
    }
    /* More folders than expected: not kept (the caller closes nothing). */
    (void) close(fd);
    errno = EMFILE;
    return (-1);
}

int     mail_queue_hashed(const char *queue)
{
    return (queue_is_hashed(queue));
}

/* sync_path - fsync one folder by name */
static int sync_path(const char *dir)
{
    int     fd;
    int     ret;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	return (-1);
    ret = fsync(fd);
    if (close(fd) < 0)
	ret = -1;
    return (ret);
}

int     mail_queue_sync(const char *queue, const char *id)
{
    VSTRING *dir;
    char   *cp;
    int     fd;
    int     ret = 0;

    if (!queue_is_hashed(queue)) {
	if ((fd = mail_queue_dir_fd(queue)) < 0
	    || ((ret = fsync(fd)) < 0 && errno == EBADF))
	    return (sync_path(queue));
	return (ret);
    }
    /* "deferred/7/2": the entry's folder, and each folder above it. */
    dir = vstring_alloc(64);
    mail_queue_dir(dir, queue, id);
    do {
	if (sync_path(vstring_str(dir)) < 0)
	    ret = -1;
	if ((cp = strrchr(vstring_str(dir), '/')) != 0)
	    vstring_truncate(dir, cp - vstring_str(dir));
    } while (ret == 0 && cp != 0);
    vstring_free(dir);
    return (ret);
}

/* No O_TMPFILE here, no /proc (a chroot), or a file system that will not link. */
static int unnamed_unavailable;

/*
 * unnamed_open - an O_TMPFILE file in queue (through the folder's kept
 * descriptor) that mail_queue_link_fd() can name later; -1 when this
 * way is not available here.
 */
static int unnamed_open(const char *queue, int mode, struct stat *st)
{
#ifdef O_TMPFILE
    char    proc_path[64];
    int     dfd;
    int     fd;

    if (unnamed_unavailable || (dfd = mail_queue_dir_fd(queue)) < 0)
	return (-1);
    if ((fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode & ~S_IXUSR)) < 0) {
	unnamed_unavailable = 1;
	return (-1);
    }
    /* The link goes through /proc (not there in a chroot). */
    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
    if (fstat(fd, st) < 0 || access(proc_path, F_OK) < 0) {
	unnamed_unavailable = 1;
	close(fd);
	return (-1);
    }
    return (fd);
#else
    (void) queue;
    (void) mode;
    (void) st;
    return (-1);
#endif
}

int     mail_queue_link_fd(int fd, const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    char    proc_path[64];
    size_t  skip = strlen(queue) + 1;
    int     saved_errno;
    int     dfd;
    int     ret = -1;

    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
    mail_queue_path(path, queue, id);
    if ((dfd = mail_queue_dir_fd(queue)) >= 0) {
	ret = linkat(AT_FDCWD, proc_path, dfd, vstring_str(path) + skip, AT_SYMLINK_FOLLOW);
	if (ret < 0 && errno == ENOENT && make_parents(queue, id) == 0)
	    ret = linkat(AT_FDCWD, proc_path, dfd, vstring_str(path) + skip, AT_SYMLINK_FOLLOW);
	if (ret < 0 && errno != EEXIST)
	    unnamed_unavailable = 1;		/* new files are named at once */
    }
    saved_errno = errno;
    vstring_free(path);
    errno = saved_errno;
    return (ret);
}

/*
 * enter_unnamed - an O_TMPFILE file in queue, linked under a new queue
 * ID at once; the descriptor, or -1 when this way is not available here.
 */
static int enter_unnamed(const char *queue, int mode, VSTRING *id, struct stat *st)
{
    struct timeval tv;
    int     fd;

    if ((fd = unnamed_open(queue, mode, st)) < 0)
	return (-1);
    for (;;) {
	gettimeofday(&tv, (struct timezone *) 0);
	make_id(id, &tv, st->st_ino);
	if (mail_queue_link_fd(fd, queue, vstring_str(id)) == 0)
	    return (fd);
	if (errno != EEXIST) {
	    close(fd);
	    return (-1);
	}
	usleep(1);
    }
}

VSTREAM *mail_queue_enter_unnamed(const char *queue, int mode, VSTRING *id,
				          struct stat *st)
{
    struct timeval tv;
    int     fd;

    if ((fd = unnamed_open(queue, mode, st)) < 0)
	return (0);
    gettimeofday(&tv, (struct timezone *) 0);
    make_id(id, &tv, st->st_ino);
    return (vstream_fdopen(fd));
}

VSTREAM *mail_queue_enter(const char *queue, int mode, VSTRING *id)
{
    struct stat st;

    return (mail_queue_enter_stat(queue, mode, id, &st));
}

VSTREAM *mail_queue_enter_stat(const char *queue, int mode, VSTRING *id,
			               struct stat *st)
{
    static unsigned counter;
    VSTRING *temp = vstring_alloc(64);
    VSTRING *path = vstring_alloc(64);
    struct timeval tv;
    int     fd;
    int     saved_errno;

    /*
     * First choice: a file without a name (O_TMPFILE), linked under its
     * queue ID below; it needs no temporary name, and a crash before the
     * link leaves nothing behind. Where that is not possible (no
     * O_TMPFILE in this file system, no /proc in a chroot) a temporary
     * name that no other process uses: our pid and a counter. A
     * leftover from a crashed process with our pid is replaced.
     */
    if ((fd = enter_unnamed(queue, mode, id, st)) >= 0) {
	vstring_free(temp);
	vstring_free(path);
	return (vstream_fdopen(fd));
    }
    for (;;) {
	vstring_sprintf(temp, "%s/T%ld.%u", queue, (long) getpid(), counter++);
	if ((fd = open(vstring_str(temp), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		       mode & ~S_IXUSR)) >= 0)
	    break;
	if (errno != EEXIST)
	    goto fail;
	(void) unlink(vstring_str(temp));
    }
    if (fstat(fd, st) < 0)
	goto fail_unlink;

    /* Link under the queue ID; retry with a new time if the name exists. */
    for (;;) {
	gettimeofday(&tv, (struct timezone *) 0);
	make_id(id, &tv, st->st_ino);
	mail_queue_path(path, queue, vstring_str(id));
	if (link(vstring_str(temp), vstring_str(path)) == 0)
	    break;
	if (errno == ENOENT && make_parents(queue, vstring_str(id)) == 0)
	    continue;
	if (errno != EEXIST)
	    goto fail_unlink;
	usleep(1);
    }
    (void) unlink(vstring_str(temp));
    vstring_free(temp);
    vstring_free(path);
    return (vstream_fdopen(fd));

fail_unlink:
    saved_errno = errno;
    (void) unlink(vstring_str(temp));
    close(fd);
    errno = saved_errno;
fail:
    saved_errno = errno;
    vstring_free(temp);
    vstring_free(path);
    errno = saved_errno;
    return (0);
}

void   *mail_queue_shared_page(const char *path, size_t size)
{
    struct stat st;
    void   *ptr;
    int     fd;

    /* Root does not create it or use it: mail_owner's processes share it. */
    if (!__atomic_always_lock_free(sizeof(uint64_t), 0) || geteuid() == 0)
	return (0);
    if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
	return (0);
    /* A file of an older version is shorter: it grows with zeros. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()
	|| (st.st_mode & 077) != 0
	|| (st.st_size < (off_t) size && ftruncate(fd, size) < 0)) {
	(void) close(fd);
	return (0);
    }
    ptr = mmap((void *) 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    (void) close(fd);
    return (ptr == MAP_FAILED ? 0 : ptr);
}

VSTREAM *mail_queue_reuse(int mode, VSTRING *id, struct stat *st, VSTRING *path)
{
    struct timeval tv;
    int     fd;

    if ((fd = queue_pool_take(path, st)) < 0)
	return (0);

    /*
     * A file with the mode of a complete message keeps it: it is in
     * pool/, where no reader looks, and it gets a queue name only when
     * complete again, so the mode need not change (nor be synced). Any
     * other mode (a mark of flush(8) or postsuper -e) is reset, without
     * the complete mark.
     */
    if ((st->st_mode & 07777) != ((mode | S_IXUSR) & 07777)) {
	if (fchmod(fd, mode & ~S_IXUSR & 07777) < 0) {
	    (void) close(fd);
	    (void) unlink(vstring_str(path));
	    return (0);
	}
	st->st_mode = (st->st_mode & ~07777) | (mode & ~S_IXUSR & 07777);
    }
    /* The inode is ours alone: the ID is unique as for a new file. */
    gettimeofday(&tv, (struct timezone *) 0);
    make_id(id, &tv, st->st_ino);
    return (vstream_fdopen(fd));
}

int     mail_queue_publish(const char *path, const char *queue, const char *id)
{
    VSTRING *new_path = vstring_alloc(64);
    int     ret;
    int     saved_errno;

    mail_queue_path(new_path, queue, id);
    ret = renameat2(AT_FDCWD, path, AT_FDCWD, vstring_str(new_path), RENAME_NOREPLACE);
    if (ret < 0 && errno == ENOENT && access(path, F_OK) == 0
	&& make_parents(queue, id) == 0)
	ret = renameat2(AT_FDCWD, path, AT_FDCWD, vstring_str(new_path), RENAME_NOREPLACE);
    saved_errno = errno;
    vstring_free(new_path);
    errno = saved_errno;
    return (ret);
}

int     mail_queue_rename(const char *id, const char *from, const char *to)
{
    VSTRING *old_path = vstring_alloc(64);
    VSTRING *new_path = vstring_alloc(64);
    int     ret;

    mail_queue_path(old_path, from, id);
    mail_queue_path(new_path, to, id);
    ret = rename(vstring_str(old_path), vstring_str(new_path));
    if (ret < 0 && errno == ENOENT && access(vstring_str(old_path), F_OK) == 0
	&& make_parents(to, id) == 0)
	ret = rename(vstring_str(old_path), vstring_str(new_path));
    {
	int     saved_errno = errno;

	vstring_free(old_path);
	vstring_free(new_path);
	errno = saved_errno;
    }
    return (ret);
}

int     mail_queue_remove(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    int     ret;
    int     saved_errno;

    ret = unlink(mail_queue_path(path, queue, id));
    saved_errno = errno;
    vstring_free(path);
    errno = saved_errno;
    return (ret);
}

/* make_dir - one folder with its owner, group and mode, fixing old ones */
static int make_dir(const char *name, uid_t owner, gid_t group, mode_t mode)
{
    struct stat st;

    if (mkdir(name, mode) < 0 && errno != EEXIST) {
	msg_warn("mkdir %s: %s", name, strerror(errno));
	return (-1);
    }
    if (lstat(name, &st) < 0 || !S_ISDIR(st.st_mode)) {
	msg_warn("%s: not a directory", name);
	return (-1);
    }
    if ((st.st_uid != owner || st.st_gid != group)
	&& geteuid() == 0 && lchown(name, owner, group) < 0) {
	msg_warn("chown %s: %s", name, strerror(errno));
	return (-1);
    }
    if ((st.st_mode & 07777) != mode && chmod(name, mode) < 0) {
	msg_warn("chmod %s: %s", name, strerror(errno));
	return (-1);
    }
    return (0);
}

int     mail_queue_mkdirs(uid_t owner, gid_t group)
{
    static const char *private_dirs[] = {
	MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
	MAIL_QUEUE_HOLD, MAIL_QUEUE_CORRUPT, MAIL_QUEUE_BOUNCE,
	MAIL_QUEUE_DEFER, MAIL_QUEUE_TRACE, MAIL_QUEUE_FLUSH,
	MAIL_QUEUE_SAVED, MAIL_QUEUE_POOL, "private",
    };
    gid_t   owner_gid = getegid();	/* Postfix: mail_owner, group root */
    int     ret = 0;

    /*
     * Message folders and private/: mail_owner only. public/: mail_owner
     * and setgid_group (postqueue), mode 0710. maildrop/: mail_owner and
     * setgid_group (postdrop), mode 1730: postdrop adds files, nobody
     * but mail_owner lists or removes them. pid/: whoever runs master.
     */
    for (size_t i = 0; i < sizeof(private_dirs) / sizeof(private_dirs[0]); i++)
	if (make_dir(private_dirs[i], owner, owner_gid, 0700) < 0)
	    ret = -1;
    if (make_dir("public", owner, group, 02710) < 0)
	ret = -1;
    if (make_dir(MAIL_QUEUE_MAILDROP, owner, group, 01730) < 0)
	ret = -1;
    if (make_dir("pid", geteuid(), getegid(), 0755) < 0)
	ret = -1;
    return (ret);
}
