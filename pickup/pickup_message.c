/*
 * NAME
 *	pickup_message - one maildrop file into one queue file
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	int pickup_file(const char *queue_id);
 *	void pickup_outcome(PICKUP_STATE *st, int outcome, const char *reason);
 * DESCRIPTION
 *	See pickup.c for what is done to the message. The file is read
 *	twice: once for the envelope (recipients extracted by sendmail -t
 *	come after the text, and the queue file wants every recipient
 *	before the message), skipping the text; then the text is copied
 *	into the queue file record by record. Only the header being
 *	looked at is held in memory.
 *
 *	Then the outcome decides (pickup.h): the file is committed (into
 *	hold/ for a HOLD action or a milter's quarantine, with the content
 *	filter and a REDIRECT recorded), or removed (DISCARD), or
 *	returned to the sender (a 5xx refusal: pickup_bounce.c), and the
 *	maildrop file goes; or, after a 4xx refusal or a table or queue
 *	failure, the queue file goes and the maildrop file stays.
 *
 *	pickup_outcome() records an outcome unless a stronger one is
 *	there; reason ("5.7.1 text" or "4.7.1 text") is kept for a
 *	bounce.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/maildrop_file.h"
#include "global/queue_file.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"
#include "pickup.h"

#define PICKUP_RCPT_LIMIT	100000	/* recipients per maildrop file */

void    pickup_outcome(PICKUP_STATE *st, int outcome, const char *reason)
{
    if (outcome <= st->outcome)
	return;
    st->outcome = outcome;
    if (reason)
	vstring_strcpy(st->reason, reason);
}

/* state_free - what one message allocated */
static void state_free(PICKUP_STATE *st)
{
    myfree(st->given_sender);
    myfree(st->full_name);
    myfree(st->envid);
    myfree(st->ret);
    argv_free(st->rcpts);
    myfree(st->queue_id);
    myfree(st->sender);
    myfree(st->last_rcpt);
    if (st->written)
	virtual_alias_result_free(st->written);
    vstring_free(st->reason);
    pickup_text_free(st);
    pickup_milter_close(st);
}

/* clean_text - no control characters in an address or attribute */
static int clean_text(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
	if (*cp < ' ' || *cp == 0x7f)
	    return (0);
    return (1);
}

/* attr_value - an A record: 0, or -1 with why */
static int attr_value(PICKUP_STATE *st, const char *rec, const char **why)
{
    const char *eq = strchr(rec, '=');
    const char *value = eq ? eq + 1 : "";
    size_t  nlen = eq ? (size_t) (eq - rec) : 0;

#define IS(name) (nlen == strlen(name) && strncmp(rec, name, nlen) == 0)

    if (!maildrop_attr_ok(rec)) {
	*why = "unknown attribute";
	return (-1);
    }
    if (IS(MAILDROP_ATTR_FULL_NAME)) {
	myfree(st->full_name);
	st->full_name = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_ENVID)) {
	if (!clean_text(value) || strlen(value) > 100) {
	    *why = "bad envelope ID";
	    return (-1);
	}
	myfree(st->envid);
	st->envid = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_RET)) {
	if (strcmp(value, "FULL") != 0 && strcmp(value, "HDRS") != 0) {
	    *why = "bad RET value";
	    return (-1);
	}
	myfree(st->ret);
	st->ret = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_NOTIFY)) {
	st->notify = atoi(value) & (DSN_NOTIFY_NEVER | DSN_NOTIFY_SUCCESS
				     | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    } else if (IS(MAILDROP_ATTR_CONTEXT)) {
	st->gateway = strcmp(value, "remote") == 0;
    } else if (IS(MAILDROP_ATTR_VERIFY)) {
	st->user_verify = strcmp(value, "1") == 0;
    }
    return (0);
}

