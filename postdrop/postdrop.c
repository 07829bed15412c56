/*
 * NAME
 *	postdrop - put a locally submitted message into maildrop/
 * SYNOPSIS
 *	postdrop [-rv] [-c config_dir]
 * DESCRIPTION
 *	sendmail runs postdrop and writes the message to its standard
 *	input as the records of maildrop_file.h (sender, attributes,
 *	recipients, text, extracted recipients, end). postdrop creates a
 *	file in the maildrop/ folder of queue_directory, named by a new
 *	queue ID, writes the time it took the message and copies the
 *	records, checking their order and names. With -r it first writes
 *	the queue ID and a newline to standard output (sendmail -bs puts
 *	it in its Received: header).
 *
 *	The file is complete only after the end record: then its
 *	owner-execute bit is set (mode 0744), and the file and the folder
 *	are synced to disk (a user who may not read the folder syncs the
 *	file system that holds it) before postdrop exits 0, so a sendmail that
 *	sees exit status 0 may tell its caller the message is safe. Then
 *	the pickup service (pickup_service_name) is woken through
 *	public/; when it does not answer, master's periodic wakeup finds
 *	the file later. Any failure, and any of SIGHUP, SIGINT, SIGQUIT,
 *	SIGTERM and SIGPIPE, removes the file.
 *
 *	Privileges: postdrop is installed set-group-id setgid_group
 *	(postdrop), never set-user-id. It runs as the submitting user,
 *	whose files in maildrop/ (mode 1730, group setgid_group) nobody
 *	else can list, read or remove. A configuration folder named by -c,
 *	or by MAIL_CONFIG when set-group-id, must be listed in the
 *	default main.cf (mail_conf_checkdir(3)). Only users in
 *	authorized_submit_users may submit.
 * DIAGNOSTICS
 *	Exit 0 when the message is on disk. Postfix's messages and exit
 *	status 1 otherwise: "User NAME(UID) is not allowed to submit
 *	mail" (77), "uid=UID: File too large" (more than
 *	message_size_limit bytes of text), "uid=UID: unexpected record
 *	type" and the like for a broken record stream, or a file that
 *	cannot be created or written.
 * SEE ALSO
 *	sendmail(1), pickup(8), maildrop_file(3)
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_conf_checkdir.h"
#include "global/mail_cmd_log.h"
#include "global/mail_queue.h"
#include "global/mail_trigger.h"
#include "global/maildrop_file.h"
#include "global/queue_file.h"
#include "global/user_acl.h"

#define EX_NOPERM	77

/* The file being written, removed on failure (signal-safe: fixed size). */
static char drop_path[256];

static void remove_drop(void)
{
    if (drop_path[0])
	(void) unlink(drop_path);
    drop_path[0] = 0;
}

static void signal_remove(int sig)
{
    if (drop_path[0])
	(void) unlink(drop_path);
    _exit(128 + sig);
}

/*
 * sync_dir - make the new file's name durable. The submitting user has
 * no read permission on maildrop/ (mode 1730), so the folder cannot be
 * opened to fsync it; then the whole file system that holds the file is
 * synced instead (syncfs), which covers the directory entry too.
 */
static void sync_dir(const char *dir, int file_fd)
{
    int     fd;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
	if (errno != EACCES)
	    msg_fatal("open %s: %s", dir, strerror(errno));
	if (syncfs(file_fd) < 0)
	    msg_fatal("syncfs %s: %s", dir, strerror(errno));
	return;
    }
    if (fsync(fd) < 0)
	msg_fatal("fsync %s: %s", dir, strerror(errno));
    (void) close(fd);
}

