/*
 * NAME
 *	delivered_hdr - what a queued message's headers say about loops
 * SYNOPSIS
 *	#include "global/delivered_hdr.h"
 *
 *	DELIVERED_HDR *delivered_hdr_read(VSTREAM *queue_file, off_t offset,
 *					  off_t size);
 *	int delivered_hdr_find(const DELIVERED_HDR *hdr, const char *address);
 *	void delivered_hdr_free(DELIVERED_HDR *hdr);
 * DESCRIPTION
 *	delivered_hdr_read() reads the header section of the message
 *	(the M record data of a queue file: size bytes from offset, CRLF
 *	lines) and keeps the address of each Delivered-To: header, and
 *	the value of the first Message-ID: header (hdr->msgid, or NULL).
 *	Folded headers are unfolded; a header is read up to 64 kbytes.
 *
 *	delivered_hdr_find() says whether a Delivered-To: header names
 *	address (compared without regard to case): a message that comes
 *	back to an address that it was delivered to before is in a
 *	forwarding loop (local(8), and pipe(8) with flags=D).
 * DIAGNOSTICS
 *	None: a read error ends the header section early.
 */
#ifndef DELIVERED_HDR_H
#define DELIVERED_HDR_H
#include <sys/types.h>
#include "util/vstream.h"
#include "util/htable.h"

typedef struct DELIVERED_HDR {
    HTABLE *addrs;			/* lower case */
    char   *msgid;			/* or NULL */
} DELIVERED_HDR;

extern DELIVERED_HDR *delivered_hdr_read(VSTREAM *, off_t, off_t);
extern int delivered_hdr_find(const DELIVERED_HDR *, const char *);
extern void delivered_hdr_free(DELIVERED_HDR *);

#endif
