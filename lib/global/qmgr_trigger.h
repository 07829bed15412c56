/*
 * NAME
 *	qmgr_trigger - the one-byte requests that wake the queue manager
 * SYNOPSIS
 *	#include "global/qmgr_trigger.h"
 *
 *	int qmgr_trigger(const char *requests, size_t len);
 * DESCRIPTION
 *	qmgr_trigger() writes len request bytes to
 *	public/$queue_service_name with mail_trigger() (mail_trigger.h):
 *	0, or -1 with errno when qmgr is not there (the caller logs, or
 *	not: qmgr's periodic scans pick the work up later). Several bytes
 *	may come in one write. No reply.
 *
 *	QMGR_REQ_SCAN_INCOMING	new mail in incoming/ (smtpd, bounce)
 *	QMGR_REQ_SCAN_DEFERRED	scan deferred/ now
 *	QMGR_REQ_SCAN_ALL	scan incoming/ and deferred/
 *	QMGR_REQ_FLUSH_DEAD	forget that destinations are dead and
 *				retry them (postqueue -f, flush)
 *	QMGR_REQ_WAKEUP		master's periodic wakeup
 *
 *	A flush (postqueue -f / -s, ETRN) makes deferred messages eligible
 *	now: the flush service sets the group-write bit of each one's
 *	deferred/ file (QMGR_FLUSH_MARK_MODE), moves the file to incoming/,
 *	then sends QMGR_REQ_FLUSH_DEAD and QMGR_REQ_SCAN_INCOMING (and
 *	QMGR_REQ_SCAN_DEFERRED for postqueue -f). qmgr ignores
 *	defer_transports for a marked message in this delivery attempt and
 *	clears the bit when it defers the message again.
 */
#ifndef QMGR_TRIGGER_H
#define QMGR_TRIGGER_H
#include <sys/stat.h>
#include <stddef.h>

#define QMGR_REQ_SCAN_INCOMING	'I'
#define QMGR_REQ_SCAN_DEFERRED	'D'
#define QMGR_REQ_SCAN_ALL	'A'
#define QMGR_REQ_FLUSH_DEAD	'F'
#define QMGR_REQ_WAKEUP		'W'

/* A deferred file whose mode has this bit is to be delivered now,
 * even through a transport listed in defer_transports. */
#define QMGR_FLUSH_MARK_MODE	S_IWGRP

/*
 * A message file whose mode has this bit is force-expired (postsuper -e,
 * -f): when qmgr takes it, every recipient still to be delivered is
 * returned to the sender with its last delay reason, or "message is
 * administratively expired", and nothing is delivered. Postfix marks
 * it with the same bit, and showq shows it as "#".
 */
#define QMGR_EXPIRE_MARK_MODE	S_IXGRP

extern int qmgr_trigger(const char *, size_t);

#endif
