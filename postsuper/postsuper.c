/*
 * NAME
 *	postsuper - queue maintenance for the superuser
 * SYNOPSIS
 *	postsuper [-psv] [-c config_dir] [-d queue_id] [-h queue_id]
 *		  [-H queue_id] [-r queue_id] [queue ...]
 * DESCRIPTION
 *	-d deletes a message (default queues: hold, incoming, active,
 *	deferred) with its defer/, bounce/ and trace/ logs; -e marks it
 *	force-expired (same queues; qmgr returns it to the sender the next
 *	time it takes it, see qmgr_trigger.h), -f does that and releases
 *	it when it is on hold; -h puts it on
 *	hold (from incoming, active, deferred); -H releases it from hold
 *	to deferred, eligible at once; -r requeues it (to incoming, from
 *	hold, incoming, active, deferred: it is routed again, with its
 *	delay reasons forgotten). Each option may be given many times; the
 *	queue ID "ALL" (upper case) means every message of those queues,
 *	"-" reads queue IDs from standard input, one per line. Queue names
 *	after the options restrict the queues searched. -s repairs the
 *	queue structure (message files in the wrong hash folder), -p
 *	removes temporary files left by a crash; both run before the
 *	other operations. Named queue IDs are handled in command-line
 *	order, then the ALL requests.
 *
 *	Safe while the mail system runs: a file in incoming/ whose
 *	owner-execute bit is not yet set is being written and is never
 *	touched, and every move is one rename(2), which is atomic; qmgr
 *	copes with a file that went away under it.
 * DIAGNOSTICS
 *	For each named message, "postsuper: ID: removed" (expired, placed
 *	on hold, released from hold, requeued) on stderr and in the log,
 *	then per operation requested "postsuper: Deleted: N messages"
 *	(Requeued, Force-expired, Placed on hold, Released from hold), in
 *	Postfix's order.
 *	Only the superuser may run it; it then runs as mail_owner.
 * SEE ALSO
 *	postqueue(1), qmgr(8)
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/maillog.h"
#include "global/mail_queue.h"
#include "global/qmgr_trigger.h"
#include "global/queue_scan.h"

#define EX_USAGE	64

#define USAGE "usage: postsuper [-psv] [-c config_dir] [-d queue_id] [-e queue_id] [-f queue_id] [-h queue_id] [-H queue_id] [-r queue_id] [queue...]"

/* The operations, in the order their summaries are printed. */
#define OP_REQUEUE	0
#define OP_DELETE	1
#define OP_EXPIRE	2
#define OP_HOLD		3
#define OP_RELEASE	4
#define OP_COUNT	5
#define OP_FORCE	5		/* -f: OP_EXPIRE, and OP_RELEASE if held */

static const char *op_summary[OP_COUNT] = {
    "Requeued", "Deleted", "Force-expired", "Placed on hold", "Released from hold",
};
static const char *op_done[OP_COUNT] = {
    "requeued", "removed", "expired", "placed on hold", "released from hold",
};
static const char *op_default_queues[OP_COUNT] = {
    "hold incoming active deferred",
    "hold incoming active deferred",
    "hold incoming active deferred",
    "incoming active deferred",
    "hold",
};

static const char *known_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
};

static ARGV *user_queues;		/* queue names on the command line */
static long op_count[OP_COUNT];
static int op_requested[OP_COUNT];
static int quiet;			/* ALL: log only, as Postfix */
static int need_trigger;

/* report - a per-message line on stderr (named IDs) and in the log */
static void report(const char *id, int op)
{
    if (quiet)
	msg_to_stderr(0);
    msg_info("%s: %s", id, op_done[op]);
    if (quiet)
	msg_to_stderr(1);
}

/* remove_logs - the per-message logs that belong to a deleted message */
static void remove_logs(const char *id, int keep_bounce)
{
    VSTRING *path = vstring_alloc(64);

    (void) unlink(mail_queue_path(path, MAIL_QUEUE_DEFER, id));
    if (!keep_bounce)
	(void) unlink(mail_queue_path(path, MAIL_QUEUE_BOUNCE, id));
    (void) unlink(mail_queue_path(path, MAIL_QUEUE_TRACE, id));
    vstring_free(path);
}

