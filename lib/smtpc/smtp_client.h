/*
 * NAME
 *	smtp_client - the SMTP/LMTP client engine of the smtp and lmtp agents
 * SYNOPSIS
 *	Agent interface:
 *	void smtp_client_init(int proto, const char *service);
 *	void smtp_client_deliver(DELIVER_REQUEST *req);
 *	void smtp_client_cache_close(void);
 *	void smtp_client_serve(VSTREAM *qmgr_stream);
 *	int smtp_client_probe(const char *nexthop, const char *match,
 *				int flags, VSTREAM *out);
 *
 *	On a connection the server side opened (odmr, smtp_client_turn.c):
 *	SMTP_SESSION *smtp_turn_session(VSTREAM *stream, const char *host,
 *					const char *addr, int port);
 *	int smtp_turn_handshake(SMTP_SESSION *sess, SMTP_WHY *why);
 *	int smtp_turn_deliver(SMTP_SESSION *sess, DELIVER_REQUEST *req);
 *	void smtp_turn_end(SMTP_SESSION *sess, int healthy);
 *
 *	Inside the engine (smtp_client_*.c):
 *	SMTP_REPLY *smtp_reply_alloc(void);
 *	void smtp_reply_free(SMTP_REPLY *r);
 *	void smtp_reply_reset(SMTP_REPLY *r);
 *	int smtp_reply_feed(SMTP_REPLY *r, const char *line, size_t len);
 *	int smtp_reply_read(VSTREAM *s, SMTP_REPLY *r);
 *	int smtp_chat_reply(SMTP_SESSION *sess, SMTP_REPLY *r);
 *	void smtp_chat_cmd(SMTP_SESSION *sess, const char *fmt, ...);
 *
 *	int smtp_addr_find(SMTP_DEST *dest, DNS_ADDR_LIST *out, SMTP_WHY *why,
 *			   int *mx_self);
 *	int smtp_sasl_lookup(SMTP_STATE *st, const char *host);
 *	void smtp_sasl_init(void);
 *	const char *smtp_sasl_choose(SMTP_SESSION *sess, SMTP_WHY *why);
 *	int smtp_sasl_authenticate(SMTP_SESSION *sess, const char *user,
 *				   const char *pass, SMTP_WHY *why);
 *
 *	int smtp_tlsrpt_wanted(SMTP_STATE *st);
 *	void smtp_tlsrpt_policy_failure(SMTP_STATE *st, const DNS_ADDR *addr);
 *	void smtp_tlsrpt_session(SMTP_STATE *st, SMTP_SESSION *sess,
 *				 int outcome, int check);
 *
 *	const char *smtp_param_str(const char *smtp_name);	(and _int,
 *				_time, _bool, _bool_soft, _time_soft, _name)
 * DESCRIPTION
 *	smtp_client_init() reads the parameters of the protocol
 *	(SMTP_PROTO_SMTP reads smtp_*, SMTP_PROTO_LMTP lmtp_*) once per
 *	process. smtp_client_deliver() delivers one request of qmgr:
 *	looks up the destination (MX hosts, addresses, or a UNIX socket
 *	for LMTP), connects, greets, uses STARTTLS and AUTH as
 *	configured, sends MAIL/RCPT/DATA (pipelined when the server offers
 *	PIPELINING), and reports every recipient with deliver_result() and
 *	deliver_log(). Recipients with a temporary error are tried with
 *	the next server, when there is one, before they are deferred.
 *
 *	After a successful transaction the session may stay open
 *	(smtp_connection_cache_on_demand) for the next request to the
 *	same nexthop, up to smtp_connection_reuse_time_limit; the log
 *	line then has conn_use=N. smtp_client_cache_close() ends it.
 *	smtp_client_serve() waits, before the agent reads its next request,
 *	at most smtp_connection_cache_time_limit for it, and shuts the
 *	idle session down (no QUIT) when none came by then.
 *
 *	smtp_reply_feed() takes one reply line (without CRLF) and returns
 *	1 when the reply is complete, 0 when more lines follow. A line
 *	that does not start with three digits ends the reply with code 0
 *	(a protocol error). The text is kept bounded (SMTP_REPLY_MAXTEXT).
 *
 *	smtp_tlsrpt_*() count TLS sessions for TLS-RPT (RFC 8460) when
 *	smtp_tlsrpt_enable is on, see smtp_client_tlsrpt.c.
 *
 *	smtp_param_*() read a parameter of the protocol: the caller names
 *	the smtp_ parameter (VAR_SMTP_TLS_CIPHERS), the LMTP client reads
 *	the lmtp_ one (lhlo_ for helo_). The _soft forms are for a
 *	parameter that only one protocol has: the other reads its text, or
 *	the default given.
 */