/* copy_records - standard input to the file, checked */
static void copy_records(VSTREAM *in, VSTREAM *out, long uid)
{
    VSTRING *buf = vstring_alloc(100);
    MAILDROP_ORDER order;
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    long    size = 0;
    int     type;

    maildrop_order_init(&order, MAILDROP_ORDER_FROM_SENDER);
    for (;;) {
	type = maildrop_rec_read(in, buf);
	if (type == REC_TYPE_EOF)
	    msg_fatal("uid=%ld: premature end of input", uid);
	if (type < 0)
	    msg_fatal("uid=%ld: malformed input record", uid);
	if (!maildrop_order_next(&order, type))
	    msg_fatal("uid=%ld: unexpected record type: %d", uid, type);
	if (type == MAILDROP_REC_ATTR && !maildrop_attr_ok(vstring_str(buf)))
	    msg_fatal("uid=%ld: unknown attribute: %.100s", uid, vstring_str(buf));
	if (type == MAILDROP_REC_LINE || type == MAILDROP_REC_PART) {
	    size += (long) vstring_len(buf) + (type == MAILDROP_REC_LINE);
	    if (limit > 0 && size > limit)
		msg_fatal("uid=%ld: %s", uid, strerror(EFBIG));
	}
	if (rec_put(out, type, vstring_str(buf), vstring_len(buf)) != 0)
	    msg_fatal("uid=%ld: write %s: %s", uid, drop_path, strerror(errno));
	if (type == MAILDROP_REC_END)
	    break;
    }
    vstring_free(buf);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    int     report_id = 0;
    VSTRING *id = vstring_alloc(32);
    VSTRING *user = vstring_alloc(32);
    VSTRING *why = vstring_alloc(100);
    VSTREAM *in;
    VSTREAM *out;
    struct timeval tv;
    struct sigaction sa;
    char    stamp[64];
    long    uid = (long) getuid();
    int     fd;
    int     ch;

    /* Standard descriptors open, so a new file never becomes one. */
    for (fd = 0; fd < 3; fd++)
	if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
	    _exit(1);
    umask(022);
    msg_init("postfix", "postdrop");
    msg_to_stderr(1);
    msg_stderr_command_style(1);

    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'r':
	    report_id = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal("usage: postdrop [-c config_dir] [-v]");
	}
    }
    if (optind < argc)
	msg_fatal("usage: postdrop [-c config_dir] [-v]");
    mail_conf_read_checked(config_dir, 1);
    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    mail_cmd_log_init("postdrop");

    switch (user_acl_check(VAR_AUTHORIZED_SUBMIT_USERS, getuid(), user, why)) {
    case 1:
	break;
    case 0:
	msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail",
			 vstring_str(user), uid);
    default:
	msg_fatal("%s", vstring_str(why));
    }
    if (chdir(mail_conf_str(VAR_QUEUE_DIRECTORY)) < 0)
	msg_fatal("chdir %s: %s", mail_conf_str(VAR_QUEUE_DIRECTORY), strerror(errno));

    /* From here on, a signal or a fatal error removes the file. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = signal_remove;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGQUIT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGPIPE);
    sigaction(SIGHUP, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    sigaction(SIGQUIT, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGPIPE, &sa, 0);
    msg_cleanup(remove_drop);

    if ((out = mail_queue_enter(MAIL_QUEUE_MAILDROP, 0644, id)) == 0)
	msg_fatal("uid=%ld: create file %s/%s: %s", uid, mail_conf_str(VAR_QUEUE_DIRECTORY),
		  MAIL_QUEUE_MAILDROP, strerror(errno));
    snprintf(drop_path, sizeof(drop_path), "%s/%s", MAIL_QUEUE_MAILDROP, vstring_str(id));
    if (report_id) {
	VSTREAM *so = vstream_fdopen(1);

	vstream_fprintf(so, "%s\n", vstring_str(id));
	if (vstream_fflush(so) != 0)
	    msg_fatal("uid=%ld: write queue ID: %s", uid, strerror(errno));
	vstream_release(so);
    }
    gettimeofday(&tv, (struct timezone *) 0);
    snprintf(stamp, sizeof(stamp), "%ld %ld", (long) tv.tv_sec, (long) tv.tv_usec);
    if (rec_put(out, MAILDROP_REC_TIME, stamp, strlen(stamp)) != 0)
	msg_fatal("uid=%ld: write %s: %s", uid, drop_path, strerror(errno));
    in = vstream_fdopen(0);
    copy_records(in, out, uid);
    vstream_release(in);

    /* Complete, then durable, then reported. */
    if (vstream_fflush(out) != 0)
	msg_fatal("uid=%ld: write %s: %s", uid, drop_path, strerror(errno));
    fd = vstream_fileno(out);
    if (fchmod(fd, 0744) < 0)
	msg_fatal("uid=%ld: chmod %s: %s", uid, drop_path, strerror(errno));
    if (fsync(fd) < 0)
	msg_fatal("uid=%ld: fsync %s: %s", uid, drop_path, strerror(errno));
    sync_dir(MAIL_QUEUE_MAILDROP, fd);
    if (close(fd) < 0)
	msg_fatal("uid=%ld: close %s: %s", uid, drop_path, strerror(errno));
    vstream_release(out);
    drop_path[0] = 0;				/* it is safe now */
    msg_cleanup(0);

    if (mail_trigger("public", mail_conf_str(VAR_PICKUP_SERVICE_NAME), "W", 1) < 0 && msg_verbose)
	msg_info("trigger public/%s: %s", mail_conf_str(VAR_PICKUP_SERVICE_NAME),
		 strerror(errno));
    vstring_free(id);
    vstring_free(user);
    vstring_free(why);
    exit(0);
}
