/*
 * NAME
 *	smtp_client_xfer - one mail transaction: MAIL, RCPT, DATA
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	int smtp_session_xfer(SMTP_SESSION *sess, SMTP_STATE *st);
 * DESCRIPTION
 *	Sends MAIL FROM, one RCPT TO per recipient still pending, and DATA
 *	(not for an address probe or sendmail -bv: DEL_REQ_TRACE_ONLY), all at once when
 *	the server offers PIPELINING (RFC 2920), else one at a time; then
 *	reads the replies in order. MAIL gets SIZE= when the server offers
 *	SIZE, and RET=/ENVID= and per recipient NOTIFY=/ORCPT= when it
 *	offers DSN (RFC 3461), xtext-encoded.
 *	With srs_domain set (ours), a request that carries a recipient
 *	aliased to another domain goes out with the SRS form of its
 *	sender (srs_request_sender()); other mail keeps its sender.
 *
 *	Addresses go out in external form (a local part that needs quotes
 *	is quoted), after smtp_generic_maps (generic(5), applied once, to
 *	the sender and each recipient; the log keeps the original).
 *
 *	The message is read from the queue file (the M record's data at
 *	req->data_offset, req->data_size bytes, lines already ending in
 *	CRLF) and sent dot-stuffed, followed by "." (RFC 5321 4.5.2). With
 *	smtp_header_checks, smtp_body_checks or smtp_generic_maps it goes
 *	header by header (with continuation lines) and line by line through
 *	the restricted header_checks(5) actions of hbc(3) and, for address
 *	headers, the generic mapping; otherwise it is copied as it is. A
 *	table that fails drops the connection (the message is deferred).
 *
 *	Results: SMTP has one reply to the end of data for all accepted
 *	recipients, LMTP one per accepted recipient (RFC 2033). Each
 *	recipient's result goes to smtp_rcpt_status(): "host X said: 550
 *	5.1.1 ... (in reply to RCPT TO command)" and so on.
 *
 *	A "452 4.5.3" reply (too many recipients) after an accepted one
 *	leaves that recipient for the next transaction on the same session
 *	(st->more_rcpts), as Postfix does.
 *
 *	When the transaction did not reach the end of DATA, RSET brings a
 *	healthy session back to its initial state so it can be reused.
 *
 *	XFORWARD (smtp_send_xforward_command, lmtp_send_xforward_command):
 *	when the server offers it, each transaction starts with XFORWARD
 *	commands that carry the attributes of the original client, as
 *	the queue file has them (the log_client_* attributes that our
 *	smtpd kept from an earlier XFORWARD, else client_name,
 *	client_address, client_port, helo_name, protocol; log_ident;
 *	rewrite_context as SOURCE=LOCAL/REMOTE), only those the server
 *	announced, xtext-encoded, "[UNAVAILABLE]" when unknown, at most
 *	512 bytes per command; each reply within smtp_xforward_timeout. A
 *	refusal settles the recipients as any reply does ("... (in reply
 *	to XFORWARD command)").
 *
 *	Nothing that could break a command line is sent: a sender or
 *	recipient address with a control character (CR, LF ...), or an
 *	ORCPT address type that is not an atom (when ORCPT would be sent),
 *	is not sent; the
 *	recipient (every recipient, for the sender) is deferred with
 *	"4.3.0 ... contains a control character" (qmgr already moves a
 *	queue file with CR, LF or NUL in an address to corrupt/; this
 *	also covers what a table or SRS produced).
 * DIAGNOSTICS
 *	Returns 0 when the session can be used again, -1 when it must be
 *	closed (lost, timed out, or the queue file could not be read: the
 *	connection is then dropped so the server discards the message).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/queue_file.h"
#include "global/mail_addr.h"
#include "global/addr_map.h"
#include "global/header_addr.h"
#include "smtpc/smtp_client.h"

/* xtext - RFC 3461 encoding of a DSN parameter value */
static void xtext(VSTRING *out, const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	if (*cp < 33 || *cp > 126 || *cp == '+' || *cp == '=')
	    vstring_sprintf_append(out, "+%02X", *cp);
	else
	    vstring_addch(out, *cp);
    }
}

static void notify_text(VSTRING *out, int notify)
{
    if (notify & DSN_NOTIFY_NEVER) {
	vstring_strcat(out, "NEVER");
	return;
    }
    if (notify & DSN_NOTIFY_SUCCESS)
	vstring_strcat(out, "SUCCESS,");
    if (notify & DSN_NOTIFY_FAILURE)
	vstring_strcat(out, "FAILURE,");
    if (notify & DSN_NOTIFY_DELAY)
	vstring_strcat(out, "DELAY,");
    vstring_truncate(out, vstring_len(out) - 1);
}