#ifndef SMTP_CLIENT_H
#define SMTP_CLIENT_H
#include <time.h>
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/srs.h"
#include "global/hbc.h"
#include "dict/maps.h"
#include "global/deliver_request.h"
#include "global/mta_sts.h"
#include "dns/dns.h"
#include "util/argv.h"
#include "global/mail_params.h"

#define SMTP_PROTO_SMTP	0
#define SMTP_PROTO_LMTP	1

#define SMTP_HOST_LOOKUP_DNS	1	/* smtp_host_lookup: dns */
#define SMTP_HOST_LOOKUP_NATIVE	2	/* native: getaddrinfo() */

#define SMTP_REPLY_MAXLINE	4096	/* bytes per reply line kept */
#define SMTP_REPLY_MAXTEXT	8192	/* bytes of reply text kept */
#define SMTP_REPLY_MAXLINES	1000	/* lines per reply before we give up */

typedef struct SMTP_REPLY {
    int     code;			/* 250, or 0 for garbage */
    char    dsn[16];			/* enhanced status, or derived */
    VSTRING *text;			/* lines joined by one space */
    ARGV   *lines;			/* each line's text after "ddd-" */
    int     nlines;
} SMTP_REPLY;

/* Why a delivery attempt failed: enough for a DSN_RESULT. */
typedef struct SMTP_WHY {
    char    dsn[16];
    VSTRING *text;
    char   *relay;			/* "host[addr]:port", or NULL (none) */
    int     set;
} SMTP_WHY;

/* Where to deliver, parsed from the nexthop. */
typedef struct SMTP_DEST {
    char   *nexthop;			/* as written */
    char   *host;			/* domain or host, without [] */
    int     port;			/* TCP port, host byte order */
    int     use_mx;			/* 0 for [host] and LMTP */
    char   *unix_path;			/* LMTP unix:/path, else NULL */
    int     mx_secure;			/* MX RRset validated ([host]: always) */
} SMTP_DEST;

/* The effective TLS policy of one server (smtp_client_tls.c). */
typedef struct SMTP_TLS_POLICY {
    char    level[16];			/* none may encrypt dane dane-only ... */
    int     rank;			/* smtp_tls_level_rank() */
    void   *dane;			/* TLS_DANE: usable TLSA records, or NULL */
    int     dane_trusted_only;		/* TLSA via an insecure MX lookup */
    char    sts_mode[12];		/* MTA-STS: enforce, testing, or "" */
    char    sts_mx[256];		/* its mx patterns, for reports */
    ARGV   *tlsa_text;			/* TLS-RPT: the TLSA RRset, "3 1 1 HEX" */
    int     rpt_tlsa;			/* TLS-RPT: the policy is DANE's (tlsa) */
    const char *rpt_failure;		/* TLS-RPT: a policy failure, or NULL */
    const char *rpt_reason;		/* its failure-reason-code, or NULL */
} SMTP_TLS_POLICY;

#define SMTP_FEATURE_ESMTP	(1<<0)
#define SMTP_FEATURE_PIPELINING	(1<<1)
#define SMTP_FEATURE_SIZE	(1<<2)
#define SMTP_FEATURE_STARTTLS	(1<<3)
#define SMTP_FEATURE_AUTH	(1<<4)
#define SMTP_FEATURE_DSN	(1<<5)
#define SMTP_FEATURE_8BITMIME	(1<<6)
#define SMTP_FEATURE_SMTPUTF8	(1<<7)
#define SMTP_FEATURE_XFORWARD	(1<<8)

/* XFORWARD attributes that the server announced (sess->xforward_attrs). */
#define SMTP_XFWD_NAME		(1<<0)
#define SMTP_XFWD_ADDR		(1<<1)
#define SMTP_XFWD_PORT		(1<<2)
#define SMTP_XFWD_PROTO		(1<<3)
#define SMTP_XFWD_HELO		(1<<4)
#define SMTP_XFWD_IDENT		(1<<5)
#define SMTP_XFWD_SOURCE	(1<<6)

typedef struct SMTP_SESSION {
    VSTREAM *stream;
    char   *key;			/* cache key */
    char   *host;			/* server name */
    char   *addr;			/* printable address, or "private/x" */
    int     port;
    char   *namaddr;			/* "host[addr]" */
    char   *relay;			/* "host[addr]:port" */
    int     features;
    int     helo_only;			/* no EHLO: smtp_*_send_ehlo, greeting */
    int     tls_matched;		/* TLS at a level that checked the server */
    long    size_limit;
    char   *auth_mechs;			/* "PLAIN LOGIN", upper case */
    int     xforward_attrs;		/* SMTP_XFWD_* of the XFORWARD keyword */
    void   *tls;			/* TLS_SESS, or NULL */
    int     use_count;			/* transactions so far */
    int     refused;			/* answered the greeting or EHLO with 4xx/5xx */
    time_t  start;
} SMTP_SESSION;

