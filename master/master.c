/*
 * NAME
 *	master - the resident supervisor of the mail system
 * SYNOPSIS
 *	master [-dtv] [-c config_dir] [-e exit_time]
 * DESCRIPTION
 *	Reads main.cf and master.cf, creates the queue folders and the
 *	service sockets, and runs the services of master.cf on demand
 *	(master_service.c). Runs as root and starts its children as root;
 *	each child chroots (when its line says so) and drops to mail_owner
 *	itself, in the mail_server skeleton. Started by another user,
 *	everything runs as that user.
 *
 *	Options: -c DIR (configuration folder, also passed on as
 *	MAIL_CONFIG), -d (stay in the foreground, log to stderr too), -t
 *	(exit 0 when master is not running: no pid file, or it is not
 *	locked), -v (verbose, passed on), -e SECONDS (exit after that
 *	time), -s, -i, -w, -D accepted for compatibility.
 *
 *	Signals: SIGHUP re-reads both files (when either cannot be read,
 *	master warns and keeps what it has); SIGTERM (and SIGINT) stop
 *	every child and exit.
 *
 *	pid/master.pid under queue_directory holds master's process ID and
 *	stays locked while master runs, so two masters never share a
 *	queue.
 * DIAGNOSTICS
 *	"daemon started -- version V, configuration DIR", "reload --
 *	version V, configuration DIR", "terminating on signal N"; fatal
 *	errors for a bad master.cf, an unknown mail_owner (as root), a
 *	listener that cannot be bound, or another master on the queue.
 * SEE ALSO
 *	master(8), master(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/events.h"
#include "global/mail_conf.h"
#include "global/maillog.h"
#include "global/mail_queue.h"
#include "global/master_conf.h"
#include "global/mail_server.h"
#include "master.h"

MASTER_ENV master_env;

static int signal_pipe[2];
static int debug_mode;

static void signal_handler(int sig)
{
    int     saved_errno = errno;
    unsigned char ch = (unsigned char) sig;

    if (write(signal_pipe[1], &ch, 1) < 0) {
	/* pipe full: the event is already pending */
    }
    errno = saved_errno;
}

static MASTER_CONF *read_master_cf(VSTRING *why)
{
    VSTRING *path = vstring_alloc(100);
    MASTER_CONF *conf;

    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    conf = master_conf_read(vstring_str(path), why);
    vstring_free(path);
    return (conf);
}

/* open_log - maillog_file for master and (on fd 5) for every child */
static void open_log(void)
{
    const char *file = maillog_file();
    int     fd;

    if (master_env.log_fd >= 0) {
	msg_to_fd(-1);
	master_env.log_fd = -1;
    }
    if (*file) {
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
	    msg_to_stderr(1);
	    msg_fatal("open maillog_file %s: %s", file, strerror(errno));
	}
	master_env.log_fd = fd;
	msg_to_fd(fd);
    } else {
	msg_to_syslog(mail_conf_str(VAR_SYSLOG_FACILITY));
    }
}

/* find_identity - who children run as; fatal when mail_owner is unknown */
static void find_identity(void)
{
    const char *owner = mail_conf_str(VAR_MAIL_OWNER);
    const char *group = mail_conf_str(VAR_SETGID_GROUP);
    struct passwd *pw;
    struct group *gr;

    if (geteuid() != 0) {
	master_env.owner_uid = geteuid();
	master_env.owner_gid = getegid();
	master_env.setgid_gid = getegid();
	return;
    }
    if ((pw = getpwnam(owner)) == 0)
	msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s"
		  " (create the user, e.g. with \"make install\", or set mail_owner)",
		  mail_conf_dir(), owner);
    if (pw->pw_uid == 0)
	msg_fatal("file %s/main.cf: parameter mail_owner: user %s has privileged user ID",
		  mail_conf_dir(), owner);
    if ((gr = getgrnam(group)) == 0)
	msg_fatal("file %s/main.cf: parameter setgid_group: unknown group name: %s",
		  mail_conf_dir(), group);
    master_env.owner_uid = pw->pw_uid;
    master_env.owner_gid = pw->pw_gid;
    master_env.setgid_gid = gr->gr_gid;
}

