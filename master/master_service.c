/*
 * NAME
 *	master_service - run the services of master.cf
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_services_start(MASTER_CONF *conf);
 *	void master_services_reload(MASTER_CONF *conf);
 *	void master_services_stop(void);
 *	void master_reap_children(void);
 *	int master_child_count(void);
 *	void master_kill_children(int sig);
 * DESCRIPTION
 *	Each master.cf entry that we can run becomes one service. A service
 *	has its listening sockets (an inet service may listen on several
 *	addresses; every child gets all of them), a status pipe shared by
 *	its children, and counts of its children and of those that are
 *	free.
 *
 *	On demand: while no child of a service is free and the service is
 *	below its process limit, master watches the listening socket;
 *	when a client is waiting, master starts one child (which counts
 *	as free until it reports "busy") and stops watching. Children
 *	say busy/idle over the status pipe.
 *
 *	A child that exits with an error or a signal before it served a
 *	client throttles its service for service_throttle_time: no new
 *	children, clients wait in the listen queue.
 *
 *	Stress, as in Postfix: when a child is started that fills the last
 *	slot of an inet service that does not listen on loopback addresses
 *	only (while another child is busy), master logs that the service
 *	has reached its process limit, restarts the service (its children
 *	finish their current client and exit; existing sessions are not
 *	interrupted) and starts children with "-o stress=yes" for the next
 *	1000 seconds, so that ${stress?...} settings take their short
 *	values. Otherwise such services get "-o stress=". Other services
 *	never get a stress setting. An "-o stress=..." of master.cf
 *	overrides master's.
 *
 *	wakeup: every N seconds master connects to the service's socket
 *	and writes "W"; with "?" the first wakeup comes only after the
 *	service was used. The first wakeup of other services is at start.
 *
 *	Reload: every service gets a new status pipe and master closes the
 *	old ones; old children see that, finish their current client and
 *	exit. Listening sockets of services that stay are kept. Children
 *	of services that disappeared are terminated.
 *
 *	Environment: a child gets master's own, which is what
 *	import_environment let in at start (master_env.c), and
 *	MAIL_CONFIG, MASTER_GENERATION, MASTER_LISTEN_COUNT and
 *	MASTER_PROCESS_LIMIT (the service's process limit, 0 = none).
 *	Commands that local(8) and pipe(8) run get the export_environment
 *	part of it.
 *
 *	A "pass" service is a UNIX socket like a "unix" one
 *	(private/<name> or public/<name>); its children are told "-t
 *	pass": a process (postscreen) connects there and hands over a
 *	client connection it accepted (pass_fd(3)), which the child
 *	serves as if it had accepted it itself (mail_server(3)).
 *
 *	Commands of Postfix programs we do without (cleanup,
 *	trivial-rewrite, dnsblog, tlsproxy ...) and commands missing from
 *	daemon_directory are logged once and never started.
 * DIAGNOSTICS
 *	Postfix's: "process PATH pid N exit status S", "process PATH pid N
 *	killed by signal S", "PATH: bad command startup -- throttling",
 *	'service "smtp" (25) has reached its process limit "100": new
 *	clients may experience noticeable delays' (with its two follow-up
 *	lines, at most once per 1000 seconds per service).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "util/htable.h"
#include "util/events.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "master.h"

typedef struct MASTER_SERV {
    MASTER_ENT *ent;			/* owned by the current MASTER_CONF */
    char   *key;			/* service/type[@address] */
    char   *path;			/* UNIX socket, relative; NULL for inet */
    char   *exec_path;			/* daemon_directory/command */
    int    *listen_fd;			/* listening sockets */
    int     listen_count;		/* 0 after a take-over */
    int     status_rd;			/* master's end of the status pipe */
    int     status_wr;			/* children's end */
    int     max_proc;			/* 0 = no limit */
    int     total_proc;
    int     avail_proc;
    int     throttled;
    int     listening;
    int     used;			/* a child was started */
    int     stress_ok;			/* inet, not only on loopback addresses */
    char   *endpoint;			/* "25", "[192.0.2.1]:25", for logs */
    time_t  stress_until;		/* children get stress=yes until then */
    time_t  busy_warn_time;		/* last process limit warning */
    struct MASTER_SERV *next;
} MASTER_SERV;

