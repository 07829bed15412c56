/*
 * NAME
 *	qmgr_trigger - wake the queue manager
 * DESCRIPTION
 *	See qmgr_trigger.h.
 * SEE ALSO
 *	mail_trigger(3), qmgr(8)
 */
#include <stddef.h>

#include "global/mail_conf.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"

int     qmgr_trigger(const char *requests, size_t len)
{
    return (mail_trigger("public", mail_conf_str(VAR_QUEUE_SERVICE_NAME), requests, len));
}
