/*
 * NAME
 *	local_forward - send expanded addresses on as a new message
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_forward_append(LOCAL_STATE *state, const char *address,
 *				  int flags);
 *	void local_forward_finish(LOCAL_MSG *msg);
 *
 *	void local_forward_init(void);
 * DESCRIPTION
 *	For the sake of reliability, mail that an alias, a .forward or an
 *	:include: file sends elsewhere is queued again as a new message,
 *	so that each new recipient has its own status on file, as Postfix
 *	does.
 *
 *	local_forward_append() adds an address to the new message of the
 *	state's envelope sender and Delivered-To: address (one message per
 *	sender and request recipient, or per sender when the recipients
 *	share their Delivered-To: address),
 *	with the request recipient as its original recipient (not when
 *	an owner- alias changed the sender: a mailing list starts
 *	afresh), and the request recipient's DSN NOTIFY and ORCPT. Each
 *	address is added once per request.
 *
 *	local_forward_init() reads what Postfix's cleanup applies to the
 *	addresses of a forwarded message (its internal mail: address
 *	mappings, no BCC, no content checks): canonical(5) and
 *	masquerading (addr_rewrite(3)) for the envelope sender and the
 *	recipients, then virtual_alias_maps for the recipients
 *	(virtual_alias(3)), unless receive_override_options has
 *	no_address_mappings. Call it before privileges are dropped.
 *
 *	local_forward_finish() writes the new messages into incoming/
 *	with the queue writer (as mail_owner, durably), wakes qmgr, and
 *	logs "forwarded as NEWID" for each request recipient that has
 *	recipients in it. The new message is the original one with, at
 *	its top, "Received: by $myhostname ($mail_name) id NEWID; date"
 *	and, when prepend_delivered_header has "forward", a
 *	"Delivered-To:" header with the request recipient (Postfix's
 *	forwarding loop detection). The new message keeps the original's
 *	client attributes (name, address, port, HELO, protocol, SASL
 *	user) and DSN envelope ID and RET. The Message-ID is logged for
 *	the new message as for the old one.
 * DIAGNOSTICS
 *	A message that cannot be written, or whose addresses cannot be
 *	mapped (a table error, an alias expansion limit), defers the
 *	request recipients that needed it (4.3.0 "queue file write
 *	error"), after a warning.
 */
#include <sys/time.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/mail_queue.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"
#include "global/queue_writer.h"
#include "global/input_transp.h"
#include "global/addr_rewrite.h"
#include "global/virtual_alias.h"
#include "local.h"

static ADDR_REWRITE *fwd_rewrite;	/* canonical, masquerading */
static VIRTUAL_ALIAS *fwd_alias;	/* virtual_alias_maps */

void    local_forward_init(void)
{
    int     transp = input_transp_mask(VAR_RECEIVE_OVERRIDE_OPTIONS,
				     mail_conf_str(VAR_RECEIVE_OVERRIDE_OPTIONS));

    if (transp & INPUT_TRANSP_ADDRESS_MAPPING)
	return;
    fwd_rewrite = addr_rewrite_create();
    fwd_alias = virtual_alias_create();
}

/*
 * forward_rcpts - the new message's recipients, canonical and aliased as
 * Postfix's cleanup writes them; 0, or -1 after a table or expansion error
 * (a write error shows in queue_writer_errno() later)
 */
static int forward_rcpts(LOCAL_MSG *msg, LOCAL_FWD *fwd, QUEUE_WRITER *qw)
{
    VIRTUAL_ALIAS_RESULT *seen = virtual_alias_result_alloc();
    VSTRING *canon = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     ret = 0;

    for (size_t i = 0; ret == 0 && i < fwd->count; i++) {
	LOCAL_FWD_RCPT *r = fwd->rcpt + i;
	VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();

	if (fwd_rewrite == 0) {
	    (void) virtual_alias_result_add(res, r->address, r->address);
	} else if (addr_rewrite(fwd_rewrite, ADDR_REWRITE_ENV_RCPT, r->address, canon) < 0
		   || virtual_alias_expand(fwd_alias, vstring_str(canon), res, why)
		   != VIRTUAL_ALIAS_OK) {
	    msg_warn("%s: cannot map forwarding address <%s>", msg->req->queue_id, r->address);
	    ret = -1;
	}
	/* One recipient per address and original recipient. */
	for (size_t j = 0; ret == 0 && j < res->count; j++)
	    if (virtual_alias_result_add(seen, res->targets[j].address, r->orig ? r->orig : ""))
		(void) queue_writer_rcpt(qw, res->targets[j].address, r->orig,
					 r->notify, r->orcpt);
	virtual_alias_result_free(res);
    }
    virtual_alias_result_free(seen);
    vstring_free(canon);
    vstring_free(why);
    return (ret);
}

