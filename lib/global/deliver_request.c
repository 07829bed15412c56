/*
 * NAME
 *	deliver_request - what qmgr asks a delivery agent, and the answers
 * SYNOPSIS
 *	See deliver_request.h.
 * DESCRIPTION
 *	The wire form (attr.h lists of name=value pairs):
 *
 *	Request, qmgr to agent, one list:
 *	    flags queue_name queue_id data_offset data_size nexthop
 *	    transport sender dsn_envid dsn_ret client_name client_address
 *	    helo_name sasl_username arrival_time active_time rcpt_count
 *	    then per recipient, in this order, "recipient" opening it:
 *	    recipient original_recipient offset dsn_notify dsn_orig_rcpt
 *
 *	Reply, agent to qmgr, one list:
 *	    per recipient with a result, "rcpt_index" opening it:
 *	    rcpt_index dsn_status dsn_action (d, x or f) reason relay
 *	    remote_mta diag conn_setup xmit conn_reuse [dsn_flags]
 *	    then status=0.
 *
 *	Names that a reader does not know are skipped. Every number and
 *	every index is checked; a request whose queue name or queue ID is
 *	not a plain word (the agent opens queue_name/queue_id) is refused.
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
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/attr.h"
#include "global/mail_conf.h"
#include "global/deliver_request.h"
#include "global/verify_clnt.h"

/* Names used only by this protocol; the shared ones come from attr.h. */
#define DA_DATA_OFFSET	"data_offset"
#define DA_DATA_SIZE	"data_size"
#define DA_CLIENT_NAME	"client_name"
#define DA_CLIENT_ADDR	"client_address"
#define DA_HELO_NAME	"helo_name"
#define DA_SASL_USER	"sasl_username"
#define DA_ARRIVAL	"arrival_time"
#define DA_ACTIVE	"active_time"
#define DA_RCPT_COUNT	"rcpt_count"
#define DA_RCPT_INDEX	"rcpt_index"
#define DA_RELAY	"relay"
#define DA_REMOTE_MTA	"remote_mta"
#define DA_DIAG		"diag"
#define DA_CONN_SETUP	"conn_setup"
#define DA_XMIT		"xmit"
#define DA_CONN_REUSE	"conn_reuse"
#define DA_DSN_FLAGS	"dsn_flags"

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

/* parse_long - a decimal number within [min, max] */
static int parse_long(const char *text, long min, long max, long *value)
{
    char   *end;

    if (text == 0 || *text == 0)
	return (-1);
    errno = 0;
    *value = strtol(text, &end, 10);
    if (*end || errno == ERANGE || *value < min || *value > max)
	return (-1);
    return (0);
}

/* parse_double - a finite, non-negative number */
static int parse_double(const char *text, double *value)
{
    char   *end;

    if (text == 0 || *text == 0)
	return (-1);
    errno = 0;
    *value = strtod(text, &end);
    if (*end || errno == ERANGE || !isfinite(*value) || *value < 0)
	return (-1);
    return (0);
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
    ATTR   *a = attr_alloc();
    int     ret;

    attr_addf(a, ATTR_NAME_FLAGS, "%d", req->flags);
    attr_add(a, ATTR_NAME_QUEUE_NAME, req->queue_name);
    attr_add(a, ATTR_NAME_QUEUE_ID, req->queue_id);
    attr_addf(a, DA_DATA_OFFSET, "%lld", (long long) req->data_offset);
    attr_addf(a, DA_DATA_SIZE, "%lld", (long long) req->data_size);
    attr_add(a, ATTR_NAME_NEXTHOP, req->nexthop);
    attr_add(a, ATTR_NAME_TRANSPORT, req->transport);
    attr_add(a, ATTR_NAME_SENDER, req->sender);
    attr_add(a, ATTR_NAME_DSN_ENVID, req->dsn_envid);
    attr_addf(a, ATTR_NAME_DSN_RET, "%d", req->dsn_ret);
    attr_add(a, DA_CLIENT_NAME, req->client_name);
    attr_add(a, DA_CLIENT_ADDR, req->client_addr);
    attr_add(a, DA_HELO_NAME, req->helo_name);
    attr_add(a, DA_SASL_USER, req->sasl_username);
    attr_addf(a, DA_ARRIVAL, "%.6f", req->arrival_time);
    attr_addf(a, DA_ACTIVE, "%.6f", req->active_time);
    attr_addf(a, DA_RCPT_COUNT, "%zu", req->rcpt_count);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;

	attr_add(a, ATTR_NAME_RECIPIENT, r->address);
	attr_add(a, ATTR_NAME_ORIG_RCPT, r->orig_addr);
	attr_addf(a, ATTR_NAME_OFFSET, "%lld", (long long) r->offset);
	attr_addf(a, ATTR_NAME_DSN_NOTIFY, "%d", r->dsn_notify);
	attr_add(a, ATTR_NAME_DSN_ORCPT, r->dsn_orcpt);
    }
    ret = attr_send(stream, a);
    attr_free(a);
    return (ret == 0 && !vstream_ferror(stream) ? 0 : -1);
}

