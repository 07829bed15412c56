/*
 * NAME
 *	smtpd.h - the state of one SMTP session, shared by smtpd's files
 * SYNOPSIS
 *	#include "smtpd.h"
 * DESCRIPTION
 *	SMTPD_STATE holds everything one session knows: the client, the
 *	HELO name, the current transaction (sender, recipients, the open
 *	queue file), counters for the disconnect log line, and the reply
 *	that the restrictions engine produced.
 *
 *	The var_* globals are smtpd's parameters, read once per process
 *	by smtpd_params_init() (smtpd_proto.c) from the one parameter
 *	table.
 *
 *	Files: smtpd.c (main), smtpd_proto.c (command loop, replies,
 *	HELO/EHLO/RSET/NOOP/QUIT/VRFY), smtpd_guard.c (what the command
 *	loop refuses before a command runs: improper pipelining, junk,
 *	forbidden and non-SMTP commands, smtpd_command_filter,
 *	smtpd_noop_commands, over-long lines; text made safe for logs and
 *	replies), smtpd_idle.c (waiting for a command; idle clients give
 *	up their process when others wait), smtpd_envelope.c (MAIL, RCPT),
 *	smtpd_data.c (DATA; the message pipeline into the queue file that
 *	DATA and BDAT share), smtpd_bdat.c (BDAT, RFC 3030), smtpd_xclient.c
 *	(XCLIENT, XFORWARD), smtpd_check.c (access
 *	policy), smtpd_addr.c (address syntax), smtpd_peer.c (client
 *	names), smtpd_tls.c (STARTTLS), smtpd_etrn.c (ETRN),
 *	smtpd_limit.c (connections, connection/message/recipient/TLS
 *	rates per client, shared by all smtpd processes), smtpd_forward.c
 *	(virtual aliases, SRS bounces, reject_unverified_recipient/sender),
 *	smtpd_policy.c (check_policy_service), smtpd_dnscheck.c (DNS lists
 *	and host name checks; smtpd_check.h is the access policy's inside),
 *	smtpd_content.c (header_checks, body_checks), smtpd_milter.c
 *	(smtpd_milters), smtpd_proxy.c (smtpd_proxy_filter), smtpd_sasl.c
 *	(AUTH, permit_sasl_authenticated, the sender login checks),
 *	smtpd_expand.c ($name attributes of reply templates,
 *	smtpd_reject_footer), smtpd_notify.c (the session transcript and
 *	the postmaster notices of notify_classes).
 *	Domain and network lists come from lib/dict/match_list.c, tables from
 *	lib/dict/maps.c.
 */
#ifndef SMTPD_H
#define SMTPD_H
#include <sys/types.h>
#include "util/vstring.h"
#include "util/argv.h"
#include "util/vstream.h"
#include "global/queue_writer.h"
#include "global/milter.h"
#include "global/input_transp.h"
#include "global/hbc.h"
#include "global/addr_rewrite.h"
#include "tls/tls_info.h"

/* Commands, in Postfix's order for the disconnect log line. */
enum {
    SMTPD_CMD_HELO, SMTPD_CMD_EHLO, SMTPD_CMD_XCLIENT, SMTPD_CMD_XFORWARD,
    SMTPD_CMD_STARTTLS, SMTPD_CMD_AUTH,
    SMTPD_CMD_MAIL, SMTPD_CMD_RCPT, SMTPD_CMD_DATA, SMTPD_CMD_BDAT,
    SMTPD_CMD_RSET, SMTPD_CMD_NOOP, SMTPD_CMD_VRFY, SMTPD_CMD_ETRN,
    SMTPD_CMD_QUIT, SMTPD_CMD_UNKNOWN, SMTPD_CMD_COUNT
};

/* XFORWARD attributes, for logs and the queue file (not for access). */
typedef struct SMTPD_XFORWARD {
    char   *name;			/* NAME, or NULL */
    char   *addr;			/* ADDR */
    char   *port;			/* PORT */
    char   *proto;			/* PROTO */
    char   *helo;			/* HELO */
    char   *ident;			/* IDENT (original queue ID) */
    char   *source;			/* SOURCE: "local" or "remote" */
} SMTPD_XFORWARD;

