/*
 * NAME
 *	showq_client - the queue listing of the showq service
 * SYNOPSIS
 *	Client side (postqueue -p, -j):
 *	VSTREAM *showq_connect(void);
 *	int showq_message_read(VSTREAM *showq, SHOWQ_MESSAGE *msg,
 *			       VSTRING *why);
 *	void showq_message_free(SHOWQ_MESSAGE *msg);
 *
 *	Service side:
 *	int showq_message_send(VSTREAM *client, const SHOWQ_MESSAGE *msg);
 *	int showq_end_send(VSTREAM *client);
 * DESCRIPTION
 *	A client connects to public/$showq_service_name and sends
 *	nothing. The service answers with one attr.h list per message,
 *	names SHOWQ_ATTR_*:
 *
 *	    queue_name=deferred queue_id=72C22A73A21
 *	    arrival_time=1795423585 message_size=281 forced_expire=0
 *	    sender=a@b.test ("" for the null sender)
 *	    recipient=user@example.com reason=connect to ...	(repeated)
 *
 *	one group per recipient still to be delivered, in queue file
 *	order, "recipient" opening it; reason is the newest delay reason
 *	or empty. The listing ends with a list of one status=0
 *	(ATTR_NAME_STATUS).
 *
 *	showq_connect() connects with ipc_timeout for each wait; NULL with
 *	errno when nobody listens. showq_message_read() returns 1 with the
 *	next message in msg, 0 at the end of the listing, -1 when the
 *	listing is cut short or malformed (why says how). A message needs
 *	queue_name, queue_id, arrival_time, message_size and sender; an
 *	absent reason or forced_expire reads as "" or 0.
 *	showq_message_free() releases what a read stored, whatever it
 *	returned.
 *
 *	showq_message_send() sends one message's list; showq_end_send()
 *	the end of the listing. Both return 0, or -1 on a write error.
 * SEE ALSO
 *	showq(8), postqueue(1), attr(3)
 */
#ifndef SHOWQ_CLIENT_H
#define SHOWQ_CLIENT_H
#include <stddef.h>
#include "util/vstream.h"
#include "util/vstring.h"

#define SHOWQ_ATTR_QUEUE_NAME		"queue_name"
#define SHOWQ_ATTR_QUEUE_ID		"queue_id"
#define SHOWQ_ATTR_ARRIVAL_TIME		"arrival_time"
#define SHOWQ_ATTR_MESSAGE_SIZE		"message_size"
#define SHOWQ_ATTR_FORCED_EXPIRE	"forced_expire"
#define SHOWQ_ATTR_SENDER		"sender"
#define SHOWQ_ATTR_RECIPIENT		"recipient"	/* opens a group */
#define SHOWQ_ATTR_REASON		"reason"

typedef struct SHOWQ_RCPT {
    char   *address;
    char   *reason;			/* the newest delay reason, or "" */
} SHOWQ_RCPT;

typedef struct SHOWQ_MESSAGE {
    char   *queue_name;			/* incoming, active, deferred, hold */
    char   *queue_id;
    long    arrival_time;		/* epoch seconds */
    long    message_size;
    int     forced_expire;
    char   *sender;			/* "" for the null sender */
    SHOWQ_RCPT *rcpt;
    size_t  rcpt_count;
} SHOWQ_MESSAGE;

extern VSTREAM *showq_connect(void);
extern int showq_message_read(VSTREAM *, SHOWQ_MESSAGE *, VSTRING *);
extern void showq_message_free(SHOWQ_MESSAGE *);
extern int showq_message_send(VSTREAM *, const SHOWQ_MESSAGE *);
extern int showq_end_send(VSTREAM *);

#endif
