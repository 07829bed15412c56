/*
 * NAME
 *	header_addr - the addresses in a message header, found and rewritten
 * SYNOPSIS
 *	#include "global/header_addr.h"
 *
 *	int header_addr_class(const char *name, size_t len);
 *
 *	typedef int (*HEADER_ADDR_FN) (const char *addr, VSTRING *result,
 *				       void *context);
 *	int header_addr_rewrite(const char *value, HEADER_ADDR_FN fn,
 *				void *context, VSTRING *out);
 * DESCRIPTION
 *	header_addr_class() tells which addresses a header holds, by its
 *	name (case-insensitive, without the colon), as Postfix's cleanup
 *	rewrites them (checked against Postfix 3.7 with canonical maps):
 *	HEADER_ADDR_SENDER for From, Sender, Reply-To, Errors-To,
 *	Return-Receipt-To, Disposition-Notification-To, Resent-From,
 *	Resent-Sender and Mail-Followup-To; HEADER_ADDR_RECIPIENT for To,
 *	Cc, Bcc, Apparently-To, Resent-To, Resent-Cc, Resent-Bcc and
 *	Resent-Reply-To; 0 for every other header (Delivered-To,
 *	X-Original-To and Mail-Reply-To included).
 *
 *	header_addr_rewrite() reads value, the text after "Name:" of an
 *	address header (RFC 5322 address lists: display names, quoted
 *	strings, nested comments, angle addresses with or without a source
 *	route, groups "name: a, b;", domain literals, folded lines), and
 *	calls fn once per address, in internal form (quotes removed; see
 *	mail_addr(3)); an empty address ("<>") and a display name without
 *	an address are skipped. When fn returns 1, result holds the new
 *	address in internal form, and it replaces the old one, quoted as
 *	needed; everything else in the header (names, comments, folding)
 *	stays as it was. When fn returns -1 the search stops and so does
 *	header_addr_rewrite() (a table lookup failed: the caller defers).
 *
 *	The result is the number of addresses replaced (out then holds the
 *	new value) or -1; with 0, out is not changed.
 * DIAGNOSTICS
 *	None: text that is not an address list is left alone.
 * SEE ALSO
 *	addr_rewrite(3), the rewriting that calls this for smtpd and smtp
 */
#ifndef HEADER_ADDR_H
#define HEADER_ADDR_H
#include <stddef.h>
#include "util/vstring.h"

#define HEADER_ADDR_SENDER	1
#define HEADER_ADDR_RECIPIENT	2

typedef int (*HEADER_ADDR_FN) (const char *, VSTRING *, void *);

extern int header_addr_class(const char *, size_t);
extern int header_addr_rewrite(const char *, HEADER_ADDR_FN, void *, VSTRING *);

#endif
