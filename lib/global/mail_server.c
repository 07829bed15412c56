/*
 * NAME
 *	mail_server - the skeletons every daemon is built on
 * SYNOPSIS
 *	#include "mail_server.h"
 * DESCRIPTION
 *	See mail_server.h for the contract. This file holds the parts
 *	both skeletons share (command line, configuration, logging,
 *	chroot and privilege drop, the status pipe to master) and the two
 *	loops.
 *
 *	A child knows that master went away (or told it to finish, after
 *	a reload) when its status pipe reports an error: the reading end
 *	was closed. The single-server loop polls the pipe with no events
 *	requested, which reports exactly that condition. It waits with
 *	epoll(7) where it can, so that a connection wakes one idle process
 *	(single_wait_open()).
 *
 *	Before chroot (as root) one host and one service lookup load the
 *	C library's NSS modules and configuration, which cannot be loaded
 *	from inside the queue directory.
 *
 *	Privileges: mail_owner is looked up before chroot (the chroot
 *	holds no passwd file). Started by a non-root user the process
 *	keeps its identity and does not chroot; with -v it says so (master
 *	logs it once for everybody).
 *
 *	Stand-alone mode (-S) serves one client on stdin/stdout: replies
 *	go to stdin when it is a socket, else to stdout. Logging goes to
 *	stderr in that mode unless maillog_file is set.
 * DIAGNOSTICS
 *	Fatal: bad command line, unknown mail_owner (as root), chdir or
 *	chroot failure, no listening socket outside -S mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/maillog.h"
#include "util/events.h"
#include "util/pass_fd.h"
#include "global/mail_server.h"

static char *service_name;
static char *service_type;
static int stand_alone;
static int have_master;
static unsigned generation;
static int *listen_fds;			/* MASTER_LISTEN_FD, then extras */
static int listen_count;
static int process_limit;		/* $MASTER_PROCESS_LIMIT */
static int watch_count;
static struct {
    int     (*changed) (void *);
    void   *ctx;
}       watch_list[64];

const char *mail_server_name(void)
{
    return (service_name ? service_name : msg_prog());
}

/* The process ID, asked once (a child of fork() asks again). */
static pid_t status_pid;

static void status_pid_forget(void)
{
    status_pid = 0;
}

/*
 * status_send - one record to master; a closed pipe means master is gone
 * (or reloaded): exit, unless a client was just accepted (busy), which
 * is served first; the "idle" after it then exits.
 */
static void status_send(int status)
{
    static int hooked;
    MASTER_STATUS stat;
    ssize_t n;

    if (!have_master)
	return;
    if (status_pid == 0) {
	if (!hooked) {
	    (void) pthread_atfork((void (*) (void)) 0, (void (*) (void)) 0, status_pid_forget);
	    hooked = 1;
	}
	status_pid = getpid();
    }
    memset(&stat, 0, sizeof(stat));
    stat.pid = status_pid;
    stat.status = status;
    stat.generation = generation;
    do {
	n = write(MASTER_STATUS_FD, &stat, sizeof(stat));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof(stat)) {
	if (status == MASTER_STAT_TAKEN)
	    return;
	if (msg_verbose)
	    msg_info("master status pipe closed: exiting");
	exit(0);
    }
}

void    mail_server_busy(void)
{
    status_send(MASTER_STAT_TAKEN);
}

void    mail_server_idle(void)
{
    status_send(MASTER_STAT_AVAIL);
}

int     mail_server_process_limit(void)
{
    return (process_limit);
}

/*
 * mail_server_waiting - clients in the accept queues of our listeners.
 * For a listening TCP socket, Linux reports the accept queue length in
 * tcpi_unacked; other sockets say only whether one is waiting.
 */
int     mail_server_waiting(void)
{
    int     total = 0;

    for (int i = 0; i < listen_count; i++) {
	struct tcp_info info;
	socklen_t len = sizeof(info);
	struct pollfd pfd;

	memset(&info, 0, sizeof(info));
	if (getsockopt(listen_fds[i], IPPROTO_TCP, TCP_INFO, &info, &len) == 0
	    && info.tcpi_state == TCP_LISTEN) {
	    total += (int) info.tcpi_unacked;
	    continue;
	}
	pfd.fd = listen_fds[i];
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN))
	    total += 1;
    }
    return (total);
}

void    mail_server_watch(int (*changed) (void *), void *ctx)
{
    if (watch_count < (int) (sizeof(watch_list) / sizeof(watch_list[0]))) {
	watch_list[watch_count].changed = changed;
	watch_list[watch_count].ctx = ctx;
	watch_count++;
    }
}

