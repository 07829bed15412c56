/*
 * NAME
 *	postcat - show a queue file or a maildrop file
 * SYNOPSIS
 *	postcat [-bdehqv] [-c config_dir] [file ...]
 * DESCRIPTION
 *	Prints the records of message files (queue_file.h) and maildrop
 *	files (maildrop_file.h) in the layout of Postfix's postcat:
 *
 *	    *** ENVELOPE RECORDS deferred/7/788CFA722C3 ***
 *	    message_size:             310             393 ...
 *	    message_arrival_time: Mon Dec  7 14:09:49 2026
 *	    named_attribute: rewrite_context=local
 *	    sender: sender@example.com
 *	    named_attribute: notify_flags=10
 *	    original_recipient: alias@example.com
 *	    recipient: user@example.com
 *	    *** MESSAGE CONTENTS deferred/7/788CFA722C3 ***
 *	    (the header and body lines)
 *	    *** HEADER EXTRACTED deferred/7/788CFA722C3 ***
 *	    *** MESSAGE FILE END deferred/7/788CFA722C3 ***
 *
 *	Our records are shown with Postfix's names: the message_size
 *	line holds the message size, the offset of the message in the
 *	file, the number of recipients, 0, the message size again and 0
 *	(Postfix's content size, data offset, recipient count, qmgr
 *	options, content length and SMTPUTF8 flags); the dsn_envid and
 *	dsn_ret attributes are shown as envelope_id and ret_flags (1 FULL,
 *	2 HDRS), protocol as protocol_name, the DSN NOTIFY and ORCPT of a
 *	recipient as notify_flags and dsn_orig_rcpt; a finished recipient
 *	is done_recipient. A maildrop file shows its full name as
 *	sender_fullname and the recipients that sendmail -t found after
 *	the HEADER EXTRACTED line.
 *
 *	-e shows the envelope and the marker lines, -h the message
 *	headers, -b the body (from the first line that is not a header);
 *	without any of them, all three. -d puts the record type (in
 *	decimal) before each line, -v turns on verbose logging and puts
 *	"regular_text: " before each line of the message. -q takes the
 *	names as queue IDs and looks for them in maildrop, incoming,
 *	active, deferred, hold and corrupt under queue_directory. With no
 *	name, standard input is read.
 * DIAGNOSTICS
 *	"postcat: warning: NAME: input is not a valid queue file" (exit
 *	0, the next file is shown); "postcat: fatal: open queue file ID:
 *	No such file or directory" (exit 1) for -q and an ID that is in
 *	no queue.
 * SEE ALSO
 *	postqueue(1), postsuper(1), queue_file(3)
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_header.h"
#include "global/mail_queue.h"
#include "global/maildrop_file.h"
#include "global/queue_envelope.h"
#include "global/queue_file.h"

#define SHOW_BODY	(1<<0)
#define SHOW_HEAD	(1<<1)
#define SHOW_ENV	(1<<2)

static int show;
static int show_type;			/* -d */
static VSTREAM *out;

/* What the text printer knows between calls. */
typedef struct TEXT_STATE {
    VSTRING *line;
    int     in_header;
    int     type;			/* record type, for -d */
} TEXT_STATE;

/* put - one output line, with -d's record type */
static void put(int type, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void put(int type, const char *fmt,...)
{
    va_list ap;
    VSTRING *buf = vstring_alloc(100);

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    if (show_type)
	vstream_fprintf(out, "%3d %s\n", type, vstring_str(buf));
    else
	vstream_fprintf(out, "%s\n", vstring_str(buf));
    vstring_free(buf);
}

/* marker - "*** WHAT NAME ***", with -e only */
static void marker(const char *what, const char *name)
{
    if (show & SHOW_ENV)
	vstream_fprintf(out, "*** %s %s ***\n", what, name);
}

/* text_line - one line of the message, header or body */
static void text_line(TEXT_STATE *ts, const char *line, size_t len)
{
    if (ts->in_header) {
	if (len == 0 || ((line[0] != ' ' && line[0] != '\t')
			 && mail_header_name_len(line, len) == 0))
	    ts->in_header = 0;
    }
    if ((ts->in_header && (show & SHOW_HEAD)) || (!ts->in_header && (show & SHOW_BODY)))
	put(ts->type, "%s%.*s", msg_verbose ? "regular_text: " : "", (int) len, line);
}

/* text_bytes - message bytes in CRLF lines, in pieces */
static void text_bytes(TEXT_STATE *ts, const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
	if (buf[i] == '\n') {
	    size_t  n = vstring_len(ts->line);

	    if (n > 0 && vstring_str(ts->line)[n - 1] == '\r')
		n--;
	    text_line(ts, vstring_str(ts->line), n);
	    vstring_reset(ts->line);
	} else {
	    vstring_addch(ts->line, buf[i]);
	}
    }
}