/* unsafe - a control character that could break a command line */
static int unsafe(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp == 0x7f)
	    return (1);
    return (0);
}

/* printable - text for a reason: control characters and 8-bit as "?" */
static const char *printable(VSTRING *buf, const char *text)
{
    vstring_reset(buf);
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
	vstring_addch(buf, (*cp < 0x20 || *cp >= 0x7f) ? '?' : *cp);
    return (vstring_str(buf));
}

/* orcpt_ok - an ORCPT whose address type is an atom (RFC 3461) */
static int orcpt_ok(const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');

    if (semi == 0 || semi == orcpt)
	return (0);
    for (const char *cp = orcpt; cp < semi; cp++)
	if (!(((*cp | 0x20) >= 'a' && (*cp | 0x20) <= 'z') || (*cp >= '0' && *cp <= '9')
	      || (*cp && strchr("!#$%&'*+-/=?^_`{|}~", *cp))))
	    return (0);
    return (1);
}

/* XFORWARD attributes of the original client, from the queue file. */
typedef struct XFWD_ATTRS {
    char   *value[7];			/* by SMTP_XFWD_* bit number */
} XFWD_ATTRS;

static const char *xfwd_names[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"};

/*
 * msg_open - the queue file at offset: the stream that smtp_client_deliver()
 * opened (*own = 0), or one opened here for a caller without it (*own = 1).
 */
static VSTREAM *msg_open(SMTP_STATE *st, VSTRING *path, off_t offset, int *own)
{
    DELIVER_REQUEST *req = st->req;
    VSTREAM *fp;

    vstring_sprintf(path, "%s/%s", req->queue_name, req->queue_id);
    if ((fp = st->msg) != 0) {
	*own = 0;
    } else if ((fp = vstream_open(vstring_str(path), O_RDONLY, 0)) != 0) {
	*own = 1;
	vstream_set_bufsize(fp, SMTP_BODY_BUFSIZE);
    } else {
	return (0);
    }
    if (vstream_seek(fp, offset, SEEK_SET) < 0) {
	if (*own)
	    (void) vstream_close(fp);
	errno = errno ? errno : EIO;
	return (0);
    }
    return (fp);
}

/* xfwd_read - the A records before the message; 0 or -1 with why */
static int xfwd_read(SMTP_STATE *st, XFWD_ATTRS *xa, VSTRING *why)
{
    /* Queue file attribute, then the one it falls back to. */
    static const char *attr_names[7][2] = {
	{"log_client_name", "client_name"}, {"log_client_address", "client_address"},
	{"log_client_port", "client_port"}, {"log_protocol", "protocol"},
	{"log_helo_name", "helo_name"}, {"log_ident", 0}, {"rewrite_context", 0},
    };
    char   *found[7][2] = {{0}};
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    VSTREAM *fp;
    size_t  len;
    int     type;
    int     own;

    memset(xa, 0, sizeof(*xa));
    if ((fp = msg_open(st, path, 0, &own)) == 0) {
	vstring_sprintf(why, "cannot open queue file %s: %m", vstring_str(path));
	vstring_free(path);
	vstring_free(buf);
	return (-1);
    }
    while ((type = rec_get_head(fp, &len)) >= 0 && type != REC_TYPE_MESSAGE
	   && type != REC_TYPE_END && len <= REC_MAX_LEN_ENVELOPE) {
	char   *value;

	vstring_reset(buf);
	vstring_space(buf, len);
	if (len > 0 && vstream_read(fp, vstring_str(buf), len) != (ssize_t) len)
	    break;
	buf->len = len;
	buf->data[len] = 0;
	if (type != REC_TYPE_ATTR || (value = split_at(vstring_str(buf), '=')) == 0)
	    continue;
	for (int i = 0; i < 7; i++)
	    for (int j = 0; j < 2; j++)
		if (attr_names[i][j] && strcmp(vstring_str(buf), attr_names[i][j]) == 0) {
		    myfree(found[i][j]);
		    found[i][j] = mystrdup(value);
		}
    }
    if (own)
	(void) vstream_close(fp);
    for (int i = 0; i < 7; i++) {
	xa->value[i] = found[i][0] ? found[i][0] : found[i][1];
	myfree(found[i][0] ? found[i][1] : found[i][0]);
    }
    vstring_free(path);
    vstring_free(buf);
    return (0);
}

static void xfwd_free(XFWD_ATTRS *xa)
{
    for (int i = 0; i < 7; i++)
	myfree(xa->value[i]);
}

/*
 * send_xforward - the XFORWARD commands; -1 lost (why set), 0 done, or 1
 * when the server refused (reply holds its answer).
 */
static int send_xforward(SMTP_SESSION *sess, SMTP_STATE *st, SMTP_REPLY *reply,
			         VSTRING *why)
{
    XFWD_ATTRS xa;
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *item = vstring_alloc(100);
    int     ret = 0;

    if (xfwd_read(st, &xa, why) < 0) {
	vstring_free(cmd);
	vstring_free(item);
	return (-1);
    }
    vstream_set_timeout(sess->stream, smtp_conf.xforward_timeout);
    for (int i = 0; i <= 7 && ret == 0; i++) {
	/* Each command at most 512 bytes with its CRLF (RFC 5321 4.5.3.1.4). */
	if (i < 7 && (sess->xforward_attrs & (1 << i))) {
	    const char *v = xa.value[i];

	    vstring_sprintf(item, " %s=", xfwd_names[i]);
	    if (i == 6 && v)
		vstring_strcat(item, strcasecmp(v, "local") == 0 ? "LOCAL" : "REMOTE");
	    else if (v == 0 || *v == 0 || (i == 0 && strcmp(v, "unknown") == 0))
		vstring_strcat(item, "[UNAVAILABLE]");
	    else {
		if (i == 1 && strchr(v, ':'))
		    vstring_strcat(item, "IPV6:");
		xtext(item, v);
	    }
	    if (vstring_len(cmd) + vstring_len(item) + 2 <= 512 || vstring_len(cmd) == 0) {
		if (vstring_len(cmd) == 0)
		    vstring_strcpy(cmd, "XFORWARD");
		vstring_strcat(cmd, vstring_str(item));
		continue;
	    }
	    i--;				/* send what we have, then this one */
	} else if (i < 7) {
	    continue;
	}
	if (vstring_len(cmd) == 0)
	    continue;
	smtp_chat_cmd(sess, "%s", vstring_str(cmd));
	vstring_reset(cmd);
	if (smtp_chat_reply(sess, reply) < 0) {
	    vstring_strcpy(why, "sending XFORWARD");
	    ret = -1;
	} else if (reply->code / 100 != 2) {
	    ret = 1;
	}
    }
    xfwd_free(&xa);
    vstring_free(cmd);
    vstring_free(item);
    return (ret);
}

/* send_mail_from - the MAIL command with its parameters */
static void send_mail_from(SMTP_SESSION *sess, SMTP_STATE *st, const char *sender)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "MAIL FROM:<%s>", sender);
    if (sess->features & SMTP_FEATURE_SIZE)
	vstring_sprintf_append(cmd, " SIZE=%ld", (long) req->data_size);
    if (sess->features & SMTP_FEATURE_DSN) {
	if (req->dsn_ret)
	    vstring_sprintf_append(cmd, " RET=%s",
				   req->dsn_ret == DSN_RET_HDRS ? "HDRS" : "FULL");
	if (req->dsn_envid && *req->dsn_envid) {
	    vstring_strcat(cmd, " ENVID=");
	    xtext(cmd, req->dsn_envid);
	}
    }
    smtp_chat_cmd(sess, "%s", vstring_str(cmd));
    vstring_free(cmd);
}

