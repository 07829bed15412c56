/*
 * NAME
 *	smtpd_proxy - smtpd_proxy_filter: a before-queue content filter
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_proxy_init(void);
 *	int smtpd_proxy_mail(SMTPD_STATE *state, const char *addr,
 *			     const char *params);
 *	int smtpd_proxy_rcpt(SMTPD_STATE *state, const char *addr,
 *			     const char *params);
 *	int smtpd_proxy_data(SMTPD_STATE *state);
 *	int smtpd_proxy_message(SMTPD_STATE *state, QUEUE_WRITER *qw);
 *	void smtpd_proxy_close(SMTPD_STATE *state);
 * DESCRIPTION
 *	With smtpd_proxy_filter set, smtpd queues nothing itself: each
 *	mail transaction is passed to the filter, an SMTP server that is
 *	expected to hand the mail to another smtpd, and the filter's
 *	replies are the client's replies.
 *
 *	smtpd_proxy_mail() runs when smtpd's own checks passed MAIL FROM:
 *	it connects to the filter (smtpd_proxy_timeout for the connection
 *	and for each reply), reads its greeting, sends "EHLO
 *	$smtpd_proxy_ehlo" and the client's MAIL FROM. smtpd_proxy_rcpt()
 *	and smtpd_proxy_data() pass RCPT TO and DATA on. Each returns
 *	SMTPD_CHECK_OK with the filter's 2xx/3xx reply in state->reply (the
 *	caller sends its own 2xx/3xx reply, as Postfix does), or
 *	SMTPD_CHECK_REJECT with the filter's refusal there. With smtpd_proxy_options = speed_adjust, nothing is sent
 *	until the whole message has arrived: MAIL, RCPT and DATA are then
 *	replayed and only the end-of-data reply is the filter's.
 *
 *	The message is spooled while it arrives (smtpd_data.c writes the
 *	queue file as usual, our Received: header first);
 *	smtpd_proxy_message() then sends it, dot-stuffed, and returns the
 *	filter's reply to the final dot in state->reply (OK for 2xx). The
 *	spool file is never committed: the caller removes it; it is logged
 *	"NOQUEUE: client=..." and our Received: header has no queue ID, as
 *	Postfix's in this mode. Logged as Postfix 3.7 does: "proxy-accept: END-OF-MESSAGE: 250 ...; from=<s>
 *	to=<r> proto=ESMTP helo=<h>" or "proxy-reject: END-OF-MESSAGE:
 *	550 ...; ...".
 *
 *	smtpd_proxy_close() ends the filter's session (QUIT) at the end
 *	of every transaction.
 * DIAGNOSTICS
 *	A filter that cannot be reached, times out, hangs up or says
 *	something that is not SMTP: "warning: connect to proxy filter
 *	NAME: reason" or "warning: proxy filter NAME: reason", and the
 *	client gets "451 4.3.0 Error: queue file write error", Postfix's
 *	generic reply.
 * SEE ALSO
 *	Postfix's SMTPD_PROXY_README
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/endpoint.h"
#include "global/info_log_addr.h"
#include "smtpd.h"

struct SMTPD_PROXY {
    VSTREAM *fp;
    ARGV   *replay;			/* speed_adjust: commands not yet sent */
};

static char *proxy_name;		/* smtpd_proxy_filter, or NULL */
static int proxy_timeout;
static int proxy_speed_adjust;
static char *proxy_ehlo;

#define PROXY_GENERIC	"451 4.3.0 Error: queue file write error"

void    smtpd_proxy_init(void)
{
    ARGV   *opts;
    const char *name = mail_conf_str(VAR_SMTPD_PROXY_FILTER);

    if (*name == 0)
	return;
    /* Postfix: a bare "host:port" is an inet endpoint. */
    proxy_name = mystrdup(name);
    proxy_timeout = (int) mail_conf_time(VAR_SMTPD_PROXY_TIMEOUT);
    proxy_ehlo = mystrdup(mail_conf_str(VAR_SMTPD_PROXY_EHLO));
    opts = argv_split_list(mail_conf_str(VAR_SMTPD_PROXY_OPTIONS));
    for (size_t i = 0; i < opts->argc; i++) {
	if (strcasecmp(opts->argv[i], "speed_adjust") == 0)
	    proxy_speed_adjust = 1;
	else
	    msg_fatal("invalid %s value: %s", VAR_SMTPD_PROXY_OPTIONS, opts->argv[i]);
    }
    argv_free(opts);
}

int     smtpd_proxy_active(void)
{
    return (proxy_name != 0);
}

/* proxy_fail - the filter is unusable: log, generic reply, drop it */
static int proxy_fail(SMTPD_STATE *state, const char *why)
{
    msg_warn("proxy filter %s: %s", proxy_name, why);
    vstring_strcpy(state->reply, PROXY_GENERIC);
    if (state->proxy && state->proxy->fp) {
	(void) vstream_close(state->proxy->fp);
	state->proxy->fp = 0;
    }
    return (SMTPD_CHECK_REJECT);
}