/* The engine's configuration, per protocol. */
typedef struct SMTP_CLIENT_CONF {
    int     proto;
    const char *name;			/* "smtp", "lmtp" */
    const char *service;
    int     connect_timeout;
    int     helo_timeout;
    int     mail_timeout;
    int     rcpt_timeout;
    int     data_init_timeout;
    int     data_xfer_timeout;
    int     data_done_timeout;
    int     quit_timeout;
    int     starttls_timeout;
    int     xforward_timeout;
    int     send_xforward;		/* smtp_send_xforward_command */
    int     mx_address_limit;
    int     mx_session_limit;
    int     skip_5xx_greeting;
    int     cache_on_demand;
    int     reuse_time_limit;
    int     cache_time_limit;
    int     line_length_limit;		/* 0: none */
    int     families;			/* DNS_FAMILY_* */
    const char *address_preference;	/* any, ipv4, ipv6 */
    const char *helo_name;
    const char *tcp_port;
    int     sasl_enable;
    int     sender_dependent_auth;
    const char *sasl_password_maps;
    const char *sasl_security_options;
    const char *sasl_tls_security_options;
    const char *sasl_mechanism_filter;
    const char *tls_level;
    const char *tls_policy_maps;
    const char *fallback_relay;		/* smtp_fallback_relay, SMTP only */
    int     dns_disabled;		/* smtp_dns_support_level = disabled */
    int     host_lookup[2];		/* smtp_host_lookup: SMTP_HOST_LOOKUP_* */
    int     host_lookup_count;
    int     randomize_addresses;	/* smtp_randomize_addresses */
    int     defer_no_mx_address;	/* smtp_defer_if_no_mx_address_found */
    const char *sasl_tls_verified_security_options;
    int     always_ehlo;		/* smtp_always_send_ehlo */
    int     reuse_count_limit;		/* smtp_connection_reuse_count_limit */
    struct MATCH_LIST *cache_dests;	/* smtp_connection_cache_destinations */
    int     never_ehlo;			/* smtp_never_send_ehlo */
    SRS    *srs;			/* srs_domain set: SRS for forwarded mail */
    MAPS   *generic_maps;		/* smtp_generic_maps, or NULL */
    HBC_MAPS *hbc_maps;			/* smtp_header_checks, smtp_body_checks */
    int     tlsrpt;			/* smtp_tlsrpt_enable (SMTP only) */
    const char *tlsrpt_sender;		/* its reports are not counted */
} SMTP_CLIENT_CONF;

extern SMTP_CLIENT_CONF smtp_conf;

/* One delivery request in progress. */
typedef struct SMTP_STATE {
    DELIVER_REQUEST *req;
    SMTP_DEST dest;
    char   *pending;			/* per recipient: still to deliver */
    size_t  npending;
    SMTP_WHY why;			/* the last failure, for what is left */
    double  start;			/* when the agent took the request */
    double  conn_setup;			/* seconds until the session was ready */
    double  xfer_start;
    char   *sasl_user;			/* credentials for this request, or NULL */
    char   *sasl_pass;
    int     final;			/* this server is the last chance */
    int     tls_off;			/* retry without TLS (level may) */
    int     tls_failed;			/* the handshake failed (level may) */
    int     conn_use;			/* transactions on this session */
    int     reached;			/* a session got past EHLO (and TLS, AUTH) */
    int     refused;			/* a server answered, and refused the session */
    const char *remote_mta;		/* for the next result: server name */
    const char *diag;			/* for the next result: server reply */
    int     more_rcpts;			/* 452 too many recipients: go again */
    int     result_flags;		/* for the next result: DSN_RESULT_FLAG_* */
    const char *tls_level;		/* configured level of the destination */
    VSTRING *tls_match;			/* its match= names */
    char   *tls_protocols;		/* its protocols=, or NULL */
    char   *tls_grade;			/* its ciphers=, or NULL */
    char   *tls_exclude;		/* its exclude=, or NULL */
    SMTP_TLS_POLICY tls;		/* effective policy of the current server */
    VSTRING *tls_chain;			/* posttls-finger: the server's chain */
    int     tls_from_map;		/* the level came from smtp_tls_policy_maps */
    int     sts_status;			/* MTA_STS_NONE, _FOUND, _FAIL */
    MTA_STS_POLICY sts;			/* the destination's MTA-STS policy */
    VSTREAM *msg;			/* the queue file, opened once, or NULL */
} SMTP_STATE;

