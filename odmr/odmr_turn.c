/*
 * NAME
 *	odmr_turn - after ATRN: deliver the site's mail over its connection
 * SYNOPSIS
 *	#include "odmr.h"
 *
 *	void odmr_turn(ODMR_STATE *state, ARGV *domains, int *listen_fds,
 *		       ODMR_QUEUE *q);
 * DESCRIPTION
 *	The roles reverse (RFC 2645, 5.3): the site sends its greeting
 *	and we are its SMTP client, with the engine of the smtp agent
 *	(lib/smtpc, smtp_client_turn.c): EHLO, then one transaction per
 *	delivery request. Once the handshake is done, the site's queued
 *	messages are released (odmr_queue_release()); qmgr hands them to
 *	the odmr transport as to any transport, and odmr_transport.c
 *	passes each request to this session through the domain's socket
 *	(listen_fds, one per domain, from odmr_site_listen()). Each
 *	recipient is reported to qmgr with its result and logged as a
 *	delivery ("QID: to=<...>, relay=site[addr]:port, ...,
 *	status=sent (250 ...)"); qmgr then updates the queue, writes
 *	bounces and DSNs, and moves or removes the message, as after any
 *	delivery.
 *
 *	The session ends with QUIT when no message of the site is on its
 *	way any more (odmr_queue_in_flight()), when the site is gone, or
 *	after smtpd_timeout without progress. Requests that are already
 *	waiting on a socket then are still answered (over a lost session,
 *	as deferred); later ones find no session and are deferred by the
 *	transport.
 * DIAGNOSTICS
 *	"site[addr]: ATRN: ..." when the site does not greet or answer
 *	EHLO; a warning when qmgr makes no progress.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "smtpc/smtp_client.h"
#include "odmr.h"

#define TURN_TICK_MS	250		/* how often the queue is looked at */

/* turn_one - one handed-over request over the session */
static int turn_one(SMTP_SESSION *sess, int listen_fd, ODMR_QUEUE *q, int healthy)
{
    VSTREAM *qmgr;
    DELIVER_REQUEST *req;

    if (odmr_site_accept(listen_fd, &qmgr, &req) < 0)
	return (healthy);
    odmr_queue_seen(q, req->queue_id);
    /* A lost session still answers: each recipient is deferred. */
    healthy = smtp_turn_deliver(sess, req) && healthy;
    if (deliver_request_done(qmgr, req) != 0)
	msg_warn("%s: cannot send the delivery results to qmgr", req->queue_id);
    deliver_request_free(req);
    (void) vstream_close(qmgr);
    return (healthy);
}

void    odmr_turn(ODMR_STATE *state, ARGV *domains, int *fds, ODMR_QUEUE *q)
{
    SMTP_SESSION *sess;
    SMTP_WHY why;
    struct pollfd *pfd;
    size_t  n = domains->argc;
    int     healthy;
    time_t  last_progress;
    size_t  in_flight = (size_t) -1, now_in_flight;

    sess = smtp_turn_session(state->client, state->name, state->addr, atoi(state->port));
    smtp_why_init(&why);
    if (smtp_turn_handshake(sess, &why) < 0) {
	msg_info("%s: ATRN: %s", state->namaddr, vstring_str(why.text));
	smtp_why_free(&why);
	smtp_turn_end(sess, 0);
	return;
    }
    smtp_why_free(&why);
    odmr_queue_release(q);

    pfd = mycalloc(n + 1, sizeof(*pfd));
    for (size_t i = 0; i < n; i++) {
	pfd[i].fd = fds[i];
	pfd[i].events = POLLIN;
    }
    /* The site says nothing unasked: input or hangup ends the session. */
    pfd[n].fd = vstream_fileno(state->client);
    pfd[n].events = POLLIN;
    healthy = 1;
    last_progress = time((time_t *) 0);
    while (healthy) {
	int     ready;

	vstream_fflush(state->client);
	if ((ready = poll(pfd, n + 1, TURN_TICK_MS)) < 0) {
	    if (errno == EINTR)
		continue;
	    msg_fatal("poll: %m");
	}
	if (ready > 0) {
	    if (pfd[n].revents) {
		msg_info("%s: ATRN: the site spoke out of turn or hung up", state->namaddr);
		healthy = 0;
		break;
	    }
	    for (size_t i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
		    healthy = turn_one(sess, fds[i], q, healthy);
	    last_progress = time((time_t *) 0);
	    continue;
	}
	if ((now_in_flight = odmr_queue_in_flight(q)) == 0)
	    break;
	if (now_in_flight != in_flight) {
	    in_flight = now_in_flight;
	    last_progress = time((time_t *) 0);
	} else if (time((time_t *) 0) - last_progress > var_odmr_timeout) {
	    msg_warn("%s: ATRN: %zu message%s not delivered after %lds; "
		     "they wait for the next ATRN", state->namaddr, in_flight,
		     in_flight == 1 ? "" : "s", var_odmr_timeout);
	    break;
	}
    }

    /* Requests that reached a socket already get their answer. */
    for (size_t i = 0; i < n; i++) {
	(void) fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	for (;;) {
	    struct pollfd one = {fds[i], POLLIN, 0};

	    if (poll(&one, 1, 0) != 1)
		break;
	    healthy = turn_one(sess, fds[i], q, healthy);
	}
    }
    myfree(pfd);
    smtp_turn_end(sess, healthy);
}
