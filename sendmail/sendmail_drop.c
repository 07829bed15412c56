/*
 * NAME
 *	sendmail_drop - hand one message to postdrop
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	SM_DROP *sm_drop_open(const SM_MESSAGE *msg, int unused);
 *	const char *sm_drop_id(SM_DROP *drop);
 *	void sm_drop_envelope(SM_DROP *drop, const SM_MESSAGE *msg,
 *			      ARGV *rcpts);
 *	void sm_drop_rec(SM_DROP *drop, int type, const char *data,
 *			 size_t len);
 *	int sm_drop_close(SM_DROP *drop);
 *	void sm_drop_abort(SM_DROP *drop);
 * DESCRIPTION
 *	sm_drop_open() runs "$command_directory/postdrop -r" with a pipe
 *	on its standard input and one on its standard output, and reads
 *	the queue ID of the new maildrop file (sm_drop_id()). It is fatal
 *	when postdrop cannot be run or says nothing (postdrop has then
 *	printed why on standard error).
 *
 *	sm_drop_envelope() writes the sender, the attributes of msg
 *	(full name, DSN envelope ID, RET and NOTIFY) and the recipients
 *	(maildrop_file.h); sm_drop_rec() writes any record. Write errors
 *	are remembered and reported by sm_drop_close().
 *
 *	sm_drop_close() ends the input and waits for postdrop. It
 *	returns 0 only when postdrop exited 0, that is when the message
 *	is on disk; else it warns as Postfix's sendmail does ("command
 *	"... -r" exited with status N") and returns -1.
 *	sm_drop_abort() stops postdrop (it removes its file) without
 *	a word.
 * SEE ALSO
 *	postdrop(1), maildrop_file(3)
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
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
#include "global/maildrop_file.h"
#include "global/queue_file.h"
#include "sendmail.h"

struct SM_DROP {
    pid_t   pid;
    VSTREAM *to;			/* postdrop's standard input */
    char   *command;			/* for messages */
    char   *id;
    int     err;			/* a write failed */
};

SM_DROP *sm_drop_open(const SM_MESSAGE *msg, int unused)
{
    SM_DROP *drop = mycalloc(1, sizeof(*drop));
    VSTRING *path = vstring_alloc(100);
    VSTRING *line = vstring_alloc(40);
    VSTREAM *from;
    int     in_pipe[2];
    int     out_pipe[2];

    (void) msg;
    (void) unused;
    signal(SIGPIPE, SIG_IGN);
    vstring_sprintf(path, "%s/postdrop", mail_conf_str(VAR_COMMAND_DIRECTORY));
    drop->command = mystrdup(vstring_str(path));
    if (pipe(in_pipe) < 0 || pipe(out_pipe) < 0)
	sm_fatal("pipe: %s", strerror(errno));
    if ((drop->pid = fork()) < 0)
	sm_fatal("fork: %s", strerror(errno));
    if (drop->pid == 0) {
	if (dup2(in_pipe[0], 0) < 0 || dup2(out_pipe[1], 1) < 0)
	    _exit(EX_TEMPFAIL);
	close(in_pipe[0]);
	close(in_pipe[1]);
	close(out_pipe[0]);
	close(out_pipe[1]);
	execl(drop->command, "postdrop", "-r", (char *) 0);
	msg_warn("exec %s: %s", drop->command, strerror(errno));
	_exit(EX_TEMPFAIL);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    drop->to = vstream_fdopen(in_pipe[1]);
    from = vstream_fdopen(out_pipe[0]);
    if (vstream_get_line(from, line, 100) != VSTREAM_LINE || vstring_len(line) == 0) {
	int     status = sm_drop_close(drop);

	(void) status;
	sm_fatal("%s(%ld): unable to execute %s -r: %s", msg->sender, (long) msg->uid,
		 vstring_str(path), "Application error");
    }
    drop->id = mystrdup(vstring_str(line));
    vstream_close(from);
    vstring_free(path);
    vstring_free(line);
    return (drop);
}

const char *sm_drop_id(SM_DROP *drop)
{
    return (drop->id);
}

void    sm_drop_rec(SM_DROP *drop, int type, const char *data, size_t len)
{
    if (drop->err == 0 && rec_put(drop->to, type, data, len) != 0)
	drop->err = errno ? errno : EIO;
}

/* drop_attr - one "name=value" record */
static void drop_attr(SM_DROP *drop, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=%s", name, value);
    sm_drop_rec(drop, MAILDROP_REC_ATTR, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

void    sm_drop_envelope(SM_DROP *drop, const SM_MESSAGE *msg, ARGV *rcpts)
{
    char    num[32];

    sm_drop_rec(drop, MAILDROP_REC_SENDER, msg->sender, strlen(msg->sender));
    if (msg->full_name && *msg->full_name)
	drop_attr(drop, MAILDROP_ATTR_FULL_NAME, msg->full_name);
    if (msg->dsn_envid)
	drop_attr(drop, MAILDROP_ATTR_ENVID, msg->dsn_envid);
    if (msg->dsn_ret)
	drop_attr(drop, MAILDROP_ATTR_RET, msg->dsn_ret);
    if (msg->dsn_notify) {
	snprintf(num, sizeof(num), "%d", msg->dsn_notify);
	drop_attr(drop, MAILDROP_ATTR_NOTIFY, num);
    }
    if (msg->gateway)
	drop_attr(drop, MAILDROP_ATTR_CONTEXT, "remote");
    for (size_t i = 0; rcpts && i < rcpts->argc; i++)
	sm_drop_rec(drop, MAILDROP_REC_RCPT, rcpts->argv[i], strlen(rcpts->argv[i]));
}

/* drop_free - what is left after postdrop is gone */
static void drop_free(SM_DROP *drop)
{
    myfree(drop->command);
    myfree(drop->id);
    myfree(drop);
}

int     sm_drop_close(SM_DROP *drop)
{
    int     status;
    int     ret = 0;

    if (drop->err == 0 && vstream_fflush(drop->to) != 0)
	drop->err = errno ? errno : EIO;
    vstream_close(drop->to);
    while (waitpid(drop->pid, &status, 0) < 0)
	if (errno != EINTR)
	    sm_fatal("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
	if (WIFEXITED(status))
	    msg_warn("command \"%s -r\" exited with status %d", drop->command,
		     WEXITSTATUS(status));
	else
	    msg_warn("command \"%s -r\" killed by signal %d", drop->command,
		     WTERMSIG(status));
	ret = -1;
    } else if (drop->err) {
	/* postdrop saw the end record, so this cannot happen; be safe. */
	msg_warn("write to %s: %s", drop->command, strerror(drop->err));
	ret = -1;
    }
    drop_free(drop);
    return (ret);
}

void    sm_drop_abort(SM_DROP *drop)
{
    int     status;

    (void) kill(drop->pid, SIGTERM);
    drop->to->wlen = 0;				/* nothing more for it */
    vstream_close(drop->to);
    while (waitpid(drop->pid, &status, 0) < 0 && errno == EINTR)
	 /* void */ ;
    drop_free(drop);
}
