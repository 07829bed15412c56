/*
 * NAME
 *	smtpd_guard - what the command loop refuses before a command runs
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_guard_init(void);
 *	int smtpd_guard_line(SMTPD_STATE *state, VSTRING *line, int ret);
 *	int smtpd_guard_noop(SMTPD_STATE *state, const char *verb);
 *	int smtpd_guard_unknown(SMTPD_STATE *state, const char *verb,
 *				const char *line);
 *	int smtpd_guard_pipelining(SMTPD_STATE *state, int index);
 *	int smtpd_guard_greeting(SMTPD_STATE *state);
 *	void smtpd_guard_junk(SMTPD_STATE *state, int index);
 *	const char *smtpd_printable(VSTRING *buf, const char *text);
 *	const char *smtpd_escape(VSTRING *buf, const char *data, size_t len);
 * DESCRIPTION
 *	Each check returns SMTPD_GUARD_RUN (go on with the command) or
 *	SMTPD_GUARD_DONE (the check answered the client; the command does
 *	not run; state->quit is set when the session must end).
 *
 *	smtpd_guard_line() sees the command line as read (ret is
 *	vstream_get_line()'s result). A line longer than line_length_limit
 *	is read to its end and refused whole with "500 5.5.2 Error: line
 *	too long" (Postfix runs what fits in the limit: the rest of an
 *	over-long "RCPT TO:<...>" could change what the command means).
 *	A line with a NUL byte is refused whole ("500 5.5.2 Error: bad
 *	syntax"), as what follows the NUL would silently be dropped.
 *	Otherwise smtpd_command_filter may replace the line, as Postfix
 *	does and logs: 'host[addr]: replacing command "X" with "Y"'; a
 *	lookup error answers 451 4.3.0.
 *
 *	smtpd_guard_noop() answers "250 2.0.0 Ok" to a command named in
 *	smtpd_noop_commands, before any syntax check, without changing
 *	state or counting it (these override our own commands, as in
 *	Postfix).
 *
 *	smtpd_guard_unknown() looks at a command that we do not know: a
 *	message header line sent as a command ("Subject: ...", the sign of
 *	a client that sent its message without DATA) or a verb in
 *	smtpd_forbidden_commands (default "CONNECT GET POST
 *	regexp:{{/^[^A-Z]/ Bogus}}": web proxies, HTTP, binary junk) ends
 *	the session: "221 2.7.0 Error: I can break rules, too. Goodbye.",
 *	logged as "warning: non-SMTP command from host[addr]: LINE".
 *
 *	smtpd_guard_pipelining() (RFC 2920, RFC 3207): input already
 *	waiting after a command that must end a group of pipelined
 *	commands (HELO, EHLO, XCLIENT, STARTTLS, AUTH, DATA, VRFY, NOOP),
 *	or after any command of a client that was not offered PIPELINING,
 *	is improper pipelining (a client that waits for each reply costs
 *	one non-blocking read per such command, as Postfix's FIONREAD
 *	check does). It is logged once, as Postfix does
 *	("improper command pipelining after CMD from host[addr]: TEXT",
 *	with \r, \n and \ooo escapes), and remembered for
 *	reject_unauth_pipelining. With smtpd_forbid_unauth_pipelining
 *	(default yes here; no in Postfix 3.7, yes since 3.9) the command
 *	does not run: "554 5.5.0 Error: SMTP protocol synchronization" and
 *	the session ends. BDAT, whose chunk follows it, is exempt for a
 *	client that was offered PIPELINING (RFC 3030 allows pipelined BDAT).
 *	smtpd_guard_greeting() does the same for a client that talks
 *	before the greeting ("after CONNECT").
 *
 *	smtpd_guard_junk(): NOOP, VRFY, ETRN and RSET beyond
 *	smtpd_junk_command_limit (since the last accepted message) each
 *	count as an error, as in Postfix, so smtpd_hard_error_limit ends
 *	a session that only wastes a process.
 *
 *	smtpd_printable() copies client or table text for a log line with
 *	every control character and 8-bit byte replaced by "?", as
 *	Postfix's printable(); smtpd_escape() writes \r, \n, \t and \ooo
 *	instead (for the raw input that the pipelining and non-SMTP lines
 *	show).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "smtpd.h"

static MATCH_LIST *forbidden_cmds;	/* smtpd_forbidden_commands */
static MATCH_LIST *noop_cmds;		/* smtpd_noop_commands */
static MAPS *cmd_filter;		/* smtpd_command_filter */