struct SMTPD_MSG;			/* a message being stored (smtpd_data.c) */

/* smtpd_forbid_bare_newline */
#define SMTPD_BARE_LF_NORMALIZE	0	/* no, normalize, yes */
#define SMTPD_BARE_LF_NOTE	1
#define SMTPD_BARE_LF_REJECT	2

typedef struct SMTPD_STATE {
    VSTREAM *client;
    /* Client identity. */
    char   *name;			/* verified host name or "unknown" */
    char   *reverse_name;		/* PTR name, verified or not, or "unknown" */
    char   *addr;			/* printable address */
    char   *port;
    char   *namaddr;			/* name[addr] */
    char   *rfc_addr;			/* addr or IPv6:addr */
    int     bare_lf_mode;		/* SMTPD_BARE_LF_* for this client */
    int     xclient_ok;			/* in smtpd_authorized_xclient_hosts */
    int     xforward_ok;		/* in smtpd_authorized_xforward_hosts */
    SMTPD_XFORWARD xforward;		/* until the end of the transaction */
    /* Session. */
    char   *helo_name;
    const char *protocol;		/* SMTP, ESMTP */
    const char *where;			/* command being served, for logs */
    int     tls;			/* TLS is active */
    TLS_INFO *tls_info;			/* what the TLS session is, or NULL */
    int     error_count;
    int     junk_cmds;			/* NOOP, VRFY, ETRN, RSET since the last mail */
    int     pipelining;			/* PIPELINING was offered (EHLO) */
    int     cmd_total[SMTPD_CMD_COUNT];
    int     cmd_ok[SMTPD_CMD_COUNT];
    char   *access_denied;		/* refused at connect (delay_reject=no) */
    const char *ill_pipelining;		/* command after which the client
					 * pipelined where it may not */
    int     quit;			/* end the session */
    int     last_code;			/* code of the last reply */
    VSTRING *buffer;			/* the command line */
    VSTRING *reply;			/* restriction reply text */
    /* defer_if_permit and defer_if_reject (smtpd_check.c). */
    VSTRING *defer_if_permit;		/* this stage's, "" when none */
    VSTRING *defer_if_reject;		/* this stage's, "" when none */
    VSTRING *dip_client;		/* left by the client stage for RCPT */
    VSTRING *dip_helo;			/* left by the helo stage */
    VSTRING *dip_sender;		/* left by the sender stage */
    int     warn_if_reject;		/* log, do not reject (smtpd_check.c) */
    /* Transaction. */
    char   *sender;			/* NULL: no MAIL yet */
    char   *sender_given;		/* as the client gave it (no @$myorigin) */
    long    msg_size;			/* SIZE= */
    char   *dsn_envid;
    const char *dsn_ret;		/* FULL, HDRS or NULL */
    char   *recipient;			/* current RCPT, for logs and checks */
    char   *rcpt_given;			/* as the client gave it: reply texts */
    char   *first_rcpt;
    char   *last_rcpt;			/* last accepted, for content logs */
    int     rcpt_count;			/* accepted */
    int     rcpt_tried;			/* RCPT commands in this transaction */
    QUEUE_WRITER *qw;			/* open queue file */
    char   *policy_instance;		/* check_policy_service "instance" */
    ARGV   *prepend;			/* PREPEND headers, or NULL */
    char   *queue_id;
    long    data_bytes;			/* for "after DATA (N bytes)" */
    /* BDAT (smtpd_bdat.c). */
    struct SMTPD_MSG *msg;		/* message of a BDAT transaction */
    int     bdat_state;			/* SMTPD_BDAT_* */
    VSTRING *bdat_line;			/* the line that a chunk left open */
    int     bdat_bol;			/* the next byte starts a line */
    int     bdat_cr;			/* the last chunk ended in CR */
    /* Content inspection (smtpd_milter.c, smtpd_proxy.c). */
    MILTERS *milters;			/* smtpd_milters, or NULL */
    int     milter_banner;		/* CONNECT refused: reply is the banner */
    int     milter_hold;		/* this message goes on hold */
    int     milter_hold_session;	/* every message does (CONNECT, HELO) */
    int     milter_discard;		/* this message is discarded */
    char   *filter;			/* FILTER action: transport:nexthop */
    struct SMTPD_PROXY *proxy;		/* smtpd_proxy_filter session */
    /* SASL AUTH (smtpd_sasl.c). */
    struct SMTPD_SASL *sasl;		/* this session's SASL server */
    char   *sasl_method;		/* authenticated: the mechanism */
    char   *sasl_username;		/* authenticated: the login name */
    char   *sasl_sender;		/* MAIL FROM AUTH=, when authenticated */
    /* Transcript and postmaster notices (smtpd_notify.c). */
    ARGV   *history;			/* "In:  " and "Out: " lines */
    int     error_mask;			/* SMTPD_NOTIFY_* of this session's errors */
    int     reply_class;		/* class of state->reply, 0: policy */
    int     notify_next;		/* class of the next reply, 0: by its text */
    int     notify_eod;			/* the next reply ends a message */
    const char *notify_reason;		/* why the session ended early */
    int     rcpt_overshoot;		/* RCPTs past smtpd_recipient_limit */
} SMTPD_STATE;