void    local_forward_append(LOCAL_STATE *state, const char *address, int flags)
{
    LOCAL_MSG *msg = state->msg;
    RECIPIENT *top = state->top->rcpt;
    LOCAL_FWD *fwd;
    LOCAL_FWD_RCPT *r;
    VSTRING *key = vstring_alloc(100);

    (void) flags;
    if (msg->req->flags & DEL_REQ_FLAG_VERIFY) {
	local_status_sent(state, "2.0.0", 0, "aliased to %s", address);
	vstring_free(key);
	return;
    }
    vstring_sprintf(key, "%s %s", state->sender, address);
    if (local_been_here(msg, "forward", vstring_str(key))) {
	vstring_free(key);
	return;
    }
    vstring_free(key);

    for (fwd = msg->forward; fwd; fwd = fwd->next)
	if (strcmp(fwd->sender, state->sender) == 0
	    && strcmp(fwd->delivered, state->delivered) == 0)
	    break;
    if (fwd == 0) {
	fwd = mycalloc(1, sizeof(*fwd));
	fwd->sender = mystrdup(state->sender);
	fwd->delivered = mystrdup(state->delivered);
	fwd->next = msg->forward;
	msg->forward = fwd;
    }
    if (fwd->count >= fwd->cap) {
	fwd->cap = fwd->cap ? 2 * fwd->cap : 4;
	fwd->rcpt = myrealloc(fwd->rcpt, fwd->cap * sizeof(*fwd->rcpt));
    }
    r = fwd->rcpt + fwd->count++;
    r->address = mystrdup(address);
    r->orig = state->sender_changed ? 0 : mystrdup(state->orig);
    r->notify = top->dsn_notify;
    r->orcpt = !state->sender_changed && *top->dsn_orcpt ? mystrdup(top->dsn_orcpt) : 0;
    r->top = state->top->index;
}

/* forward_header - the lines that go above the original message */
static void forward_header(VSTRING *buf, const char *id, const char *delivered)
{
    char    date[100];
    time_t  now = time((time_t *) 0);
    struct tm tm;

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
    vstring_sprintf(buf, "Received: by %s (%s)\r\n\tid %s; %s\r\n",
		    mail_conf_str(VAR_MYHOSTNAME), mail_conf_str(VAR_MAIL_NAME), id, date);
    if (delivered && (local_conf.deliver_hdr_mask & DELIVER_HDR_FWD)) {
	VSTRING *ext = vstring_alloc(100);

	mail_addr_externalize(ext, delivered);
	vstring_sprintf_append(buf, "Delivered-To: %s\r\n", vstring_str(ext));
	vstring_free(ext);
    }
}

