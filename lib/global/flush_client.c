/*
 * NAME
 *	flush_client - ask the flush service to release deferred mail
 * DESCRIPTION
 *	See flush_client.h. Each call is one request to public/flush
 *	(flush_service_name) relative to the queue directory, with
 *	ipc_timeout for the exchange. A service that cannot be reached
 *	or answers nonsense counts as FLUSH_STAT_FAIL; the caller decides
 *	what to tell its user (smtpd: 458, postqueue: exit 69).
 * DIAGNOSTICS
 *	A warning when the service cannot be reached.
 * SEE ALSO
 *	flush(8), ipc_call(3)
 */
#include <errno.h>
#include <string.h>

#include "global/mail_conf.h"
#include "util/msg.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/flush_client.h"

/* flush_request - send one request, return the service's status */
static int flush_request(const char *request, const char *name1, const char *value1,
			         const char *name2, const char *value2)
{
    ATTR   *req = attr_alloc();
    ATTR   *reply = attr_alloc();
    const char *service = mail_conf_str(VAR_FLUSH_SERVICE_NAME);
    long    status;
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, request);
    if (name1)
	attr_add(req, name1, value1);
    if (name2)
	attr_add(req, name2, value2);
    if (ipc_call("public", service, (int) mail_conf_time(VAR_IPC_TIMEOUT), req, reply) < 0) {
	msg_warn("%s service request %s: public/%s: %s",
		 service, request, service, strerror(errno));
	ret = FLUSH_STAT_FAIL;
    } else if (attr_get_long(reply, ATTR_NAME_STATUS, &status) < 0) {
	msg_warn("%s service request %s: malformed reply", service, request);
	ret = FLUSH_STAT_FAIL;
    } else {
	ret = (int) status;
    }
    attr_free(req);
    attr_free(reply);
    return (ret);
}

int     flush_add(const char *site, const char *queue_id)
{
    return (flush_request(FLUSH_REQ_ADD, ATTR_NAME_SITE, site,
			  ATTR_NAME_QUEUE_ID, queue_id));
}

int     flush_send_site(const char *site)
{
    return (flush_request(FLUSH_REQ_SEND_SITE, ATTR_NAME_SITE, site, 0, 0));
}

int     flush_send_file(const char *queue_id)
{
    return (flush_request(FLUSH_REQ_SEND_FILE, ATTR_NAME_QUEUE_ID, queue_id, 0, 0));
}

int     flush_refresh(void)
{
    return (flush_request(FLUSH_REQ_REFRESH, 0, 0, 0, 0));
}

int     flush_purge(void)
{
    return (flush_request(FLUSH_REQ_PURGE, 0, 0, 0, 0));
}
