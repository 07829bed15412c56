/*
 * NAME
 *	dsn_log - per-message, per-recipient status logs (defer/, bounce/)
 * SYNOPSIS
 *	int dsn_log_append(const char *queue, const char *queue_id,
 *			   const RECIPIENT *rcpt, const DSN_RESULT *result);
 *	int dsn_log_read(const char *queue, const char *queue_id, DSN_LOG *log);
 *	void dsn_log_free(DSN_LOG *log);
 *	int dsn_log_remove(const char *queue, const char *queue_id);
 * DESCRIPTION
 *	queue is MAIL_QUEUE_DEFER (recipients that were deferred: the
 *	reasons postqueue -p shows and delay warnings use),
 *	MAIL_QUEUE_BOUNCE (recipients that failed: what the bounce service
 *	turns into a DSN) or MAIL_QUEUE_TRACE (every recipient of sendmail
 *	-bv: the delivery status report). The file is named like the message file
 *	(mail_queue_path; defer/ is hashed by default).
 *
 *	One entry per append, written with a single write(2) in O_APPEND
 *	mode so concurrent writers never interleave:
 *
 *	    recipient=user@example.com
 *	    orig_recipient=alias@example.com	(when known)
 *	    offset=1234				(R record offset)
 *	    notify=6				(DSN_NOTIFY_* bits)
 *	    orcpt=rfc822;user@example.com	(when given)
 *	    status=4.4.1
 *	    action=delayed			(delayed, failed, delivered,
 *						 expanded, relayed, notified,
 *						 deliverable, undeliverable)
 *	    reason=connect to ...: Connection refused
 *	    remote_mta=mx.example.com		(when known)
 *	    diag=550 5.1.1 No such user		(when known)
 *	    time=1795423585
 *	    (empty line)
 *
 *	dsn_log_append() writes the action from the result's action code:
 *	'd' delivered, 'f' failed, 'r' relayed, 'n' notified (the bounce
 *	service sent the success notice for this recipient: it is not
 *	sent again if the message has to be retried), 'v' deliverable and
 *	'u' undeliverable (trace/ entries of sendmail -bv), anything else
 *	delayed.
 *
 *	Values never contain a newline (the writer replaces CR and LF by
 *	spaces). dsn_log_read() returns all entries in order; a recipient
 *	may appear more than once (the last entry is the newest). It
 *	returns 0, or -1 with errno (ENOENT when there is no log).
 */
#ifndef DSN_LOG_H
#define DSN_LOG_H
#include <stddef.h>
#include "global/deliver_request.h"

typedef struct DSN_LOG_ENTRY {
    char   *recipient;
    char   *orig_recipient;
    long    offset;
    int     notify;
    char   *orcpt;
    char   *status;
    char   *action;
    char   *reason;
    char   *remote_mta;
    char   *diag;
    long    time;
} DSN_LOG_ENTRY;

typedef struct DSN_LOG {
    DSN_LOG_ENTRY *entries;
    size_t  count;
} DSN_LOG;

extern int dsn_log_append(const char *, const char *, const RECIPIENT *, const DSN_RESULT *);
extern int dsn_log_read(const char *, const char *, DSN_LOG *);
extern void dsn_log_free(DSN_LOG *);
extern int dsn_log_remove(const char *, const char *);

#endif