void    smtpd_guard_init(void)
{
    const char *filter = mail_conf_str(VAR_SMTPD_COMMAND_FILTER);

    forbidden_cmds = match_list_create(VAR_SMTPD_FORBIDDEN_COMMANDS,
				    mail_conf_str(VAR_SMTPD_FORBIDDEN_COMMANDS), 0);
    noop_cmds = match_list_create(VAR_SMTPD_NOOP_COMMANDS,
				  mail_conf_str(VAR_SMTPD_NOOP_COMMANDS), 0);
    if (*filter) {
	cmd_filter = maps_create(VAR_SMTPD_COMMAND_FILTER, filter, DICT_FLAG_DEFAULT);
	mail_server_watch((int (*) (void *)) maps_changed, cmd_filter);
    }
}

const char *smtpd_printable(VSTRING *buf, const char *text)
{
    vstring_reset(buf);
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
	vstring_addch(buf, (*cp < 0x20 || *cp >= 0x7f) ? '?' : *cp);
    return (vstring_str(buf));
}

const char *smtpd_escape(VSTRING *buf, const char *data, size_t len)
{
    vstring_reset(buf);
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = data[i];

	if (ch == '\r')
	    vstring_strcat(buf, "\\r");
	else if (ch == '\n')
	    vstring_strcat(buf, "\\n");
	else if (ch == '\t')
	    vstring_strcat(buf, "\\t");
	else if (ch == '\\')
	    vstring_strcat(buf, "\\\\");
	else if (ch < ' ' || ch >= 127)
	    vstring_sprintf_append(buf, "\\%03o", ch);
	else
	    vstring_addch(buf, ch);
    }
    return (vstring_str(buf));
}

int     smtpd_guard_line(SMTPD_STATE *state, VSTRING *line, int ret)
{
    VSTRING *text;
    const char *value;
    char   *cp;

    if (ret == VSTREAM_LONG) {
	VSTRING *junk = vstring_alloc(100);
	int     crlf;

	text = vstring_alloc(100);
	/* Postfix's warning; its first 30 bytes. */
	msg_warn("%s: request longer than %ld: %.30s...", state->namaddr,
		 var_line_length_limit, smtpd_printable(text, vstring_str(line)));
	vstring_free(text);
	do {
	    ret = smtpd_read_line(state, junk, &crlf);
	} while (ret == VSTREAM_LONG);
	vstring_free(junk);
	if (ret != VSTREAM_LINE) {
	    smtpd_lost(state);
	    return (SMTPD_GUARD_DONE);
	}
	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	smtpd_reply(state, "500 5.5.2 Error: line too long");
	return (SMTPD_GUARD_DONE);
    }
    /* A NUL would make the command shorter than what the client sent. */
    if (memchr(vstring_str(line), 0, vstring_len(line)) != 0) {
	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	smtpd_reply(state, "500 5.5.2 Error: bad syntax");
	return (SMTPD_GUARD_DONE);
    }
    if (cmd_filter == 0)
	return (SMTPD_GUARD_RUN);
    for (cp = vstring_str(line); *cp == ' ' || *cp == '\t'; cp++)
	 /* void */ ;
    if ((value = maps_find(cmd_filter, cp, 0)) != 0) {
	VSTRING *from = vstring_alloc(100);
	char   *copy = mystrdup(value);

	text = vstring_alloc(100);
	msg_info("%s: replacing command \"%.100s\" with \"%.100s\"", state->namaddr,
		 smtpd_printable(from, cp), smtpd_printable(text, copy));
	vstring_strcpy(line, copy);
	myfree(copy);
	vstring_free(from);
	vstring_free(text);
    } else if (cmd_filter->error) {
	msg_warn("%s lookup error for \"%.100s\"", cmd_filter->title, cp);
	state->where = "UNKNOWN";
	state->cmd_total[SMTPD_CMD_UNKNOWN]++;
	smtpd_reply(state, "451 4.3.0 Error: temporary lookup failure");
	return (SMTPD_GUARD_DONE);
    }
    return (SMTPD_GUARD_RUN);
}

