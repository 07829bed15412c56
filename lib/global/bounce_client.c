/*
 * NAME
 *	bounce_client - ask the bounce service for delivery status notices
 * DESCRIPTION
 *	See bounce_client.h. Each call is one request to private/bounce
 *	(bounce_service_name) relative to the queue directory, with
 *	ipc_timeout for the exchange. The functions return the service's
 *	status (0: the notice is queued, or there was nothing to send),
 *	or -1 when the service could not be reached or its reply was not
 *	understood; the caller keeps the message and tries again later.
 * DIAGNOSTICS
 *	A warning when the service cannot be reached.
 * SEE ALSO
 *	bounce(8), ipc_call(3)
 */
#include <errno.h>
#include <string.h>

#include "global/mail_conf.h"
#include "util/msg.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/bounce_client.h"

/* bounce_request - send one request, return the service's status */
static int bounce_request(const char *request, const char *queue_name,
			          const char *queue_id)
{
    ATTR   *req = attr_alloc();
    ATTR   *reply = attr_alloc();
    const char *service = mail_conf_str(VAR_BOUNCE_SERVICE_NAME);
    long    status;
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, request);
    attr_add(req, ATTR_NAME_QUEUE_NAME, queue_name);
    attr_add(req, ATTR_NAME_QUEUE_ID, queue_id);
    if (ipc_call("private", service, (int) mail_conf_time(VAR_IPC_TIMEOUT), req, reply) < 0) {
	msg_warn("%s: %s service request %s: private/%s: %s",
		 queue_id, service, request, service, strerror(errno));
	ret = -1;
    } else if (attr_get_long(reply, ATTR_NAME_STATUS, &status) < 0) {
	msg_warn("%s: %s service request %s: malformed reply",
		 queue_id, service, request);
	ret = -1;
    } else {
	ret = (int) status;
    }
    attr_free(req);
    attr_free(reply);
    return (ret);
}

int     bounce_flush(const char *queue_name, const char *queue_id)
{
    return (bounce_request(BOUNCE_REQ_FLUSH, queue_name, queue_id));
}

int     bounce_warn(const char *queue_name, const char *queue_id)
{
    return (bounce_request(BOUNCE_REQ_WARN, queue_name, queue_id));
}

int     bounce_success(const char *queue_name, const char *queue_id)
{
    return (bounce_request(BOUNCE_REQ_SUCCESS, queue_name, queue_id));
}
