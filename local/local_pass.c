/*
 * NAME
 *	local_pass - hand a mailbox delivery to another delivery agent
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_pass_mailbox(LOCAL_STATE *state);
 *	int local_pass_fallback(LOCAL_STATE *state);
 * DESCRIPTION
 *	local_pass_mailbox() sends the mailbox delivery of state's address
 *	to the transport that mailbox_transport_maps (looked up by the
 *	user name) or else mailbox_transport names, whether or not the user
 *	is in the passwd database; it returns 0 when neither gives one (the
 *	mailbox is then ours to deliver), 1 when the address was dealt with.
 *
 *	local_pass_fallback() does the same for a name that is neither an
 *	alias nor a user, with fallback_transport_maps and
 *	fallback_transport; luser_relay comes after it.
 *
 *	A transport is "name" or "name:nexthop" (no nexthop: the request's).
 *	The other agent gets a request of its own over private/name, for the
 *	same queue file: the address being delivered, the request
 *	recipient's original address, offset and DSN attributes, and the
 *	request's flags (an address probe is probed there: with
 *	"mailbox_transport = lmtp:unix:private/dovecot-lmtp" verify(8)
 *	learns what the mailbox server says). That agent logs the delivery
 *	("to=<...>, orig_to=<...>, relay=..., status=sent") as Postfix's
 *	does; this agent logs "QID: passing <address> to transport=name"
 *	first, records the result without logging it again, and puts a
 *	failure in the bounce log.
 * DIAGNOSTICS
 *	An agent that cannot be reached, or that ends without a valid reply,
 *	defers the address: "mail transport unavailable" (4.3.0). A
 *	transport without a name is a configuration error (4.3.5, with a
 *	warning). A table that cannot be read defers (4.3.0 "table lookup
 *	failure").
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/ipc_call.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "local.h"

/* pass_one - deliver state's address through transport[:nexthop] */
static void pass_one(LOCAL_STATE *state, const char *param, const char *spec)
{
    DELIVER_REQUEST req = *state->msg->req;
    RECIPIENT rcpt = *state->top->rcpt;
    char   *copy = mystrdup(spec);
    char   *nexthop = strchr(copy, ':');
    VSTREAM *stream;
    int     ok = 0;

    if (nexthop)
	*nexthop++ = 0;
    if (*copy == 0) {
	msg_warn("%s: missing transport name in \"%s\"", param, spec);
	local_status_defer(state, "4.3.5", "mail system configuration error");
	myfree(copy);
	return;
    }
    req.transport = copy;
    if (nexthop && *nexthop)
	req.nexthop = nexthop;
    rcpt.address = (char *) state->address;
    rcpt.orig_addr = (char *) (state->orig ? state->orig : "");
    memset(&rcpt.result, 0, sizeof(rcpt.result));
    rcpt.have_result = 0;
    req.rcpt = &rcpt;
    req.rcpt_count = 1;

    msg_info("%s: passing <%s> to transport=%s", req.queue_id, state->address, copy);
    if ((stream = ipc_connect("private", copy, 3600)) == 0) {
	msg_warn("connect to subsystem private/%s: %m", copy);
    } else {
	ok = deliver_request_send(stream, &req) == 0
	    && deliver_reply_read(stream, &req) == 0 && rcpt.have_result;
	if (!ok)
	    msg_warn("%s: delivery agent private/%s: no valid reply",
		     req.queue_id, copy);
	(void) vstream_close(stream);
    }
    if (ok)
	local_status_passed(state, &rcpt.result);
    else
	local_status_defer(state, "4.3.0", "mail transport unavailable");
    myfree(rcpt.result.reason);
    myfree(rcpt.result.relay);
    myfree(rcpt.result.remote_mta);
    myfree(rcpt.result.diag);
    myfree(copy);
}

/* pass_via - maps (by user name), then the parameter; 1 when dealt with */
static int pass_via(LOCAL_STATE *state, MAPS *maps, const char *param, const char *kind)
{
    const char *spec = 0;
    const char *source = param;

    if (maps) {
	spec = maps_find(maps, state->user, 0);
	if (spec == 0 && maps->error) {
	    local_status_defer(state, "4.3.0", "table lookup failure");
	    return (1);
	}
	source = maps->title;
    }
    if (spec == 0 || *spec == 0) {
	spec = mail_conf_str(param);
	source = param;
    }
    if (*spec == 0)
	return (0);
    /* A list owner's sender is for a new message, not this mailbox. */
    if (state->sender_changed) {
	local_forward_append(state, state->address, 0);
	return (1);
    }
    if (local_been_here(state->msg, kind, state->user))
	return (1);
    pass_one(state, source, spec);
    return (1);
}

int     local_pass_mailbox(LOCAL_STATE *state)
{
    return (pass_via(state, local_conf.mbox_transp_maps, VAR_MAILBOX_TRANSPORT, "mailbox"));
}

int     local_pass_fallback(LOCAL_STATE *state)
{
    return (pass_via(state, local_conf.fallback_transp_maps, VAR_FALLBACK_TRANSPORT,
		     "fallback"));
}
