/*
 * NAME
 *	milter_edit - make a milter's changes to a queue file being written
 * DESCRIPTION
 *	See milter_edit.h. The envelope records are copied one by one; the
 *	headers are read into memory (each is at most header_size_limit,
 *	as smtpd wrote them), changed there and written; the body is
 *	copied in blocks, never held.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "global/queue_file.h"
#include "global/milter_edit.h"

typedef struct HDR {
    VSTRING *text;			/* whole header, CRLF lines */
    int     hidden;			/* not shown to the filter */
} HDR;

typedef struct HDR_LIST {
    HDR    *h;
    size_t  count;
    size_t  cap;
} HDR_LIST;

/* hdr_insert - a new header at position pos of the list */
static void hdr_insert(HDR_LIST *list, size_t pos, VSTRING *text, int hidden)
{
    if (list->count == list->cap) {
	list->cap = list->cap ? 2 * list->cap : 16;
	list->h = myrealloc(list->h, list->cap * sizeof(*list->h));
    }
    memmove(list->h + pos + 1, list->h + pos, (list->count - pos) * sizeof(*list->h));
    list->h[pos].text = text;
    list->h[pos].hidden = hidden;
    list->count++;
}

static void hdr_delete(HDR_LIST *list, size_t pos)
{
    vstring_free(list->h[pos].text);
    memmove(list->h + pos, list->h + pos + 1, (list->count - pos - 1) * sizeof(*list->h));
    list->count--;
}

/* hdr_format - "Name: value" with CRLF line ends */
static VSTRING *hdr_format(const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(strlen(name) + strlen(value) + 10);
    const char *cp;

    vstring_sprintf(buf, "%s: ", name);
    for (cp = value; *cp; cp++) {
	if (*cp == '\n' && (cp == value || cp[-1] != '\r'))
	    vstring_strcat(buf, "\r");
	vstring_memcat(buf, cp, 1);
    }
    vstring_strcat(buf, "\r\n");
    return (buf);
}

/* hdr_is - does the header have this name? */
static int hdr_is(const VSTRING *text, const char *name)
{
    const char *t = vstring_str(text);
    size_t  len = strlen(name);

    if (strncasecmp(t, name, len) != 0)
	return (0);
    t += len;
    while (*t == ' ' || *t == '\t')
	t++;
    return (*t == ':');
}

/* hdr_edit - one header change */
static void hdr_edit(HDR_LIST *list, const MILTER_HDR_EDIT *ed)
{
    size_t  pos;
    long    seen = 0;

    switch (ed->op) {
    case MILTER_HDR_ADD:
	hdr_insert(list, list->count, hdr_format(ed->name, ed->value), 0);
	return;
    case MILTER_HDR_INSERT:
	if (ed->index <= 0) {
	    hdr_insert(list, 0, hdr_format(ed->name, ed->value), 0);
	    return;
	}
	for (pos = 0; pos < list->count; pos++)
	    if (!list->h[pos].hidden && ++seen == ed->index)
		break;
	hdr_insert(list, pos < list->count ? pos + 1 : list->count,
		   hdr_format(ed->name, ed->value), 0);
	return;
    case MILTER_HDR_CHANGE:
	for (pos = 0; pos < list->count; pos++) {
	    if (list->h[pos].hidden || !hdr_is(list->h[pos].text, ed->name))
		continue;
	    if (++seen == (ed->index > 0 ? ed->index : 1))
		break;
	}
	if (pos < list->count) {
	    if (*ed->value == 0) {
		hdr_delete(list, pos);
	    } else {
		vstring_free(list->h[pos].text);
		list->h[pos].text = hdr_format(ed->name, ed->value);
	    }
	} else if (*ed->value) {
	    hdr_insert(list, list->count, hdr_format(ed->name, ed->value), 0);
	}
	return;
    }
}

/* read_headers - the message headers of src; *blank: an empty line followed */
static int read_headers(VSTREAM *src, off_t *left, int hidden, HDR_LIST *list, int *blank)
{
    VSTRING *line = vstring_alloc(200);
    VSTRING *cur = 0;
    int     ch;

    *blank = 0;
    while (*left > 0) {
	vstring_reset(line);
	while (*left > 0) {
	    if ((ch = vstream_getc(src)) == VSTREAM_EOF) {
		vstring_free(line);
		if (cur)
		    vstring_free(cur);
		return (-1);
	    }
	    (*left)--;
	    vstring_memcat(line, (char[]) {(char) ch}, 1);
	    if (ch == '\n')
		break;
	}
	if ((vstring_str(line)[0] == ' ' || vstring_str(line)[0] == '\t') && cur) {
	    vstring_memcat(cur, vstring_str(line), vstring_len(line));
	    continue;
	}
	if (cur) {
	    hdr_insert(list, list->count, cur, (int) list->count < hidden);
	    cur = 0;
	}
	if (strcmp(vstring_str(line), "\r\n") == 0 || strcmp(vstring_str(line), "\n") == 0) {
	    *blank = 1;
	    break;
	}
	cur = vstring_alloc(vstring_len(line) + 10);
	vstring_memcat(cur, vstring_str(line), vstring_len(line));
    }
    if (cur)
	hdr_insert(list, list->count, cur, (int) list->count < hidden);
    vstring_free(line);
    return (0);
}

/* write_body - a replacement body with CRLF line ends */
static void write_body(QUEUE_WRITER *qw, const VSTRING *body)
{
    const char *cp = vstring_str(body);
    const char *end = cp + vstring_len(body);
    const char *nl;

    while (cp < end) {
	if ((nl = memchr(cp, '\n', end - cp)) == 0) {
	    queue_writer_msg_write(qw, cp, end - cp);
	    queue_writer_msg_write(qw, "\r\n", 2);
	    break;
	}
	if (nl > cp && nl[-1] == '\r') {
	    queue_writer_msg_write(qw, cp, nl + 1 - cp);
	} else {
	    queue_writer_msg_write(qw, cp, nl - cp);
	    queue_writer_msg_write(qw, "\r\n", 2);
	}
	cp = nl + 1;
    }
}

