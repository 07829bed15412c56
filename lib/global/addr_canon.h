/*
 * NAME
 *	addr_canon - an address in canonical form (Postfix's "local" rewriting)
 * SYNOPSIS
 *	#include "global/addr_canon.h"
 *
 *	ADDR_CANON *addr_canon_create(void);
 *	void addr_canon(ADDR_CANON *ac, VSTRING *addr, const char *domain);
 *	int addr_canon_routed(ADDR_CANON *ac, const char *local, size_t len);
 *	void addr_canon_free(ADDR_CANON *ac);
 * DESCRIPTION
 *	What Postfix's trivial-rewrite does to an internal-form address in
 *	its "local" context, with the parameters read by
 *	addr_canon_create(): with swap_bangpath "site!user" becomes
 *	"user@site" (at the first "!"); with allow_percent_hack
 *	"user%site" becomes "user@site" (at the last "%"); an address
 *	without a domain then gets "@domain" (domain NULL: "@$myorigin",
 *	with append_at_myorigin); with append_dot_mydomain a domain
 *	without a dot gets ".$mydomain". The null address stays empty.
 *	The first two apply only to an address without "@".
 *
 *	addr_canon_routed() says whether a local part (len bytes) still
 *	routes elsewhere, as Postfix's resolver sees it: it holds "@"
 *	(with resolve_dequoted_address; the internal form has no quotes),
 *	"!" with swap_bangpath, or "%" with allow_percent_hack.
 * SEE ALSO
 *	addr_rewrite(3), resolve(3)
 */
#ifndef ADDR_CANON_H
#define ADDR_CANON_H
#include <stddef.h>
#include "util/vstring.h"

typedef struct ADDR_CANON ADDR_CANON;

extern ADDR_CANON *addr_canon_create(void);
extern void addr_canon(ADDR_CANON *, VSTRING *, const char *);
extern int addr_canon_routed(ADDR_CANON *, const char *, size_t);
extern void addr_canon_free(ADDR_CANON *);

#endif
