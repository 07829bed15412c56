/*
 * NAME
 *	mail_addr_find - Postfix's lookup orders for addresses in tables
 * SYNOPSIS
 *	#include "global/mail_addr_find.h"
 *
 *	const char *maps_find_transport(MAPS *maps, const char *addr, char **ext_key);
 *	const char *maps_find_addr(MAPS *maps, const char *addr, int strategy);
 *	const char *maps_find_addr_key(MAPS *maps, const char *addr, int strategy,
 *				       VSTRING *matched);
 *	const char *maps_find_sender(MAPS *maps, const char *sender);
 *	const char *maps_find_sasl(MAPS *maps, const char *sender, const char *host,
 *				   const char *nexthop);
 * DESCRIPTION
 *	The orders of reference/postfix-facts.md section 4, on top of the
 *	plain table lists of dict/maps.h, with recipient_delimiter and
 *	parent_domain_matches_subdomains read from main.cf:
 *	transport_maps (user+ext@domain, user@domain, domain, .parent..., *),
 *	the smtpd recipient checks (relay_recipient_maps, virtual_alias_maps:
 *	user+ext@domain, user@domain, [user if local], @domain),
 *	sender_dependent_relayhost_maps (sender, @domain), and
 *	smtp_sasl_password_maps (sender, @domain when sender-dependent, that
 *	is, when the caller passes a sender (NULL or "" otherwise); then
 *	host / [host]:port as written in the nexthop, then the domain).
 *	maps_find_transport() stores a copy of the key that matched in
 *	*ext_key when ext_key is not NULL (myfree it; NULL when nothing
 *	matched), so callers can tell a "*" or ".parent" match apart.
 *	maps_find_sender() returns NULL (error 0) for a DUNNO result.
 *	maps_find_addr_key() is maps_find_addr() that also stores the key
 *	that matched in matched (empty when nothing matched), so that a
 *	caller can tell whether an address extension was part of it.
 * DIAGNOSTICS
 *	A table error stops the search: NULL with maps->error set.
 * SEE ALSO
 *	maps(3), the table lists these search
 */
#ifndef MAIL_ADDR_FIND_H
#define MAIL_ADDR_FIND_H
#include "dict/maps.h"
#include "util/vstring.h"

#define MAPS_ADDR_FULL		(1<<0)	/* user+ext@domain */
#define MAPS_ADDR_NOEXT		(1<<1)	/* user@domain */
#define MAPS_ADDR_LOCALPART	(1<<2)	/* user, when domain is local */
#define MAPS_ADDR_AT_DOMAIN	(1<<3)	/* @domain */
#define MAPS_ADDR_DEFAULT \
    (MAPS_ADDR_FULL | MAPS_ADDR_NOEXT | MAPS_ADDR_LOCALPART | MAPS_ADDR_AT_DOMAIN)

extern const char *maps_find_transport(MAPS *, const char *, char **);
extern const char *maps_find_addr(MAPS *, const char *, int);
extern const char *maps_find_addr_key(MAPS *, const char *, int, VSTRING *);
extern const char *maps_find_sender(MAPS *, const char *);
extern const char *maps_find_sasl(MAPS *, const char *, const char *, const char *);

#endif
