/*
 * NAME
 *	postqueue - list, flush and release the mail queue
 * SYNOPSIS
 *	postqueue [-v] [-c config_dir] -p | -j | -f | -s site | -i queue_id
 *	mailq [-v] [-c config_dir]
 * DESCRIPTION
 *	-p lists the queue in Postfix's mailq format, -j as one JSON object
 *	per message; both ask the showq service (public/showq), so a user
 *	who cannot read the queue can list it. -f asks the flush service to
 *	deliver every deferred message now, -s site the deferred mail for
 *	one fast_flush_domains destination (as ETRN does), -i one message.
 *	Invoked as mailq, it does -p.
 *
 *	postqueue is meant to be installed setgid setgid_group (it then
 *	reaches public/, mode 0710); it never needs root. A configuration
 *	folder that a user other than root names with -c, or through
 *	MAIL_CONFIG when postqueue runs setgid, must be listed in the
 *	default main.cf's alternate_config_directories or
 *	multi_instance_directories (mail_conf_checkdir(3)). Access is
 *	limited by authorized_mailq_users (-p, -j) and
 *	authorized_flush_users (-f, -s, -i); the superuser and mail_owner
 *	are always allowed.
 * DIAGNOSTICS
 *	Exit 0 on success; 69 (EX_UNAVAILABLE) when the mail system is not
 *	running ("Queue report unavailable - mail system is down",
 *	"Cannot flush mail queue - mail system is down") or the site is
 *	not eligible for a flush ("Flush service is not configured for
 *	destination ..."); 64 for a usage error; 77 for a user who is not
 *	authorized. As in Postfix, when the superuser lists the queue of a
 *	mail system that is down, postqueue warns and runs showq itself.
 * SEE ALSO
 *	showq(8), flush(8), postsuper(1)
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_conf_checkdir.h"
#include "dict/match_list.h"
#include "global/mail_list.h"
#include "global/showq_client.h"
#include "global/flush_client.h"
#include "postqueue.h"

#define EX_USAGE	64
#define EX_UNAVAILABLE	69
#define EX_SOFTWARE	70
#define EX_NOPERM	77

#define USAGE "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site"

/* check_user - is the real user in the list named by param? */
static void check_user(const char *param, const char *what)
{
    uid_t   uid = getuid();
    struct passwd *pw;
    MATCH_LIST *list;
    const char *name;
    int     ok;

    if (uid == 0)
	return;
    if ((pw = getpwuid(uid)) == 0)
	msg_fatal_status(EX_NOPERM, "unknown user ID %ld", (long) uid);
    if (strcmp(pw->pw_name, mail_conf_str(VAR_MAIL_OWNER)) == 0)
	return;
    list = mail_list_create(param);
    name = pw->pw_name;
    if ((ok = match_list_string(list, name)) < 0)
	msg_fatal_status(EX_UNAVAILABLE, "%s: %s", param, match_list_error(list));
    match_list_free(list);
    if (!ok)
	msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to %s",
			 name, (long) uid, what);
}

/* showq_direct - the superuser lists a queue whose mail system is down */
static VSTREAM *showq_direct(pid_t *pid)
{
    int     pipefd[2];
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", mail_conf_str(VAR_DAEMON_DIRECTORY), "showq");
    if (pipe(pipefd) < 0)
	msg_fatal("pipe: %s", strerror(errno));
    if ((*pid = fork()) < 0)
	msg_fatal("fork: %s", strerror(errno));
    if (*pid == 0) {
	close(pipefd[0]);
	if (dup2(pipefd[1], 1) < 0)
	    _exit(1);
	close(pipefd[1]);
	execl(vstring_str(path), "showq", "-S", (char *) 0);
	msg_fatal_status(EX_UNAVAILABLE, "exec %s: %s", vstring_str(path), strerror(errno));
    }
    close(pipefd[1]);
    vstring_free(path);
    return (vstream_fdopen(pipefd[0]));
}

