/*
 * NAME
 *	deliver_request - what qmgr asks a delivery agent, and the answers
 * SYNOPSIS
 *	Agent side:
 *	DELIVER_REQUEST *deliver_request_read(VSTREAM *qmgr_stream);
 *	void deliver_request_free(DELIVER_REQUEST *req);
 *	void deliver_result(DELIVER_REQUEST *req, size_t rcpt_index,
 *			    const DSN_RESULT *result);
 *	int deliver_request_done(VSTREAM *qmgr_stream, DELIVER_REQUEST *req);
 *	void deliver_log(const DELIVER_REQUEST *req, const RECIPIENT *rcpt,
 *			 const DSN_RESULT *result);
 *
 *	qmgr side:
 *	int deliver_request_send(VSTREAM *agent_stream, const DELIVER_REQUEST *req);
 *	int deliver_reply_read(VSTREAM *agent_stream, DELIVER_REQUEST *req);
 *
 *	void deliver_format_delay(VSTRING *buf, double seconds);
 * DESCRIPTION
 *	qmgr connects to private/<transport> and sends one request (attr.h
 *	on the wire): the message (queue name, queue ID, offset and size of
 *	the M record data), the envelope (sender, DSN ENVID/RET, arrival
 *	time, client attributes), the nexthop and the recipients of one
 *	destination, each with its R record offset, address, original
 *	address, DSN NOTIFY and ORCPT.
 *
 *	The agent opens the queue file read-only itself (its cwd is the
 *	queue directory), delivers, fills in each recipient's DSN_RESULT
 *	with deliver_result(), logs each with deliver_log() (Postfix's
 *	"QID: to=<...>, orig_to=<...>, relay=host[ip]:port, delay=0.1,
 *	delays=a/b/c/d, dsn=2.0.0, status=sent (250 ...)" line), and sends
 *	all results back with deliver_request_done(). qmgr records them:
 *	'd' delivered and 'f' failed recipients are marked done in the
 *	queue file (failed ones are first logged in bounce/ for the bounce
 *	service), 'x' deferred ones stay and the message goes to deferred/.
 *
 *	DEL_REQ_FLAG_VERIFY asks for an address probe: the agent stops
 *	after the RCPT reply (never DATA) and reports what it would have
 *	done. DEL_REQ_FLAG_RECORD is for the verify service's learning:
 *	qmgr sets it for relay_domains recipients when
 *	address_verify_learn_deliveries is on. With either flag,
 *	deliver_request_done() first sends the results to the verify
 *	service (verify_clnt_record(): every result of a probe, the 2xx
 *	ones of a learning delivery; a learning delivery whose delivered
 *	recipients the same agent process reported within
 *	address_verify_positive_refresh_time is not reported again), and deliver_log() says
 *	"status=deliverable" / "status=undeliverable" for probes, as
 *	Postfix does. qmgr marks a probe's recipients done whatever the
 *	result, writes no bounce or defer log for them, and removes the
 *	probe (queue file attribute verify=1).
 *
 *	DEL_REQ_FLAG_USER_VERIFY is sendmail -bv (queue file attribute
 *	user_verify=1): the agent works as for a probe (stops after the RCPT
 *	reply, logs "status=deliverable" / "status=undeliverable") but
 *	tells the verify service nothing; qmgr puts every result in the
 *	message's trace/ log, and the sender gets the delivery status report
 *	of bounce(8). DEL_REQ_TRACE_ONLY(flags) is true for either kind of
 *	probe: nothing is delivered.
 *
 *	On the wire (attr.h lists), with the DELIVER_ATTR_* names below:
 *
 *	Request, qmgr to agent, one list: flags queue_name queue_id
 *	data_offset data_size nexthop transport sender dsn_envid dsn_ret
 *	client_name client_address helo_name sasl_username arrival_time
 *	active_time rcpt_count, then one group per recipient, "recipient"
 *	opening it: recipient original_recipient offset dsn_notify
 *	dsn_orig_rcpt. queue_name, queue_id (letters and digits: the agent
 *	opens queue_name/queue_id) and at least one recipient are
 *	required; the others default to empty or 0.
 *
 *	Reply, agent to qmgr, one list: one group per recipient that has a
 *	result, "rcpt_index" (its place in the request) opening it:
 *	rcpt_index dsn_status dsn_action (d, x or f) reason relay
 *	[remote_mta] [diag] conn_setup xmit conn_reuse [dsn_flags]; then
 *	[hop_status hop_reason] [more_requests] status=0 (ATTR_NAME_STATUS).
 *
 *	hop_status (a 4.X.Y code) and hop_reason say that the agent could
 *	not reach the destination at all (no server answered, or none got
 *	past the greeting and EHLO): qmgr's concurrency feedback counts a
 *	failure at the site. With DEL_REQ_FLAG_SITE_RETRY in the request,
 *	when a server answered and refused the session (a site that is up
 *	but limits its sessions), the agent then leaves the recipients
 *	without a result (and does not log them): qmgr puts them back in the destination's queue and
 *	sends them again, on a session that works, as long as the
 *	destination is not dead (see qmgr(8)). Without the flag the agent
 *	settles them as deferred, as Postfix's agents do.
 *
 *	more_requests=1 says that the agent reads another request on the
 *	same connection once it has sent this reply: qmgr may keep the
 *	connection, and with it the agent's cached session to the
 *	destination, for the next delivery to the same destination. An
 *	agent that does not say so serves one request per connection.
 *
 *	Both sides read with attr_scan() tables: names a reader does not
 *	know are skipped; numbers, indexes, status codes and lengths are
 *	checked, and a list that fails is refused whole.
 */