/* tables_changed - did a table that we opened change on disk? */
static int tables_changed(void)
{
    for (int i = 0; i < watch_count; i++) {
	if (watch_list[i].changed(watch_list[i].ctx)) {
	    msg_info("table has changed -- restarting");
	    return (1);
	}
    }
    return (0);
}

static int fd_is_open(int fd)
{
    return (fcntl(fd, F_GETFD) >= 0);
}

/* set_override - apply one -o name=value (spaces around "=" allowed) */
static void set_override(char *arg)
{
    char   *eq = strchr(arg, '=');
    char   *name;

    if (eq == 0)
	msg_fatal("-o %s: expected name=value", arg);
    *eq = 0;
    name = trimblanks(arg);
    if (*name == 0)
	msg_fatal("-o =%s: missing parameter name", eq + 1);
    mail_conf_set(name, trimblanks(eq + 1));
}

/*
 * warm_up_resolver - before chroot: let the C library read nsswitch.conf
 * and load whatever NSS modules host and service lookups need (they are
 * loaded on first use, and the chroot has no /lib); read the time zone.
 * Inside the chroot the lookups then read the copies master keeps under
 * the queue directory (etc/hosts, etc/resolv.conf, ...).
 */
static void warm_up_resolver(void)
{
    struct addrinfo hints;
    struct addrinfo *res = 0;
    struct sockaddr_in sin;
    char    host[NI_MAXHOST];

    tzset();
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo("localhost", "smtp", &hints, &res) == 0)
	freeaddrinfo(res);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void) getnameinfo((struct sockaddr *) &sin, sizeof(sin), host, sizeof(host),
		       0, 0, NI_NAMEREQD);
    (void) getservbyname("smtp", "tcp");
}

/* drop_privileges - chdir, chroot, setgid/setuid as the contract says */
static void drop_privileges(int do_chroot, int stay_root)
{
    const char *queue_dir = mail_conf_str(VAR_QUEUE_DIRECTORY);
    const char *owner = mail_conf_str(VAR_MAIL_OWNER);
    struct passwd *pw = 0;
    uid_t   uid = 0;
    gid_t   gid = 0;
    int     is_root = geteuid() == 0;

    if (is_root && !stay_root) {
	if ((pw = getpwnam(owner)) == 0)
	    msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
		      mail_conf_dir(), owner);
	if (pw->pw_uid == 0)
	    msg_fatal("mail_owner %s has root privileges", owner);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
    }
    if (chdir(queue_dir) < 0)
	msg_fatal("chdir(\"%s\"): %s", queue_dir, strerror(errno));
    if (do_chroot) {
	if (is_root) {
	    warm_up_resolver();
	    if (chroot(".") < 0)
		msg_fatal("chroot(\"%s\"): %s", queue_dir, strerror(errno));
	    if (chdir("/") < 0)
		msg_fatal("chdir(\"/\") in chroot: %s", strerror(errno));
	} else if (msg_verbose) {
	    msg_info("not running as root: no chroot to %s", queue_dir);
	}
    }
    if (is_root && !stay_root) {
	if (setgroups(1, &gid) < 0)
	    msg_fatal("setgroups(%ld): %s", (long) gid, strerror(errno));
	if (setgid(gid) < 0)
	    msg_fatal("setgid(%ld): %s", (long) gid, strerror(errno));
	if (setuid(uid) < 0)
	    msg_fatal("setuid(%ld): %s", (long) uid, strerror(errno));
	if (msg_verbose)
	    msg_info("running as %s (uid %ld gid %ld)", owner, (long) uid, (long) gid);
    } else if (!is_root && msg_verbose) {
	msg_info("not running as root: staying uid %ld", (long) getuid());
    }
}

