/*
 * NAME
 *	deliver_request - what qmgr asks a delivery agent, and the answers
 * SYNOPSIS
 *	See deliver_request.h.
 * DESCRIPTION
 *	The wire form is in deliver_request.h; the tables below are its
 *	readers (attr_scan).
 *
 *	deliver_log() writes Postfix's delivery line. Delay values are
 *	written as Postfix does: rounded to delay_logging_resolution_limit
 *	decimals, then at most two significant digits, trailing zeros
 *	dropped ("0.08", "1.2", "12", "0").
 * DIAGNOSTICS
 *	deliver_request_read() returns NULL at a clean end of file or on a
 *	malformed request (logged as a warning). The other I/O functions
 *	return 0 or -1.
 */
#include <sys/time.h>
#include <time.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/attr.h"
#include "util/htable.h"
#include "global/mail_conf.h"
#include "global/info_log_addr.h"
#include "global/deliver_request.h"
#include "global/verify_clnt.h"

/* word_ok - a queue name or queue ID: letters and digits only */
static int word_ok(const char *s)
{
    if (s == 0 || *s == 0 || strlen(s) > 64)
	return (0);
    for (; *s; s++)
	if (!isalnum((unsigned char) *s))
	    return (0);
    return (1);
}

static char *dup_or_null(const char *s)
{
    return (s ? mystrdup(s) : 0);
}

static void result_clear(DSN_RESULT *r)
{
    myfree(r->reason);
    myfree(r->relay);
    myfree(r->remote_mta);
    myfree(r->diag);
    memset(r, 0, sizeof(*r));
}

static void result_copy(DSN_RESULT *to, const DSN_RESULT *from)
{
    result_clear(to);
    snprintf(to->status, sizeof(to->status), "%s", from->status);
    to->action = from->action;
    to->reason = mystrdup(from->reason ? from->reason : "");
    to->relay = mystrdup(from->relay && *from->relay ? from->relay : "none");
    to->remote_mta = dup_or_null(from->remote_mta);
    to->diag = dup_or_null(from->diag);
    to->conn_setup = from->conn_setup;
    to->xmit = from->xmit;
    to->conn_reuse = from->conn_reuse;
    to->flags = from->flags;
}

/* status_ok - an enhanced status code X.Y.Z with X in 2, 4, 5 */
static int status_ok(const char *s)
{
    const char *cp = s;
    int     parts = 0;

    if (s == 0 || strlen(s) >= sizeof(((DSN_RESULT *) 0)->status))
	return (0);
    if (*cp != '2' && *cp != '4' && *cp != '5')
	return (0);
    for (;;) {
	int     digits = 0;

	while (isdigit((unsigned char) *cp)) {
	    cp++;
	    digits++;
	}
	if (digits == 0 || digits > 3)
	    return (0);
	parts++;
	if (*cp == 0)
	    return (parts == 3);
	if (*cp != '.' || parts == 3)
	    return (0);
	cp++;
    }
}

void    deliver_request_free(DELIVER_REQUEST *req)
{
    if (req == 0)
	return;
    myfree(req->queue_name);
    myfree(req->queue_id);
    myfree(req->sender);
    myfree(req->nexthop);
    myfree(req->transport);
    myfree(req->dsn_envid);
    myfree(req->client_name);
    myfree(req->client_addr);
    myfree(req->helo_name);
    myfree(req->sasl_username);
    myfree(req->hop_status);
    myfree(req->hop_reason);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	RECIPIENT *r = req->rcpt + i;

	myfree(r->address);
	myfree(r->orig_addr);
	myfree(r->dsn_orcpt);
	result_clear(&r->result);
    }
    myfree(req->rcpt);
    myfree(req);
}

