/*
 * NAME
 *	mail_header - message headers that the mail system writes or reads
 * SYNOPSIS
 *	#include "global/mail_header.h"
 *
 *	void mail_header_date(VSTRING *buf, time_t when);
 *	void mail_header_message_id(VSTRING *buf, time_t when,
 *				    const char *queue_id);
 *	void mail_header_received_smtp(VSTRING *buf,
 *				       const MAIL_HEADER_CLIENT *client,
 *				       const char *queue_id, const char *rcpt,
 *				       time_t when);
 *	void mail_header_received_local(VSTRING *buf, long uid,
 *					const char *queue_id, time_t when);
 *	void mail_header_from(VSTRING *buf, const char *full_name,
 *			      const char *addr);
 *
 *	size_t mail_header_name_len(const char *line, size_t len);
 *	int mail_header_is(const char *line, size_t len, const char *name);
 *	int mail_header_addrs(const char *value, ARGV *addrs);
 * DESCRIPTION
 *	What smtpd and pickup add to a message, in Postfix's words, and
 *	what sendmail and pickup need to read headers. Nothing here reads
 *	a message or writes a queue file.
 *
 *	mail_header_date() stores the value of a Date: header for the
 *	given time, in local time: "Mon,  7 Dec 2026 14:08:14 +0000 (UTC)"
 *	(Postfix's layout: day of month padded with a space, the zone as
 *	a number and as a name). Received: headers end with the same text.
 *
 *	mail_header_message_id() stores "<YYYYMMDDhhmmss.QUEUEID@myhostname>"
 *	(UTC time stamp), the Message-Id Postfix gives mail without one.
 *
 *	mail_header_received_smtp() stores the Received: header of mail
 *	that came in over SMTP, its lines ended by CRLF:
 *
 *	    Received: from HELO (NAME [ADDR])
 *		by MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID
 *		for <RCPT>; DATE
 *
 *	(helo is the client name when the client sent none; without a
 *	single recipient the "for" clause is left out and the date moves
 *	to its own line after "id QUEUEID;"; without a queue ID, for a
 *	before-queue filter, there is no "id QUEUEID"). client->comment,
 *	when not NULL, is written as it is between the "from" and "by"
 *	lines (smtpd: "\t(Authenticated sender: U)\r\n").
 *
 *	mail_header_received_local() stores the Received: header of
 *	locally submitted mail (sendmail, postdrop, pickup), lines ended
 *	by CRLF:
 *
 *	    Received: by MYHOSTNAME (MAIL_NAME, from userid UID)
 *		id QUEUEID; DATE
 *
 *	mail_header_from() stores the value of a From: header for a
 *	sender without one: "Full Name <addr>", the name quoted when it
 *	holds RFC 5322 specials, or just "addr" without a name.
 *
 *	mail_header_name_len() returns the length of the name of a
 *	header line ("Subject: x" gives 7; white space before the colon
 *	is allowed and not counted), or 0 when the line is not a header.
 *	mail_header_is() tells whether a header line has the given name
 *	(ASCII case-insensitive).
 *
 *	mail_header_addrs() reads an RFC 5322 address list (the value of
 *	To:, Cc:, Bcc: and their Resent- forms, or a sendmail command-line
 *	argument) with header_addr(3): mailboxes separated by commas,
 *	"Name <addr>", groups ("list: a@x, b@y;"), comments and quoted
 *	strings. Each address is added to addrs in internal form (quotes
 *	removed). It returns the number of addresses added; "<>", a name
 *	without an address and an empty group add none.
 * DIAGNOSTICS
 *	None; malformed text gives what can be made of it, as Postfix's
 *	address parser does, never a crash or a read past the input.
 * SEE ALSO
 *	header_addr(3), RFC 5322 sections 3.3, 3.4 and 3.6
 */
#ifndef MAIL_HEADER_H
#define MAIL_HEADER_H
#include <stddef.h>
#include <time.h>
#include "util/argv.h"
#include "util/vstring.h"

typedef struct MAIL_HEADER_CLIENT {
    const char *helo;			/* HELO/EHLO name, or NULL */
    const char *name;			/* verified name or "unknown" */
    const char *addr;			/* address as in RFC 5321 literals */
    const char *protocol;		/* SMTP, ESMTP, ESMTPS ... */
    const char *comment;		/* lines after "from", or NULL */
} MAIL_HEADER_CLIENT;

extern void mail_header_date(VSTRING *, time_t);
extern void mail_header_message_id(VSTRING *, time_t, const char *);
extern void mail_header_received_smtp(VSTRING *, const MAIL_HEADER_CLIENT *,
				              const char *, const char *, time_t);
extern void mail_header_received_local(VSTRING *, long, const char *, time_t);
extern void mail_header_from(VSTRING *, const char *, const char *);
extern size_t mail_header_name_len(const char *, size_t);
extern int mail_header_is(const char *, size_t, const char *);
extern int mail_header_addrs(const char *, ARGV *);

#endif
