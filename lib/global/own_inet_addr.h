/*
 * NAME
 *	own_inet_addr - the addresses this mail system receives mail on
 * SYNOPSIS
 *	#include "global/own_inet_addr.h"
 *
 *	int own_inet_addr(int family, const void *addr);
 *	int own_inet_addr_text(const char *text);
 * DESCRIPTION
 *	own_inet_addr() tells whether addr (4 bytes for AF_INET, 16 for
 *	AF_INET6) is one of this mail system's own addresses, as Postfix
 *	defines them: the addresses of inet_interfaces ("all" means every
 *	address of every local interface, "loopback-only" 127.0.0.1 and
 *	::1, other items are addresses or host names) and of
 *	proxy_interfaces (addresses that reach us through a proxy or NAT).
 *	An address that a local interface carries but inet_interfaces does
 *	not name is not ours: on a host with several addresses, another
 *	mail server may listen there. An IPv4-mapped IPv6 address is
 *	compared as IPv4.
 *
 *	own_inet_addr_text() is the same for an address in text form
 *	("192.0.2.1", "2001:db8::1"); 0 for anything that is not one.
 *
 *	The lists are read once per process (daemons restart on reload).
 * DIAGNOSTICS
 *	A name in the lists that does not resolve is skipped with a
 *	warning, once.
 * SEE ALSO
 *	smtp(8) (the backup MX rule), resolve(3) (domain literals)
 */
#ifndef OWN_INET_ADDR_H
#define OWN_INET_ADDR_H

extern int own_inet_addr(int, const void *);
extern int own_inet_addr_text(const char *);

#endif
