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
#include <string.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/mail_conf.h"
#include "global/flush_client.h"

/* flush_request - send one request, return the service's status */
static int flush_request(const char *request, const char *name1, const char *value1,
			         const char *name2, const char *value2)
{
    ATTR   *req = attr_alloc();
    VSTRING *why = vstring_alloc(100);
    const char *service = mail_conf_str(VAR_FLUSH_SERVICE_NAME);
    int     status;

    attr_add(req, ATTR_NAME_REQUEST, request);
    if (name1)
	attr_add(req, name1, value1);
    if (name2)
	attr_add(req, name2, value2);
    if (ipc_call_status("public", service, (int) mail_conf_time(VAR_IPC_TIMEOUT),
			req, &status, why) < 0) {
	msg_warn("%s service request %s: %s", service, request, vstring_str(why));
	status = FLUSH_STAT_FAIL;
    }
    attr_free(req);
    vstring_free(why);
    return (status);
}

int     flush_add(const char *site, const char *queue_id)
{
    return (flush_request(FLUSH_REQ_ADD, FLUSH_ATTR_SITE, site,
			  FLUSH_ATTR_QUEUE_ID, queue_id));
}

int     flush_send_site(const char *site)
{
    return (flush_request(FLUSH_REQ_SEND_SITE, FLUSH_ATTR_SITE, site, 0, 0));
}

int     flush_send_file(const char *queue_id)
{
    return (flush_request(FLUSH_REQ_SEND_FILE, FLUSH_ATTR_QUEUE_ID, queue_id, 0, 0));
}

int     flush_refresh(void)
{
    return (flush_request(FLUSH_REQ_REFRESH, 0, 0, 0, 0));
}

int     flush_purge(void)
{
    return (flush_request(FLUSH_REQ_PURGE, 0, 0, 0, 0));
}

 /*
  * The limits are those of the list as a whole: a site or queue ID that
  * fits is checked by the service.
  */
#define FLUSH_LIST_MAX_LEN	1024
#define FLUSH_LIST_MAX_COUNT	10

static const ATTR_SCAN flush_request_table[] = {
    ATTR_STR(ATTR_NAME_REQUEST, FLUSH_REQUEST, request, ATTR_FLAG_REQUIRED, 1, 32),
    ATTR_STR(FLUSH_ATTR_SITE, FLUSH_REQUEST, site, 0, 0, FLUSH_LIST_MAX_LEN),
    ATTR_STR(FLUSH_ATTR_QUEUE_ID, FLUSH_REQUEST, queue_id, 0, 0, FLUSH_LIST_MAX_LEN),
    ATTR_END,
};

int     flush_request_read(VSTREAM *client, FLUSH_REQUEST *req, VSTRING *why)
{
    ATTR   *a = attr_alloc();
    int     got;

    memset(req, 0, sizeof(*req));
    got = attr_recv(client, a, FLUSH_LIST_MAX_LEN, FLUSH_LIST_MAX_COUNT);

    /* master's wakeup is one byte and no list: not a malformed request. */
    if (got < 0 && attr_count(a) == 0)
	got = 0;
    else if (got < 0)
	vstring_strcpy(why, "malformed or truncated attribute list");
    else if (got > 0 && attr_scan_list(a, flush_request_table, req, why) < 0)
	got = -1;
    attr_free(a);
    return (got);
}

void    flush_request_free(FLUSH_REQUEST *req)
{
    attr_scan_free(flush_request_table, req);
}