/* set_str - replace a string field */
static void set_str(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value);
}

DELIVER_REQUEST *deliver_request_read(VSTREAM *stream)
{
    ATTR   *a = attr_alloc();
    DELIVER_REQUEST *req = 0;
    const char *why = 0;
    size_t  rcpt_cap = 0;
    long    num;
    int     got;

    if (stream->timeout == 0)
	vstream_set_timeout(stream, (int) mail_conf_time(VAR_IPC_TIMEOUT));
    if ((got = attr_recv(stream, a, ATTR_MAX_LEN, ATTR_MAX_COUNT)) <= 0) {
	if (got < 0)
	    msg_warn("malformed or truncated delivery request");
	attr_free(a);
	return (0);
    }
    req = mycalloc(1, sizeof(*req));
#define EMPTY(f) (req->f = mystrdup(""))
    EMPTY(queue_name);
    EMPTY(queue_id);
    EMPTY(sender);
    EMPTY(nexthop);
    EMPTY(transport);
    EMPTY(dsn_envid);
    EMPTY(client_name);
    EMPTY(client_addr);
    EMPTY(helo_name);
    EMPTY(sasl_username);

    for (size_t i = 0; i < attr_count(a) && why == 0; i++) {
	const char *name = attr_name(a, i);
	const char *value = attr_value(a, i);
	RECIPIENT *r = req->rcpt_count ? req->rcpt + req->rcpt_count - 1 : 0;
	double  d;

	if (strcmp(name, ATTR_NAME_FLAGS) == 0) {
	    if (parse_long(value, 0, INT_MAX, &num) < 0)
		why = "bad flags";
	    req->flags = (int) num;
	} else if (strcmp(name, ATTR_NAME_QUEUE_NAME) == 0) {
	    set_str(&req->queue_name, value);
	} else if (strcmp(name, ATTR_NAME_QUEUE_ID) == 0) {
	    set_str(&req->queue_id, value);
	} else if (strcmp(name, DA_DATA_OFFSET) == 0) {
	    if (parse_long(value, 0, LONG_MAX, &num) < 0)
		why = "bad data offset";
	    req->data_offset = num;
	} else if (strcmp(name, DA_DATA_SIZE) == 0) {
	    if (parse_long(value, 0, LONG_MAX, &num) < 0)
		why = "bad data size";
	    req->data_size = num;
	} else if (strcmp(name, ATTR_NAME_NEXTHOP) == 0) {
	    set_str(&req->nexthop, value);
	} else if (strcmp(name, ATTR_NAME_TRANSPORT) == 0) {
	    set_str(&req->transport, value);
	} else if (strcmp(name, ATTR_NAME_SENDER) == 0) {
	    set_str(&req->sender, value);
	} else if (strcmp(name, ATTR_NAME_DSN_ENVID) == 0) {
	    set_str(&req->dsn_envid, value);
	} else if (strcmp(name, ATTR_NAME_DSN_RET) == 0) {
	    if (parse_long(value, 0, DSN_RET_HDRS, &num) < 0)
		why = "bad dsn_ret";
	    req->dsn_ret = (int) num;
	} else if (strcmp(name, DA_CLIENT_NAME) == 0) {
	    set_str(&req->client_name, value);
	} else if (strcmp(name, DA_CLIENT_ADDR) == 0) {
	    set_str(&req->client_addr, value);
	} else if (strcmp(name, DA_HELO_NAME) == 0) {
	    set_str(&req->helo_name, value);
	} else if (strcmp(name, DA_SASL_USER) == 0) {
	    set_str(&req->sasl_username, value);
	} else if (strcmp(name, DA_ARRIVAL) == 0) {
	    if (parse_double(value, &d) < 0)
		why = "bad arrival time";
	    req->arrival_time = d;
	} else if (strcmp(name, DA_ACTIVE) == 0) {
	    if (parse_double(value, &d) < 0)
		why = "bad active time";
	    req->active_time = d;
	} else if (strcmp(name, DA_RCPT_COUNT) == 0) {
	    /* Only a hint for the allocation; the list itself counts. */
	    if (parse_long(value, 0, ATTR_MAX_COUNT, &num) < 0)
		why = "bad recipient count";
	    else if (rcpt_cap == 0 && num > 0) {
		rcpt_cap = (size_t) num;
		req->rcpt = mycalloc(rcpt_cap, sizeof(*req->rcpt));
	    }
	} else if (strcmp(name, ATTR_NAME_RECIPIENT) == 0) {
	    if (*value == 0) {
		why = "empty recipient";
		break;
	    }
	    if (req->rcpt_count >= rcpt_cap) {
		rcpt_cap = rcpt_cap ? 2 * rcpt_cap : 8;
		req->rcpt = myrealloc(req->rcpt, rcpt_cap * sizeof(*req->rcpt));
	    }
	    r = req->rcpt + req->rcpt_count++;
	    memset(r, 0, sizeof(*r));
	    r->address = mystrdup(value);
	    r->orig_addr = mystrdup("");
	    r->dsn_orcpt = mystrdup("");
	} else if (strcmp(name, ATTR_NAME_ORIG_RCPT) == 0) {
	    if (r == 0)
		why = "original recipient before recipient";
	    else
		set_str(&r->orig_addr, value);
	} else if (strcmp(name, ATTR_NAME_OFFSET) == 0) {
	    if (r == 0 || parse_long(value, 0, LONG_MAX, &num) < 0)
		why = "bad recipient offset";
	    else
		r->offset = num;
	} else if (strcmp(name, ATTR_NAME_DSN_NOTIFY) == 0) {
	    if (r == 0 || parse_long(value, 0, 15, &num) < 0)
		why = "bad dsn_notify";
	    else
		r->dsn_notify = (int) num;
	} else if (strcmp(name, ATTR_NAME_DSN_ORCPT) == 0) {
	    if (r == 0)
		why = "dsn_orig_rcpt before recipient";
	    else
		set_str(&r->dsn_orcpt, value);
	}
	/* else: a newer sender's attribute; skip it. */
    }
    if (why == 0 && (!word_ok(req->queue_name) || !word_ok(req->queue_id)))
	why = "bad queue name or queue ID";
    if (why == 0 && req->rcpt_count == 0)
	why = "no recipients";
    attr_free(a);
    if (why) {
	msg_warn("malformed delivery request: %s", why);
	deliver_request_free(req);
	return (0);
    }
    return (req);
}

