/*
 * NAME
 *	pickup_message - one maildrop file into one queue file
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	int pickup_file(const char *queue_id);
 * DESCRIPTION
 *	See pickup.c for what is done to the message. The file is read
 *	twice: once for the envelope (recipients extracted by sendmail -t
 *	come after the text, and the queue file wants every recipient
 *	before the message), skipping the text; then the text is copied
 *	into the queue file record by record. Only the header being
 *	looked at is held in memory.
 */
#include <sys/stat.h>
#include <ctype.h>
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
#include "global/mail_addr.h"
#include "global/mail_conf.h"
#include "global/mail_header.h"
#include "global/mail_queue.h"
#include "global/maildrop_file.h"
#include "global/queue_file.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"
#include "pickup.h"

#define PICKUP_RCPT_LIMIT	100000	/* recipients per maildrop file */

/* What the first reading found. */
typedef struct PICKUP_ENV {
    char   *sender;			/* as submitted */
    char   *full_name;
    char   *envid;
    char   *ret;			/* FULL, HDRS */
    int     notify;
    int     remote;			/* rewrite_context=remote (-G) */
    ARGV   *rcpts;
    off_t   text_start;			/* first record after the envelope */
    long    text_size;
} PICKUP_ENV;

/* The copy of the text. */
typedef struct PICKUP_TEXT {
    QUEUE_WRITER *qw;
    PICKUP_ENV *env;
    const char *qsender;		/* qualified sender */
    int     in_header;
    VSTRING *header;			/* the current header, CRLF lines */
    long    header_limit;
    int     cut;			/* the current header was cut */
    int     resent;			/* a Resent- header was seen */
    int     have_msgid, have_date, have_from;
    int     have_resent_msgid, have_resent_date, have_resent_from;
    char   *msgid;			/* for the log */
} PICKUP_TEXT;

static void env_free(PICKUP_ENV *env)
{
    myfree(env->sender);
    myfree(env->full_name);
    myfree(env->envid);
    myfree(env->ret);
    argv_free(env->rcpts);
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
static int attr_value(PICKUP_ENV *env, const char *rec, const char **why)
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
	myfree(env->full_name);
	env->full_name = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_ENVID)) {
	if (!clean_text(value) || strlen(value) > 100) {
	    *why = "bad envelope ID";
	    return (-1);
	}
	myfree(env->envid);
	env->envid = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_RET)) {
	if (strcmp(value, "FULL") != 0 && strcmp(value, "HDRS") != 0) {
	    *why = "bad RET value";
	    return (-1);
	}
	myfree(env->ret);
	env->ret = mystrdup(value);
    } else if (IS(MAILDROP_ATTR_NOTIFY)) {
	env->notify = atoi(value) & (DSN_NOTIFY_NEVER | DSN_NOTIFY_SUCCESS
				     | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    } else if (IS(MAILDROP_ATTR_CONTEXT)) {
	env->remote = strcmp(value, "remote") == 0;
    }
    return (0);
}

/* read_envelope - the first reading; 0, or -1 with why */
static int read_envelope(VSTREAM *fp, PICKUP_ENV *env, const char **why)
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
		env->text_start = start;
	    in_text = 1;
	    env->text_size += (long) len + (type == MAILDROP_REC_LINE);
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
		env->text_start = start;
	    ret = 0;
	    break;
	}
	if (type != MAILDROP_REC_TIME && !clean_text(vstring_str(buf))
	    && type != MAILDROP_REC_ATTR) {
	    *why = "control character in address";
	    break;
	}
	if (type == MAILDROP_REC_SENDER) {
	    env->sender = mystrdup(vstring_str(buf));
	} else if (type == MAILDROP_REC_ATTR) {
	    if (!clean_text(vstring_str(buf)) || attr_value(env, vstring_str(buf), why) < 0) {
		if (!clean_text(vstring_str(buf)))
		    *why = "control character in attribute";
		break;
	    }
	} else if (type == MAILDROP_REC_RCPT) {
	    if (env->rcpts->argc >= PICKUP_RCPT_LIMIT) {
		*why = "too many recipients";
		break;
	    }
	    if (vstring_len(buf) > 0)
		argv_add(env->rcpts, vstring_str(buf));
	}
    }
    vstring_free(buf);
    if (ret == 0 && env->rcpts->argc == 0) {
	*why = "no recipients";
	ret = -1;
    }
    return (ret);
}

