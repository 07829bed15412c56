/*
 * NAME
 *	smtpd_idle - wait for a command; idle clients give way to a crowd
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_idle_wait(SMTPD_STATE *state);
 * DESCRIPTION
 *	smtpd_idle_wait() returns when a complete command line (or as
 *	much as line_length_limit, or end of file, or an error) is in
 *	the client stream's buffer, so that the read that follows does
 *	not block; it returns -1 when it ended the session instead.
 *
 *	Postfix keeps a client that sends nothing, or one byte a minute,
 *	for as long as smtpd_timeout allows (a deadline per command here),
 *	and a few hundred such clients hold every smtpd process: a good
 *	client then waits minutes for the greeting. Here a client that
 *	has not sent a complete command for smtpd_overload_idle_time
 *	(ours; default 1s, 0 turns it off) while other clients wait for
 *	a process of this service (the service is at its process limit
 *	and its accept queue is not empty) gives up its process:
 *
 *		421 4.3.2 All server ports are busy
 *
 *	(postscreen's reply for this condition) and the log line "idle
 *	client evicted after CMD from host[addr]: all server ports are
 *	busy". The more clients wait, the sooner an idle one goes: the
 *	time is smtpd_overload_idle_time * P / (P + W) for P processes
 *	and W waiting clients, so a waiting client gets a process within
 *	about smtpd_overload_idle_time however large the crowd. The queue
 *	must be seen non-empty twice, 50ms apart, so a client that a
 *	free process is about to accept evicts nobody; the first look is
 *	after the client has been quiet for 50ms (one that answers sooner
 *	costs no system call for it). A client in the
 *	middle of a message (DATA, BDAT) is never evicted; its time is
 *	bounded by smtpd_min_data_rate.
 */
#include <string.h>

#include "util/msg.h"
#include "global/mail_server.h"
#include "smtpd.h"

#define SLICE_BUSY_MS	50		/* how often to look while clients wait */
#define SLICE_CALM_MS	250		/* and while none do */

/* line_ready - a command line (or as much as we read of one) is buffered */
static int line_ready(SMTPD_STATE *state)
{
    size_t  len = vstream_peek(state->client);

    return (len >= (size_t) var_line_length_limit
	    || (len > 0 && memchr(vstream_peek_data(state->client), '\n', len) != 0));
}

int     smtpd_idle_wait(SMTPD_STATE *state)
{
    long long start = vstream_now_ms();
    long long idle_ms = var_overload_idle * 1000LL;
    int     procs = mail_server_process_limit();
    int     was_waiting = 0;

    if (idle_ms <= 0 || procs <= 0)
	return (0);
    /* A client that answers within one slice costs no look at the queue. */
    if (!line_ready(state) && vstream_fill(state->client, SLICE_BUSY_MS) < 0)
	return (0);
    while (!line_ready(state)) {
	int     waiting = mail_server_waiting();
	long long idle = vstream_now_ms() - start;

	if (waiting > 0 && was_waiting > 0
	    && idle >= idle_ms * procs / (procs + waiting)) {
	    msg_info("idle client evicted after %s from %s: all server ports are busy",
		     state->where, state->namaddr);
	    smtpd_reply(state, "421 4.3.2 All server ports are busy");
	    state->quit = 1;
	    return (-1);
	}
	was_waiting = waiting;
	if (vstream_fill(state->client, waiting ? SLICE_BUSY_MS : SLICE_CALM_MS) < 0)
	    break;
    }
    return (0);
}
