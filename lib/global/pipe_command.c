/*
 * NAME
 *	pipe_command - run a delivery command with a message on its input
 * SYNOPSIS
 *	See pipe_command.h.
 * DESCRIPTION
 *	The parent writes the message through a VSTREAM whose write
 *	function waits for the command's input pipe and its output pipe
 *	at the same time (poll), collecting output while it waits; then
 *	it reads the rest of the output and reaps the child, all before
 *	one deadline.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/mail_copy.h"
#include "global/pipe_command.h"

#define SHELL_META	"!\"#$%&'()*;<>?[\\]`{|}~\n"

/* The sysexits(3) codes, as Postfix words them and what they mean. */
static const struct {
    int     status;
    const char *dsn;
    const char *text;
} sys_exits[] = {
    {EX_USAGE, "5.3.0", "command line usage error"},
    {EX_DATAERR, "5.6.0", "data format error"},
    {EX_NOINPUT, "5.3.0", "cannot open input"},
    {EX_NOUSER, "5.1.1", "user unknown"},
    {EX_NOHOST, "5.1.2", "host name unknown"},
    {EX_UNAVAILABLE, "5.3.0", "service unavailable"},
    {EX_SOFTWARE, "5.3.0", "internal software error"},
    {EX_OSERR, "4.3.0", "system resource problem"},
    {EX_OSFILE, "5.3.0", "critical OS file missing"},
    {EX_CANTCREAT, "5.2.0", "can't create user output file"},
    {EX_IOERR, "5.3.0", "input/output error"},
    {EX_TEMPFAIL, "4.3.0", "temporary failure"},
    {EX_PROTOCOL, "5.5.0", "remote error in protocol"},
    {EX_NOPERM, "5.7.0", "permission denied"},
    {EX_CONFIG, "5.3.5", "local configuration error"},
};

/* Words that the shell runs itself: "|exit 67" needs /bin/sh. */
static const char *shell_builtins[] = {
    ".", ":", "break", "cd", "continue", "eval", "exec", "exit", "export",
    "read", "readonly", "return", "set", "shift", "times", "trap",
    "ulimit", "umask", "unset", "wait", 0,
};

typedef struct RUN {
    int     in_fd;			/* the command's input, or -1 */
    int     out_fd;			/* its output, or -1 at EOF */
    long long deadline_ms;
    int     timed_out;
    VSTRING *output;
} RUN;

void    pipe_result_init(PIPE_RESULT *res)
{
    memset(res->dsn, 0, sizeof(res->dsn));
    res->text = vstring_alloc(100);
    res->output = vstring_alloc(100);
    res->diag = vstring_alloc(100);
}

void    pipe_result_free(PIPE_RESULT *res)
{
    vstring_free(res->text);
    vstring_free(res->output);
    vstring_free(res->diag);
}

/* left_ms - time left before the deadline, at least 0 */
static int left_ms(RUN *run)
{
    long long left = run->deadline_ms - vstream_now_ms();

    return (left > 0 ? (left > 1000000000 ? 1000000000 : (int) left) : 0);
}

