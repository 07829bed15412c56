/*
 * NAME
 *	postscreen_early - the greet test: does the client talk first?
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_early_start(PSC_STATE *state);
 *	void psc_early_cancel(PSC_STATE *state);
 * DESCRIPTION
 *	psc_early_start() sends the first line of a multi-line greeting,
 *	"220-" and postscreen_greet_banner (nothing when the banner is
 *	empty), and waits postscreen_greet_wait.
 *	A client that sends anything in that time fails the test:
 *	"PREGREET N after S from [addr]:port: TEXT" (what it sent is only
 *	peeked at, so that smtpd or the dummy engine still reads it);
 *	postscreen_greet_action drop answers "521 5.5.1 Protocol error" and
 *	hangs up, enforce leaves the client to the dummy SMTP engine with
 *	"550 5.5.1 Protocol error" for its recipients, ignore lets it pass
 *	(without remembering it). A client that hangs up is logged as
 *	"HANGUP after S from [addr]:port in tests before SMTP handshake".
 *	The greet test ends at the end of the wait or at the first byte;
 *	when the DNSBL test has finished as well, psc_tests_done() decides.
 *
 *	psc_early_cancel() stops the wait (the client was allowlisted by
 *	the DNSBL score, or is going away).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "util/msg.h"
#include "util/events.h"
#include "util/vstring.h"
#include "util/mymalloc.h"
#include "global/mail_conf.h"
#include "postscreen.h"

#define PSC_PEEK_MAX	1024		/* bytes of a pregreet looked at */

static void psc_early_timer(int, void *);

/* psc_early_done - the greet test is over */
static void psc_early_done(PSC_STATE *state)
{
    psc_early_cancel(state);
    state->flags |= PSC_FLAG_GREET_DONE;
    if (state->flags & PSC_FLAG_DNSBL_DONE)
	psc_tests_done(state);
}

static void psc_early_read(int event, void *context)
{
    PSC_STATE *state = context;
    char    buf[PSC_PEEK_MAX];
    ssize_t n;
    VSTRING *when = vstring_alloc(16);
    VSTRING *text = vstring_alloc(100);

    (void) event;
    n = recv(state->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
	vstring_free(when);
	vstring_free(text);
	return;
    }
    psc_format_delta(when, psc_now_ms() - state->start_ms);
    if (n <= 0) {
	msg_info("HANGUP after %s from %s in tests before SMTP handshake",
		 vstring_str(when), state->endpoint);
	vstring_free(when);
	vstring_free(text);
	psc_disconnect(state);
	return;
    }
    psc_printable(text, buf, n);
    msg_info("PREGREET %ld after %s from %s: %s", (long) n, vstring_str(when),
	     state->endpoint, vstring_str(text));
    vstring_free(when);
    vstring_free(text);
    state->flags |= PSC_FLAG_PREGREET;
    switch (psc_greet_action) {
    case PSC_ACT_DROP:
	(void) psc_write(state, "521 5.5.1 Protocol error\r\n");
	psc_disconnect(state);
	return;
    case PSC_ACT_ENFORCE:
	if (state->final_reply == 0)
	    state->final_reply = mystrdup("550 5.5.1 Protocol error");
	state->flags |= PSC_FLAG_FAIL;
	break;
    default:
	state->flags |= PSC_FLAG_FAIL_IGNORED;
	break;
    }
    psc_early_done(state);
}

static void psc_early_timer(int event, void *context)
{
    (void) event;
    psc_early_done((PSC_STATE *) context);
}

void    psc_early_start(PSC_STATE *state)
{
    const char *banner = mail_conf_str(VAR_POSTSCREEN_GREET_BANNER);

    state->flags |= PSC_FLAG_GREET_TEST;
    if (*banner) {
	VSTRING *buf = vstring_alloc(100);

	vstring_sprintf(buf, "220-%s\r\n", banner);
	if (psc_write(state, vstring_str(buf)) < 0) {
	    vstring_free(buf);
	    psc_disconnect(state);
	    return;
	}
	vstring_free(buf);
	state->flags |= PSC_FLAG_BANNER_SENT;
    }
    event_enable_read(state->fd, psc_early_read, state);
    event_request_timer(psc_early_timer, state,
			1000L * mail_conf_time(VAR_POSTSCREEN_GREET_WAIT));
}

void    psc_early_cancel(PSC_STATE *state)
{
    event_cancel_timer(psc_early_timer, state);
    if (state->fd >= 0 && (state->flags & PSC_FLAG_GREET_DONE) == 0)
	event_disable_readwrite(state->fd);
}
