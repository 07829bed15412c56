/*
 * NAME
 *	addr_map - one address through a canonical(5)-style table
 * SYNOPSIS
 *	#include "global/addr_map.h"
 *
 *	int addr_map(MAPS *maps, const char *propagate_name, VSTRING *addr);
 * DESCRIPTION
 *	addr_map() looks addr (internal form) up as canonical(5) and
 *	generic(5) describe: user+ext@domain, user@domain, user+ext and
 *	user when the domain is local, @domain (mail_addr_find(3),
 *	MAPS_ADDR_DEFAULT). On a match addr becomes the result: its first
 *	address when it is a list; "@domain" keeps the local part; and when
 *	propagate_name ("canonical", "generic", ...) is listed in
 *	propagate_unmatched_extensions, an address extension that the
 *	matching key did not have is kept (user+ext@a -> new+ext@b).
 *
 *	The result is 1 when addr changed, 0 when no key matched or the
 *	result is the same address, -1 when a table lookup failed (addr is
 *	left alone; the caller defers).
 * SEE ALSO
 *	addr_rewrite(3), canonical mapping before the queue (recursive);
 *	smtp(8), smtp_generic_maps (once)
 */
#ifndef ADDR_MAP_H
#define ADDR_MAP_H
#include "util/vstring.h"
#include "dict/maps.h"

extern int addr_map(MAPS *, const char *, VSTRING *);

#endif