#ifndef DELIVER_REQUEST_H
#define DELIVER_REQUEST_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstream.h"

/* Request: the message and its envelope. */
#define DELIVER_ATTR_FLAGS		"flags"
#define DELIVER_ATTR_QUEUE_NAME		"queue_name"
#define DELIVER_ATTR_QUEUE_ID		"queue_id"
#define DELIVER_ATTR_DATA_OFFSET	"data_offset"
#define DELIVER_ATTR_DATA_SIZE		"data_size"
#define DELIVER_ATTR_NEXTHOP		"nexthop"
#define DELIVER_ATTR_TRANSPORT		"transport"
#define DELIVER_ATTR_SENDER		"sender"
#define DELIVER_ATTR_DSN_ENVID		"dsn_envid"
#define DELIVER_ATTR_DSN_RET		"dsn_ret"
#define DELIVER_ATTR_CLIENT_NAME	"client_name"
#define DELIVER_ATTR_CLIENT_ADDR	"client_address"
#define DELIVER_ATTR_HELO_NAME		"helo_name"
#define DELIVER_ATTR_SASL_USERNAME	"sasl_username"
#define DELIVER_ATTR_ARRIVAL_TIME	"arrival_time"
#define DELIVER_ATTR_ACTIVE_TIME	"active_time"
#define DELIVER_ATTR_RCPT_COUNT		"rcpt_count"

/* Request: one group per recipient, opened by DELIVER_ATTR_RECIPIENT. */
#define DELIVER_ATTR_RECIPIENT		"recipient"
#define DELIVER_ATTR_ORIG_RCPT		"original_recipient"
#define DELIVER_ATTR_OFFSET		"offset"
#define DELIVER_ATTR_DSN_NOTIFY		"dsn_notify"
#define DELIVER_ATTR_DSN_ORCPT		"dsn_orig_rcpt"

/* Reply: one group per result, opened by DELIVER_ATTR_RCPT_INDEX. */
#define DELIVER_ATTR_RCPT_INDEX		"rcpt_index"
#define DELIVER_ATTR_DSN_STATUS		"dsn_status"
#define DELIVER_ATTR_DSN_ACTION		"dsn_action"
#define DELIVER_ATTR_REASON		"reason"
#define DELIVER_ATTR_RELAY		"relay"
#define DELIVER_ATTR_REMOTE_MTA		"remote_mta"
#define DELIVER_ATTR_DIAG		"diag"
#define DELIVER_ATTR_CONN_SETUP		"conn_setup"
#define DELIVER_ATTR_XMIT		"xmit"
#define DELIVER_ATTR_CONN_REUSE		"conn_reuse"
#define DELIVER_ATTR_DSN_FLAGS		"dsn_flags"

/* Reply: the destination could not be reached; another request is welcome. */
#define DELIVER_ATTR_HOP_STATUS		"hop_status"
#define DELIVER_ATTR_HOP_REASON		"hop_reason"
#define DELIVER_ATTR_MORE		"more_requests"

/* At most this many recipients in one request. */
#define DELIVER_RCPT_MAX	20000

