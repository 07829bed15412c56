/*
 * NAME
 *	showq_client - the queue listing of the showq service
 * DESCRIPTION
 *	See showq_client.h. A message's list is read whole (its
 *	recipients are many), then scanned with the table below; the end
 *	of the listing is told apart by its status attribute.
 * SEE ALSO
 *	showq(8), attr(3)
 */
#include <limits.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "util/ipc_call.h"
#include "global/mail_conf.h"
#include "global/showq_client.h"

#define SHOWQ_RCPT_MAX	(ATTR_MAX_COUNT / 2)

static const ATTR_SCAN showq_rcpt_table[] = {
    ATTR_STR(SHOWQ_ATTR_RECIPIENT, SHOWQ_RCPT, address, ATTR_FLAG_REQUIRED, 0, 0),
    ATTR_STR(SHOWQ_ATTR_REASON, SHOWQ_RCPT, reason, 0, 0, 0),
    ATTR_END,
};

static const ATTR_SCAN showq_message_table[] = {
    ATTR_STR(SHOWQ_ATTR_QUEUE_NAME, SHOWQ_MESSAGE, queue_name, ATTR_FLAG_REQUIRED, 1, 32),
    ATTR_STR(SHOWQ_ATTR_QUEUE_ID, SHOWQ_MESSAGE, queue_id, ATTR_FLAG_REQUIRED, 1, 64),
    ATTR_LONG(SHOWQ_ATTR_ARRIVAL_TIME, SHOWQ_MESSAGE, arrival_time, ATTR_FLAG_REQUIRED,
	      0, LONG_MAX),
    ATTR_LONG(SHOWQ_ATTR_MESSAGE_SIZE, SHOWQ_MESSAGE, message_size, ATTR_FLAG_REQUIRED,
	      0, LONG_MAX),
    ATTR_INT(SHOWQ_ATTR_FORCED_EXPIRE, SHOWQ_MESSAGE, forced_expire, 0, 0, 1),
    ATTR_STR(SHOWQ_ATTR_SENDER, SHOWQ_MESSAGE, sender, ATTR_FLAG_REQUIRED, 0, 0),
    ATTR_GROUP(SHOWQ_ATTR_RECIPIENT, SHOWQ_MESSAGE, rcpt, rcpt_count, SHOWQ_RCPT,
	       showq_rcpt_table, 0, 0, SHOWQ_RCPT_MAX),
    ATTR_END,
};

typedef struct SHOWQ_END {
    int     status;
} SHOWQ_END;

static const ATTR_SCAN showq_end_table[] = {
    ATTR_INT(ATTR_NAME_STATUS, SHOWQ_END, status, ATTR_FLAG_REQUIRED, 0, 0),
    ATTR_END,
};

VSTREAM *showq_connect(void)
{
    return (ipc_connect("public", mail_conf_str(VAR_SHOWQ_SERVICE_NAME),
			(int) mail_conf_time(VAR_IPC_TIMEOUT)));
}

int     showq_message_read(VSTREAM *showq, SHOWQ_MESSAGE *msg, VSTRING *why)
{
    ATTR   *a = attr_alloc();
    SHOWQ_END end = {0};
    int     ret;

    memset(msg, 0, sizeof(*msg));
    if (attr_recv(showq, a, ATTR_MAX_LEN, ATTR_MAX_COUNT) != 1) {
	vstring_strcpy(why, "listing cut short");
	ret = -1;
    } else if (attr_get(a, ATTR_NAME_STATUS) != 0) {
	ret = attr_scan_list(a, showq_end_table, &end, why) < 0 ? -1 : 0;
    } else if (attr_scan_list(a, showq_message_table, msg, why) < 0) {
	ret = -1;
    } else {
	for (size_t i = 0; i < msg->rcpt_count; i++)
	    if (msg->rcpt[i].reason == 0)
		msg->rcpt[i].reason = mystrdup("");
	ret = 1;
    }
    attr_free(a);
    return (ret);
}

void    showq_message_free(SHOWQ_MESSAGE *msg)
{
    attr_scan_free(showq_message_table, msg);
}

int     showq_message_send(VSTREAM *client, const SHOWQ_MESSAGE *msg)
{
    ATTR   *a = attr_alloc();
    int     ret;

    attr_add(a, SHOWQ_ATTR_QUEUE_NAME, msg->queue_name);
    attr_add(a, SHOWQ_ATTR_QUEUE_ID, msg->queue_id);
    attr_addf(a, SHOWQ_ATTR_ARRIVAL_TIME, "%ld", msg->arrival_time);
    attr_addf(a, SHOWQ_ATTR_MESSAGE_SIZE, "%ld", msg->message_size);
    attr_addf(a, SHOWQ_ATTR_FORCED_EXPIRE, "%d", msg->forced_expire);
    attr_add(a, SHOWQ_ATTR_SENDER, msg->sender);
    for (size_t i = 0; i < msg->rcpt_count; i++) {
	attr_add(a, SHOWQ_ATTR_RECIPIENT, msg->rcpt[i].address);
	attr_add(a, SHOWQ_ATTR_REASON, msg->rcpt[i].reason);
    }
    ret = attr_send(client, a);
    attr_free(a);
    return (ret);
}

int     showq_end_send(VSTREAM *client)
{
    return (attr_send_status(client, 0));
}