typedef struct MASTER_PROC {
    pid_t   pid;
    MASTER_SERV *serv;			/* NULL: retired by a reload */
    char   *exec_path;
    int     avail;
    int     served;			/* reported busy at least once */
    struct MASTER_PROC *next;
} MASTER_PROC;

static MASTER_SERV *services;
static MASTER_PROC *children;
static MASTER_CONF *current_conf;
static HTABLE *logged_once;
static int stopping;			/* children exit because we said so */

static const struct {
    const char *command;
    const char *why;
    int     supported;			/* the job is done elsewhere */
} not_ours[] = {
    {"cleanup", "smtpd and pickup write queue files themselves", 1},
    {"trivial-rewrite", "address rewriting is built into smtpd and qmgr", 1},
    {"error", "the error and retry transports are built into qmgr", 1},
    {"tlsmgr", "each process keeps its own TLS state", 1},
    {"anvil", "smtpd enforces its client limits itself", 1},
    {"scache", "smtp keeps its own connection cache", 1},
    {"proxymap", "each process opens its own tables", 1},
    {"postlogd", "master hands maillog_file to every process", 1},
    {"virtual", 0, 0},
    {"spawn", 0, 0},
    {"dnsblog", "postscreen does its DNSBL lookups itself", 1},
    {"tlsproxy", "postscreen hands clients to smtpd before any STARTTLS", 1},
    {"qmqpd", 0, 0},
    {"oqmgr", 0, 0},
    {"nqmgr", 0, 0},
};

/* log_once - say something about a service only the first time */
static int log_once(const char *key)
{
    if (logged_once == 0)
	logged_once = htable_create(32);
    if (htable_locate(logged_once, key))
	return (0);
    htable_enter(logged_once, key, 0);
    return (1);
}

/* runnable - can we start this entry's command? Log once why not. */
static int runnable(MASTER_ENT *ent, VSTRING *exec_path)
{
    VSTRING *key = vstring_alloc(64);
    int     ok = 1;

    vstring_sprintf(key, "%s/%s %s", ent->service, ent->type, ent->command);
    for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
	if (strcmp(ent->command, not_ours[i].command) != 0)
	    continue;
	if (log_once(vstring_str(key))) {
	    if (not_ours[i].supported)
		msg_info("master.cf service %s/%s: command %s is not needed here (%s); not started",
			 ent->service, ent->type, ent->command, not_ours[i].why);
	    else
		msg_warn("master.cf service %s/%s: command %s is not supported by this mail system; not started",
			 ent->service, ent->type, ent->command);
	}
	ok = 0;
	break;
    }
    if (ok && strcmp(ent->type, "unix-dgram") == 0) {
	if (log_once(vstring_str(key)))
	    msg_warn("master.cf service %s/%s: service type %s is not supported; not started",
		     ent->service, ent->type, ent->type);
	ok = 0;
    }
    if (ok) {
	vstring_sprintf(exec_path, "%s/%s", mail_conf_str(VAR_DAEMON_DIRECTORY), ent->command);
	if (strchr(ent->command, '/') || access(vstring_str(exec_path), X_OK) < 0) {
	    vstring_sprintf_append(key, " %s", vstring_str(exec_path));
	    if (log_once(vstring_str(key)))
		msg_warn("master.cf service %s/%s: command %s does not exist or is not executable; not started",
			 ent->service, ent->type, vstring_str(exec_path));
	    ok = 0;
	}
    }
    vstring_free(key);
    return (ok);
}

static void listen_event(int, void *);
static void status_event(int, void *);
static void wakeup_event(int, void *);
static void unthrottle_event(int, void *);

/* update_listen - watch the socket exactly when a new child may be needed */
static void update_listen(MASTER_SERV *serv)
{
    int     want = serv->listen_count > 0 && !serv->throttled && serv->avail_proc <= 0
    && (serv->max_proc == 0 || serv->total_proc < serv->max_proc);

    for (int i = 0; i < serv->listen_count; i++) {
	if (want && !serv->listening)
	    event_enable_read(serv->listen_fd[i], listen_event, serv);
	else if (!want && serv->listening)
	    event_disable_readwrite(serv->listen_fd[i]);
    }
    serv->listening = want;
}

