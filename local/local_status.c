/*
 * NAME
 *	local_status - log and record what became of each delivery
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_status_sent(LOCAL_STATE *state, const char *dsn,
 *			       int final, const char *fmt, ...);
 *	void local_status_bounce(LOCAL_STATE *state, const char *dsn,
 *				 const char *diag, const char *fmt, ...);
 *	void local_status_defer(LOCAL_STATE *state, const char *dsn,
 *				const char *fmt, ...);
 *	void local_status_passed(LOCAL_STATE *state, const DSN_RESULT *res);
 *	void local_status_finish(LOCAL_MSG *msg, size_t index);
 *	int local_been_here(LOCAL_MSG *msg, const char *kind, const char *what);
 * DESCRIPTION
 *	One request recipient may end up in several places (a mailbox, a
 *	command, a forwarded copy) and some of those may fail. Each
 *	outcome is logged at once, in Postfix's form, with the address
 *	being delivered as to= and the request recipient as orig_to=
 *	("to=<pfxu@host>, orig_to=<root@localhost>, relay=local, ...,
 *	status=sent (delivered to mailbox)").
 *
 *	A failure is recorded in the bounce log (bounce/) here, under the
 *	address that failed and the request recipient as the original
 *	one ("<aliascmd@host> (expanded from <cmd@localhost>): unknown
 *	user"), as Postfix's local agent does; qmgr sends the notice when
 *	it is done with the message.
 *
 *	local_status_passed() records the result of another delivery agent
 *	that this one passed the address to (mailbox_transport): that agent
 *	logged it already; a failure goes to the bounce log here.
 *
 *	local_status_finish() then settles the request recipient for
 *	qmgr: deferred (it is tried again, all of it) when any part was
 *	deferred (a reason of this recipient: qmgr does not take it for a
 *	sign that local delivery as a whole is down), else done: final when it reached a mailbox, file or
 *	command, with the "next hop did DSN" flag when a part failed (its
 *	failure is already in the bounce log, so qmgr must not record a
 *	success over it).
 *
 *	For an address probe (verify(8)), nothing is recorded: the probe's
 *	recipient is reported undeliverable with the first failure when
 *	nothing would have worked.
 *
 *	local_been_here() is the duplicate filter of one request
 *	recipient (duplicate_filter_limit entries): it returns 1 when kind:what
 *	was seen before, else remembers it and returns 0.
 * DIAGNOSTICS
 *	A failure that cannot be written to the bounce log defers the
 *	recipient instead, with a warning.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "global/mail_queue.h"
#include "global/dsn_log.h"
#include "local.h"

/* log_one - Postfix's delivery line for the address of state */
static void log_one(LOCAL_STATE *state, const DSN_RESULT *res)
{
    RECIPIENT r = *state->top->rcpt;

    r.address = (char *) state->address;
    r.orig_addr = (char *) state->orig;
    deliver_log(state->msg->req, &r, res);
}

/* result_set - a DSN_RESULT with our own copies of the strings */
static void result_set(DSN_RESULT *to, const char *dsn, int action, const char *reason,
		               const char *diag)
{
    memset(to, 0, sizeof(*to));
    snprintf(to->status, sizeof(to->status), "%s", dsn);
    to->action = action;
    to->reason = mystrdup(reason);
    to->relay = mystrdup(local_conf.service);
    to->diag = diag && *diag ? mystrdup(diag) : 0;
}

static void result_clear(DSN_RESULT *r)
{
    myfree(r->reason);
    myfree(r->relay);
    myfree(r->remote_mta);
    myfree(r->diag);
    memset(r, 0, sizeof(*r));
}

void    local_status_sent(LOCAL_STATE *state, const char *dsn, int final,
			          const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    DSN_RESULT res;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    result_set(&res, dsn, 'd', vstring_str(text), 0);
    log_one(state, &res);
    if (state->top->sent++ == 0)
	state->top->ok = res;
    else
	result_clear(&res);
    if (final)
	state->top->final = 1;
    vstring_free(text);
}

void    local_status_defer(LOCAL_STATE *state, const char *dsn, const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    DSN_RESULT res;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    if (dsn[0] != '4') {
	msg_warn("defer_append: ignoring dsn code \"%s\"", dsn);
	dsn = "4.0.0";
    }
    result_set(&res, dsn, 'x', vstring_str(text), 0);
    log_one(state, &res);
    if (state->top->deferred++ == 0)
	state->top->defer = res;
    else
	result_clear(&res);
    vstring_free(text);
}

