/*
 * NAME
 *	sendmail_smtp - sendmail -bs: SMTP on standard input and output
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	void sm_smtp(SM_MESSAGE *msg);
 * DESCRIPTION
 *	sm_smtp() speaks SMTP with the process on standard input and
 *	output, as Postfix's smtpd does in "sendmail -bs" mode: the
 *	client is "localhost[127.0.0.1]", relaying and the other access
 *	checks of smtpd do not apply (the user may submit mail anyway),
 *	and each message goes through postdrop like any other local
 *	submission. "250 2.0.0 Ok: queued as ID" comes only after
 *	postdrop has the message on disk; ID is the maildrop file's.
 *
 *	Commands: HELO, EHLO (PIPELINING, SIZE, VRFY, ETRN,
 *	ENHANCEDSTATUSCODES, 8BITMIME), MAIL FROM (SIZE= and BODY=),
 *	RCPT TO (up to smtpd_recipient_limit), DATA (message_size_limit),
 *	RSET, NOOP, VRFY (252, as smtpd without a recipient check), ETRN
 *	(458: there is no flush service to ask from here, as in Postfix),
 *	QUIT, with Postfix's replies. DSN, SMTPUTF8, CHUNKING, STARTTLS and
 *	AUTH are not offered here.
 *
 *	Logging is smtpd's: "connect from localhost[127.0.0.1]", "ID:
 *	client=localhost[127.0.0.1]", "disconnect from ... commands=N/M".
 * SEE ALSO
 *	smtpd(8), sendmail(1)
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_addr.h"
#include "global/mail_cmd_log.h"
#include "global/mail_conf.h"
#include "global/mail_header.h"
#include "global/maildrop_file.h"
#include "sendmail.h"

#define CLIENT_NAME	"localhost"
#define CLIENT_ADDR	"127.0.0.1"
#define CLIENT		CLIENT_NAME "[" CLIENT_ADDR "]"

/* Commands, in the order of smtpd's disconnect line. */
enum {
    CMD_HELO, CMD_EHLO, CMD_STARTTLS, CMD_AUTH, CMD_MAIL, CMD_RCPT, CMD_DATA,
    CMD_BDAT, CMD_RSET, CMD_NOOP, CMD_VRFY, CMD_ETRN, CMD_QUIT, CMD_UNKNOWN,
    CMD_COUNT
};
static const char *cmd_names[CMD_COUNT] = {
    "helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "bdat",
    "rset", "noop", "vrfy", "etrn", "quit", "unknown",
};

typedef struct SM_SMTP {
    VSTREAM *in;
    VSTREAM *out;
    SM_MESSAGE *msg;
    char   *helo;
    const char *protocol;		/* SMTP or ESMTP */
    char   *sender;			/* NULL: no MAIL yet */
    ARGV   *rcpts;
    int     total[CMD_COUNT];
    int     ok[CMD_COUNT];
    int     quit;
    const char *where;			/* for "lost connection after" */
} SM_SMTP;

