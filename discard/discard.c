/*
 * NAME
 *	discard - the discard delivery agent
 * SYNOPSIS
 *	discard [generic daemon options]
 * DESCRIPTION
 *	Started by master for services whose command is "discard" (the
 *	"discard" service of Debian's stock master.cf; transport_maps
 *	entries such as "spam.example discard:silently dropped"). It
 *	pretends to deliver every recipient of a request: each one is
 *	logged as sent, with relay=none and the nexthop as the reason
 *	("status=sent (silently dropped)"; without a nexthop in the
 *	table, the recipient domain), and reported delivered to qmgr,
 *	which marks it done. A reason that starts with an RFC 3463 status
 *	code uses it when it is a 2.X.X code; another code is ignored
 *	with Postfix's warning ('sent: ignoring dsn code "5.7.1"') and the
 *	status is 2.0.0.
 *
 *	Runs as mail_owner, chrooted when master.cf says so; it reads
 *	nothing but the request.
 * SEE ALSO
 *	discard(8), qmgr(8)
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/msg.h"
#include "global/mail_server.h"
#include "global/deliver_request.h"

/* status_prefix - the length of an "X.Y.Z" code at the start of text */
static size_t status_prefix(const char *text)
{
    const char *cp = text;

    if (*cp != '2' && *cp != '4' && *cp != '5')
	return (0);
    for (int part = 0; part < 3; part++) {
	int     digits = 0;

	while (isdigit((unsigned char) *cp)) {
	    cp++;
	    digits++;
	}
	if (digits == 0 || digits > 3)
	    return (0);
	if (part < 2 && *cp++ != '.')
	    return (0);
    }
    return (*cp == ' ' || *cp == 0 ? (size_t) (cp - text) : 0);
}

static void discard_service(VSTREAM *client, const char *service, char **argv)
{
    DELIVER_REQUEST *req;
    DSN_RESULT res;
    const char *reason;
    size_t  n;

    (void) service;
    (void) argv;
    if ((req = deliver_request_read(client)) == 0)
	return;
    memset(&res, 0, sizeof(res));
    snprintf(res.status, sizeof(res.status), "2.0.0");
    reason = req->nexthop;
    if ((n = status_prefix(reason)) != 0) {
	if (reason[0] == '2')
	    snprintf(res.status, sizeof(res.status), "%.*s", (int) n, reason);
	else
	    msg_warn("sent: ignoring dsn code \"%.*s\"", (int) n, reason);
	for (reason += n; *reason == ' '; reason++)
	     /* void */ ;
    }
    res.action = 'd';
    res.reason = (char *) reason;
    res.relay = (char *) "none";
    res.flags = DSN_RESULT_FLAG_FINAL;
    for (size_t i = 0; i < req->rcpt_count; i++) {
	deliver_log(req, req->rcpt + i, &res);
	deliver_result(req, i, &res);
    }
    (void) deliver_request_done(client, req);
    deliver_request_free(req);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    single_server_main(argc, argv, discard_service, &opts);
    return (0);
}
