/*
 * NAME
 *	postscreen_smtpd - the dummy SMTP engine for clients that failed
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_smtpd_init(void);
 *	void psc_smtpd_start(PSC_STATE *state);
 * DESCRIPTION
 *	A client that failed a test with the "enforce" action, or that
 *	still has to pass the deep protocol tests, talks to this engine,
 *	which never accepts mail, so that the log shows the
 *	sender and recipients it tried (Postfix's "NOQUEUE: reject: RCPT
 *	from [addr]:port: REPLY; from=<S>, to=<R>, proto=ESMTP,
 *	helo=<H>"). Its replies are Postfix 3.7 postscreen's:
 *
 *	greeting	"220 $smtpd_banner", unless the client already
 *			talked (it pregreeted)
 *	HELO, EHLO	"250 $myhostname"; EHLO lists SIZE, VRFY (unless
 *			postscreen_disable_vrfy_command), ETRN,
 *			ENHANCEDSTATUSCODES, 8BITMIME, DSN, CHUNKING (no
 *			PIPELINING, no STARTTLS, no AUTH)
 *	MAIL		"250 2.1.0 Ok" for whatever follows the first
 *			colon, "MAIL TO:<x>" too ("503 5.5.1 Error: send
 *			HELO/EHLO first" with postscreen_helo_required)
 *	RCPT		the test's reply ("550 5.7.1 Service unavailable;
 *			client [addr] blocked using SITE", "550 5.5.1
 *			Protocol error", "550 5.3.2 Service currently
 *			unavailable"), logged (helo=<> without HELO);
 *			"503 5.5.1 Error: need MAIL command" before MAIL,
 *			"501 5.5.4 Syntax: RCPT TO:<address>" without TO:
 *	VRFY		the same reply, not logged ("502 5.5.1 VRFY
 *			command is disabled" when disabled)
 *	DATA, BDAT	"554 5.5.1 Error: no valid recipients", logged as
 *			"DATA without valid RCPT from [addr]:port", then
 *			hang up
 *	RSET, NOOP	"250 2.0.0 Ok"
 *	ETRN		"458 Unable to queue messages"
 *	STARTTLS	"502 5.5.1 Error: command not implemented"
 *	QUIT		"221 2.0.0 Bye", hang up
 *	others		"502 5.5.2 Error: command not recognized"
 *
 *	After postscreen_command_count_limit commands the next one gets
 *	"421 $myhostname Service unavailable - try again later" ("COMMAND
 *	COUNT LIMIT from [addr]:port after CMD"); a client that sends no
 *	complete command for postscreen_command_time_limit gets "421 4.4.2
 *	$myhostname Error: timeout exceeded" ("COMMAND TIME LIMIT from
 *	[addr]:port after CMD"). A client that hangs up without QUIT is
 *	logged "HANGUP after S from [addr]:port in tests after SMTP
 *	handshake". Every end is logged "DISCONNECT [addr]:port".
 *
 *	The deep protocol tests (state->deep_todo), each looked at until
 *	it fails, in this order for each line:
 *
 *	bare newline	a line that ends in LF without CR: "BARE NEWLINE
 *			from [addr]:port after LINE"
 *	pipelining	more input already here when a command is read
 *			(PIPELINING is never announced): "COMMAND
 *			PIPELINING from [addr]:port after VERB: TEXT"
 *	non-SMTP	a command that the engine does not know and that
 *			is in postscreen_forbidden_commands, or a line that
 *			looks like a header ("Name: ..."): "NON-SMTP
 *			COMMAND from [addr]:port after PREVIOUS-VERB:
 *			LINE" (CONNECT before the first command)
 *
 *	Their actions: drop answers "521 5.5.1 Protocol error" ("521
 *	5.7.0 Error: I can break rules, too. Goodbye." for a non-SMTP
 *	command) and hangs up before the command runs; enforce makes RCPT
 *	and VRFY answer "550 5.5.1 Protocol error" (unless an earlier test
 *	set the reply); ignore records the failure (the test runs again
 *	at the next visit) and goes on. The tests go on after RCPT. A
 *	client that reached RCPT, and did not fail with enforce or drop
 *	until the session ends, has passed: psc_deep_done() logs "PASS
 *	NEW" and remembers it. It cannot be handed to smtpd in
 *	mid-session: RCPT and VRFY tell it "450 4.3.2 Service currently
 *	unavailable".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/events.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "postscreen.h"

#define PSC_LINE_MAX	2048		/* bytes of one command looked at */