/*
 * child_descriptors - in the child: status pipe on 3, listeners on 4
 * and 6..., maillog_file on 5. Everything is first moved above the
 * target slots so that no dup2() overwrites a source.
 */
static void child_descriptors(MASTER_SERV *serv)
{
    int     high = MASTER_LISTEN_FD_EXTRA + serv->listen_count;
    int    *moved = mymalloc((serv->listen_count + 2) * sizeof(int));
    int     n = 0;

    for (int i = 0; i < serv->listen_count; i++)
	if (serv->listen_fd[i] >= high)
	    high = serv->listen_fd[i] + 1;
    if (serv->status_wr >= high)
	high = serv->status_wr + 1;
    if (master_env.log_fd >= high)
	high = master_env.log_fd + 1;
    moved[n++] = fcntl(serv->status_wr, F_DUPFD, high);
    moved[n++] = master_env.log_fd >= 0 ? fcntl(master_env.log_fd, F_DUPFD, high) : -1;
    for (int i = 0; i < serv->listen_count; i++)
	moved[n++] = fcntl(serv->listen_fd[i], F_DUPFD, high);
    for (int i = 0; i < n; i++)
	if (moved[i] < 0 && !(i == 1 && master_env.log_fd < 0))
	    msg_fatal("%s: F_DUPFD: %s", serv->exec_path, strerror(errno));
    if (dup2(moved[0], MASTER_STATUS_FD) < 0)
	msg_fatal("%s: dup2: %s", serv->exec_path, strerror(errno));
    if (moved[1] >= 0 ? dup2(moved[1], MASTER_LOG_FD) < 0 : close(MASTER_LOG_FD) < 0 && errno != EBADF)
	msg_fatal("%s: dup2: %s", serv->exec_path, strerror(errno));
    for (int i = 0; i < serv->listen_count; i++)
	if (dup2(moved[2 + i], i == 0 ? MASTER_LISTEN_FD : MASTER_LISTEN_FD_EXTRA + i - 1) < 0)
	    msg_fatal("%s: dup2: %s", serv->exec_path, strerror(errno));
    for (int i = 0; i < n; i++)
	if (moved[i] >= 0)
	    close(moved[i]);
    myfree(moved);
}

/*
 * child_env - the environment of a child: master's own (what
 * import_environment let in, master_env.c) and what master passes
 * (MAIL_CONFIG, MASTER_*).
 */
static ARGV *child_env(const char *generation, int listen_count, int max_proc)
{
    extern char **environ;
    ARGV   *env = argv_alloc(16);
    VSTRING *buf = vstring_alloc(100);

    for (char **cpp = environ; *cpp; cpp++)
	if (strncmp(*cpp, "MASTER_", 7) != 0 && strncmp(*cpp, "MAIL_CONFIG=", 12) != 0)
	    argv_add(env, *cpp);
    vstring_sprintf(buf, "MAIL_CONFIG=%s", mail_conf_dir());
    argv_add(env, vstring_str(buf));
    vstring_sprintf(buf, "MASTER_GENERATION=%s", generation);
    argv_add(env, vstring_str(buf));
    vstring_sprintf(buf, "MASTER_LISTEN_COUNT=%d", listen_count);
    argv_add(env, vstring_str(buf));
    vstring_sprintf(buf, "MASTER_PROCESS_LIMIT=%d", max_proc);
    argv_add(env, vstring_str(buf));
    vstring_free(buf);
    return (env);
}

#define STRESS_TIME	1000		/* seconds of stress after the limit */

/* status_pipe - a new status pipe for a service (children use status_wr) */
static void status_pipe(MASTER_SERV *serv)
{
    int     pipefd[2];

    if (pipe2(pipefd, O_CLOEXEC) < 0)
	msg_fatal("pipe: %s", strerror(errno));
    serv->status_rd = pipefd[0];
    serv->status_wr = pipefd[1];
    (void) fcntl(serv->status_rd, F_SETFL, O_NONBLOCK);
    event_enable_read(serv->status_rd, status_event, serv);
}

