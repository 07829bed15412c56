/*
 * NAME
 *	flush - fast flush: per-destination lists of deferred mail
 * SYNOPSIS
 *	flush [generic daemon options]	(master.cf: public/flush, wakeup 1000?)
 * DESCRIPTION
 *	Keeps, for each destination in fast_flush_domains (default
 *	$relay_domains; parent domains match subdomains as in Postfix), a
 *	list of the queue IDs of its deferred mail in flush/<site>, the
 *	site lower-cased with dots written as underscores. It serves the
 *	requests of flush_client.h on public/flush:
 *
 *	add site= queue_id=	qmgr deferred mail for site: append the ID.
 *	send_site site=		ETRN, postqueue -s: make every listed message
 *				that is still in deferred/ eligible now: set
 *				the flush mark (QMGR_FLUSH_MARK_MODE, the
 *				group-write bit, so qmgr delivers it even
 *				through a transport in defer_transports, this
 *				attempt only) and move the file from deferred/
 *				to incoming/, where qmgr takes it regardless
 *				of its next-attempt time; keep only those IDs
 *				in the list; when any was moved, wake qmgr
 *				(QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_INCOMING).
 *	send_file queue_id=	postqueue -i: the same for one message
 *				(an ID not in deferred/ is not an error).
 *	purge			postqueue -f: the same for every message in
 *				deferred/; qmgr is always woken, and also
 *				asked to scan deferred/
 *				(QMGR_REQ_SCAN_DEFERRED); then a refresh.
 *	refresh			also done on master's wakeup: lists not
 *				changed for fast_flush_refresh_time lose the
 *				IDs that are no longer deferred; empty lists
 *				not used for fast_flush_purge_time are removed.
 *
 *	The reply is status= one of FLUSH_STAT_OK, FLUSH_STAT_DENY (site
 *	not in fast_flush_domains), FLUSH_STAT_BAD (malformed request or
 *	site name), FLUSH_STAT_FAIL (the list could not be used, or the
 *	domain list lookup failed). A list is locked (flock) while it is
 *	appended to or rewritten, so concurrent flush processes agree.
 * DIAGNOSTICS
 *	Problems with files are logged as warnings and answered with
 *	FLUSH_STAT_FAIL; a malformed request is logged and answered with
 *	FLUSH_STAT_BAD.
 * SEE ALSO
 *	flush_client(3), postqueue(1), smtpd(8) (ETRN), qmgr(8),
 *	qmgr_trigger.h (the flush mark and the wakeup requests)
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/htable.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "dict/match_list.h"
#include "global/mail_list.h"
#include "global/qmgr_trigger.h"
#include "global/queue_scan.h"
#include "global/flush_client.h"

#define FLUSH_MAX_ID_LINE	100

static MATCH_LIST *flush_domains;

/* site_path - flush/<site>, or NULL when the site name is not usable */
static const char *site_path(VSTRING *buf, const char *site)
{
    const char *cp;

    if (*site == 0 || strlen(site) > 255 || *site == '.')
	return (0);
    vstring_strcpy(buf, MAIL_QUEUE_FLUSH "/");
    for (cp = site; *cp; cp++) {
	int     ch = (unsigned char) *cp;

	if (ch >= 'A' && ch <= 'Z')
	    ch += 'a' - 'A';
	if (ch == '.')
	    ch = '_';
	else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
		   || ch == '-' || ch == '_' || ch == '[' || ch == ']' || ch == ':'))
	    return (0);
	vstring_addch(buf, ch);
    }
    return (vstring_str(buf));
}

/* site_status - is the site eligible? FLUSH_STAT_OK, _DENY or _FAIL */
static int site_status(const char *site)
{
    switch (match_list_domain(flush_domains, site)) {
    case 1:
	return (FLUSH_STAT_OK);
    case 0:
	return (FLUSH_STAT_DENY);
    default:
	msg_warn("fast_flush_domains lookup for %s failed: %s", site,
		 match_list_error(flush_domains));
	return (FLUSH_STAT_FAIL);
    }
}

/*
 * mark_deferred - is the message in deferred/? With mark, make it
 * eligible now: set the flush mark (deliver even through a transport
 * in defer_transports) and move it to incoming/. qmgr takes a file
 * from incoming/ whatever its modification time (in deferred/ that is
 * the next-attempt time), and scans incoming/ at once when woken, so a
 * flush of one site never makes qmgr read all of deferred/. A file
 * that left deferred/ meanwhile (ENOENT) is not an error. Returns 1 if
 * the message was there.
 */
