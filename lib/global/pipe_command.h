/*
 * NAME
 *	pipe_command - run a delivery command with a message on its input
 * SYNOPSIS
 *	#include "global/pipe_command.h"
 *
 *	int pipe_command(const PIPE_COMMAND *cmd, PIPE_RESULT *res);
 *	void pipe_result_init(PIPE_RESULT *res);
 *	void pipe_result_free(PIPE_RESULT *res);
 * DESCRIPTION
 *	pipe_command() runs one command for local(8) ("|command",
 *	mailbox_command) or pipe(8) and returns what became of it.
 *
 *	The command: cmd->argv is executed directly (pipe(8)'s argv=);
 *	otherwise cmd->command is a command line: it is run with
 *	cmd->shell -c when cmd->shell is set (local_command_shell), with
 *	/bin/sh -c when it holds shell magic characters or starts with a
 *	shell builtin ("exit 67"), and else split at white space and run
 *	directly, as Postfix does.
 *
 *	The child: its own session (so a time-out kills everything it
 *	started), standard input from the message, standard output and
 *	error into a pipe that the caller reads, no other descriptors,
 *	the environment cmd->env, the ids cmd->uid and cmd->gid (with no
 *	supplementary groups; only when we run as root), after a chroot
 *	to cmd->chroot_dir when set, cmd->cwd as its folder when set. A chdir or exec failure is logged by the child
 *	and it exits with EX_TEMPFAIL, which defers, as in Postfix.
 *
 *	The message (mail_copy(3) with cmd->copy_flags and cmd->copy_env)
 *	is written while the output is read, so a command that talks
 *	before it reads cannot dead-lock us. Up to PIPE_OUTPUT_MAX bytes
 *	of output are kept, control characters as spaces. A command that
 *	does not read all of its input is not an error.
 *
 *	cmd->time_limit bounds the whole run; then the command's session
 *	is killed and the result is "Command time limit exceeded".
 *
 *	The result, from the exit status as sysexits(3) defines it (and
 *	Postfix words it), in res:
 *
 *	PIPE_STAT_OK	exit 0; res->output holds what the command said.
 *	PIPE_STAT_DEFER	EX_TEMPFAIL, EX_OSERR, a signal (dsn 4.3.0).
 *	PIPE_STAT_BOUNCE	other sysexits codes and any other status
 *			(5.X.X), a time-out (5.3.0).
 *
 *	res->dsn and res->text are the status and the reason: "user
 *	unknown" (EX_NOUSER, 5.1.1), "temporary failure" (EX_TEMPFAIL),
 *	'Command died with status 1: "name"' (5.3.0), 'Command died with
 *	signal 9: "name"' (4.3.0), 'Command time limit exceeded: "name"'
 *	(5.3.0), where name is cmd->name; followed by ". Command output:
 *	..." when there was output. When the output of a failed command
 *	starts with an enhanced status code 4.X.X or 5.X.X, that code
 *	decides (defer or bounce) and the rest of the output is the
 *	reason, as in Postfix 2.3 and later; a 2.X.X code there is
 *	ignored with a warning and the status is 4.0.0 or 5.0.0.
 *	res->diag is "x-unix; output" for the Diagnostic-Code of a
 *	bounce (empty without output).
 * DIAGNOSTICS
 *	pipe_command() returns the PIPE_STAT_* code. A failure to start
 *	the command at all (no fork, no pipe) is PIPE_STAT_DEFER with
 *	dsn 4.3.0 and the system error as the reason.
 * SEE ALSO
 *	mail_copy(3), sysexits(3)
 */
#ifndef PIPE_COMMAND_H
#define PIPE_COMMAND_H
#include <sys/types.h>
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/mail_copy.h"

#define PIPE_OUTPUT_MAX	2048

#define PIPE_STAT_OK		0
#define PIPE_STAT_DEFER		1
#define PIPE_STAT_BOUNCE	2

typedef struct PIPE_COMMAND {
    char  **argv;			/* exec directly, or NULL */
    const char *command;		/* command line, when argv is NULL */
    const char *shell;			/* local_command_shell, or NULL */
    const char *name;			/* for messages: "Command died ... \"name\"" */
    char  **env;			/* NAME=value, NULL-terminated */
    uid_t   uid;
    gid_t   gid;
    const char *chroot_dir;		/* or NULL */
    const char *cwd;			/* or NULL */
    long    time_limit;			/* seconds */
    const char *log_prefix;		/* "pipe_command: " for pipe(8), or "" */
    VSTREAM *queue_file;		/* the message: M record data */
    off_t   offset;
    off_t   size;
    int     copy_flags;
    MAIL_COPY_ENV copy_env;
} PIPE_COMMAND;

typedef struct PIPE_RESULT {
    char    dsn[16];
    VSTRING *text;			/* the reason */
    VSTRING *output;			/* what the command said */
    VSTRING *diag;			/* "x-unix; output", or empty */
} PIPE_RESULT;

extern int pipe_command(const PIPE_COMMAND *, PIPE_RESULT *);
extern void pipe_result_init(PIPE_RESULT *);
extern void pipe_result_free(PIPE_RESULT *);

#endif