/*
 * serv_restart - the children of a service finish their current client
 * and exit (they see their status pipe close, as after a reload); new
 * children are started on demand with the new pipe. Idle old children
 * no longer count as available.
 */
static void serv_restart(MASTER_SERV *serv)
{
    event_disable_readwrite(serv->status_rd);
    close(serv->status_rd);
    close(serv->status_wr);
    status_pipe(serv);
    for (MASTER_PROC *p = children; p; p = p->next) {
	if (p->serv == serv && p->avail) {
	    p->avail = 0;
	    serv->avail_proc--;
	}
    }
}

/*
 * limit_reached - the child about to start takes the last slot while
 * another child is busy: warn as Postfix does, and (for a public inet
 * service) restart the service under stress.
 */
static void limit_reached(MASTER_SERV *serv)
{
    time_t  now = time((time_t *) 0);

    if (!serv->stress_ok || serv->max_proc <= 0 || serv->total_proc < 1
	|| serv->total_proc + 1 < serv->max_proc)
	return;
    if (now - serv->busy_warn_time >= STRESS_TIME || serv->busy_warn_time == 0) {
	serv->busy_warn_time = now;
	msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
		 "new clients may experience noticeable delays",
		 serv->ent->service, serv->endpoint, serv->max_proc);
	msg_warn("to avoid this condition, increase the process count in "
		 "master.cf or reduce the service time per client");
	msg_warn("see http://www.postfix.org/STRESS_README.html for examples "
		 "of stress-adapting configuration settings");
    }
    if (now >= serv->stress_until)
	serv_restart(serv);
    serv->stress_until = now + STRESS_TIME;
}

static void spawn(MASTER_SERV *serv)
{
    MASTER_ENT *ent = serv->ent;
    ARGV   *argv = argv_alloc(16);
    VSTRING *gen = vstring_alloc(16);
    MASTER_PROC *proc;
    pid_t   pid;

    limit_reached(serv);
    argv_add(argv, serv->exec_path);
    argv_add(argv, "-n");
    argv_add(argv, ent->service);
    argv_add(argv, "-t");
    argv_add(argv, strcmp(ent->type, "fifo") == 0 ? "unix" : ent->type);
    if (ent->chroot)
	argv_add(argv, "-c");
    if (!ent->unpriv)
	argv_add(argv, "-u");
    for (int i = 0; i < master_env.verbose; i++)
	argv_add(argv, "-v");
    if (serv->stress_ok) {
	/* Before master.cf's arguments: an "-o stress=" there wins. */
	argv_add(argv, "-o");
	argv_add(argv, time((time_t *) 0) < serv->stress_until ? "stress=yes" : "stress=");
    }
    for (size_t i = 0; i < ent->args->argc; i++)
	argv_add(argv, ent->args->argv[i]);
    vstring_sprintf(gen, "%u", master_env.generation);

    if ((pid = fork()) < 0) {
	msg_warn("fork: %s", strerror(errno));
	argv_free(argv);
	vstring_free(gen);
	return;
    }
    if (pid == 0) {
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, 0);
	child_descriptors(serv);
	execve(serv->exec_path, argv->argv,
	       child_env(vstring_str(gen), serv->listen_count, serv->max_proc)->argv);
	msg_fatal("exec %s: %s", serv->exec_path, strerror(errno));
    }
    argv_free(argv);
    vstring_free(gen);
    if (msg_verbose)
	msg_info("spawn %s pid %ld for %s", serv->exec_path, (long) pid, serv->key);
    proc = mycalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->serv = serv;
    proc->exec_path = mystrdup(serv->exec_path);
    proc->avail = 1;
    proc->next = children;
    children = proc;
    serv->total_proc++;
    serv->avail_proc++;
    if (!serv->used) {
	serv->used = 1;
	if (serv->ent->wakeup > 0 && serv->ent->wakeup_on_use && serv->path)
	    event_request_timer(wakeup_event, serv, serv->ent->wakeup * 1000L);
    }
    update_listen(serv);
}

