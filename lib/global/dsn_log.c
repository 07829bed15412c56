/*
 * NAME
 *	dsn_log - per-message, per-recipient status logs (defer/, bounce/)
 * DESCRIPTION
 *	See dsn_log.h.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_queue.h"
#include "global/dsn_log.h"

#define DSN_LOG_MAX_LINE	(1 << 16)
#define DSN_LOG_MAX_ENTRIES	(1 << 20)

static void put(VSTRING *buf, const char *name, const char *value)
{
    if (value == 0 || *value == 0)
	return;
    vstring_sprintf_append(buf, "%s=", name);
    for (const char *cp = value; *cp; cp++)
	vstring_addch(buf, (*cp == '\n' || *cp == '\r') ? ' ' : *cp);
    vstring_addch(buf, '\n');
}

/* open_log - open for append, creating a missing hash subfolder */
static int open_log(const char *path)
{
    int     fd;

    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0
	&& errno == ENOENT) {
	char   *dir = mystrdup(path);
	char   *slash = strrchr(dir, '/');

	if (slash) {
	    *slash = 0;
	    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		myfree(dir);
		return (-1);
	    }
	}
	myfree(dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    }
    return (fd);
}

int     dsn_log_append(const char *queue, const char *queue_id,
		               const RECIPIENT *rcpt, const DSN_RESULT *res)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *buf = vstring_alloc(256);
    const char *action;
    int     fd, ret = -1;

    switch (res->action) {
    case 'd':
	action = "delivered";
	break;
    case 'r':
	action = "relayed";
	break;
    case 'f':
	action = "failed";
	break;
    case 'n':
	action = "notified";
	break;
    case 'v':
	action = "deliverable";
	break;
    case 'u':
	action = "undeliverable";
	break;
    default:
	action = "delayed";
	break;
    }
    put(buf, "recipient", rcpt->address);
    put(buf, "orig_recipient", rcpt->orig_addr);
    vstring_sprintf_append(buf, "offset=%ld\n", (long) rcpt->offset);
    vstring_sprintf_append(buf, "notify=%d\n", rcpt->dsn_notify);
    put(buf, "orcpt", rcpt->dsn_orcpt);
    put(buf, "status", res->status);
    put(buf, "action", action);
    put(buf, "reason", res->reason);
    put(buf, "remote_mta", res->remote_mta);
    put(buf, "diag", res->diag);
    vstring_sprintf_append(buf, "time=%ld\n\n", (long) time((time_t *) 0));

    mail_queue_path(path, queue, queue_id);
    if ((fd = open_log(vstring_str(path))) >= 0) {
	if (write(fd, vstring_str(buf), vstring_len(buf)) == (ssize_t) vstring_len(buf))
	    ret = 0;
	if (close(fd) < 0)
	    ret = -1;
    }
    vstring_free(path);
    vstring_free(buf);
    return (ret);
}

static void set(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value);
}

int     dsn_log_read(const char *queue, const char *queue_id, DSN_LOG *log)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *line = vstring_alloc(256);
    VSTREAM *fp;
    DSN_LOG_ENTRY *cur = 0;
    size_t  cap = 0;
    int     status;

    log->entries = 0;
    log->count = 0;
    mail_queue_path(path, queue, queue_id);
    fp = vstream_open(vstring_str(path), O_RDONLY, 0);
    vstring_free(path);
    if (fp == 0) {
	vstring_free(line);
	return (-1);
    }
    while ((status = vstream_get_line(fp, line, DSN_LOG_MAX_LINE)) != VSTREAM_EOF) {
	char   *text = vstring_str(line);
	char   *eq;

	if (status == VSTREAM_LONG) {
	    /* Skip the rest of an overlong line. */
	    while ((status = vstream_get_line(fp, line, DSN_LOG_MAX_LINE)) == VSTREAM_LONG)
		 /* void */ ;
	    continue;
	}
	if (*text == 0) {
	    cur = 0;
	    continue;
	}
	if ((eq = strchr(text, '=')) == 0)
	    continue;
	*eq++ = 0;
	if (cur == 0) {
	    if (log->count >= DSN_LOG_MAX_ENTRIES)
		break;
	    if (log->count >= cap) {
		cap = cap ? cap * 2 : 8;
		log->entries = myrealloc(log->entries, cap * sizeof(*cur));
	    }
	    cur = &log->entries[log->count++];
	    memset(cur, 0, sizeof(*cur));
	}
	if (strcmp(text, "recipient") == 0)
	    set(&cur->recipient, eq);
	else if (strcmp(text, "orig_recipient") == 0)
	    set(&cur->orig_recipient, eq);
	else if (strcmp(text, "offset") == 0)
	    cur->offset = strtol(eq, 0, 10);
	else if (strcmp(text, "notify") == 0)
	    cur->notify = (int) strtol(eq, 0, 10);
	else if (strcmp(text, "orcpt") == 0)
	    set(&cur->orcpt, eq);
	else if (strcmp(text, "status") == 0)
	    set(&cur->status, eq);
	else if (strcmp(text, "action") == 0)
	    set(&cur->action, eq);
	else if (strcmp(text, "reason") == 0)
	    set(&cur->reason, eq);
	else if (strcmp(text, "remote_mta") == 0)
	    set(&cur->remote_mta, eq);
	else if (strcmp(text, "diag") == 0)
	    set(&cur->diag, eq);
	else if (strcmp(text, "time") == 0)
	    cur->time = strtol(eq, 0, 10);
    }
    /* Entries without a recipient are of no use to anyone. */
    for (size_t i = 0; i < log->count; i++) {
	DSN_LOG_ENTRY *e = &log->entries[i];

	if (e->recipient == 0)
	    e->recipient = mystrdup("");
	if (e->status == 0)
	    e->status = mystrdup("4.0.0");
	if (e->action == 0)
	    e->action = mystrdup("delayed");
	if (e->reason == 0)
	    e->reason = mystrdup("");
    }
    vstream_close(fp);
    vstring_free(line);
    return (0);
}

void    dsn_log_free(DSN_LOG *log)
{
    for (size_t i = 0; i < log->count; i++) {
	DSN_LOG_ENTRY *e = &log->entries[i];

	myfree(e->recipient);
	myfree(e->orig_recipient);
	myfree(e->orcpt);
	myfree(e->status);
	myfree(e->action);
	myfree(e->reason);
	myfree(e->remote_mta);
	myfree(e->diag);
    }
    myfree(log->entries);
    log->entries = 0;
    log->count = 0;
}

int     dsn_log_remove(const char *queue, const char *queue_id)
{
    VSTRING *path = vstring_alloc(64);
    int     ret;

    mail_queue_path(path, queue, queue_id);
    ret = unlink(vstring_str(path));
    vstring_free(path);
    return (ret);
}
