/*
 * NAME
 *	fuzz_attr_scan - libFuzzer target for lists read by table
 * DESCRIPTION
 *	The input is what a peer sends on a service socket. It is read,
 *	from the start each time, with a table of every type and a
 *	repeated group (attr_scan), and with the readers of the bounce,
 *	flush and verify services and of the showq listing. None may crash
 *	or leak, and what they accept must keep the table's word: required
 *	attributes present, strings and numbers within their bounds, no
 *	more group elements than allowed, and attr_scan_free() leaves the
 *	target empty.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/attr.h"
#include "global/bounce_client.h"
#include "global/flush_client.h"
#include "global/verify_clnt.h"
#include "global/showq_client.h"

typedef struct INPUT {
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

    in->pos = 0;
    vstream_set_timeout(s, 1);
    vstream_set_io(s, input_read, 0, in);
    return (s);
}

typedef struct PART {
    char   *label;
    long    count;
} PART;

typedef struct BOX {
    char   *name;
    int     level;
    off_t   where;
    double  ratio;
    PART   *parts;
    size_t  part_count;
} BOX;

static const ATTR_SCAN part_table[] = {
    ATTR_STR("label", PART, label, ATTR_FLAG_REQUIRED, 1, 8),
    ATTR_LONG("count", PART, count, 0, -3, 3),
    ATTR_END,
};

static const ATTR_SCAN box_table[] = {
    ATTR_STR("name", BOX, name, ATTR_FLAG_REQUIRED, 0, 16),
    ATTR_INT("level", BOX, level, 0, 0, 9),
    ATTR_OFF("where", BOX, where, 0, 0, 1000000),
    ATTR_DOUBLE("ratio", BOX, ratio, 0, 0, 1),
    ATTR_GROUP("label", BOX, parts, part_count, PART, part_table, 0, 0, 4),
    ATTR_END,
};

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    static VSTRING *why;
    INPUT   in = {data, size, 0};
    VSTREAM *s;
    BOX     box;
    BOUNCE_REQUEST breq;
    FLUSH_REQUEST freq;
    VERIFY_REQUEST vreq;
    SHOWQ_MESSAGE msg;

    if (!init) {
	msg_init("fuzz", "fuzz_attr_scan");
	why = vstring_alloc(100);
	init = 1;
    }

    /* The table of every type. */
    s = input_stream(&in);
    memset(&box, 0, sizeof(box));
    box.level = 5;
    if (attr_scan(s, box_table, &box, why) > 0) {
	if (box.name == 0 || strlen(box.name) > 16 || box.level < 0 || box.level > 9
	    || box.where < 0 || box.where > 1000000 || !(box.ratio >= 0 && box.ratio <= 1)
	    || box.part_count > 4 || (box.part_count > 0) != (box.parts != 0))
	    abort();
	for (size_t i = 0; i < box.part_count; i++)
	    if (box.parts[i].label == 0 || *box.parts[i].label == 0
		|| strlen(box.parts[i].label) > 8
		|| box.parts[i].count < -3 || box.parts[i].count > 3)
		abort();
    }
    attr_scan_free(box_table, &box);
    if (box.name || box.parts || box.part_count)
	abort();
    vstream_release(s);

    /* The services' readers. */
    s = input_stream(&in);
    if (bounce_request_read(s, &breq, why) > 0
	&& (breq.request == 0 || breq.queue_name == 0 || breq.queue_id == 0))
	abort();
    bounce_request_free(&breq);
    vstream_release(s);

    s = input_stream(&in);
    if (flush_request_read(s, &freq, why) > 0 && freq.request == 0)
	abort();
    flush_request_free(&freq);
    vstream_release(s);

    s = input_stream(&in);
    if (verify_request_read(s, &vreq, why) > 0
	&& (vreq.address == 0 || vreq.reason == 0
	    || (strcmp(vreq.request, VERIFY_REQ_UPDATE) == 0
		&& (vreq.addr_status < VERIFY_ADDR_OK
		    || vreq.addr_status > VERIFY_ADDR_BOUNCE))))
	abort();
    verify_request_free(&vreq);
    vstream_release(s);

    s = input_stream(&in);
    while (showq_message_read(s, &msg, why) > 0) {
	if (msg.queue_name == 0 || msg.queue_id == 0 || msg.sender == 0
	    || msg.arrival_time < 0 || msg.message_size < 0)
	    abort();
	for (size_t i = 0; i < msg.rcpt_count; i++)
	    if (msg.rcpt[i].address == 0 || msg.rcpt[i].reason == 0)
		abort();
	showq_message_free(&msg);
    }
    showq_message_free(&msg);
    vstream_release(s);
    return (0);
}
