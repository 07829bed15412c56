/*
 * NAME
 *	postscreen_send - hand a client to smtpd
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_send_to_smtpd(PSC_STATE *state);
 * DESCRIPTION
 *	Connects to the pass service private/$smtpd_service_name (the
 *	"smtpd pass" line of master.cf), sends it the client's connection
 *	(pass_fd(3)) and forgets the client: smtpd serves it from there,
 *	with its own "220 " greeting. Anything the client sent early is
 *	still unread in the connection, for smtpd.
 * DIAGNOSTICS
 *	When smtpd cannot be reached: "warning: cannot connect to service
 *	private/smtpd: REASON", and the client gets "421 4.3.2 Service
 *	currently unavailable".
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/vstream.h"
#include "util/ipc_call.h"
#include "util/pass_fd.h"
#include "global/mail_conf.h"
#include "postscreen.h"

#define PSC_SEND_TIMEOUT	10	/* seconds to reach smtpd's socket */

void    psc_send_to_smtpd(PSC_STATE *state)
{
    const char *service = mail_conf_str(VAR_SMTPD_SERVICE_NAME);
    VSTREAM *stream;

    if ((stream = ipc_connect("private", service, PSC_SEND_TIMEOUT)) == 0) {
	msg_warn("cannot connect to service private/%s: %s", service, strerror(errno));
	(void) psc_write(state, "421 4.3.2 Service currently unavailable\r\n");
	psc_disconnect(state);
	return;
    }
    if (pass_fd_send(vstream_fileno(stream), state->fd) < 0) {
	msg_warn("cannot pass connection to service private/%s: %s", service, strerror(errno));
	(void) psc_write(state, "421 4.3.2 Service currently unavailable\r\n");
	vstream_close(stream);
	psc_disconnect(state);
	return;
    }
    vstream_close(stream);
    psc_state_free(state);
}
