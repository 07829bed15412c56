/*
 * NAME
 *	local_maildir - deliver into a qmail-style Maildir
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_maildir(LOCAL_STATE *state, const char *path, int copy_flags,
 *			  VSTRING *why, char *dsn);
 * DESCRIPTION
 *	local_maildir() writes the message into path (which ends in "/")
 *	with the caller's effective ids, the Maildir way: a new file
 *	tmp/TIME.PPID.HOST (the folders tmp, new and cur are made, mode
 *	0700, when they are missing), written and synced, then linked as
 *	new/TIME.VDEVIINODEMUSEC.HOST (Postfix's unique name: device and
 *	inode in hex, microseconds) and the tmp/ name removed. HOST is
 *	the host name with "/" and ":" written as \057 and \072.
 *	mailbox_size_limit limits the size of the file.
 *
 *	Maildir files get Return-Path:, X-Original-To: and Delivered-To:
 *	headers as copy_flags say, no "From " line and no quoting.
 * DIAGNOSTICS
 *	0, or -1 with why ("create maildir file PATH: ...", "link to
 *	maildir file PATH: ...", "error writing message: ...") and dsn
 *	(mbox_dsn(errno, "5.2.0")).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_copy.h"
#include "global/mbox_open.h"
#include "local.h"

/* maildir_host - the host name, safe for a Maildir file name */
static void maildir_host(VSTRING *out)
{
    char    host[256];

    if (gethostname(host, sizeof(host) - 1) < 0)
	snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    vstring_reset(out);
    for (const char *cp = host; *cp; cp++) {
	if (*cp == '/')
	    vstring_strcat(out, "\\057");
	else if (*cp == ':')
	    vstring_strcat(out, "\\072");
	else
	    vstring_addch(out, *cp);
    }
}

/* make_dirs - path, path/tmp, new and cur */
static int make_dirs(const char *path)
{
    static const char *const sub[] = {"", "tmp", "new", "cur"};
    VSTRING *dir = vstring_alloc(100);
    int     ret = 0;

    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]) && ret == 0; i++) {
	vstring_sprintf(dir, "%s%s", path, sub[i]);
	if (mkdir(vstring_str(dir), 0700) < 0 && errno != EEXIST)
	    ret = -1;
    }
    vstring_free(dir);
    return (ret);
}

int     local_maildir(LOCAL_STATE *state, const char *path, int copy_flags,
		              VSTRING *why, char *dsn)
{
    DELIVER_REQUEST *req = state->msg->req;
    VSTRING *host = vstring_alloc(64);
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *new = vstring_alloc(100);
    struct timeval now;
    struct stat st;
    MAIL_COPY_ENV env;
    struct rlimit old;
    struct rlimit lim;
    VSTREAM *fp;
    int     fd;
    int     status;
    int     ret = -1;

    maildir_host(host);
    gettimeofday(&now, (struct timezone *) 0);
    vstring_sprintf(tmp, "%stmp/%lu.P%d.%s", path, (unsigned long) now.tv_sec,
		    (int) getpid(), vstring_str(host));
    if ((fd = open(vstring_str(tmp), O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0
	&& errno == ENOENT && make_dirs(path) == 0)
	fd = open(vstring_str(tmp), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
	int     err = errno;

	vstring_sprintf(why, "create maildir file %s: %s", vstring_str(tmp), strerror(err));
	snprintf(dsn, 16, "%s", mbox_dsn(err, "5.2.0"));
	goto out;
    }
    fp = vstream_fdopen(fd);
    env.sender = state->sender;
    env.orig_rcpt = state->orig;
    env.delivered = state->delivered;
    env.eol = 0;
    if (local_conf.mailbox_limit > 0) {
	(void) getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t) local_conf.mailbox_limit;
	if (old.rlim_max != RLIM_INFINITY && lim.rlim_cur > old.rlim_max)
	    lim.rlim_cur = old.rlim_max;
	(void) setrlimit(RLIMIT_FSIZE, &lim);
    }
    status = mail_copy(state->msg->fp, req->data_offset, req->data_size, fp,
		       copy_flags, &env, why);
    if (status == 0 && fsync(fd) < 0) {
	status = MAIL_COPY_STAT_WRITE;
	vstring_sprintf(why, "error writing message: %m");
    }
    if (local_conf.mailbox_limit > 0)
	(void) setrlimit(RLIMIT_FSIZE, &old);
    if (status != 0) {
	int     err = errno;

	snprintf(dsn, 16, "%s", (status & MAIL_COPY_STAT_WRITE) ?
		 mbox_dsn(err, "5.2.0") : "4.3.0");
	(void) vstream_close(fp);
	(void) unlink(vstring_str(tmp));
	goto out;
    }
    if (fstat(fd, &st) < 0 || vstream_close(fp) != 0) {
	int     err = errno;

	vstring_sprintf(why, "error writing message: %s", strerror(err));
	snprintf(dsn, 16, "%s", mbox_dsn(err, "5.2.0"));
	(void) unlink(vstring_str(tmp));
	goto out;
    }
    vstring_sprintf(new, "%snew/%lu.V%lxI%lxM%lu.%s", path, (unsigned long) now.tv_sec,
		    (unsigned long) st.st_dev, (unsigned long) st.st_ino,
		    (unsigned long) now.tv_usec, vstring_str(host));
    if (link(vstring_str(tmp), vstring_str(new)) < 0) {
	int     err = errno;

	vstring_sprintf(why, "link to maildir file %s: %s", vstring_str(new), strerror(err));
	snprintf(dsn, 16, "%s", mbox_dsn(err, "5.2.0"));
	(void) unlink(vstring_str(tmp));
	goto out;
    }
    (void) unlink(vstring_str(tmp));
    ret = 0;

out:
    vstring_free(host);
    vstring_free(tmp);
    vstring_free(new);
    return (ret);
}
