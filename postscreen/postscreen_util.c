/*
 * NAME
 *	postscreen_util - small helpers of postscreen(8)
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	int psc_write(PSC_STATE *state, const char *text);
 *	void psc_format_delta(VSTRING *buf, long long ms);
 *	void psc_printable(VSTRING *buf, const char *data, size_t len);
 *	int psc_action(const char *param);
 * DESCRIPTION
 *	psc_write() sends text to the client without waiting; 0 when it
 *	all went, -1 when the client is gone or its socket buffer is full
 *	(it does not read its replies).
 *
 *	psc_format_delta() writes a time in seconds as Postfix's "PREGREET
 *	... after S" and "HANGUP after S" show it: two significant digits,
 *	at most two decimals, no trailing zeros ("0", "0.05", "0.5", "1.2",
 *	"12").
 *
 *	psc_printable() writes client bytes for a log line: printable
 *	ASCII as is, CR, LF and TAB as \r \n \t, backslash as \\, other
 *	bytes as \ooo.
 *
 *	psc_action() reads an action parameter: ignore, enforce or drop.
 * DIAGNOSTICS
 *	psc_action(): fatal for any other value, in the words of Postfix's
 *	configuration errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "postscreen.h"

int     psc_write(PSC_STATE *state, const char *text)
{
    size_t  len = strlen(text);

    /*
     * Replies are small: one that does not fit into the socket buffer at
     * once means the client does not read what it is sent. Hang up then,
     * as Postfix does, rather than hold up the other clients.
     */
    while (len > 0) {
	ssize_t n = send(state->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n > 0) {
	    text += n;
	    len -= n;
	} else if (n < 0 && errno == EINTR) {
	    continue;
	} else {
	    return (-1);
	}
    }
    return (0);
}

void    psc_format_delta(VSTRING *buf, long long ms)
{
    long long hundredths = ms / 10;
    char    tmp[64];
    char   *end;

    if (ms < 0)
	hundredths = 0;
    if (hundredths >= 1000) {
	vstring_sprintf(buf, "%lld", hundredths / 100);
	return;
    }
    if (hundredths >= 100)
	snprintf(tmp, sizeof(tmp), "%lld.%lld", hundredths / 100, (hundredths % 100) / 10);
    else
	snprintf(tmp, sizeof(tmp), "0.%02lld", hundredths);
    end = tmp + strlen(tmp);
    while (end[-1] == '0')
	*--end = 0;
    if (end[-1] == '.')
	*--end = 0;
    vstring_strcpy(buf, tmp);
}

void    psc_printable(VSTRING *buf, const char *data, size_t len)
{
    vstring_reset(buf);
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = data[i];

	if (ch == '\r')
	    vstring_strcat(buf, "\\r");
	else if (ch == '\n')
	    vstring_strcat(buf, "\\n");
	else if (ch == '\t')
	    vstring_strcat(buf, "\\t");
	else if (ch == '\\')
	    vstring_strcat(buf, "\\\\");
	else if (ch >= 0x20 && ch < 0x7f)
	    vstring_addch(buf, ch);
	else
	    vstring_sprintf_append(buf, "\\%03o", ch);
    }
}

int     psc_action(const char *param)
{
    const char *value = mail_conf_str(param);

    if (strcasecmp(value, "ignore") == 0)
	return (PSC_ACT_IGNORE);
    if (strcasecmp(value, "enforce") == 0)
	return (PSC_ACT_ENFORCE);
    if (strcasecmp(value, "drop") == 0)
	return (PSC_ACT_DROP);
    msg_fatal("bad %s value: %s", param, value);
}
