/*
 * NAME
 *	lmtp - the LMTP delivery agent
 * SYNOPSIS
 *	lmtp [generic daemon options]
 * DESCRIPTION
 *	Started by master for each service whose command is "lmtp" (lmtp and
 *	any other transport of master.cf). Reads delivery
 *	requests from qmgr, one after another on one connection (each
 *	counts as a use for max_use), delivers each with the client engine
 *	of lib/smtpc/smtp_client.c, logs and returns each recipient's
 *	result, and keeps an idle session open for the next request to the
 *	same nexthop (lmtp_connection_cache_on_demand). See lmtp(8).
 *
 *	Runs as mail_owner, chrooted when master.cf says so; opens the
 *	SASL password and TLS policy tables before dropping privileges.
 * SEE ALSO
 *	smtp_client(3), qmgr(8), smtp(8)
 */
#include <stdlib.h>

#include "util/msg.h"
#include "global/mail_server.h"
#include "global/deliver_request.h"
#include "smtpc/smtp_client.h"

static void lmtp_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST *req;
    int     more = 1;

    (void) service;
    (void) argv;

    /*
     * qmgr may send one request after another on the same connection
     * (the reply says whether we take another): the cached session to
     * the destination then serves the next delivery there.
     */
    while (more) {
	smtp_client_idle(client);
	if ((req = deliver_request_read(client)) == 0)
	    break;
	smtp_client_deliver(req);
	req->more = more = mail_server_another();
	if (deliver_request_done(client, req) < 0)
	    more = 0;
	deliver_request_free(req);
    }

    /*
     * qmgr ends the connection when it wants no session here any more
     * (idle too long, or more sessions than the destination's window):
     * the cached session goes with it, so that qmgr's count of the
     * sessions open to a destination stays true. So does a connection
     * that failed, or the last request this process takes.
     */
    smtp_client_cache_close();
}

static void lmtp_pre_init(const char *service, char **argv)
{
    (void) argv;
    smtp_client_init(SMTP_PROTO_LMTP, service);
    atexit(smtp_client_cache_close);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    opts.pre_init = lmtp_pre_init;
    single_server_main(argc, argv, lmtp_service, &opts);
    return (0);
}