/* server_init - everything both skeletons do before serving */
static ARGV *server_init(int argc, char **argv, const MAIL_SERVER_OPTS *opts)
{
    ARGV   *overrides = argv_alloc(4);
    ARGV   *service_argv = argv_alloc(4);
    const char *slash;
    const char *env;
    int     do_chroot = 0;
    int     stay_root = 0;
    int     debug = 0;
    int     ch;

    signal(SIGPIPE, SIG_IGN);
    slash = strrchr(argv[0], '/');
    msg_init("postfix", slash ? slash + 1 : argv[0]);
    opterr = 0;
    while ((ch = getopt(argc, argv, "+cdDn:o:St:uvz")) != -1) {
	switch (ch) {
	case 'c':
	    do_chroot = 1;
	    break;
	case 'd':
	    debug = 1;
	    break;
	case 'D':
	case 'z':
	    break;
	case 'n':
	    service_name = mystrdup(optarg);
	    break;
	case 'o':
	    argv_add(overrides, optarg);
	    break;
	case 'S':
	    stand_alone = 1;
	    break;
	case 't':
	    service_type = mystrdup(optarg);
	    break;
	case 'u':
	    stay_root = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_to_stderr(1);
	    msg_fatal("invalid option: -%c", optopt);
	}
    }
    for (int i = optind; i < argc; i++)
	argv_add(service_argv, argv[i]);
    if (service_name == 0)
	service_name = mystrdup(msg_prog());
    if (service_type == 0)
	service_type = mystrdup("unix");
    if ((env = getenv("MASTER_GENERATION")) != 0)
	generation = (unsigned) strtoul(env, 0, 10);

    /* Configuration: main.cf, then -o, then what master.cf implies. */
    mail_conf_read((char *) 0);
    for (size_t i = 0; i < overrides->argc; i++)
	set_override(overrides->argv[i]);
    argv_free(overrides);
    mail_conf_set("service_name", service_name);
    mail_conf_check_macros();

    /* Logging. */
    msg_init(mail_conf_str(VAR_SYSLOG_NAME), msg_prog());
    if (!stand_alone && fd_is_open(MASTER_LOG_FD)) {
	msg_to_fd(MASTER_LOG_FD);
	(void) fcntl(MASTER_LOG_FD, F_SETFD, FD_CLOEXEC);
    } else if (*maillog_file()) {
	msg_to_file(maillog_file());
    } else if (stand_alone) {
	debug = 1;
    } else {
	msg_to_syslog(mail_conf_str(VAR_SYSLOG_FACILITY));
    }
    if (debug)
	msg_to_stderr(1);

    /* The master interface. */
    if (!stand_alone) {
	if (!fd_is_open(MASTER_LISTEN_FD)) {
	    msg_to_stderr(1);
	    msg_fatal("no listening socket on descriptor %d: run me from master, or use -S",
		      MASTER_LISTEN_FD);
	}
	have_master = fd_is_open(MASTER_STATUS_FD);
	listen_count = (env = getenv("MASTER_LISTEN_COUNT")) != 0 ? atoi(env) : 1;
	if ((env = getenv("MASTER_PROCESS_LIMIT")) != 0 && (process_limit = atoi(env)) < 0)
	    process_limit = 0;
	if (listen_count < 1 || listen_count > 1000)
	    listen_count = 1;
	listen_fds = mymalloc(listen_count * sizeof(int));
	for (int i = 0; i < listen_count; i++) {
	    listen_fds[i] = i == 0 ? MASTER_LISTEN_FD : MASTER_LISTEN_FD_EXTRA + i - 1;
	    if (!fd_is_open(listen_fds[i]))
		msg_fatal("no listening socket on descriptor %d", listen_fds[i]);
	    (void) fcntl(listen_fds[i], F_SETFD, FD_CLOEXEC);
	    (void) fcntl(listen_fds[i], F_SETFL, fcntl(listen_fds[i], F_GETFL) | O_NONBLOCK);
	}
	if (have_master)
	    (void) fcntl(MASTER_STATUS_FD, F_SETFD, FD_CLOEXEC);
    }
    if (msg_verbose)
	msg_info("service %s type %s%s", service_name, service_type,
		 stand_alone ? " (stand-alone)" : "");

    if (opts && opts->pre_init)
	opts->pre_init(service_name, service_argv->argv);
    drop_privileges(do_chroot, stay_root);
    if (opts && opts->post_init)
	opts->post_init(service_name, service_argv->argv);
    return (service_argv);
}

/* stdout_write - stand-alone replies go to stdout when stdin is no socket */
static ssize_t stdout_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    ssize_t n;

    (void) ctx;
    (void) fd;
    if (timeout_ms >= 0 && vstream_wait_fd(1, 1, timeout_ms) == 0) {
	errno = ETIMEDOUT;
	return (-1);
    }
    do {
	n = write(1, buf, len);
    } while (n < 0 && errno == EINTR);
    return (n);
}