static char *psc_hostname;
static char *psc_banner;
static char *psc_ehlo_reply;
static int psc_disable_vrfy;
static int psc_helo_required;
static MATCH_LIST *psc_forbidden;		/* postscreen_forbidden_commands */
int     psc_pipel_action;
int     psc_nsmtp_action;
int     psc_barlf_action;

#define PSC_DEEP_PASS_REPLY	"450 4.3.2 Service currently unavailable"

void    psc_smtpd_init(void)
{
    VSTRING *buf = vstring_alloc(200);
    long    size = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);

    psc_hostname = mystrdup(mail_conf_str(VAR_MYHOSTNAME));
    psc_banner = mystrdup(mail_conf_str(VAR_SMTPD_BANNER));
    psc_disable_vrfy = mail_conf_bool(VAR_POSTSCREEN_DISABLE_VRFY_COMMAND);
    psc_helo_required = mail_conf_bool(VAR_POSTSCREEN_HELO_REQUIRED);
    psc_pipel_action = psc_action(VAR_POSTSCREEN_PIPELINING_ACTION);
    psc_nsmtp_action = psc_action(VAR_POSTSCREEN_NON_SMTP_COMMAND_ACTION);
    psc_barlf_action = psc_action(VAR_POSTSCREEN_BARE_NEWLINE_ACTION);
    psc_forbidden = match_list_create(VAR_POSTSCREEN_FORBIDDEN_COMMANDS,
				      mail_conf_str(VAR_POSTSCREEN_FORBIDDEN_COMMANDS), 0);
    vstring_sprintf(buf, "250-%s\r\n", psc_hostname);
    if (size > 0)
	vstring_sprintf_append(buf, "250-SIZE %ld\r\n", size);
    else
	vstring_strcat(buf, "250-SIZE\r\n");
    if (!psc_disable_vrfy)
	vstring_strcat(buf, "250-VRFY\r\n");
    vstring_strcat(buf, "250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
		   "250-DSN\r\n250 CHUNKING\r\n");
    psc_ehlo_reply = vstring_export(buf);
}

static void psc_smtpd_read(int, void *);
static void psc_smtpd_timeout(int, void *);
static int psc_reply(PSC_STATE *, const char *);

/* psc_smtpd_end - hang up */
static void psc_smtpd_end(PSC_STATE *state)
{
    event_cancel_timer(psc_smtpd_timeout, state);
    if (state->flags & PSC_FLAG_DEEP)
	psc_deep_done(state);
    psc_disconnect(state);
}

/* psc_final_reply - what RCPT and VRFY get */
static const char *psc_final_reply(PSC_STATE *state)
{
    return (state->final_reply ? state->final_reply : PSC_DEEP_PASS_REPLY);
}

/* psc_known_verb - a command that this engine implements */
static int psc_known_verb(const char *verb)
{
    static const char *const known[] = {
	"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "VRFY", "RSET", "NOOP",
	"ETRN", "STARTTLS", "QUIT", 0,
    };

    for (const char *const *cpp = known; *cpp; cpp++)
	if (strcasecmp(verb, *cpp) == 0)
	    return (1);
    return (0);
}

/* psc_header_line - does the line start like a message header ("Name:") */
static int psc_header_line(const char *line)
{
    const char *cp = line;

    while (*cp > ' ' && *cp < 127 && *cp != ':')
	cp++;
    if (cp == line)
	return (0);
    while (*cp == ' ' || *cp == '\t')
	cp++;
    return (*cp == ':');
}

/*
 * psc_deep_fail - a deep test failed: log (done by the caller) and act.
 * -1 when the client was dropped.
 */