int     deliver_request_send(VSTREAM *stream, const DELIVER_REQUEST *req)
{
    attr_put_num(stream, DELIVER_ATTR_FLAGS, req->flags);
    attr_put(stream, DELIVER_ATTR_QUEUE_NAME, req->queue_name);
    attr_put(stream, DELIVER_ATTR_QUEUE_ID, req->queue_id);
    attr_put_num(stream, DELIVER_ATTR_DATA_OFFSET, (long long) req->data_offset);
    attr_put_num(stream, DELIVER_ATTR_DATA_SIZE, (long long) req->data_size);
    attr_put(stream, DELIVER_ATTR_NEXTHOP, req->nexthop);
    attr_put(stream, DELIVER_ATTR_TRANSPORT, req->transport);
    attr_put(stream, DELIVER_ATTR_SENDER, req->sender);
    attr_put(stream, DELIVER_ATTR_DSN_ENVID, req->dsn_envid);
    attr_put_num(stream, DELIVER_ATTR_DSN_RET, req->dsn_ret);
    attr_put(stream, DELIVER_ATTR_CLIENT_NAME, req->client_name);
    attr_put(stream, DELIVER_ATTR_CLIENT_ADDR, req->client_addr);
    attr_put(stream, DELIVER_ATTR_HELO_NAME, req->helo_name);
    attr_put(stream, DELIVER_ATTR_SASL_USERNAME, req->sasl_username);
    attr_put_fixed6(stream, DELIVER_ATTR_ARRIVAL_TIME, req->arrival_time);
    attr_put_fixed6(stream, DELIVER_ATTR_ACTIVE_TIME, req->active_time);
    attr_put_num(stream, DELIVER_ATTR_RCPT_COUNT, (long long) req->rcpt_count);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;

	attr_put(stream, DELIVER_ATTR_RECIPIENT, r->address);
	attr_put(stream, DELIVER_ATTR_ORIG_RCPT, r->orig_addr);
	attr_put_num(stream, DELIVER_ATTR_OFFSET, (long long) r->offset);
	attr_put_num(stream, DELIVER_ATTR_DSN_NOTIFY, r->dsn_notify);
	attr_put(stream, DELIVER_ATTR_DSN_ORCPT, r->dsn_orcpt);
    }
    return (attr_put_end(stream) == 0 && !vstream_ferror(stream) ? 0 : -1);
}

/*
 * The request as read: the sender's recipient count is only checked
 * (the recipient groups count themselves).
 */
typedef struct DELIVER_WIRE {
    DELIVER_REQUEST req;
    long    rcpt_count;
} DELIVER_WIRE;

static const ATTR_SCAN deliver_rcpt_table[] = {
    ATTR_STR(DELIVER_ATTR_RECIPIENT, RECIPIENT, address, ATTR_FLAG_REQUIRED, 1, 0),
    ATTR_STR(DELIVER_ATTR_ORIG_RCPT, RECIPIENT, orig_addr, 0, 0, 0),
    ATTR_OFF(DELIVER_ATTR_OFFSET, RECIPIENT, offset, 0, 0, LONG_MAX),
    ATTR_INT(DELIVER_ATTR_DSN_NOTIFY, RECIPIENT, dsn_notify, 0, 0, 15),
    ATTR_STR(DELIVER_ATTR_DSN_ORCPT, RECIPIENT, dsn_orcpt, 0, 0, 0),
    ATTR_END,
};

