/*
 * NAME
 *	milter - the MTA side of the Sendmail milter protocol
 * SYNOPSIS
 *	#include "global/milter.h"
 *
 *	MILTERS *milter_create(const char *param_name);
 *	void milter_macro_callback(MILTERS *ms, MILTER_MACRO_FN fn, void *ctx);
 *	void milter_free(MILTERS *ms);
 *
 *	int milter_conn_event(MILTERS *ms, const char *name, const char *addr,
 *			      const char *port, int family);
 *	int milter_helo_event(MILTERS *ms, const char *helo);
 *	int milter_mail_event(MILTERS *ms, const char **args);
 *	int milter_rcpt_event(MILTERS *ms, const char **args);
 *	int milter_data_event(MILTERS *ms);
 *	int milter_unknown_event(MILTERS *ms, const char *command);
 *	int milter_message(MILTERS *ms, VSTREAM *fp, off_t offset, off_t size,
 *			   int hidden, MILTER_APPLY_FN apply, void *ctx);
 *	void milter_abort(MILTERS *ms);
 *	void milter_disc_event(MILTERS *ms);
 *	const char *milter_reply(MILTERS *ms);
 * DESCRIPTION
 *	The Sendmail milter protocol as Postfix speaks it, for any program
 *	that receives mail (smtpd for smtpd_milters; pickup for
 *	non_smtpd_milters). A MILTERS is the list of filters of one
 *	parameter, in order; every event goes to each filter in turn
 *	until one of them says no.
 *
 *	milter_create() reads the list from the parameter param_name
 *	(VAR_SMTPD_MILTERS, VAR_NON_SMTPD_MILTERS) and the milter_*
 *	parameters: milter_protocol (2, 3, 4 or 6, optionally with
 *	no_header_reply), milter_default_action (accept, reject, tempfail,
 *	quarantine), milter_connect_timeout, milter_command_timeout,
 *	milter_content_timeout, milter_macro_daemon_name, milter_macro_v
 *	and the milter_*_macros lists. An entry is "inet:host:port",
 *	"unix:pathname" or "{ inet:host:port, name = value, ... }" with
 *	per-filter settings connect_timeout, command_timeout,
 *	content_timeout, default_action and protocol. NULL when the list is
 *	empty. A bad entry is fatal (bad configuration).
 *
 *	Filters are contacted at milter_conn_event() (one connection each,
 *	per SMTP session: connect, negotiate, send CONNECT). The macros
 *	each stage sends are the filter's own list when it asked for one
 *	(SETSYMLIST, protocol 6), else the parameter's; their values come
 *	from the caller's macro callback (NULL: not sent), except j, v and
 *	{daemon_name}, which this module knows.
 *
 *	Each event returns MILTER_CONTINUE, MILTER_REJECT (the reply is in
 *	milter_reply(): "550 5.7.1 Command rejected", "451 4.7.1 Service
 *	unavailable - try again later" or the filter's own SMFIR_REPLYCODE
 *	text, possibly several lines joined by CRLF), MILTER_DISCARD,
 *	MILTER_HOLD (quarantine; the reason in milter_reply(), "" for the
 *	default action) or MILTER_SHUTDOWN ("421 4.7.0 Server closing
 *	connection"). A filter that accepts the connection (or the
 *	message) gets no more events for it (or until milter_abort()); a
 *	filter that cannot be reached, times out or breaks the protocol is
 *	closed and logged ("warning: connect to Milter service NAME:
 *	reason", "warning: milter NAME: ..."), and from then on its default
 *	action answers for it: accept skips it for the rest of the
 *	session.
 *
 *	milter_message() shows the message to each filter in turn: the
 *	message (CRLF lines) is size bytes at offset in fp; the first
 *	hidden headers (our own Received: and what goes above it) are not
 *	shown, as Postfix hides its own. The headers (name, value without
 *	the leading white space, folded lines joined by "\n"), end of
 *	headers, the body in chunks of up to 65535 bytes and end of message
 *	are sent; then the filter's requests are collected in a
 *	MILTER_EDITS. When a filter asked for changes, apply(ctx, edits,
 *	&fp, &offset, &size) must make them and point at the new message,
 *	which the next filter then sees (0 = done, -1 = failed: the result
 *	is then 451 4.3.0). Returns as the events do; a quarantine request
 *	of any filter makes the result MILTER_HOLD unless another says no.
 *
 *	milter_abort() ends the transaction (RSET, MAIL after a message,
 *	a refused DATA): filters that saw MAIL get ABORT.
 *	milter_disc_event() sends QUIT and closes every connection;
 *	milter_free() does that too and frees everything.
 * DIAGNOSTICS
 *	Warnings for unreachable or misbehaving filters; fatal for a bad
 *	list entry or a bad milter_* parameter.
 * SEE ALSO
 *	milter_edit(3), Postfix's MILTER_README, libmilter's documentation
 */
#ifndef MILTER_H
#define MILTER_H
#include <sys/types.h>
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/argv.h"

typedef struct MILTERS MILTERS;

#define MILTER_CONTINUE	0
#define MILTER_REJECT	1
#define MILTER_DISCARD	2
#define MILTER_HOLD	3
#define MILTER_SHUTDOWN	4

typedef const char *(*MILTER_MACRO_FN) (const char *, void *);

/* What a filter asked to change at the end of a message, in its order. */
#define MILTER_HDR_ADD		1	/* append */
#define MILTER_HDR_INSERT	2	/* insert at index (0 = the top) */
#define MILTER_HDR_CHANGE	3	/* index-th of name; "" deletes */

typedef struct MILTER_HDR_EDIT {
    int     op;
    long    index;
    char   *name;
    char   *value;			/* "\n" separates folded lines */
} MILTER_HDR_EDIT;

typedef struct MILTER_EDITS {
    MILTER_HDR_EDIT *hdr;
    size_t  hdr_count;
    size_t  hdr_cap;
    char   *sender;			/* CHGFROM address, or NULL */
    ARGV   *add_rcpt;			/* ADDRCPT, ADDRCPT_PAR addresses */
    ARGV   *del_rcpt;			/* DELRCPT addresses */
    VSTRING *body;			/* REPLBODY text, or NULL */
    int     hidden;			/* headers hidden from the filter */
} MILTER_EDITS;

typedef int (*MILTER_APPLY_FN) (void *, const MILTER_EDITS *, VSTREAM **, off_t *, off_t *);

extern MILTERS *milter_create(const char *);
extern void milter_macro_callback(MILTERS *, MILTER_MACRO_FN, void *);
extern void milter_free(MILTERS *);
extern int milter_conn_event(MILTERS *, const char *, const char *, const char *, int);
extern int milter_helo_event(MILTERS *, const char *);
extern int milter_mail_event(MILTERS *, const char **);
extern int milter_rcpt_event(MILTERS *, const char **);
extern int milter_data_event(MILTERS *);
extern int milter_unknown_event(MILTERS *, const char *);
extern int milter_message(MILTERS *, VSTREAM *, off_t, off_t, int, MILTER_APPLY_FN, void *);
extern void milter_abort(MILTERS *);
extern void milter_disc_event(MILTERS *);
extern const char *milter_reply(MILTERS *);

#endif