/* read_head - a record's type and length; -1 at EOF, -2 on error */
static int read_head(VSTREAM *fp, size_t *len)
{
    unsigned char head[REC_HEADER_LEN];
    ssize_t n;

    if ((n = vstream_read(fp, head, sizeof(head))) == VSTREAM_EOF)
	return (vstream_ferror(fp) ? REC_TYPE_ERROR : REC_TYPE_EOF);
    if (n != sizeof(head))
	return (REC_TYPE_ERROR);
    *len = ((size_t) head[1] << 24) | ((size_t) head[2] << 16)
	| ((size_t) head[3] << 8) | head[4];
    return (head[0]);
}

/* read_data - the data of a small record */
static int read_data(VSTREAM *fp, size_t len, VSTRING *buf)
{
    vstring_reset(buf);
    if (len > REC_MAX_LEN_ENVELOPE)
	return (-1);
    vstring_space(buf, len);
    if (len > 0 && vstream_read(fp, vstring_str(buf), len) != (ssize_t) len)
	return (-1);
    buf->len = len;
    buf->data[len] = 0;
    return (0);
}

/* show_time - "seconds microseconds" as Postfix prints a time */
static void show_time(int type, const char *label, const char *value)
{
    time_t  when = (time_t) atol(value);
    struct tm tm;
    char    stamp[64];

    localtime_r(&when, &tm);
    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm);
    put(type, "%s: %s", label, stamp);
}

/* show_attr - an A record, with Postfix's names */
static void show_attr(int type, const char *attr)
{
    const char *eq = strchr(attr, '=');
    const char *value = eq ? eq + 1 : "";
    size_t  nlen = eq ? (size_t) (eq - attr) : strlen(attr);

#define NAMED(n) (nlen == sizeof(n) - 1 && strncmp(attr, n, nlen) == 0)

    if (NAMED("dsn_envid"))
	put(type, "named_attribute: envelope_id=%s", value);
    else if (NAMED("dsn_ret"))
	put(type, "named_attribute: ret_flags=%d", strcmp(value, "HDRS") == 0 ? 2 : 1);
    else if (NAMED("protocol"))
	put(type, "named_attribute: protocol_name=%s", value);
    else if (NAMED(MAILDROP_ATTR_FULL_NAME))
	put(type, "sender_fullname: %s", value);
    else if (NAMED(MAILDROP_ATTR_NOTIFY))
	put(type, "named_attribute: notify_flags=%s", value);
    else
	put(type, "named_attribute: %s", attr);
}

/* stream_message - the M record's data, through the text printer */
static int stream_message(VSTREAM *fp, size_t len, TEXT_STATE *ts)
{
    char    buf[8192];
    ssize_t n;

    while (len > 0) {
	size_t  want = len < sizeof(buf) ? len : sizeof(buf);

	if ((n = vstream_read(fp, buf, want)) <= 0)
	    return (-1);
	text_bytes(ts, buf, (size_t) n);
	len -= (size_t) n;
    }
    if (vstring_len(ts->line) > 0)
	text_bytes(ts, "\n", 1);
    return (0);
}

/*
 * show_queue_file - a message file of ours (first record V). The
 * recipients' O, N and Q records are shown before the R record, in
 * Postfix's order: notify_flags, dsn_orig_rcpt, original_recipient.
 */