static void send_rcpt_to(SMTP_SESSION *sess, const RECIPIENT *rcpt, const char *addr)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "RCPT TO:<%s>", addr);
    if (sess->features & SMTP_FEATURE_DSN) {
	if (rcpt->dsn_notify) {
	    vstring_strcat(cmd, " NOTIFY=");
	    notify_text(cmd, rcpt->dsn_notify);
	}
	if (rcpt->dsn_orcpt && *rcpt->dsn_orcpt) {
	    const char *semi = strchr(rcpt->dsn_orcpt, ';');

	    if (semi) {
		vstring_strcat(cmd, " ORCPT=");
		vstring_strncat(cmd, rcpt->dsn_orcpt, semi - rcpt->dsn_orcpt + 1);
		xtext(cmd, semi + 1);
	    }
	}
    }
    smtp_chat_cmd(sess, "%s", vstring_str(cmd));
    vstring_free(cmd);
}

/*
 * envelope_out - the sender (already SRS'd) and the recipients as they go
 * out: smtp_generic_maps, then the external (quoted) form that SMTP needs.
 * -1 when the table failed or gave a result with a control character.
 */
static int envelope_out(SMTP_STATE *st, int *idx, size_t n, VSTRING *sender,
			        ARGV *rcpts, VSTRING *why)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *addr = vstring_alloc(100);
    VSTRING *ext = vstring_alloc(100);
    int     ret = 0;

    vstring_strcpy(addr, vstring_str(sender));
    if (*vstring_str(addr) && smtp_conf.generic_maps
	&& addr_map(smtp_conf.generic_maps, "generic", addr) < 0)
	ret = -1;
    mail_addr_externalize(sender, vstring_str(addr));
    if (unsafe(vstring_str(sender)))
	ret = -2;
    for (size_t k = 0; ret == 0 && k < n; k++) {
	vstring_strcpy(addr, req->rcpt[idx[k]].address);
	if (smtp_conf.generic_maps && addr_map(smtp_conf.generic_maps, "generic", addr) < 0)
	    ret = -1;
	mail_addr_externalize(ext, vstring_str(addr));
	if (unsafe(vstring_str(ext)))
	    ret = -2;
	argv_add(rcpts, vstring_str(ext));
    }
    if (ret == -1)
	vstring_sprintf(why, "%s map lookup problem", smtp_conf.generic_maps->title);
    else if (ret == -2)
	vstring_sprintf(why, "%s result contains a control character",
			smtp_conf.generic_maps->title);
    vstring_free(addr);
    vstring_free(ext);
    return (ret < 0 ? -1 : 0);
}

