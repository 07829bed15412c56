/*
 * NAME
 *	bounce.h - the bounce daemon's own modules
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	int bounce_notice(int kind, QUEUE_ENVELOPE *env, VSTREAM *msg,
 *			  DSN_LOG_ENTRY **rcpts, size_t count,
 *			  const char *to, const char *from, int hdrs_only,
 *			  VSTRING *new_id);
 * DESCRIPTION
 *	bounce_notice() writes one delivery status notification (RFC 3464)
 *	about the message env (its data read from msg) for the given
 *	recipient entries, as a new message file in incoming/, from the
 *	envelope sender from ("" for the null sender) to the address to.
 *	kind is BOUNCE_KIND_FAILED, _DELAYED, _SUCCESS or _TRACE (the
 *	"Mail Delivery Status Report" of sendmail -bv, in Postfix's words,
 *	its lines folded at 76 columns as Postfix's are). With hdrs_only
 *	only the original headers are returned. The new queue ID is put
 *	in new_id. Returns 0, or -1 when the file could not be written
 *	(logged).
 */
#ifndef BOUNCE_H
#define BOUNCE_H
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/queue_envelope.h"
#include "global/dsn_log.h"

#define BOUNCE_KIND_FAILED	1
#define BOUNCE_KIND_DELAYED	2
#define BOUNCE_KIND_SUCCESS	3
#define BOUNCE_KIND_TRACE	4	/* sendmail -bv: the status report */

extern int bounce_notice(int, QUEUE_ENVELOPE *, VSTREAM *, DSN_LOG_ENTRY **, size_t,
			         const char *, const char *, int, VSTRING *);

#endif