static int fd_is_socket(int fd)
{
    struct stat st;

    return (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
}

/* The single server's uses so far, and its limit (0: none). */
static long single_use_count;
static long single_max_use;

/*
 * mail_server_another - a client that sends one request after another
 * (qmgr to a delivery agent) may send one more: count the request just
 * served as a use, unless this process should stop after it (max_use
 * reached, a table changed, master gone or reloaded).
 */
int     mail_server_another(void)
{
    static time_t master_checked;
    struct pollfd pfd;
    time_t  now;

    if (stand_alone)
	return (1);
    if (single_max_use > 0 && single_use_count + 1 >= single_max_use)
	return (0);
    if (tables_changed())
	return (0);
    /*
     * Master's status pipe is looked at once per second, not per request
     * (a request a second apart always looks): the client, qmgr, watches
     * master too and ends the connection when master goes or reloads.
     */
    if (have_master && (now = time((time_t *) 0)) != master_checked) {
	pfd.fd = MASTER_STATUS_FD;
	pfd.events = 0;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 0)
	    return (0);
	master_checked = now;
    }
    single_use_count++;
    return (1);
}

/*
 * pass_receive - a "pass" service: the connection that was accepted
 * brings the client's connection; serve that one instead.
 */
static int pass_receive(int conn)
{
    int     fd = pass_fd_recv(conn, (int) (1000 * mail_conf_time(VAR_IPC_TIMEOUT)));

    if (fd < 0)
	msg_warn("%s: no client connection was passed: %s", service_name, strerror(errno));
    close(conn);
    return (fd);
}

/*
 * single_wait_open - where it can (Linux), an idle single server waits
 * for a connection with epoll(7), its listeners registered with
 * EPOLLEXCLUSIVE: a new connection then wakes one idle process, not
 * every process of the service (with poll(2), 50 idle smtpd processes
 * all woke, and all but one found accept(2) empty). The status pipe is
 * registered with no events: epoll reports its error condition anyway.
 * -1: use poll(2).
 */
static int single_wait_open(void)
{
#if defined(__linux__) && defined(EPOLLEXCLUSIVE)
    struct epoll_event ev;
    int     epfd;

    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
	return (-1);
    for (int i = 0; i <= listen_count; i++) {
	if (i == listen_count && !have_master)
	    break;
	memset(&ev, 0, sizeof(ev));
	ev.events = i < listen_count ? EPOLLIN | EPOLLEXCLUSIVE : 0;
	ev.data.u32 = i;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, i < listen_count ?
		      listen_fds[i] : MASTER_STATUS_FD, &ev) < 0) {
	    (void) close(epfd);
	    return (-1);
	}
    }
    return (epfd);
#else
    return (-1);
#endif
}

/* single_wait - poll(2) semantics over pfd[], through epfd if open */
static int single_wait(int epfd, struct pollfd *pfd, int count, int timeout)
{
#if defined(__linux__) && defined(EPOLLEXCLUSIVE)
    struct epoll_event ev[8];
    int     n;

    /* Events beyond the first 8 stay ready for the next call. */
    if (epfd >= 0) {
	if ((n = epoll_wait(epfd, ev, count < 8 ? count : 8, timeout)) <= 0)
	    return (n);
	for (int i = 0; i < n; i++)
	    pfd[ev[i].data.u32].revents = ev[i].events;
	return (n);
    }
#else
    (void) epfd;
#endif
    return (poll(pfd, count, timeout));
}

