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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "global/mail_conf.h"
#include "postqueue.h"

#define SHORT_HEADER	"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
#define LONG_HEADER	"----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------"
#define SHORT_RCPT_INDENT 41
#define LONG_RCPT_INDENT 47
#define REASON_COLUMN	76

/* showq_next - one message's list; 1 message, 0 end of listing, -1 error */
static int showq_next(VSTREAM *showq, ATTR *attr)
{
    if (attr_recv(showq, attr, ATTR_MAX_LEN, ATTR_MAX_COUNT) != 1)
	return (-1);
    if (attr_get(attr, ATTR_NAME_QUEUE_ID) == 0)
	return (attr_get(attr, ATTR_NAME_STATUS) ? 0 : -1);
    return (1);
}

static const char *attr_str(ATTR *attr, const char *name)
{
    const char *value = attr_get(attr, name);

    return (value ? value : "");
}

int     showq_compat(VSTREAM *showq)
{
    ATTR   *attr = attr_alloc();
    int     long_ids = mail_conf_bool(VAR_ENABLE_LONG_QUEUE_IDS);
    long    total_size = 0;
    long    count = 0;
    int     status;

    while ((status = showq_next(showq, attr)) == 1) {
	const char *queue = attr_str(attr, ATTR_NAME_QUEUE_NAME);
	const char *sender = attr_str(attr, ATTR_NAME_SENDER);
	long    size = atol(attr_str(attr, "message_size"));
	time_t  arrival = (time_t) atol(attr_str(attr, "arrival_time"));
	const char *prev_reason = "";
	char    id[64];
	char    when[32];

	if (count++ == 0)
	    printf("%s\n", long_ids ? LONG_HEADER : SHORT_HEADER);
	total_size += size;
	snprintf(id, sizeof(id), "%s%s", attr_str(attr, ATTR_NAME_QUEUE_ID),
		 strcmp(attr_str(attr, "forced_expire"), "1") == 0 ? "#" :
		 strcmp(queue, "active") == 0 ? "*" :
		 strcmp(queue, "hold") == 0 ? "!" : "");
	if (ctime_r(&arrival, when) == 0)
	    strcpy(when, "?");
	if (*sender == 0)
	    sender = "MAILER-DAEMON";
	if (long_ids)
	    printf("%-17s %8ld %19.19s %s\n", id, size, when, sender);
	else
	    printf("%-11s %7ld %20.20s %s\n", id, size, when, sender);
	for (size_t i = 0; i + 1 < attr_count(attr); i++) {
	    const char *rcpt;
	    const char *reason;

	    if (strcmp(attr_name(attr, i), ATTR_NAME_RECIPIENT) != 0)
		continue;
	    rcpt = attr_value(attr, i);
	    reason = strcmp(attr_name(attr, i + 1), ATTR_NAME_REASON) == 0 ?
		attr_value(attr, i + 1) : "";
	    if (*reason && strcmp(reason, prev_reason) != 0) {
		int     pad = REASON_COLUMN - (int) strlen(reason);

		printf("%*s(%s)\n", pad > 0 ? pad : 0, "", reason);
	    }
	    prev_reason = reason;
	    printf("%*s%s\n", long_ids ? LONG_RCPT_INDENT : SHORT_RCPT_INDENT, "", rcpt);
	}
	printf("\n");
    }
    if (status == 0) {
	if (count == 0)
	    printf("Mail queue is empty\n");
	else
	    printf("-- %ld Kbytes in %ld Request%s.\n", total_size / 1024, count,
		   count == 1 ? "" : "s");
    }
    fflush(stdout);
    attr_free(attr);
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
    ATTR   *attr = attr_alloc();
    VSTRING *q = vstring_alloc(100);
    int     status;

    while ((status = showq_next(showq, attr)) == 1) {
	const char *sender = attr_str(attr, ATTR_NAME_SENDER);
	int     first = 1;

	printf("{\"queue_name\": %s", json_quote(q, attr_str(attr, ATTR_NAME_QUEUE_NAME)));
	printf(", \"queue_id\": %s", json_quote(q, attr_str(attr, ATTR_NAME_QUEUE_ID)));
	printf(", \"arrival_time\": %ld", atol(attr_str(attr, "arrival_time")));
	printf(", \"message_size\": %ld", atol(attr_str(attr, "message_size")));
	printf(", \"forced_expire\": %s",
	       strcmp(attr_str(attr, "forced_expire"), "1") == 0 ? "true" : "false");
	printf(", \"sender\": %s", json_quote(q, *sender ? sender : "MAILER-DAEMON"));
	printf(", \"recipients\": [");
	for (size_t i = 0; i < attr_count(attr); i++) {
	    const char *reason;

	    if (strcmp(attr_name(attr, i), ATTR_NAME_RECIPIENT) != 0)
		continue;
	    printf("%s{\"address\": %s", first ? "" : ", ", json_quote(q, attr_value(attr, i)));
	    first = 0;
	    reason = i + 1 < attr_count(attr)
		&& strcmp(attr_name(attr, i + 1), ATTR_NAME_REASON) == 0 ?
		attr_value(attr, i + 1) : "";
	    if (*reason)
		printf(", \"delay_reason\": %s", json_quote(q, reason));
	    printf("}");
	}
	printf("]}\n");
    }
    fflush(stdout);
    vstring_free(q);
    attr_free(attr);
    return (status);
}