typedef struct DSN_RESULT {
    char    status[16];			/* "2.0.0", "4.4.1", "5.1.1" */
    int     action;			/* 'd' delivered, 'x' deferred, 'f' failed */
    char   *reason;			/* "250 2.0.0 Ok: queued as X", or why */
    char   *relay;			/* "host[addr]:port", or "none" */
    char   *remote_mta;			/* for Remote-MTA: host name, or NULL */
    char   *diag;			/* for Diagnostic-Code: the server reply */
    double  conn_setup;			/* seconds: delays=.../c/... */
    double  xmit;			/* seconds: delays=.../.../d */
    int     conn_reuse;			/* conn_use=N when > 1 */
    int     flags;			/* DSN_RESULT_FLAG_* (wire: dsn_flags) */
} DSN_RESULT;

/*
 * NEXT_HOP_DSN: the server that took a 'd' recipient announced DSN (the
 * NOTIFY parameters went on; it reports success itself). FINAL: a final
 * delivery (LMTP, local) rather than a relay. qmgr uses them for success
 * notices (bounce_client.h).
 */
#define DSN_RESULT_FLAG_NEXT_HOP_DSN	(1<<0)
#define DSN_RESULT_FLAG_FINAL		(1<<1)

/*
 * RECIPIENT: the result is about this recipient only (a mailbox that is
 * locked, a user's command that failed), not about the destination: qmgr
 * takes it as no sign that the destination is down (local, pipe).
 */
#define DSN_RESULT_FLAG_RECIPIENT	(1<<2)

typedef struct RECIPIENT {
    off_t   offset;			/* of the R record, for marking done */
    char   *address;
    char   *orig_addr;			/* before aliasing, or "" */
    int     dsn_notify;			/* DSN_NOTIFY_* of queue_file.h */
    char   *dsn_orcpt;			/* "rfc822;..." or "" */
    DSN_RESULT result;			/* filled in by the agent */
    int     have_result;
} RECIPIENT;

#define DEL_REQ_FLAG_VERIFY	(1<<0)	/* probe: stop after RCPT */
#define DEL_REQ_FLAG_RECORD	(1<<1)	/* learn deliveries (verify cache) */
#define DEL_REQ_FLAG_USER_VERIFY (1<<2)	/* sendmail -bv: stop after RCPT */
#define DEL_REQ_FLAG_SITE_RETRY	(1<<3)	/* unreached site: qmgr retries */

#define DEL_REQ_TRACE_ONLY(f)	((f) & (DEL_REQ_FLAG_VERIFY | DEL_REQ_FLAG_USER_VERIFY))

typedef struct DELIVER_REQUEST {
    char   *queue_name;
    char   *queue_id;
    off_t   data_offset;		/* start of the M record data */
    off_t   data_size;			/* message size */
    char   *sender;
    char   *nexthop;			/* "example.com", "[host]:port", "unix:/path" */
    char   *transport;			/* master.cf service name, for logs */
    char   *dsn_envid;
    int     dsn_ret;			/* 0, DSN_RET_FULL, DSN_RET_HDRS */
    char   *client_name;
    char   *client_addr;
    char   *helo_name;
    char   *sasl_username;
    double  arrival_time;		/* epoch seconds, for delay= */
    double  active_time;		/* when qmgr took it: delays=a/b */
    int     flags;			/* DEL_REQ_FLAG_* */
    RECIPIENT *rcpt;
    size_t  rcpt_count;
    char   *hop_status;			/* reply: site not reached, "4.4.1" */
    char   *hop_reason;			/* reply: why, in the log's words */
    int     more;			/* reply: the agent reads another request */
} DELIVER_REQUEST;

#define DSN_RET_FULL	1
#define DSN_RET_HDRS	2

extern DELIVER_REQUEST *deliver_request_read(VSTREAM *);
extern void deliver_request_free(DELIVER_REQUEST *);
extern void deliver_result(DELIVER_REQUEST *, size_t, const DSN_RESULT *);
extern int deliver_request_done(VSTREAM *, DELIVER_REQUEST *);
extern void deliver_log(const DELIVER_REQUEST *, const RECIPIENT *, const DSN_RESULT *);
extern int deliver_request_send(VSTREAM *, const DELIVER_REQUEST *);
extern int deliver_reply_read(VSTREAM *, DELIVER_REQUEST *);

/* Postfix's delay notation ("0.08", "1.2", "12"), appended to buf. */
extern void deliver_format_delay(VSTRING *, double);

#endif
