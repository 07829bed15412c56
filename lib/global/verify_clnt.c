/*
 * NAME
 *	verify_clnt - client of the address verification service
 * DESCRIPTION
 *	See verify_clnt.h. One request per connection to
 *	private/$address_verify_service_name, relative to the queue
 *	directory (every daemon's cwd).
 * DIAGNOSTICS
 *	"warning: verify service request query: private/verify: reason"
 *	when the service cannot be reached or answers nonsense.
 * SEE ALSO
 *	verify(8), ipc_call(3)
 */
#include <sys/stat.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "global/mail_conf.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/addr_class.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/deliver_request.h"
#include "global/verify_clnt.h"

/* What a reply holds: the status; for a query the answer too. */
typedef struct VERIFY_REPLY {
    int     status;
    int     addr_status;
    char   *reason;
} VERIFY_REPLY;

static const ATTR_SCAN verify_reply_table[] = {
    ATTR_INT(ATTR_NAME_STATUS, VERIFY_REPLY, status, ATTR_FLAG_REQUIRED, INT_MIN, INT_MAX),
    ATTR_INT(VERIFY_ATTR_ADDR_STATUS, VERIFY_REPLY, addr_status, 0,
	     VERIFY_ADDR_OK, VERIFY_ADDR_TODO),
    ATTR_STR(VERIFY_ATTR_REASON, VERIFY_REPLY, reason, 0, 0, 0),
    ATTR_END,
};

/* verify_clnt_call - one exchange; VERIFY_STAT_* */

static int verify_clnt_call(const char *request, ATTR *req, VERIFY_REPLY *reply)
{
    const char *service = mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME);
    VSTRING *why = vstring_alloc(100);
    int     ret;

    memset(reply, 0, sizeof(*reply));
    reply->addr_status = -1;
    if (ipc_call("private", service, (int) mail_conf_time(VAR_IPC_TIMEOUT), req,
		 verify_reply_table, reply, why) < 0) {
	msg_warn("%s service request %s: %s", service, request, vstring_str(why));
	ret = VERIFY_STAT_FAIL;
    } else {
	ret = reply->status == 0 ? VERIFY_STAT_OK : VERIFY_STAT_BAD;
    }
    vstring_free(why);
    return (ret);
}

/* verify_clnt_query - what is known about this address */

int     verify_clnt_query(const char *addr, int *addr_status, VSTRING *why)
{
    ATTR   *req = attr_alloc();
    VERIFY_REPLY reply;
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, VERIFY_REQ_QUERY);
    attr_add(req, VERIFY_ATTR_ADDRESS, addr);
    if ((ret = verify_clnt_call(VERIFY_REQ_QUERY, req, &reply)) == VERIFY_STAT_OK) {
	if (reply.addr_status < 0) {
	    msg_warn("%s service: bad address status in reply",
		     mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME));
	    ret = VERIFY_STAT_FAIL;
	} else {
	    *addr_status = reply.addr_status;
	    vstring_strcpy(why, reply.reason ? reply.reason : "");
	}
    }
    attr_scan_free(verify_reply_table, &reply);
    attr_free(req);
    return (ret);
}

/* verify_clnt_update - store what was learned about an address */

int     verify_clnt_update(const char *addr, int addr_status, const char *why)
{
    ATTR   *req = attr_alloc();
    VERIFY_REPLY reply;
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, VERIFY_REQ_UPDATE);
    attr_add(req, VERIFY_ATTR_ADDRESS, addr);
    attr_addf(req, VERIFY_ATTR_ADDR_STATUS, "%d", addr_status);
    attr_add(req, VERIFY_ATTR_REASON, why ? why : "");
    ret = verify_clnt_call(VERIFY_REQ_UPDATE, req, &reply);
    attr_scan_free(verify_reply_table, &reply);
    attr_free(req);
    return (ret);
}

/*
 * verify_clnt_learnable - a recipient of the relay class, for learning.
 * When the class cannot be told, nothing is learned (addr_class(3) logs
 * why); the next delivery may teach it.
 */
static int verify_clnt_learnable(const char *addr)
{
    const char *at = strrchr(addr, '@');

    if (at == 0 || at[1] == 0)
	return (0);
    return (addr_class_domain(at + 1, (ADDR_CLASS_INFO *) 0) == ADDR_CLASS_RELAY);
}

/* verify_clnt_record - the results of a probe or a learned delivery */