/* set_mtime_now - make a deferred or requeued message eligible now */
static void set_mtime_now(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);

    (void) utimes(mail_queue_path(path, queue, id), (struct timeval *) 0);
    vstring_free(path);
}

/* operate - apply op to one message found in queue; 1 when done */
static int operate(int op, const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    int     ret = 0;

    if (lstat(mail_queue_path(path, queue, id), &st) < 0 || !S_ISREG(st.st_mode)) {
	vstring_free(path);
	return (0);
    }
    vstring_free(path);
    errno = ENOENT;

    /* A file in incoming/ without its completeness mark is being written. */
    if (strcmp(queue, MAIL_QUEUE_INCOMING) == 0 && !MAIL_QUEUE_MSG_COMPLETE(&st))
	return (0);

    switch (op) {
    case OP_EXPIRE:
	/* qmgr returns it to the sender when it takes it (qmgr_trigger.h). */
	path = vstring_alloc(64);
	if (chmod(mail_queue_path(path, queue, id),
		  (st.st_mode & 07777) | QMGR_EXPIRE_MARK_MODE) == 0)
	    ret = 1;
	vstring_free(path);
	break;
    case OP_DELETE:
	if (mail_queue_remove(queue, id) == 0) {
	    remove_logs(id, 0);
	    ret = 1;
	}
	break;
    case OP_HOLD:
	if (strcmp(queue, MAIL_QUEUE_HOLD) != 0
	    && mail_queue_rename(id, queue, MAIL_QUEUE_HOLD) == 0)
	    ret = 1;
	break;
    case OP_RELEASE:
	if (strcmp(queue, MAIL_QUEUE_HOLD) == 0
	    && mail_queue_rename(id, queue, MAIL_QUEUE_DEFERRED) == 0) {
	    set_mtime_now(MAIL_QUEUE_DEFERRED, id);
	    need_trigger = 1;
	    ret = 1;
	}
	break;
    case OP_REQUEUE:
	if (strcmp(queue, MAIL_QUEUE_INCOMING) == 0
	    || mail_queue_rename(id, queue, MAIL_QUEUE_INCOMING) == 0) {
	    set_mtime_now(MAIL_QUEUE_INCOMING, id);
	    remove_logs(id, 1);
	    need_trigger = 1;
	    ret = 1;
	}
	break;
    }
    if (ret == 0 && errno != ENOENT)
	msg_warn("%s: %s: %s", id, op_done[op], strerror(errno));
    if (ret) {
	op_count[op]++;
	report(id, op);
    }
    return (ret);
}

/* op_queues - the queues one operation searches */
static ARGV *op_queues(int op)
{
    if (user_queues && user_queues->argc > 0) {
	ARGV   *copy = argv_alloc(user_queues->argc);

	for (size_t i = 0; i < user_queues->argc; i++)
	    argv_add(copy, user_queues->argv[i]);
	return (copy);
    }
    return (argv_split(op_default_queues[op], " "));
}

/* operate_id - apply op to one named message, wherever it is */
static void operate_id(int op, const char *id)
{
    ARGV   *queues;

    /* As Postfix: a name that is no queue ID just matches nothing. */
    if (!mail_queue_id_ok(id)) {
	if (msg_verbose)
	    msg_info("not a queue ID: %s", id);
	return;
    }
    queues = op_queues(op == OP_FORCE ? OP_EXPIRE : op);
    for (size_t i = 0; i < queues->argc; i++) {
	if (operate(op == OP_FORCE ? OP_EXPIRE : op, queues->argv[i], id)) {
	    if (op == OP_FORCE && strcmp(queues->argv[i], MAIL_QUEUE_HOLD) == 0)
		(void) operate(OP_RELEASE, MAIL_QUEUE_HOLD, id);
	    break;
	}
    }
    argv_free(queues);
}

static int collect_scanned(const char *queue, const char *id, const char *path, void *ctx)
{
    ARGV   *found = ctx;

    (void) path;
    argv_add(found, queue);
    argv_add(found, id);
    return (0);
}