int     smtpd_guard_noop(SMTPD_STATE *state, const char *verb)
{
    if (match_list_string(noop_cmds, verb) <= 0)
	return (SMTPD_GUARD_RUN);
    smtpd_reply(state, "250 2.0.0 Ok");
    return (SMTPD_GUARD_DONE);
}

/* header_line - does the line start like a message header ("Name:") */
static int header_line(const char *line)
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

int     smtpd_guard_unknown(SMTPD_STATE *state, const char *verb, const char *line)
{
    VSTRING *text;

    if (!header_line(line) && match_list_string(forbidden_cmds, verb) <= 0)
	return (SMTPD_GUARD_RUN);
    text = vstring_alloc(100);
    msg_warn("non-SMTP command from %s: %.100s", state->namaddr,
	     smtpd_escape(text, line, strlen(line)));
    vstring_free(text);
    smtpd_reply(state, "221 2.7.0 Error: I can break rules, too. Goodbye.");
    state->quit = 1;
    return (SMTPD_GUARD_DONE);
}

/* pending - client input that is already here (buffered or in the kernel) */
static size_t pending(SMTPD_STATE *state)
{
    if (vstream_peek(state->client) == 0 && !vstream_ferror(state->client)
	&& !vstream_feof(state->client))
	(void) vstream_fill(state->client, 0);
    return (vstream_peek(state->client));
}

/* improper - log what was pipelined; refuse it when that is forbidden */
static int improper(SMTPD_STATE *state, const char *after)
{
    size_t  len = pending(state);
    VSTRING *text;

    if (state->ill_pipelining == 0) {
	state->ill_pipelining = after;
	text = vstring_alloc(100);
	msg_info("improper command pipelining after %s from %s: %s", after,
		 state->namaddr, smtpd_escape(text, vstream_peek_data(state->client),
					      len > 100 ? 100 : len));
	vstring_free(text);
    }
    if (!var_forbid_unauth_pipe)
	return (SMTPD_GUARD_RUN);
    smtpd_reply(state, "554 5.5.0 Error: SMTP protocol synchronization");
    state->quit = 1;
    return (SMTPD_GUARD_DONE);
}

int     smtpd_guard_pipelining(SMTPD_STATE *state, int index)
{
    switch (index) {
    case SMTPD_CMD_HELO:
    case SMTPD_CMD_EHLO:
    case SMTPD_CMD_XCLIENT:
    case SMTPD_CMD_STARTTLS:
    case SMTPD_CMD_AUTH:
    case SMTPD_CMD_DATA:
    case SMTPD_CMD_VRFY:
    case SMTPD_CMD_NOOP:
	break;
    case SMTPD_CMD_QUIT:
	return (SMTPD_GUARD_RUN);
    default:
	if (state->pipelining)
	    return (SMTPD_GUARD_RUN);
	break;
    }
    /* Logged once, and not refused: looking again would change nothing. */
    if (state->ill_pipelining && !var_forbid_unauth_pipe)
	return (SMTPD_GUARD_RUN);
    if (pending(state) == 0)
	return (SMTPD_GUARD_RUN);
    return (improper(state, state->where));
}

int     smtpd_guard_greeting(SMTPD_STATE *state)
{
    if (pending(state) == 0)
	return (SMTPD_GUARD_RUN);
    return (improper(state, "CONNECT"));
}

void    smtpd_guard_junk(SMTPD_STATE *state, int index)
{
    switch (index) {
    case SMTPD_CMD_NOOP:
    case SMTPD_CMD_VRFY:
    case SMTPD_CMD_ETRN:
    case SMTPD_CMD_RSET:
	if (state->junk_cmds++ > var_junk_cmd_limit)
	    state->error_count++;
	break;
    }
}