static const ATTR_SCAN deliver_request_table[] = {
    ATTR_INT(DELIVER_ATTR_FLAGS, DELIVER_WIRE, req.flags, 0, 0, INT_MAX),
    ATTR_STR(DELIVER_ATTR_QUEUE_NAME, DELIVER_WIRE, req.queue_name, ATTR_FLAG_REQUIRED, 1, 64),
    ATTR_STR(DELIVER_ATTR_QUEUE_ID, DELIVER_WIRE, req.queue_id, ATTR_FLAG_REQUIRED, 1, 64),
    ATTR_OFF(DELIVER_ATTR_DATA_OFFSET, DELIVER_WIRE, req.data_offset, 0, 0, LONG_MAX),
    ATTR_OFF(DELIVER_ATTR_DATA_SIZE, DELIVER_WIRE, req.data_size, 0, 0, LONG_MAX),
    ATTR_STR(DELIVER_ATTR_NEXTHOP, DELIVER_WIRE, req.nexthop, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_TRANSPORT, DELIVER_WIRE, req.transport, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_SENDER, DELIVER_WIRE, req.sender, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_DSN_ENVID, DELIVER_WIRE, req.dsn_envid, 0, 0, 0),
    ATTR_INT(DELIVER_ATTR_DSN_RET, DELIVER_WIRE, req.dsn_ret, 0, 0, DSN_RET_HDRS),
    ATTR_STR(DELIVER_ATTR_CLIENT_NAME, DELIVER_WIRE, req.client_name, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_CLIENT_ADDR, DELIVER_WIRE, req.client_addr, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_HELO_NAME, DELIVER_WIRE, req.helo_name, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_SASL_USERNAME, DELIVER_WIRE, req.sasl_username, 0, 0, 0),
    ATTR_DOUBLE(DELIVER_ATTR_ARRIVAL_TIME, DELIVER_WIRE, req.arrival_time, 0, 0, LONG_MAX),
    ATTR_DOUBLE(DELIVER_ATTR_ACTIVE_TIME, DELIVER_WIRE, req.active_time, 0, 0, LONG_MAX),
    ATTR_LONG(DELIVER_ATTR_RCPT_COUNT, DELIVER_WIRE, rcpt_count, 0, 0, DELIVER_RCPT_MAX),
    ATTR_GROUP(DELIVER_ATTR_RECIPIENT, DELIVER_WIRE, req.rcpt, req.rcpt_count, RECIPIENT,
	       deliver_rcpt_table, ATTR_FLAG_REQUIRED, 1, DELIVER_RCPT_MAX),
    ATTR_END,
};

/* empty_if_null - an absent string attribute reads as "" */
static void empty_if_null(char **field)
{
    if (*field == 0)
	*field = mystrdup("");
}

DELIVER_REQUEST *deliver_request_read(VSTREAM *stream)
{
    DELIVER_WIRE wire;
    DELIVER_REQUEST *req;
    VSTRING *why = vstring_alloc(100);
    int     got;

    if (stream->timeout == 0)
	vstream_set_timeout(stream, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    memset(&wire, 0, sizeof(wire));
    got = attr_scan(stream, deliver_request_table, &wire, why);
    req = mymalloc(sizeof(*req));
    *req = wire.req;
    if (got > 0 && (!word_ok(req->queue_name) || !word_ok(req->queue_id))) {
	vstring_strcpy(why, "bad queue name or queue ID");
	got = -1;
    }
    if (got <= 0) {
	if (got < 0)
	    msg_warn("malformed delivery request: %s", vstring_str(why));
	deliver_request_free(req);
	vstring_free(why);
	return (0);
    }
    vstring_free(why);
    empty_if_null(&req->sender);
    empty_if_null(&req->nexthop);
    empty_if_null(&req->transport);
    empty_if_null(&req->dsn_envid);
    empty_if_null(&req->client_name);
    empty_if_null(&req->client_addr);
    empty_if_null(&req->helo_name);
    empty_if_null(&req->sasl_username);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	empty_if_null(&req->rcpt[i].orig_addr);
	empty_if_null(&req->rcpt[i].dsn_orcpt);
    }
    return (req);
}

/*
 * soft_bounce - with soft_bounce = yes a failure stays queued: the
 * recipient is deferred with the reason kept and a 4.X.Y status, and the
 * log says status=SOFTBOUNCE (Postfix 3.7's line). Probes are left alone.
 */
static int soft_bounce(const DELIVER_REQUEST *req, const DSN_RESULT *result)
{
    static int soft = -1;

    if (result->action != 'f' || DEL_REQ_TRACE_ONLY(req->flags))
	return (0);
    if (soft < 0)
	soft = mail_conf_bool(VAR_SOFT_BOUNCE);
    return (soft);
}

