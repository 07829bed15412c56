/*
 * NAME
 *	smtp - the SMTP delivery agent
 * SYNOPSIS
 *	smtp [generic daemon options]
 * DESCRIPTION
 *	Started by master for each service whose command is "smtp" (smtp,
 *	relay, and any other transport of master.cf). Reads delivery
 *	requests from qmgr, one after another on one connection (each
 *	counts as a use for max_use), delivers each with the client engine
 *	of lib/smtpc/smtp_client.c, logs and returns each recipient's
 *	result, and keeps an idle session open for the next request to the
 *	same nexthop (smtp_connection_cache_on_demand). See smtp(8).
 *
 *	Runs as mail_owner, chrooted when master.cf says so; opens the
 *	SASL password and TLS policy tables before dropping privileges.
 * SEE ALSO
 *	smtp_client(3), qmgr(8), lmtp(8)
 */
#include <stdlib.h>

#include "util/msg.h"
#include "global/mail_server.h"
#include "global/deliver_request.h"
#include "smtpc/smtp_client.h"

static void smtp_service(VSTREAM *client, const char *service, char **argv)
{
    (void) service;
    (void) argv;
    smtp_client_serve(client);
}

static void smtp_pre_init(const char *service, char **argv)
{
    (void) argv;
    smtp_client_init(SMTP_PROTO_SMTP, service);
    atexit(smtp_client_cache_close);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    opts.pre_init = smtp_pre_init;
    single_server_main(argc, argv, smtp_service, &opts);
    return (0);
}