static void listen_event(int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) event;
    if (!serv->throttled && serv->avail_proc <= 0
	&& (serv->max_proc == 0 || serv->total_proc < serv->max_proc))
	spawn(serv);
    else
	update_listen(serv);
}

static MASTER_PROC *find_proc(pid_t pid)
{
    for (MASTER_PROC *p = children; p; p = p->next)
	if (p->pid == pid)
	    return (p);
    return (0);
}

static void status_event(int event, void *context)
{
    MASTER_SERV *serv = context;
    MASTER_STATUS stat;
    ssize_t n;

    (void) event;
    while ((n = read(serv->status_rd, &stat, sizeof(stat))) == (ssize_t) sizeof(stat)) {
	MASTER_PROC *proc = find_proc(stat.pid);

	if (proc == 0 || proc->serv != serv) {
	    if (msg_verbose)
		msg_info("status from unknown pid %ld", (long) stat.pid);
	    continue;
	}
	if (stat.status == MASTER_STAT_TAKEN && proc->avail) {
	    proc->avail = 0;
	    proc->served = 1;
	    serv->avail_proc--;
	} else if (stat.status == MASTER_STAT_AVAIL && !proc->avail) {
	    proc->avail = 1;
	    serv->avail_proc++;
	}
    }
    update_listen(serv);
}

static void throttle(MASTER_SERV *serv)
{
    long    delay = mail_conf_time(VAR_SERVICE_THROTTLE_TIME);

    msg_warn("%s: bad command startup -- throttling", serv->exec_path);
    serv->throttled = 1;
    update_listen(serv);
    event_request_timer(unthrottle_event, serv, delay * 1000L);
}

static void unthrottle_event(int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) event;
    serv->throttled = 0;
    update_listen(serv);
}

/* wakeup_event - poke a service the way a client would */
static void wakeup_event(int event, void *context)
{
    MASTER_SERV *serv = context;
    struct sockaddr_un sun;
    int     fd;

    (void) event;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(serv->path) < sizeof(sun.sun_path)
	&& (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) >= 0) {
	memcpy(sun.sun_path, serv->path, strlen(serv->path) + 1);
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0) {
	    if (write(fd, "W", 1) != 1 && msg_verbose)
		msg_info("wakeup %s: %s", serv->path, strerror(errno));
	} else if (msg_verbose) {
	    msg_info("wakeup %s: %s", serv->path, strerror(errno));
	}
	close(fd);
    }
    event_request_timer(wakeup_event, serv, serv->ent->wakeup * 1000L);
}

/* serv_create - one service; listener already bound (or -1: bind here) */
static MASTER_SERV *serv_create(MASTER_ENT *ent, const char *key, const char *exec_path,
				        int *listen_fd, int listen_count, const char *path)
{
    MASTER_SERV *serv = mycalloc(1, sizeof(*serv));

    serv->ent = ent;
    serv->key = mystrdup(key);
    serv->exec_path = mystrdup(exec_path);
    serv->path = path ? mystrdup(path) : 0;
    serv->listen_fd = listen_fd;
    serv->listen_count = listen_count;
    serv->max_proc = ent->maxproc == MASTER_MAXPROC_DEFAULT ?
	(int) mail_conf_int(VAR_DEFAULT_PROCESS_LIMIT) : ent->maxproc;
    status_pipe(serv);
    serv->next = services;
    services = serv;
    return (serv);
}

/* serv_retire - forget a service; its children finish on their own */
static void serv_retire(MASTER_SERV *serv, int keep_listener, int kill_children)
{
    event_disable_readwrite(serv->status_rd);
    close(serv->status_rd);
    close(serv->status_wr);
    for (int i = 0; i < serv->listen_count; i++) {
	event_disable_readwrite(serv->listen_fd[i]);
	if (!keep_listener)
	    close(serv->listen_fd[i]);
    }
    if (serv->listen_count > 0 && !keep_listener && serv->path)
	(void) unlink(serv->path);
    if (serv->listen_fd)
	myfree(serv->listen_fd);
    event_cancel_timer(wakeup_event, serv);
    event_cancel_timer(unthrottle_event, serv);
    for (MASTER_PROC *p = children; p; p = p->next) {
	if (p->serv == serv) {
	    p->serv = 0;
	    if (kill_children)
		(void) kill(p->pid, SIGTERM);
	}
    }
    myfree(serv->key);
    myfree(serv->exec_path);
    if (serv->endpoint)
	myfree(serv->endpoint);
    if (serv->path)
	myfree(serv->path);
    myfree(serv);
}

