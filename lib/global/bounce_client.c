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
#include <string.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/mail_conf.h"
#include "global/bounce_client.h"

/* bounce_request - send one request, return the service's status */
static int bounce_request(const char *request, const char *queue_name,
			          const char *queue_id)
{
    ATTR   *req = attr_alloc();
    VSTRING *why = vstring_alloc(100);
    const char *service = mail_conf_str(VAR_BOUNCE_SERVICE_NAME);
    int     status;

    attr_add(req, ATTR_NAME_REQUEST, request);
    attr_add(req, BOUNCE_ATTR_QUEUE_NAME, queue_name);
    attr_add(req, BOUNCE_ATTR_QUEUE_ID, queue_id);
    if (ipc_call_status("private", service, (int) mail_conf_time(VAR_IPC_TIMEOUT),
			req, &status, why) < 0) {
	msg_warn("%s: %s service request %s: %s",
		 queue_id, service, request, vstring_str(why));
	status = -1;
    }
    attr_free(req);
    vstring_free(why);
    return (status);
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

int     bounce_trace(const char *queue_name, const char *queue_id)
{
    return (bounce_request(BOUNCE_REQ_TRACE, queue_name, queue_id));
}

static const ATTR_SCAN bounce_request_table[] = {
    ATTR_STR(ATTR_NAME_REQUEST, BOUNCE_REQUEST, request, ATTR_FLAG_REQUIRED, 1, 32),
    ATTR_STR(BOUNCE_ATTR_QUEUE_NAME, BOUNCE_REQUEST, queue_name, ATTR_FLAG_REQUIRED, 1, 32),
    ATTR_STR(BOUNCE_ATTR_QUEUE_ID, BOUNCE_REQUEST, queue_id, ATTR_FLAG_REQUIRED, 1, 64),
    ATTR_END,
};

int     bounce_request_read(VSTREAM *client, BOUNCE_REQUEST *req, VSTRING *why)
{
    memset(req, 0, sizeof(*req));
    return (attr_scan(client, bounce_request_table, req, why));
}

void    bounce_request_free(BOUNCE_REQUEST *req)
{
    attr_scan_free(bounce_request_table, req);
}
