/*
 * NAME
 *	showq_output - print the showq listing as mailq text or as JSON
 * SYNOPSIS
 *	int showq_compat(VSTREAM *showq);
 *	int showq_json(VSTREAM *showq);
 * DESCRIPTION
 *	showq_compat() prints Postfix's mailq format: a header line, then
 *	per message "ID SIZE ARRIVAL SENDER" (ID followed by "*" in the
 *	active queue and "!" in the hold queue; the null sender shown as
 *	MAILER-DAEMON), each delay reason in parentheses, right-aligned to
 *	column 78, above the recipients it applies to, a blank line, and
 *	the trailer "-- N Kbytes in M Requests."; "Mail queue is empty"
 *	when there is nothing. Short and long queue IDs have their own
 *	column widths (enable_long_queue_ids), as in Postfix.
 *
 *	showq_json() prints one JSON object per message with Postfix's
 *	keys in Postfix's order: queue_name, queue_id, arrival_time,
 *	message_size, forced_expire, sender, recipients (address, and
 *	delay_reason when there is one).
 * SEE ALSO
 *	postqueue(1), showq(8)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/showq_client.h"
#include "postqueue.h"

#define SHORT_HEADER	"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
#define LONG_HEADER	"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------"
#define SHORT_RCPT_INDENT 41
#define LONG_RCPT_INDENT 47
#define REASON_COLUMN	76

int     showq_compat(VSTREAM *showq)
{
    SHOWQ_MESSAGE msg;
    VSTRING *why = vstring_alloc(100);
    int     long_ids = mail_conf_bool(VAR_ENABLE_LONG_QUEUE_IDS);
    long    total_size = 0;
    long    count = 0;
    int     status;

    while ((status = showq_message_read(showq, &msg, why)) == 1) {
	const char *sender = msg.sender;
	time_t  arrival = (time_t) msg.arrival_time;
	const char *prev_reason = "";
	char    id[100];
	char    when[32];

	if (count++ == 0)
	    printf("%s\n", long_ids ? LONG_HEADER : SHORT_HEADER);
	total_size += msg.message_size;
	snprintf(id, sizeof(id), "%s%s", msg.queue_id,
		 msg.forced_expire ? "#" :
		 strcmp(msg.queue_name, "active") == 0 ? "*" :
		 strcmp(msg.queue_name, "hold") == 0 ? "!" : "");
	if (ctime_r(&arrival, when) == 0)
	    strcpy(when, "?");
	if (*sender == 0)
	    sender = "MAILER-DAEMON";
	if (long_ids)
	    printf("%-17s %8ld %19.19s %s\n", id, msg.message_size, when, sender);
	else
	    printf("%-11s %7ld %20.20s %s\n", id, msg.message_size, when, sender);
	for (size_t i = 0; i < msg.rcpt_count; i++) {
	    const char *reason = msg.rcpt[i].reason;

	    if (*reason && strcmp(reason, prev_reason) != 0) {
		int     pad = REASON_COLUMN - (int) strlen(reason);

		printf("%*s(%s)\n", pad > 0 ? pad : 0, "", reason);
	    }
	    prev_reason = reason;
	    printf("%*s%s\n", long_ids ? LONG_RCPT_INDENT : SHORT_RCPT_INDENT, "",
		   msg.rcpt[i].address);
	}
	printf("\n");
	showq_message_free(&msg);
    }
    showq_message_free(&msg);
    if (status == 0) {
	if (count == 0)
	    printf("Mail queue is empty\n");
	else
	    printf("-- %ld Kbytes in %ld Request%s.\n", total_size / 1024, count,
		   count == 1 ? "" : "s");
    }
    fflush(stdout);
    vstring_free(why);
    return (status);
}

/* json_quote - a JSON string literal */
static const char *json_quote(VSTRING *buf, const char *text)
{
    vstring_strcpy(buf, "\"");
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	switch (*cp) {
	case '"':
	    vstring_strcat(buf, "\\\"");
	    break;
	case '\\':
	    vstring_strcat(buf, "\\\\");
	    break;
	case '\b':
	    vstring_strcat(buf, "\\b");
	    break;
	case '\f':
	    vstring_strcat(buf, "\\f");
	    break;
	case '\n':
	    vstring_strcat(buf, "\\n");
	    break;
	case '\r':
	    vstring_strcat(buf, "\\r");
	    break;
	case '\t':
	    vstring_strcat(buf, "\\t");
	    break;
	default:
	    if (*cp < 0x20 || *cp == 0x7f)
		vstring_sprintf_append(buf, "\\u%04x", *cp);
	    else
		vstring_addch(buf, *cp);
	}
    }
    vstring_addch(buf, '"');
    return (vstring_str(buf));
}

int     showq_json(VSTREAM *showq)
{
    SHOWQ_MESSAGE msg;
    VSTRING *why = vstring_alloc(100);
    VSTRING *q = vstring_alloc(100);
    int     status;

    while ((status = showq_message_read(showq, &msg, why)) == 1) {
	printf("{\"queue_name\": %s", json_quote(q, msg.queue_name));
	printf(", \"queue_id\": %s", json_quote(q, msg.queue_id));
	printf(", \"arrival_time\": %ld", msg.arrival_time);
	printf(", \"message_size\": %ld", msg.message_size);
	printf(", \"forced_expire\": %s", msg.forced_expire ? "true" : "false");
	printf(", \"sender\": %s", json_quote(q, *msg.sender ? msg.sender : "MAILER-DAEMON"));
	printf(", \"recipients\": [");
	for (size_t i = 0; i < msg.rcpt_count; i++) {
	    printf("%s{\"address\": %s", i ? ", " : "", json_quote(q, msg.rcpt[i].address));
	    if (*msg.rcpt[i].reason)
		printf(", \"delay_reason\": %s", json_quote(q, msg.rcpt[i].reason));
	    printf("}");
	}
	printf("]}\n");
	showq_message_free(&msg);
    }
    showq_message_free(&msg);
    fflush(stdout);
    vstring_free(q);
    vstring_free(why);
    return (status);
}