void    single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
			           const MAIL_SERVER_OPTS *opts)
{
    ARGV   *service_argv = server_init(argc, argv, opts);
    int     unlimited = opts && opts->unlimited;
    long    max_use = mail_conf_int(VAR_MAX_USE);
    long    max_idle = mail_conf_time(VAR_MAX_IDLE);
    long   *use_count = &single_use_count;
    struct pollfd *pfd;
    int     epfd;

    single_max_use = unlimited ? 0 : max_use;

    if (stand_alone) {
	VSTREAM *client = vstream_fdopen(0);

	if (!fd_is_socket(0))
	    vstream_set_io(client, 0, stdout_write, 0);
	service(client, service_name, service_argv->argv);
	vstream_fflush(client);
	vstream_release(client);
	exit(0);
    }
    pfd = mymalloc((listen_count + 1) * sizeof(*pfd));
    epfd = single_wait_open();
    for (;;) {
	int     n;
	int     fd = -1;
	int     status_slot = listen_count;

	if (!unlimited && *use_count >= max_use)
	    break;
	if (tables_changed())
	    break;
	for (int i = 0; i < listen_count; i++) {
	    pfd[i].fd = listen_fds[i];
	    pfd[i].events = POLLIN;
	    pfd[i].revents = 0;
	}
	pfd[status_slot].fd = have_master ? MASTER_STATUS_FD : -1;
	pfd[status_slot].events = 0;
	pfd[status_slot].revents = 0;
	n = single_wait(epfd, pfd, listen_count + 1, unlimited ? -1 : (int) (max_idle * 1000));
	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    msg_fatal("poll: %s", strerror(errno));
	}
	if (n == 0) {
	    if (msg_verbose)
		msg_info("idle timeout -- exiting");
	    break;
	}
	if (pfd[status_slot].revents) {
	    if (msg_verbose)
		msg_info("master disconnect -- exiting");
	    break;
	}
	for (int i = 0; i < listen_count && fd < 0; i++) {
	    if ((pfd[i].revents & POLLIN) == 0)
		continue;
	    if ((fd = accept4(listen_fds[i], 0, 0, SOCK_CLOEXEC)) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
		    || errno == ECONNABORTED || errno == EPROTO)
		    continue;
		msg_fatal("accept connection: %s", strerror(errno));
	    }
	}
	if (fd >= 0 && strcmp(service_type, "pass") == 0)
	    fd = pass_receive(fd);
	if (fd < 0)
	    continue;
	mail_server_busy();
	{
	    VSTREAM *client = vstream_fdopen(fd);

	    service(client, service_name, service_argv->argv);
	    vstream_close(client);
	}
	(*use_count)++;
	mail_server_idle();
    }
    exit(0);
}

/*
 * Trigger server: the listener, the status pipe and whatever the daemon
 * registers live in one event loop.
 */
static TRIGGER_SERVER_FN trigger_service;
static char **trigger_argv;
static VSTRING *trigger_buf;