int     verify_clnt_record(const DELIVER_REQUEST *req)
{
    int     failed = 0;
    struct stat st;
    VSTRING *path;

    if ((req->flags & (DEL_REQ_FLAG_VERIFY | DEL_REQ_FLAG_RECORD)) == 0)
	return (0);

    /* Learning is quiet where no verify service is configured. */
    if ((req->flags & DEL_REQ_FLAG_VERIFY) == 0) {
	path = vstring_alloc(100);
	vstring_sprintf(path, "private/%s", mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME));
	if (stat(vstring_str(path), &st) < 0) {
	    vstring_free(path);
	    return (0);
	}
	vstring_free(path);
    }
    for (size_t i = 0; i < req->rcpt_count; i++) {
	const RECIPIENT *rcpt = req->rcpt + i;
	int     st;

	if (!rcpt->have_result)
	    continue;
	switch (rcpt->result.action) {
	case 'd':
	    st = VERIFY_ADDR_OK;
	    break;
	case 'f':
	    st = VERIFY_ADDR_BOUNCE;
	    break;
	default:
	    st = VERIFY_ADDR_DEFER;
	    break;
	}
	/* Learning records successes to relay_domains only; probes all. */
	if ((req->flags & DEL_REQ_FLAG_VERIFY) == 0
	    && (st != VERIFY_ADDR_OK || !verify_clnt_learnable(rcpt->address)))
	    continue;
	if (verify_clnt_update(rcpt->address, st, rcpt->result.reason) != VERIFY_STAT_OK)
	    failed++;
	/* A probe of an alias went to its targets: it answers for the alias. */
	if ((req->flags & DEL_REQ_FLAG_VERIFY) != 0 && rcpt->orig_addr && *rcpt->orig_addr
	    && strcasecmp(rcpt->orig_addr, rcpt->address) != 0
	    && verify_clnt_update(rcpt->orig_addr, st, rcpt->result.reason) != VERIFY_STAT_OK)
	    failed++;
    }
    return (failed);
}

const char *verify_addr_status_name(int addr_status)
{
    switch (addr_status) {
    case VERIFY_ADDR_OK:
	return ("deliverable");
    case VERIFY_ADDR_DEFER:
	return ("undeliverable-but-not-cached");
    case VERIFY_ADDR_BOUNCE:
	return ("undeliverable");
    case VERIFY_ADDR_TODO:
	return ("unknown");
    default:
	return ("invalid");
    }
}

 /*
  * The service's side. The limits are those of the list as a whole.
  */
#define VERIFY_TEXT_MAX	4095

static const ATTR_SCAN verify_request_table[] = {
    ATTR_STR(ATTR_NAME_REQUEST, VERIFY_REQUEST, request, ATTR_FLAG_REQUIRED, 1, 32),
    ATTR_STR(VERIFY_ATTR_ADDRESS, VERIFY_REQUEST, address, ATTR_FLAG_REQUIRED, 0,
	     VERIFY_TEXT_MAX),
    ATTR_INT(VERIFY_ATTR_ADDR_STATUS, VERIFY_REQUEST, addr_status, 0,
	     VERIFY_ADDR_OK, VERIFY_ADDR_BOUNCE),
    ATTR_STR(VERIFY_ATTR_REASON, VERIFY_REQUEST, reason, 0, 0, VERIFY_TEXT_MAX),
    ATTR_END,
};

int     verify_request_read(VSTREAM *client, VERIFY_REQUEST *req, VSTRING *why)
{
    int     got;

    memset(req, 0, sizeof(*req));
    req->addr_status = -1;
    if ((got = attr_scan(client, verify_request_table, req, why)) <= 0)
	return (got);
    if (strcmp(req->request, VERIFY_REQ_UPDATE) == 0) {
	if (req->addr_status < 0) {
	    vstring_sprintf(why, "missing attribute %s", VERIFY_ATTR_ADDR_STATUS);
	    return (-1);
	}
    } else if (strcmp(req->request, VERIFY_REQ_QUERY) != 0) {
	vstring_sprintf(why, "unknown request \"%s\"", req->request);
	return (-1);
    }
    if (req->reason == 0)
	req->reason = mystrdup("");
    return (1);
}

void    verify_request_free(VERIFY_REQUEST *req)
{
    attr_scan_free(verify_request_table, req);
}

int     verify_query_reply(VSTREAM *client, int addr_status, const char *reason)
{
    ATTR   *reply = attr_alloc();
    int     ret;

    attr_addf(reply, ATTR_NAME_STATUS, "%d", 0);
    attr_addf(reply, VERIFY_ATTR_ADDR_STATUS, "%d", addr_status);
    attr_add(reply, VERIFY_ATTR_REASON, reason);
    ret = attr_send(client, reply);
    attr_free(reply);
    return (ret);
}