/*
 * The wire: message text, dot-stuffed, lines over smtp_line_length_limit
 * broken with CRLF SPACE as Postfix does.
 */
typedef struct WIRE {
    VSTREAM *stream;
    int     bol;			/* at the beginning of a line */
    size_t  col;			/* bytes on this line so far */
    size_t  limit;			/* 0: none */
} WIRE;

static void wire_put(WIRE *w, const char *cp, size_t len)
{
    const char *end = cp + len;
    const char *run = cp;		/* not yet written, needs no change */
    const char *nl;

    /* Lines that need nothing go out together, in one vstream_write(). */
    while (cp < end) {
	const char *run_end, *content_end;

	if (w->bol && *cp == '.') {
	    vstream_write(w->stream, run, cp - run);
	    vstream_write(w->stream, ".", 1);
	    run = cp;
	    w->col = 1;				/* the limit is on the wire */
	}
	w->bol = 0;
	nl = memchr(cp, '\n', end - cp);
	run_end = nl ? nl + 1 : end;
	content_end = nl ? (nl > cp && nl[-1] == '\r' ? nl - 1 : nl) : end;
	if (w->limit > 0 && w->col + (size_t) (content_end - cp) > w->limit) {
	    size_t  take = w->limit - w->col;

	    vstream_write(w->stream, run, cp + take - run);
	    vstream_write(w->stream, "\r\n ", 3);
	    cp += take;
	    run = cp;
	    w->col = 1;
	    continue;
	}
	if (nl) {
	    w->bol = 1;
	    w->col = 0;
	} else
	    w->col += run_end - cp;
	cp = run_end;
    }
    if (cp > run)
	vstream_write(w->stream, run, cp - run);
}

/* wire_end - end the last line and send the final "." */
static void wire_end(WIRE *w, SMTP_SESSION *sess)
{
    if (!w->bol)
	vstream_write(w->stream, "\r\n", 2);
    smtp_chat_cmd(sess, ".");
}

/*
 * The content filter, when smtp_header_checks, smtp_body_checks or
 * smtp_generic_maps want the message line by line: each header whole
 * (with its continuation lines), then each body line.
 */
#define FILTER_LINE_MAX	(64 * 1024)	/* longer: passed on in pieces */

typedef struct FILTER {
    WIRE   *wire;
    HBC     hbc;
    int     in_header;
    VSTRING *line;			/* the line so far */
    VSTRING *hdr;			/* the header so far, CRLF lines */
    VSTRING *key;			/* what a table sees */
    VSTRING *out;			/* PREPEND or REPLACE text */
    VSTRING *value;			/* a rewritten header value */
    int     error;			/* a smtp_generic_maps lookup failed */
} FILTER;