void    deliver_result(DELIVER_REQUEST *req, size_t idx, const DSN_RESULT *result)
{
    DSN_RESULT *to;

    if (idx >= req->rcpt_count)
	msg_panic("deliver_result: recipient index %zu out of range", idx);
    to = &req->rcpt[idx].result;
    result_copy(to, result);
    if (soft_bounce(req, result)) {
	to->action = 'x';
	to->status[0] = '4';
    }
    req->rcpt[idx].have_result = 1;
}

/*
 * learned_before - a learning delivery (not a probe) whose delivered
 * recipients this process has all reported to verify(8) already, within
 * address_verify_positive_refresh_time: the cache would learn nothing
 * (and verify(8) would lock, write and fdatasync its table for it).
 * Otherwise the delivered recipients are remembered, up to a bound.
 */
#define LEARNED_MAX	1000

static int learned_before(const DELIVER_REQUEST *req)
{
    static HTABLE *learned;
    static long refresh = -1;
    time_t  now = time((time_t *) 0);
    int     all = 1;

    if ((req->flags & DEL_REQ_FLAG_VERIFY) || !(req->flags & DEL_REQ_FLAG_RECORD))
	return (0);
    if (refresh < 0)
	refresh = mail_conf_time(VAR_ADDRESS_VERIFY_POSITIVE_REFRESH_TIME);
    if (learned == 0)
	learned = htable_create(64);
    for (size_t i = 0; all && i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;
	time_t *when;

	if (r->have_result && r->result.action == 'd'
	    && ((when = htable_find(learned, r->address)) == 0 || now - *when >= refresh))
	    all = 0;
    }
    if (all)
	return (1);
    if (learned->used >= LEARNED_MAX) {
	htable_free(learned, myfree);
	learned = htable_create(64);
    }
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;
	time_t *when;

	if (!r->have_result || r->result.action != 'd')
	    continue;
	if ((when = htable_find(learned, r->address)) == 0) {
	    when = mymalloc(sizeof(*when));
	    htable_enter(learned, r->address, when);
	}
	*when = now;
    }
    return (0);
}

int     deliver_request_done(VSTREAM *stream, DELIVER_REQUEST *req)
{
    /* Probe results and learned deliveries go to the verify service. */
    if ((req->flags & (DEL_REQ_FLAG_VERIFY | DEL_REQ_FLAG_RECORD)) && !learned_before(req))
	(void) verify_clnt_record(req);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;
	const DSN_RESULT *res = &r->result;
	char    action[2];

	if (!r->have_result)
	    continue;
	action[0] = (char) res->action;
	action[1] = 0;
	attr_put_num(stream, DELIVER_ATTR_RCPT_INDEX, (long long) i);
	attr_put(stream, DELIVER_ATTR_DSN_STATUS, res->status);
	attr_put(stream, DELIVER_ATTR_DSN_ACTION, action);
	attr_put(stream, DELIVER_ATTR_REASON, res->reason);
	attr_put(stream, DELIVER_ATTR_RELAY, res->relay);
	if (res->remote_mta)
	    attr_put(stream, DELIVER_ATTR_REMOTE_MTA, res->remote_mta);
	if (res->diag)
	    attr_put(stream, DELIVER_ATTR_DIAG, res->diag);
	attr_put_fixed6(stream, DELIVER_ATTR_CONN_SETUP, res->conn_setup);
	attr_put_fixed6(stream, DELIVER_ATTR_XMIT, res->xmit);
	attr_put_num(stream, DELIVER_ATTR_CONN_REUSE, res->conn_reuse);
	if (res->flags)
	    attr_put_num(stream, DELIVER_ATTR_DSN_FLAGS, res->flags);
    }
    if (req->hop_status && req->hop_reason) {
	attr_put(stream, DELIVER_ATTR_HOP_STATUS, req->hop_status);
	attr_put(stream, DELIVER_ATTR_HOP_REASON, req->hop_reason);
    }
    if (req->more)
	attr_put(stream, DELIVER_ATTR_MORE, "1");
    attr_put(stream, ATTR_NAME_STATUS, "0");
    return (attr_put_end(stream) == 0 && !vstream_ferror(stream) ? 0 : -1);
}

