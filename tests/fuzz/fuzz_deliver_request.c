/*
 * NAME
 *	fuzz_deliver_request - libFuzzer target for delivery requests and replies
 * DESCRIPTION
 *	The input is what a peer sends on a delivery agent's socket: it is
 *	read with deliver_request_read() (the agent's side) and, from the
 *	start again, with deliver_reply_read() against a request of three
 *	recipients (qmgr's side). Both read with attr_scan() tables. Neither
 *	may crash, and what they accept must be sane: safe queue names,
 *	every string present, numbers within their ranges, a bounded number
 *	of recipients, results only for real recipients, well-formed status
 *	codes and actions.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "global/deliver_request.h"

typedef struct {
    const uint8_t *data;
    size_t  size;
    size_t  pos;
} INPUT;

static ssize_t input_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    INPUT  *in = ctx;

    (void) fd;
    (void) timeout_ms;
    if (len > in->size - in->pos)
	len = in->size - in->pos;
    memcpy(buf, in->data + in->pos, len);
    in->pos += len;
    return ((ssize_t) len);
}

static VSTREAM *input_stream(INPUT *in)
{
    VSTREAM *s = vstream_fdopen(-1);

    vstream_set_timeout(s, 1);
    vstream_set_io(s, input_read, 0, in);
    return (s);
}

static DELIVER_REQUEST *three_recipients(void)
{
    DELIVER_REQUEST *req = mycalloc(1, sizeof(*req));

#define S(f, v) (req->f = mystrdup(v))
    S(queue_name, "active");
    S(queue_id, "ABCDEF123");
    S(sender, "a@b");
    S(nexthop, "example.com");
    S(transport, "smtp");
    S(dsn_envid, "");
    S(client_name, "");
    S(client_addr, "");
    S(helo_name, "");
    S(sasl_username, "");
    req->rcpt_count = 3;
    req->rcpt = mycalloc(3, sizeof(RECIPIENT));
    for (int i = 0; i < 3; i++) {
	req->rcpt[i].address = mystrdup("u@example.com");
	req->rcpt[i].orig_addr = mystrdup("");
	req->rcpt[i].dsn_orcpt = mystrdup("");
    }
    return (req);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    INPUT   in = {data, size, 0};
    VSTREAM *s;
    DELIVER_REQUEST *req;

    if (!init) {
	msg_init("fuzz", "fuzz_deliver_request");
	init = 1;
    }

    /* The agent's side. */
    s = input_stream(&in);
    if ((req = deliver_request_read(s)) != 0) {
	if (strchr(req->queue_name, '/') || strchr(req->queue_id, '/')
	    || strstr(req->queue_id, "..") || req->rcpt_count == 0
	    || req->rcpt_count > DELIVER_RCPT_MAX)
	    abort();
	if (req->sender == 0 || req->nexthop == 0 || req->transport == 0
	    || req->dsn_envid == 0 || req->client_name == 0 || req->client_addr == 0
	    || req->helo_name == 0 || req->sasl_username == 0)
	    abort();
	if (req->data_offset < 0 || req->data_size < 0 || req->flags < 0
	    || req->dsn_ret < 0 || req->dsn_ret > DSN_RET_HDRS
	    || !(req->arrival_time >= 0) || !(req->active_time >= 0))
	    abort();
	for (size_t i = 0; i < req->rcpt_count; i++) {
	    const RECIPIENT *r = req->rcpt + i;

	    if (r->address == 0 || *r->address == 0 || r->orig_addr == 0
		|| r->dsn_orcpt == 0 || r->offset < 0 || r->dsn_notify < 0
		|| r->dsn_notify > 15 || r->have_result)
		abort();
	}
	deliver_request_free(req);
    }
    vstream_release(s);

    /* qmgr's side. */
    in.pos = 0;
    s = input_stream(&in);
    req = three_recipients();
    if (deliver_reply_read(s, req) == 0) {
	for (size_t i = 0; i < req->rcpt_count; i++) {
	    const DSN_RESULT *r = &req->rcpt[i].result;

	    if (!req->rcpt[i].have_result)
		continue;
	    if (strchr("dxf", r->action) == 0 || r->action == 0)
		abort();
	    if (strchr("245", r->status[0]) == 0 || r->reason == 0 || r->relay == 0)
		abort();
	}
    }
    deliver_request_free(req);
    vstream_release(s);
    return (0);
}