/* Error classes of notify_classes, for smtpd_notify.c. */
#define SMTPD_NOTIFY_POLICY	(1<<0)
#define SMTPD_NOTIFY_PROTOCOL	(1<<1)
#define SMTPD_NOTIFY_RESOURCE	(1<<2)
#define SMTPD_NOTIFY_SOFTWARE	(1<<3)
#define SMTPD_NOTIFY_BOUNCE	(1<<4)
#define SMTPD_NOTIFY_NONE	(1<<8)	/* an error of no class */

#define SMTPD_BDAT_NONE		0	/* no BDAT in this transaction */
#define SMTPD_BDAT_ACTIVE	1	/* chunks are being stored */
#define SMTPD_BDAT_ERROR	2	/* discard chunks until LAST */

/* Parameters. */
extern char *var_myhostname;
extern char *var_smtpd_banner;
extern char *var_myorigin;
extern long var_message_size_limit;
extern long var_smtpd_rcpt_limit;
extern long var_line_length_limit;
extern long var_header_size_limit;
extern long var_smtpd_timeout;
extern long var_smtpd_hard_erlim;
extern long var_smtpd_soft_erlim;
extern long var_smtpd_err_sleep;
extern int var_disable_vrfy;
extern int var_soft_bounce;
extern long var_hopcount_limit;
extern int var_smtpd_delay_reject;
extern int var_strict_rfc821;
extern int var_resolve_null_domain;
extern int var_smtpd_helo_required;
extern char *var_bare_lf;
extern long var_bare_lf_code;
extern long var_queue_minfree;
extern char *var_tls_level;
extern char *var_discard_ehlo;
extern long var_conn_count_limit;
extern int var_peername_lookup;
extern long var_min_data_rate;
extern char *var_mail_name;
extern int var_smtpd_client_port_log;
extern int var_forbid_unauth_pipe;
extern long var_junk_cmd_limit;
extern long var_overload_idle;
extern int var_input_transp;		/* receive_override_options */
extern char *var_content_filter;
extern int var_show_unk_rcpt_table;
extern long var_smtpd_rcpt_overlim;

/* smtpd_proto.c */
extern void smtpd_params_init(void);
extern void smtpd_session(VSTREAM *, SMTPD_STATE *);
extern SMTPD_STATE *smtpd_state_alloc(VSTREAM *);
extern void smtpd_state_free(SMTPD_STATE *);
extern void smtpd_reply(SMTPD_STATE *, const char *, ...) __attribute__((format(printf, 2, 3)));
extern void smtpd_transaction_reset(SMTPD_STATE *);
extern int smtpd_read_line(SMTPD_STATE *, VSTRING *, int *);
extern void smtpd_log_reject(SMTPD_STATE *, const char *, const char *);
extern void smtpd_banner(SMTPD_STATE *);
extern void smtpd_lost(SMTPD_STATE *);