static int show_queue_file(VSTREAM *fp, const char *name, QUEUE_ENVELOPE *env)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(100);
    VSTRING *notify = vstring_alloc(10);
    VSTRING *orcpt = vstring_alloc(100);
    TEXT_STATE ts;
    size_t  len;
    int     type;
    int     ret = 0;

    memset(&ts, 0, sizeof(ts));
    ts.line = vstring_alloc(200);
    ts.in_header = 1;
    marker("ENVELOPE RECORDS", name);
    for (;;) {
	if ((type = read_head(fp, &len)) < 0) {
	    ret = -1;
	    break;
	}
	ts.type = type;
	if (type == REC_TYPE_MESSAGE) {
	    marker("MESSAGE CONTENTS", name);
	    if (!(show & (SHOW_HEAD | SHOW_BODY))) {
		if (vstream_seek(fp, (off_t) len, SEEK_CUR) < 0)
		    ret = -1;
	    } else if (stream_message(fp, len, &ts) < 0) {
		ret = -1;
	    }
	    if (ret < 0)
		break;
	    /* What follows the message (F, >, A) is what Postfix extracts. */
	    marker("HEADER EXTRACTED", name);
	    continue;
	}
	if (read_data(fp, len, buf) < 0) {
	    ret = -1;
	    break;
	}
	if (type == REC_TYPE_END) {
	    marker("MESSAGE FILE END", name);
	    break;
	}
	if (!(show & SHOW_ENV))
	    continue;
	switch (type) {
	case REC_TYPE_VERSION:
	    if (env)
		put(type, "message_size: %15lld %15lld %15lu %15d %15lld %15d",
		    (long long) env->msg_size, (long long) env->msg_offset,
		    (unsigned long) env->rcpt_count, 0, (long long) env->msg_size, 0);
	    break;
	case REC_TYPE_TIME:
	    show_time(type, "message_arrival_time", vstring_str(buf));
	    break;
	case REC_TYPE_SENDER:
	    put(type, "sender: %s", vstring_str(buf));
	    break;
	case REC_TYPE_ATTR:
	    show_attr(type, vstring_str(buf));
	    break;
	case REC_TYPE_WARN:
	    if (atol(vstring_str(buf)) > 0)
		show_time(type, "warning_message_time", vstring_str(buf));
	    break;
	case REC_TYPE_ORCP:
	    vstring_strcpy(orig, vstring_str(buf));
	    break;
	case REC_TYPE_NOTIFY:
	    vstring_strcpy(notify, vstring_str(buf));
	    break;
	case REC_TYPE_DSN_ORCPT:
	    vstring_strcpy(orcpt, vstring_str(buf));
	    break;
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
	    if (vstring_len(notify))
		put(REC_TYPE_NOTIFY, "named_attribute: notify_flags=%s", vstring_str(notify));
	    if (vstring_len(orcpt))
		put(REC_TYPE_DSN_ORCPT, "named_attribute: dsn_orig_rcpt=%s", vstring_str(orcpt));
	    if (vstring_len(orig))
		put(REC_TYPE_ORCP, "original_recipient: %s", vstring_str(orig));
	    put(type, "%s: %s", type == REC_TYPE_RCPT ? "recipient" : "done_recipient",
		vstring_str(buf));
	    vstring_reset(orig);
	    vstring_reset(notify);
	    vstring_reset(orcpt);
	    break;
	case REC_TYPE_FILTER:
	    put(type, "content_filter: %s", vstring_str(buf));
	    break;
	case REC_TYPE_REDIRECT:
	    put(type, "redirect_to: %s", vstring_str(buf));
	    break;
	case REC_TYPE_PAD:
	    break;
	default:
	    put(type, "record type %d: %s", type, vstring_str(buf));
	    break;
	}
    }
    vstring_free(ts.line);
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(notify);
    vstring_free(orcpt);
    return (ret);
}

/* show_maildrop_file - a file of maildrop/ (first record T) */
static int show_maildrop_file(VSTREAM *fp, const char *name)
{
    VSTRING *buf = vstring_alloc(100);
    TEXT_STATE ts;
    MAILDROP_ORDER order;
    int     in_text = 0;
    int     extracted = 0;
    size_t  len;
    int     type;
    int     ret = 0;

    memset(&ts, 0, sizeof(ts));
    ts.line = vstring_alloc(200);
    ts.in_header = 1;
    maildrop_order_init(&order, MAILDROP_ORDER_FROM_TIME);
    marker("ENVELOPE RECORDS", name);
    for (;;) {
	if ((type = read_head(fp, &len)) < 0 || !maildrop_order_next(&order, type)
	    || len > MAILDROP_REC_MAX || read_data(fp, len, buf) < 0) {
	    ret = -1;
	    break;
	}
	ts.type = type;
	if ((type == MAILDROP_REC_LINE || type == MAILDROP_REC_PART) && !in_text) {
	    in_text = 1;
	    marker("MESSAGE CONTENTS", name);
	}
	if (type == MAILDROP_REC_LINE || type == MAILDROP_REC_PART) {
	    if (show & (SHOW_HEAD | SHOW_BODY)) {
		vstring_memcat(ts.line, vstring_str(buf), vstring_len(buf));
		if (type == MAILDROP_REC_LINE) {
		    text_line(&ts, vstring_str(ts.line), vstring_len(ts.line));
		    vstring_reset(ts.line);
		}
	    }
	    continue;
	}
	if ((type == MAILDROP_REC_RCPT || type == MAILDROP_REC_END) && in_text && !extracted) {
	    extracted = 1;
	    marker("HEADER EXTRACTED", name);
	}
	if (type == MAILDROP_REC_END) {
	    if (!in_text) {
		marker("MESSAGE CONTENTS", name);
		marker("HEADER EXTRACTED", name);
	    }
	    marker("MESSAGE FILE END", name);
	    break;
	}
	if (!(show & SHOW_ENV))
	    continue;
	if (type == MAILDROP_REC_TIME)
	    show_time(type, "message_arrival_time", vstring_str(buf));
	else if (type == MAILDROP_REC_SENDER)
	    put(type, "sender: %s", vstring_str(buf));
	else if (type == MAILDROP_REC_ATTR)
	    show_attr(type, vstring_str(buf));
	else if (type == MAILDROP_REC_RCPT)
	    put(type, "recipient: %s", vstring_str(buf));
    }
    vstring_free(ts.line);
    vstring_free(buf);
    return (ret);
}