/* read_envelope - the first reading; 0, or -1 with why */
static int read_envelope(VSTREAM *fp, PICKUP_STATE *st, const char **why)
{
    VSTRING *buf = vstring_alloc(100);
    MAILDROP_ORDER order;
    int     type;
    int     in_text = 0;
    size_t  len;
    int     ret = -1;

    maildrop_order_init(&order, MAILDROP_ORDER_FROM_TIME);
    for (;;) {
	off_t   start = vstream_tell(fp);

	if ((type = rec_get_head(fp, &len)) < 0) {
	    *why = "truncated or malformed record";
	    break;
	}
	if (!maildrop_order_next(&order, type)) {
	    *why = "records out of order";
	    break;
	}
	if (len > MAILDROP_REC_MAX) {
	    *why = "record too long";
	    break;
	}
	/* The text is skipped, not read: only its length counts. */
	if (type == MAILDROP_REC_LINE || type == MAILDROP_REC_PART) {
	    if (!in_text)
		st->text_start = start;
	    in_text = 1;
	    st->text_size += (long) len + (type == MAILDROP_REC_LINE);
	    if (vstream_seek(fp, (off_t) len, SEEK_CUR) < 0) {
		*why = "truncated record";
		break;
	    }
	    continue;
	}
	/* Everything else is small: read it. */
	if (vstream_seek(fp, start, SEEK_SET) < 0
	    || rec_get(fp, buf, MAILDROP_REC_MAX) != type) {
	    *why = "truncated or malformed record";
	    break;
	}
	if (type == MAILDROP_REC_END) {
	    if (!in_text)
		st->text_start = start;
	    ret = 0;
	    break;
	}
	if (type != MAILDROP_REC_TIME && !clean_text(vstring_str(buf))
	    && type != MAILDROP_REC_ATTR) {
	    *why = "control character in address";
	    break;
	}
	if (type == MAILDROP_REC_SENDER) {
	    st->given_sender = mystrdup(vstring_str(buf));
	} else if (type == MAILDROP_REC_ATTR) {
	    if (!clean_text(vstring_str(buf)) || attr_value(st, vstring_str(buf), why) < 0) {
		if (!clean_text(vstring_str(buf)))
		    *why = "control character in attribute";
		break;
	    }
	} else if (type == MAILDROP_REC_RCPT) {
	    if (st->rcpts->argc >= PICKUP_RCPT_LIMIT) {
		*why = "too many recipients";
		break;
	    }
	    if (vstring_len(buf) > 0)
		argv_add(st->rcpts, vstring_str(buf));
	}
    }
    vstring_free(buf);
    if (ret == 0 && st->rcpts->argc == 0) {
	*why = "no recipients";
	ret = -1;
    }
    return (ret);
}

/* copy_text - the second reading: the text into the queue file */
static int copy_text(VSTREAM *fp, PICKUP_STATE *st, const char **why)
{
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *line = vstring_alloc(1024);
    int     type;
    int     ret = 0;

    if (vstream_seek(fp, st->text_start, SEEK_SET) < 0) {
	*why = "cannot seek";
	ret = -1;
    }
    while (ret == 0) {
	type = rec_get(fp, buf, MAILDROP_REC_MAX);
	if (type == MAILDROP_REC_PART) {
	    if ((long) (vstring_len(line) + vstring_len(buf)) > st->text_size) {
		*why = "file changed while being read";
		ret = -1;
		break;
	    }
	    vstring_memcat(line, vstring_str(buf), vstring_len(buf));
	} else if (type == MAILDROP_REC_LINE) {
	    vstring_memcat(line, vstring_str(buf), vstring_len(buf));
	    pickup_text_line(st, vstring_str(line), vstring_len(line));
	    vstring_reset(line);
	} else if (type == MAILDROP_REC_RCPT || type == MAILDROP_REC_END) {
	    break;
	} else {
	    *why = "file changed while being read";
	    ret = -1;
	}
    }
    if (ret == 0)
	pickup_text_end(st);
    vstring_free(buf);
    vstring_free(line);
    return (ret);
}

/* save_corrupt - a file we cannot use goes where an admin looks */
static void save_corrupt(const char *id, long uid, const char *why)
{
    msg_warn("%s: uid=%ld: %s; moving the file to %s/", id, uid, why, MAIL_QUEUE_CORRUPT);
    if (mail_queue_rename(id, MAIL_QUEUE_MAILDROP, MAIL_QUEUE_CORRUPT) < 0) {
	msg_warn("%s: move to %s/: %s; removing it", id, MAIL_QUEUE_CORRUPT, strerror(errno));
	(void) mail_queue_remove(MAIL_QUEUE_MAILDROP, id);
    }
}

/* open_maildrop - the maildrop file, when it is one we may read */
static VSTREAM *open_maildrop(const char *id, long *uid)
{
    VSTRING *path = vstring_alloc(64);
    struct stat st;
    int     fd;

    mail_queue_path(path, MAIL_QUEUE_MAILDROP, id);
    fd = open(vstring_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
	if (errno == ELOOP) {
	    msg_warn("%s: not a regular file; removed", vstring_str(path));
	    (void) unlink(vstring_str(path));
	} else if (errno != ENOENT) {
	    msg_warn("open %s: %s", vstring_str(path), strerror(errno));
	}
	vstring_free(path);
	return (0);
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
	msg_warn("%s: not a regular file with one link; removed", vstring_str(path));
	(void) unlink(vstring_str(path));
	(void) close(fd);
	vstring_free(path);
	return (0);
    }
    vstring_free(path);
    if (!MAIL_QUEUE_MSG_COMPLETE(&st)) {	/* postdrop is writing it */
	(void) close(fd);
	return (0);
    }
    *uid = (long) st.st_uid;
    return (vstream_fdopen(fd));
}

