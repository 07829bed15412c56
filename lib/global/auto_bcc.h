/*
 * NAME
 *	auto_bcc - automatic BCC recipients (always_bcc, sender_bcc_maps,
 *	recipient_bcc_maps)
 * SYNOPSIS
 *	#include "global/auto_bcc.h"
 *
 *	AUTO_BCC *auto_bcc_create(void);
 *	void auto_bcc_free(AUTO_BCC *ab);
 *
 *	int auto_bcc_sender(AUTO_BCC *ab, const char *sender, VSTRING *bcc);
 *	int auto_bcc_rcpt(AUTO_BCC *ab, const char *rcpt, VSTRING *bcc);
 *	const char *auto_bcc_always(AUTO_BCC *ab);
 *
 *	int auto_bcc_write(QUEUE_WRITER *qw, VIRTUAL_ALIAS *va,
 *			   VIRTUAL_ALIAS_RESULT *seen, const char *canon);
 * DESCRIPTION
 *	The BCC recipients that Postfix's cleanup adds to a message, for
 *	every program that writes queue files in its place (smtpd, pickup).
 *	auto_bcc_create() opens sender_bcc_maps and recipient_bcc_maps and
 *	reads always_bcc, once per process, before the chroot.
 *
 *	auto_bcc_sender() looks up the sender (as rewritten by
 *	canonical(5) and masquerading; never the null sender) in
 *	sender_bcc_maps, auto_bcc_rcpt() a recipient (as rewritten, before
 *	virtual aliasing) in recipient_bcc_maps, with the lookup order of
 *	mail_addr_find(3). A table gives one address: the first, when it
 *	lists more (Postfix does not split a list). The result, in
 *	internal form, is in bcc ("" when none); the return value is 0, or
 *	-1 after a table error (the caller defers the message).
 *	auto_bcc_always() is always_bcc, "" when not set.
 *
 *	auto_bcc_write() adds one BCC address to the message that qw is
 *	writing, after the caller has rewritten it as a recipient (canon,
 *	addr_rewrite(3)): it goes through virtual_alias_maps and each target
 *	is written with canon as its original recipient and DSN
 *	NOTIFY=NEVER, so the sender never hears of it, unless seen (the
 *	pairs the message already holds) has the pair: a BCC address is
 *	added once per message. It returns AUTO_BCC_OK, AUTO_BCC_RETRY
 *	after an alias table error or limit (logged as virtual_alias(3)
 *	does; the caller defers the message) or AUTO_BCC_WRITE after a
 *	queue file write error. An empty canon writes nothing.
 *
 *	receive_override_options = no_address_mappings turns automatic BCC
 *	off; that is the caller's to check.
 * SEE ALSO
 *	addr_rewrite(3), virtual_alias(3), mail_addr_find(3)
 */
#ifndef AUTO_BCC_H
#define AUTO_BCC_H
#include "util/vstring.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"

typedef struct AUTO_BCC AUTO_BCC;

#define AUTO_BCC_OK	0
#define AUTO_BCC_RETRY	(-1)
#define AUTO_BCC_WRITE	(-2)

extern AUTO_BCC *auto_bcc_create(void);
extern void auto_bcc_free(AUTO_BCC *);
extern int auto_bcc_sender(AUTO_BCC *, const char *, VSTRING *);
extern int auto_bcc_rcpt(AUTO_BCC *, const char *, VSTRING *);
extern const char *auto_bcc_always(AUTO_BCC *);
extern int auto_bcc_write(QUEUE_WRITER *, VIRTUAL_ALIAS *, VIRTUAL_ALIAS_RESULT *,
			          const char *);

#endif