/* qualify - "user" becomes "user@$myorigin" (not for -G, not for "") */
static void qualify(VSTRING *out, const char *addr, int remote)
{
    vstring_strcpy(out, addr);
    if (!remote && *addr && strchr(addr, '@') == 0)
	vstring_sprintf_append(out, "@%s", mail_conf_str(VAR_MYORIGIN));
}

/* text_write - message bytes into the queue file */
static void text_write(PICKUP_TEXT *t, const char *buf, size_t len)
{
    (void) queue_writer_msg_write(t->qw, buf, len);
}

/* add_header - "Name: value" CRLF */
static void add_header(PICKUP_TEXT *t, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s: %s\r\n", name, value);
    text_write(t, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

/* header_value - the value of a whole header, unfolded and trimmed */
static char *header_value(const char *text)
{
    VSTRING *buf = vstring_alloc(100);
    const char *cp = strchr(text, ':') + 1;

    for (; *cp; cp++)
	if (*cp != '\r' && *cp != '\n')
	    vstring_addch(buf, *cp);
    {
	char   *s = vstring_export(buf);
	char   *start = s + strspn(s, " \t");
	char   *copy = mystrdup(start);
	size_t  n = strlen(copy);

	while (n > 0 && (copy[n - 1] == ' ' || copy[n - 1] == '\t'))
	    copy[--n] = 0;
	myfree(s);
	return (copy);
    }
}

/* header_flush - the current header is complete: keep it or drop it */
static void header_flush(PICKUP_TEXT *t)
{
    const char *text = vstring_str(t->header);
    size_t  len = vstring_len(t->header);

    if (len == 0)
	return;
    if (mail_header_is(text, len, "Bcc") || mail_header_is(text, len, "Resent-Bcc")) {
	vstring_reset(t->header);
	return;
    }
    if (strncasecmp(text, "Resent-", 7) == 0)
	t->resent = 1;
    if (mail_header_is(text, len, "Message-Id")) {
	t->have_msgid = 1;
	if (t->msgid == 0)
	    t->msgid = header_value(text);
    }
    t->have_date |= mail_header_is(text, len, "Date");
    t->have_from |= mail_header_is(text, len, "From");
    t->have_resent_msgid |= mail_header_is(text, len, "Resent-Message-Id");
    t->have_resent_date |= mail_header_is(text, len, "Resent-Date");
    t->have_resent_from |= mail_header_is(text, len, "Resent-From");
    text_write(t, text, len);
    vstring_reset(t->header);
}

/* headers_end - add what is missing, as Postfix's cleanup does */
static void headers_end(PICKUP_TEXT *t)
{
    VSTRING *buf = vstring_alloc(100);
    time_t  now = queue_writer_time(t->qw)->tv_sec;
    const char *id = queue_writer_id(t->qw);
    int     need_msgid, need_date, need_from;

    header_flush(t);				/* the last header counts too */
    t->in_header = 0;
    need_msgid = t->resent ? !t->have_resent_msgid : !t->have_msgid;
    need_date = t->resent ? !t->have_resent_date : !t->have_date;
    need_from = t->resent ? !t->have_resent_from : !t->have_from;
    if (need_msgid) {
	mail_header_message_id(buf, now, id);
	add_header(t, t->resent ? "Resent-Message-Id" : "Message-Id", vstring_str(buf));
	if (!t->resent || t->msgid == 0) {
	    myfree(t->msgid);
	    t->msgid = mystrdup(vstring_str(buf));
	}
    }
    if (need_date) {
	mail_header_date(buf, now);
	add_header(t, t->resent ? "Resent-Date" : "Date", vstring_str(buf));
    }
    if (need_from) {
	if (*t->qsender == 0)
	    vstring_strcpy(buf, "MAILER-DAEMON");
	else
	    mail_header_from(buf, t->env->full_name, t->qsender);
	add_header(t, t->resent ? "Resent-From" : "From", vstring_str(buf));
    }
    vstring_free(buf);
}

/* text_line - one whole line of the message (no line end) */
static void text_line(PICKUP_TEXT *t, const char *line, size_t len)
{
    if (t->in_header) {
	if (len == 0) {
	    headers_end(t);
	} else if ((line[0] == ' ' || line[0] == '\t') && vstring_len(t->header) > 0) {
	    if (!t->cut && (long) (vstring_len(t->header) + len + 2) <= t->header_limit) {
		vstring_memcat(t->header, line, len);
		vstring_strcat(t->header, "\r\n");
	    } else {
		t->cut = 1;
	    }
	    return;
	} else if (mail_header_name_len(line, len) > 0) {
	    header_flush(t);
	    t->cut = 0;
	    if ((long) len + 2 > t->header_limit)
		len = t->header_limit > 2 ? t->header_limit - 2 : 0;
	    vstring_memcat(t->header, line, len);
	    vstring_strcat(t->header, "\r\n");
	    return;
	} else {
	    /* Not a header: the body starts here, without an empty line. */
	    headers_end(t);
	    text_write(t, "\r\n", 2);
	}
    }
    text_write(t, line, len);
    text_write(t, "\r\n", 2);
}

/* copy_text - the second reading: the text into the queue file */
static int copy_text(VSTREAM *fp, PICKUP_TEXT *t, const char **why)
{
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *line = vstring_alloc(1024);
    int     type;
    int     ret = 0;

    if (vstream_seek(fp, t->env->text_start, SEEK_SET) < 0) {
	*why = "cannot seek";
	ret = -1;
    }
    while (ret == 0) {
	type = rec_get(fp, buf, MAILDROP_REC_MAX);
	if (type == MAILDROP_REC_PART) {
	    if ((long) (vstring_len(line) + vstring_len(buf)) > t->env->text_size) {
		*why = "file changed while being read";
		ret = -1;
		break;
	    }
	    vstring_memcat(line, vstring_str(buf), vstring_len(buf));
	} else if (type == MAILDROP_REC_LINE) {
	    vstring_memcat(line, vstring_str(buf), vstring_len(buf));
	    text_line(t, vstring_str(line), vstring_len(line));
	    vstring_reset(line);
	} else if (type == MAILDROP_REC_RCPT || type == MAILDROP_REC_END) {
	    break;
	} else {
	    *why = "file changed while being read";
	    ret = -1;
	}
    }
    if (ret == 0 && t->in_header)
	headers_end(t);
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

/* write_envelope - sender, attributes, recipients; PICKUP_* */
static int write_envelope(QUEUE_WRITER *qw, PICKUP_ENV *env, VSTRING *qsender)
{
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();
    VSTRING *addr = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *orcpt = vstring_alloc(100);
    int     ret = PICKUP_QUEUED;

    qualify(qsender, env->sender, env->remote);
    queue_writer_sender(qw, vstring_str(qsender));
    queue_writer_attr(qw, "rewrite_context", env->remote ? "remote" : "local");
    if (env->envid)
	queue_writer_attr(qw, "dsn_envid", env->envid);
    if (env->ret)
	queue_writer_attr(qw, "dsn_ret", env->ret);
    for (size_t i = 0; i < env->rcpts->argc; i++) {
	qualify(addr, env->rcpts->argv[i], env->remote);
	if (!virtual_alias_changes(pickup_alias)) {
	    (void) virtual_alias_result_add(res, vstring_str(addr), vstring_str(addr));
	} else if (virtual_alias_expand(pickup_alias, vstring_str(addr), res, why)
		   != VIRTUAL_ALIAS_OK) {
	    msg_warn("%s: %s: %s; trying again later", queue_writer_id(qw),
		     vstring_str(addr), vstring_str(why));
	    ret = PICKUP_RETRY;
	    break;
	}
    }
    for (size_t i = 0; ret == PICKUP_QUEUED && i < res->count; i++) {
	const char *orig = res->targets[i].orig;

	if (env->notify)
	    vstring_sprintf(orcpt, "rfc822;%s", orig);
	queue_writer_rcpt(qw, res->targets[i].address, orig, env->notify,
			  env->notify ? vstring_str(orcpt) : 0);
    }
    virtual_alias_result_free(res);
    vstring_free(addr);
    vstring_free(why);
    vstring_free(orcpt);
    return (ret);
}

int     pickup_file(const char *id)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *qsender = vstring_alloc(100);
    PICKUP_ENV env;
    PICKUP_TEXT text;
    QUEUE_WRITER *qw;
    VSTREAM *fp;
    struct stat st;
    const char *why = 0;
    long    uid;
    long    limit = mail_conf_int(VAR_MESSAGE_SIZE_LIMIT);
    char   *qid;
    int     fd;
    int     ret;

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
	vstring_free(qsender);
	return (PICKUP_SKIP);
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
	msg_warn("%s: not a regular file with one link; removed", vstring_str(path));
	(void) unlink(vstring_str(path));
	(void) close(fd);
	vstring_free(path);
	vstring_free(qsender);
	return (PICKUP_SKIP);
    }
    vstring_free(path);
    if (!MAIL_QUEUE_MSG_COMPLETE(&st)) {	/* postdrop is writing it */
	(void) close(fd);
	vstring_free(qsender);
	return (PICKUP_SKIP);
    }
    uid = (long) st.st_uid;
    fp = vstream_fdopen(fd);
    memset(&env, 0, sizeof(env));
    env.rcpts = argv_alloc(4);
    if (read_envelope(fp, &env, &why) < 0) {
	save_corrupt(id, uid, why);
	vstream_close(fp);
	env_free(&env);
	vstring_free(qsender);
	return (PICKUP_SKIP);
    }
    if (limit > 0 && env.text_size > limit) {
	save_corrupt(id, uid, "message file too big");
	vstream_close(fp);
	env_free(&env);
	vstring_free(qsender);
	return (PICKUP_SKIP);
    }
    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	msg_warn("%s: create a queue file: %s; trying again later", id, strerror(errno));
	vstream_close(fp);
	env_free(&env);
	vstring_free(qsender);
	return (PICKUP_RETRY);
    }
    msg_info("%s: uid=%ld from=<%s>", queue_writer_id(qw), uid, env.sender);
    if ((ret = write_envelope(qw, &env, qsender)) != PICKUP_QUEUED) {
	queue_writer_abort(qw);
	vstream_close(fp);
	env_free(&env);
	vstring_free(qsender);
	return (ret);
    }

    /* The text: our Received: first, then the message. */
    memset(&text, 0, sizeof(text));
    text.qw = qw;
    text.env = &env;
    text.qsender = vstring_str(qsender);
    text.in_header = 1;
    text.header = vstring_alloc(1024);
    text.header_limit = mail_conf_int(VAR_HEADER_SIZE_LIMIT);
    queue_writer_msg_begin(qw);
    {
	VSTRING *received = vstring_alloc(200);

	mail_header_received_local(received, uid, queue_writer_id(qw),
				   queue_writer_time(qw)->tv_sec);
	text_write(&text, vstring_str(received), vstring_len(received));
	vstring_free(received);
    }
    qid = mystrdup(queue_writer_id(qw));
    if (copy_text(fp, &text, &why) < 0) {
	queue_writer_abort(qw);
	save_corrupt(id, uid, why);
	ret = PICKUP_SKIP;
    } else if (queue_writer_commit(qw) < 0) {	/* it frees qw */
	msg_warn("%s: queue file write error: %s; trying again later", qid, strerror(errno));
	ret = PICKUP_RETRY;
    } else {
	if (text.msgid)
	    msg_info("%s: message-id=%s", qid, text.msgid);
	if (mail_queue_remove(MAIL_QUEUE_MAILDROP, id) < 0 && errno != ENOENT)
	    msg_warn("%s: remove %s/%s: %s", id, MAIL_QUEUE_MAILDROP, id, strerror(errno));
	ret = PICKUP_QUEUED;
    }
    myfree(qid);
    myfree(text.msgid);
    vstring_free(text.header);
    vstream_close(fp);
    env_free(&env);
    vstring_free(qsender);
    return (ret);
}