/* loopback - is a listener address (as master_listen_inet gives it) loopback */
static int loopback(const char *addr)
{
    return (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0);
}

/*
 * inet_stress_info - whether an inet service may be stressed (it listens
 * on some address that is not loopback, as Postfix requires), and its
 * endpoint as Postfix's process limit warning shows it: the port number
 * for a wildcard service ("25"), else "[address]:port".
 */
static void inet_stress_info(MASTER_SERV *serv, MASTER_LISTENER *list, int count)
{
    char   *copy = mystrdup(serv->ent->service);
    char   *port = split_at_right(copy, ':');
    const char *host = port ? copy : 0;
    VSTRING *buf = vstring_alloc(50);
    struct servent *se;

    if (port == 0)
	port = copy;
    for (int i = 0; i < count; i++)
	if (!loopback(list[i].addr))
	    serv->stress_ok = 1;
    if (host && *host == '[' && host[strlen(host) - 1] == ']') {
	host++;
	copy[strlen(copy) - 1] = 0;
    }
    if (!alldig(port) && (se = getservbyname(port, "tcp")) != 0)
	vstring_sprintf(buf, "%d", ntohs(se->s_port));
    else
	vstring_strcpy(buf, port);
    if (host && *host) {
	char   *p = mystrdup(vstring_str(buf));

	vstring_sprintf(buf, "[%s]:%s", host, p);
	myfree(p);
    }
    serv->endpoint = vstring_export(buf);
    myfree(copy);
}

/* find_old - a service of the previous configuration with this key */
static MASTER_SERV *find_old(MASTER_SERV *old, const char *key)
{
    for (; old; old = old->next)
	if (old->key && strcmp(old->key, key) == 0)
	    return (old);
    return (0);
}

/*
 * build - services for a configuration. Listeners of services in "old"
 * with the same key are taken over (the old entry's listen_count
 * becomes 0). Bind errors are fatal at start, warnings at reload.
 */
static void build(MASTER_CONF *conf, MASTER_SERV *old, int fatal_errors)
{
    VSTRING *exec_path = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);

    for (size_t i = 0; i < conf->count; i++) {
	MASTER_ENT *ent = conf->ents[i];
	MASTER_SERV *prev;

	if (!runnable(ent, exec_path))
	    continue;
	if (strcmp(ent->type, "inet") == 0) {
	    MASTER_LISTENER *list = 0;
	    int    *fds;
	    int     count = 0;

	    if (ent->wakeup > 0 && log_once(ent->service))
		msg_warn("master.cf service %s/inet: wakeup is not supported for inet services",
			 ent->service);
	    vstring_sprintf(key, "%s/inet", ent->service);
	    if ((prev = find_old(old, vstring_str(key))) != 0 && prev->listen_count > 0) {
		MASTER_SERV *serv = serv_create(ent, vstring_str(key), vstring_str(exec_path),
						prev->listen_fd, prev->listen_count, 0);

		serv->stress_ok = prev->stress_ok;
		serv->endpoint = prev->endpoint;
		serv->stress_until = prev->stress_until;
		serv->busy_warn_time = prev->busy_warn_time;
		prev->endpoint = 0;
		prev->listen_fd = 0;
		prev->listen_count = 0;
		continue;
	    }
	    if (master_listen_inet(ent->service, &list, &count, why) < 0) {
		if (fatal_errors)
		    msg_fatal("%s", vstring_str(why));
		msg_warn("%s; service %s/inet not started", vstring_str(why), ent->service);
		continue;
	    }
	    fds = mymalloc(count * sizeof(int));
	    for (int j = 0; j < count; j++)
		fds[j] = list[j].fd;
	    inet_stress_info(serv_create(ent, vstring_str(key), vstring_str(exec_path),
					 fds, count, 0), list, count);
	    master_listeners_free(list, count);
	} else {
	    MASTER_SERV *serv;
	    int    *fds;

	    vstring_sprintf(path, "%s/%s", ent->private_ ? "private" : "public", ent->service);
	    vstring_sprintf(key, "%s/%s@%s", ent->service,
			    strcmp(ent->type, "pass") == 0 ? "pass" : "unix", vstring_str(path));
	    if ((prev = find_old(old, vstring_str(key))) != 0 && prev->listen_count > 0) {
		fds = prev->listen_fd;
		prev->listen_fd = 0;
		prev->listen_count = 0;
	    } else {
		int     fd = master_listen_unix(vstring_str(path), master_env.owner_uid,
					      ent->private_ ? master_env.owner_gid :
						master_env.setgid_gid, why);

		if (fd < 0) {
		    if (fatal_errors)
			msg_fatal("%s", vstring_str(why));
		    msg_warn("%s; service %s/%s not started", vstring_str(why),
			     ent->service, ent->type);
		    continue;
		}
		fds = mymalloc(sizeof(int));
		fds[0] = fd;
	    }
	    serv = serv_create(ent, vstring_str(key), vstring_str(exec_path), fds, 1,
			       vstring_str(path));
	    if (ent->wakeup > 0 && !ent->wakeup_on_use)
		event_request_timer(wakeup_event, serv, 0);
	}
    }
    for (MASTER_SERV *s = services; s; s = s->next)
	update_listen(s);
    vstring_free(exec_path);
    vstring_free(key);
    vstring_free(path);
    vstring_free(why);
}