static int mark_deferred(const char *id, int mark)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    int     found = 0;

    mail_queue_path(path, MAIL_QUEUE_DEFERRED, id);
    if (lstat(vstring_str(path), &st) == 0 && S_ISREG(st.st_mode)) {
	found = 1;
	if (mark) {
	    if ((st.st_mode & QMGR_FLUSH_MARK_MODE) == 0
		&& chmod(vstring_str(path), (st.st_mode & 07777) | QMGR_FLUSH_MARK_MODE) < 0
		&& errno != ENOENT)
		msg_warn("%s: chmod %s: %s", id, vstring_str(path), strerror(errno));
	    if (mail_queue_rename(id, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_INCOMING) < 0
		&& errno != ENOENT)
		msg_warn("%s: move %s to %s/: %s", id, vstring_str(path),
			 MAIL_QUEUE_INCOMING, strerror(errno));
	}
    }
    vstring_free(path);
    return (found);
}

/*
 * wake_qmgr - retry dead destinations and take in what was moved to
 * incoming/; with deferred, also scan deferred/ (postqueue -f).
 */
static void wake_qmgr(int deferred)
{
    char    req[] = {QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_INCOMING, QMGR_REQ_SCAN_DEFERRED};

    if (qmgr_trigger(req, deferred ? 3 : 2) < 0)
	msg_warn("cannot wake qmgr (public/%s): %s",
		 mail_conf_str(VAR_QUEUE_SERVICE_NAME), strerror(errno));
}

/*
 * list_rewrite - keep in the list only the IDs still in deferred/,
 * each once; with mark, make them eligible now. Returns the number
 * marked, or -1 when the list cannot be used.
 */
static int list_rewrite(const char *path, int mark)
{
    int     fd;
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(FLUSH_MAX_ID_LINE);
    VSTRING *keep = vstring_alloc(1024);
    HTABLE *seen = htable_create(100);
    int     count = 0;

    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
	vstring_free(line);
	vstring_free(keep);
	htable_free(seen, (void (*) (void *)) 0);
	return (errno == ENOENT ? 0 : -1);
    }
    if (flock(fd, LOCK_EX) < 0)
	msg_warn("lock %s: %s", path, strerror(errno));
    fp = vstream_fdopen(fd);
    while (vstream_get_line(fp, line, FLUSH_MAX_ID_LINE) != VSTREAM_EOF) {
	const char *id = vstring_str(line);

	if (!mail_queue_id_ok(id) || htable_find(seen, id))
	    continue;
	htable_enter(seen, id, (void *) 1);
	if (mark_deferred(id, mark)) {
	    vstring_sprintf_append(keep, "%s\n", id);
	    count++;
	}
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, vstring_str(keep), vstring_len(keep), 0)
	!= (ssize_t) vstring_len(keep)) {
	msg_warn("rewrite %s: %s", path, strerror(errno));
	count = -1;
    }
    vstream_close(fp);				/* also releases the lock */
    vstring_free(line);
    vstring_free(keep);
    htable_free(seen, (void (*) (void *)) 0);
    return (count);
}

