/*
 * NAME
 *	odmr.h - the state of an ODMR session, shared by odmr's files
 * SYNOPSIS
 *	#include "odmr.h"
 * DESCRIPTION
 *	Files: odmr.c (main: a customer site on the inet service, or qmgr
 *	on the odmr transport), odmr_server.c (the site's commands:
 *	EHLO, STARTTLS, AUTH, ATRN, QUIT), odmr_site.c (where a session
 *	that pulls a domain can be found: a socket per domain, and the
 *	hand-over of qmgr's delivery connections), odmr_queue.c (the
 *	domains' mail in the queue: find it, release it, follow it),
 *	odmr_turn.c (after ATRN: the SMTP client on the site's
 *	connection), odmr_transport.c (the odmr transport: hand qmgr's
 *	request to the site's session, or defer it).
 */
#ifndef ODMR_H
#define ODMR_H
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "global/deliver_request.h"
#include "global/xsasl_server.h"

/* Commands, for the disconnect log line. */
enum {
    ODMR_CMD_EHLO, ODMR_CMD_STARTTLS, ODMR_CMD_AUTH, ODMR_CMD_ATRN,
    ODMR_CMD_NOOP, ODMR_CMD_RSET, ODMR_CMD_QUIT, ODMR_CMD_UNKNOWN,
    ODMR_CMD_COUNT
};

typedef struct ODMR_STATE {
    VSTREAM *client;
    char   *name;			/* verified host name, or "unknown" */
    char   *addr;			/* printable address */
    char   *port;
    char   *namaddr;			/* name[addr] */
    const char *where;			/* command being served, for logs */
    int     tls;			/* TLS is active */
    int     ehlo;			/* EHLO was given */
    XSASL_SERVER *sasl;			/* this session's SASL server */
    int     sasl_used;			/* an exchange ran on it */
    int     sasl_unavailable;		/* and it was said in the log */
    char   *sasl_username;		/* authenticated as */
    char   *sasl_method;
    int     error_count;
    int     last_code;
    int     quit;
    int     cmd_total[ODMR_CMD_COUNT];
    int     cmd_ok[ODMR_CMD_COUNT];
} ODMR_STATE;

/* Parameters. */
extern char *var_myhostname;
extern long var_odmr_timeout;

/* odmr_server.c */
extern void odmr_server_init(void);
extern void odmr_server_session(VSTREAM *);
extern void odmr_reply(ODMR_STATE *, const char *, ...) __attribute__((format(printf, 2, 3)));

/* odmr_site.c */
extern int odmr_site_listen(const char *);
extern int odmr_site_accept(int, VSTREAM **, DELIVER_REQUEST **);
extern int odmr_site_hand_over(const char *, VSTREAM *, DELIVER_REQUEST *);

/* odmr_queue.c */
typedef struct ODMR_QUEUE ODMR_QUEUE;
extern ODMR_QUEUE *odmr_queue_find(ARGV *);
extern size_t odmr_queue_count(ODMR_QUEUE *);
extern void odmr_queue_release(ODMR_QUEUE *);
extern void odmr_queue_seen(ODMR_QUEUE *, const char *);
extern size_t odmr_queue_in_flight(ODMR_QUEUE *);
extern void odmr_queue_free(ODMR_QUEUE *);

/* odmr_turn.c */
extern void odmr_turn(ODMR_STATE *, ARGV *, int *, ODMR_QUEUE *);

/* odmr_transport.c */
extern void odmr_transport(VSTREAM *);

#endif
