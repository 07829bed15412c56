/*
 * NAME
 *	odmr - On-Demand Mail Relay (RFC 2645): sites that log in and
 *	pull their mail with ATRN
 * SYNOPSIS
 *	odmr [generic daemon options]	(started by master)
 * DESCRIPTION
 *	One program for the two services of master.cf (see odmr(8)):
 *
 *	366 inet ... odmr	a customer site connects, authenticates
 *				(SASL), sends ATRN domain,...; the
 *				connection turns around and the site's
 *				queued mail is delivered over it
 *				(odmr_server.c, odmr_turn.c).
 *	odmr unix ... odmr	the transport that qmgr delivers those
 *				domains' mail through; it hands each
 *				request to the site's session
 *				(odmr_transport.c).
 *
 *	Which one a connection is for is told by its socket: a UNIX
 *	socket is qmgr's.
 *
 *	Privileges: the SASL server (libsasl2 for smtpd_sasl_type cyrus),
 *	the TLS key and odmr_domain_maps are opened as root in pre_init;
 *	the mail_server skeleton then chroots (master.cf) and runs as
 *	mail_owner before the first byte from a client is read.
 * SEE ALSO
 *	odmr.h for the files of this program, mail_server(3),
 *	smtp_client(3) (the client engine used after ATRN)
 */
#include <sys/socket.h>
#include <stdlib.h>

#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "smtpc/smtp_client.h"
#include "odmr.h"

/* odmr_service - a customer site, or qmgr */
static void odmr_service(VSTREAM *client, const char *service, char **argv)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    (void) argv;
    if (getsockname(vstream_fileno(client), (struct sockaddr *) &ss, &len) == 0
	&& ss.ss_family == AF_UNIX)
	odmr_transport(client);
    else
	odmr_server_session(client);
    (void) service;
}

/* pre_init - as root: parameters, SASL, TLS keys, tables */
static void pre_init(const char *service, char **argv)
{
    (void) argv;
    odmr_server_init();
    smtp_client_init(SMTP_PROTO_SMTP, service);
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = pre_init,
    };

    single_server_main(argc, argv, odmr_service, &opts);
    return (0);
}