static void trigger_read(int fd, VSTRING *buf)
{
    char    chunk[256];
    ssize_t n;
    long long deadline = vstream_now_ms() + 1000 * mail_conf_time(VAR_TRIGGER_TIMEOUT);

    vstring_reset(buf);
    while (vstring_len(buf) < 4096) {
	long long left = deadline - vstream_now_ms();

	if (left <= 0 || vstream_wait_fd(fd, 0, (int) left) <= 0)
	    break;
	if ((n = read(fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
	    continue;
	if (n <= 0)
	    break;
	vstring_memcat(buf, chunk, n);
    }
}

/*
 * A client may keep its connection and write a request now and then
 * (mail_trigger_kept()): what is there is read without waiting, and
 * the connection stays in the event loop until the client closes it.
 * A client that writes and closes at once costs nothing more than it
 * did. Past TRIGGER_KEEP_MAX open connections a new one is read as
 * before, to its end or trigger_timeout.
 */
#define TRIGGER_KEEP_MAX	256

static int trigger_kept;

static void trigger_run(void)
{
    if (vstring_len(trigger_buf) > 0) {
	mail_server_busy();
	trigger_service(vstring_str(trigger_buf), (ssize_t) vstring_len(trigger_buf),
			service_name, trigger_argv);
	mail_server_idle();
    }
}

/* trigger_drain - what the client sent so far; 1 when it closed */
static int trigger_drain(int fd, VSTRING *buf)
{
    char    chunk[256];
    ssize_t n;

    vstring_reset(buf);
    while (vstring_len(buf) < 4096) {
	if ((n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0) {
	    vstring_memcat(buf, chunk, n);
	    continue;
	}
	if (n < 0 && errno == EINTR)
	    continue;
	return (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : 1);
    }
    return (0);
}

static void trigger_conn_event(int event, void *context)
{
    int     fd = (int) (long) context;
    int     closed;

    (void) event;
    closed = trigger_drain(fd, trigger_buf);
    if (closed) {
	event_disable_readwrite(fd);
	close(fd);
	trigger_kept--;
    }
    trigger_run();
}

static void trigger_accept(int event, void *context)
{
    int     fd;
    int     listen_fd = (int) (long) context;

    (void) event;
    if ((fd = accept4(listen_fd, 0, 0, SOCK_CLOEXEC)) < 0) {
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
	    || errno == ECONNABORTED || errno == EPROTO)
	    return;
	msg_fatal("accept connection: %s", strerror(errno));
    }
    if (trigger_kept >= TRIGGER_KEEP_MAX) {
	trigger_read(fd, trigger_buf);
	close(fd);
    } else if (trigger_drain(fd, trigger_buf)) {
	close(fd);				/* wrote and closed */
    } else {
	trigger_kept++;
	event_enable_read(fd, trigger_conn_event, (void *) (long) fd);
    }
    trigger_run();
}

static void trigger_master_gone(int event, void *context)
{
    (void) event;
    (void) context;
    if (msg_verbose)
	msg_info("master disconnect -- exiting");
    exit(0);
}

void    trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN service,
			            const MAIL_SERVER_OPTS *opts)
{
    ARGV   *service_argv = server_init(argc, argv, opts);

    trigger_service = service;
    trigger_argv = service_argv->argv;
    trigger_buf = vstring_alloc(64);

    if (stand_alone) {
	trigger_read(0, trigger_buf);
	service(vstring_str(trigger_buf), (ssize_t) vstring_len(trigger_buf),
		service_name, trigger_argv);
	exit(0);
    }
    for (int i = 0; i < listen_count; i++)
	event_enable_read(listen_fds[i], trigger_accept, (void *) (long) listen_fds[i]);
    if (have_master)
	event_enable_read(MASTER_STATUS_FD, trigger_master_gone, 0);
    for (;;) {
	int     wait_sec = -1;

	if (tables_changed())
	    break;
	if (opts && opts->loop)
	    wait_sec = opts->loop(service_name, trigger_argv);
	event_loop(wait_sec < 0 ? -1 : wait_sec * 1000L);
    }
    exit(0);
}

/*
 * Event server: one long-lived process serves many clients in one event
 * loop. Accepted clients go to the service; when the status pipe closes
 * (reload, stop) or a watched table changed, the process stops accepting
 * and exits once opts->active() says no client is left.
 */
static EVENT_SERVER_FN event_service;
static char **event_argv;
static const MAIL_SERVER_OPTS *event_opts;
static int event_draining;

static void event_drain(void)
{
    pid_t   pid;

    if (event_draining)
	return;
    event_draining = 1;
    for (int i = 0; i < listen_count; i++)
	event_disable_readwrite(listen_fds[i]);
    if (have_master)
	event_disable_readwrite(MASTER_STATUS_FD);
    if (event_opts && event_opts->active && event_opts->active() == 0)
	return;

    /*
     * Clients are still being served: a child finishes with them while
     * this process exits, so that master can start a new one at once.
     */
    if ((pid = fork()) < 0) {
	msg_warn("fork: %s -- finishing the current clients first", strerror(errno));
	return;
    }
    if (pid > 0)
	exit(0);
    for (int i = 0; i < listen_count; i++)
	close(listen_fds[i]);
    listen_count = 0;
    if (have_master)
	close(MASTER_STATUS_FD);
    have_master = 0;
    if (event_opts && event_opts->drain)
	event_opts->drain();
}

static void event_accept(int event, void *context)
{
    int     fd;
    int     listen_fd = (int) (long) context;

    (void) event;
    if (tables_changed()) {
	event_drain();
	return;
    }
    if ((fd = accept4(listen_fd, 0, 0, SOCK_CLOEXEC)) < 0) {
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
	    || errno == ECONNABORTED || errno == EPROTO)
	    return;
	msg_fatal("accept connection: %s", strerror(errno));
    }
    event_service(fd, service_name, event_argv);
}

static void event_master_gone(int event, void *context)
{
    (void) event;
    (void) context;
    if (msg_verbose)
	msg_info("master disconnect -- finishing");
    event_drain();
}

void    event_server_main(int argc, char **argv, EVENT_SERVER_FN service,
			          const MAIL_SERVER_OPTS *opts)
{
    ARGV   *service_argv = server_init(argc, argv, opts);

    event_service = service;
    event_argv = service_argv->argv;
    event_opts = opts;
    if (stand_alone) {
	service(0, service_name, event_argv);
    } else {
	for (int i = 0; i < listen_count; i++)
	    event_enable_read(listen_fds[i], event_accept, (void *) (long) listen_fds[i]);
	if (have_master)
	    event_enable_read(MASTER_STATUS_FD, event_master_gone, 0);
    }
    for (;;) {
	int     wait_sec = -1;

	if (event_opts && event_opts->loop)
	    wait_sec = event_opts->loop(service_name, event_argv);
	if ((event_draining || stand_alone)
	    && (event_opts == 0 || event_opts->active == 0 || event_opts->active() == 0))
	    break;
	event_loop(wait_sec < 0 ? (event_draining ? 1000 : -1) : wait_sec * 1000L);
    }
    exit(0);
}