/* proxy_reply - read one (multi-line) reply into state->reply; its code or -1 */
static int proxy_reply(SMTPD_STATE *state)
{
    VSTRING *line = vstring_alloc(100);
    int     ret, code = -1;

    vstring_reset(state->reply);
    for (;;) {
	ret = vstream_get_line(state->proxy->fp, line, 2048);
	if (ret != VSTREAM_LINE) {
	    code = -1;
	    break;
	}
	if (vstring_len(line) > 0 && vstring_str(line)[vstring_len(line) - 1] == '\r')
	    vstring_truncate(line, vstring_len(line) - 1);
	if (vstring_len(line) < 3 || !isdigit((unsigned char) vstring_str(line)[0])
	    || !isdigit((unsigned char) vstring_str(line)[1])
	    || !isdigit((unsigned char) vstring_str(line)[2])) {
	    code = -2;
	    break;
	}
	if (vstring_len(state->reply) > 0)
	    vstring_strcat(state->reply, "\r\n");
	vstring_strcat(state->reply, vstring_str(line));
	code = atoi(vstring_str(line));
	if (vstring_len(line) == 3 || vstring_str(line)[3] != '-')
	    break;
    }
    vstring_free(line);
    return (code);
}

/* proxy_cmd - one command and its reply; the reply code, or -1 (logged) */
static int proxy_cmd(SMTPD_STATE *state, const char *cmd)
{
    int     code;

    vstream_set_timeout(state->proxy->fp, proxy_timeout);
    if (cmd && (vstream_fprintf(state->proxy->fp, "%s\r\n", cmd) < 0
		|| vstream_fflush(state->proxy->fp) != 0)) {
	proxy_fail(state, "error sending command");
	return (-1);
    }
    if ((code = proxy_reply(state)) < 0) {
	proxy_fail(state, code == -2 ? "malformed reply" :
		   vstream_ftimeout(state->proxy->fp) ? "timeout" : "lost connection");
	return (-1);
    }
    return (code);
}

/* proxy_open - connect, greeting, EHLO */
static int proxy_open(SMTPD_STATE *state)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *cmd;
    int     code;

    if (state->proxy == 0)
	state->proxy = mycalloc(1, sizeof(*state->proxy));
    if ((state->proxy->fp = endpoint_connect(proxy_name, proxy_timeout, why)) == 0) {
	msg_warn("connect to proxy filter %s: %s", proxy_name, vstring_str(why));
	vstring_free(why);
	vstring_strcpy(state->reply, PROXY_GENERIC);
	return (SMTPD_CHECK_REJECT);
    }
    vstring_free(why);
    if ((code = proxy_cmd(state, (char *) 0)) < 0)
	return (SMTPD_CHECK_REJECT);
    if (code != 220)
	return (proxy_fail(state, "bad greeting"));
    cmd = vstring_alloc(100);
    vstring_sprintf(cmd, "EHLO %s", proxy_ehlo);
    code = proxy_cmd(state, vstring_str(cmd));
    vstring_free(cmd);
    if (code < 0)
	return (SMTPD_CHECK_REJECT);
    if (code != 250)
	return (proxy_fail(state, "EHLO refused"));
    return (SMTPD_CHECK_OK);
}

/* proxy_send - a command now, or (speed_adjust) at the end of the message */
static int proxy_send(SMTPD_STATE *state, const char *cmd, int want)
{
    int     code;

    if (proxy_speed_adjust) {
	argv_add(state->proxy->replay, cmd);
	vstring_strcpy(state->reply, "");
	return (SMTPD_CHECK_OK);
    }
    if (state->proxy->fp == 0)
	return (proxy_fail(state, "no connection"));
    if ((code = proxy_cmd(state, cmd)) < 0)
	return (SMTPD_CHECK_REJECT);
    return (code / 100 == want ? SMTPD_CHECK_OK : SMTPD_CHECK_REJECT);
}

/* proxy_args_cmd - "VERB:<addr> params" */
static char *proxy_args_cmd(const char *verb, const char *addr, const char *params)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s<%s>", verb, addr);
    if (params && *params)
	vstring_sprintf_append(buf, " %s", params);
    return (vstring_export(buf));
}

int     smtpd_proxy_mail(SMTPD_STATE *state, const char *addr, const char *params)
{
    char   *cmd;
    int     ret;

    if (proxy_name == 0)
	return (SMTPD_CHECK_OK);
    smtpd_proxy_close(state);
    if (state->proxy == 0)
	state->proxy = mycalloc(1, sizeof(*state->proxy));
    state->proxy->replay = argv_alloc(4);
    if (!proxy_speed_adjust && proxy_open(state) != SMTPD_CHECK_OK)
	return (SMTPD_CHECK_REJECT);
    cmd = proxy_args_cmd("MAIL FROM:", addr, params);
    ret = proxy_send(state, cmd, 2);
    myfree(cmd);
    return (ret);
}