/* filter_log - Postfix's smtp line: "QID: replace: header TEXT: extra" */
static void filter_log(void *context, const char *action, const char *where,
		               const char *text, const char *extra)
{
    FILTER *f = context;
    VSTRING *buf = vstring_alloc(300);

    vstring_sprintf(buf, "%s: %s: %s %.200s", f->hbc.queue_id, action, where, text);
    if (extra && *extra)
	vstring_sprintf_append(buf, ": %s", extra);
    for (char *cp = vstring_str(buf); *cp; cp++)
	if (!isprint((unsigned char) *cp))
	    *cp = '?';
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* generic_header_addr - smtp_generic_maps for one header address */
static int generic_header_addr(const char *addr, VSTRING *result, void *context)
{
    FILTER *f = context;
    int     rc;

    vstring_strcpy(result, addr);
    if ((rc = addr_map(smtp_conf.generic_maps, "generic", result)) < 0)
	f->error = 1;
    return (rc);
}

/* filter_text - what a table sees: CR removed, no final line end */
static void filter_text(VSTRING *key, const char *text, size_t len)
{
    vstring_reset(key);
    for (size_t i = 0; i < len; i++)
	if (text[i] != '\r' || i + 1 >= len || text[i + 1] != '\n')
	    vstring_addch(key, text[i]);
    while (vstring_len(key) > 0 && vstring_str(key)[vstring_len(key) - 1] == '\n')
	vstring_truncate(key, vstring_len(key) - 1);
}

/* filter_put - one header or body line through its checks to the wire */
static void filter_put(FILTER *f, int what, const char *text, size_t len)
{
    int     action = HBC_KEEP;

    if (hbc_maps_active(smtp_conf.hbc_maps, what)) {
	filter_text(f->key, text, len);
	action = hbc_check(&f->hbc, what, vstring_str(f->key), f->out);
    }
    switch (action) {
    case HBC_DROP:
	return;
    case HBC_REPLACE:
	wire_put(f->wire, vstring_str(f->out), vstring_len(f->out));
	wire_put(f->wire, "\r\n", 2);
	return;
    case HBC_PREPEND:
	wire_put(f->wire, vstring_str(f->out), vstring_len(f->out));
	wire_put(f->wire, "\r\n", 2);
	break;
    }
    /* smtp_generic_maps: the addresses of address headers. */
    if (what == HBC_HEADER && smtp_conf.generic_maps) {
	const char *colon = memchr(text, ':', len);
	size_t  name_len = colon ? (size_t) (colon - text) : 0;

	while (name_len > 0 && (text[name_len - 1] == ' ' || text[name_len - 1] == '\t'))
	    name_len--;
	if (colon && header_addr_class(text, name_len)) {
	    char   *value = mystrndup(colon + 1, len - (colon + 1 - text));

	    if (header_addr_rewrite(value, generic_header_addr, f, f->value) > 0) {
		wire_put(f->wire, text, colon + 1 - text);
		wire_put(f->wire, vstring_str(f->value), vstring_len(f->value));
		myfree(value);
		return;
	    }
	    myfree(value);
	}
    }
    wire_put(f->wire, text, len);
}

static void filter_header_flush(FILTER *f)
{
    if (vstring_len(f->hdr) > 0)
	filter_put(f, HBC_HEADER, vstring_str(f->hdr), vstring_len(f->hdr));
    vstring_reset(f->hdr);
}

/* filter_line - one whole line (with its line end, if any) */
static void filter_line(FILTER *f, const char *text, size_t len)
{
    size_t  i;

    if (f->in_header) {
	if (len == 0 || text[0] == '\n' || (text[0] == '\r' && len > 1 && text[1] == '\n')) {
	    filter_header_flush(f);
	    f->in_header = 0;
	    wire_put(f->wire, text, len);
	    return;
	}
	if ((text[0] == ' ' || text[0] == '\t') && vstring_len(f->hdr) > 0) {
	    vstring_memcat(f->hdr, text, len);
	    return;
	}
	for (i = 0; i < len && text[i] > ' ' && text[i] < 127 && text[i] != ':'; i++)
	     /* void */ ;
	while (i < len && (text[i] == ' ' || text[i] == '\t'))
	    i++;
	if (i > 0 && i < len && text[i] == ':') {
	    filter_header_flush(f);
	    vstring_memcpy(f->hdr, text, len);
	    return;
	}
	/* Not a header: the body starts here. */
	filter_header_flush(f);
	f->in_header = 0;
    }
    filter_put(f, HBC_BODY, text, len);
}

static void filter_feed(FILTER *f, const char *cp, size_t len)
{
    const char *end = cp + len;
    const char *nl;

    while (cp < end) {
	nl = memchr(cp, '\n', end - cp);
	vstring_memcat(f->line, cp, (nl ? nl + 1 : end) - cp);
	cp = nl ? nl + 1 : end;
	if (nl || vstring_len(f->line) >= FILTER_LINE_MAX) {
	    filter_line(f, vstring_str(f->line), vstring_len(f->line));
	    vstring_reset(f->line);
	}
    }
}

static void filter_end(FILTER *f)
{
    if (vstring_len(f->line) > 0)
	filter_line(f, vstring_str(f->line), vstring_len(f->line));
    if (f->in_header)
	filter_header_flush(f);
}

/* send_message - the queue file's message, dot-stuffed, and "." */
static int send_message(SMTP_SESSION *sess, SMTP_STATE *st, VSTRING *why_text)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *path = vstring_alloc(100);
    VSTREAM *fp;
    off_t   left = req->data_size;
    WIRE    wire;
    FILTER  filter;
    int     filtering = (smtp_conf.generic_maps != 0
			 || hbc_maps_active(smtp_conf.hbc_maps, HBC_HEADER)
			 || hbc_maps_active(smtp_conf.hbc_maps, HBC_BODY));
    size_t  n;
    int     own;
    int     ret = 0;

    if ((fp = msg_open(st, path, req->data_offset, &own)) == 0) {
	vstring_sprintf(why_text, "cannot open queue file %s: %m", vstring_str(path));
	vstring_free(path);
	return (-1);
    }
    wire.stream = sess->stream;
    wire.bol = 1;
    wire.col = 0;
    wire.limit = smtp_conf.line_length_limit > 0 && smtp_conf.line_length_limit < 2 ?
	2 : (size_t) smtp_conf.line_length_limit;
    if (filtering) {
	memset(&filter, 0, sizeof(filter));
	filter.wire = &wire;
	filter.in_header = 1;
	filter.line = vstring_alloc(200);
	filter.hdr = vstring_alloc(200);
	filter.key = vstring_alloc(200);
	filter.out = vstring_alloc(100);
	filter.value = vstring_alloc(200);
	hbc_begin(&filter.hbc, smtp_conf.hbc_maps, req->queue_id, filter_log, &filter);
    }
    /*
     * The body in large pieces (fewer reads of the file, fewer writes),
     * used where the file's stream buffer holds them: no copy between.
     */
    vstream_set_bufsize(sess->stream, SMTP_BODY_BUFSIZE);
    vstream_set_timeout(sess->stream, smtp_conf.data_xfer_timeout);
    while (left > 0) {
	if (vstream_peek(fp) == 0) {
	    errno = 0;
	    if (vstream_fill(fp, -1) != 1) {
		vstring_sprintf(why_text, "error reading queue file %s: %s",
				vstring_str(path), vstream_ferror(fp) && errno ?
				strerror(errno) : "unexpected end of file");
		ret = -1;
		break;
	    }
	}
	n = vstream_peek(fp) < (size_t) left ? vstream_peek(fp) : (size_t) left;
	if (filtering)
	    filter_feed(&filter, vstream_peek_data(fp), n);
	else
	    wire_put(&wire, vstream_peek_data(fp), n);
	vstream_skip(fp, n);
	left -= n;
	if (vstream_ferror(sess->stream))
	    break;
    }
    if (filtering) {
	if (ret == 0)
	    filter_end(&filter);
	if (ret == 0 && (filter.error || filter.hbc.error)) {
	    /* A table failed: drop the connection, the message is deferred. */
	    vstring_sprintf(why_text, "%s map lookup problem", filter.error ?
			    smtp_conf.generic_maps->title : "header or body checks");
	    ret = -1;
	}
	hbc_end(&filter.hbc);
	vstring_free(filter.line);
	vstring_free(filter.hdr);
	vstring_free(filter.key);
	vstring_free(filter.out);
	vstring_free(filter.value);
    }
    if (ret == 0)
	wire_end(&wire, sess);
    if (own)
	(void) vstream_close(fp);
    vstring_free(path);
    return (ret);
}

