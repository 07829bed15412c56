/*
 * NAME
 *	mail_copy - write a queued message out for final delivery
 * SYNOPSIS
 *	#include "global/mail_copy.h"
 *
 *	int mail_copy(VSTREAM *queue_file, off_t offset, off_t size,
 *		      VSTREAM *dst, int flags, const MAIL_COPY_ENV *env,
 *		      VSTRING *why);
 *	void mail_copy_from_line(VSTRING *buf, const char *sender, time_t when);
 * DESCRIPTION
 *	mail_copy() copies the message text of a queue file (the M record
 *	data: size bytes from offset, CRLF lines) to dst the way a
 *	mailbox, a file or a command expects it: each line ends with
 *	env->eol ("\n" when NULL), and, as flags ask, with first
 *
 *	MAIL_COPY_FROM		a "From sender  Mon Dec  7 14:32:26 2026"
 *				envelope line (mail_copy_from_line(); the
 *				null sender is MAILER-DAEMON)
 *	MAIL_COPY_RETURN_PATH	"Return-Path: <sender>"
 *	MAIL_COPY_ORIG_RCPT	"X-Original-To: env->orig_rcpt"
 *	MAIL_COPY_DELIVERED	"Delivered-To: env->delivered"
 *
 *	in that order, and in the text
 *
 *	MAIL_COPY_QUOTE		">" before each line that starts with
 *				"From " (mbox quoting)
 *	MAIL_COPY_DOT		"." before each line that starts with "."
 *	MAIL_COPY_BLANK		an empty line after the message
 *
 *	MAIL_COPY_MBOX is FROM, QUOTE and BLANK. Addresses are written in
 *	external form (quoted where RFC 5321 needs it); env->sender is the
 *	internal form, "" for the null sender. mail_copy() flushes dst but
 *	does not sync or close it.
 * DIAGNOSTICS
 *	0, or MAIL_COPY_STAT_READ (the queue file could not be read: a
 *	temporary problem) or MAIL_COPY_STAT_WRITE (dst failed: errno
 *	says why) with why set to "error reading message: ..." or "error
 *	writing message: ...".
 */
#ifndef MAIL_COPY_H
#define MAIL_COPY_H
#include <sys/types.h>
#include <time.h>
#include "util/vstream.h"
#include "util/vstring.h"

typedef struct MAIL_COPY_ENV {
    const char *sender;			/* internal form, "" = null sender */
    const char *orig_rcpt;		/* X-Original-To: */
    const char *delivered;		/* Delivered-To: */
    const char *eol;			/* NULL: "\n" */
} MAIL_COPY_ENV;

#define MAIL_COPY_FROM		(1<<0)
#define MAIL_COPY_RETURN_PATH	(1<<1)
#define MAIL_COPY_ORIG_RCPT	(1<<2)
#define MAIL_COPY_DELIVERED	(1<<3)
#define MAIL_COPY_QUOTE		(1<<4)
#define MAIL_COPY_DOT		(1<<5)
#define MAIL_COPY_BLANK		(1<<6)
#define MAIL_COPY_MBOX		(MAIL_COPY_FROM | MAIL_COPY_QUOTE | MAIL_COPY_BLANK)

#define MAIL_COPY_STAT_READ	(1<<0)
#define MAIL_COPY_STAT_WRITE	(1<<1)

extern int mail_copy(VSTREAM *, off_t, off_t, VSTREAM *, int,
		             const MAIL_COPY_ENV *, VSTRING *);
extern void mail_copy_from_line(VSTRING *, const char *, time_t);

#endif