int     smtpd_proxy_rcpt(SMTPD_STATE *state, const char *addr, const char *params)
{
    char   *cmd;
    int     ret;

    if (state->proxy == 0)
	return (SMTPD_CHECK_OK);
    cmd = proxy_args_cmd("RCPT TO:", addr, params);
    ret = proxy_send(state, cmd, 2);
    myfree(cmd);
    return (ret);
}

int     smtpd_proxy_data(SMTPD_STATE *state)
{
    if (state->proxy == 0)
	return (SMTPD_CHECK_OK);
    return (proxy_send(state, "DATA", 3));
}

/* proxy_replay - speed_adjust: the envelope now; OK when the filter takes it */
static int proxy_replay(SMTPD_STATE *state)
{
    ARGV   *cmds = state->proxy->replay;
    int     code;
    int     accepted = 0;

    if (proxy_open(state) != SMTPD_CHECK_OK)
	return (SMTPD_CHECK_REJECT);
    for (size_t i = 0; i < cmds->argc; i++) {
	const char *cmd = cmds->argv[i];

	if ((code = proxy_cmd(state, cmd)) < 0)
	    return (SMTPD_CHECK_REJECT);
	if (strncmp(cmd, "RCPT", 4) == 0) {
	    accepted += code / 100 == 2;
	    continue;
	}
	if (strcmp(cmd, "DATA") == 0 ? code != 354 : code / 100 != 2)
	    return (SMTPD_CHECK_REJECT);
	if (strcmp(cmd, "DATA") != 0 && i + 1 < cmds->argc
	    && strcmp(cmds->argv[i + 1], "DATA") == 0 && accepted == 0)
	    return (SMTPD_CHECK_REJECT);
    }
    return (SMTPD_CHECK_OK);
}

/* proxy_log - Postfix's proxy-accept / proxy-reject line */
static void proxy_log(SMTPD_STATE *state, const char *what)
{
    VSTRING *buf = vstring_alloc(200);
    VSTRING *addr = vstring_alloc(100);
    char   *reply = mystrdup(vstring_str(state->reply));
    char   *nl;

    if ((nl = strpbrk(reply, "\r\n")) != 0)
	*nl = 0;
    vstring_sprintf(buf, "%s: END-OF-MESSAGE: %s; from=<%s>", what, reply,
		    info_log_addr(addr, state->sender ? state->sender : ""));
    if (state->last_rcpt)
	vstring_sprintf_append(buf, " to=<%s>", info_log_addr(addr, state->last_rcpt));
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
	vstring_sprintf_append(buf, " helo=<%s>", state->helo_name);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
    vstring_free(addr);
    myfree(reply);
}

int     smtpd_proxy_message(SMTPD_STATE *state, QUEUE_WRITER *qw)
{
    VSTREAM *src;
    VSTREAM *out;
    off_t   left = queue_writer_msg_size(qw);
    int     at_bol = 1;
    int     ch, code;

    if (state->proxy == 0)
	return (SMTPD_CHECK_OK);
    if (proxy_speed_adjust && proxy_replay(state) != SMTPD_CHECK_OK) {
	proxy_log(state, "proxy-reject");
	return (SMTPD_CHECK_REJECT);
    }
    if (state->proxy->fp == 0) {
	vstring_strcpy(state->reply, PROXY_GENERIC);
	return (SMTPD_CHECK_REJECT);
    }
    if ((src = queue_writer_reader(qw)) == 0
	|| vstream_seek(src, queue_writer_msg_offset(qw), SEEK_SET) < 0) {
	if (src)
	    (void) vstream_close(src);
	msg_warn("%s: cannot read the spooled message", state->queue_id);
	vstring_strcpy(state->reply, PROXY_GENERIC);
	return (SMTPD_CHECK_REJECT);
    }
    out = state->proxy->fp;
    vstream_set_timeout(out, proxy_timeout);
    /* The message, dot-stuffed, then the end of data. */
    while (left-- > 0 && (ch = vstream_getc(src)) != VSTREAM_EOF) {
	if (at_bol && ch == '.')
	    (void) vstream_write(out, ".", 1);
	(void) vstream_write(out, (char[]) {(char) ch}, 1);
	at_bol = (ch == '\n');
    }
    (void) vstream_close(src);
    if (!at_bol)
	(void) vstream_write(out, "\r\n", 2);
    if ((code = proxy_cmd(state, ".")) < 0)
	return (SMTPD_CHECK_REJECT);
    proxy_log(state, code / 100 == 2 ? "proxy-accept" : "proxy-reject");
    return (code / 100 == 2 ? SMTPD_CHECK_OK : SMTPD_CHECK_REJECT);
}

void    smtpd_proxy_close(SMTPD_STATE *state)
{
    if (state->proxy == 0)
	return;
    if (state->proxy->fp) {
	vstream_set_timeout(state->proxy->fp, proxy_timeout);
	(void) vstream_fprintf(state->proxy->fp, "QUIT\r\n");
	(void) vstream_fflush(state->proxy->fp);
	(void) vstream_close(state->proxy->fp);
    }
    if (state->proxy->replay)
	argv_free(state->proxy->replay);
    myfree(state->proxy);
    state->proxy = 0;
}
