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
 * DESCRIPTION
 *	Postfix's cleanup applies header_checks and body_checks; here
 *	there is no cleanup, so smtpd applies them while it writes the
 *	queue file (smtpd_data.c). smtpd_content_init() opens the tables
 *	once per process (before the chroot); the _active() functions say
 *	whether a table list is set, so DATA pays nothing when none is.
 *
 *	smtpd_content_check() looks up one primary header (what =
 *	SMTPD_CONTENT_HEADER: the header with its continuation lines, the
 *	line breaks as "\n" without CR, as Postfix's cleanup presents it)
 *	or one body line (SMTPD_CONTENT_BODY: without its line end) and
 *	carries out the action of header_checks(5):
 *
 *	REJECT [text]	the message is refused at the end of DATA with
 *			"550 5.7.1 text" ("451" when text starts with a
 *			4.X.Y status); the default text is "message content
 *			rejected". No further checks.
 *	DISCARD [text]	"250 2.0.0 Ok: queued as QID", but the queue file
 *			is removed. No further checks.
 *	HOLD [text]	the message goes to the hold queue.
 *	WARN [text], INFO text	a log line only.
 *	IGNORE		the header or line is dropped.
 *	PREPEND text	text is written before the header or line.
 *	REPLACE text	text is written instead of the header or line.
 *	DUNNO, OK	nothing.
 *
 *	Every action except IGNORE, DUNNO and OK logs Postfix's line,
 *	"QID: reject: header Subject: x from name[addr]; from=<s> to=<r>
 *	proto=ESMTP helo=<h>: 5.7.1 text" (r: the last accepted recipient,
 *	as cleanup saw it; warning, info, hold, discard,
 *	prepend, replace likewise; ": text" only when there is text). The
 *	header or line is shown up to 200 bytes and every non-printable
 *	byte in the log line as "?", as Postfix's logger does.
 *
 *	The return value tells the caller what to write:
 *	SMTPD_CONTENT_KEEP (the original), SMTPD_CONTENT_DROP (nothing),
 *	SMTPD_CONTENT_PREPEND (out, then the original) or
 *	SMTPD_CONTENT_REPLACE (out instead). After REJECT or DISCARD, and
 *	after a table lookup error, every call returns KEEP without a
 *	lookup, as cleanup stops filtering.
 *
 *	The outcome is in the SMTPD_CONTENT: reply is the REJECT reply or
 *	"451 4.3.0 Error: queue file write error" after a lookup error
 *	("" when neither), discard and hold are flags.
 * DIAGNOSTICS
 *	A table that cannot be searched: "QID: header_checks map lookup
 *	problem -- message not accepted, try again later" (Postfix's
 *	words); the client is told to try again.
 *
 *	REDIRECT, FILTER and BCC are not supported: a warning is logged
 *	and the action is treated as DUNNO. Other unknown actions ("unknown
 *	command in header_checks map: FOOBAR x") and PREPEND or REPLACE
 *	without text ("PREPEND action without text in header_checks map")
 *	are warned about in Postfix's words and ignored.
 *	mime_header_checks and nested_header_checks are not applied (no
 *	MIME parsing here).
 * SEE ALSO
 *	header_checks(5), smtpd_data(3)
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/info_log_addr.h"
#include "smtpd.h"

#define CONTENT_LOG_LEN	200		/* bytes of the header or line logged */

static MAPS *header_maps;
static MAPS *body_maps;

void    smtpd_content_init(void)
{
    const char *names;

    if (*(names = mail_conf_str(VAR_HEADER_CHECKS)) != 0)
	header_maps = maps_create(VAR_HEADER_CHECKS, names, DICT_FLAG_DEFAULT);
    if (*(names = mail_conf_str(VAR_BODY_CHECKS)) != 0)
	body_maps = maps_create(VAR_BODY_CHECKS, names, DICT_FLAG_DEFAULT);
}

int     smtpd_content_headers_active(void)
{
    return (header_maps != 0);
}

int     smtpd_content_body_active(void)
{
    return (body_maps != 0);
}

void    smtpd_content_begin(SMTPD_CONTENT *sc, SMTPD_STATE *state)
{
    memset(sc, 0, sizeof(*sc));
    sc->state = state;
    sc->reply = vstring_alloc(100);
}

void    smtpd_content_end(SMTPD_CONTENT *sc)
{
    vstring_free(sc->reply);
    sc->reply = 0;
}

/* content_log - Postfix's "QID: action: header TEXT from ..." line */
static void content_log(SMTPD_CONTENT *sc, const char *action, int what,
			        const char *text, const char *extra)
{
    SMTPD_STATE *state = sc->state;
    VSTRING *buf = vstring_alloc(300);
    VSTRING *addr = vstring_alloc(100);
    char   *cp;

    vstring_sprintf(buf, "%s: %s: %s %.*s from %s;", state->queue_id, action,
		    what == SMTPD_CONTENT_HEADER ? "header" : "body",
		    CONTENT_LOG_LEN, text, state->namaddr);
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

/* content_reject - the REJECT reply: optional X.Y.Z status, then text */
static void content_reject(SMTPD_CONTENT *sc, const char *text)
{
    const char *cp = text;
    size_t  dsn_len;

    /* A status is [45].digits.digits followed by white space or the end. */
    if ((*cp == '4' || *cp == '5') && cp[1] == '.' && isdigit((unsigned char) cp[2])) {
	cp += 2;
	while (isdigit((unsigned char) *cp))
	    cp++;
	if (*cp == '.' && isdigit((unsigned char) cp[1])) {
	    cp++;
	    while (isdigit((unsigned char) *cp))
		cp++;
	    if (*cp == 0 || *cp == ' ' || *cp == '\t') {
		dsn_len = cp - text;
		while (*cp == ' ' || *cp == '\t')
		    cp++;
		vstring_sprintf(sc->reply, "%s %.*s %s", *text == '4' ? "451" : "550",
				(int) dsn_len, text,
				*cp ? cp : "message content rejected");
		return;
	    }
	}
    }
    vstring_sprintf(sc->reply, "550 5.7.1 %s", *text ? text : "message content rejected");
}

int     smtpd_content_check(SMTPD_CONTENT *sc, int what, const char *text, VSTRING *out)
{
    MAPS   *maps = what == SMTPD_CONTENT_HEADER ? header_maps : body_maps;
    const char *value;
    const char *arg;
    size_t  cmd_len;

    if (maps == 0 || sc->done || *text == 0)
	return (SMTPD_CONTENT_KEEP);
    if ((value = maps_find(maps, text, 0)) == 0) {
	if (maps->error != 0) {
	    msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
		     sc->state->queue_id, maps->title);
	    vstring_strcpy(sc->reply, "451 4.3.0 Error: queue file write error");
	    sc->done = 1;
	}
	return (SMTPD_CONTENT_KEEP);
    }
    cmd_len = strcspn(value, " \t");
    for (arg = value + cmd_len; *arg == ' ' || *arg == '\t'; arg++)
	 /* void */ ;
#define IS_CMD(name) (cmd_len == sizeof(name) - 1 && strncasecmp(value, name, cmd_len) == 0)

    if (IS_CMD("REJECT")) {
	content_reject(sc, arg);
	content_log(sc, "reject", what, text, vstring_str(sc->reply) + 4);
	sc->done = 1;
	return (SMTPD_CONTENT_KEEP);
    }
    if (IS_CMD("DISCARD")) {
	content_log(sc, "discard", what, text, arg);
	sc->discard = 1;
	sc->done = 1;
	return (SMTPD_CONTENT_KEEP);
    }
    if (IS_CMD("HOLD")) {
	content_log(sc, "hold", what, text, arg);
	sc->hold = 1;
	return (SMTPD_CONTENT_KEEP);
    }
    if (IS_CMD("WARN")) {
	content_log(sc, "warning", what, text, arg);
	return (SMTPD_CONTENT_KEEP);
    }
    if (IS_CMD("INFO")) {
	content_log(sc, "info", what, text, arg);
	return (SMTPD_CONTENT_KEEP);
    }
    if (IS_CMD("IGNORE"))
	return (SMTPD_CONTENT_DROP);
    if (IS_CMD("DUNNO") || IS_CMD("OK"))
	return (SMTPD_CONTENT_KEEP);
    if (IS_CMD("PREPEND") || IS_CMD("REPLACE")) {
	int     prepend = IS_CMD("PREPEND");

	if (*arg == 0) {
	    msg_warn("%.*s action without text in %s map",
		     (int) cmd_len, value, maps->title);
	    return (SMTPD_CONTENT_KEEP);
	}
	content_log(sc, prepend ? "prepend" : "replace", what, text, arg);
	vstring_strcpy(out, arg);
	return (prepend ? SMTPD_CONTENT_PREPEND : SMTPD_CONTENT_REPLACE);
    }
    if (IS_CMD("REDIRECT") || IS_CMD("FILTER") || IS_CMD("BCC")) {
	msg_warn("%s: %s map: action %.*s is not supported; treated as DUNNO",
		 sc->state->queue_id, maps->title, (int) cmd_len, value);
	return (SMTPD_CONTENT_KEEP);
    }
    msg_warn("unknown command in %s map: %s", maps->title, value);
    return (SMTPD_CONTENT_KEEP);
}
