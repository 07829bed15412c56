/*
 * NAME
 *	addr_rewrite - canonical address mapping and masquerading
 * SYNOPSIS
 *	#include "global/addr_rewrite.h"
 *
 *	ADDR_REWRITE *addr_rewrite_create(void);
 *	int addr_rewrite(ADDR_REWRITE *rw, int class, const char *addr,
 *			 VSTRING *result);
 *	int addr_rewrite_enabled(ADDR_REWRITE *rw, int class);
 *	void addr_rewrite_free(ADDR_REWRITE *rw);
 * DESCRIPTION
 *	What Postfix's cleanup does to an address before the queue file is
 *	written, for the four address classes of canonical_classes and
 *	masquerade_classes: ADDR_REWRITE_ENV_SENDER, ADDR_REWRITE_ENV_RCPT,
 *	ADDR_REWRITE_HDR_SENDER and ADDR_REWRITE_HDR_RCPT (a header's class
 *	comes from header_addr_class()). In this order:
 *
 *	1. Canonical form, as Postfix's "local" rewriting context: with
 *	   swap_bangpath "site!user" becomes "user@site"; with
 *	   allow_percent_hack "user%site" becomes "user@site"; with
 *	   append_at_myorigin an address without a domain gets
 *	   "@$myorigin" (in a header of a remote client, "@$remote_header_
 *	   rewrite_domain" instead: see ADDR_REWRITE_REMOTE); with
 *	   append_dot_mydomain a domain without a dot gets ".$mydomain".
 *	   The null address stays empty.
 *	2. canonical(5): sender_canonical_maps (senders) or
 *	   recipient_canonical_maps (recipients), then canonical_maps, each
 *	   only for the classes its *_classes parameter lists. Lookups as
 *	   canonical(5): user+ext@domain, user@domain, user+ext and user
 *	   when the domain is local, @domain. A result "@domain" keeps the
 *	   local part; an unmatched extension is kept when "canonical" is
 *	   in propagate_unmatched_extensions; the first address of a list
 *	   counts. The mapping is applied again to its result, up to ten
 *	   times, as the mapping is recursive in Postfix.
 *	3. masquerade_domains for the classes of masquerade_classes, unless
 *	   the local part is in masquerade_exceptions: the first list item
 *	   that is a parent domain of the address's domain replaces it;
 *	   "!domain" stops the search for that domain and its subdomains.
 *
 *	The class may carry ADDR_REWRITE_REMOTE: a header of a client that
 *	is not in local_header_rewrite_clients. Postfix then rewrites such
 *	headers only when remote_header_rewrite_domain is set (and appends
 *	that domain, not $myorigin); addr_rewrite_enabled() tells.
 *
 *	addr_rewrite() returns 1 when result holds a different address, 0
 *	when the address stays (result then holds it too), -1 when a table
 *	lookup failed (the caller answers 451 4.3.0 or defers).
 * SEE ALSO
 *	header_addr(3), for the addresses in headers; canonical(5)
 */
#ifndef ADDR_REWRITE_H
#define ADDR_REWRITE_H
#include "util/vstring.h"

#define ADDR_REWRITE_ENV_SENDER	(1<<0)
#define ADDR_REWRITE_ENV_RCPT	(1<<1)
#define ADDR_REWRITE_HDR_SENDER	(1<<2)
#define ADDR_REWRITE_HDR_RCPT	(1<<3)
#define ADDR_REWRITE_CLASSES	0xf
#define ADDR_REWRITE_REMOTE	(1<<8)	/* header of a remote client */

typedef struct ADDR_REWRITE ADDR_REWRITE;

extern ADDR_REWRITE *addr_rewrite_create(void);
extern int addr_rewrite(ADDR_REWRITE *, int, const char *, VSTRING *);
extern int addr_rewrite_enabled(ADDR_REWRITE *, int);
extern void addr_rewrite_free(ADDR_REWRITE *);

#endif