/* lost - every pending recipient learns that the session was lost */
static int lost(SMTP_SESSION *sess, SMTP_STATE *st, const char *what, int *idx, size_t n)
{
    for (size_t k = 0; k < n; k++) {
	if (!st->pending[idx[k]])
	    continue;
	if (vstream_ftimeout(sess->stream))
	    smtp_rcpt_status(st, idx[k], sess->relay, "4.4.2",
			     "conversation with %s timed out while %s",
			     sess->namaddr, what);
	else
	    smtp_rcpt_status(st, idx[k], sess->relay, "4.4.2",
			     "lost connection with %s while %s", sess->namaddr, what);
    }
    return (-1);
}

static void said(SMTP_STATE *st, size_t i, SMTP_SESSION *sess, SMTP_REPLY *r,
		         const char *cmd)
{
    st->remote_mta = sess->host;
    st->diag = vstring_str(r->text);
    smtp_rcpt_status(st, i, sess->relay, r->dsn, "host %s said: %s (in reply to %s command)",
		     sess->namaddr, vstring_str(r->text), cmd);
    st->remote_mta = st->diag = 0;
}

/* accepted - a success reply for one recipient */
static void accepted_by(SMTP_STATE *st, size_t i, SMTP_SESSION *sess, SMTP_REPLY *r)
{
    st->remote_mta = sess->host;
    st->diag = vstring_str(r->text);
    if (sess->features & SMTP_FEATURE_DSN)
	st->result_flags = DSN_RESULT_FLAG_NEXT_HOP_DSN;
    smtp_rcpt_status(st, i, sess->relay, r->dsn, "%s", vstring_str(r->text));
    st->remote_mta = st->diag = 0;
    st->result_flags = 0;
}

