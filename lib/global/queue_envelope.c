/*
 * NAME
 *	queue_envelope - read the envelope of a message file
 * DESCRIPTION
 *	See queue_envelope.h. O, N and Q records belong to the next R
 *	record; they are collected until it comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/queue_file.h"
#include "global/queue_envelope.h"

static void add_rcpt(QUEUE_ENVELOPE *env, size_t *cap, const char *addr,
		             VSTRING *orig, int notify, VSTRING *orcpt,
		             off_t offset, int done)
{
    QUEUE_RCPT *r;

    if (env->rcpt_count >= *cap) {
	*cap = *cap ? *cap * 2 : 4;
	env->rcpts = myrealloc(env->rcpts, *cap * sizeof(*env->rcpts));
    }
    r = env->rcpts + env->rcpt_count++;
    r->address = mystrdup(addr);
    r->orig_addr = mystrdup(vstring_str(orig));
    r->notify = notify;
    r->orcpt = mystrdup(vstring_str(orcpt));
    r->offset = offset;
    r->done = done;
}

QUEUE_ENVELOPE *queue_envelope_read(VSTREAM *fp, const char *id)
{
    QUEUE_ENVELOPE *env = mymalloc(sizeof(*env));
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(10);
    VSTRING *orcpt = vstring_alloc(10);
    int     notify = 0;
    size_t  cap = 0;
    int     type;
    int     ok = 0;
    int     have_msg = 0;
    off_t   offset;

    memset(env, 0, sizeof(*env));
    env->queue_id = mystrdup(id);
    env->sender = mystrdup("");
    env->attrs = argv_alloc(8);

    for (;;) {
	size_t  len;

	offset = vstream_tell(fp);
	if ((type = rec_get_head(fp, &len)) < 0)
	    break;
	if (type == REC_TYPE_MESSAGE) {
	    /* Skip the message itself: only its place and size matter here. */
	    env->msg_offset = offset + REC_HEADER_LEN;
	    env->msg_size = (off_t) len;
	    if (vstream_seek(fp, env->msg_offset + (off_t) len, SEEK_SET) < 0)
		break;
	    have_msg = 1;
	    continue;
	}
	if (len > REC_MAX_LEN_ENVELOPE)
	    break;
	vstring_space(buf, len);
	if (len > 0 && vstream_read(fp, vstring_str(buf), len) != (ssize_t) len)
	    break;
	buf->len = len;
	buf->data[len] = 0;
	if (type < 0)
	    break;
	switch (type) {
	case REC_TYPE_TIME:
	    env->arrival_sec = strtol(vstring_str(buf), 0, 10);
	    {
		char   *sp = strchr(vstring_str(buf), ' ');

		env->arrival_usec = sp ? strtol(sp + 1, 0, 10) : 0;
	    }
	    break;
	case REC_TYPE_SENDER:
	    myfree(env->sender);
	    env->sender = mystrdup(vstring_str(buf));
	    break;
	case REC_TYPE_ATTR:
	    argv_add(env->attrs, vstring_str(buf));
	    break;
	case REC_TYPE_WARN:
	    env->warn_time = strtol(vstring_str(buf), 0, 10);
	    break;
	case REC_TYPE_ORCP:
	    vstring_strcpy(orig, vstring_str(buf));
	    break;
	case REC_TYPE_NOTIFY:
	    notify = atoi(vstring_str(buf));
	    break;
	case REC_TYPE_DSN_ORCPT:
	    vstring_strcpy(orcpt, vstring_str(buf));
	    break;
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
	    add_rcpt(env, &cap, vstring_str(buf), orig, notify, orcpt, offset,
		     type == REC_TYPE_DONE);
	    vstring_reset(orig);
	    vstring_reset(orcpt);
	    notify = 0;
	    break;
	default:
	    break;
	}
	if (type == REC_TYPE_END) {
	    ok = have_msg;
	    break;
	}
    }
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(orcpt);
    if (!ok) {
	queue_envelope_free(env);
	return (0);
    }
    return (env);
}

void    queue_envelope_free(QUEUE_ENVELOPE *env)
{
    for (size_t i = 0; i < env->rcpt_count; i++) {
	myfree(env->rcpts[i].address);
	myfree(env->rcpts[i].orig_addr);
	myfree(env->rcpts[i].orcpt);
    }
    myfree(env->rcpts);
    myfree(env->queue_id);
    myfree(env->sender);
    argv_free(env->attrs);
    myfree(env);
}

const char *queue_envelope_attr(QUEUE_ENVELOPE *env, const char *name)
{
    size_t  len = strlen(name);

    /* The last record of a name counts (queue_file.h). */
    for (size_t i = env->attrs->argc; i-- > 0; /* void */ )
	if (strncmp(env->attrs->argv[i], name, len) == 0 && env->attrs->argv[i][len] == '=')
	    return (env->attrs->argv[i] + len + 1);
    return (0);
}
