/*
 * NAME
 *	sendmail_enqueue - a message from standard input to postdrop
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	void sm_enqueue(SM_MESSAGE *msg);
 * DESCRIPTION
 *	sm_enqueue() reads the message from standard input until end of
 *	file, or until a line with only "." unless -i/-oi was given, and
 *	passes it line by line to postdrop. As Postfix's sendmail does:
 *
 *	- a first line that starts with "From " (a UNIX mailbox separator)
 *	  is dropped;
 *	- sendmail_fix_line_endings says what happens to a CR before the
 *	  LF: "always" removes it, "strict" removes it from every line
 *	  when the first line ended in CRLF, "never" keeps it;
 *	- with -t the recipients in the To:, Cc: and Bcc: headers are
 *	  added to those of the command line; when the message has
 *	  Resent-To:, Resent-Cc: or Resent-Bcc: headers, only those count;
 *	- more than message_size_limit bytes of text is refused.
 *
 *	sm_enqueue() returns only when postdrop has the message on disk;
 *	anything else is fatal (exit 75) and leaves nothing in maildrop/.
 * DIAGNOSTICS
 *	Postfix's: "SENDER(UID): No recipient addresses found in message
 *	header", "SENDER(UID): message file too big", "SENDER(UID):
 *	unable to execute .../postdrop -r: Application error".
 * SEE ALSO
 *	sendmail(1), postdrop(1)
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_header.h"
#include "global/maildrop_file.h"
#include "sendmail.h"

typedef struct SM_HEADERS {
    VSTRING *current;			/* the header being read, joined */
    ARGV   *rcpts;			/* To:, Cc:, Bcc: */
    ARGV   *resent;			/* Resent-To:, Resent-Cc:, Resent-Bcc: */
    long    limit;			/* header_size_limit */
} SM_HEADERS;

/* header_done - a whole header was read: keep its recipients */
static void header_done(SM_HEADERS *h)
{
    const char *text = vstring_str(h->current);
    size_t  len = vstring_len(h->current);
    size_t  name_len = mail_header_name_len(text, len);
    static const char *plain[] = {"To", "Cc", "Bcc"};
    static const char *resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};

    if (name_len > 0) {
	const char *value = strchr(text, ':') + 1;

	for (int i = 0; i < 3; i++) {
	    if (mail_header_is(text, len, plain[i]))
		(void) mail_header_addrs(value, h->rcpts);
	    else if (mail_header_is(text, len, resent[i]))
		(void) mail_header_addrs(value, h->resent);
	}
    }
    vstring_reset(h->current);
}

/*
 * header_line - one line while the headers last; returns 0 at the end of
 * the headers (an empty line or a line that is not a header).
 */
static int header_line(SM_HEADERS *h, const char *line, size_t len)
{
    if (len == 0) {
	header_done(h);
	return (0);
    }
    if ((line[0] == ' ' || line[0] == '\t') && vstring_len(h->current) > 0) {
	if ((long) vstring_len(h->current) < h->limit) {
	    vstring_addch(h->current, ' ');
	    vstring_memcat(h->current, line, len);
	}
	return (1);
    }
    header_done(h);
    if (mail_header_name_len(line, len) == 0)
	return (0);
    vstring_memcat(h->current, line, len < (size_t) h->limit ? len : (size_t) h->limit);
    return (1);
}

