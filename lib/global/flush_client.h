/*
 * NAME
 *	flush_client - ask the flush service to release deferred mail
 * SYNOPSIS
 *	int flush_add(const char *site, const char *queue_id);
 *	int flush_send_site(const char *site);
 *	int flush_send_file(const char *queue_id);
 *	int flush_refresh(void);
 *	int flush_purge(void);
 *
 *	Service side:
 *	int flush_request_read(VSTREAM *client, FLUSH_REQUEST *req,
 *			       VSTRING *why);
 *	void flush_request_free(FLUSH_REQUEST *req);
 * DESCRIPTION
 *	Requests to public/flush (attr.h; ATTR_NAME_REQUEST, FLUSH_ATTR_SITE,
 *	FLUSH_ATTR_QUEUE_ID):
 *
 *	    request=add site= queue_id=	qmgr, when it defers a message
 *					for a site
 *	    request=send_site site=	ETRN, postqueue -s
 *	    request=send_file queue_id=	postqueue -i
 *	    request=refresh
 *	    request=purge		postqueue -f: release everything
 *					deferred
 *
 *	The reply is status=N (ATTR_NAME_STATUS; attr_send_status()):
 *
 *	FLUSH_STAT_OK		done (delivery started)
 *	FLUSH_STAT_FAIL		the service failed (ETRN: 458)
 *	FLUSH_STAT_BAD		bad request
 *	FLUSH_STAT_DENY		site not eligible: not in fast_flush_domains
 *				(ETRN: 459 <site>: service unavailable;
 *				postqueue -s: exit 69)
 *
 *	The client functions return one of these; FLUSH_STAT_FAIL when the
 *	service cannot be reached.
 *
 *	flush_request_read() is the service's reader: 1 for a request in
 *	req (site and queue_id NULL when absent: which request needs which
 *	is the service's to check), 0 when the connection brought no
 *	attribute at all (end of file, or master's one-byte wakeup), -1
 *	for a malformed request (why says how). flush_request_free()
 *	releases what a read stored, whatever it returned.
 */
#ifndef FLUSH_CLIENT_H
#define FLUSH_CLIENT_H
#include "util/vstream.h"
#include "util/vstring.h"

#define FLUSH_STAT_OK	0
#define FLUSH_STAT_FAIL	1
#define FLUSH_STAT_BAD	3
#define FLUSH_STAT_DENY	4

#define FLUSH_REQ_ADD		"add"
#define FLUSH_REQ_SEND_SITE	"send_site"
#define FLUSH_REQ_SEND_FILE	"send_file"
#define FLUSH_REQ_REFRESH	"refresh"
#define FLUSH_REQ_PURGE		"purge"

#define FLUSH_ATTR_SITE		"site"
#define FLUSH_ATTR_QUEUE_ID	"queue_id"

typedef struct FLUSH_REQUEST {
    char   *request;			/* FLUSH_REQ_* */
    char   *site;
    char   *queue_id;
} FLUSH_REQUEST;

extern int flush_add(const char *, const char *);
extern int flush_send_site(const char *);
extern int flush_send_file(const char *);
extern int flush_refresh(void);
extern int flush_purge(void);

extern int flush_request_read(VSTREAM *, FLUSH_REQUEST *, VSTRING *);
extern void flush_request_free(FLUSH_REQUEST *);

#endif