/* rcpt_deleted - is this recipient (by its original address) to go? */
static int rcpt_deleted(const MILTER_EDITS *e, const char *orig, const char *addr)
{
    const char *key = *orig ? orig : addr;

    for (size_t i = 0; i < e->del_rcpt->argc; i++)
	if (strcasecmp(e->del_rcpt->argv[i], key) == 0)
	    return (1);
    return (0);
}

/* copy_envelope - the records up to the message, with the changes */
static int copy_envelope(QUEUE_WRITER *qw, const MILTER_EDITS *e, VSTREAM *src,
			         MILTER_EDIT_RCPT_FN add_rcpt, void *ctx)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(100);
    VSTRING *group = vstring_alloc(100);	/* O, N, Q records, raw */
    int     type;
    int     ret = 0;

    if (vstream_seek(src, 0, SEEK_SET) < 0)
	ret = -1;
    while (ret == 0) {
	if ((type = rec_get(src, buf, REC_MAX_LEN_ENVELOPE)) < 0) {
	    ret = -1;
	    break;
	}
	if (type == REC_TYPE_MESSAGE)
	    break;
	switch (type) {
	case REC_TYPE_SENDER:
	    queue_writer_sender(qw, e->sender ? e->sender : vstring_str(buf));
	    break;
	case REC_TYPE_ORCP:
	    vstring_strcpy(orig, vstring_str(buf));
	    /* FALLTHROUGH */
	case REC_TYPE_NOTIFY:
	case REC_TYPE_DSN_ORCPT:
	    /* Held until its recipient says whether it stays. */
	    {
		char    head[5];

		head[0] = (char) type;
		head[1] = (char) (vstring_len(buf) >> 24);
		head[2] = (char) (vstring_len(buf) >> 16);
		head[3] = (char) (vstring_len(buf) >> 8);
		head[4] = (char) vstring_len(buf);
		vstring_memcat(group, head, 5);
		vstring_memcat(group, vstring_str(buf), vstring_len(buf));
	    }
	    break;
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
	    {
		const char *g = vstring_str(group);
		const char *gend = g + vstring_len(group);

		while (g < gend) {
		    size_t  len = ((size_t) (unsigned char) g[1] << 24)
		    | ((size_t) (unsigned char) g[2] << 16)
		    | ((size_t) (unsigned char) g[3] << 8) | (unsigned char) g[4];

		    queue_writer_rec(qw, g[0], g + 5, len);
		    g += 5 + len;
		}
		if (type == REC_TYPE_RCPT && rcpt_deleted(e, vstring_str(orig), vstring_str(buf)))
		    type = REC_TYPE_DONE;
		queue_writer_rec(qw, type, vstring_str(buf), vstring_len(buf));
		vstring_reset(group);
		vstring_strcpy(orig, "");
	    }
	    break;
	default:
	    /* V, T, A, W and anything newer: as they are. */
	    queue_writer_rec(qw, type, vstring_str(buf), vstring_len(buf));
	    break;
	}
    }
    for (size_t i = 0; ret == 0 && i < e->add_rcpt->argc; i++)
	if (add_rcpt(ctx, qw, e->add_rcpt->argv[i]) < 0)
	    ret = -1;
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(group);
    return (ret);
}

int     milter_edit_apply(QUEUE_WRITER *qw, const MILTER_EDITS *e, VSTREAM *src,
			          off_t msg_offset, off_t msg_size,
			          MILTER_EDIT_RCPT_FN add_rcpt, void *ctx)
{
    HDR_LIST list = {0, 0, 0};
    off_t   left = msg_size;
    int     blank = 0;
    int     ret = 0;
    char   *block = 0;

    if (queue_writer_rewrite(qw) < 0)
	return (-1);
    if (copy_envelope(qw, e, src, add_rcpt, ctx) < 0) {
	msg_warn("%s: cannot copy the queue file envelope", queue_writer_id(qw));
	return (-1);
    }
    if (vstream_seek(src, msg_offset, SEEK_SET) < 0
	|| read_headers(src, &left, e->hidden, &list, &blank) < 0) {
	msg_warn("%s: cannot read the queue file message", queue_writer_id(qw));
	ret = -1;
    }
    if (ret == 0) {
	for (size_t i = 0; i < e->hdr_count; i++)
	    hdr_edit(&list, e->hdr + i);
	queue_writer_msg_begin(qw);
	for (size_t i = 0; i < list.count; i++)
	    queue_writer_msg_write(qw, vstring_str(list.h[i].text), vstring_len(list.h[i].text));
	if (e->body) {
	    if (blank || vstring_len(e->body) > 0)
		queue_writer_msg_write(qw, "\r\n", 2);
	    write_body(qw, e->body);
	} else {
	    if (blank)
		queue_writer_msg_write(qw, "\r\n", 2);
	    block = mymalloc(65536);
	    while (left > 0 && ret == 0) {
		size_t  n = left > 65536 ? 65536 : (size_t) left;

		if (vstream_read(src, block, n) != (ssize_t) n)
		    ret = -1;
		else
		    queue_writer_msg_write(qw, block, n);
		left -= n;
	    }
	    myfree(block);
	}
    }
    for (size_t i = 0; i < list.count; i++)
	vstring_free(list.h[i].text);
    myfree(list.h);
    if (ret == 0 && queue_writer_errno(qw) != 0)
	ret = -1;
    return (ret);
}
