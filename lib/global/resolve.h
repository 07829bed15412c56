/*
 * NAME
 *	resolve - route a recipient to (transport, nexthop, recipient)
 * SYNOPSIS
 *	#include "resolve.h"
 *
 *	void resolve_init(void);
 *	void resolve_reset(void);
 *	RESOLVE_REPLY *resolve_reply_alloc(void);
 *	void resolve_reply_free(RESOLVE_REPLY *reply);
 *	int resolve_addr(const char *sender, const char *rcpt,
 *			 RESOLVE_REPLY *reply);
 *	int resolve_split_nexthop(const char *nexthop, VSTRING *host,
 *				  VSTRING *port, int *no_mx);
 *	int resolve_domain_match(const char *param, const char *domain);
 * DESCRIPTION
 *	resolve_addr() routes one recipient the way Postfix's
 *	trivial-rewrite does for off-host mail (DESIGN.md section 5):
 *
 *	First, while the domain is of the local class and the local part
 *	still routes (addr_canon_routed(): "@" with
 *	resolve_dequoted_address, "%" with allow_percent_hack, "!" with
 *	swap_bangpath), the local domain is dropped and the local part,
 *	in canonical form (addr_canon(3)), is the address: "u@other"@here,
 *	u%other@here and other!u@here all resolve as u@other. The reply's
 *	recipient is that final address (qmgr delivers to it; the queue
 *	file's address is the original recipient). "user@" resolves as
 *	$myhostname with resolve_null_domain = yes.
 *
 *	1. The address class, as addr_class(3) decides it: a domain in
 *	   relay_domains (a domain list; subdomains match when
 *	   relay_domains is named in parent_domain_matches_subdomains) is
 *	   the relay class and uses relay_transport; a domain of the
 *	   default class uses sender_dependent_default_transport_maps (by
 *	   sender, then @domain), else default_transport. A
 *	   "transport:nexthop" value there sets both. A domain of the local
 *	   class (mydestination, an address literal of this host) is
 *	   flagged RESOLVE_CLASS_LOCAL and goes to local_transport
 *	   ("local:$myhostname": transport local, nexthop $myhostname;
 *	   without a nexthop, the recipient domain), not to another host
 *	   under that name; transport_maps (step 3) may still route it.
 *	2. The nexthop, unless the class's transport value named one:
 *	   sender_dependent_relayhost_maps (DUNNO = no override), else
 *	   relayhost, else the recipient domain.
 *	3. transport_maps, in transport(5)'s order (user+ext@domain,
 *	   user@domain, domain, .parent..., *): "transport:nexthop" sets
 *	   both; "transport:" sets the transport and resets the nexthop to
 *	   the recipient domain; ":nexthop" keeps the transport; ":" keeps
 *	   both. The first ":" separates transport from nexthop, so
 *	   "smtp:[10.0.0.1]:2525" and "error:5.1.2 text" work as in
 *	   Postfix.
 *
 *	0. An address of a virtual_alias_domains domain (one that
 *	   smtpd's virtual aliasing left alone: it has no alias) is the
 *	   alias class: transport "error", nexthop "5.1.1 User unknown in
 *	   virtual alias table", as Postfix's resolver answers; it is not
 *	   subject to transport_maps.
 *	The reply holds the transport name ("smtp", "relay", "error",
 *	"retry", "lmtp"...), the nexthop as written ("example.com",
 *	"[host]:port", "inet:host:port", "unix:/path", or the text of an
 *	error:/retry: entry, empty for a bare "error:" as in Postfix), the
 *	recipient, and its class
 *	(RESOLVE_CLASS_RELAY or RESOLVE_CLASS_DEFAULT, with
 *	RESOLVE_CLASS_LOCAL for a local domain; RESOLVE_CLASS_ALIAS).
 *
 *	resolve_init() reads the parameters and opens the tables (again
 *	after resolve_reset(), for tests that change main.cf; that resets
 *	addr_class(3) too).
 *
 *	resolve_domain_match() matches a domain against a domain-list
 *	parameter such as fast_flush_domains with the same rules as
 *	relay_domains (the list is read once per parameter); it returns
 *	1, 0, or -1 for a table error.
 *
 *	resolve_split_nexthop() takes one nexthop "[host]:port",
 *	"host:port", "inet:host:port", "[ipv6]:port" or "host" apart;
 *	no_mx is set for the bracketed forms. It returns 0, or -1 for a
 *	malformed one (an unclosed bracket, an empty host).
 * DIAGNOSTICS
 *	resolve_addr() returns RESOLVE_OK, or RESOLVE_RETRY when a table
 *	could not be read (the caller defers the recipient with
 *	"4.3.0 ... lookup error"; reply->transport is empty). A table entry
 *	with an empty transport where one is needed is logged as a warning
 *	and ignored.
 * SEE ALSO
 *	transport(5), maps.h
 */
#ifndef RESOLVE_H
#define RESOLVE_H
#include "util/vstring.h"

typedef struct RESOLVE_REPLY {
    VSTRING *transport;
    VSTRING *nexthop;
    VSTRING *recipient;
    int     flags;
} RESOLVE_REPLY;

#define RESOLVE_CLASS_DEFAULT	(1<<0)
#define RESOLVE_CLASS_RELAY	(1<<1)
#define RESOLVE_FLAG_TABLE	(1<<2)	/* transport_maps decided */
#define RESOLVE_CLASS_ALIAS	(1<<3)	/* virtual_alias_domains */
#define RESOLVE_CLASS_LOCAL	(1<<4)	/* mydestination, our literals */

#define RESOLVE_OK	0
#define RESOLVE_RETRY	(-1)

extern void resolve_init(void);
extern void resolve_reset(void);
extern RESOLVE_REPLY *resolve_reply_alloc(void);
extern void resolve_reply_free(RESOLVE_REPLY *);
extern int resolve_addr(const char *, const char *, RESOLVE_REPLY *);
extern int resolve_split_nexthop(const char *, VSTRING *, VSTRING *, int *);
extern int resolve_domain_match(const char *, const char *);

#endif