/* smtpd_notify.c */
extern void smtpd_notify_init(void);
extern void smtpd_notify_in(SMTPD_STATE *, const char *);
extern void smtpd_notify_reply(SMTPD_STATE *, const char *);
extern void smtpd_notify_class(SMTPD_STATE *, int);
extern void smtpd_notify_eod(SMTPD_STATE *);
extern void smtpd_notify_flush(SMTPD_STATE *);
extern void smtpd_notify_reason(SMTPD_STATE *, const char *);
extern void smtpd_notify_end(SMTPD_STATE *);

/* smtpd_guard.c */
#define SMTPD_GUARD_RUN		0	/* run the command */
#define SMTPD_GUARD_DONE	1	/* answered; the command does not run */
extern void smtpd_guard_init(void);
extern int smtpd_guard_line(SMTPD_STATE *, VSTRING *, int);
extern int smtpd_guard_noop(SMTPD_STATE *, const char *);
extern int smtpd_guard_unknown(SMTPD_STATE *, const char *, const char *);
extern int smtpd_guard_pipelining(SMTPD_STATE *, int);
extern int smtpd_guard_greeting(SMTPD_STATE *);
extern void smtpd_guard_junk(SMTPD_STATE *, int);
extern const char *smtpd_printable(VSTRING *, const char *);
extern const char *smtpd_escape(VSTRING *, const char *, size_t);

/* smtpd_idle.c */
extern int smtpd_idle_wait(SMTPD_STATE *);
extern void smtpd_log_action(SMTPD_STATE *, const char *, const char *, const char *);

/* smtpd_envelope.c */
extern void smtpd_mail_cmd(SMTPD_STATE *, char *);
extern void smtpd_rcpt_cmd(SMTPD_STATE *, char *);
extern char *smtpd_canonical_addr(const char *);

/* smtpd_data.c */
typedef struct SMTPD_MSG SMTPD_MSG;
#define SMTPD_MSG_NONE		0	/* smtpd_msg_text(): more of the line */
#define SMTPD_MSG_CRLF		1	/* the line ended in CRLF */
#define SMTPD_MSG_LF		2	/* the line ended in a bare LF */
extern void smtpd_data_cmd(SMTPD_STATE *, char *);
extern int smtpd_msg_accept(SMTPD_STATE *);
extern SMTPD_MSG *smtpd_msg_begin(SMTPD_STATE *);
extern void smtpd_msg_text(SMTPD_MSG *, const char *, size_t, int, int);
extern void smtpd_msg_finish(SMTPD_MSG *);
extern long smtpd_msg_size(SMTPD_MSG *);
extern void smtpd_msg_end(SMTPD_MSG *, int);
extern void smtpd_msg_free(SMTPD_MSG *);

/* smtpd_bdat.c */
extern void smtpd_bdat_cmd(SMTPD_STATE *, char *);

/* smtpd_xclient.c */
extern void smtpd_xclient_init(void);
extern void smtpd_xclient_authorize(SMTPD_STATE *);
extern void smtpd_xclient_cmd(SMTPD_STATE *, char *);
extern void smtpd_xforward_cmd(SMTPD_STATE *, char *);
extern void smtpd_xforward_reset(SMTPD_STATE *);
extern int smtpd_xforward_active(SMTPD_STATE *);

/* smtpd_content.c */
/* header_checks and body_checks: global/hbc.h, the state as its context */
typedef HBC SMTPD_CONTENT;

#define SMTPD_CONTENT_HEADER	HBC_HEADER
#define SMTPD_CONTENT_BODY	HBC_BODY

