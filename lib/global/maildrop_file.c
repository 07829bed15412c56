/*
 * NAME
 *	maildrop_file - the records of locally submitted mail
 * DESCRIPTION
 *	See maildrop_file.h. The order is a small state machine:
 *	time, sender, envelope (A and R), text (L and P), extracted
 *	recipients (R), end.
 */
#include <string.h>

#include "global/queue_file.h"
#include "global/maildrop_file.h"

#define ST_TIME		0		/* want T */
#define ST_SENDER	1		/* want S */
#define ST_ENVELOPE	2		/* A, R, text or E */
#define ST_TEXT		3		/* L, P, R or E */
#define ST_PART		4		/* after P: L or P only */
#define ST_EXTRACTED	5		/* R or E */
#define ST_DONE		6		/* nothing more */

void    maildrop_order_init(MAILDROP_ORDER *order, int start)
{
    order->state = start == MAILDROP_ORDER_FROM_SENDER ? ST_SENDER : ST_TIME;
}

int     maildrop_order_next(MAILDROP_ORDER *order, int type)
{
    int     next = -1;

    switch (order->state) {
    case ST_TIME:
	if (type == MAILDROP_REC_TIME)
	    next = ST_SENDER;
	break;
    case ST_SENDER:
	if (type == MAILDROP_REC_SENDER)
	    next = ST_ENVELOPE;
	break;
    case ST_ENVELOPE:
	if (type == MAILDROP_REC_ATTR || type == MAILDROP_REC_RCPT)
	    next = ST_ENVELOPE;
	else if (type == MAILDROP_REC_LINE)
	    next = ST_TEXT;
	else if (type == MAILDROP_REC_PART)
	    next = ST_PART;
	else if (type == MAILDROP_REC_END)
	    next = ST_DONE;
	break;
    case ST_TEXT:
	if (type == MAILDROP_REC_LINE)
	    next = ST_TEXT;
	else if (type == MAILDROP_REC_PART)
	    next = ST_PART;
	else if (type == MAILDROP_REC_RCPT)
	    next = ST_EXTRACTED;
	else if (type == MAILDROP_REC_END)
	    next = ST_DONE;
	break;
    case ST_PART:
	if (type == MAILDROP_REC_LINE)
	    next = ST_TEXT;
	else if (type == MAILDROP_REC_PART)
	    next = ST_PART;
	break;
    case ST_EXTRACTED:
	if (type == MAILDROP_REC_RCPT)
	    next = ST_EXTRACTED;
	else if (type == MAILDROP_REC_END)
	    next = ST_DONE;
	break;
    }
    if (next < 0)
	return (0);
    order->state = next;
    return (1);
}

int     maildrop_attr_ok(const char *name_value)
{
    static const char *names[] = {
	MAILDROP_ATTR_FULL_NAME, MAILDROP_ATTR_ENVID, MAILDROP_ATTR_RET,
	MAILDROP_ATTR_NOTIFY, MAILDROP_ATTR_CONTEXT,
    };
    const char *eq = strchr(name_value, '=');

    if (eq == 0)
	return (0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	if (strlen(names[i]) == (size_t) (eq - name_value)
	    && strncmp(names[i], name_value, eq - name_value) == 0)
	    return (1);
    return (0);
}

int     maildrop_rec_read(VSTREAM *s, VSTRING *buf)
{
    unsigned char head[REC_HEADER_LEN];
    ssize_t n;
    size_t  len;

    vstring_reset(buf);
    if ((n = vstream_read(s, head, sizeof(head))) == VSTREAM_EOF)
	return (vstream_ferror(s) ? REC_TYPE_ERROR : REC_TYPE_EOF);
    if (n != sizeof(head))
	return (REC_TYPE_ERROR);
    len = ((size_t) head[1] << 24) | ((size_t) head[2] << 16)
	| ((size_t) head[3] << 8) | head[4];
    if (len > MAILDROP_REC_MAX)
	return (REC_TYPE_ERROR);
    vstring_space(buf, len);
    if (len > 0 && vstream_read(s, vstring_str(buf), len) != (ssize_t) len)
	return (REC_TYPE_ERROR);
    buf->len = len;
    buf->data[len] = 0;
    return (head[0]);
}
