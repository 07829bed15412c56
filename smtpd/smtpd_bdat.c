/*
 * NAME
 *	smtpd_bdat - BDAT, the CHUNKING extension (RFC 3030)
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_bdat_cmd(SMTPD_STATE *state, char *args);
 * DESCRIPTION
 *	"BDAT count [LAST]" is followed by exactly count bytes of message
 *	text. Those bytes are always read, even when the command is
 *	refused, so that none of them is ever taken for a command.
 *	The text goes through the same pipeline as DATA's (smtpd_data.c:
 *	our Received: header, header_checks, body_checks,
 *	smtpd_end_of_data_restrictions, the queue file), without
 *	dot-unstuffing: a "." line is text. Lines may end in CRLF or in a
 *	bare LF (stored as CRLF; smtpd_forbid_bare_newline = reject
 *	refuses it at the end, as in Postfix); a chunk may end in the
 *	middle of a line, even between CR and LF. A message whose last
 *	line has no line end gets one. BINARYMIME is not offered.
 *
 *	Replies, as Postfix 3.7:
 *
 *	250 2.0.0 Ok: N bytes			a chunk was stored (N: so far)
 *	250 2.0.0 Ok: N bytes queued as QID	LAST: the message is durable
 *	521 5.5.4 Syntax: BDAT count [LAST]	and the session ends (the
 *						size of the chunk is unknown)
 *	503 5.5.1 Error: need RCPT command	no MAIL
 *	554 5.5.1 Error: no valid recipients	MAIL but no recipient
 *	552 5.3.4 Chunk exceeds message size limit
 *	551 5.0.0 Discarded N bytes after earlier error
 *	503 5.5.1 Error: DATA after BDAT	(smtpd_data.c)
 *	503 5.5.1 Error: RCPT after BDAT	(smtpd_envelope.c)
 *
 *	After a refused chunk the transaction is gone and every later
 *	chunk is discarded with 551 up to the one marked LAST (or RSET).
 *	smtpd_data_restrictions apply at the first chunk. The final 250
 *	is sent only after the queue file and its directory entry are
 *	synced (the durability rule, as for DATA). Chunks are bounded in
 *	time like DATA: smtpd_timeout plus one second per
 *	smtpd_min_data_rate bytes.
 * DIAGNOSTICS
 *	Postfix's warnings: "QID: malformed BDAT command syntax from
 *	host[addr]: BDAT ..." (NOQUEUE before the first recipient), "QID:
 *	BDAT request from host[addr] exceeds message size limit"; "lost
 *	connection after BDAT from host[addr]", "timeout after BDAT from
 *	host[addr]".
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "smtpd.h"

#define CHUNK_BLOCK	8192		/* bytes read at a time */

/* bdat_parse - "count [LAST]"; 0 or -1 */
static int bdat_parse(const char *args, long long *count, int *last)
{
    char   *copy = mystrdup(args);
    char   *cp = copy;
    char   *size = mystrtok(&cp, " \t");
    char   *word = mystrtok(&cp, " \t");
    char   *end;
    int     ret = -1;

    *last = 0;
    if (size && alldig(size) && mystrtok(&cp, " \t") == 0
	&& (word == 0 || strcasecmp(word, "LAST") == 0)) {
	errno = 0;
	*count = strtoll(size, &end, 10);
	if (errno == 0 && *end == 0) {
	    *last = word != 0;
	    ret = 0;
	}
    }
    myfree(copy);
    return (ret);
}

/*
 * chunk_deadline - the chunk must arrive within smtpd_timeout plus one
 * second per smtpd_min_data_rate bytes received so far.
 */
static void chunk_deadline(SMTPD_STATE *state, long long start, long long got)
{
    long long left = start + var_smtpd_timeout * 1000LL
	+ got * 1000LL / var_min_data_rate - vstream_now_ms();

    vstream_set_deadline(state->client, left > 0 ? (int) ((left + 999) / 1000) : 0);
    if (left <= 0)
	state->client->deadline_ms = vstream_now_ms();	/* already expired */
}

/* emit - the line (or piece) held so far, into the message */
static void emit(SMTPD_STATE *state, VSTRING *line, int *first_piece, int line_end)
{
    smtpd_msg_text(state->msg, vstring_str(line), vstring_len(line), *first_piece, line_end);
    *first_piece = line_end != SMTPD_MSG_NONE;
    vstring_reset(line);
}

/*
 * chunk_read - count bytes into the message (state->msg), or nowhere
 * when it is NULL. The line being assembled, a CR that ended the last
 * block, and whether we are at the start of a line carry over from
 * chunk to chunk. -1 when the client went away or timed out (logged).
 */