static int flush_add_service(const char *site, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *line = vstring_alloc(32);
    int     status;
    int     fd;

    if (site_path(path, site) == 0 || !mail_queue_id_ok(id)) {
	status = FLUSH_STAT_BAD;
    } else if ((status = site_status(site)) == FLUSH_STAT_OK) {
	vstring_sprintf(line, "%s\n", id);
	if ((fd = open(vstring_str(path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
	    msg_warn("open %s: %s", vstring_str(path), strerror(errno));
	    status = FLUSH_STAT_FAIL;
	} else {
	    (void) flock(fd, LOCK_EX);
	    if (write(fd, vstring_str(line), vstring_len(line)) != (ssize_t) vstring_len(line)) {
		msg_warn("append %s: %s", vstring_str(path), strerror(errno));
		status = FLUSH_STAT_FAIL;
	    }
	    close(fd);
	}
    }
    vstring_free(path);
    vstring_free(line);
    return (status);
}

static int flush_send_site_service(const char *site)
{
    VSTRING *path = vstring_alloc(64);
    int     status;
    int     count;

    if (site_path(path, site) == 0) {
	status = FLUSH_STAT_DENY;		/* "[1.2.3.4]", "#queue": not eligible */
    } else if ((status = site_status(site)) == FLUSH_STAT_OK) {
	if ((count = list_rewrite(vstring_str(path), 1)) < 0) {
	    msg_warn("cannot flush %s: %s", site, strerror(errno));
	    status = FLUSH_STAT_FAIL;
	} else {
	    if (msg_verbose)
		msg_info("flush site %s: %d messages", site, count);
	    if (count > 0)
		wake_qmgr(0);
	}
    }
    vstring_free(path);
    return (status);
}

static int flush_send_file_service(const char *id)
{
    if (!mail_queue_id_ok(id))
	return (FLUSH_STAT_BAD);
    if (mark_deferred(id, 1))
	wake_qmgr(0);
    return (FLUSH_STAT_OK);
}

/* flush_refresh_service - prune stale lists, remove long-unused empty ones */
static int flush_refresh_service(void)
{
    DIR    *dp;
    struct dirent *de;
    VSTRING *path = vstring_alloc(64);
    time_t  now = time((time_t *) 0);
    long    refresh = mail_conf_time(VAR_FAST_FLUSH_REFRESH_TIME);
    long    purge = mail_conf_time(VAR_FAST_FLUSH_PURGE_TIME);

    if ((dp = opendir(MAIL_QUEUE_FLUSH)) == 0) {
	vstring_free(path);
	return (FLUSH_STAT_OK);
    }
    while ((de = readdir(dp)) != 0) {
	struct stat st;

	if (de->d_name[0] == '.')
	    continue;
	vstring_sprintf(path, "%s/%s", MAIL_QUEUE_FLUSH, de->d_name);
	if (lstat(vstring_str(path), &st) < 0 || !S_ISREG(st.st_mode))
	    continue;
	if (st.st_size == 0 && st.st_mtime < now - purge) {
	    if (unlink(vstring_str(path)) == 0 && msg_verbose)
		msg_info("remove unused %s", vstring_str(path));
	} else if (st.st_size > 0 && st.st_mtime < now - refresh) {
	    (void) list_rewrite(vstring_str(path), 0);
	}
    }
    closedir(dp);
    vstring_free(path);
    return (FLUSH_STAT_OK);
}

static int mark_scanned(const char *queue, const char *id, const char *path, void *ctx)
{
    (void) queue;
    (void) path;
    *(long *) ctx += mark_deferred(id, 1);
    return (0);
}

static int flush_purge_service(void)
{
    long    count = 0;

    queue_scan(MAIL_QUEUE_DEFERRED, mark_scanned, &count);
    if (msg_verbose)
	msg_info("flush all deferred mail: %ld messages", count);
    wake_qmgr(1);
    (void) flush_refresh_service();
    return (FLUSH_STAT_OK);
}

static void flush_service(VSTREAM *client, const char *service, char **argv)
{
    FLUSH_REQUEST req;
    VSTRING *why = vstring_alloc(100);
    int     status;

    (void) service;
    (void) argv;
    vstream_set_timeout(client, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    switch (flush_request_read(client, &req, why)) {
    case 0:
	/* A connection without a request: master's wakeup. */
	(void) flush_refresh_service();
	goto out;
    case 1:
	break;
    default:
	msg_warn("malformed flush service request: %s", vstring_str(why));
	(void) attr_send_status(client, FLUSH_STAT_BAD);
	goto out;
    }
    if (strcmp(req.request, FLUSH_REQ_ADD) == 0 && req.site && req.queue_id)
	status = flush_add_service(req.site, req.queue_id);
    else if (strcmp(req.request, FLUSH_REQ_SEND_SITE) == 0 && req.site)
	status = flush_send_site_service(req.site);
    else if (strcmp(req.request, FLUSH_REQ_SEND_FILE) == 0 && req.queue_id)
	status = flush_send_file_service(req.queue_id);
    else if (strcmp(req.request, FLUSH_REQ_REFRESH) == 0)
	status = flush_refresh_service();
    else if (strcmp(req.request, FLUSH_REQ_PURGE) == 0)
	status = flush_purge_service();
    else
	status = FLUSH_STAT_BAD;
    if (status == FLUSH_STAT_BAD)
	msg_warn("bad flush service request: %s", req.request);
    (void) attr_send_status(client, status);
out:
    flush_request_free(&req);
    vstring_free(why);
}

static void flush_post_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    flush_domains = mail_list_create(VAR_FAST_FLUSH_DOMAINS);
    (void) mkdir(MAIL_QUEUE_FLUSH, 0700);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.post_init = flush_post_init,
    };

    msg_init("postfix", "flush");
    single_server_main(argc, argv, flush_service, &opts);
}