extern void smtp_client_init(int, const char *);
extern void smtp_client_deliver(DELIVER_REQUEST *);
extern void smtp_client_cache_close(void);
extern void smtp_client_serve(VSTREAM *);

extern SMTP_REPLY *smtp_reply_alloc(void);
extern void smtp_reply_free(SMTP_REPLY *);
extern void smtp_reply_reset(SMTP_REPLY *);
extern int smtp_reply_feed(SMTP_REPLY *, const char *, size_t);
extern int smtp_reply_read(VSTREAM *, SMTP_REPLY *);

extern void smtp_why_init(SMTP_WHY *);
extern void smtp_why_free(SMTP_WHY *);
extern void smtp_why_set(SMTP_WHY *, const char *relay, const char *dsn,
			 const char *fmt,...) __attribute__((format(printf, 4, 5)));

extern double smtp_now(void);
extern void smtp_rcpt_status(SMTP_STATE *, size_t, const char *relay,
			     const char *dsn, const char *fmt,...)
	__attribute__((format(printf, 5, 6)));
extern SMTP_SESSION *smtp_session_connect(SMTP_STATE *, const DNS_ADDR *, SMTP_WHY *);
extern int smtp_session_handshake(SMTP_SESSION *, SMTP_STATE *, SMTP_WHY *);
extern void smtp_session_quit(SMTP_SESSION *);
extern void smtp_session_free(SMTP_SESSION *);
extern int smtp_session_alive(SMTP_SESSION *);
extern int smtp_dest_port(const char *);
extern void smtp_tls_policy_init(void);
extern int smtp_tls_policy_dest(SMTP_STATE *, SMTP_WHY *);
extern void smtp_tls_attrs_free(SMTP_STATE *);
extern int smtp_tls_policy_server(SMTP_STATE *, const DNS_ADDR *, SMTP_TLS_POLICY *, SMTP_WHY *);
extern void smtp_tls_policy_free(SMTP_TLS_POLICY *);
extern int smtp_tls_level_rank(const char *);
extern int smtp_session_xfer(SMTP_SESSION *, SMTP_STATE *);
extern int smtp_chat_reply(SMTP_SESSION *, SMTP_REPLY *);
extern void smtp_chat_cmd(SMTP_SESSION *, const char *,...)
	__attribute__((format(printf, 2, 3)));

/* TLS-RPT counts (smtp_client_tlsrpt.c). */
#define SMTP_TLSRPT_NO_STARTTLS	1	/* not offered, or refused */
#define SMTP_TLSRPT_TLS_FAILED	2	/* no TLS session */
#define SMTP_TLSRPT_TLS_OK	3	/* a TLS session */
extern int smtp_tlsrpt_wanted(SMTP_STATE *);
extern void smtp_tlsrpt_policy_failure(SMTP_STATE *, const DNS_ADDR *);
extern void smtp_tlsrpt_session(SMTP_STATE *, SMTP_SESSION *, int, int);

extern int smtp_addr_find(SMTP_DEST *, DNS_ADDR_LIST *, SMTP_WHY *, int *);
extern int smtp_dest_parse(SMTP_DEST *, const char *);
extern void smtp_dest_free(SMTP_DEST *);

/* posttls-finger: what the client would do for a destination. */
#define SMTP_PROBE_FLAG_CHAIN	(1<<0)	/* print the certificate chain */
#define SMTP_PROBE_FLAG_ALL	(1<<1)	/* every server, not only the first good one */
extern int smtp_client_probe(const char *, const char *, int, VSTREAM *);
extern SMTP_SESSION *smtp_turn_session(VSTREAM *, const char *, const char *, int);
extern int smtp_turn_handshake(SMTP_SESSION *, SMTP_WHY *);
extern int smtp_turn_deliver(SMTP_SESSION *, DELIVER_REQUEST *);
extern void smtp_turn_end(SMTP_SESSION *, int);
extern int smtp_sasl_lookup(SMTP_STATE *, const char *);
extern int smtp_sasl_authenticate(SMTP_SESSION *, const char *, const char *, SMTP_WHY *);
extern void smtp_sasl_init(void);
extern const char *smtp_sasl_choose(SMTP_SESSION *, SMTP_WHY *);
extern const char *smtp_param_str(const char *smtp_name);
extern int smtp_param_time(const char *smtp_name);
extern int smtp_param_int(const char *smtp_name);
extern int smtp_param_bool(const char *smtp_name);
extern int smtp_param_bool_soft(const char *smtp_name);
extern const char *smtp_param_name(const char *smtp_name);
extern int smtp_param_time_soft(const char *smtp_name, int dflt);

#define VSTREAM_BUFSIZE_HINT	8192
#define SMTP_BODY_BUFSIZE	(64 * 1024)	/* message body I/O */

#endif