void    deliver_result(DELIVER_REQUEST *req, size_t idx, const DSN_RESULT *result)
{
    if (idx >= req->rcpt_count)
	msg_panic("deliver_result: recipient index %zu out of range", idx);
    result_copy(&req->rcpt[idx].result, result);
    req->rcpt[idx].have_result = 1;
}

int     deliver_request_done(VSTREAM *stream, DELIVER_REQUEST *req)
{
    ATTR   *a = attr_alloc();
    int     ret;

    /* Probe results and learned deliveries go to the verify service. */
    if (req->flags & (DEL_REQ_FLAG_VERIFY | DEL_REQ_FLAG_RECORD))
	(void) verify_clnt_record(req);
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *r = req->rcpt + i;
	const DSN_RESULT *res = &r->result;

	if (!r->have_result)
	    continue;
	attr_addf(a, DA_RCPT_INDEX, "%zu", i);
	attr_add(a, ATTR_NAME_DSN_STATUS, res->status);
	attr_addf(a, ATTR_NAME_DSN_ACTION, "%c", res->action);
	attr_add(a, ATTR_NAME_REASON, res->reason);
	attr_add(a, DA_RELAY, res->relay);
	if (res->remote_mta)
	    attr_add(a, DA_REMOTE_MTA, res->remote_mta);
	if (res->diag)
	    attr_add(a, DA_DIAG, res->diag);
	attr_addf(a, DA_CONN_SETUP, "%.6f", res->conn_setup);
	attr_addf(a, DA_XMIT, "%.6f", res->xmit);
	attr_addf(a, DA_CONN_REUSE, "%d", res->conn_reuse);
	if (res->flags)
	    attr_addf(a, DA_DSN_FLAGS, "%d", res->flags);
    }
    attr_add(a, ATTR_NAME_STATUS, "0");
    ret = attr_send(stream, a);
    attr_free(a);
    return (ret == 0 && !vstream_ferror(stream) ? 0 : -1);
}

