/*
 * NAME
 *	maildrop_file - the records of locally submitted mail
 * SYNOPSIS
 *	#include "global/maildrop_file.h"
 *
 *	void maildrop_order_init(MAILDROP_ORDER *order);
 *	int maildrop_order_next(MAILDROP_ORDER *order, int type);
 *	int maildrop_attr_ok(const char *name_value);
 *	int maildrop_rec_read(VSTREAM *stream, VSTRING *buf);
 * DESCRIPTION
 *	sendmail writes a message as typed records (queue_file.h's
 *	rec_put()) to the standard input of postdrop, which copies them
 *	into a file in maildrop/; pickup reads that file and writes the
 *	queue file. The records, in this order:
 *
 *	T  "seconds microseconds"	when postdrop took the message
 *					(postdrop writes it; sendmail
 *					never sends it)
 *	S  sender address as given ("" for the null sender); exactly one
 *	A  "name=value", zero or more, of MAILDROP_ATTR_*:
 *	   full_name (-F, NAME, or the user's name), dsn_envid (-V),
 *	   dsn_ret (-R: FULL or HDRS), dsn_notify (-N: DSN_NOTIFY_* bits
 *	   in decimal, for every recipient), rewrite_context (-G:
 *	   "remote", addresses are not qualified with myorigin)
 *	R  a recipient given on the command line, zero or more
 *	L  a line of the message text, without its line end
 *	P  the first part of a line longer than one record; the rest
 *	   follows in P or L records
 *	R  recipients that sendmail -t extracted from the headers, after
 *	   the text (zero or more)
 *	E  "" the end
 *
 *	A file is complete when its owner-execute bit is set; postdrop
 *	sets it after the E record, then syncs the file and the folder.
 *	The file belongs to the user who ran sendmail and is readable by
 *	mail_owner; the maildrop/ folder (mode 1730, group setgid_group)
 *	lets nobody else list or remove it. pickup trusts nothing in it:
 *	every record is checked again.
 *
 *	maildrop_order_next() tells whether a record of the given type
 *	may come next (1) or not (0), and remembers it; the order starts
 *	at T (postdrop's output and pickup's input) or, after
 *	maildrop_order_init() with MAILDROP_ORDER_FROM_SENDER, at S
 *	(postdrop's input). maildrop_attr_ok() tells whether an A record
 *	names one of the attributes above.
 *
 *	maildrop_rec_read() reads one record from a pipe (postdrop's
 *	standard input), where queue_file.h's rec_get() cannot compare
 *	lengths with a file size: a record longer than MAILDROP_REC_MAX
 *	is an error before anything is allocated. It returns the type,
 *	REC_TYPE_EOF at a clean end, or REC_TYPE_ERROR.
 * SEE ALSO
 *	queue_file(3), sendmail(1), postdrop(1), pickup(8)
 */
#ifndef MAILDROP_FILE_H
#define MAILDROP_FILE_H
#include "util/vstream.h"
#include "util/vstring.h"

#define MAILDROP_REC_TIME	'T'
#define MAILDROP_REC_SENDER	'S'
#define MAILDROP_REC_ATTR	'A'
#define MAILDROP_REC_RCPT	'R'
#define MAILDROP_REC_LINE	'L'
#define MAILDROP_REC_PART	'P'
#define MAILDROP_REC_END	'E'

#define MAILDROP_ATTR_FULL_NAME	"full_name"
#define MAILDROP_ATTR_ENVID	"dsn_envid"
#define MAILDROP_ATTR_RET	"dsn_ret"
#define MAILDROP_ATTR_NOTIFY	"dsn_notify"
#define MAILDROP_ATTR_CONTEXT	"rewrite_context"

#define MAILDROP_REC_MAX	4096	/* longest L, P, S, R or A record */

typedef struct MAILDROP_ORDER {
    int     state;
} MAILDROP_ORDER;

#define MAILDROP_ORDER_FROM_TIME	0
#define MAILDROP_ORDER_FROM_SENDER	1

extern void maildrop_order_init(MAILDROP_ORDER *, int);
extern int maildrop_order_next(MAILDROP_ORDER *, int);
extern int maildrop_attr_ok(const char *);
extern int maildrop_rec_read(VSTREAM *, VSTRING *);

#endif