/* operate_all - apply op to every message of its queues */
static void operate_all(int op)
{
    ARGV   *queues = op_queues(op == OP_FORCE ? OP_EXPIRE : op);
    ARGV   *found = argv_alloc(64);

    /* List first, then act: a moved message must not be found twice. */
    for (size_t i = 0; i < queues->argc; i++)
	queue_scan(queues->argv[i], collect_scanned, found);
    quiet = 1;
    for (size_t i = 0; i + 1 < found->argc; i += 2)
	if (operate(op == OP_FORCE ? OP_EXPIRE : op, found->argv[i], found->argv[i + 1])
	    && op == OP_FORCE && strcmp(found->argv[i], MAIL_QUEUE_HOLD) == 0)
	    (void) operate(OP_RELEASE, MAIL_QUEUE_HOLD, found->argv[i + 1]);
    quiet = 0;
    argv_free(found);
    argv_free(queues);
}

/* make_dirs - create the folders of path (not its last component) */
static void make_dirs(const char *path)
{
    char   *copy = mystrdup(path);

    for (char *cp = strchr(copy, '/'); cp; cp = strchr(cp + 1, '/')) {
	*cp = 0;
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
	    msg_warn("mkdir %s: %s", copy, strerror(errno));
	*cp = '/';
    }
    myfree(copy);
}

/* repair_one - move a message file or log to the folder its name implies */
static int repair_one(const char *queue, const char *id, const char *path, void *ctx)
{
    VSTRING *want = vstring_alloc(64);

    (void) ctx;
    mail_queue_path(want, queue, id);
    if (strcmp(path, vstring_str(want)) != 0) {
	make_dirs(vstring_str(want));
	if (access(vstring_str(want), F_OK) == 0)
	    msg_warn("%s: not moving %s: %s exists", id, path, vstring_str(want));
	else if (rename(path, vstring_str(want)) < 0)
	    msg_warn("%s: rename %s to %s: %s", id, path, vstring_str(want), strerror(errno));
	else
	    msg_info("%s: moved %s to %s", id, path, vstring_str(want));
    }
    vstring_free(want);
    return (0);
}

static void repair_structure(void)
{
    static const char *queues[] = {
	MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
	MAIL_QUEUE_CORRUPT, MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE, MAIL_QUEUE_TRACE,
    };

    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
	queue_scan(queues[i], repair_one, 0);
}

/* purge_temp - temporary files ("T<pid>.<n>") left by a crash */
static void purge_temp(void)
{
    static const char *queues[] = {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD};
    VSTRING *path = vstring_alloc(64);
    time_t  now = time((time_t *) 0);

    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
	DIR    *dp;
	struct dirent *de;
	struct stat st;

	if ((dp = opendir(queues[i])) == 0)
	    continue;
	while ((de = readdir(dp)) != 0) {
	    if (de->d_name[0] != 'T' || strchr(de->d_name, '.') == 0)
		continue;
	    vstring_sprintf(path, "%s/%s", queues[i], de->d_name);
	    /* Old enough that no live process can still be writing it. */
	    if (lstat(vstring_str(path), &st) == 0 && S_ISREG(st.st_mode)
		&& st.st_mtime < now - 3600 && unlink(vstring_str(path)) == 0)
		msg_info("%s: removed temporary file", vstring_str(path));
	}
	closedir(dp);
    }
    vstring_free(path);
}

/*
 * become_mail_owner - as Postfix's postsuper: the queue is mail_owner's,
 * and so is what we make in it (a hash subfolder of deferred/ that root
 * made would be closed to qmgr and flush).
 */
static void become_mail_owner(void)
{
    const char *owner = mail_conf_str(VAR_MAIL_OWNER);
    struct passwd *pw;

    if ((pw = getpwnam(owner)) == 0)
	msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
		  mail_conf_dir(), owner);
    if (pw->pw_uid == 0)
	msg_fatal("file %s/main.cf: parameter mail_owner: user %s has privileged user ID",
		  mail_conf_dir(), owner);
    if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
	msg_fatal("set user and group ID to %s: %s", owner, strerror(errno));
}