#define SMTPD_CONTENT_KEEP	HBC_KEEP	/* write the original */
#define SMTPD_CONTENT_DROP	HBC_DROP	/* write nothing */
#define SMTPD_CONTENT_PREPEND	HBC_PREPEND	/* write out, then the original */
#define SMTPD_CONTENT_REPLACE	HBC_REPLACE	/* write out instead */

extern void smtpd_content_init(void);
extern int smtpd_content_headers_active(void);
extern int smtpd_content_body_active(void);
extern void smtpd_content_begin(SMTPD_CONTENT *, SMTPD_STATE *);
extern int smtpd_content_check(SMTPD_CONTENT *, int, const char *, VSTRING *);
extern void smtpd_content_end(SMTPD_CONTENT *);
extern int smtpd_content_filter(SMTPD_STATE *, const char *);

/* smtpd_rewrite.c */
extern void smtpd_rewrite_init(void);
extern int smtpd_rewrite_active(int);
extern int smtpd_rewrite_envelope(SMTPD_STATE *, int, const char *, VSTRING *);
extern int smtpd_rewrite_header(int, const char *, size_t, VSTRING *);
extern int smtpd_rewrite_drop_header(const char *, size_t);
extern int smtpd_rewrite_drop_active(void);

/* smtpd_addr.c */
extern int smtpd_addr_extract(const char *, VSTRING *, char **);
extern int smtpd_addr_envelope(const char *, VSTRING *, char **);
extern const char *smtpd_addr_domain(const char *);
extern int smtpd_addr_routed(const char *);
extern int smtpd_addr_fqdn(const char *);
extern int smtpd_valid_hostname(const char *);
extern int smtpd_xtext_decode(const char *, VSTRING *);

/* smtpd_expand.c */
typedef struct SMTPD_EXPAND_ATTR {
    const char *recipient;		/* $recipient, or NULL */
    /* More names: their value, or NULL when not one of them. */
    const char *(*lookup) (const char *name, void *context);
    void   *context;
} SMTPD_EXPAND_ATTR;

extern void smtpd_expand_init(void);
extern void smtpd_expand(SMTPD_STATE *, const char *, VSTRING *, const SMTPD_EXPAND_ATTR *);
extern void smtpd_expand_footer(SMTPD_STATE *, VSTRING *);

/* smtpd_peer.c */
extern void smtpd_peer_init(SMTPD_STATE *, int);
extern void smtpd_peer_policy(SMTPD_STATE *);
extern void smtpd_peer_stress(void);

/* smtpd_check.c */
#define SMTPD_CHECK_OK		0
#define SMTPD_CHECK_REJECT	1
extern void smtpd_check_init(void);
extern int smtpd_check_client(SMTPD_STATE *);
extern int smtpd_check_helo(SMTPD_STATE *);
extern int smtpd_check_mail(SMTPD_STATE *);
extern int smtpd_check_rcpt(SMTPD_STATE *);
extern int smtpd_check_etrn(SMTPD_STATE *, const char *);
extern int smtpd_check_data(SMTPD_STATE *);
extern void smtpd_log_reject_warning(SMTPD_STATE *, const char *);
extern void smtpd_log_permit(SMTPD_STATE *, const char *);
extern int smtpd_check_eod(SMTPD_STATE *);
extern int smtpd_check_queue_space(SMTPD_STATE *, long);
extern int smtpd_check_mynetworks(SMTPD_STATE *);
extern int smtpd_check_bare_lf_exempt(SMTPD_STATE *);
extern int smtpd_check_event_exempt(SMTPD_STATE *);
extern int smtpd_check_fast_flush(const char *);
extern int smtpd_check_rewrite_client(SMTPD_STATE *);

/* smtpd_policy.c */
extern int smtpd_policy_query(SMTPD_STATE *, const char *, const char *, VSTRING *);