/* One result as read, before it is checked against the request. */
typedef struct DELIVER_REPLY_RCPT {
    long    index;
    char   *status;
    char   *action;
    char   *reason;
    char   *relay;
    char   *remote_mta;
    char   *diag;
    double  conn_setup;
    double  xmit;
    int     conn_reuse;
    int     flags;
} DELIVER_REPLY_RCPT;

typedef struct DELIVER_REPLY {
    DELIVER_REPLY_RCPT *rcpt;
    size_t  count;
    char   *hop_status;
    char   *hop_reason;
    int     more;
    int     status;
} DELIVER_REPLY;

static const ATTR_SCAN deliver_result_table[] = {
    ATTR_LONG(DELIVER_ATTR_RCPT_INDEX, DELIVER_REPLY_RCPT, index,
	      ATTR_FLAG_REQUIRED, 0, DELIVER_RCPT_MAX - 1),
    ATTR_STR(DELIVER_ATTR_DSN_STATUS, DELIVER_REPLY_RCPT, status, ATTR_FLAG_REQUIRED,
	     5, sizeof(((DSN_RESULT *) 0)->status) - 1),
    ATTR_STR(DELIVER_ATTR_DSN_ACTION, DELIVER_REPLY_RCPT, action, ATTR_FLAG_REQUIRED, 1, 1),
    ATTR_STR(DELIVER_ATTR_REASON, DELIVER_REPLY_RCPT, reason, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_RELAY, DELIVER_REPLY_RCPT, relay, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_REMOTE_MTA, DELIVER_REPLY_RCPT, remote_mta, 0, 0, 0),
    ATTR_STR(DELIVER_ATTR_DIAG, DELIVER_REPLY_RCPT, diag, 0, 0, 0),
    ATTR_DOUBLE(DELIVER_ATTR_CONN_SETUP, DELIVER_REPLY_RCPT, conn_setup, 0, 0, LONG_MAX),
    ATTR_DOUBLE(DELIVER_ATTR_XMIT, DELIVER_REPLY_RCPT, xmit, 0, 0, LONG_MAX),
    ATTR_INT(DELIVER_ATTR_CONN_REUSE, DELIVER_REPLY_RCPT, conn_reuse, 0, 0, INT_MAX),
    ATTR_INT(DELIVER_ATTR_DSN_FLAGS, DELIVER_REPLY_RCPT, flags, 0, 0, INT_MAX),
    ATTR_END,
};

static const ATTR_SCAN deliver_reply_table[] = {
    ATTR_GROUP(DELIVER_ATTR_RCPT_INDEX, DELIVER_REPLY, rcpt, count, DELIVER_REPLY_RCPT,
	       deliver_result_table, 0, 0, DELIVER_RCPT_MAX),
    ATTR_STR(DELIVER_ATTR_HOP_STATUS, DELIVER_REPLY, hop_status, 0,
	     5, sizeof(((DSN_RESULT *) 0)->status) - 1),
    ATTR_STR(DELIVER_ATTR_HOP_REASON, DELIVER_REPLY, hop_reason, 0, 0, 0),
    ATTR_INT(DELIVER_ATTR_MORE, DELIVER_REPLY, more, 0, 0, 1),
    ATTR_INT(ATTR_NAME_STATUS, DELIVER_REPLY, status, ATTR_FLAG_REQUIRED, 0, INT_MAX),
    ATTR_END,
};

