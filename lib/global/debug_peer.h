/*
 * NAME
 *	debug_peer - more logging for the peers of debug_peer_list
 * SYNOPSIS
 *	#include "global/debug_peer.h"
 *
 *	void debug_peer_init(void);
 *	int debug_peer_check(const char *name, const char *addr);
 *	void debug_peer_restore(void);
 * DESCRIPTION
 *	debug_peer_init() reads debug_peer_list (a list of host names,
 *	domains, network/mask patterns, /file/name and type:table items;
 *	parent domains match as parent_domain_matches_subdomains says, by
 *	default they do) and debug_peer_level, once per process, before
 *	a chroot.
 *
 *	debug_peer_check() raises msg_verbose by debug_peer_level when
 *	name or addr (a remote client, a server, or a nexthop domain with
 *	addr empty or equal to it) matches the list, unless it is raised
 *	already; it returns 1 when the level is (now) raised.
 *	debug_peer_restore() puts the level back as it was before.
 *	A process raises it for one client session (smtpd) or one
 *	delivery (smtp, lmtp) and restores it after.
 * DIAGNOSTICS
 *	A list that cannot be searched (a table error) is logged as a
 *	warning and counts as no match.
 * SEE ALSO
 *	msg(3) msg_verbose, postconf(5) debug_peer_list
 */
#ifndef DEBUG_PEER_H
#define DEBUG_PEER_H

extern void debug_peer_init(void);
extern int debug_peer_check(const char *, const char *);
extern void debug_peer_restore(void);

#endif
