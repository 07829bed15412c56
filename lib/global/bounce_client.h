/*
 * NAME
 *	bounce_client - ask the bounce service for delivery status notices
 * SYNOPSIS
 *	int bounce_flush(const char *queue_name, const char *queue_id);
 *	int bounce_warn(const char *queue_name, const char *queue_id);
 *	int bounce_success(const char *queue_name, const char *queue_id);
 *	int bounce_trace(const char *queue_name, const char *queue_id);
 *
 *	Service side:
 *	int bounce_request_read(VSTREAM *client, BOUNCE_REQUEST *req,
 *				VSTRING *why);
 *	void bounce_request_free(BOUNCE_REQUEST *req);
 * DESCRIPTION
 *	Requests to private/bounce (attr.h), all three attributes required:
 *
 *	    request=flush | warn | success | trace	(ATTR_NAME_REQUEST)
 *	    queue_name=active			(BOUNCE_ATTR_QUEUE_NAME)
 *	    queue_id=72C22A73A21		(BOUNCE_ATTR_QUEUE_ID)
 *
 *	The reply is status=N (ATTR_NAME_STATUS; attr_send_status()).
 *	The bounce service reads the message file
 *	and its log (bounce/ID for flush: the failed recipients; defer/ID for
 *	warn: the delayed ones; for success the entries with action=delivered
 *	in bounce/ID), writes one DSN as a new queue file from MAILER-DAEMON
 *	with the null sender (none when the original sender is null: that
 *	is logged and dropped or sent to 2bounce_notice_recipient), logs
 *	"QID: sender non-delivery notification: NEWQID", removes the log it
 *	used, and replies status=0. status!=0 or no answer: the caller keeps
 *	the message and tries again later.
 *
 *	qmgr calls bounce_flush() when a message is finished and its
 *	bounce/ log exists (recipients failed, or the queue lifetime
 *	expired), and removes the message only after status 0.
 *
 *	Delay warnings (delay_warning_time > 0): the W record of the
 *	message file holds the time after which a warning is due
 *	(arrival + delay_warning_time, written with the file; 0 = none or
 *	already sent). When qmgr defers a message whose W time is not 0
 *	and has passed, it calls bounce_warn() with the message's defer/
 *	log in place, and after status 0 rewrites W to 0 in place, so a
 *	message causes one warning. The defer/ log is left as it is.
 *
 *	Success notices: for a recipient that asked NOTIFY=SUCCESS and was
 *	delivered to a next hop that does not announce DSN, qmgr appends a
 *	bounce/ entry with action=relayed (action=delivered for a final
 *	delivery, e.g. LMTP); when the message is finished it calls
 *	bounce_success() before bounce_flush() (which removes the log).
 *	bounce_success() leaves the log in place.
 *
 *	sendmail -bv: qmgr calls bounce_trace() when such a message is
 *	finished; the bounce service sends the sender Postfix's "Mail
 *	Delivery Status Report" of every entry of trace/ID (deliverable or
 *	undeliverable, with the headers of the message) and removes that
 *	log.
 *
 *	bounce_request_read() is the service's reader: 1 for a request in
 *	req, 0 at end of file, -1 for a malformed request (why says how).
 *	It checks the form only (present, of sane length); what the values
 *	mean is the service's to check. bounce_request_free() releases
 *	what a read stored, whatever it returned.
 */
#ifndef BOUNCE_CLIENT_H
#define BOUNCE_CLIENT_H
#include "util/vstream.h"
#include "util/vstring.h"

#define BOUNCE_REQ_FLUSH	"flush"
#define BOUNCE_REQ_WARN		"warn"
#define BOUNCE_REQ_SUCCESS	"success"
#define BOUNCE_REQ_TRACE	"trace"

#define BOUNCE_ATTR_QUEUE_NAME	"queue_name"
#define BOUNCE_ATTR_QUEUE_ID	"queue_id"

typedef struct BOUNCE_REQUEST {
    char   *request;			/* BOUNCE_REQ_* */
    char   *queue_name;
    char   *queue_id;
} BOUNCE_REQUEST;

extern int bounce_flush(const char *, const char *);
extern int bounce_warn(const char *, const char *);
extern int bounce_success(const char *, const char *);
extern int bounce_trace(const char *, const char *);

extern int bounce_request_read(VSTREAM *, BOUNCE_REQUEST *, VSTRING *);
extern void bounce_request_free(BOUNCE_REQUEST *);

#endif