static void reply(SM_SMTP *s, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void reply(SM_SMTP *s, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    {
	VSTRING *buf = vstring_alloc(100);

	vstring_vsprintf_append(buf, fmt, ap);
	vstream_fprintf(s->out, "%s\r\n", vstring_str(buf));
	vstring_free(buf);
    }
    va_end(ap);
    (void) vstream_fflush(s->out);
}

static void reset(SM_SMTP *s)
{
    myfree(s->sender);
    s->sender = 0;
    argv_truncate(s->rcpts, 0);
}

/* address - "FROM:<addr> params" into addr; the text after it */
static const char *address(const char *arg, const char *verb, VSTRING *addr,
			           int flags, int *err)
{
    size_t  vlen = strlen(verb);
    const char *cp;
    const char *end;
    char   *text;

    *err = 0;
    if (strncasecmp(arg, verb, vlen) != 0) {
	*err = 1;
	return (0);
    }
    cp = arg + vlen;
    while (*cp == ' ')
	cp++;
    if (*cp == '<') {
	if ((end = strchr(cp, '>')) == 0) {
	    *err = 2;
	    return (0);
	}
	end++;
    } else {
	end = cp + strcspn(cp, " ");
    }
    text = mystrndup(cp, end - cp);
    if (mail_addr_parse(text, flags, addr) != MAIL_ADDR_OK)
	*err = 2;
    myfree(text);
    while (*end == ' ')
	end++;
    return (end);
}

static void mail_cmd(SM_SMTP *s, const char *arg)
{
    VSTRING *addr = vstring_alloc(100);
    const char *params;
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    int     err;
    char   *copy, *bp, *p;

    if (s->sender) {
	reply(s, "503 5.5.1 Error: nested MAIL command");
	vstring_free(addr);
	return;
    }
    params = address(arg, "FROM:", addr, MAIL_ADDR_FLAG_EMPTY_OK, &err);
    if (err == 1 || (err == 0 && params == 0)) {
	reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    } else if (err) {
	reply(s, "501 5.1.7 Bad sender address syntax");
    } else {
	bp = copy = mystrdup(params);
	while ((p = mystrtok(&bp, " ")) != 0) {
	    if (strncasecmp(p, "SIZE=", 5) == 0) {
		if (limit > 0 && strtoul(p + 5, 0, 10) > (unsigned long) limit) {
		    reply(s, "552 5.3.4 Message size exceeds fixed limit");
		    break;
		}
	    } else if (strcasecmp(p, "BODY=8BITMIME") == 0 || strcasecmp(p, "BODY=7BIT") == 0) {
		 /* void */ ;
	    } else {
		reply(s, "555 5.5.4 Unsupported option: %s", p);
		break;
	    }
	}
	if (p == 0) {
	    s->sender = vstring_export(addr);
	    addr = 0;
	    s->ok[CMD_MAIL]++;
	    reply(s, "250 2.1.0 Ok");
	}
	myfree(copy);
    }
    if (addr)
	vstring_free(addr);
}

static void rcpt_cmd(SM_SMTP *s, const char *arg)
{
    VSTRING *addr = vstring_alloc(100);
    const char *params;
    int     err;

    if (s->sender == 0) {
	reply(s, "503 5.5.1 Error: need MAIL command");
    } else if ((params = address(arg, "TO:", addr, 0, &err)), err == 1) {
	reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    } else if (err) {
	reply(s, "501 5.1.3 Bad recipient address syntax");
    } else if (*params) {
	reply(s, "555 5.5.4 Unsupported option: %s", params);
    } else if ((long) s->rcpts->argc >= mail_conf_int(VAR_SMTPD_RECIPIENT_LIMIT)) {
	reply(s, "452 4.5.3 Error: too many recipients");
    } else {
	argv_add(s->rcpts, vstring_str(addr));
	s->ok[CMD_RCPT]++;
	reply(s, "250 2.1.5 Ok");
    }
    vstring_free(addr);
}

/* drop_lines - a CRLF-separated header block as L records */
static void drop_lines(SM_DROP *drop, const char *text)
{
    const char *cp;

    while (*text && (cp = strstr(text, "\r\n")) != 0) {
	sm_drop_rec(drop, MAILDROP_REC_LINE, text, cp - text);
	text = cp + 2;
    }
}

static void data_cmd(SM_SMTP *s)
{
    SM_MESSAGE m = *s->msg;
    SM_DROP *drop;
    VSTRING *line = vstring_alloc(1024);
    VSTRING *hdr = vstring_alloc(300);
    MAIL_HEADER_CLIENT client;
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    long    size = 0;
    int     line_start = 1;
    int     too_big = 0;
    int     ret;

    if (s->sender == 0 || s->rcpts->argc == 0) {
	reply(s, "503 5.5.1 Error: need RCPT command");
	vstring_free(line);
	vstring_free(hdr);
	return;
    }
    m.sender = s->sender;
    m.full_name = 0;				/* as Postfix: From: is the address */
    drop = sm_drop_open(&m, 1);
    msg_info("%s: client=%s", sm_drop_id(drop), CLIENT);
    sm_drop_envelope(drop, &m, s->rcpts);
    client.helo = s->helo;
    client.name = CLIENT_NAME;
    client.addr = CLIENT_ADDR;
    client.protocol = s->protocol;
    client.comment = 0;
    mail_header_received_smtp(hdr, &client, sm_drop_id(drop),
			      s->rcpts->argc == 1 ? s->rcpts->argv[0] : 0, time((time_t *) 0));
    drop_lines(drop, vstring_str(hdr));
    reply(s, "354 End data with <CR><LF>.<CR><LF>");
    s->where = "DATA";
    for (;;) {
	char   *cp;
	size_t  len;
	int     complete;

	ret = vstream_get_line(s->in, line, MAILDROP_REC_MAX);
	if (ret == VSTREAM_EOF || ret == VSTREAM_PARTIAL) {
	    sm_drop_abort(drop);
	    msg_info("lost connection after DATA from %s", CLIENT);
	    s->quit = 1;
	    vstring_free(line);
	    vstring_free(hdr);
	    return;
	}
	cp = vstring_str(line);
	len = vstring_len(line);
	complete = (ret == VSTREAM_LINE);
	if (complete && len > 0 && cp[len - 1] == '\r')
	    len--;
	if (line_start && complete && len == 1 && cp[0] == '.')
	    break;
	if (line_start && len > 0 && cp[0] == '.')
	    cp++, len--;
	size += (long) len + complete;
	if (limit > 0 && size > limit)
	    too_big = 1;
	if (!too_big)
	    sm_drop_rec(drop, complete ? MAILDROP_REC_LINE : MAILDROP_REC_PART, cp, len);
	line_start = complete;
    }
    s->where = "END-OF-MESSAGE";
    if (too_big) {
	sm_drop_abort(drop);
	msg_warn("queue file size limit exceeded");
	reply(s, "552 5.3.4 Error: message file too big");
    } else {
	VSTRING *id = vstring_alloc(20);

	vstring_strcpy(id, sm_drop_id(drop));
	sm_drop_rec(drop, MAILDROP_REC_END, "", 0);
	if (sm_drop_close(drop) != 0) {
	    reply(s, "451 4.3.0 Error: queue file write error");
	} else {
	    s->ok[CMD_DATA]++;
	    reply(s, "250 2.0.0 Ok: queued as %s", vstring_str(id));
	}
	vstring_free(id);
    }
    reset(s);
    vstring_free(line);
    vstring_free(hdr);
}

static void ehlo_cmd(SM_SMTP *s, const char *arg, int ehlo)
{
    const char *host = mail_conf_str(VAR_MYHOSTNAME);

    if (*arg == 0) {
	reply(s, "501 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
	return;
    }
    myfree(s->helo);
    s->helo = mystrdup(arg);
    reset(s);
    s->ok[ehlo ? CMD_EHLO : CMD_HELO]++;
    if (!ehlo) {
	s->protocol = "SMTP";
	reply(s, "250 %s", host);
	return;
    }
    s->protocol = "ESMTP";
    vstream_fprintf(s->out, "250-%s\r\n250-PIPELINING\r\n", host);
    if (mail_conf_int(VAR_MESSAGE_SIZE_LIMIT) > 0)
	vstream_fprintf(s->out, "250-SIZE %ld\r\n", mail_conf_int(VAR_MESSAGE_SIZE_LIMIT));
    else
	vstream_fprintf(s->out, "250-SIZE\r\n");
    reply(s, "250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME");
}

/* command - which command a line is, CMD_UNKNOWN when none */
static int command(const char *word)
{
    for (int i = 0; i < CMD_COUNT; i++)
	if (i != CMD_UNKNOWN && strcasecmp(word, cmd_names[i]) == 0)
	    return (i);
    return (CMD_UNKNOWN);
}

static void disconnect_log(SM_SMTP *s)
{
    VSTRING *buf = vstring_alloc(200);
    int     all_ok = 0;
    int     all = 0;

    vstring_sprintf(buf, "disconnect from %s", CLIENT);
    for (int i = 0; i < CMD_COUNT; i++) {
	if (s->total[i] == 0 && i != CMD_UNKNOWN)
	    continue;
	if (i == CMD_UNKNOWN && s->total[i] == 0)
	    continue;
	if (s->ok[i] == s->total[i])
	    vstring_sprintf_append(buf, " %s=%d", cmd_names[i], s->total[i]);
	else
	    vstring_sprintf_append(buf, " %s=%d/%d", cmd_names[i], s->ok[i], s->total[i]);
	all_ok += s->ok[i];
	all += s->total[i];
    }
    if (all_ok == all)
	vstring_sprintf_append(buf, " commands=%d", all);
    else
	vstring_sprintf_append(buf, " commands=%d/%d", all_ok, all);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

void    sm_smtp(SM_MESSAGE *msg)
{
    SM_SMTP s;
    VSTRING *line = vstring_alloc(100);
    char   *banner;

    memset(&s, 0, sizeof(s));
    s.in = vstream_fdopen(0);
    s.out = vstream_fdopen(1);
    s.msg = msg;
    s.protocol = "SMTP";
    s.rcpts = argv_alloc(4);
    s.where = "CONNECT";

    /* smtpd's name in the log: this is what Postfix's "sendmail -bs" is. */
    mail_cmd_log_init("smtpd");
    msg_to_stderr(0);
    msg_info("connect from %s", CLIENT);
    banner = mail_conf_expand(mail_conf_str(VAR_SMTPD_BANNER));
    reply(&s, "220 %s", banner);
    myfree(banner);

    while (!s.quit) {
	int     ret = vstream_get_line(s.in, line, mail_conf_int(VAR_LINE_LENGTH_LIMIT));
	char   *cp, *word, *arg;
	int     cmd;

	if (ret == VSTREAM_EOF) {
	    msg_info("lost connection after %s from %s", s.where, CLIENT);
	    break;
	}
	if (ret == VSTREAM_LONG) {
	    while ((ret = vstream_get_line(s.in, line, mail_conf_int(VAR_LINE_LENGTH_LIMIT))) == VSTREAM_LONG)
		 /* void */ ;
	    reply(&s, "500 5.5.2 Error: command not recognized");
	    s.total[CMD_UNKNOWN]++;
	    continue;
	}
	cp = vstring_str(line);
	if (vstring_len(line) > 0 && cp[vstring_len(line) - 1] == '\r')
	    vstring_truncate(line, vstring_len(line) - 1);
	cp = vstring_str(line);
	while (*cp == ' ')
	    cp++;
	word = cp;
	cp += strcspn(cp, " ");
	if (*cp)
	    *cp++ = 0;
	while (*cp == ' ')
	    cp++;
	arg = cp;
	cmd = command(word);
	s.total[cmd]++;
	if (cmd != CMD_UNKNOWN)
	    s.where = cmd_names[cmd];
	switch (cmd) {
	case CMD_HELO:
	case CMD_EHLO:
	    ehlo_cmd(&s, arg, cmd == CMD_EHLO);
	    break;
	case CMD_MAIL:
	    mail_cmd(&s, arg);
	    break;
	case CMD_RCPT:
	    rcpt_cmd(&s, arg);
	    break;
	case CMD_DATA:
	    if (*arg)
		reply(&s, "501 5.5.4 Syntax: DATA");
	    else
		data_cmd(&s);
	    break;
	case CMD_RSET:
	case CMD_NOOP:
	    if (cmd == CMD_RSET)
		reset(&s);
	    s.ok[cmd]++;
	    reply(&s, "250 2.0.0 Ok");
	    break;
	case CMD_VRFY:
	    if (*arg == 0) {
		reply(&s, "501 5.5.4 Syntax: VRFY address");
	    } else {
		s.ok[cmd]++;
		reply(&s, "252 2.0.0 %s", arg);
	    }
	    break;
	case CMD_ETRN:
	    msg_warn("do not use ETRN in \"sendmail -bs\" mode");
	    reply(&s, "458 Unable to queue messages");
	    break;
	case CMD_QUIT:
	    s.ok[cmd]++;
	    reply(&s, "221 2.0.0 Bye");
	    s.quit = 1;
	    break;
	case CMD_STARTTLS:
	case CMD_BDAT:
	    reply(&s, "502 5.5.1 Error: command not implemented");
	    break;
	case CMD_AUTH:
	    reply(&s, "503 5.5.1 Error: authentication not enabled");
	    break;
	default:
	    reply(&s, "500 5.5.2 Error: command not recognized");
	    break;
	}
    }
    disconnect_log(&s);
    reset(&s);
    myfree(s.helo);
    argv_free(s.rcpts);
    vstring_free(line);
    vstream_release(s.in);
    vstream_fflush(s.out);
    vstream_release(s.out);
}
