/*
 * NAME
 *	local.h - what the parts of the local delivery agent share
 * SYNOPSIS
 *	#include "local.h"
 * DESCRIPTION
 *	local.c reads the request and settles each recipient;
 *	local_recipient.c decides what one address means (Delivered-To
 *	loop, alias, .forward, mailbox, unknown user); local_alias.c,
 *	local_dotforward.c and local_include.c expand aliases(5),
 *	~/.forward and :include: files into destinations, which
 *	local_token.c sends on (local_resolve.c: to this agent again or,
 *	through local_forward.c, into a new message); local_mailbox.c,
 *	local_maildir.c, local_file.c and local_command.c do the final
 *	deliveries; local_privs.c switches effective ids; local_status.c
 *	records and logs outcomes.
 */
#ifndef LOCAL_H
#define LOCAL_H
#include <sys/types.h>
#include <pwd.h>
#include "util/vstream.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "util/argv.h"
#include "dict/maps.h"
#include "global/deliver_request.h"
#include "global/mbox_open.h"
#include "global/delivered_hdr.h"

/*
 * Configuration, read once by local.c.
 */
typedef struct LOCAL_CONF {
    MAPS   *alias_maps;			/* NULL when alias_maps is empty */
    MAPS   *mbox_cmd_maps;		/* mailbox_command_maps, or NULL */
    int     cmd_mask;			/* allow_mail_to_commands: EXPAND_TYPE_* */
    int     file_mask;			/* allow_mail_to_files */
    int     deliver_hdr_mask;		/* prepend_delivered_header: DELIVER_HDR_* */
    int     lock_mask;			/* mailbox_delivery_lock: MBOX_LOCK_* */
    uid_t   owner_uid;			/* mail_owner */
    gid_t   owner_gid;
    uid_t   privs_uid;			/* default_privs */
    gid_t   privs_gid;
    int     privileged;			/* started as root: we can switch ids */
    long    mailbox_limit;		/* mailbox_size_limit, 0 = none */
    long    dup_limit;			/* duplicate_filter_limit */
    long    command_time_limit;
    int     biff;
    const char *myorigin;
    const char *delimiter;		/* recipient_delimiter */
    const char *service;		/* master.cf name: "local" */
} LOCAL_CONF;

extern LOCAL_CONF local_conf;

#define EXPAND_TYPE_ALIAS	(1<<0)
#define EXPAND_TYPE_FWD		(1<<1)
#define EXPAND_TYPE_INCL	(1<<2)

#define DELIVER_HDR_CMD		(1<<0)
#define DELIVER_HDR_FILE	(1<<1)
#define DELIVER_HDR_FWD		(1<<2)

/*
 * One message being forwarded: the recipients that aliases, .forward
 * and :include: files sent elsewhere, per envelope sender.
 */
typedef struct LOCAL_FWD_RCPT {
    char   *address;
    char   *orig;			/* or NULL */
    int     notify;
    char   *orcpt;			/* or NULL */
    size_t  top;			/* request recipient it came from */
} LOCAL_FWD_RCPT;

typedef struct LOCAL_FWD {
    char   *sender;
    char   *delivered;			/* Delivered-To: of the copy, or NULL */
    LOCAL_FWD_RCPT *rcpt;
    size_t  count;
    size_t  cap;
    struct LOCAL_FWD *next;
} LOCAL_FWD;

/*
 * The outcome of one request recipient, over everything it expanded to.
 */
typedef struct LOCAL_TOP {
    RECIPIENT *rcpt;			/* in the request */
    size_t  index;
    int     sent;			/* final deliveries that worked */
    int     final;			/* one of them was final (not a forward) */
    int     bounced;			/* failures, logged and recorded */
    int     deferred;			/* temporary failures */
    DSN_RESULT defer;			/* the first temporary failure */
    DSN_RESULT bounce;			/* a probe's first failure */
    DSN_RESULT ok;			/* the first success */
} LOCAL_TOP;

/*
 * The message: the request and what every recipient shares.
 */
