/*
 * NAME
 *	odmr_transport - the odmr transport: qmgr's requests for a site
 * SYNOPSIS
 *	#include "odmr.h"
 *
 *	void odmr_transport(VSTREAM *qmgr);
 * DESCRIPTION
 *	qmgr delivers a site's mail through the odmr transport (master.cf
 *	"odmr unix ... odmr"; transport_maps "site.example odmr:", so that
 *	the nexthop is the domain). This reads the request and hands it,
 *	with qmgr's connection, to the session that pulls the nexthop
 *	domain now (odmr_site_hand_over()); that session delivers and
 *	answers qmgr.
 *
 *	When no session pulls the domain (the mail was released by
 *	"postqueue -f", or the session ended), every recipient is
 *	deferred here: "4.4.1 site.example is not connected: its mail
 *	waits for ATRN", relay=none, and the message waits in the queue
 *	(keep the transport in defer_transports so that it waits there
 *	quietly until the site comes). As any deferred mail it is
 *	returned to its sender after maximal_queue_lifetime.
 */
#include <string.h>

#include "util/msg.h"
#include "odmr.h"

void    odmr_transport(VSTREAM *qmgr)
{
    DELIVER_REQUEST *req;
    DSN_RESULT res;
    VSTRING *reason;

    if ((req = deliver_request_read(qmgr)) == 0)
	return;
    if (odmr_site_hand_over(req->nexthop, qmgr, req) == 0) {
	deliver_request_free(req);
	return;
    }
    reason = vstring_alloc(100);
    vstring_sprintf(reason, "%s is not connected: its mail waits for ATRN", req->nexthop);
    memset(&res, 0, sizeof(res));
    strcpy(res.status, "4.4.1");
    res.action = 'x';
    res.reason = vstring_str(reason);
    res.relay = "none";
    for (size_t i = 0; i < req->rcpt_count; i++) {
	deliver_result(req, i, &res);
	deliver_log(req, req->rcpt + i, &res);
    }
    (void) deliver_request_done(qmgr, req);
    deliver_request_free(req);
    vstring_free(reason);
}