void    sm_enqueue(SM_MESSAGE *msg)
{
    VSTREAM *in = vstream_fdopen(0);
    VSTRING *line = vstring_alloc(1024);
    SM_HEADERS headers;
    SM_DROP *drop;
    const char *policy = mail_conf_str(VAR_SENDMAIL_FIX_LINE_ENDINGS);
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    long    size = 0;
    int     line_start = 1;		/* at the start of a line */
    int     first_line = 1;
    int     skip_line = 0;		/* dropping a "From " line */
    int     in_header = 1;
    int     strict_on = 0;
    int     ret;
    ARGV   *extracted;

    if (strcasecmp(policy, "always") != 0 && strcasecmp(policy, "strict") != 0
	&& strcasecmp(policy, "never") != 0)
	sm_fatal("invalid %s value: %s", VAR_SENDMAIL_FIX_LINE_ENDINGS, policy);
    if (!msg->extract && msg->rcpts->argc == 0)
	sm_fatal("%s(%ld): Recipient addresses must be specified on the command "
		 "line or via the -t option", msg->sender, (long) msg->uid);
    headers.current = vstring_alloc(100);
    headers.rcpts = argv_alloc(4);
    headers.resent = argv_alloc(4);
    headers.limit = mail_conf_int(VAR_HEADER_SIZE_LIMIT);

    drop = sm_drop_open(msg, 0);
    sm_drop_envelope(drop, msg, msg->rcpts);
    while ((ret = vstream_get_line(in, line, MAILDROP_REC_MAX)) != VSTREAM_EOF) {
	char   *cp = vstring_str(line);
	size_t  len = vstring_len(line);
	int     complete = (ret != VSTREAM_LONG);

	int     crlf = complete && len > 0 && cp[len - 1] == '\r';

	/* strict: as the first line goes, so go the others. */
	if (complete && first_line)
	    strict_on = crlf;
	if (crlf && (strcasecmp(policy, "always") == 0
		     || (strcasecmp(policy, "strict") == 0 && strict_on)))
	    len--;
	if (line_start && first_line && len >= 5 && strncmp(cp, "From ", 5) == 0)
	    skip_line = 1;
	if (skip_line) {
	    if (complete)
		skip_line = 0, line_start = 1, first_line = 0;
	    continue;
	}
	if (line_start && complete && msg->dot_ends && len == 1 && cp[0] == '.')
	    break;
	if (in_header && msg->extract && line_start)
	    in_header = header_line(&headers, cp, len);
	else if (in_header && msg->extract && len > 0
		 && (long) vstring_len(headers.current) < headers.limit)
	    vstring_memcat(headers.current, cp, len);	/* a long header */
	size += (long) len + complete;
	if (limit > 0 && size > limit) {
	    sm_drop_abort(drop);
	    sm_fatal("%s(%ld): message file too big", msg->sender, (long) msg->uid);
	}
	sm_drop_rec(drop, complete ? MAILDROP_REC_LINE : MAILDROP_REC_PART, cp, len);
	line_start = complete;
	first_line = 0;
    }
    if (vstream_ferror(in)) {
	sm_drop_abort(drop);
	sm_fatal("%s(%ld): error reading input: %s", msg->sender, (long) msg->uid,
		 strerror(errno));
    }
    if (!line_start)				/* a long last line, cut at EOF */
	sm_drop_rec(drop, MAILDROP_REC_LINE, "", 0);
    if (in_header && msg->extract)
	header_done(&headers);

    /* -t: the Resent- recipients when there are any, else the others. */
    extracted = headers.resent->argc > 0 ? headers.resent : headers.rcpts;
    if (msg->extract) {
	if (msg->rcpts->argc + extracted->argc == 0) {
	    sm_drop_abort(drop);
	    sm_fatal("%s(%ld): No recipient addresses found in message header",
		     msg->sender, (long) msg->uid);
	}
	for (size_t i = 0; i < extracted->argc; i++)
	    sm_drop_rec(drop, MAILDROP_REC_RCPT, extracted->argv[i],
			strlen(extracted->argv[i]));
    }
    sm_drop_rec(drop, MAILDROP_REC_END, "", 0);
    if (sm_drop_close(drop) != 0)
	sm_fatal("%s(%ld): unable to execute %s/postdrop -r: Application error",
		 msg->sender, (long) msg->uid, mail_conf_str(VAR_COMMAND_DIRECTORY));
    vstring_free(line);
    vstring_free(headers.current);
    argv_free(headers.rcpts);
    argv_free(headers.resent);
    vstream_release(in);
}