/* show_queue - list the queue through the showq service */
static void show_queue(int json)
{
    VSTREAM *showq;
    pid_t   pid = 0;
    int     status;

    check_user(VAR_AUTHORIZED_MAILQ_USERS, "view the mail queue");
    if ((showq = showq_connect()) == 0) {
	if (errno == EACCES || errno == EPERM)
	    msg_fatal_status(EX_SOFTWARE, "Connect to the showq service: %s", strerror(errno));
	if (geteuid() != 0)
	    msg_fatal_status(EX_UNAVAILABLE, "Queue report unavailable - mail system is down");
	msg_warn("Mail system is down -- accessing queue directly");
	showq = showq_direct(&pid);
	vstream_set_timeout(showq, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    }
    status = json ? showq_json(showq) : showq_compat(showq);
    vstream_close(showq);
    if (pid > 0)
	(void) waitpid(pid, (int *) 0, 0);
    if (status < 0)
	msg_fatal_status(EX_SOFTWARE, "malformed showq server reply");
}

/*
 * quiet_flush - the client's own warning about an unreachable service
 * is for daemon logs; postqueue says it in its fatal message instead.
 */
static int quiet_flush(int (*fn) (const char *), const char *arg)
{
    int     status;

    msg_to_stderr(0);
    status = fn(arg);
    msg_to_stderr(1);
    return (status);
}

static int purge_all(const char *unused)
{
    (void) unused;
    return (flush_purge());
}

static void flush_queue(void)
{
    check_user(VAR_AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    switch (quiet_flush(purge_all, (const char *) 0)) {
    case FLUSH_STAT_OK:
	return;
    case FLUSH_STAT_FAIL:
	msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    default:
	msg_fatal_status(EX_SOFTWARE, "unexpected flush service reply");
    }
}

static void flush_site(const char *site)
{
    check_user(VAR_AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    switch (quiet_flush(flush_send_site, site)) {
    case FLUSH_STAT_OK:
	return;
    case FLUSH_STAT_FAIL:
	msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    case FLUSH_STAT_BAD:
	msg_fatal_status(EX_USAGE, "Invalid request: \"%s\"", site);
    case FLUSH_STAT_DENY:
	msg_fatal_status(EX_UNAVAILABLE, "Flush service is not configured for destination \"%s\"",
			 site);
    default:
	msg_fatal_status(EX_SOFTWARE, "unexpected flush service reply");
    }
}

static void flush_file(const char *queue_id)
{
    check_user(VAR_AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    switch (quiet_flush(flush_send_file, queue_id)) {
    case FLUSH_STAT_OK:
	return;
    case FLUSH_STAT_FAIL:
	msg_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - mail system is down");
    case FLUSH_STAT_BAD:
	msg_fatal_status(EX_USAGE, "Invalid request: \"%s\"", queue_id);
    default:
	msg_fatal_status(EX_SOFTWARE, "unexpected flush service reply");
    }
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    const char *arg = 0;
    const char *prog;
    int     mode = 0;
    int     ch;

    prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    msg_init("postfix", "postqueue");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    if (strcmp(prog, "mailq") == 0)
	mode = 'p';

    while ((ch = getopt(argc, argv, "c:fi:jps:v")) != -1) {
	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'f':
	case 'j':
	case 'p':
	    if (mode && mode != ch && strcmp(prog, "mailq") != 0)
		msg_fatal_status(EX_USAGE, "specify only one of -f, -i, -j, -p or -s");
	    mode = ch;
	    break;
	case 'i':
	case 's':
	    if (mode && strcmp(prog, "mailq") != 0)
		msg_fatal_status(EX_USAGE, "specify only one of -f, -i, -j, -p or -s");
	    mode = ch;
	    arg = optarg;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal_status(EX_USAGE, USAGE);
	}
    }
    if (argc > optind || mode == 0)
	msg_fatal_status(EX_USAGE, USAGE);

    /*
     * A setgid postqueue must not be pointed at somebody else's main.cf
     * (and its authorized_*_users) by -c or MAIL_CONFIG: a folder that
     * an ordinary user names must be listed in the default main.cf.
     */
    mail_conf_read_checked(config_dir, EX_UNAVAILABLE);
    if (config_dir)
	setenv("MAIL_CONFIG", config_dir, 1);
    if (chdir(mail_conf_str(VAR_QUEUE_DIRECTORY)) < 0)
	msg_fatal_status(EX_UNAVAILABLE, "chdir %s: %s",
			 mail_conf_str(VAR_QUEUE_DIRECTORY), strerror(errno));

    switch (mode) {
    case 'p':
	show_queue(0);
	break;
    case 'j':
	show_queue(1);
	break;
    case 'f':
	flush_queue();
	break;
    case 's':
	flush_site(arg);
	break;
    case 'i':
	flush_file(arg);
	break;
    }
    exit(0);
}
