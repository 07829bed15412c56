/*
 * NAME
 *	attr - requests and replies between processes
 * SYNOPSIS
 *	ATTR *attr_alloc(void);
 *	void attr_free(ATTR *a);
 *	void attr_reset(ATTR *a);
 *	void attr_add(ATTR *a, const char *name, const char *value);
 *	void attr_addf(ATTR *a, const char *name, const char *fmt, ...);
 *	int attr_send(VSTREAM *s, ATTR *a);		(writes and flushes)
 *	int attr_recv(VSTREAM *s, ATTR *a, size_t max_len, size_t max_count);
 *	const char *attr_get(ATTR *a, const char *name);	(first)
 *	int attr_get_long(ATTR *a, const char *name, long *value);
 *	size_t attr_count(ATTR *a);
 *	const char *attr_name(ATTR *a, size_t i);
 *	const char *attr_value(ATTR *a, size_t i);
 * DESCRIPTION
 *	On the wire a request is "name\0value\0" pairs ended by an empty
 *	name ("\0"). Names may repeat (one "recipient" per recipient); the
 *	list keeps their order. attr_recv() reads one request with the
 *	stream's timeout, refuses any name or value longer than max_len or
 *	more than max_count pairs (returns -1; the caller logs and closes),
 *	and returns 0 at a clean end of file before the first byte, 1 for
 *	a request. Unknown names are the reader's to skip, so old and new
 *	processes can mix during a reload. Attribute names are the
 *	ATTR_NAME_* constants below, used by every client module.
 */
#ifndef ATTR_H
#define ATTR_H
#include <stddef.h>
#include "util/vstream.h"
#include "util/argv.h"

typedef struct ATTR {
    ARGV   *names;
    ARGV   *values;
} ATTR;

#define ATTR_MAX_LEN	(1 << 20)
#define ATTR_MAX_COUNT	100000

/* Names shared by the services. */
#define ATTR_NAME_REQUEST	"request"	/* what a client asks for */
#define ATTR_NAME_STATUS	"status"	/* 0 ok, else an error code */
#define ATTR_NAME_REASON	"reason"
#define ATTR_NAME_QUEUE_NAME	"queue_name"
#define ATTR_NAME_QUEUE_ID	"queue_id"
#define ATTR_NAME_SITE		"site"
#define ATTR_NAME_SENDER	"sender"
#define ATTR_NAME_RECIPIENT	"recipient"
#define ATTR_NAME_ORIG_RCPT	"original_recipient"
#define ATTR_NAME_OFFSET	"offset"
#define ATTR_NAME_DSN_NOTIFY	"dsn_notify"
#define ATTR_NAME_DSN_ORCPT	"dsn_orig_rcpt"
#define ATTR_NAME_DSN_ENVID	"dsn_envid"
#define ATTR_NAME_DSN_RET	"dsn_ret"
#define ATTR_NAME_NEXTHOP	"nexthop"
#define ATTR_NAME_TRANSPORT	"transport"
#define ATTR_NAME_DSN_STATUS	"dsn_status"
#define ATTR_NAME_DSN_ACTION	"dsn_action"
#define ATTR_NAME_FLAGS		"flags"
#define ATTR_NAME_ADDRESS	"address"

extern ATTR *attr_alloc(void);
extern void attr_free(ATTR *);
extern void attr_reset(ATTR *);
extern void attr_add(ATTR *, const char *, const char *);
extern void attr_addf(ATTR *, const char *, const char *, ...) __attribute__((format(printf, 3, 4)));
extern int attr_send(VSTREAM *, ATTR *);
extern int attr_recv(VSTREAM *, ATTR *, size_t, size_t);
extern const char *attr_get(ATTR *, const char *);
extern int attr_get_long(ATTR *, const char *, long *);
extern size_t attr_count(ATTR *);
extern const char *attr_name(ATTR *, size_t);
extern const char *attr_value(ATTR *, size_t);

#endif