int     smtp_session_xfer(SMTP_SESSION *sess, SMTP_STATE *st)
{
    DELIVER_REQUEST *req = st->req;
    int     verify = DEL_REQ_TRACE_ONLY(req->flags) != 0;
    int     pipelining = (sess->features & SMTP_FEATURE_PIPELINING) != 0;
    int    *idx = mymalloc(sizeof(int) * (req->rcpt_count + 1));
    char   *accepted = mycalloc(req->rcpt_count + 1, 1);
    size_t  n = 0, naccepted = 0, k;
    SMTP_REPLY *reply = smtp_reply_alloc();
    VSTRING *why_text = vstring_alloc(100);
    ARGV   *rcpts = argv_alloc(8);
    int     mail_ok = 0;
    int     ret = -1;
    int     in_data = 0;
    VSTRING *sender = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);

    /* Forwarded mail leaves with an SRS sender when SRS is on (srs(3)). */
    (void) srs_request_sender(smtp_conf.srs, req, sender, time((time_t *) 0));

    /* Nothing that could break a command line goes out. */
    for (k = 0; k < req->rcpt_count; k++) {
	if (!st->pending[k])
	    continue;
	if (unsafe(vstring_str(sender))) {
	    smtp_rcpt_status(st, k, sess->relay, "4.3.0",
			     "sender address contains a control character: <%s>",
			     printable(text, vstring_str(sender)));
	} else if (unsafe(req->rcpt[k].address)) {
	    smtp_rcpt_status(st, k, sess->relay, "4.3.0",
			     "recipient address contains a control character: <%s>",
			     printable(text, req->rcpt[k].address));
	} else if ((sess->features & SMTP_FEATURE_DSN) && req->rcpt[k].dsn_orcpt
		   && *req->rcpt[k].dsn_orcpt && !orcpt_ok(req->rcpt[k].dsn_orcpt)) {
	    smtp_rcpt_status(st, k, sess->relay, "4.3.0",
			     "original recipient (ORCPT) has a bad address type: %s",
			     printable(text, req->rcpt[k].dsn_orcpt));
	} else {
	    idx[n++] = (int) k;
	}
    }
    if (n == 0) {
	ret = 0;
	goto done;
    }

    /* A message the server announced it cannot take is bounced now. */
    if (!verify && sess->size_limit > 0 && req->data_size > sess->size_limit) {
	for (k = 0; k < n; k++)
	    smtp_rcpt_status(st, idx[k], sess->relay, "5.3.4",
			     "message size %ld exceeds size limit %ld of server %s",
			     (long) req->data_size, sess->size_limit, sess->namaddr);
	ret = 0;
	goto done;
    }

    /* The addresses as they go out (SRS, smtp_generic_maps, quoted). */
    if (envelope_out(st, idx, n, sender, rcpts, why_text) < 0) {
	for (k = 0; k < n; k++)
	    smtp_rcpt_status(st, idx[k], sess->relay, "4.3.0", "%s", vstring_str(why_text));
	ret = 0;
	goto done;
    }

    /* XFORWARD: who the original client was. */
    if (smtp_conf.send_xforward && !verify && (sess->features & SMTP_FEATURE_XFORWARD)) {
	switch (send_xforward(sess, st, reply, why_text)) {
	case -1:
	    if (vstream_ferror(sess->stream) || vstream_feof(sess->stream)) {
		lost(sess, st, "sending XFORWARD", idx, n);
	    } else {
		msg_warn("%s: %s", req->queue_id, vstring_str(why_text));
		for (k = 0; k < n; k++)
		    smtp_rcpt_status(st, idx[k], sess->relay, "4.3.0", "%s",
				     vstring_str(why_text));
	    }
	    goto done;
	case 1:
	    for (k = 0; k < n; k++)
		said(st, idx[k], sess, reply, "XFORWARD");
	    goto rset;
	}
    }

    /* MAIL FROM (and with PIPELINING everything up to DATA at once). */
    vstream_set_timeout(sess->stream, smtp_conf.mail_timeout);
    send_mail_from(sess, st, vstring_str(sender));
    if (pipelining) {
	for (k = 0; k < n; k++)
	    send_rcpt_to(sess, req->rcpt + idx[k], rcpts->argv[k]);
	if (!verify)
	    smtp_chat_cmd(sess, "DATA");
    }
    if (smtp_chat_reply(sess, reply) < 0) {
	lost(sess, st, "sending MAIL FROM", idx, n);
	goto done;
    }
    if (reply->code / 100 == 2)
	mail_ok = 1;
    else
	for (k = 0; k < n; k++)
	    said(st, idx[k], sess, reply, "MAIL FROM");

    /* RCPT TO replies. */
    if (mail_ok || pipelining) {
	vstream_set_timeout(sess->stream, smtp_conf.rcpt_timeout);
	for (k = 0; k < n; k++) {
	    if (!pipelining)
		send_rcpt_to(sess, req->rcpt + idx[k], rcpts->argv[k]);
	    if (smtp_chat_reply(sess, reply) < 0) {
		lost(sess, st, "sending RCPT TO", idx, n);
		goto done;
	    }
	    if (!mail_ok)
		continue;
	    if (reply->code / 100 == 2) {
		accepted[k] = 1;
		naccepted++;
		if (verify)
		    accepted_by(st, idx[k], sess, reply);
	    } else if (reply->code == 452 && strcmp(reply->dsn, "4.5.3") == 0
		       && naccepted > 0) {
		/* Too many recipients: the rest go in the next transaction. */
		st->more_rcpts = 1;
		smtp_why_set(&st->why, sess->relay, reply->dsn,
			     "host %s said: %s (in reply to RCPT TO command)",
			     sess->namaddr, vstring_str(reply->text));
	    } else {
		said(st, idx[k], sess, reply, "RCPT TO");
	    }
	}
    }

    /* DATA. */
    if (!verify && (pipelining || (mail_ok && naccepted > 0))) {
	vstream_set_timeout(sess->stream, smtp_conf.data_init_timeout);
	if (!pipelining)
	    smtp_chat_cmd(sess, "DATA");
	if (smtp_chat_reply(sess, reply) < 0) {
	    lost(sess, st, "sending DATA command", idx, n);
	    goto done;
	}
	if (reply->code == 354) {
	    in_data = 1;
	    if (naccepted == 0 || !mail_ok) {
		/* A server that wants data after refusing everything. */
		smtp_chat_cmd(sess, ".");
		if (smtp_chat_reply(sess, reply) < 0)
		    goto done;
		in_data = 0;
	    } else if (send_message(sess, st, why_text) < 0) {
		msg_warn("%s: %s", req->queue_id, vstring_str(why_text));
		for (k = 0; k < n; k++)
		    if (accepted[k])
			smtp_rcpt_status(st, idx[k], sess->relay, "4.3.0", "%s",
					 vstring_str(why_text));
		goto done;			/* drop the connection: no "." */
	    }
	} else if (mail_ok) {
	    for (k = 0; k < n; k++)
		if (accepted[k])
		    said(st, idx[k], sess, reply, "DATA");
	}
    }

    /* End of data: one reply (SMTP), or one per accepted recipient (LMTP). */
    if (in_data) {
	vstream_set_timeout(sess->stream, smtp_conf.data_done_timeout);
	for (k = 0; k < n; k++) {
	    if (!accepted[k])
		continue;
	    if (smtp_chat_reply(sess, reply) < 0) {
		lost(sess, st, "sending end of data -- message may be sent more than once",
		     idx, n);
		goto done;
	    }
	    if (reply->code / 100 == 2)
		accepted_by(st, idx[k], sess, reply);
	    else
		said(st, idx[k], sess, reply, "end of DATA");
	    if (smtp_conf.proto == SMTP_PROTO_SMTP) {
		/* The one reply is every accepted recipient's. */
		for (size_t j = k + 1; j < n; j++) {
		    if (!accepted[j])
			continue;
		    if (reply->code / 100 == 2)
			accepted_by(st, idx[j], sess, reply);
		    else
			said(st, idx[j], sess, reply, "end of DATA");
		}
		break;
	    }
	}
	ret = 0;
	goto done;
    }

    /* No message went out: RSET, so the session can serve the next one. */
rset:
    vstream_set_timeout(sess->stream, smtp_param_time_soft(VAR_SMTP_RSET_TIMEOUT, 20));
    smtp_chat_cmd(sess, "RSET");
    if (smtp_chat_reply(sess, reply) == 0 && reply->code / 100 == 2)
	ret = 0;

done:
    vstring_free(sender);
    vstring_free(text);
    myfree(idx);
    myfree(accepted);
    smtp_reply_free(reply);
    vstring_free(why_text);
    argv_free(rcpts);
    return (ret);
}
