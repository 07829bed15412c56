/*
 * NAME
 *	sendmail.h - what sendmail's files share
 * SYNOPSIS
 *	#include "sendmail.h"
 * DESCRIPTION
 *	sendmail.c: options, names (mailq, newaliases) and modes;
 *	sendmail_drop.c: one message handed to postdrop (SM_DROP);
 *	sendmail_enqueue.c: a message from standard input (-bm, -t);
 *	sendmail_smtp.c: SMTP on standard input and output (-bs).
 *
 *	Every fatal error of sendmail exits with EX_TEMPFAIL (75), as
 *	Postfix's sendmail does: sm_fatal().
 */
#ifndef SENDMAIL_H
#define SENDMAIL_H
#include <sys/types.h>
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"

#define EX_TEMPFAIL	75

#define sm_fatal(...)	msg_fatal_status(EX_TEMPFAIL, __VA_ARGS__)

/* What the command line says about the message. */
typedef struct SM_MESSAGE {
    char   *sender;			/* -f/-r, or the login name */
    char   *full_name;			/* -F, $NAME or the user's name */
    const char *dsn_envid;		/* -V */
    const char *dsn_ret;		/* -R: FULL, HDRS or NULL */
    int     dsn_notify;			/* -N: DSN_NOTIFY_* bits or 0 */
    int     gateway;			/* -G: do not qualify addresses */
    int     extract;			/* -t */
    int     dot_ends;			/* "." alone ends the input (no -i) */
    ARGV   *rcpts;			/* command-line recipients */
    uid_t   uid;
} SM_MESSAGE;

/* sendmail_drop.c */
typedef struct SM_DROP SM_DROP;

extern SM_DROP *sm_drop_open(const SM_MESSAGE *, int);
extern const char *sm_drop_id(SM_DROP *);
extern void sm_drop_rec(SM_DROP *, int, const char *, size_t);
extern void sm_drop_envelope(SM_DROP *, const SM_MESSAGE *, ARGV *);
extern int sm_drop_close(SM_DROP *);
extern void sm_drop_abort(SM_DROP *);

/* sendmail_enqueue.c */
extern void sm_enqueue(SM_MESSAGE *);

/* sendmail_smtp.c */
extern void sm_smtp(SM_MESSAGE *);

#endif