/* pid_lock - lock pid/master.pid; NULL-free: fatal if another master runs */
static int pid_lock(void)
{
    int     fd;

    if ((fd = open("pid/master.pid", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
	msg_fatal("open lock file %s/pid/master.pid: %s",
		  mail_conf_str(VAR_QUEUE_DIRECTORY), strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	if (errno == EWOULDBLOCK)
	    msg_fatal("the Postfix mail system is already running");
	msg_fatal("lock %s/pid/master.pid: %s", mail_conf_str(VAR_QUEUE_DIRECTORY),
		  strerror(errno));
    }
    return (fd);
}

static void pid_write(int fd)
{
    char    buf[32];
    int     len = snprintf(buf, sizeof(buf), "%*lu\n", 10, (unsigned long) getpid());

    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, len, 0) != len)
	msg_warn("write pid/master.pid: %s", strerror(errno));
}

/* test_running - -t: exit 0 when no master holds the lock */
static void test_running(void)
{
    VSTRING *path = vstring_alloc(100);
    int     fd;

    vstring_sprintf(path, "%s/pid/master.pid", mail_conf_str(VAR_QUEUE_DIRECTORY));
    if ((fd = open(vstring_str(path), O_RDONLY | O_CLOEXEC)) < 0)
	exit(0);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
	exit(1);
    exit(0);
}

/* reserve_fds - keep 0-5 taken so no socket lands on the child slots */
static void reserve_fds(void)
{
    int     fd;

    for (fd = 0; fd <= MASTER_LOG_FD; fd++) {
	if (fcntl(fd, F_GETFD) >= 0 && fd <= 2)
	    continue;
	{
	    int     null_fd = open("/dev/null", O_RDWR);

	    if (null_fd < 0)
		msg_fatal("open /dev/null: %s", strerror(errno));
	    if (null_fd != fd) {
		if (dup2(null_fd, fd) < 0)
		    msg_fatal("dup2: %s", strerror(errno));
		close(null_fd);
	    }
	    if (fd > 2)
		(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
    }
}

static void make_queue_dir(void)
{
    const char *queue_dir = mail_conf_str(VAR_QUEUE_DIRECTORY);
    VSTRING *part = vstring_alloc(100);
    const char *cp;

    if (*queue_dir != '/')
	msg_fatal("file %s/main.cf: parameter queue_directory: value must be an absolute path: %s",
		  mail_conf_dir(), queue_dir);
    for (cp = queue_dir + 1;; cp++) {
	if (*cp == '/' || *cp == 0) {
	    vstring_strncpy(part, queue_dir, cp - queue_dir);
	    if (mkdir(vstring_str(part), 0755) < 0 && errno != EEXIST)
		msg_fatal("mkdir %s: %s", vstring_str(part), strerror(errno));
	    if (*cp == 0)
		break;
	}
    }
    vstring_free(part);
    if (chdir(queue_dir) < 0)
	msg_fatal("chdir %s: %s", queue_dir, strerror(errno));
    if (mail_queue_mkdirs(master_env.owner_uid, master_env.setgid_gid) < 0)
	msg_fatal("cannot create the queue folders under %s", queue_dir);
}

static void setup_logging(void)
{
    msg_init(mail_conf_str(VAR_SYSLOG_NAME), "master");
    open_log();
    if (debug_mode)
	msg_to_stderr(1);
}

/*
 * main_cf_ok - can main.cf be read? Checked in a child so that a broken
 * file leaves master running with the configuration it has.
 */
static int main_cf_ok(void)
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) < 0)
	return (1);
    if (pid == 0) {
	VSTRING *path = vstring_alloc(100);
	VSTRING *why = vstring_alloc(100);
	MASTER_CONF *conf;

	mail_conf_reset();
	vstring_sprintf(path, "%s/main.cf", mail_conf_dir());
	if (mail_conf_read_file(vstring_str(path), why) < 0) {
	    msg_warn("%s; keeping the old configuration", vstring_str(why));
	    _exit(1);
	}
	/* A macro loop is fatal here, in the child: the old one stays. */
	mail_conf_check_macros();
	/* A setting we would ignore to the detriment of security. */
	if ((conf = read_master_cf(why)) != 0 && master_check_unsafe(conf, why) < 0) {
	    msg_warn("%s; keeping the old configuration", vstring_str(why));
	    _exit(1);
	}
	_exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    return (1);
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void reload(void)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CONF *conf;

    if (!main_cf_ok()) {
	vstring_free(why);
	return;
    }
    mail_conf_reset();
    mail_conf_read((char *) 0);
    setup_logging();
    if ((conf = read_master_cf(why)) == 0) {
	msg_warn("%s; keeping the old configuration", vstring_str(why));
	vstring_free(why);
	return;
    }
    master_env.generation++;
    msg_info("reload -- version %s, configuration %s", mail_conf_str(VAR_MAIL_VERSION),
	     mail_conf_dir());
    master_check_params(conf);
    master_chroot_files(conf);
    master_services_reload(conf);
    vstring_free(why);
}

static void stop(int sig)
{
    static int stopping;
    long long deadline;

    if (stopping++)				/* a second signal while we wait */
	return;
    msg_info("terminating on signal %d", sig);
    master_services_stop();

    /* Give children a moment to go, then make sure they are gone. */
    deadline = event_time_ms() + 5000;
    while (master_child_count() > 0) {
	struct timespec ts = {0, 20 * 1000 * 1000};

	master_reap_children();
	if (master_child_count() == 0)
	    break;
	if (event_time_ms() > deadline)
	    break;
	nanosleep(&ts, 0);
	event_loop(0);
    }
    if (master_child_count() > 0)
	master_kill_children(SIGKILL);
    exit(0);
}

static void signal_event(int event, void *context)
{
    unsigned char sigs[64];
    ssize_t n;

    (void) event;
    (void) context;
    while ((n = read(signal_pipe[0], sigs, sizeof(sigs))) > 0) {
	for (ssize_t i = 0; i < n; i++) {
	    switch (sigs[i]) {
	    case SIGCHLD:
		master_reap_children();
		break;
	    case SIGHUP:
		reload();
		break;
	    case SIGTERM:
	    case SIGINT:
		stop(sigs[i]);
		break;
	    }
	}
    }
}

static void exit_event(int event, void *context)
{
    (void) event;
    (void) context;
    msg_info("exit time has arrived");
    exit(0);
}

static void usage(void)
{
    msg_to_stderr(1);
    msg_fatal("usage: master [-dtv] [-c config_dir] [-e exit_time]");
}

int     main(int argc, char **argv)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CONF *conf;
    struct sigaction sa;
    int     test_mode = 0;
    int     exit_time = 0;
    int     lock_fd;
    int     ch;

    master_env.log_fd = -1;
    msg_init("postfix", "master");
    reserve_fds();
    while ((ch = getopt(argc, argv, "c:De:distvw")) != -1) {
	switch (ch) {
	case 'c':
	    if (setenv("MAIL_CONFIG", optarg, 1) < 0)
		msg_fatal("setenv: %s", strerror(errno));
	    break;
	case 'd':
	    debug_mode = 1;
	    break;
	case 'e':
	    exit_time = atoi(optarg);
	    break;
	case 't':
	    test_mode = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    master_env.verbose++;
	    break;
	case 'D':
	case 'i':
	case 's':
	case 'w':
	    break;
	default:
	    usage();
	}
    }
    if (optind < argc)
	usage();

    if (debug_mode)
	msg_to_stderr(1);
    mail_conf_read((char *) 0);
    mail_conf_check_macros();
    master_import_env();
    if (test_mode)
	test_running();
    setup_logging();
    if (!debug_mode)
	msg_to_stderr(1);			/* until we are in the background */
    find_identity();
    if ((conf = read_master_cf(why)) == 0)
	msg_fatal("%s", vstring_str(why));
    if (master_check_unsafe(conf, why) < 0)
	msg_fatal("%s", vstring_str(why));
    make_queue_dir();
    lock_fd = pid_lock();

    if (!debug_mode) {
	pid_t   pid;

	if ((pid = fork()) < 0)
	    msg_fatal("fork: %s", strerror(errno));
	if (pid > 0)
	    _exit(0);
	(void) setsid();
	msg_to_stderr(0);
	{
	    int     null_fd = open("/dev/null", O_RDWR);

	    if (null_fd >= 0) {
		dup2(null_fd, 0);
		dup2(null_fd, 1);
		dup2(null_fd, 2);
		if (null_fd > 2)
		    close(null_fd);
	    }
	}
    }
    pid_write(lock_fd);

    /* Signals arrive through a pipe into the event loop. */
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
	msg_fatal("pipe: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = signal_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, 0);
    sigaction(SIGHUP, &sa, 0);
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    event_enable_read(signal_pipe[0], signal_event, 0);

    msg_info("daemon started -- version %s, configuration %s",
	     mail_conf_str(VAR_MAIL_VERSION), mail_conf_dir());
    if (geteuid() != 0) {
	struct passwd *pw = getpwuid(geteuid());

	msg_info("not running as root: master and all services run as user %s (uid %ld)",
		 pw ? pw->pw_name : "?", (long) geteuid());
    }
    master_check_params(conf);
    master_chroot_files(conf);
    master_services_start(conf);
    if (exit_time > 0)
	event_request_timer(exit_event, 0, exit_time * 1000L);
    vstring_free(why);
    for (;;)
	event_loop(-1);
}
