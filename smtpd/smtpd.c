/*
 * NAME
 *	smtpd - the SMTP server
 * SYNOPSIS
 *	smtpd [generic daemon options]	(started by master)
 *	smtpd -S [-c config_dir]	(one session on stdin/stdout)
 * DESCRIPTION
 *	Receives mail with ESMTP, applies the access policy and writes each
 *	accepted message into incoming/ itself (there is no cleanup
 *	process), durably, before it answers 250; then wakes qmgr. See
 *	smtpd(8) for the protocol, the parameters and the replies.
 *
 *	Privileges: tables, the TLS private key and the SASL library
 *	(smtpd_sasl_type cyrus) are opened as root in pre_init; the mail_server skeleton then chroots (master.cf chroot
 *	column) to queue_directory and runs as mail_owner before the first
 *	byte from a client is read.
 * SEE ALSO
 *	smtpd.h for the files of this program, mail_server(3)
 */
#include <string.h>

#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "smtpd.h"
#include "smtpd_local.h"

/* smtpd_service - one client */
static void smtpd_service(VSTREAM *client, const char *service, char **argv)
{
    SMTPD_STATE *state = smtpd_state_alloc(client);

    (void) service;
    (void) argv;
    smtpd_peer_init(state, vstream_fileno(client));
    smtpd_session(client, state);
    smtpd_state_free(state);
}

/* pre_init - as root: parameters, tables, TLS keys */
static void pre_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    smtpd_params_init();
    smtpd_notify_init();
    smtpd_peer_stress();
    smtpd_guard_init();
    smtpd_xclient_init();
    smtpd_limit_init();
    smtpd_check_init();
    smtpd_local_init();
    smtpd_content_init();
    smtpd_rewrite_init();
    smtpd_tls_init();
    smtpd_milter_init();
    smtpd_proxy_init();
    smtpd_sasl_init();
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = pre_init,
    };

    single_server_main(argc, argv, smtpd_service, &opts);
    return (0);
}
