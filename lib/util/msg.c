/*
 * NAME
 *	msg - logging in Postfix's line format
 * DESCRIPTION
 *	See msg.h. The text of one event is formatted once into a local
 *	buffer and then written to each enabled destination with a single
 *	write(2), so lines from many processes never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"

int     msg_verbose;

static char syslog_name[64] = "postfix";
static char prog_name[64] = "unknown";
static char full_tag[140];		/* msg_tag(): replaces name/prog */
static char host_name[256];
static int to_stderr;
static int stderr_command_style;
static int to_syslog;
static int log_fd = -1;
static void (*cleanup_hook)(void);

static const char *level_text[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};

void    msg_init(const char *name, const char *prog)
{
    const char *slash;
    char   *dot;

    if (name && *name && name != syslog_name)
	snprintf(syslog_name, sizeof(syslog_name), "%s", name);
    if (prog && *prog && prog != prog_name) {
	slash = strrchr(prog, '/');
	snprintf(prog_name, sizeof(prog_name), "%s", slash ? slash + 1 : prog);
    }
    if (host_name[0] == 0) {
	if (gethostname(host_name, sizeof(host_name) - 1) < 0)
	    strcpy(host_name, "localhost");
	if ((dot = strchr(host_name, '.')) != 0)
	    *dot = 0;
    }
    if (to_syslog) {
	closelog();
	openlog(syslog_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* msg_tag - log as "tag[pid]" instead of "syslog_name/prog[pid]" (postlog -t) */
void    msg_tag(const char *tag)
{
    snprintf(full_tag, sizeof(full_tag), "%s", tag ? tag : "");
    if (to_syslog) {
	closelog();
	openlog(full_tag[0] ? full_tag : syslog_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

const char *msg_prog(void)
{
    return (prog_name);
}

void    msg_to_stderr(int on)
{
    to_stderr = on;
}

/* Commands (postmap, postqueue) print "postmap: fatal: text". */
void    msg_stderr_command_style(int on)
{
    stderr_command_style = on;
}

static int facility_code(const char *facility)
{
    static const struct {
	const char *name;
	int     code;
    }       table[] = {
	{"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	if (strcasecmp(table[i].name, facility) == 0)
	    return (table[i].code);
    return (LOG_MAIL);
}

void    msg_to_syslog(const char *facility)
{
    char    ident[140];

    if (full_tag[0])
	snprintf(ident, sizeof(ident), "%s", full_tag);
    else
	snprintf(ident, sizeof(ident), "%s/%s", syslog_name, prog_name);
    /* openlog keeps the pointer: give it storage that lives. */
    static char ident_store[140];
    memcpy(ident_store, ident, sizeof(ident));
    openlog(ident_store, LOG_PID | LOG_NDELAY, facility ? facility_code(facility) : LOG_MAIL);
    to_syslog = 1;
}

void    msg_to_file(const char *path)
{
    int     fd;

    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
	msg_warn("open maillog_file %s: %s", path, strerror(errno));
	return;
    }
    msg_to_fd(fd);
}

void    msg_to_fd(int fd)
{
    if (log_fd >= 0 && log_fd != fd)
	close(log_fd);
    log_fd = fd;
}

void    msg_cleanup(void (*hook)(void))
{
    cleanup_hook = hook;
}

static void write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
	if ((n = write(fd, buf, len)) < 0) {
	    if (errno == EINTR)
		continue;
	    return;
	}
	buf += n;
	len -= n;
    }
}

/*
 * The process ID and the time stamp of a log line, each computed once
 * (per process, per second): a process logs several lines per message.
 * A child of fork() learns its own ID again (pthread_atfork).
 */
static pid_t log_pid_cache;

static void log_pid_forget(void)
{
    log_pid_cache = 0;
}

static long log_pid(void)
{
    static int hooked;

    if (log_pid_cache == 0) {
	if (!hooked) {
	    (void) pthread_atfork((void (*) (void)) 0, (void (*) (void)) 0, log_pid_forget);
	    hooked = 1;
	}
	log_pid_cache = getpid();
    }
    return ((long) log_pid_cache);
}

static const char *log_stamp(void)
{
    static time_t stamp_time = -1;
    static char stamp[32];
    time_t  now = time((time_t *) 0);
    struct tm tm;

    if (now != stamp_time) {
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	stamp_time = now;
    }
    return (stamp);
}

void    msg_vprintf(int level, const char *fmt, va_list ap)
{
    char    text[4096];
    char    line[4400];
    int     saved_errno = errno;
    int     n;

    vsnprintf(text, sizeof(text), fmt, ap);
    /* Never let a CR/LF from the network split one log record. */
    for (char *cp = text; *cp; cp++)
	if (*cp == '\n' || *cp == '\r')
	    *cp = ' ';

    if (to_syslog) {
	static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT};
	syslog(prio[level], "%s%s", level_text[level], text);
    }
    if (log_fd >= 0) {
	if (full_tag[0])
	    n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n",
			 log_stamp(), host_name[0] ? host_name : "localhost",
			 full_tag, log_pid(), level_text[level], text);
	else
	    n = snprintf(line, sizeof(line), "%s %s %s/%s[%ld]: %s%s\n",
			 log_stamp(), host_name[0] ? host_name : "localhost",
			 syslog_name, prog_name, log_pid(),
			 level_text[level], text);
	if (n > (int) sizeof(line) - 1)
	    n = sizeof(line) - 1;
	write_all(log_fd, line, n);
    }
    if (to_stderr) {
	if (stderr_command_style)
	    n = snprintf(line, sizeof(line), "%s: %s%s\n",
			 full_tag[0] ? full_tag : prog_name, level_text[level], text);
	else
	    n = snprintf(line, sizeof(line), "%s/%s[%ld]: %s%s\n", syslog_name,
			 prog_name, log_pid(), level_text[level], text);
	if (n > (int) sizeof(line) - 1)
	    n = sizeof(line) - 1;
	write_all(2, line, n);
    }
    errno = saved_errno;
}

#define MSG_BODY(level) do { \
	va_list ap; \
	va_start(ap, fmt); \
	msg_vprintf(level, fmt, ap); \
	va_end(ap); \
    } while (0)

void    msg_info(const char *fmt, ...)
{
    MSG_BODY(MSG_INFO);
}

void    msg_warn(const char *fmt, ...)
{
    MSG_BODY(MSG_WARN);
}

void    msg_error(const char *fmt, ...)
{
    MSG_BODY(MSG_ERROR);
}

static void run_cleanup(void)
{
    void    (*hook)(void) = cleanup_hook;

    cleanup_hook = 0;
    if (hook)
	hook();
}

void    msg_fatal(const char *fmt, ...)
{
    MSG_BODY(MSG_FATAL);
    run_cleanup();
    exit(1);
}

void    msg_fatal_status(int status, const char *fmt, ...)
{
    MSG_BODY(MSG_FATAL);
    run_cleanup();
    exit(status);
}

void    msg_panic(const char *fmt, ...)
{
    MSG_BODY(MSG_PANIC);
    abort();
}
