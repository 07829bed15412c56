/*
 * NAME
 *	queue_envelope - read the envelope of a message file
 * SYNOPSIS
 *	QUEUE_ENVELOPE *queue_envelope_read(VSTREAM *fp, const char *id);
 *	void queue_envelope_free(QUEUE_ENVELOPE *env);
 *	const char *queue_envelope_attr(QUEUE_ENVELOPE *env, const char *name);
 * DESCRIPTION
 *	queue_envelope_read() reads the records of queue_file.h from an
 *	open message file, from the start up to the M record, and keeps
 *	what the readers of a whole queue need (showq, bounce, postsuper):
 *	the arrival time, the sender, the attributes, the delay-warning
 *	time, the recipients with their original address, DSN NOTIFY and
 *	ORCPT, R record offset and whether they are done (D), and where
 *	the message data starts and how long it is. The M record's data
 *	is skipped, not read; the records after it (F, >, A) are read up
 *	to the E record, which must be there.
 *
 *	queue_envelope_attr() is the value of the last A record of that
 *	name (records after the message data included), or NULL.
 *
 *	Every length is checked against the file size (rec_get), so a
 *	forged file costs no memory. A file that is not complete (no M,
 *	no E, a record cut short) gives NULL: for showq this is a message
 *	that is still being written, for bounce a corrupt file.
 * DIAGNOSTICS
 *	None; NULL tells the caller the file cannot be used.
 * SEE ALSO
 *	queue_file(3)
 */
#ifndef QUEUE_ENVELOPE_H
#define QUEUE_ENVELOPE_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstream.h"
#include "util/argv.h"

typedef struct QUEUE_RCPT {
    char   *address;
    char   *orig_addr;			/* "" when none */
    int     notify;			/* DSN_NOTIFY_* bits, 0 = unspecified */
    char   *orcpt;			/* "" when none */
    off_t   offset;			/* of the R/D record */
    int     done;			/* D record */
} QUEUE_RCPT;

typedef struct QUEUE_ENVELOPE {
    char   *queue_id;
    long    arrival_sec;
    long    arrival_usec;
    char   *sender;
    ARGV   *attrs;			/* "name=value" */
    long    warn_time;			/* W record, 0 = none */
    QUEUE_RCPT *rcpts;
    size_t  rcpt_count;
    off_t   msg_offset;			/* start of the M record data */
    off_t   msg_size;
} QUEUE_ENVELOPE;

extern QUEUE_ENVELOPE *queue_envelope_read(VSTREAM *, const char *);
extern void queue_envelope_free(QUEUE_ENVELOPE *);
extern const char *queue_envelope_attr(QUEUE_ENVELOPE *, const char *);

#endif
