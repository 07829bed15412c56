/*
 * NAME
 *	queue_file - typed records of a message file
 * SYNOPSIS
 *	int rec_put(VSTREAM *s, int type, const void *data, size_t len);
 *	int rec_fputs(VSTREAM *s, int type, const char *str);
 *	int rec_fprintf(VSTREAM *s, int type, const char *fmt, ...);
 *	int rec_get(VSTREAM *s, VSTRING *buf, size_t max_len);
 *	int rec_get_head(VSTREAM *s, size_t *len);
 *	int rec_mark_done(int fd, off_t rcpt_offset);
 * DESCRIPTION
 *	A record is one type byte, a 4-byte big-endian length, and that
 *	many bytes of data. rec_get() returns the type, REC_TYPE_EOF at a
 *	clean end of file, or REC_TYPE_ERROR for a truncated record, a
 *	length over max_len, or a length larger than what is left of the
 *	file (checked with fstat before anything is allocated: a forged
 *	length costs no memory).
 *
 *	A message file holds, in this order:
 *
 *	V  "1"					format version
 *	T  "seconds microseconds"		arrival time
 *	S  sender address ("" for the null sender)
 *	A  "name=value"				attributes (zero or more):
 *	   client_name, client_address, client_port, helo_name,
 *	   protocol (SMTP/ESMTP), sasl_username, dsn_envid, dsn_ret
 *	   (FULL or HDRS), log_ident, rewrite_context, verify ("1": an
 *	   address probe of verify(8); qmgr sends it with
 *	   DEL_REQ_FLAG_VERIFY, records no bounce or defer log for it,
 *	   and removes it when the agent has answered), user_verify
 *	   ("1": sendmail -bv; qmgr sends it with DEL_REQ_FLAG_USER_VERIFY,
 *	   puts every result in the trace/ log, and the sender gets the
 *	   delivery status report of bounce(8))
 *	W  "%020ld"				delay-warning time, rewritten
 *						in place (0 = none / sent)
 *	then per recipient, optionally preceded by
 *	O  original recipient (before virtual aliasing; for orig_to= and
 *	   Original-Recipient)
 *	N  DSN NOTIFY as a decimal bit mask (DSN_NOTIFY_* below)
 *	Q  DSN ORCPT ("rfc822;user@example.com")
 *	R  recipient address, still to be delivered; changed in place to
 *	D  when delivered, bounced, or otherwise finished
 *	M  the message: headers and body exactly as received after
 *	   dot-unstuffing, lines ending in CRLF, our Received: header
 *	   first; its length is the message size
 *	F  "transport:nexthop"			content filter (content_filter
 *	   or a FILTER action): qmgr sends every recipient there first;
 *	   written after the message data, before E
 *	>  "user@domain"			REDIRECT action of header_checks
 *	   or body_checks: qmgr delivers the message once, to this address
 *	   instead of its recipients (one recipient still to be delivered
 *	   is its original recipient, orig_to=; the others are marked
 *	   done), as Postfix's qmgr does; after F, before E
 *	A  records after the message data: attributes that the writer
 *	   learned while it wrote the message (pickup: dsn_ret=HDRS for
 *	   the notice of a message whose content was refused); a later A
 *	   record of a name overrides an earlier one
 *	P  zero bytes				padding, so that the file
 *	   ends at a multiple of 4 KB (queue_writer(3): a file that qmgr
 *	   gives to pool/ is reused at the same size, so its data alone
 *	   is synced); readers skip it
 *	E  ""					end of file
 *
 *	rec_get_head() reads only a record's type and length (checked
 *	against the file size), so a reader can skip or stream the M
 *	record's data (vstream_seek) instead of loading it.
 *
 *	Readers skip record types they do not know. A file is complete
 *	only when it ends with E and the owner-execute bit is set
 *	(mail_queue.h); the writer sets the bit after the last write and
 *	then fsyncs the file and its folder before answering 250.
 */
#ifndef QUEUE_FILE_H
#define QUEUE_FILE_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstream.h"
#include "util/vstring.h"

#define REC_TYPE_VERSION	'V'
#define REC_TYPE_TIME		'T'
#define REC_TYPE_SENDER		'S'
#define REC_TYPE_ATTR		'A'
#define REC_TYPE_WARN		'W'
#define REC_TYPE_ORCP		'O'
#define REC_TYPE_NOTIFY		'N'
#define REC_TYPE_DSN_ORCPT	'Q'
#define REC_TYPE_RCPT		'R'
#define REC_TYPE_DONE		'D'
#define REC_TYPE_MESSAGE	'M'
#define REC_TYPE_END		'E'
#define REC_TYPE_FILTER		'F'
#define REC_TYPE_REDIRECT	'>'
#define REC_TYPE_PAD		'P'

#define REC_TYPE_EOF		(-1)
#define REC_TYPE_ERROR		(-2)

#define REC_HEADER_LEN		5
#define REC_MAX_LEN_ENVELOPE	(1 << 16)	/* any record but M */

#define QUEUE_FILE_VERSION	"1"

/* DSN NOTIFY bits (RFC 3461). 0 = not specified. */
#define DSN_NOTIFY_NEVER	(1<<0)
#define DSN_NOTIFY_SUCCESS	(1<<1)
#define DSN_NOTIFY_FAILURE	(1<<2)
#define DSN_NOTIFY_DELAY	(1<<3)

extern int rec_put(VSTREAM *, int, const void *, size_t);
extern int rec_fputs(VSTREAM *, int, const char *);
extern int rec_fprintf(VSTREAM *, int, const char *, ...) __attribute__((format(printf, 3, 4)));
extern int rec_get(VSTREAM *, VSTRING *, size_t);
extern int rec_get_head(VSTREAM *, size_t *);
extern int rec_mark_done(int, off_t);

#endif