static int psc_deep_fail(PSC_STATE *state, int test, int action, const char *drop_reply)
{
    state->deep_todo &= ~(1 << test);
    switch (action) {
    case PSC_ACT_DROP:
	state->flags |= PSC_FLAG_FAIL;
	(void) psc_reply(state, drop_reply);
	return (-1);
    case PSC_ACT_ENFORCE:
	if (state->final_reply == 0)
	    state->final_reply = mystrdup("550 5.5.1 Protocol error");
	state->flags |= PSC_FLAG_FAIL;
	return (0);
    default:
	/* Remembered as expired now: the test runs again next time. */
	state->deep_expire[test] = time((time_t *) 0);
	return (0);
    }
}

/*
 * psc_deep_rcpt - RCPT: a client that ends the session without failing
 * a deep test with enforce or drop will have passed them
 */
static void psc_deep_rcpt(PSC_STATE *state)
{
    if (state->flags & PSC_FLAG_DEEP)
	state->flags |= PSC_FLAG_DEEP_PASS;
}

/* psc_reply - one reply line; -1 when the client is gone */
static int psc_reply(PSC_STATE *state, const char *text)
{
    VSTRING *buf = vstring_alloc(100);
    int     ret;

    vstring_sprintf(buf, "%s\r\n", text);
    ret = psc_write(state, vstring_str(buf));
    vstring_free(buf);
    return (ret);
}

/* psc_path - the address of "FROM:<addr> ..." / "TO:<addr>" */
static char *psc_path(const char *arg)
{
    const char *cp = arg;
    const char *end;

    while (*cp == ' ')
	cp++;
    if (*cp == '<') {
	if ((end = strchr(cp, '>')) == 0)
	    end = cp + strlen(cp);
	return (mystrndup(cp + 1, end - cp - 1));
    }
    end = cp + strcspn(cp, " ");
    return (mystrndup(cp, end - cp));
}

static void psc_set(char **field, char *value)
{
    if (*field)
	myfree(*field);
    *field = value;
}

/*
 * psc_deep_line - the deep tests of one line (bare: it ended in LF
 * alone); 0 to go on, -1 when the client was dropped
 */
static int psc_deep_line(PSC_STATE *state, const char *line, int bare)
{
    const char *cp = line + strspn(line, " \t");
    size_t  vlen = strcspn(cp, " \t");
    char   *verb = mystrndup(cp, vlen);
    VSTRING *text = vstring_alloc(100);
    int     ret = 0;

    if ((state->deep_todo & (1 << PSC_TEST_BARLF)) && bare) {
	psc_printable(text, line, strlen(line));
	msg_info("BARE NEWLINE from %s after %s", state->endpoint, vstring_str(text));
	ret = psc_deep_fail(state, PSC_TEST_BARLF, psc_barlf_action, "521 5.5.1 Protocol error");
    }
    if (ret == 0 && (state->deep_todo & (1 << PSC_TEST_PIPEL))) {
	char    peek[PSC_LINE_MAX];
	ssize_t n = 0;

	if (vstring_len(state->in) > 0) {
	    psc_printable(text, vstring_str(state->in), vstring_len(state->in));
	} else if ((n = recv(state->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT)) > 0) {
	    psc_printable(text, peek, n);
	}
	if (vstring_len(state->in) > 0 || n > 0) {
	    msg_info("COMMAND PIPELINING from %s after %.100s: %.100s", state->endpoint,
		     *verb ? verb : "unknown", vstring_str(text));
	    ret = psc_deep_fail(state, PSC_TEST_PIPEL, psc_pipel_action,
				"521 5.5.1 Protocol error");
	}
    }
    if (ret == 0 && (state->deep_todo & (1 << PSC_TEST_NSMTP)) && !psc_known_verb(verb)
	&& (psc_header_line(cp) || match_list_string(psc_forbidden, verb) > 0)) {
	psc_printable(text, line, strlen(line));
	msg_info("NON-SMTP COMMAND from %s after %s: %.100s", state->endpoint,
		 state->last_cmd ? state->last_cmd : "CONNECT", vstring_str(text));
	ret = psc_deep_fail(state, PSC_TEST_NSMTP, psc_nsmtp_action,
			    "521 5.7.0 Error: I can break rules, too. Goodbye.");
    }
    vstring_free(text);
    myfree(verb);
    return (ret);
}

