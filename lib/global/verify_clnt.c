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
#include <errno.h>
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

/* verify_clnt_call - one exchange; VERIFY_STAT_* */

static int verify_clnt_call(ATTR *req, ATTR *reply)
{
    const char *service = mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME);
    long    status;

    if (ipc_call("private", service, (int) mail_conf_time(VAR_IPC_TIMEOUT), req, reply) < 0) {
	msg_warn("%s service request %s: private/%s: %s", service,
		 attr_get(req, ATTR_NAME_REQUEST), service, strerror(errno));
	return (VERIFY_STAT_FAIL);
    }
    if (attr_get_long(reply, ATTR_NAME_STATUS, &status) < 0) {
	msg_warn("%s service request %s: malformed reply", service,
		 attr_get(req, ATTR_NAME_REQUEST));
	return (VERIFY_STAT_FAIL);
    }
    return (status == 0 ? VERIFY_STAT_OK : VERIFY_STAT_BAD);
}

/* verify_clnt_query - what is known about this address */

int     verify_clnt_query(const char *addr, int *addr_status, VSTRING *why)
{
    ATTR   *req = attr_alloc();
    ATTR   *reply = attr_alloc();
    const char *reason;
    long    st;
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, VERIFY_REQ_QUERY);
    attr_add(req, ATTR_NAME_ADDRESS, addr);
    if ((ret = verify_clnt_call(req, reply)) == VERIFY_STAT_OK) {
	if (attr_get_long(reply, VERIFY_ATTR_ADDR_STATUS, &st) < 0
	    || st < VERIFY_ADDR_OK || st > VERIFY_ADDR_TODO) {
	    msg_warn("%s service: bad address status in reply",
		     mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME));
	    ret = VERIFY_STAT_FAIL;
	} else {
	    *addr_status = (int) st;
	    reason = attr_get(reply, ATTR_NAME_REASON);
	    vstring_strcpy(why, reason ? reason : "");
	}
    }
    attr_free(req);
    attr_free(reply);
    return (ret);
}

/* verify_clnt_update - store what was learned about an address */

int     verify_clnt_update(const char *addr, int addr_status, const char *why)
{
    ATTR   *req = attr_alloc();
    ATTR   *reply = attr_alloc();
    int     ret;

    attr_add(req, ATTR_NAME_REQUEST, VERIFY_REQ_UPDATE);
    attr_add(req, ATTR_NAME_ADDRESS, addr);
    attr_addf(req, VERIFY_ATTR_ADDR_STATUS, "%d", addr_status);
    attr_add(req, ATTR_NAME_REASON, why ? why : "");
    ret = verify_clnt_call(req, reply);
    attr_free(req);
    attr_free(reply);
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
