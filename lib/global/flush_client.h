/*
 * NAME
 *	flush_client - ask the flush service to release deferred mail
 * SYNOPSIS
 *	int flush_add(const char *site, const char *queue_id);
 *	int flush_send_site(const char *site);
 *	int flush_send_file(const char *queue_id);
 *	int flush_refresh(void);
 *	int flush_purge(void);
 * DESCRIPTION
 *	Requests to public/flush (attr.h): request=add site= queue_id=
 *	(qmgr, when it defers a message for a site), request=send_site
 *	site= (ETRN, postqueue -s), request=send_file queue_id=
 *	(postqueue -i), request=refresh, request=purge (postqueue -f:
 *	release everything deferred). The reply is status=N:
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
 */
#ifndef FLUSH_CLIENT_H
#define FLUSH_CLIENT_H

#define FLUSH_STAT_OK	0
#define FLUSH_STAT_FAIL	1
#define FLUSH_STAT_BAD	3
#define FLUSH_STAT_DENY	4

#define FLUSH_REQ_ADD		"add"
#define FLUSH_REQ_SEND_SITE	"send_site"
#define FLUSH_REQ_SEND_FILE	"send_file"
#define FLUSH_REQ_REFRESH	"refresh"
#define FLUSH_REQ_PURGE		"purge"

extern int flush_add(const char *, const char *);
extern int flush_send_site(const char *);
extern int flush_send_file(const char *);
extern int flush_refresh(void);
extern int flush_purge(void);

#endif
