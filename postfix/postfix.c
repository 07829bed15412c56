/*
 * NAME
 *	postfix - start, stop and look after the mail system
 * SYNOPSIS
 *	postfix [-Dv] [-c config_dir] command
 * DESCRIPTION
 *	The commands of Postfix's postfix(1), done here without a shell
 *	script:
 *
 *	start		check (as "check", fatal problems stop it), log
 *			"starting the Postfix mail system", run master,
 *			which goes into the background; fails when master
 *			runs already or cannot start
 *	start-fg	the same, but master stays in the foreground
 *			(exec master -d), for a supervisor such as systemd
 *	stop		SIGTERM to master, then wait up to five seconds
 *			("waiting for the Postfix mail system to
 *			terminate"), then SIGKILL to its process group
 *			("stopping the Postfix mail system with force")
 *	abort		SIGTERM to master, without waiting
 *	reload		SIGHUP to master ("refreshing the Postfix mail
 *			system")
 *	flush		postqueue -f
 *	status		"the Postfix mail system is running: PID: N"
 *			(exit 0) or "... is not running" (exit 1)
 *	check		the checks of postfix_check.c; warnings only,
 *			exit 0 unless something fatal was found
 *	set-permissions	owners and modes of the queue folders, the data
 *			folder and the set-group-id commands, as a sound
 *			installation has them
 *
 *	Whether master runs is what "master -t" says: the lock on
 *	pid/master.pid under queue_directory is held; the PID is the
 *	first line of that file.
 *
 *	Only the superuser may run postfix. -c names the configuration
 *	folder (passed on as MAIL_CONFIG); -v logs more; -D is accepted
 *	and ignored.
 * DIAGNOSTICS
 *	Every line is logged with the tag postfix/postfix-script, as
 *	Postfix does, and shown on standard error when it is a terminal.
 *	Exit status 0 on success, 1 otherwise (flush: postqueue's).
 * SEE ALSO
 *	master(8), postqueue(1), postsuper(1)
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_cmd_log.h"
#include "postfix.h"

#define USAGE_COMMANDS	"start (or stop, reload, abort, flush, check, status, start-fg, set-permissions)"

static int tty;				/* standard error is a terminal */

/* log_line - one line at a level, without exiting */
static void log_line(int level, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(level, fmt, ap);
    va_end(ap);
}

void    postfix_say(int level, const char *fmt,...)
{
    static const char *prefix[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    log_line(level, "%s", vstring_str(buf));
    if (tty)
	fprintf(stderr, "%s/postfix-script: %s%s\n", mail_conf_str(VAR_SYSLOG_NAME),
		prefix[level], vstring_str(buf));
    vstring_free(buf);
}

void    postfix_fatal(const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    postfix_say(MSG_FATAL, "%s", vstring_str(buf));
    exit(1);
}

/* master_pid - master's PID when it runs (its lock is held), else 0 */
static long master_pid(void)
{
    VSTRING *path = vstring_alloc(100);
    char    buf[64];
    ssize_t n;
    long    pid = 0;
    int     fd;

    vstring_sprintf(path, "%s/pid/master.pid", mail_conf_str(VAR_QUEUE_DIRECTORY));
    if ((fd = open(vstring_str(path), O_RDONLY | O_CLOEXEC)) >= 0) {
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
	    if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		pid = strtol(buf, (char **) 0, 10);
	    }
	    if (pid <= 0)
		pid = -1;			/* locked, but no PID: say so */
	}
	(void) close(fd);
    }
    vstring_free(path);
    return (pid);
}

/*
 * run_wait - run a program and wait for it; its exit status. With
 * new_session the program starts in a session of its own, without a
 * controlling terminal: master goes into the background by forking, and
 * its child must not get the SIGHUP of a terminal that closes right after
 * "postfix start" returns.
 */
static int run_wait(const char *path, char *const *args, int new_session)
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) < 0)
	postfix_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
	if (new_session)
	    (void) setsid();
	execv(path, args);
	fprintf(stderr, "postfix: fatal: execv %s: %s\n", path, strerror(errno));
	_exit(1);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    postfix_fatal("waitpid: %s", strerror(errno));
    return (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* program - a program of daemon_directory or command_directory */
static char *program(const char *dir_param, const char *name)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", mail_conf_str(dir_param), name);
    return (vstring_export(path));
}

/* basic_checks - the folders and programs every command needs */
static void basic_checks(void)
{
    static const struct {
	const char *param;
	const char *what;
    } dirs[] = {
	{VAR_COMMAND_DIRECTORY, "command"},
	{VAR_DAEMON_DIRECTORY, "daemon"},
	{VAR_QUEUE_DIRECTORY, "queue"},
    };
    char   *master;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
	if (access(mail_conf_str(dirs[i].param), X_OK) < 0)
	    postfix_fatal("no Postfix %s directory %s!", dirs[i].what,
			  mail_conf_str(dirs[i].param));
    if (access(mail_conf_dir(), X_OK) < 0)
	postfix_fatal("no Postfix configuration directory %s!", mail_conf_dir());
    master = program(VAR_DAEMON_DIRECTORY, "master");
    if (access(master, X_OK) < 0)
	postfix_fatal("no Postfix master program %s!", master);
    myfree(master);
}