int     deliver_reply_read(VSTREAM *stream, DELIVER_REQUEST *req)
{
    DELIVER_REPLY reply;
    VSTRING *why = vstring_alloc(100);
    char   *seen = mycalloc(req->rcpt_count ? req->rcpt_count : 1, 1);
    int     got;

    memset(&reply, 0, sizeof(reply));
    got = attr_scan(stream, deliver_reply_table, &reply, why);
    if (got > 0 && reply.status != 0) {
	vstring_strcpy(why, "agent reported an error");
	got = -1;
    }

    /*
     * Results are stored only when the whole reply is good: a reply that
     * goes wrong half way leaves every recipient without a result.
     */
    for (size_t i = 0; got > 0 && i < reply.count; i++) {
	const DELIVER_REPLY_RCPT *r = reply.rcpt + i;

	if ((size_t) r->index >= req->rcpt_count || seen[r->index]) {
	    vstring_strcpy(why, "bad recipient index");
	    got = -1;
	} else if (!status_ok(r->status) || strchr("dxf", r->action[0]) == 0) {
	    vstring_strcpy(why, "bad status or action");
	    got = -1;
	} else {
	    seen[r->index] = 1;
	}
    }
    for (size_t i = 0; got > 0 && i < reply.count; i++) {
	const DELIVER_REPLY_RCPT *r = reply.rcpt + i;
	DSN_RESULT res;

	memset(&res, 0, sizeof(res));
	snprintf(res.status, sizeof(res.status), "%s", r->status);
	res.action = r->action[0];
	res.reason = r->reason;
	res.relay = r->relay;
	res.remote_mta = r->remote_mta;
	res.diag = r->diag;
	res.conn_setup = r->conn_setup;
	res.xmit = r->xmit;
	res.conn_reuse = r->conn_reuse;
	res.flags = r->flags;
	deliver_result(req, (size_t) r->index, &res);
    }
    if (got > 0 && reply.hop_status && reply.hop_reason) {
	if (!status_ok(reply.hop_status) || reply.hop_status[0] != '4') {
	    vstring_strcpy(why, "bad hop status");
	    got = -1;
	} else {
	    myfree(req->hop_status);
	    myfree(req->hop_reason);
	    req->hop_status = mystrdup(reply.hop_status);
	    req->hop_reason = mystrdup(reply.hop_reason);
	}
    }
    if (got > 0)
	req->more = reply.more;
    if (got < 0)
	msg_warn("malformed reply from delivery agent %s: %s",
		 req->transport ? req->transport : "", vstring_str(why));
    attr_scan_free(deliver_reply_table, &reply);
    myfree(seen);
    vstring_free(why);
    return (got > 0 ? 0 : -1);
}

/*
 * format_delay - Postfix's way of writing a delay: rounded to max_dig
 * decimals, at most sig_dig significant digits, no trailing zeros.
 */
static void format_delay(VSTRING *buf, double secs)
{
    static long max_dig = -1;		/* asked once: a reload restarts us */
    const int sig_dig = 2;
    long    scale = 1;
    long long units;
    long long whole;
    long long frac;
    int     whole_digits;
    int     left;

    if (max_dig < 0 && (max_dig = mail_conf_int(VAR_DELAY_LOGGING_RESOLUTION_LIMIT)) < 0)
	max_dig = 0;
    if (max_dig > 6)
	max_dig = 6;
    for (int i = 0; i < max_dig; i++)
	scale *= 10;
    if (!(secs > 0))
	secs = 0;
    if (secs > 1e12)
	secs = 1e12;
    units = (long long) (secs * scale + 0.5);
    whole = units / scale;
    frac = units % scale;

    if (whole > 0) {
	vstring_sprintf_append(buf, "%lld", whole);
	whole_digits = 0;
	for (long long w = whole; w > 0; w /= 10)
	    whole_digits++;
	left = sig_dig - whole_digits;
    } else {
	left = sig_dig;
    }
    if (left <= 0 || frac == 0) {
	if (whole == 0)
	    vstring_strcat(buf, "0");
	return;
    }

    /*
     * Write the fraction digit by digit; leading zeros of a value below
     * one do not count as significant.
     */
    VSTRING *digits = vstring_alloc(8);
    int     significant = (whole > 0);

    for (long div = scale / 10; div > 0 && left > 0; div /= 10) {
	int     d = (int) ((frac / div) % 10);

	vstring_addch(digits, '0' + d);
	if (d != 0 || significant) {
	    significant = 1;
	    left--;
	}
    }
    while (vstring_len(digits) > 0 && vstring_end(digits)[-1] == '0')
	vstring_truncate(digits, vstring_len(digits) - 1);
    if (vstring_len(digits) > 0) {
	if (whole == 0)
	    vstring_strcat(buf, "0");
	vstring_sprintf_append(buf, ".%s", vstring_str(digits));
    } else if (whole == 0) {
	vstring_strcat(buf, "0");
    }
    vstring_free(digits);
}

