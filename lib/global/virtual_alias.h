/*
 * NAME
 *	virtual_alias - virtual alias domains and recipient expansion
 * SYNOPSIS
 *	VIRTUAL_ALIAS *virtual_alias_create(void);
 *	void virtual_alias_free(VIRTUAL_ALIAS *va);
 *
 *	int virtual_alias_domain(VIRTUAL_ALIAS *va, const char *domain);
 *	int virtual_alias_rcpt_check(VIRTUAL_ALIAS *va, const char *addr);
 *	int virtual_alias_expand(VIRTUAL_ALIAS *va, const char *rcpt,
 *				 VIRTUAL_ALIAS_RESULT *res, VSTRING *why);
 *
 *	VIRTUAL_ALIAS_RESULT *virtual_alias_result_alloc(void);
 *	void virtual_alias_result_free(VIRTUAL_ALIAS_RESULT *res);
 *	int virtual_alias_result_add(VIRTUAL_ALIAS_RESULT *res,
 *				     const char *addr, const char *orig);
 *	int virtual_alias_result_forwarded(const VIRTUAL_ALIAS_RESULT *res);
 *	int virtual_alias_changes(VIRTUAL_ALIAS *va);
 * DESCRIPTION
 *	Postfix's virtual aliasing, done once, before the queue file is
 *	written (smtpd), as Postfix's cleanup does it.
 *
 *	virtual_alias_create() reads virtual_alias_maps (any table type),
 *	recipient_delimiter, propagate_unmatched_extensions,
 *	virtual_alias_recursion_limit, virtual_alias_expansion_limit,
 *	virtual_alias_address_length_limit and myorigin. The domain lists
 *	are addr_class(3)'s: virtual_alias_domains is a domain list like
 *	mydestination (literal domains, /file/name, type:table looked up
 *	with the domain name as key, !exclusions); its default
 *	$virtual_alias_maps means that a domain is an alias domain when
 *	the domain name itself is a key of the alias table
 *	("alias.example anything").
 *
 *	virtual_alias_domain() says whether a domain is a virtual alias
 *	domain, that is, in the virtual alias class of addr_class(3) (a
 *	domain that mydestination lists too is local, as in Postfix):
 *	VIRTUAL_ALIAS_YES, VIRTUAL_ALIAS_NO, or VIRTUAL_ALIAS_RETRY (a
 *	table could not be read: answer 4xx, never "no").
 *
 *	virtual_alias_rcpt_check() is smtpd's question at RCPT time:
 *	VIRTUAL_ALIAS_FOUND	the address has an alias (it exists; an
 *				alias opens relaying for itself only, not
 *				for its targets)
 *	VIRTUAL_ALIAS_UNKNOWN	an address of a virtual alias domain with
 *				no alias: reject with
 *				unknown_virtual_alias_reject_code (550)
 *				"5.1.1 <addr>: Recipient address rejected:
 *				User unknown in virtual alias table"
 *	VIRTUAL_ALIAS_NONE	not an alias domain and no alias: the
 *				other restrictions decide
 *	VIRTUAL_ALIAS_RETRY	table error: "451 4.3.0 <addr>: Temporary
 *				lookup failure"
 *
 *	Lookup order for one address, as Postfix's: user+ext@domain (the
 *	whole address, asked of every table), then with recipient_delimiter
 *	set user@domain, then the local part alone (user+ext, user) when
 *	the domain is local ($myorigin, mydestination, an address literal
 *	of inet_interfaces or proxy_interfaces: addr_class_bare_user(); a
 *	list error there is a table error), then the @domain
 *	catch-all; partial keys are asked of fixed-key tables only. When
 *	the match was not on the extension and propagate_unmatched_extensions
 *	holds "virtual", the extension is appended to the local part of
 *	each result (user+ext@target). A result "@otherdomain" keeps the
 *	user: user@otherdomain. A result without "@" gets "@$myorigin".
 *	A result is a comma-separated list (1:N); quotes and <> are
 *	understood.
 *
 *	virtual_alias_expand() appends to res the final targets of rcpt,
 *	each with rcpt as its original recipient (for the O record,
 *	orig_to= and Original-Recipient). Expansion is recursive: each
 *	target is looked up again, up to virtual_alias_recursion_limit
 *	levels and virtual_alias_expansion_limit addresses in all; an
 *	address may expand into itself (it is then kept as it is). An
 *	address without alias is its own target (orig = rcpt). A pair
 *	(target, original) that res already holds (compared ignoring
 *	case) is not added again, so one result per message removes
 *	duplicates as Postfix does. Returns VIRTUAL_ALIAS_OK, or
 *	VIRTUAL_ALIAS_RETRY with a reason in why ("4.3.0 ..." / "4.6.0
 *	...") after a table error or a limit was hit: the caller answers
 *	4xx and res is left as it was before the call.
 *
 *	virtual_alias_result_add() appends one pair unless res holds it
 *	already (returns 1 when added, 0 for a duplicate).
 *
 *	virtual_alias_result_forwarded() says whether some target of res
 *	is in another domain than its original recipient: the case for SRS
 *	(srs.h) when it is on. virtual_alias_changes() is false when no
 *	virtual_alias_maps is configured (callers may skip expansion).
 * DIAGNOSTICS
 *	Warnings, as Postfix's cleanup writes them, when a limit is hit or
 *	a table fails.
 */
#ifndef VIRTUAL_ALIAS_H
#define VIRTUAL_ALIAS_H
#include <stddef.h>
#include "util/vstring.h"
#include "util/htable.h"

typedef struct VIRTUAL_ALIAS VIRTUAL_ALIAS;

typedef struct VIRTUAL_ALIAS_TARGET {
    char   *address;			/* where to deliver */
    char   *orig;			/* the recipient as received */
} VIRTUAL_ALIAS_TARGET;

typedef struct VIRTUAL_ALIAS_RESULT {
    VIRTUAL_ALIAS_TARGET *targets;
    size_t  count;
    size_t  cap;
    HTABLE *seen;			/* "target\norig", lower case */
} VIRTUAL_ALIAS_RESULT;

#define VIRTUAL_ALIAS_OK	0
#define VIRTUAL_ALIAS_NO	0
#define VIRTUAL_ALIAS_YES	1
#define VIRTUAL_ALIAS_NONE	0
#define VIRTUAL_ALIAS_FOUND	1
#define VIRTUAL_ALIAS_UNKNOWN	2
#define VIRTUAL_ALIAS_RETRY	(-1)

extern VIRTUAL_ALIAS *virtual_alias_create(void);
extern void virtual_alias_free(VIRTUAL_ALIAS *);
extern int virtual_alias_domain(VIRTUAL_ALIAS *, const char *);
extern int virtual_alias_rcpt_check(VIRTUAL_ALIAS *, const char *);
extern int virtual_alias_expand(VIRTUAL_ALIAS *, const char *,
				        VIRTUAL_ALIAS_RESULT *, VSTRING *);
extern int virtual_alias_changes(VIRTUAL_ALIAS *);
extern VIRTUAL_ALIAS_RESULT *virtual_alias_result_alloc(void);
extern void virtual_alias_result_free(VIRTUAL_ALIAS_RESULT *);
extern int virtual_alias_result_add(VIRTUAL_ALIAS_RESULT *, const char *, const char *);
extern int virtual_alias_result_forwarded(const VIRTUAL_ALIAS_RESULT *);

#endif