/* finish - commit, discard, bounce or keep; PICKUP_* */
static int finish(PICKUP_STATE *st, const char *id)
{
    QUEUE_WRITER *qw = st->qw;
    int     err;

    st->qw = 0;
    if (st->outcome == PICKUP_OUT_OK && (err = queue_writer_errno(qw)) != 0) {
	msg_warn("%s: queue file write error: %s; trying again later",
		 st->queue_id, strerror(err));
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
    }
    /* soft_bounce: a 5xx refusal waits in maildrop/ too, as in Postfix. */
    if (st->outcome == PICKUP_OUT_BOUNCE && mail_conf_bool(VAR_SOFT_BOUNCE))
	st->outcome = PICKUP_OUT_DEFER;
    switch (st->outcome) {
    case PICKUP_OUT_RETRY:
	queue_writer_abort(qw);
	return (PICKUP_RETRY);
    case PICKUP_OUT_DEFER:
	/* A 4xx refusal: the message waits in maildrop/, as in Postfix. */
	queue_writer_abort(qw);
	return (PICKUP_SKIP);
    case PICKUP_OUT_DISCARD:
	queue_writer_abort(qw);
	break;
    case PICKUP_OUT_BOUNCE:
	st->qw = qw;
	if (pickup_bounce(st) < 0)
	    return (PICKUP_RETRY);
	break;
    default:
	if (st->hold)
	    queue_writer_hold(qw);
	queue_writer_filter(qw, st->content.filter ? vstring_str(st->content.filter)
			    : pickup_conf.content_filter);
	if (st->content.redirect)
	    queue_writer_redirect(qw, vstring_str(st->content.redirect));
	if (queue_writer_commit(qw) < 0) {	/* it frees qw */
	    msg_warn("%s: queue file write error: %s; trying again later",
		     st->queue_id, strerror(errno));
	    return (PICKUP_RETRY);
	}
	break;
    }
    if (mail_queue_remove(MAIL_QUEUE_MAILDROP, id) < 0 && errno != ENOENT)
	msg_warn("%s: remove %s/%s: %s", id, MAIL_QUEUE_MAILDROP, id, strerror(errno));
    return (PICKUP_QUEUED);
}

int     pickup_file(const char *id)
{
    PICKUP_STATE state;
    PICKUP_STATE *st = &state;
    VSTREAM *fp;
    const char *why = 0;
    long    uid = 0;
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    int     ret;

    if ((fp = open_maildrop(id, &uid)) == 0)
	return (PICKUP_SKIP);
    memset(st, 0, sizeof(*st));
    st->uid = uid;
    st->rcpts = argv_alloc(4);
    st->reason = vstring_alloc(100);
    if (read_envelope(fp, st, &why) < 0 || (limit > 0 && st->text_size > limit)) {
	save_corrupt(id, uid, why ? why : "message file too big");
	vstream_close(fp);
	state_free(st);
	return (PICKUP_SKIP);
    }
    if ((st->qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("%s: create a queue file: %s; trying again later", id, strerror(errno));
	vstream_close(fp);
	state_free(st);
	return (PICKUP_RETRY);
    }
    st->queue_id = mystrdup(queue_writer_id(st->qw));
    msg_info("%s: uid=%ld from=<%s>", st->queue_id, uid, st->given_sender);

    /* Envelope, text, milters: each stops at a refusal or failure. */
    pickup_envelope(st);
    if (st->outcome <= PICKUP_OUT_BOUNCE) {
	pickup_text_begin(st);
	if (copy_text(fp, st, &why) < 0) {
	    queue_writer_abort(st->qw);
	    st->qw = 0;
	    save_corrupt(id, uid, why);
	    vstream_close(fp);
	    state_free(st);
	    return (PICKUP_SKIP);
	}
    }
    if (st->outcome == PICKUP_OUT_OK)
	pickup_milter_message(st);
    ret = finish(st, id);
    vstream_close(fp);
    state_free(st);
    return (ret);
}
