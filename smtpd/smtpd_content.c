/*
 * NAME
 *	smtpd_content - header_checks and body_checks while DATA streams in
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_content_init(void);
 *	int smtpd_content_headers_active(void);
 *	int smtpd_content_body_active(void);
 *
 *	void smtpd_content_begin(SMTPD_CONTENT *sc, SMTPD_STATE *state);
 *	int smtpd_content_check(SMTPD_CONTENT *sc, int what, const char *text,
 *				VSTRING *out);
 *	void smtpd_content_end(SMTPD_CONTENT *sc);
 *	int smtpd_content_filter(SMTPD_STATE *state, const char *value);
 * DESCRIPTION
 *	Postfix's cleanup applies header_checks and body_checks; here
 *	there is no cleanup, so smtpd applies them while it writes the
 *	queue file (smtpd_data.c), with the table actions of hbc(3).
 *	smtpd_content_init() opens the tables once per process (before the
 *	chroot), unless receive_override_options says no_header_body_checks;
 *	the _active() functions say whether a table list is in use, so DATA
 *	pays nothing when none is.
 *
 *	smtpd_content_filter() records a FILTER action ("transport:nexthop",
 *	the transport not empty) of header_checks, body_checks (hbc->filter,
 *	taken at the end of data) or an access table: the queue file gets
 *	it instead of content_filter (queue_writer_filter()). It returns -1,
 *	changing nothing, for a value without a transport.
 *
 *	Every logged action writes Postfix's cleanup line, "QID: reject:
 *	header Subject: x from name[addr]; from=<s> to=<r> proto=ESMTP
 *	helo=<h>: 5.7.1 text" (r: the last accepted recipient, as cleanup
 *	saw it; warning, info, hold, discard, strip, filter, prepend,
 *	replace likewise; ": text" only when there is text). The header or line is
 *	shown up to 200 bytes and every non-printable byte in the log line
 *	as "?", as Postfix's logger does.
 *
 *	mime_header_checks and nested_header_checks are not applied (no
 *	MIME parsing here).
 * SEE ALSO
 *	hbc(3), header_checks(5), smtpd_data(3)
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/info_log_addr.h"
#include "smtpd.h"

#define CONTENT_LOG_LEN	200		/* bytes of the header or line logged */

static HBC_MAPS *content_maps;

int     smtpd_content_filter(SMTPD_STATE *state, const char *value)
{
    const char *colon = strchr(value, ':');

    if (colon == 0 || colon == value || strpbrk(value, " \t") != 0)
	return (-1);
    myfree(state->filter);
    state->filter = mystrdup(value);
    return (0);
}

void    smtpd_content_init(void)
{
    /* receive_override_options = no_header_body_checks: no tables. */
    if (var_input_transp & INPUT_TRANSP_HEADER_BODY)
	return;
    content_maps = hbc_maps_create(VAR_HEADER_CHECKS, VAR_BODY_CHECKS, 0);
}

int     smtpd_content_headers_active(void)
{
    return (hbc_maps_active(content_maps, HBC_HEADER));
}

int     smtpd_content_body_active(void)
{
    return (hbc_maps_active(content_maps, HBC_BODY));
}

static void content_log(void *, const char *, const char *, const char *, const char *);

void    smtpd_content_begin(SMTPD_CONTENT *sc, SMTPD_STATE *state)
{
    hbc_begin(sc, content_maps, state->queue_id, content_log, state);
}

void    smtpd_content_end(SMTPD_CONTENT *sc)
{
    hbc_end(sc);
}

/* content_log - Postfix's "QID: action: header TEXT from ..." line */
static void content_log(void *context, const char *action, const char *where,
			        const char *text, const char *extra)
{
    SMTPD_STATE *state = context;
    VSTRING *buf = vstring_alloc(300);
    VSTRING *addr = vstring_alloc(100);
    char   *cp;

    vstring_sprintf(buf, "%s: %s: %s %.*s from %s;", state->queue_id, action,
		    where, CONTENT_LOG_LEN, text, state->namaddr);
    vstring_sprintf_append(buf, " from=<%s>", info_log_addr(addr, state->sender));
    if (state->last_rcpt)
	vstring_sprintf_append(buf, " to=<%s>", info_log_addr(addr, state->last_rcpt));
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
	vstring_sprintf_append(buf, " helo=<%s>", state->helo_name);
    if (extra && *extra)
	vstring_sprintf_append(buf, ": %s", extra);
    for (cp = vstring_str(buf); *cp; cp++)
	if (!isprint((unsigned char) *cp))
	    *cp = '?';
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
    vstring_free(addr);
}

int     smtpd_content_check(SMTPD_CONTENT *sc, int what, const char *text, VSTRING *out)
{
    return (hbc_check(sc, what, text, out));
}