typedef struct LOCAL_MSG {
    DELIVER_REQUEST *req;
    VSTREAM *fp;			/* the queue file, read only */
    DELIVERED_HDR *hdr;			/* Delivered-To: addresses, Message-ID */
    HTABLE *dup_filter;			/* delivered already, this recipient */
    size_t  dup_count;
    LOCAL_FWD *forward;			/* messages to forward */
    LOCAL_TOP *top;			/* per request recipient */
    char   *protocol;			/* from the queue file: SMTP, ESMTP */
    char   *client_port;
} LOCAL_MSG;

/*
 * The delivery privileges and the attributes of a user, when a user is
 * known (a .forward, a passwd entry) or a file lends its owner.
 */
typedef struct LOCAL_USER {
    uid_t   uid;
    gid_t   gid;
    const char *home;			/* NULL: no user context */
    const char *shell;
    const char *logname;		/* user name for $USER, or NULL */
} LOCAL_USER;

/*
 * One address being delivered, at any depth of the expansion.
 */
typedef struct LOCAL_STATE {
    LOCAL_MSG *msg;
    LOCAL_TOP *top;
    int     level;			/* expansion depth */
    const char *address;		/* internal form, as given */
    const char *orig;			/* orig_to / X-Original-To */
    const char *delivered;		/* Delivered-To: */
    const char *sender;			/* envelope sender, internal form */
    int     sender_changed;		/* an owner- alias set the sender */
    int     exp_type;			/* where address came from */
    const char *exp_from;		/* the alias or user it came from */
    const char *owner;			/* owner- alias in effect, or NULL */
    LOCAL_USER usr;			/* delivery privileges and attributes */
    /* The address taken apart (local_recipient_split). */
    char   *local;			/* local part, lower case */
    char   *user;			/* local part without extension */
    char   *extension;			/* or NULL */
    char   *domain;			/* lower case, may be "" */
    int     delim;			/* the delimiter found, or 0 */
} LOCAL_STATE;

#define LOCAL_MAX_LEVEL	100		/* alias and include nesting */

/* local_status.c */
extern void local_status_sent(LOCAL_STATE *, const char *, int, const char *, ...)
	__attribute__((format(printf, 4, 5)));
extern void local_status_bounce(LOCAL_STATE *, const char *, const char *, const char *, ...)
	__attribute__((format(printf, 4, 5)));
extern void local_status_defer(LOCAL_STATE *, const char *, const char *, ...)
	__attribute__((format(printf, 3, 4)));
extern void local_status_finish(LOCAL_MSG *, size_t);
extern int local_been_here(LOCAL_MSG *, const char *, const char *);

/* local_privs.c */
extern void local_privs_init(void);
extern void local_privs_set(uid_t, gid_t);
extern void local_privs_restore(void);
extern void local_user_privs(LOCAL_STATE *, uid_t *, gid_t *);

/* local_recipient.c */
extern void local_deliver_recipient(LOCAL_STATE *);
extern void local_state_split(LOCAL_STATE *);
extern void local_state_free(LOCAL_STATE *);
extern void local_state_child(LOCAL_STATE *, const LOCAL_STATE *, const char *);
extern const char *local_attr_lookup(const char *, void *);

/* local_alias.c */
extern int local_deliver_alias(LOCAL_STATE *);

/* local_dotforward.c */
extern int local_deliver_dotforward(LOCAL_STATE *, const struct passwd *);

/* local_include.c */
extern void local_deliver_include(LOCAL_STATE *, const char *);

/* local_token.c */
extern int local_deliver_list(LOCAL_STATE *, const char *);
extern int local_deliver_stream(LOCAL_STATE *, VSTREAM *, const char *);

/* local_resolve.c */
extern void local_deliver_address(LOCAL_STATE *, const char *);
extern void local_canonical(VSTRING *, const char *);

/* local_forward.c */
extern void local_forward_append(LOCAL_STATE *, const char *, int);
extern void local_forward_finish(LOCAL_MSG *);
extern void local_forward_init(void);

/* local_mailbox.c */
extern void local_deliver_mailbox(LOCAL_STATE *, const struct passwd *);

extern int local_mbox_append(LOCAL_STATE *, MBOX *, int, VSTRING *, char *);

/* local_maildir.c */
extern int local_maildir(LOCAL_STATE *, const char *, int, VSTRING *, char *);

/* local_file.c */
extern void local_deliver_file(LOCAL_STATE *, const char *);

/* local_command.c */
extern void local_deliver_command(LOCAL_STATE *, const char *, int);

#endif
