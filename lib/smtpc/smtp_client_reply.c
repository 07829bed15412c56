/*
 * NAME
 *	smtp_client_reply - read and parse server replies
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	SMTP_REPLY *smtp_reply_alloc(void);
 *	int smtp_reply_feed(SMTP_REPLY *r, const char *line, size_t len);
 *	int smtp_reply_read(VSTREAM *s, SMTP_REPLY *r);
 *	int smtp_chat_reply(SMTP_SESSION *sess, SMTP_REPLY *r);
 *	void smtp_chat_cmd(SMTP_SESSION *sess, const char *fmt, ...);
 * DESCRIPTION
 *	A reply is one or more lines "ddd-text" ending with "ddd text" (or
 *	a bare "ddd"). smtp_reply_feed() adds one line (CR and LF already
 *	removed) and returns 1 when the reply is complete. The reply code
 *	is the last line's; the enhanced status code (RFC 3463) is taken
 *	from the first line's text when it is there and agrees with the
 *	reply code's class, else derived from the code ("4.0.0", "5.0.0",
 *	"2.0.0"). The text keeps the lines joined by one space, as
 *	Postfix shows a multi-line reply in its logs, bounded to
 *	SMTP_REPLY_MAXTEXT bytes.
 *
 *	smtp_reply_read() reads one reply from the server with the
 *	stream's timeout; each line is bounded to SMTP_REPLY_MAXLINE bytes
 *	(the rest of a longer line is read and dropped), a reply to
 *	SMTP_REPLY_MAXLINES lines.
 *
 *	smtp_chat_reply() reads a reply of a session and smtp_chat_cmd()
 *	sends one command line (CRLF added). With verbose logging (-v, or
 *	a server or nexthop in debug_peer_list) each line is logged as
 *	Postfix's smtp client logs the dialogue: "> host[addr]:port: EHLO
 *	name", "< host[addr]:port: 250-...". Lines with secrets (AUTH) are
 *	sent otherwise.
 * DIAGNOSTICS
 *	smtp_reply_read() returns 0, or -1 when the connection was lost or
 *	timed out (see vstream_ftimeout) before the reply was complete. A
 *	line that is not a reply line ends the reply with code 0; the
 *	caller treats that as a temporary protocol error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "smtpc/smtp_client.h"

SMTP_REPLY *smtp_reply_alloc(void)
{
    SMTP_REPLY *r = mycalloc(1, sizeof(*r));

    r->text = vstring_alloc(100);
    r->lines = argv_alloc(4);
    return (r);
}

void    smtp_reply_free(SMTP_REPLY *r)
{
    vstring_free(r->text);
    argv_free(r->lines);
    myfree(r);
}

void    smtp_reply_reset(SMTP_REPLY *r)
{
    r->code = 0;
    r->dsn[0] = 0;
    r->nlines = 0;
    vstring_reset(r->text);
    argv_truncate(r->lines, 0);
}

/* dsn_prefix - length of an enhanced status code at text, or 0 */
static size_t dsn_prefix(const char *text, size_t len)
{
    size_t  i = 0, n;
    int     part;

    if (len < 5 || !strchr("245", text[0]) || text[1] != '.')
	return (0);
    i = 2;
    for (part = 0; part < 2; part++) {
	for (n = 0; i < len && isdigit((unsigned char) text[i]) && n < 3; i++, n++)
	     /* void */ ;
	if (n == 0)
	    return (0);
	if (part == 0) {
	    if (i >= len || text[i] != '.')
		return (0);
	    i++;
	}
    }
    if (i < len && text[i] != ' ' && text[i] != '\t')
	return (0);
    return (i);
}

/* derive_dsn - enhanced status code for a reply without one */
static void derive_dsn(SMTP_REPLY *r)
{
    int     cls = r->code / 100;

    if (cls == 2 || cls == 3)
	strcpy(r->dsn, "2.0.0");
    else if (cls == 5)
	strcpy(r->dsn, "5.0.0");
    else
	strcpy(r->dsn, "4.0.0");
}