int     deliver_reply_read(VSTREAM *stream, DELIVER_REQUEST *req)
{
    ATTR   *a = attr_alloc();
    DSN_RESULT cur;
    long    idx = -1;
    long    num;
    const char *why = 0;
    int     got;
    int     have_status = 0;

    memset(&cur, 0, sizeof(cur));
    if ((got = attr_recv(stream, a, ATTR_MAX_LEN, ATTR_MAX_COUNT)) <= 0) {
	attr_free(a);
	return (-1);
    }

    /*
     * Results are stored only when the whole reply is good: a reply that
     * goes wrong half way leaves every recipient without a result.
     */
    DSN_RESULT *results = mycalloc(req->rcpt_count ? req->rcpt_count : 1, sizeof(*results));
    char   *seen = mycalloc(req->rcpt_count ? req->rcpt_count : 1, 1);

#define FLUSH_CUR() do { \
	if (idx >= 0) { \
	    if (!status_ok(cur.status) || (cur.action != 'd' && cur.action != 'x' \
					   && cur.action != 'f')) \
		why = "bad status or action"; \
	    else { \
		result_copy(&results[idx], &cur); \
		seen[idx] = 1; \
	    } \
	    result_clear(&cur); \
	} \
    } while (0)

    for (size_t i = 0; i < attr_count(a) && why == 0; i++) {
	const char *name = attr_name(a, i);
	const char *value = attr_value(a, i);
	double  d;

	if (strcmp(name, DA_RCPT_INDEX) == 0) {
	    FLUSH_CUR();
	    if (why)
		break;
	    if (parse_long(value, 0, (long) req->rcpt_count - 1, &idx) < 0)
		why = "bad recipient index";
	} else if (strcmp(name, ATTR_NAME_STATUS) == 0) {
	    if (parse_long(value, 0, INT_MAX, &num) < 0 || num != 0)
		why = "agent reported an error";
	    have_status = 1;
	} else if (idx < 0) {
	    continue;
	} else if (strcmp(name, ATTR_NAME_DSN_STATUS) == 0) {
	    if (strlen(value) >= sizeof(cur.status))
		why = "bad status";
	    else
		snprintf(cur.status, sizeof(cur.status), "%s", value);
	} else if (strcmp(name, ATTR_NAME_DSN_ACTION) == 0) {
	    cur.action = (value[0] && !value[1]) ? value[0] : 0;
	} else if (strcmp(name, ATTR_NAME_REASON) == 0) {
	    set_str(&cur.reason, value);
	} else if (strcmp(name, DA_RELAY) == 0) {
	    set_str(&cur.relay, value);
	} else if (strcmp(name, DA_REMOTE_MTA) == 0) {
	    set_str(&cur.remote_mta, value);
	} else if (strcmp(name, DA_DIAG) == 0) {
	    set_str(&cur.diag, value);
	} else if (strcmp(name, DA_CONN_SETUP) == 0) {
	    if (parse_double(value, &d) < 0)
		why = "bad conn_setup";
	    cur.conn_setup = d;
	} else if (strcmp(name, DA_XMIT) == 0) {
	    if (parse_double(value, &d) < 0)
		why = "bad xmit";
	    cur.xmit = d;
	} else if (strcmp(name, DA_CONN_REUSE) == 0) {
	    if (parse_long(value, 0, INT_MAX, &num) < 0)
		why = "bad conn_reuse";
	    cur.conn_reuse = (int) num;
	} else if (strcmp(name, DA_DSN_FLAGS) == 0) {
	    if (parse_long(value, 0, INT_MAX, &num) < 0)
		why = "bad dsn_flags";
	    cur.flags = (int) num;
	}
    }
    if (why == 0)
	FLUSH_CUR();
    result_clear(&cur);
    if (why == 0 && !have_status)
	why = "no status";
    if (why == 0) {
	for (size_t i = 0; i < req->rcpt_count; i++) {
	    if (!seen[i])
		continue;
	    result_clear(&req->rcpt[i].result);
	    req->rcpt[i].result = results[i];
	    req->rcpt[i].have_result = 1;
	}
    } else {
	msg_warn("malformed reply from delivery agent %s: %s",
		 req->transport ? req->transport : "", why);
	for (size_t i = 0; i < req->rcpt_count; i++)
	    result_clear(&results[i]);
    }
    myfree(results);
    myfree(seen);
    attr_free(a);
    return (why ? -1 : 0);
}