void    deliver_log(const DELIVER_REQUEST *req, const RECIPIENT *rcpt,
		            const DSN_RESULT *result)
{
    VSTRING *buf = vstring_alloc(256);
    struct timeval tv;
    double  now;
    double  delay;
    double  a;
    double  b;
    double  c;
    double  d;
    const char *status;
    char    dsn[sizeof(result->status)];
    VSTRING *addr;

    gettimeofday(&tv, 0);
    now = tv.tv_sec + tv.tv_usec / 1e6;
    delay = req->arrival_time > 0 ? now - req->arrival_time : 0;
    if (delay < 0)
	delay = 0;
    a = (req->active_time > 0 && req->arrival_time > 0) ?
	req->active_time - req->arrival_time : 0;
    if (a < 0)
	a = 0;
    c = result->conn_setup > 0 ? result->conn_setup : 0;
    d = result->xmit > 0 ? result->xmit : 0;
    b = delay - a - c - d;
    if (b < 0)
	b = 0;

    switch (result->action) {
    case 'd':
	status = DEL_REQ_TRACE_ONLY(req->flags) ? "deliverable" : "sent";
	break;
    case 'f':
	status = soft_bounce(req, result) ? "SOFTBOUNCE" : "bounced";
	break;
    default:
	status = "deferred";
	break;
    }
    /* A probe that did not succeed is "undeliverable", as in Postfix. */
    if (DEL_REQ_TRACE_ONLY(req->flags) && result->action != 'd')
	status = "undeliverable";

    addr = vstring_alloc(100);
    vstring_sprintf(buf, "%s: to=<%s>", req->queue_id, info_log_addr(addr, rcpt->address));
    if (rcpt->orig_addr && *rcpt->orig_addr
	&& strcasecmp(rcpt->orig_addr, rcpt->address) != 0)
	vstring_sprintf_append(buf, ", orig_to=<%s>", info_log_addr(addr, rcpt->orig_addr));
    vstring_free(addr);
    vstring_sprintf_append(buf, ", relay=%s",
			   result->relay && *result->relay ? result->relay : "none");
    if (result->conn_reuse > 1)
	vstring_sprintf_append(buf, ", conn_use=%d", result->conn_reuse);
    vstring_strcat(buf, ", delay=");
    format_delay(buf, delay);
    vstring_strcat(buf, ", delays=");
    format_delay(buf, a);
    vstring_strcat(buf, "/");
    format_delay(buf, b);
    vstring_strcat(buf, "/");
    format_delay(buf, c);
    vstring_strcat(buf, "/");
    format_delay(buf, d);
    snprintf(dsn, sizeof(dsn), "%s", result->status[0] ? result->status : "4.0.0");
    if (soft_bounce(req, result))
	dsn[0] = '4';
    vstring_sprintf_append(buf, ", dsn=%s, status=%s (%s)", dsn, status,
			   result->reason ? result->reason : "");
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* deliver_format_delay - exposed for tests and for qmgr's own lines */
void    deliver_format_delay(VSTRING *buf, double secs)
{
    format_delay(buf, secs);
}
