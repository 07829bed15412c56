/*
 * NAME
 *	hbc - header_checks and body_checks: the table actions
 * SYNOPSIS
 *	#include "global/hbc.h"
 *
 *	HBC_MAPS *hbc_maps_create(const char *header_param, const char *body_param,
 *				  int flags);
 *	int hbc_maps_active(HBC_MAPS *maps, int what);
 *
 *	void hbc_begin(HBC *hbc, HBC_MAPS *maps, const char *queue_id,
 *		       HBC_LOG_FN log, void *context);
 *	int hbc_check(HBC *hbc, int what, const char *text, VSTRING *out);
 *	void hbc_end(HBC *hbc);
 * DESCRIPTION
 *	The actions of header_checks(5), shared by smtpd (header_checks,
 *	body_checks, which Postfix's cleanup applies) and the smtp client
 *	(smtp_header_checks, smtp_body_checks). hbc_maps_create() opens
 *	the tables that the two parameters name, once per process, before
 *	the chroot; with HBC_FLAG_SMTP only the actions that Postfix allows
 *	in the smtp client are carried out. hbc_maps_active() says whether a
 *	table list is set for HBC_HEADER or HBC_BODY, so a message pays
 *	nothing when none is.
 *
 *	hbc_check() looks up one primary header (what = HBC_HEADER: the
 *	header with its continuation lines, line breaks as "\n" without CR,
 *	as Postfix presents it) or one body line (HBC_BODY: without its
 *	line end) and carries out the action:
 *
 *	REJECT [text]	refused at the end of data: hbc->reply is
 *			"550 5.7.1 text" ("451" when text starts with a
 *			4.X.Y status; default text "message content
 *			rejected"). No further checks.
 *	DISCARD [text]	hbc->discard; no further checks.
 *	HOLD [text]	hbc->hold.
 *	WARN [text], INFO text	a log line only.
 *	IGNORE		the header or line is dropped.
 *	STRIP [text]	dropped, with a log line.
 *	PREPEND text	text is written before the header or line.
 *	REPLACE text	text is written instead of the header or line.
 *	DUNNO, OK	nothing.
 *
 *	FILTER transport:nexthop  hbc->filter (NULL when none; the last
 *			FILTER wins): the receiving program records it as the
 *			message's content filter. A value without a transport
 *			is warned about and ignored.
 *
 *	With HBC_FLAG_SMTP, REJECT, DISCARD, HOLD, REDIRECT, FILTER, BCC and
 *	PASS log Postfix's "warning: unsupported command in
 *	smtp_header_checks map: REJECT text" and count as DUNNO. Without
 *	it, REDIRECT and BCC are not supported either, and say so.
 *
 *	Every logged action calls log(context, action, where, text, extra)
 *	with action "reject", "discard", "hold", "warning", "info", "strip",
 *	"filter", "prepend" or "replace", where "header" or "body", text the header
 *	or line, extra the action's text (maybe empty); the caller writes
 *	the line in its program's form.
 *
 *	The return value tells the caller what to write: HBC_KEEP (the
 *	original), HBC_DROP (nothing), HBC_PREPEND (out, then the original)
 *	or HBC_REPLACE (out instead). After REJECT or DISCARD, and after a
 *	table lookup error, every call returns HBC_KEEP without a lookup.
 * DIAGNOSTICS
 *	A table that cannot be searched: "QID: header_checks map lookup
 *	problem -- message not accepted, try again later" (Postfix's words)
 *	and hbc->reply "451 4.3.0 Error: queue file write error";
 *	hbc->error is set. Unknown actions ("unknown command in
 *	header_checks map: FOOBAR x") and PREPEND or REPLACE without text
 *	are warned about in Postfix's words and ignored.
 * SEE ALSO
 *	header_checks(5)
 */
#ifndef HBC_H
#define HBC_H
#include "util/vstring.h"
#include "dict/maps.h"

#define HBC_HEADER	1
#define HBC_BODY	2

#define HBC_KEEP	0		/* write the original */
#define HBC_DROP	1		/* write nothing */
#define HBC_PREPEND	2		/* write out, then the original */
#define HBC_REPLACE	3		/* write out instead */

#define HBC_FLAG_SMTP	(1<<0)		/* the smtp client's restricted set */

typedef struct HBC_MAPS {
    MAPS   *header;
    MAPS   *body;
    int     flags;
} HBC_MAPS;

typedef void (*HBC_LOG_FN) (void *, const char *, const char *, const char *,
			            const char *);

typedef struct HBC {
    HBC_MAPS *maps;
    const char *queue_id;
    HBC_LOG_FN log;
    void   *context;
    VSTRING *reply;			/* REJECT or lookup error, or "" */
    int     discard;			/* DISCARD */
    int     hold;			/* HOLD */
    VSTRING *filter;			/* FILTER transport:nexthop, or NULL */
    int     error;			/* a table lookup failed */
    int     done;			/* no more checks */
} HBC;

extern HBC_MAPS *hbc_maps_create(const char *, const char *, int);
extern int hbc_maps_active(HBC_MAPS *, int);
extern void hbc_begin(HBC *, HBC_MAPS *, const char *, HBC_LOG_FN, void *);
extern int hbc_check(HBC *, int, const char *, VSTRING *);
extern void hbc_end(HBC *);

#endif
