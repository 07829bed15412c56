/*
 * NAME
 *	verify_clnt - client of the address verification service
 * SYNOPSIS
 *	int verify_clnt_query(const char *addr, int *addr_status, VSTRING *why);
 *	int verify_clnt_update(const char *addr, int addr_status, const char *why);
 *	int verify_clnt_record(const DELIVER_REQUEST *req);
 *	const char *verify_addr_status_name(int addr_status);
 *
 *	Service side:
 *	int verify_request_read(VSTREAM *client, VERIFY_REQUEST *req,
 *				VSTRING *why);
 *	void verify_request_free(VERIFY_REQUEST *req);
 *	int verify_query_reply(VSTREAM *client, int addr_status,
 *			       const char *reason);
 * DESCRIPTION
 *	Requests to private/verify (address_verify_service_name) as
 *	attr.h lists, with ipc_timeout for the exchange; several may come
 *	on one connection. The names are ATTR_NAME_REQUEST,
 *	ATTR_NAME_STATUS and the VERIFY_ATTR_* below:
 *
 *	request=query address=ADDR
 *	    reply: status=0 addr_status=N reason=TEXT
 *	request=update address=ADDR addr_status=N reason=TEXT
 *	    reply: status=0
 *
 *	A status other than 0 is a failure: 1 the cache could not be
 *	used, 2 a malformed request (the service then hangs up).
 *
 *	verify_clnt_query() asks what is known about an address: one of
 *	VERIFY_ADDR_OK (deliverable), VERIFY_ADDR_DEFER (the last probe
 *	failed temporarily; why says how), VERIFY_ADDR_BOUNCE (undeliverable;
 *	why holds the remote reply, e.g. "host H[A] said: 550 5.1.1 ... (in
 *	reply to RCPT TO command)"), VERIFY_ADDR_TODO (unknown: a probe is
 *	on its way; ask again after address_verify_poll_delay). The service
 *	sends the probe itself when the address is unknown or due for a
 *	refresh.
 *
 *	verify_clnt_update() stores a result: the delivery agents call it
 *	for probes (DEL_REQ_FLAG_VERIFY) and, when learning deliveries, for
 *	every 2xx to a relay_domains recipient (DEL_REQ_FLAG_RECORD).
 *	verify_clnt_record() does that for a whole delivery request after
 *	the results are in: with DEL_REQ_FLAG_VERIFY every result ('d' ->
 *	OK, 'f' -> BOUNCE, 'x' -> DEFER, with the result's reason), with
 *	DEL_REQ_FLAG_RECORD the delivered ones of the relay class
 *	(addr_class(3): relay_domains lists the domain, and neither
 *	mydestination nor virtual_alias_domains does; learned recipients);
 *	a probe's result is also
 *	stored for the recipient's original address when that differs (a
 *	probe of a virtual alias goes to its targets), and only when the verify
 *	service socket exists (no warnings where verify is not in
 *	master.cf); without either flag it does nothing. It returns how
 *	many updates failed.
 *
 *	Both return VERIFY_STAT_OK, or VERIFY_STAT_FAIL when the service
 *	cannot be reached or answers nonsense (smtpd then answers 450
 *	"address verification problem"), VERIFY_STAT_BAD for a request the
 *	service refused.
 *
 *	verify_request_read() is the service's reader: 1 for a request in
 *	req, 0 at end of file, -1 for a malformed one (why says how): no
 *	address, an unknown request, an update without an addr_status of
 *	VERIFY_ADDR_OK, VERIFY_ADDR_DEFER or VERIFY_ADDR_BOUNCE. An absent
 *	reason reads as "". verify_request_free() releases what a read
 *	stored, whatever it returned. verify_query_reply() sends the
 *	answer to a query; the other replies are attr_send_status().
 * DIAGNOSTICS
 *	A warning when the service cannot be reached.
 * SEE ALSO
 *	verify(8), ipc_call(3)
 */
#ifndef VERIFY_CLNT_H
#define VERIFY_CLNT_H
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/deliver_request.h"

#define VERIFY_STAT_OK		0
#define VERIFY_STAT_FAIL	(-1)
#define VERIFY_STAT_BAD		(-2)

/* Address status: the numbers Postfix stores in its verify cache. */
#define VERIFY_ADDR_OK		0
#define VERIFY_ADDR_DEFER	1
#define VERIFY_ADDR_BOUNCE	2
#define VERIFY_ADDR_TODO	3

#define VERIFY_REQ_QUERY	"query"
#define VERIFY_REQ_UPDATE	"update"

#define VERIFY_ATTR_ADDRESS	"address"
#define VERIFY_ATTR_ADDR_STATUS	"addr_status"
#define VERIFY_ATTR_REASON	"reason"

/* Reply status other than 0 (VERIFY_STAT_* are the client's results). */
#define VERIFY_REPLY_FAIL	1	/* the cache could not be used */
#define VERIFY_REPLY_BAD	2	/* malformed request */

typedef struct VERIFY_REQUEST {
    char   *request;			/* VERIFY_REQ_* */
    char   *address;
    int     addr_status;		/* update: VERIFY_ADDR_* */
    char   *reason;			/* update */
} VERIFY_REQUEST;

extern int verify_clnt_query(const char *, int *, VSTRING *);
extern int verify_clnt_update(const char *, int, const char *);
extern int verify_clnt_record(const DELIVER_REQUEST *);
extern const char *verify_addr_status_name(int);

extern int verify_request_read(VSTREAM *, VERIFY_REQUEST *, VSTRING *);
extern void verify_request_free(VERIFY_REQUEST *);
extern int verify_query_reply(VSTREAM *, int, const char *);

#endif