static int chunk_read(SMTPD_STATE *state, long long count)
{
    char    buf[CHUNK_BLOCK];
    long long got = 0;
    long long start = vstream_now_ms();
    ssize_t n;

    while (got < count) {
	size_t  want = count - got > CHUNK_BLOCK ? CHUNK_BLOCK : (size_t) (count - got);

	chunk_deadline(state, start, got);
	if ((n = vstream_read(state->client, buf, want)) <= 0) {
	    smtpd_notify_reason(state, vstream_ftimeout(state->client) ?
				"timeout" : "lost connection");
	    if (vstream_ftimeout(state->client)) {
		msg_info("timeout after BDAT from %s", state->namaddr);
		vstream_clearerr(state->client);
		vstream_clear_deadline(state->client);
		vstream_set_timeout(state->client, 10);
		smtpd_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
	    } else {
		msg_info("lost connection after BDAT from %s", state->namaddr);
	    }
	    state->quit = 1;
	    return (-1);
	}
	got += n;
	if (state->msg == 0)
	    continue;
	for (ssize_t i = 0; i < n; i++) {
	    int     ch = (unsigned char) buf[i];

	    if (state->bdat_cr) {
		state->bdat_cr = 0;
		if (ch == '\n') {
		    emit(state, state->bdat_line, &state->bdat_bol, SMTPD_MSG_CRLF);
		    continue;
		}
		vstring_addch(state->bdat_line, '\r');	/* a bare CR is text */
	    }
	    if (ch == '\r') {
		state->bdat_cr = 1;
	    } else if (ch == '\n') {
		emit(state, state->bdat_line, &state->bdat_bol, SMTPD_MSG_LF);
	    } else {
		vstring_addch(state->bdat_line, ch);
		if ((long) vstring_len(state->bdat_line) >= var_line_length_limit)
		    emit(state, state->bdat_line, &state->bdat_bol, SMTPD_MSG_NONE);
	    }
	}
    }
    return (0);
}

/* stored - the message's size so far, with a line that a chunk left open */
static long stored(SMTPD_STATE *state)
{
    return (smtpd_msg_size(state->msg) + (long) vstring_len(state->bdat_line)
	    + state->bdat_cr);
}

/* refuse - after a refusal: the transaction ends; discard until LAST */
static void refuse(SMTPD_STATE *state, int last)
{
    int     code = state->last_code;

    smtpd_transaction_reset(state);
    state->bdat_state = last ? SMTPD_BDAT_NONE : SMTPD_BDAT_ERROR;
    state->last_code = code;
}

void    smtpd_bdat_cmd(SMTPD_STATE *state, char *args)
{
    long long count;
    int     last;

    if (bdat_parse(args, &count, &last) < 0) {
	VSTRING *cmd = vstring_alloc(100);
	VSTRING *text = vstring_alloc(100);

	vstring_sprintf(cmd, "BDAT%s%s", *args ? " " : "", args);
	msg_warn("%s: malformed BDAT command syntax from %s: %.100s",
		 state->queue_id ? state->queue_id : "NOQUEUE", state->namaddr,
		 smtpd_printable(text, vstring_str(cmd)));
	vstring_free(cmd);
	vstring_free(text);
	smtpd_reply(state, "521 5.5.4 Syntax: BDAT count [LAST]");
	state->quit = 1;
	return;
    }
    if (state->bdat_line == 0)
	state->bdat_line = vstring_alloc(1024);

    /* After an error, every chunk is read and thrown away until LAST. */
    if (state->bdat_state == SMTPD_BDAT_ERROR) {
	if (chunk_read(state, count) < 0)
	    return;
	smtpd_reply(state, "551 5.0.0 Discarded %lld bytes after earlier error", count);
	if (last)
	    state->bdat_state = SMTPD_BDAT_NONE;
	return;
    }
    if (state->bdat_state == SMTPD_BDAT_NONE) {
	if (!smtpd_msg_accept(state)) {
	    if (chunk_read(state, count) == 0)
		refuse(state, last);
	    return;
	}
	state->msg = smtpd_msg_begin(state);
	state->bdat_state = SMTPD_BDAT_ACTIVE;
	state->bdat_bol = 1;
	state->bdat_cr = 0;
	vstring_reset(state->bdat_line);
    }
    if (var_message_size_limit > 0
	&& count > var_message_size_limit - stored(state)) {
	msg_warn("%s: BDAT request from %s exceeds message size limit",
		 state->queue_id, state->namaddr);
	smtpd_msg_free(state->msg);
	state->msg = 0;
	if (chunk_read(state, count) < 0)
	    return;
	smtpd_reply(state, "552 5.3.4 Chunk exceeds message size limit");
	refuse(state, last);
	return;
    }
    if (chunk_read(state, count) < 0) {
	state->last_code = 0;
	return;
    }
    if (!last) {
	smtpd_reply(state, "250 2.0.0 Ok: %ld bytes", stored(state));
	return;
    }
    /* The end: text after the last line end is a line; CR at the end is text. */
    if (state->bdat_cr) {
	state->bdat_cr = 0;
	vstring_addch(state->bdat_line, '\r');
    }
    if (vstring_len(state->bdat_line) > 0 || !state->bdat_bol)
	emit(state, state->bdat_line, &state->bdat_bol, SMTPD_MSG_CRLF);
    smtpd_msg_finish(state->msg);
    smtpd_msg_end(state->msg, 1);
    {
	int     code = state->last_code;

	smtpd_transaction_reset(state);
	state->last_code = code;
    }
}