/*
 * format_delay - Postfix's way of writing a delay: rounded to max_dig
 * decimals, at most sig_dig significant digits, no trailing zeros.
 */
static void format_delay(VSTRING *buf, double secs)
{
    long    max_dig = mail_conf_int(VAR_DELAY_LOGGING_RESOLUTION_LIMIT);
    const int sig_dig = 2;
    long    scale = 1;
    long long units;
    long long whole;
    long long frac;
    int     whole_digits;
    int     left;

    if (max_dig < 0)
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
	status = (req->flags & DEL_REQ_FLAG_VERIFY) ? "deliverable" : "sent";
	break;
    case 'f':
	status = "bounced";
	break;
    default:
	status = "deferred";
	break;
    }
    /* A probe that did not succeed is "undeliverable", as in Postfix. */
    if ((req->flags & DEL_REQ_FLAG_VERIFY) && result->action != 'd')
	status = "undeliverable";

    vstring_sprintf(buf, "%s: to=<%s>", req->queue_id, rcpt->address);
    if (rcpt->orig_addr && *rcpt->orig_addr
	&& strcasecmp(rcpt->orig_addr, rcpt->address) != 0)
	vstring_sprintf_append(buf, ", orig_to=<%s>", rcpt->orig_addr);
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
    vstring_sprintf_append(buf, ", dsn=%s, status=%s (%s)",
			   result->status[0] ? result->status : "4.0.0", status,
			   result->reason ? result->reason : "");
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

/* deliver_format_delay - exposed for tests and for qmgr's own lines */
void    deliver_format_delay(VSTRING *buf, double secs)
{
    format_delay(buf, secs);
}