/*
 * record_failure - a failed address (res, ours to keep or free): a probe
 * keeps the first for verify(8); otherwise the bounce log gets an entry
 * naming the address that failed.
 */
static void record_failure(LOCAL_STATE *state, DSN_RESULT *res)
{
    RECIPIENT r = *state->top->rcpt;

    /* An address probe only says what would happen: verify(8) learns it. */
    if (state->msg->req->flags & DEL_REQ_FLAG_VERIFY) {
	if (state->top->bounced++ == 0)
	    state->top->bounce = *res;
	else
	    result_clear(res);
	return;
    }
    r.address = (char *) state->address;
    r.orig_addr = (char *) state->orig;
    if (dsn_log_append(MAIL_QUEUE_BOUNCE, state->msg->req->queue_id, &r, res) < 0) {
	msg_warn("%s: cannot append to the bounce log: %m", state->msg->req->queue_id);
	result_clear(res);
	local_status_defer(state, "4.3.0", "cannot record the delivery failure");
    } else {
	state->top->bounced++;
	result_clear(res);
    }
}

void    local_status_bounce(LOCAL_STATE *state, const char *dsn, const char *diag,
			            const char *fmt, ...)
{
    VSTRING *text = vstring_alloc(100);
    DSN_RESULT res;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    if (dsn[0] != '5') {
	msg_warn("bounce_append: ignoring dsn code \"%s\"", dsn);
	dsn = "5.0.0";
    }
    result_set(&res, dsn, 'f', vstring_str(text), diag);
    log_one(state, &res);
    record_failure(state, &res);
    vstring_free(text);
}

/* result_dup - a copy of another agent's result, with our own strings */
static void result_dup(DSN_RESULT *to, const DSN_RESULT *from)
{
    *to = *from;
    to->reason = mystrdup(from->reason ? from->reason : "");
    to->relay = mystrdup(from->relay ? from->relay : "none");
    to->remote_mta = from->remote_mta ? mystrdup(from->remote_mta) : 0;
    to->diag = from->diag ? mystrdup(from->diag) : 0;
}

void    local_status_passed(LOCAL_STATE *state, const DSN_RESULT *from)
{
    DSN_RESULT res;

    result_dup(&res, from);
    switch (res.action) {
    case 'd':
	if (state->top->sent++ == 0)
	    state->top->ok = res;
	else
	    result_clear(&res);
	if (from->flags & DSN_RESULT_FLAG_FINAL)
	    state->top->final = 1;
	return;
    case 'x':
	if (state->top->deferred++ == 0)
	    state->top->defer = res;
	else
	    result_clear(&res);
	return;
    }
    record_failure(state, &res);
}

void    local_status_finish(LOCAL_MSG *msg, size_t index)
{
    LOCAL_TOP *top = msg->top + index;
    DSN_RESULT *res;
    DSN_RESULT done;

    if (top->deferred) {
	res = &top->defer;
	res->flags |= DSN_RESULT_FLAG_RECIPIENT;
    } else if ((msg->req->flags & DEL_REQ_FLAG_VERIFY) && top->bounced && !top->sent) {
	res = &top->bounce;
    } else if (top->sent) {
	res = &top->ok;
	if (top->final)
	    res->flags |= DSN_RESULT_FLAG_FINAL;
    } else {
	/* Nothing left to do: every part failed (or was a duplicate). */
	result_set(&done, "2.0.0", 'd', "delivered", 0);
	res = &done;
	top->ok = done;
    }
    if (top->bounced && res->action == 'd')
	res->flags |= DSN_RESULT_FLAG_NEXT_HOP_DSN;
    deliver_result(msg->req, index, res);
    result_clear(&top->defer);
    result_clear(&top->ok);
    result_clear(&top->bounce);
}

int     local_been_here(LOCAL_MSG *msg, const char *kind, const char *what)
{
    VSTRING *key = vstring_alloc(100);
    int     seen;

    vstring_sprintf(key, "%s:%s", kind, what);
    seen = htable_find(msg->dup_filter, vstring_str(key)) != 0;
    /* Past the limit, more is delivered twice rather than remembered. */
    if (!seen && (local_conf.dup_limit <= 0 || (long) msg->dup_count < local_conf.dup_limit)) {
	htable_enter(msg->dup_filter, vstring_str(key), (void *) 1);
	msg->dup_count++;
    }
    vstring_free(key);
    return (seen);
}
