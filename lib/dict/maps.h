/*
 * NAME
 *	maps - a main.cf list of lookup tables, and Postfix's lookup orders
 * SYNOPSIS
 *	MAPS *maps_create(const char *param_name, const char *map_list, int dict_flags);
 *	const char *maps_find(MAPS *maps, const char *key, int flags);
 *	void maps_free(MAPS *maps);
 *	int maps->error;
 *
 *	const char *maps_find_transport(MAPS *maps, const char *addr, char **ext_key);
 *	const char *maps_find_addr(MAPS *maps, const char *addr, int strategy);
 *	const char *maps_find_sender(MAPS *maps, const char *sender);
 *	const char *maps_find_sasl(MAPS *maps, const char *sender, const char *host,
 *				   const char *nexthop);
 * DESCRIPTION
 *	maps_create() opens each "type:table" of a list such as
 *	"hash:/etc/postfix/transport, pcre:/etc/postfix/t.pcre".
 *	maps_find() asks each table in order; the first answer wins. A
 *	table error stops the search: NULL with maps->error = DICT_ERR_RETRY,
 *	and callers must not treat that as "not found". With MAPS_FIND_FIXED
 *	only fixed-key tables are asked (for partial keys such as "@domain"
 *	or ".parent"; pattern tables only see whole addresses).
 *
 *	The lookup-order helpers implement the orders of
 *	reference/postfix-facts.md section 4, with recipient_delimiter and
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
 *	maps_changed() is true when a table file changed since it was
 *	opened (see dict_changed()).
 */
#ifndef MAPS_H
#define MAPS_H
#include "dict/dict.h"
#include "util/argv.h"

typedef struct MAPS {
    char   *title;			/* parameter name, for messages */
    ARGV   *names;			/* "type:name" of each table */
    DICT  **dicts;
    int     error;			/* DICT_ERR_* of the last search */
} MAPS;

#define MAPS_FIND_FIXED	(1<<0)		/* ask only fixed-key tables */

#define MAPS_ADDR_FULL		(1<<0)	/* user+ext@domain */
#define MAPS_ADDR_NOEXT		(1<<1)	/* user@domain */
#define MAPS_ADDR_LOCALPART	(1<<2)	/* user, when domain is local */
#define MAPS_ADDR_AT_DOMAIN	(1<<3)	/* @domain */
#define MAPS_ADDR_DEFAULT \
    (MAPS_ADDR_FULL | MAPS_ADDR_NOEXT | MAPS_ADDR_LOCALPART | MAPS_ADDR_AT_DOMAIN)

extern MAPS *maps_create(const char *, const char *, int);
extern const char *maps_find(MAPS *, const char *, int);
extern void maps_free(MAPS *);
extern int maps_changed(MAPS *);
extern const char *maps_find_transport(MAPS *, const char *, char **);
extern const char *maps_find_addr(MAPS *, const char *, int);
extern const char *maps_find_sender(MAPS *, const char *);
extern const char *maps_find_sasl(MAPS *, const char *, const char *, const char *);

#endif