/* read_stdin_ids - one queue ID per line, the first word */
static void read_stdin_ids(ARGV *ids)
{
    VSTREAM *in = vstream_fdopen(0);
    VSTRING *line = vstring_alloc(100);

    while (vstream_get_line(in, line, 1000) != VSTREAM_EOF) {
	char   *cp = vstring_str(line);
	char   *word;

	if ((word = strtok(cp, " \t\r")) != 0)
	    argv_add(ids, word);
    }
    vstring_free(line);
    vstream_release(in);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    ARGV   *ops = argv_alloc(8);	/* "<op digit><id>" in order */
    int     all[OP_COUNT + 1] = {0};
    int     repair = 0;
    int     purge = 0;
    int     any = 0;
    int     ch;

    msg_init("postfix", "postsuper");
    msg_to_stderr(1);
    msg_stderr_command_style(1);

    while ((ch = getopt(argc, argv, "c:d:e:f:h:H:r:psSv")) != -1) {
	int     op = -1;

	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'd':
	    op = OP_DELETE;
	    break;
	case 'e':
	    op = OP_EXPIRE;
	    break;
	case 'f':
	    op = OP_FORCE;
	    break;
	case 'h':
	    op = OP_HOLD;
	    break;
	case 'H':
	    op = OP_RELEASE;
	    break;
	case 'r':
	    op = OP_REQUEUE;
	    break;
	case 'p':
	    purge = 1;
	    any = 1;
	    break;
	case 's':
	case 'S':
	    repair = 1;
	    any = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal_status(EX_USAGE, USAGE);
	}
	if (op >= 0) {
	    VSTRING *item = vstring_alloc(32);

	    if (op == OP_FORCE)
		op_requested[OP_EXPIRE] = op_requested[OP_RELEASE] = 1;
	    else
		op_requested[op] = 1;
	    any = 1;
	    if (strcmp(optarg, "ALL") == 0) {
		all[op] = 1;
	    } else if (strcmp(optarg, "-") == 0) {
		ARGV   *ids = argv_alloc(16);

		read_stdin_ids(ids);
		for (size_t i = 0; i < ids->argc; i++) {
		    vstring_sprintf(item, "%d%s", op, ids->argv[i]);
		    argv_add(ops, vstring_str(item));
		}
		argv_free(ids);
	    } else {
		vstring_sprintf(item, "%d%s", op, optarg);
		argv_add(ops, vstring_str(item));
	    }
	    vstring_free(item);
	}
    }
    if (getuid() != 0)
	msg_fatal("use of this command is reserved for the superuser");
    user_queues = argv_alloc(4);
    for (int i = optind; i < argc; i++) {
	size_t  k;

	for (k = 0; k < sizeof(known_queues) / sizeof(known_queues[0]); k++)
	    if (strcmp(argv[i], known_queues[k]) == 0)
		break;
	if (k == sizeof(known_queues) / sizeof(known_queues[0]))
	    msg_fatal_status(EX_USAGE, "invalid directory name: %s", argv[i]);
	argv_add(user_queues, argv[i]);
    }
    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    mail_conf_read(config_dir);
    if (*maillog_file())
	msg_to_file(maillog_file());
    if (chdir(mail_conf_str(VAR_QUEUE_DIRECTORY)) < 0)
	msg_fatal("chdir %s: %s", mail_conf_str(VAR_QUEUE_DIRECTORY), strerror(errno));
    become_mail_owner();
    if (!any)
	repair = 1;			/* as Postfix: no option means -s */

    if (purge)
	purge_temp();
    if (repair)
	repair_structure();
    for (size_t i = 0; i < ops->argc; i++)
	operate_id(ops->argv[i][0] - '0', ops->argv[i] + 1);
    for (int op = 0; op <= OP_COUNT; op++)
	if (all[op])
	    operate_all(op);
    for (int op = 0; op < OP_COUNT; op++)
	if (op_requested[op])
	    msg_info("%s: %ld message%s", op_summary[op], op_count[op],
		     op_count[op] == 1 ? "" : "s");
    if (need_trigger) {
	char    req[1] = {QMGR_REQ_SCAN_ALL};

	(void) qmgr_trigger(req, 1);
    }
    argv_free(ops);
    argv_free(user_queues);
    exit(0);
}