int     smtp_reply_feed(SMTP_REPLY *r, const char *line, size_t len)
{
    int     code = 0;
    int     last;
    const char *text;
    size_t  text_len;
    size_t  n;

    if (len > SMTP_REPLY_MAXLINE)
	len = SMTP_REPLY_MAXLINE;
    if (len > 0 && line[len - 1] == '\r')
	len--;

    /* A valid line: three digits, then end, space, or hyphen. */
    if (len >= 3 && isdigit((unsigned char) line[0])
	&& isdigit((unsigned char) line[1]) && isdigit((unsigned char) line[2])
	&& (len == 3 || line[3] == ' ' || line[3] == '-')) {
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	last = (len == 3 || line[3] == ' ');
	text = len > 4 ? line + 4 : "";
	text_len = len > 4 ? len - 4 : 0;
    } else {
	code = 0;
	last = 1;
	text = line;
	text_len = len;
    }
    /* Keep the code of the first line if a server changes it midway. */
    if (r->nlines == 0 || code == 0)
	r->code = code;
    if (r->nlines < SMTP_REPLY_MAXLINES)
	argv_addn(r->lines, text, text_len);
    if (vstring_len(r->text) < SMTP_REPLY_MAXTEXT) {
	if (vstring_len(r->text) > 0)
	    vstring_addch(r->text, ' ');
	if (r->nlines == 0 && code != 0)
	    vstring_sprintf_append(r->text, "%03d ", code);
	n = text_len;
	if (vstring_len(r->text) + n > SMTP_REPLY_MAXTEXT)
	    n = SMTP_REPLY_MAXTEXT - vstring_len(r->text);
	/* Control characters from the network never reach the logs. */
	for (size_t i = 0; i < n; i++)
	    vstring_addch(r->text, isprint((unsigned char) text[i]) ? text[i] : '?');
	if (r->nlines == 0 && code != 0 && text_len == 0)
	    vstring_truncate(r->text, vstring_len(r->text) - 1);
    }
    if (r->nlines == 0) {
	if ((n = dsn_prefix(text, text_len)) > 0 && n < sizeof(r->dsn)
	    && code != 0 && text[0] - '0' == code / 100) {
	    memcpy(r->dsn, text, n);
	    r->dsn[n] = 0;
	}
    }
    r->nlines++;
    if (last && r->dsn[0] == 0)
	derive_dsn(r);
    if (!last && r->nlines >= SMTP_REPLY_MAXLINES) {
	r->code = 0;
	derive_dsn(r);
	return (1);
    }
    return (last);
}

/* reply_read - one reply; with who, each line is logged when verbose */
static int reply_read(VSTREAM *s, SMTP_REPLY *r, const char *who)
{
    VSTRING *line = vstring_alloc(100);
    int     st;
    int     ret = -1;

    smtp_reply_reset(r);
    for (;;) {
	st = vstream_get_line(s, line, SMTP_REPLY_MAXLINE);
	if (st == VSTREAM_EOF || st == VSTREAM_PARTIAL)
	    break;
	if (st == VSTREAM_LONG) {
	    VSTRING *junk = vstring_alloc(100);

	    while ((st = vstream_get_line(s, junk, SMTP_REPLY_MAXLINE)) == VSTREAM_LONG)
		 /* void */ ;
	    vstring_free(junk);
	    if (st != VSTREAM_LINE)
		break;
	}
	if (msg_verbose && who) {
	    size_t  len = vstring_len(line);

	    while (len > 0 && (vstring_str(line)[len - 1] == '\n'
			       || vstring_str(line)[len - 1] == '\r'))
		len--;
	    msg_info("< %s: %.*s", who, (int) len, vstring_str(line));
	}
	if (smtp_reply_feed(r, vstring_str(line), vstring_len(line))) {
	    ret = 0;
	    break;
	}
    }
    vstring_free(line);
    return (ret);
}

int     smtp_reply_read(VSTREAM *s, SMTP_REPLY *r)
{
    return (reply_read(s, r, (char *) 0));
}

int     smtp_chat_reply(SMTP_SESSION *sess, SMTP_REPLY *r)
{
    return (reply_read(sess->stream, r, sess->relay));
}

void    smtp_chat_cmd(SMTP_SESSION *sess, const char *fmt,...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    if (msg_verbose)
	msg_info("> %s: %s", sess->relay, vstring_str(buf));
    vstring_strcat(buf, "\r\n");
    (void) vstream_fputs(sess->stream, vstring_str(buf));
    vstring_free(buf);
}