/* smtpd_tls.c */
extern void smtpd_tls_init(void);
extern int smtpd_tls_offered(SMTPD_STATE *);
extern int smtpd_tls_required(SMTPD_STATE *);
extern int smtpd_tls_wrapper(SMTPD_STATE *);
extern void smtpd_starttls_cmd(SMTPD_STATE *, char *);
extern int smtpd_tls_abort(SMTPD_STATE *);
extern void smtpd_tls_received(SMTPD_STATE *, VSTRING *);
extern void smtpd_tls_end(SMTPD_STATE *);
extern int smtpd_tls_permit_ccert(SMTPD_STATE *, int);

/* smtpd_sasl.c (and smtpd_check.h for the restrictions) */
extern void smtpd_sasl_init(void);
extern void smtpd_sasl_ehlo(SMTPD_STATE *, VSTRING *);
extern void smtpd_sasl_auth_cmd(SMTPD_STATE *, char *);
extern void smtpd_sasl_reset(SMTPD_STATE *);
extern void smtpd_sasl_mail_auth(SMTPD_STATE *, const char *);
extern const char *smtpd_sasl_log_info(SMTPD_STATE *);
extern void smtpd_sasl_queue_attrs(SMTPD_STATE *, QUEUE_WRITER *);
extern const char *smtpd_sasl_protocol(SMTPD_STATE *, const char *);
extern void smtpd_sasl_received(SMTPD_STATE *, VSTRING *);

/* smtpd_etrn.c */
extern void smtpd_etrn_cmd(SMTPD_STATE *, char *);

/* smtpd_limit.c */
extern void smtpd_limit_init(void);
extern int smtpd_limit_connect(SMTPD_STATE *);
extern void smtpd_limit_disconnect(void);
extern int smtpd_limit_message(SMTPD_STATE *);
extern int smtpd_limit_rcpt(SMTPD_STATE *);
extern int smtpd_limit_newtls(SMTPD_STATE *);
extern int smtpd_limit_auth(SMTPD_STATE *);

/* smtpd_forward.c */
#define SMTPD_FWD_DUNNO		0
#define SMTPD_FWD_OK		1
#define SMTPD_FWD_REJECT	2
#define SMTPD_FWD_DEFER_IF_PERMIT 3	/* reply held until the lists permit */
extern void smtpd_forward_init(void);
extern int smtpd_forward_destination(SMTPD_STATE *);
extern int smtpd_forward_rcpt_check(SMTPD_STATE *);
extern int smtpd_forward_unlisted(SMTPD_STATE *);
extern int smtpd_forward_unverified(SMTPD_STATE *, const char *, int);
extern int smtpd_forward_expand(SMTPD_STATE *);
extern int smtpd_forward_write_rcpt(SMTPD_STATE *, int, const char *);
extern int smtpd_forward_open_bcc(SMTPD_STATE *, const char *);

/* smtpd_milter.c */
extern void smtpd_milter_init(void);
extern void smtpd_milter_connect(SMTPD_STATE *);
extern int smtpd_milter_helo(SMTPD_STATE *);
extern int smtpd_milter_mail(SMTPD_STATE *, const char *, const char *);
extern int smtpd_milter_rcpt(SMTPD_STATE *, const char *, const char *);
extern int smtpd_milter_data(SMTPD_STATE *);
extern int smtpd_milter_unknown(SMTPD_STATE *, const char *);
extern int smtpd_milter_message(SMTPD_STATE *, QUEUE_WRITER *, int);
extern void smtpd_milter_abort(SMTPD_STATE *);
extern void smtpd_milter_disconnect(SMTPD_STATE *);

/* smtpd_proxy.c */
extern void smtpd_proxy_init(void);
extern int smtpd_proxy_active(void);
extern int smtpd_proxy_mail(SMTPD_STATE *, const char *, const char *);
extern int smtpd_proxy_rcpt(SMTPD_STATE *, const char *, const char *);
extern int smtpd_proxy_data(SMTPD_STATE *);
extern int smtpd_proxy_message(SMTPD_STATE *, QUEUE_WRITER *);
extern void smtpd_proxy_close(SMTPD_STATE *);

#endif