/* spool_stdin - a pipe is copied to an unnamed file, which can seek */
static int spool_stdin(void)
{
    FILE   *tmp = tmpfile();
    char    buf[8192];
    ssize_t n;
    int     fd;

    if (tmp == 0)
	msg_fatal("create a temporary file: %s", strerror(errno));
    fd = dup(fileno(tmp));
    fclose(tmp);
    while ((n = read(0, buf, sizeof(buf))) > 0)
	if (write(fd, buf, (size_t) n) != n)
	    msg_fatal("write a temporary file: %s", strerror(errno));
    if (n < 0)
	msg_fatal("read standard input: %s", strerror(errno));
    (void) lseek(fd, 0, SEEK_SET);
    return (fd);
}

/* show_file - one open file; its first record says what it is */
static void show_file(int fd, const char *name)
{
    VSTREAM *fp = vstream_fdopen(fd);
    QUEUE_ENVELOPE *env = 0;
    size_t  len;
    int     type;
    int     ret = -2;

    type = read_head(fp, &len);
    (void) vstream_seek(fp, 0, SEEK_SET);
    if (type == REC_TYPE_EOF) {			/* nothing to show */
	vstream_release(fp);
	return;
    }
    if (type == REC_TYPE_VERSION) {
	/* The sizes for message_size, then the records one by one. */
	env = queue_envelope_read(fp, name);
	(void) vstream_seek(fp, 0, SEEK_SET);
	ret = show_queue_file(fp, name, env);
    } else if (type == MAILDROP_REC_TIME) {
	ret = show_maildrop_file(fp, name);
    }
    if (ret == -2)
	msg_warn("%s: input is not a valid queue file", name);
    else if (ret < 0)
	msg_warn("%s: unexpected end of file or malformed record", name);
    if (env)
	queue_envelope_free(env);
    vstream_fflush(out);
    vstream_release(fp);
}

/* open_queue_file - -q: the first queue that has the ID */
static int open_queue_file(const char *id, VSTRING *label)
{
    static const char *queues[] = {
	MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, MAIL_QUEUE_CORRUPT,
    };
    int     fd;

    if (!mail_queue_id_ok(id)) {
	errno = ENOENT;
	return (-1);
    }
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
	mail_queue_path(label, queues[i], id);
	if ((fd = open(vstring_str(label), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
	    return (fd);
	if (errno != ENOENT)
	    return (-1);
    }
    errno = ENOENT;
    return (-1);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    VSTRING *label = vstring_alloc(64);
    int     by_id = 0;
    int     ch;
    int     fd;

    msg_init("postfix", "postcat");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    out = vstream_fdopen(1);
    while ((ch = getopt(argc, argv, "bc:dehqv")) != -1) {
	switch (ch) {
	case 'b':
	    show |= SHOW_BODY;
	    break;
	case 'c':
	    config_dir = optarg;
	    break;
	case 'd':
	    show_type = 1;
	    break;
	case 'e':
	    show |= SHOW_ENV;
	    break;
	case 'h':
	    show |= SHOW_HEAD;
	    break;
	case 'q':
	    by_id = 1;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal("usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] "
		      "[-e (envelope records)] [-h (header text)] [-q (access queue)] [-v] "
		      "[file(s)...]");
	}
    }
    if (show == 0)
	show = SHOW_BODY | SHOW_HEAD | SHOW_ENV;
    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
	msg_fatal("setenv: %s", strerror(errno));
    mail_conf_read(config_dir);
    if (by_id && chdir(mail_conf_str(VAR_QUEUE_DIRECTORY)) < 0)
	msg_fatal("chdir %s: %s", mail_conf_str(VAR_QUEUE_DIRECTORY), strerror(errno));

    if (optind >= argc && !by_id) {
	struct stat st;

	fd = (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) ? 0 : spool_stdin();
	show_file(fd, "-");
    } else {
	for (int i = optind; i < argc; i++) {
	    if (by_id) {
		if ((fd = open_queue_file(argv[i], label)) < 0)
		    msg_fatal("open queue file %s: %s", argv[i], strerror(errno));
		show_file(fd, vstring_str(label));
	    } else {
		if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC)) < 0)
		    msg_fatal("open %s: %s", argv[i], strerror(errno));
		show_file(fd, argv[i]);
	    }
	    (void) close(fd);
	}
    }
    vstream_fflush(out);
    vstream_release(out);
    vstring_free(label);
    exit(0);
}
