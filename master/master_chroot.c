/*
 * NAME
 *	master_chroot - the files name resolution needs, inside the queue
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_chroot_files(MASTER_CONF *conf);
 * DESCRIPTION
 *	When master runs as root and at least one service of master.cf is
 *	chrooted, the chrooted children read /etc/hosts, /etc/resolv.conf
 *	and friends under queue_directory. Like Debian's Postfix
 *	packaging, master copies etc/resolv.conf, etc/hosts,
 *	etc/nsswitch.conf, etc/services, etc/host.conf and etc/localtime
 *	to the same paths under queue_directory, plus the file named by
 *	resolv_conf when it is not /etc/resolv.conf (the DNS client opens
 *	that path inside the chroot). Called at start and at reload; a
 *	file is rewritten only when its content changed (through a
 *	temporary file and rename, so a reader never sees half a file).
 *	A source that does not exist is skipped.
 * DIAGNOSTICS
 *	Warnings for files that cannot be read or written; master keeps
 *	running (the children then resolve less).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "master.h"

static const char *chroot_files[] = {
    "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/services",
    "/etc/host.conf", "/etc/localtime", 0,
};

/* read_all - a whole file into buf; -1 with errno on error */
static int read_all(const char *path, VSTRING *buf)
{
    char    chunk[8192];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
	return (-1);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    int     saved = errno;

	    close(fd);
	    errno = saved;
	    return (-1);
	}
	vstring_memcat(buf, chunk, n);
    }
    close(fd);
    return (0);
}

/* make_parents - mkdir -p for the folders of path (relative to the queue) */
static int make_parents(const char *path)
{
    VSTRING *part = vstring_alloc(100);
    const char *cp;
    int     ret = 0;

    for (cp = strchr(path + 1, '/'); cp; cp = strchr(cp + 1, '/')) {
	vstring_strncpy(part, path, cp - path);
	if (mkdir(vstring_str(part), 0755) < 0 && errno != EEXIST) {
	    ret = -1;
	    break;
	}
    }
    vstring_free(part);
    return (ret);
}

/* copy_one - src to queue_dir/src when the content differs */
static void copy_one(const char *queue_dir, const char *src)
{
    VSTRING *want = vstring_alloc(1024);
    VSTRING *have = vstring_alloc(1024);
    VSTRING *dst = vstring_alloc(100);
    VSTRING *tmp = vstring_alloc(100);
    int     fd;

    if (read_all(src, want) < 0) {
	if (errno != ENOENT)
	    msg_warn("cannot copy %s into the chroot: %s", src, strerror(errno));
	goto done;
    }
    vstring_sprintf(dst, "%s%s", queue_dir, src);
    if (read_all(vstring_str(dst), have) == 0
	&& vstring_len(have) == vstring_len(want)
	&& memcmp(vstring_str(have), vstring_str(want), vstring_len(want)) == 0)
	goto done;
    if (make_parents(vstring_str(dst)) < 0) {
	msg_warn("mkdir for %s: %s", vstring_str(dst), strerror(errno));
	goto done;
    }
    vstring_sprintf(tmp, "%s.%ld.tmp", vstring_str(dst), (long) getpid());
    if ((fd = open(vstring_str(tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
	msg_warn("create %s: %s", vstring_str(tmp), strerror(errno));
	goto done;
    }
    if (write(fd, vstring_str(want), vstring_len(want)) != (ssize_t) vstring_len(want)
	|| fchmod(fd, 0644) < 0 || close(fd) < 0) {
	msg_warn("write %s: %s", vstring_str(tmp), strerror(errno));
	(void) unlink(vstring_str(tmp));
	goto done;
    }
    if (rename(vstring_str(tmp), vstring_str(dst)) < 0) {
	msg_warn("rename %s to %s: %s", vstring_str(tmp), vstring_str(dst), strerror(errno));
	(void) unlink(vstring_str(tmp));
	goto done;
    }
    if (msg_verbose)
	msg_info("copied %s to %s", src, vstring_str(dst));
done:
    vstring_free(want);
    vstring_free(have);
    vstring_free(dst);
    vstring_free(tmp);
}

void    master_chroot_files(MASTER_CONF *conf)
{
    const char *queue_dir = mail_conf_str(VAR_QUEUE_DIRECTORY);
    const char *resolv = mail_conf_str(VAR_RESOLV_CONF);
    int     any = 0;

    if (geteuid() != 0 || conf == 0)
	return;
    for (size_t i = 0; i < conf->count && !any; i++)
	any = conf->ents[i]->chroot;
    if (!any)
	return;
    for (int i = 0; chroot_files[i]; i++)
	copy_one(queue_dir, chroot_files[i]);
    if (*resolv == '/' && strcmp(resolv, "/etc/resolv.conf") != 0)
	copy_one(queue_dir, resolv);
}
