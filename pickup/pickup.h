/*
 * NAME
 *	pickup.h - what pickup's files share
 * SYNOPSIS
 *	#include "pickup.h"
 * DESCRIPTION
 *	pickup.c: main, the maildrop/ scan, the tables and settings opened
 *	once per process (PICKUP_CONF). pickup_message.c: pickup_file()
 *	turns one maildrop file into a queue file and returns
 *	PICKUP_QUEUED (done, file removed), PICKUP_SKIP (not complete yet,
 *	gone, moved to corrupt/, or refused for now with a 4xx: the file
 *	stays and the scan goes on), or PICKUP_RETRY (the queue file could
 *	not be written or a table failed: the file stays for the next
 *	wakeup, the scan stops).
 *
 *	What Postfix's cleanup does to the message, in the order it does
 *	it, one file each: pickup_envelope.c (sender and recipients:
 *	canonical mapping, masquerading, virtual aliases, automatic BCC),
 *	pickup_text.c (headers and body: our Received:, header_checks,
 *	message_drop_headers, header address rewriting, missing headers,
 *	hopcount_limit, body_checks), pickup_milter.c (non_smtpd_milters),
 *	pickup_bounce.c (a message refused with 5xx goes back to its
 *	sender).
 *
 *	A check that refuses or drops the message records the outcome with
 *	pickup_outcome(): PICKUP_OUT_DEFER (4xx: the file stays in
 *	maildrop/), PICKUP_OUT_BOUNCE (5xx: returned to the sender),
 *	PICKUP_OUT_DISCARD, PICKUP_OUT_RETRY (a table or the queue failed).
 *	The strongest one wins: retry, defer, discard, bounce.
 */
#ifndef PICKUP_H
#define PICKUP_H
#include <sys/types.h>
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/addr_rewrite.h"
#include "global/auto_bcc.h"
#include "global/hbc.h"
#include "global/milter.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"

#define PICKUP_QUEUED	0
#define PICKUP_SKIP	1
#define PICKUP_RETRY	2

/* Opened once per process, before the chroot (pickup.c). */
typedef struct PICKUP_CONF {
    VIRTUAL_ALIAS *alias;		/* virtual_alias_maps */
    ADDR_REWRITE *rewrite;		/* canonical maps, masquerading */
    AUTO_BCC *bcc;			/* always_bcc, sender_/recipient_bcc_maps */
    HBC_MAPS *checks;			/* header_checks, body_checks, or NULL */
    ARGV   *drop_headers;		/* message_drop_headers */
    int     input_transp;		/* receive_override_options */
    int     milters;			/* non_smtpd_milters is set and used */
    int     always_add;			/* always_add_missing_headers */
    long    hopcount_limit;
    long    header_limit;		/* header_size_limit */
    long    body_limit;			/* body_checks_size_limit */
    char   *content_filter;
} PICKUP_CONF;

extern PICKUP_CONF pickup_conf;

/* Outcomes, weakest first. */
#define PICKUP_OUT_OK		0	/* commit */
#define PICKUP_OUT_BOUNCE	1	/* 5xx: return it to its sender */
#define PICKUP_OUT_DISCARD	2	/* drop it, say nothing */
#define PICKUP_OUT_DEFER	3	/* 4xx: leave it in maildrop/ */
#define PICKUP_OUT_RETRY	4	/* table or queue failure: later */

/* One message. */
typedef struct PICKUP_STATE {
    /* The maildrop file, as submitted (pickup_message.c). */
    long    uid;
    char   *given_sender;
    char   *full_name;
    char   *envid;
    char   *ret;			/* FULL, HDRS */
    int     notify;
    int     gateway;			/* sendmail -G: rewrite_context=remote */
    int     user_verify;		/* sendmail -bv */
    ARGV   *rcpts;
    off_t   text_start;			/* first record after the envelope */
    long    text_size;
    /* The queue file. */
    QUEUE_WRITER *qw;
    char   *queue_id;
    char   *sender;			/* as written: canonical, rewritten */
    char   *last_rcpt;			/* the to= of the log lines */
    VIRTUAL_ALIAS_RESULT *written;	/* recipients in the file */
    int     mappings;			/* address mappings are on */
    /* The text (pickup_text.c). */
    int     in_header;
    VSTRING *header;			/* the current header, CRLF lines */
    int     cut;			/* the current header was cut */
    int     resent;			/* a Resent- header was seen */
    int     have_msgid, have_date, have_from;
    int     have_resent_msgid, have_resent_date, have_resent_from;
    int     hops;			/* Received: headers, ours included */
    long    body_offset;		/* body bytes so far, for body_checks */
    HBC     content;			/* header_checks, body_checks */
    VSTRING *out;			/* PREPEND or REPLACE text */
    /* The milters (pickup_milter.c). */
    MILTERS *milters;
    /* What becomes of it. */
    int     outcome;			/* PICKUP_OUT_* */
    VSTRING *reason;			/* "5.7.1 text" for a bounce */
    int     hdrs_only;			/* the bounce returns the headers */
    int     hold;
} PICKUP_STATE;

/* pickup_message.c */
extern int pickup_file(const char *);
extern void pickup_outcome(PICKUP_STATE *, int, const char *);

/* pickup_envelope.c */
extern void pickup_envelope(PICKUP_STATE *);
extern int pickup_envelope_add_rcpt(PICKUP_STATE *, const char *);

/* pickup_text.c */
extern void pickup_text_begin(PICKUP_STATE *);
extern void pickup_text_line(PICKUP_STATE *, const char *, size_t);
extern void pickup_text_end(PICKUP_STATE *);
extern void pickup_text_free(PICKUP_STATE *);

/* pickup_milter.c */
extern void pickup_milter_init(void);
extern void pickup_milter_mail(PICKUP_STATE *);
extern void pickup_milter_rcpt(PICKUP_STATE *, const char *);
extern void pickup_milter_data(PICKUP_STATE *);
extern void pickup_milter_message(PICKUP_STATE *);
extern void pickup_milter_close(PICKUP_STATE *);

/* pickup_bounce.c */
extern int pickup_bounce(PICKUP_STATE *);

#endif