/* psc_smtpd_command - one command line; 0 to go on, -1 when done */
static int psc_smtpd_command(PSC_STATE *state, char *line, int bare)
{
    char   *cp = line;
    char   *verb;
    char   *arg;
    VSTRING *buf;

    if (state->deep_todo && psc_deep_line(state, line, bare) < 0)
	return (-1);
    while (*cp == ' ' || *cp == '\t')
	cp++;
    verb = cp;
    cp += strcspn(cp, " \t");
    if (*cp)
	*cp++ = 0;
    arg = cp;
    psc_set(&state->last_cmd, mystrdup(*verb ? verb : "unknown"));
    if (++state->commands > mail_conf_int(VAR_POSTSCREEN_COMMAND_COUNT_LIMIT)) {
	msg_info("COMMAND COUNT LIMIT from %s after %s", state->endpoint, state->last_cmd);
	buf = vstring_alloc(100);
	vstring_sprintf(buf, "421 %s Service unavailable - try again later", psc_hostname);
	(void) psc_reply(state, vstring_str(buf));
	vstring_free(buf);
	return (-1);
    }
    if (strcasecmp(verb, "HELO") == 0 || strcasecmp(verb, "EHLO") == 0) {
	if (*trimblanks(arg) == 0) {
	    buf = vstring_alloc(100);
	    vstring_sprintf(buf, "501 Syntax: %s hostname", strcasecmp(verb, "HELO") == 0 ? "HELO" : "EHLO");
	    (void) psc_reply(state, vstring_str(buf));
	    vstring_free(buf);
	    return (0);
	}
	psc_set(&state->helo, mystrdup(arg));
	state->esmtp = strcasecmp(verb, "EHLO") == 0;
	if (state->esmtp)
	    return (psc_write(state, psc_ehlo_reply));
	buf = vstring_alloc(100);
	vstring_sprintf(buf, "250 %s", psc_hostname);
	(void) psc_reply(state, vstring_str(buf));
	vstring_free(buf);
	return (0);
    }
    if (strcasecmp(verb, "MAIL") == 0) {
	if (psc_helo_required && state->helo == 0)
	    return (psc_reply(state, "503 5.5.1 Error: send HELO/EHLO first"));
	/* As Postfix's postscreen: whatever follows the first colon. */
	psc_set(&state->sender, psc_path(strchr(arg, ':') ? strchr(arg, ':') + 1 : arg));
	return (psc_reply(state, "250 2.1.0 Ok"));
    }
    if (strcasecmp(verb, "RCPT") == 0) {
	char   *rcpt;
	VSTRING *rcpt_log;
	VSTRING *helo_log;
	VSTRING *from_log;

	if (state->sender == 0)
	    return (psc_reply(state, "503 5.5.1 Error: need MAIL command"));
	if (strncasecmp(arg, "TO:", 3) != 0)
	    return (psc_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>"));
	psc_deep_rcpt(state);
	rcpt = psc_path(arg + 3);
	rcpt_log = vstring_alloc(100);
	helo_log = vstring_alloc(100);
	from_log = vstring_alloc(100);
	psc_printable(rcpt_log, rcpt, strlen(rcpt));
	psc_printable(from_log, state->sender, strlen(state->sender));
	if (state->helo)
	    psc_printable(helo_log, state->helo, strlen(state->helo));
	msg_info("NOQUEUE: reject: RCPT from %s: %s; from=<%s>, to=<%s>, proto=%s, helo=<%s>",
		 state->endpoint, psc_final_reply(state), vstring_str(from_log),
		 vstring_str(rcpt_log), state->esmtp ? "ESMTP" : "SMTP", vstring_str(helo_log));
	vstring_free(rcpt_log);
	vstring_free(helo_log);
	vstring_free(from_log);
	myfree(rcpt);
	return (psc_reply(state, psc_final_reply(state)));
    }
    if (strcasecmp(verb, "DATA") == 0 || strcasecmp(verb, "BDAT") == 0) {
	msg_info("%s without valid RCPT from %s", strcasecmp(verb, "DATA") == 0 ? "DATA" : "BDAT",
		 state->endpoint);
	(void) psc_reply(state, "554 5.5.1 Error: no valid recipients");
	return (-1);
    }
    if (strcasecmp(verb, "VRFY") == 0) {
	if (psc_disable_vrfy)
	    return (psc_reply(state, "502 5.5.1 VRFY command is disabled"));
	return (psc_reply(state, psc_final_reply(state)));
    }
    if (strcasecmp(verb, "RSET") == 0) {
	psc_set(&state->sender, 0);
	return (psc_reply(state, "250 2.0.0 Ok"));
    }
    if (strcasecmp(verb, "NOOP") == 0)
	return (psc_reply(state, "250 2.0.0 Ok"));
    if (strcasecmp(verb, "ETRN") == 0)
	return (psc_reply(state, "458 Unable to queue messages"));
    if (strcasecmp(verb, "STARTTLS") == 0)
	return (psc_reply(state, "502 5.5.1 Error: command not implemented"));
    if (strcasecmp(verb, "QUIT") == 0) {
	(void) psc_reply(state, "221 2.0.0 Bye");
	return (-1);
    }
    return (psc_reply(state, "502 5.5.2 Error: command not recognized"));
}

static void psc_smtpd_timeout(int event, void *context)
{
    PSC_STATE *state = context;
    VSTRING *buf = vstring_alloc(100);

    (void) event;
    msg_info("COMMAND TIME LIMIT from %s after %s", state->endpoint,
	     state->last_cmd ? state->last_cmd : "CONNECT");
    vstring_sprintf(buf, "421 4.4.2 %s Error: timeout exceeded", psc_hostname);
    (void) psc_reply(state, vstring_str(buf));
    vstring_free(buf);
    psc_smtpd_end(state);
}

/* psc_smtpd_lines - run the complete lines of the input */
static void psc_smtpd_lines(PSC_STATE *state)
{
    for (;;) {
	char   *data = vstring_str(state->in);
	char   *nl = memchr(data, '\n', vstring_len(state->in));
	size_t  len;
	size_t  keep;
	char   *line;
	int     bare;

	if (nl == 0) {
	    /* An endless line: look at its start, drop the rest. */
	    if (vstring_len(state->in) > PSC_LINE_MAX)
		vstring_truncate(state->in, PSC_LINE_MAX);
	    break;
	}
	len = nl - data;
	bare = (len == 0 || data[len - 1] != '\r');
	keep = bare ? len : len - 1;
	line = mystrndup(data, keep > PSC_LINE_MAX ? PSC_LINE_MAX : keep);
	{
	    size_t  rest = vstring_len(state->in) - len - 1;

	    memmove(data, nl + 1, rest);
	    vstring_truncate(state->in, rest);
	}
	event_request_timer(psc_smtpd_timeout, state,
			    1000L * mail_conf_time(VAR_POSTSCREEN_COMMAND_TIME_LIMIT));
	if (psc_smtpd_command(state, line, bare) < 0) {
	    myfree(line);
	    psc_smtpd_end(state);
	    return;
	}
	myfree(line);
    }
}

static void psc_smtpd_read(int event, void *context)
{
    PSC_STATE *state = context;
    char    buf[4096];
    ssize_t n;

    (void) event;
    n = recv(state->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
	return;
    if (n <= 0) {
	VSTRING *when = vstring_alloc(16);

	psc_format_delta(when, psc_now_ms() - state->start_ms);
	msg_info("HANGUP after %s from %s in tests after SMTP handshake",
		 vstring_str(when), state->endpoint);
	vstring_free(when);
	psc_smtpd_end(state);
	return;
    }
    vstring_memcat(state->in, buf, n);
    psc_smtpd_lines(state);
}

void    psc_smtpd_start(PSC_STATE *state)
{
    state->in = vstring_alloc(512);
    if ((state->flags & PSC_FLAG_PREGREET) == 0) {
	VSTRING *buf = vstring_alloc(100);

	vstring_sprintf(buf, "220 %s", psc_banner);
	if (psc_reply(state, vstring_str(buf)) < 0) {
	    vstring_free(buf);
	    psc_disconnect(state);
	    return;
	}
	vstring_free(buf);
    }
    event_enable_read(state->fd, psc_smtpd_read, state);
    event_request_timer(psc_smtpd_timeout, state,
			1000L * mail_conf_time(VAR_POSTSCREEN_COMMAND_TIME_LIMIT));
}