void    master_services_start(MASTER_CONF *conf)
{
    current_conf = conf;
    build(conf, 0, 1);
}

void    master_services_reload(MASTER_CONF *conf)
{
    MASTER_SERV *old = services;
    MASTER_CONF *old_conf = current_conf;

    services = 0;
    current_conf = conf;
    build(conf, old, 0);

    /* Old services: close their pipes (children finish and exit). */
    while (old) {
	MASTER_SERV *next = old->next;
	int     kept = old->listen_count == 0;
	int     gone = 1;

	/* A service that is still configured keeps its children running. */
	for (size_t i = 0; i < conf->count; i++)
	    if (strcmp(conf->ents[i]->service, old->ent->service) == 0
		&& strcmp(conf->ents[i]->type, old->ent->type) == 0)
		gone = 0;
	serv_retire(old, kept, gone);
	old = next;
    }
    master_conf_free(old_conf);
}

void    master_services_stop(void)
{
    while (services) {
	MASTER_SERV *next = services->next;

	serv_retire(services, 0, 0);
	services = next;
    }
    stopping = 1;
    for (MASTER_PROC *p = children; p; p = p->next)
	(void) kill(p->pid, SIGTERM);
}

void    master_kill_children(int sig)
{
    for (MASTER_PROC *p = children; p; p = p->next)
	(void) kill(p->pid, sig);
}

int     master_child_count(void)
{
    int     n = 0;

    for (MASTER_PROC *p = children; p; p = p->next)
	n++;
    return (n);
}

void    master_reap_children(void)
{
    pid_t   pid;
    int     status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
	MASTER_PROC **pp, *proc;
	MASTER_SERV *serv;
	int     failed = 0;

	for (pp = &children; (proc = *pp) != 0 && proc->pid != pid; pp = &proc->next)
	     /* void */ ;
	if (proc == 0)
	    continue;
	*pp = proc->next;
	if (stopping) {
	    /* We terminated it. */
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
	    msg_warn("process %s pid %ld exit status %d",
		     proc->exec_path, (long) pid, WEXITSTATUS(status));
	    failed = 1;
	} else if (WIFSIGNALED(status)) {
	    msg_warn("process %s pid %ld killed by signal %d",
		     proc->exec_path, (long) pid, WTERMSIG(status));
	    failed = 1;
	}
	if ((serv = proc->serv) != 0) {
	    serv->total_proc--;
	    if (proc->avail)
		serv->avail_proc--;
	    if (failed && !proc->served && !serv->throttled)
		throttle(serv);
	    update_listen(serv);
	}
	myfree(proc->exec_path);
	myfree(proc);
    }
}