/* collect - read what the command said; -1 at EOF or error */
static int collect(RUN *run)
{
    char    buf[4096];
    ssize_t n = read(run->out_fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
	return (0);
    if (n <= 0) {
	close(run->out_fd);
	run->out_fd = -1;
	return (-1);
    }
    for (ssize_t i = 0; i < n && vstring_len(run->output) < PIPE_OUTPUT_MAX; i++) {
	unsigned char ch = buf[i];

	vstring_addch(run->output, (ch < ' ' || ch == 0177) ? ' ' : ch);
    }
    return (0);
}

/*
 * command_write - the VSTREAM write function for the command's input:
 * write when the pipe takes data, read output when there is some.
 */
static ssize_t command_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    RUN    *run = ctx;

    (void) timeout_ms;
    for (;;) {
	struct pollfd pfd[2];
	int     n = 1;
	int     ready;

	pfd[0].fd = fd;
	pfd[0].events = POLLOUT;
	if (run->out_fd >= 0) {
	    pfd[1].fd = run->out_fd;
	    pfd[1].events = POLLIN;
	    n = 2;
	}
	if ((ready = poll(pfd, n, left_ms(run))) < 0) {
	    if (errno == EINTR)
		continue;
	    return (-1);
	}
	if (ready == 0) {
	    run->timed_out = 1;
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (n == 2 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
	    (void) collect(run);
	if (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
	    ssize_t w = write(fd, buf, len);

	    if (w < 0 && (errno == EINTR || errno == EAGAIN))
		continue;
	    return (w);
	}
    }
}

/* needs_shell - does a command line need /bin/sh? */
static int needs_shell(const char *command)
{
    size_t  len;

    if (command[strcspn(command, SHELL_META)] != 0)
	return (1);
    command += strspn(command, " \t");
    len = strcspn(command, " \t");
    for (int i = 0; shell_builtins[i]; i++)
	if (strlen(shell_builtins[i]) == len && strncmp(command, shell_builtins[i], len) == 0)
	    return (1);
    return (0);
}

/*
 * child_fail - the child cannot run the command: it says so on its
 * output (the parent reports that) and in the log, and exits with
 * EX_TEMPFAIL
 */
static void child_fail(const char *prefix, const char *text)
    __attribute__((noreturn));

static void child_fail(const char *prefix, const char *text)
{
    char    line[1200];
    int     n;

    n = snprintf(line, sizeof(line), "%s: fatal: %s%s\n", msg_prog(), prefix, text);
    if (n > 0 && write(2, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1) < 0) {
	/* Nothing else to try: the log line says it all. */
    }
    msg_to_stderr(0);
    msg_fatal_status(EX_TEMPFAIL, "%s%s", prefix, text);
}

/* child - set up and exec; never returns */
static void child(const PIPE_COMMAND *cmd, int in_fd, int out_fd)
{
    const char *prefix = cmd->log_prefix ? cmd->log_prefix : "";
    char   *sh_argv[4];
    ARGV   *words = 0;
    char  **argv;
    char    text[1024];

    (void) setsid();
    signal(SIGPIPE, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
	_exit(EX_OSERR);
    /* Nothing else reaches the command; the log stays ours until exec. */
    for (int fd = 3; fd < 1024; fd++)
	(void) fcntl(fd, F_SETFD, FD_CLOEXEC);

    if (getuid() == 0 && geteuid() != 0 && seteuid(0) < 0) {
	snprintf(text, sizeof(text), "seteuid(0): %s", strerror(errno));
	child_fail(prefix, text);
    }
    if (cmd->chroot_dir && *cmd->chroot_dir
	&& (chroot(cmd->chroot_dir) < 0 || chdir("/") < 0)) {
	snprintf(text, sizeof(text), "chroot %s: %s", cmd->chroot_dir, strerror(errno));
	child_fail(prefix, text);
    }

    /* The recipient's ids, without supplementary groups. */
    if (geteuid() == 0 || getuid() == 0) {
	if (setgroups(1, &cmd->gid) < 0 || setgid(cmd->gid) < 0
	    || setuid(cmd->uid) < 0) {
	    snprintf(text, sizeof(text), "set uid=%ld gid=%ld: %s",
		     (long) cmd->uid, (long) cmd->gid, strerror(errno));
	    child_fail(prefix, text);
	}
    }
    if (cmd->cwd && *cmd->cwd && chdir(cmd->cwd) < 0) {
	snprintf(text, sizeof(text), "cannot change directory to \"%s\" for uid=%ld gid=%ld: %s",
		 cmd->cwd, (long) cmd->uid, (long) cmd->gid, strerror(errno));
	child_fail(prefix, text);
    }

    if (cmd->argv) {
	argv = cmd->argv;
    } else if ((cmd->shell && *cmd->shell) || needs_shell(cmd->command)) {
	sh_argv[0] = (char *) (cmd->shell && *cmd->shell ? cmd->shell : "/bin/sh");
	sh_argv[1] = "-c";
	sh_argv[2] = (char *) cmd->command;
	sh_argv[3] = 0;
	if (cmd->shell && *cmd->shell) {
	    /* local_command_shell may carry its own arguments. */
	    words = argv_split(cmd->shell, " \t");
	    argv_add(words, "-c");
	    argv_add(words, cmd->command);
	    argv = words->argv;
	} else {
	    argv = sh_argv;
	}
    } else {
	words = argv_split(cmd->command, " \t");
	argv = words->argv;
    }
    if (argv[0] == 0)
	_exit(EX_USAGE);
    execve(argv[0], argv, cmd->env);
    if (errno == ENOENT && strchr(argv[0], '/') == 0)
	execvpe(argv[0], argv, cmd->env);
    snprintf(text, sizeof(text), "execvp %s: %s", argv[0], strerror(errno));
    child_fail(prefix, text);
}

/*
 * kill_command - end the command and everything it started. The command
 * runs as another user: killing it takes root (our saved id).
 */
static void kill_command(pid_t pid)
{
    uid_t   saved = geteuid();
    int     status;

    if (getuid() == 0 && saved != 0 && seteuid(0) < 0)
	msg_warn("seteuid(0): %m");
    (void) kill(-pid, SIGKILL);
    (void) kill(pid, SIGKILL);
    if (geteuid() != saved && seteuid(saved) < 0)
	msg_fatal("seteuid(%ld): %m", (long) saved);
    /* Reap it; do not wait forever for a process that would not die. */
    for (int i = 0; i < 500; i++) {
	struct timespec ts = {0, 10 * 1000 * 1000};

	if (waitpid(pid, &status, WNOHANG) != 0)
	    return;
	nanosleep(&ts, 0);
    }
    msg_warn("command pid %ld did not go away after SIGKILL", (long) pid);
}

/* status_from_output - "4.X.X text" or "5.X.X text": 1 and dsn set */
static int status_from_output(const char *output, char *dsn, size_t dsn_size, const char **rest)
{
    const char *cp = output;
    int     parts = 0;

    if (*cp != '2' && *cp != '4' && *cp != '5')
	return (0);
    for (;;) {
	int     digits = 0;

	while (*cp >= '0' && *cp <= '9') {
	    cp++;
	    digits++;
	}
	if (digits == 0 || digits > 3)
	    return (0);
	if (++parts == 3)
	    break;
	if (*cp++ != '.')
	    return (0);
    }
    if (*cp != ' ' && *cp != 0)
	return (0);
    if ((size_t) (cp - output) >= dsn_size)
	return (0);
    memcpy(dsn, output, cp - output);
    dsn[cp - output] = 0;
    while (*cp == ' ')
	cp++;
    *rest = cp;
    return (1);
}

/* verdict - turn the exit status and output into res */
static int verdict(const PIPE_COMMAND *cmd, RUN *run, int wait_status, PIPE_RESULT *res)
{
    const char *output = vstring_str(res->output);
    const char *rest;
    char    out_dsn[16];
    int     stat;

    vstring_reset(res->text);
    vstring_reset(res->diag);
    if (run->timed_out) {
	snprintf(res->dsn, sizeof(res->dsn), "5.3.0");
	vstring_sprintf(res->text, "Command time limit exceeded: \"%s\"", cmd->name);
	return (PIPE_STAT_BOUNCE);
    }
    if (WIFSIGNALED(wait_status)) {
	snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
	vstring_sprintf(res->text, "Command died with signal %d: \"%s\"",
			WTERMSIG(wait_status), cmd->name);
	stat = PIPE_STAT_DEFER;
    } else if (WEXITSTATUS(wait_status) == 0) {
	snprintf(res->dsn, sizeof(res->dsn), "2.0.0");
	return (PIPE_STAT_OK);
    } else {
	int     code = WEXITSTATUS(wait_status);
	size_t  i;

	for (i = 0; i < sizeof(sys_exits) / sizeof(sys_exits[0]); i++)
	    if (sys_exits[i].status == code)
		break;
	if (i < sizeof(sys_exits) / sizeof(sys_exits[0])) {
	    snprintf(res->dsn, sizeof(res->dsn), "%s", sys_exits[i].dsn);
	    vstring_strcpy(res->text, sys_exits[i].text);
	} else {
	    snprintf(res->dsn, sizeof(res->dsn), "5.3.0");
	    vstring_sprintf(res->text, "Command died with status %d: \"%s\"",
			    code, cmd->name);
	}
	stat = res->dsn[0] == '4' ? PIPE_STAT_DEFER : PIPE_STAT_BOUNCE;
    }
    if (*output == 0)
	return (stat);

    /* Output that starts with an enhanced status code decides. */
    if (status_from_output(output, out_dsn, sizeof(out_dsn), &rest)) {
	if (out_dsn[0] == '4' || out_dsn[0] == '5') {
	    stat = out_dsn[0] == '4' ? PIPE_STAT_DEFER : PIPE_STAT_BOUNCE;
	    snprintf(res->dsn, sizeof(res->dsn), "%s", out_dsn);
	} else {
	    msg_warn("%s: ignoring dsn code \"%s\"",
		     stat == PIPE_STAT_DEFER ? "defer_append" : "bounce_append", out_dsn);
	    snprintf(res->dsn, sizeof(res->dsn), "%s",
		     stat == PIPE_STAT_DEFER ? "4.0.0" : "5.0.0");
	}
	vstring_strcpy(res->text, rest);
    } else {
	vstring_sprintf_append(res->text, ". Command output: %s", output);
    }
    vstring_sprintf(res->diag, "x-unix; %s", output);
    if (status_from_output(output, out_dsn, sizeof(out_dsn), &rest))
	vstring_sprintf(res->diag, "x-unix; %s", rest);
    return (stat);
}

int     pipe_command(const PIPE_COMMAND *cmd, PIPE_RESULT *res)
{
    int     in_pipe[2];
    int     out_pipe[2];
    pid_t   pid;
    RUN     run;
    VSTREAM *to_cmd;
    VSTRING *why = vstring_alloc(100);
    int     wait_status = 0;
    int     stat;
    void    (*saved_pipe) (int);

    vstring_reset(res->output);
    if (pipe(in_pipe) < 0) {
	snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
	vstring_sprintf(res->text, "cannot create pipe: %s", strerror(errno));
	vstring_free(why);
	return (PIPE_STAT_DEFER);
    }
    if (pipe(out_pipe) < 0) {
	snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
	vstring_sprintf(res->text, "cannot create pipe: %s", strerror(errno));
	close(in_pipe[0]);
	close(in_pipe[1]);
	vstring_free(why);
	return (PIPE_STAT_DEFER);
    }
    if ((pid = fork()) < 0) {
	snprintf(res->dsn, sizeof(res->dsn), "4.3.0");
	vstring_sprintf(res->text, "cannot fork: %s", strerror(errno));
	close(in_pipe[0]);
	close(in_pipe[1]);
	close(out_pipe[0]);
	close(out_pipe[1]);
	vstring_free(why);
	return (PIPE_STAT_DEFER);
    }
    if (pid == 0)
	child(cmd, in_pipe[0], out_pipe[1]);

    close(in_pipe[0]);
    close(out_pipe[1]);
    (void) fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    (void) fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(in_pipe[1], F_SETFD, FD_CLOEXEC);
    (void) fcntl(out_pipe[0], F_SETFD, FD_CLOEXEC);
    run.in_fd = in_pipe[1];
    run.out_fd = out_pipe[0];
    run.deadline_ms = vstream_now_ms() + (cmd->time_limit > 0 ? cmd->time_limit : 1) * 1000LL;
    run.timed_out = 0;
    run.output = res->output;

    /* The message; a command that stops reading early is its business. */
    saved_pipe = signal(SIGPIPE, SIG_IGN);
    to_cmd = vstream_fdopen(in_pipe[1]);
    vstream_set_io(to_cmd, (VSTREAM_READ_FN) 0, command_write, &run);
    (void) mail_copy(cmd->queue_file, cmd->offset, cmd->size, to_cmd,
		     cmd->copy_flags, &cmd->copy_env, why);
    (void) vstream_close(to_cmd);
    signal(SIGPIPE, saved_pipe);

    /* The rest of the output, then the exit status, before the deadline. */
    while (run.out_fd >= 0 && !run.timed_out) {
	struct pollfd pfd;
	int     ready;

	pfd.fd = run.out_fd;
	pfd.events = POLLIN;
	if ((ready = poll(&pfd, 1, left_ms(&run))) < 0 && errno != EINTR)
	    break;
	if (ready == 0)
	    run.timed_out = 1;
	else if (ready > 0)
	    (void) collect(&run);
    }
    for (;;) {
	pid_t   got;

	if (!run.timed_out && (got = waitpid(pid, &wait_status, WNOHANG)) != 0) {
	    if (got < 0 && errno == EINTR)
		continue;
	    break;
	}
	if (run.timed_out || left_ms(&run) == 0) {
	    run.timed_out = 1;
	    msg_warn("pipe_command_read: read time limit exceeded");
	    kill_command(pid);
	    break;
	}
	{
	    struct timespec ts = {0, 10 * 1000 * 1000};

	    nanosleep(&ts, 0);
	}
    }
    if (run.out_fd >= 0)
	close(run.out_fd);
    stat = verdict(cmd, &run, wait_status, res);
    vstring_free(why);
    return (stat);
}
