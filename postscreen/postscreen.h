/*
 * NAME
 *	postscreen.h - the files of postscreen(8)
 * SYNOPSIS
 *	#include "postscreen.h"
 * DESCRIPTION
 *	One PSC_STATE per client connection, from accept until the client
 *	is handed to smtpd or disconnected. The modules:
 *
 *	postscreen.c		main, parameters, the connection's course
 *	postscreen_access.c	postscreen_access_list
 *	postscreen_cache.c	postscreen_cache_map: who passed, until when
 *	postscreen_dnsbl.c	postscreen_dnsbl_sites: lookups and score
 *	postscreen_early.c	the greet test (PREGREET, HANGUP)
 *	postscreen_send.c	hand a client to smtpd over the pass service
 *	postscreen_smtpd.c	the SMTP engine: rejected clients, deep tests
 *	postscreen_util.c	replies, "after" times, log text escaping
 * SEE ALSO
 *	postscreen(8)
 */
#ifndef POSTSCREEN_H
#define POSTSCREEN_H
#include <sys/types.h>
#include <time.h>
#include "util/vstring.h"
#include "util/argv.h"

/* Actions of postscreen_*_action. */
#define PSC_ACT_IGNORE	0
#define PSC_ACT_ENFORCE	1
#define PSC_ACT_DROP	2

/* State flags. */
#define PSC_FLAG_GREET_DONE	(1<<0)	/* greet test finished */
#define PSC_FLAG_DNSBL_DONE	(1<<1)	/* DNSBL answers in (or timeout) */
#define PSC_FLAG_PREGREET	(1<<2)	/* client talked first */
#define PSC_FLAG_FAIL		(1<<3)	/* a test failed, enforce */
#define PSC_FLAG_FAIL_IGNORED	(1<<4)	/* a test failed, ignore */
#define PSC_FLAG_DNSBL_LISTED	(1<<5)	/* dnsbl score >= threshold */
#define PSC_FLAG_DNSBL_ALLOW	(1<<6)	/* dnsbl score <= allowlist threshold */
#define PSC_FLAG_BANNER_SENT	(1<<7)	/* "220-" went out */
#define PSC_FLAG_GREET_TEST	(1<<8)	/* the greet test runs */
#define PSC_FLAG_DNSBL_TEST	(1<<9)	/* the DNSBL test runs */
#define PSC_FLAG_VETO		(1<<10)	/* not on postscreen_allowlist_interfaces */
#define PSC_FLAG_REFRESH	(1<<11)	/* no client: a DNSBL cache refresh */
#define PSC_FLAG_KNOWN		(1<<12)	/* in the cache: PASS OLD, not NEW */
#define PSC_FLAG_DEEP		(1<<13)	/* the deep tests run in the engine */
#define PSC_FLAG_DEEP_PASS	(1<<14)	/* ... and the client passed them */
#define PSC_FLAG_DEEP_FAIL	(1<<15)	/* a deep test failed, enforce */

/* The tests, in the order of a postscreen_cache_map entry. */
#define PSC_TEST_GREET	0
#define PSC_TEST_DNSBL	1
#define PSC_TEST_PIPEL	2		/* the deep protocol tests */
#define PSC_TEST_NSMTP	3
#define PSC_TEST_BARLF	4
#define PSC_TEST_COUNT	5
#define PSC_TIME_DISABLED	1	/* cache: the test was disabled */

typedef struct PSC_STATE {
    int     fd;				/* client connection */
    char   *addr;			/* client address, printable */
    char   *port;			/* client port */
    char   *endpoint;			/* "[addr]:port" for logs */
    char   *saddr;			/* server address */
    char   *sport;			/* server port */
    long long start_ms;			/* connect time */
    int     flags;
    time_t  greet_expire;		/* from the cache, when still valid */
    time_t  dnsbl_expire;		/* from the cache, when still valid */
    time_t  deep_expire[PSC_TEST_COUNT];	/* deep tests: from the cache,
					 * or the new result */
    int     deep_todo;			/* (1<<PSC_TEST_*) deep tests to run */
    char   *final_reply;		/* enforce: RCPT/VRFY reply */
    /* DNSBL */
    pid_t   dnsbl_pid;			/* lookup child, or 0 */
    int     dnsbl_fd;			/* its answers, or -1 */
    VSTRING *dnsbl_buf;
    int     dnsbl_score;
    int     dnsbl_ttl;			/* seconds, smallest answer TTL */
    char   *dnsbl_name;			/* the listing site with most weight */
    /* dummy SMTP engine */
    VSTRING *in;			/* unprocessed input */
    char   *helo;
    char   *sender;
    int     esmtp;
    int     commands;
    char   *last_cmd;			/* for the limit log lines */
} PSC_STATE;

/* postscreen.c */
extern int psc_greet_action;
extern int psc_dnsbl_action;
extern int psc_denylist_action;
extern void psc_tests_done(PSC_STATE *);
extern void psc_deep_done(PSC_STATE *);
extern void psc_state_free(PSC_STATE *);
extern void psc_disconnect(PSC_STATE *);
extern long long psc_now_ms(void);

/* postscreen_access.c */
#define PSC_ACL_DUNNO	0
#define PSC_ACL_PERMIT	1
#define PSC_ACL_REJECT	2
extern void psc_access_init(void);
extern void psc_access_watch(void);
extern int psc_access(const char *addr);
extern int psc_access_interface(const char *server_addr);

/* postscreen_cache.c */
extern void psc_cache_open(void);
extern void psc_cache_cleanup(void);
#define PSC_CACHE_GREET	(1<<0)
#define PSC_CACHE_DNSBL	(1<<1)
#define PSC_CACHE_FOUND	(1<<7)		/* the client has an entry */
#define PSC_CACHE_DEEP(t)	(1<<(t))	/* a deep test result holds */
extern int psc_cache_lookup(const char *, time_t, time_t *, time_t *, time_t *);
extern void psc_cache_update(const char *addr, time_t greet_expire, time_t dnsbl_expire,
			             const time_t *deep_expire);
extern int psc_deep_enabled(int test);
extern int psc_cache_interval(void);
extern void psc_cache_drain(void);

/* postscreen_dnsbl.c */
extern void psc_dnsbl_init(void);
extern int psc_dnsbl_enabled(void);
extern void psc_dnsbl_start(PSC_STATE *);
extern void psc_dnsbl_cancel(PSC_STATE *);
extern void psc_dnsbl_drain(void);
extern void psc_dnsbl_watch(void);

/* postscreen_early.c */
extern void psc_early_start(PSC_STATE *);
extern void psc_early_cancel(PSC_STATE *);

/* postscreen_send.c */
extern void psc_send_to_smtpd(PSC_STATE *);

/* postscreen_smtpd.c */
extern void psc_smtpd_init(void);
extern void psc_smtpd_start(PSC_STATE *);
extern int psc_pipel_action;
extern int psc_nsmtp_action;
extern int psc_barlf_action;

/* postscreen_util.c */
extern int psc_write(PSC_STATE *, const char *);
extern void psc_format_delta(VSTRING *, long long);
extern void psc_printable(VSTRING *, const char *, size_t);
extern int psc_action(const char *param);

#endif