/* forward_write - one new message; 0 and its ID, or -1 */
static int forward_write(LOCAL_MSG *msg, LOCAL_FWD *fwd, VSTRING *new_id)
{
    DELIVER_REQUEST *req = msg->req;
    QUEUE_WRITER *qw;
    VSTRING *buf = vstring_alloc(4096);
    off_t   left = req->data_size;
    int     ret = 0;

    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("%s: cannot create a queue file to forward the message: %m", req->queue_id);
	vstring_free(buf);
	return (-1);
    }
    vstring_strcpy(new_id, queue_writer_id(qw));
    if (fwd_rewrite && addr_rewrite(fwd_rewrite, ADDR_REWRITE_ENV_SENDER, fwd->sender, buf) < 0) {
	msg_warn("%s: cannot map sender address <%s>", req->queue_id, fwd->sender);
	queue_writer_abort(qw);
	vstring_free(buf);
	return (-1);
    }
    queue_writer_sender(qw, fwd_rewrite ? vstring_str(buf) : fwd->sender);
    /* Who sent the original: commands at the other end see it too. */
    if (*req->client_name)
	queue_writer_attr(qw, "client_name", req->client_name);
    if (*req->client_addr)
	queue_writer_attr(qw, "client_address", req->client_addr);
    if (*msg->client_port)
	queue_writer_attr(qw, "client_port", msg->client_port);
    if (*req->helo_name)
	queue_writer_attr(qw, "helo_name", req->helo_name);
    if (*msg->protocol)
	queue_writer_attr(qw, "protocol", msg->protocol);
    if (*req->sasl_username)
	queue_writer_attr(qw, "sasl_username", req->sasl_username);
    if (*req->dsn_envid)
	queue_writer_attr(qw, "dsn_envid", req->dsn_envid);
    if (req->dsn_ret)
	queue_writer_attr(qw, "dsn_ret", req->dsn_ret == DSN_RET_FULL ? "FULL" : "HDRS");
    queue_writer_attr(qw, "rewrite_context", "local");
    if (forward_rcpts(msg, fwd, qw) < 0) {
	queue_writer_abort(qw);
	vstring_free(buf);
	return (-1);
    }
    queue_writer_msg_begin(qw);
    forward_header(buf, vstring_str(new_id), fwd->delivered);
    queue_writer_msg_write(qw, vstring_str(buf), vstring_len(buf));

    /* The original message as it is queued (CRLF lines). */
    if (vstream_seek(msg->fp, req->data_offset, SEEK_SET) < 0)
	ret = -1;
    while (ret == 0 && left > 0) {
	char    chunk[8192];
	ssize_t n = vstream_read(msg->fp, chunk,
			       left < (off_t) sizeof(chunk) ? (size_t) left : sizeof(chunk));

	if (n <= 0) {
	    msg_warn("%s: error reading the queue file: %m", req->queue_id);
	    ret = -1;
	    break;
	}
	queue_writer_msg_write(qw, chunk, (size_t) n);
	left -= n;
    }
    if (ret == 0 && queue_writer_errno(qw) != 0) {
	errno = queue_writer_errno(qw);
	msg_warn("%s: cannot write queue file %s: %m", req->queue_id, vstring_str(new_id));
	ret = -1;
    }
    if (ret < 0) {
	queue_writer_abort(qw);
    } else if (queue_writer_commit(qw) != 0) {
	msg_warn("%s: cannot write queue file %s: %m", req->queue_id, vstring_str(new_id));
	ret = -1;
    }
    vstring_free(buf);
    return (ret);
}

void    local_forward_finish(LOCAL_MSG *msg)
{
    VSTRING *new_id = vstring_alloc(32);
    LOCAL_FWD *fwd;
    LOCAL_FWD *next;
    char    trigger = QMGR_REQ_SCAN_INCOMING;
    int     wrote = 0;

    for (fwd = msg->forward; fwd; fwd = next) {
	int     status = forward_write(msg, fwd, new_id);
	char   *done = mycalloc(msg->req->rcpt_count, 1);

	if (status == 0) {
	    wrote = 1;
	    msg_info("%s: message-id=%s", vstring_str(new_id), msg->hdr->msgid ? msg->hdr->msgid : "<>");
	}
	/* One line per request recipient that has a part in it. */
	for (size_t i = 0; i < fwd->count; i++) {
	    size_t  t = fwd->rcpt[i].top;
	    LOCAL_STATE state;

	    if (done[t])
		continue;
	    done[t] = 1;
	    memset(&state, 0, sizeof(state));
	    state.msg = msg;
	    state.top = msg->top + t;
	    state.address = msg->top[t].rcpt->address;
	    state.orig = *msg->top[t].rcpt->orig_addr ?
		msg->top[t].rcpt->orig_addr : msg->top[t].rcpt->address;
	    if (status == 0)
		local_status_sent(&state, "2.0.0", 0, "forwarded as %s", vstring_str(new_id));
	    else
		local_status_defer(&state, "4.3.0", "queue file write error");
	}
	myfree(done);
	next = fwd->next;
	for (size_t i = 0; i < fwd->count; i++) {
	    myfree(fwd->rcpt[i].address);
	    myfree(fwd->rcpt[i].orig);
	    myfree(fwd->rcpt[i].orcpt);
	}
	myfree(fwd->rcpt);
	myfree(fwd->sender);
	myfree(fwd->delivered);
	myfree(fwd);
    }
    msg->forward = 0;
    if (wrote && mail_trigger("public", mail_conf_str(VAR_QUEUE_SERVICE_NAME), &trigger, 1) < 0)
	msg_warn("cannot wake %s: %m", mail_conf_str(VAR_QUEUE_SERVICE_NAME));
    vstring_free(new_id);
}