static void cmd_start(int foreground)
{
    char   *master = program(VAR_DAEMON_DIRECTORY, "master");

    if (master_pid() != 0)
	postfix_fatal("the Postfix mail system is already running");
    if (postfix_check_fatal() < 0)
	postfix_fatal("Postfix integrity check failed!");
    postfix_check_warn();
    postfix_say(MSG_INFO, "starting the Postfix mail system");
    if (foreground) {
	execl(master, "master", "-d", (char *) 0);
	postfix_fatal("cannot start-fg the master daemon: %s", strerror(errno));
    }
    if (run_wait(master, (char *[]) {"master", 0}, 1) != 0)
	postfix_fatal("mail system startup failed");
    myfree(master);
}

static void cmd_stop(int wait)
{
    long    pid = master_pid();

    if (pid == 0)
	postfix_fatal("the Postfix mail system is not running");
    postfix_say(MSG_INFO, wait ? "stopping the Postfix mail system" :
		"aborting the Postfix mail system");
    if (pid > 0 && kill((pid_t) pid, SIGTERM) < 0)
	postfix_fatal("kill %ld: %s", pid, strerror(errno));
    if (!wait)
	return;
    for (int i = 0; i < 5; i++) {
	struct timespec ts = {0, 100 * 1000 * 1000};

	for (int j = 0; j < 10; j++) {
	    if (master_pid() == 0)
		return;
	    nanosleep(&ts, 0);
	}
	if (master_pid() == 0)
	    return;
	postfix_say(MSG_INFO, "waiting for the Postfix mail system to terminate");
    }
    postfix_say(MSG_WARN, "stopping the Postfix mail system with force");
    if (pid > 0)
	(void) kill(-(pid_t) pid, SIGKILL);
}

static void cmd_reload(void)
{
    long    pid = master_pid();

    if (pid == 0)
	postfix_fatal("the Postfix mail system is not running");
    postfix_say(MSG_INFO, "refreshing the Postfix mail system");
    if (pid > 0 && kill((pid_t) pid, SIGHUP) < 0)
	postfix_fatal("kill %ld: %s", pid, strerror(errno));
}

static int cmd_status(void)
{
    long    pid = master_pid();

    if (pid == 0) {
	postfix_say(MSG_INFO, "the Postfix mail system is not running");
	return (1);
    }
    postfix_say(MSG_INFO, "the Postfix mail system is running: PID: %ld", pid);
    return (0);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    const char *cmd;
    int     ch;
    int     status = 0;

    tty = isatty(2);
    umask(022);
    msg_init("postfix", "postfix");
    msg_to_stderr(tty);
    msg_stderr_command_style(1);

    /* Postfix's getopt stops at the command: "postfix stop -v" is not -v. */
    while ((ch = getopt(argc, argv, "+c:Dv")) != -1) {
	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'D':
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal("usage: postfix [-c config_dir] [-Dv] command");
	}
    }
    if (getuid() != 0) {
	msg_error("to submit mail, use the Postfix sendmail command");
	msg_fatal("the postfix command is reserved for the superuser");
    }
    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
	msg_fatal("setenv: %s", strerror(errno));
    mail_conf_read(config_dir);
    mail_cmd_log_init("postfix-script");
    msg_to_stderr(0);				/* postfix_say() shows lines */
    cmd = optind < argc ? argv[optind] : "";
    basic_checks();

    if (strcmp(cmd, "start") == 0) {
	cmd_start(0);
    } else if (strcmp(cmd, "start-fg") == 0) {
	cmd_start(1);
    } else if (strcmp(cmd, "stop") == 0) {
	cmd_stop(1);
    } else if (strcmp(cmd, "abort") == 0) {
	cmd_stop(0);
    } else if (strcmp(cmd, "reload") == 0) {
	cmd_reload();
    } else if (strcmp(cmd, "status") == 0) {
	status = cmd_status();
    } else if (strcmp(cmd, "flush") == 0) {
	char   *postqueue = program(VAR_COMMAND_DIRECTORY, "postqueue");

	if (chdir(mail_conf_str(VAR_QUEUE_DIRECTORY)) < 0)
	    postfix_fatal("no Postfix queue directory %s!", mail_conf_str(VAR_QUEUE_DIRECTORY));
	status = run_wait(postqueue, (char *[]) {"postqueue", "-f", 0}, 0);
	myfree(postqueue);
    } else if (strcmp(cmd, "check") == 0) {
	if (postfix_check_fatal() < 0)
	    exit(1);
	postfix_check_warn();
    } else if (strcmp(cmd, "set-permissions") == 0) {
	postfix_set_permissions();
    } else {
	postfix_fatal("unknown command: '%s'. Usage: postfix %s", cmd, USAGE_COMMANDS);
    }
    exit(status);
}
