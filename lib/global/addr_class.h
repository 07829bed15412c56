/*
 * NAME
 *	addr_class - Postfix's address classes: which class a domain is in
 * SYNOPSIS
 *	#include "global/addr_class.h"
 *
 *	void addr_class_init(void);
 *	void addr_class_reset(void);
 *
 *	int addr_class_domain(const char *domain, ADDR_CLASS_INFO *info);
 *	int addr_class_addr(const char *addr, ADDR_CLASS_INFO *info);
 *	int addr_class_listed(int class, const char *domain);
 *	int addr_class_bare_user(const char *domain);
 *	int addr_class_interface(const char *addr);
 *	int addr_class_own_addr(const char *addr);
 *	const char *addr_class_name(int class);
 *	const char *addr_class_rcpt_param(int class);
 * DESCRIPTION
 *	The one answer to "what class is this address", as Postfix's
 *	ADDRESS_CLASS_README defines the classes. In order of precedence:
 *
 *	ADDR_CLASS_LOCAL	the domain is in mydestination, or is an
 *				address literal ([192.0.2.1],
 *				[IPv6:2001:db8::1]) of this host: an address
 *				of inet_interfaces ("all": every interface
 *				address; "loopback-only": 127.0.0.1 and ::1;
 *				host names resolved at init) or of
 *				proxy_interfaces, of a family that
 *				inet_protocols enables. Recipient table:
 *				local_recipient_maps.
 *	ADDR_CLASS_ALIAS	virtual_alias_domains. Recipient table:
 *				virtual_alias_maps.
 *	ADDR_CLASS_RELAY	relay_domains. Recipient table:
 *				relay_recipient_maps.
 *	ADDR_CLASS_DEFAULT	everything else. No recipient table.
 *
 *	A domain in two lists belongs to the first class, and the
 *	overlaps Postfix warns about are logged as it does them:
 *	"do not list domain D in BOTH mydestination and
 *	virtual_alias_domains", "... in BOTH virtual_alias_domains and
 *	relay_domains".
 *
 *	The virtual mailbox class (virtual_mailbox_domains) is not one of
 *	ours: this system has no virtual(8) delivery agent, so the
 *	parameter is not in the table (master logs "unused parameter"
 *	when main.cf sets it) and its domains are in whatever class the
 *	lists above give them, usually the default class: smtpd refuses
 *	them as relaying ("554 5.7.1 <u@d>: Relay access denied", where
 *	Postfix answers 250) instead of accepting mail that would have
 *	nowhere to go.
 *
 *	The lists are parsed, their tables opened and the interface
 *	addresses found once per process, by addr_class_init() (call it
 *	before a chroot; every other function calls it when nobody did);
 *	daemons exit and restart on a reload. addr_class_reset() forgets
 *	all that, for tests that change main.cf.
 *
 *	addr_class_domain() decides the class of a domain (any case, one
 *	trailing dot ignored). When info is not NULL it receives the class,
 *	the parameter that decided it (VAR_MYDESTINATION,
 *	VAR_INET_INTERFACES, VAR_PROXY_INTERFACES,
 *	VAR_VIRTUAL_ALIAS_DOMAINS, VAR_RELAY_DOMAINS; NULL for the default
 *	class) and the class's recipient table parameter
 *	(addr_class_rcpt_param()). The last answer is remembered, so a
 *	caller may ask again for the same domain at no cost.
 *	addr_class_addr() does that for the domain of an address (after
 *	its last "@"; $myorigin when it has none).
 *
 *	addr_class_listed() says whether the list of one class names the
 *	domain, whatever the precedence.
 *
 *	addr_class_bare_user() is the "domain is local" step of the table
 *	lookup orders (mail_addr_find(3), virtual(5)): a bare "user" key
 *	stands for user@domain when the domain is $myorigin or in the local
 *	class. $myhostname alone does not count (Postfix: a virtual alias
 *	"bob" matches bob@$myorigin, not bob@$myhostname unless that is in
 *	mydestination). It asks only that question: a relay_domains that
 *	cannot be read does not fail it.
 *
 *	addr_class_interface() says whether a numeric address (a client's)
 *	is one of the inet_interfaces addresses (permit_inet_interfaces);
 *	proxy_interfaces does not count there, as in Postfix.
 *	addr_class_own_addr() counts both: an address that mail reaches us
 *	on (the smtp client's backup MX rule). An address that a local
 *	interface carries but inet_interfaces does not name is not ours:
 *	on a host with several addresses another server may listen there.
 *
 *	addr_class_name() names a class for messages ("local", "virtual
 *	alias", "relay", "default"). addr_class_rcpt_param() is the
 *	recipient table parameter of a class (VAR_LOCAL_RECIPIENT_MAPS,
 *	VAR_VIRTUAL_ALIAS_MAPS, VAR_RELAY_RECIPIENT_MAPS), NULL for the
 *	default class. Which tables a program checks is its business:
 *	smtpd checks relay_recipient_maps and virtual_alias_maps and, not
 *	yet, local_recipient_maps.
 * DIAGNOSTICS
 *	addr_class_domain() and addr_class_addr() return the class, or
 *	ADDR_CLASS_RETRY when a list needed for the answer could not be
 *	read (a table error, an unreadable /file/name, an interface host
 *	name that did not resolve at init): callers answer "451 4.3.0" or
 *	defer, never "not in the class". The other predicates return 1,
 *	0, or -1 for the same reasons. Each failure is logged as a
 *	warning in Postfix's words ("warning: mydestination:
 *	hash:/etc/postfix/x: table lookup problem").
 * SEE ALSO
 *	mail_list(3), match_list(3), resolve(3), mail_addr_find(3)
 */
#ifndef ADDR_CLASS_H
#define ADDR_CLASS_H

#define ADDR_CLASS_RETRY	(-1)	/* a list could not be read */
#define ADDR_CLASS_LOCAL	1	/* mydestination, our address literals */
#define ADDR_CLASS_ALIAS	2	/* virtual_alias_domains */
#define ADDR_CLASS_RELAY	3	/* relay_domains */
#define ADDR_CLASS_DEFAULT	4	/* everything else */

typedef struct ADDR_CLASS_INFO {
    int     class;			/* ADDR_CLASS_* */
    const char *domain_param;		/* the list that decided, or NULL */
    const char *rcpt_param;		/* the class's recipient table, or NULL */
} ADDR_CLASS_INFO;

extern void addr_class_init(void);
extern void addr_class_reset(void);
extern int addr_class_domain(const char *, ADDR_CLASS_INFO *);
extern int addr_class_addr(const char *, ADDR_CLASS_INFO *);
extern int addr_class_listed(int, const char *);
extern int addr_class_bare_user(const char *);
extern int addr_class_interface(const char *);
extern int addr_class_own_addr(const char *);
extern const char *addr_class_name(int);
extern const char *addr_class_rcpt_param(int);

#endif
