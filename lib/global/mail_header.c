/*
 * NAME
 *	mail_header - message headers that the mail system writes or reads
 * DESCRIPTION
 *	See mail_header.h. Address lists are read by header_addr(3).
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/vstring.h"
#include "util/argv.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/header_addr.h"
#include "global/mail_header.h"

void    mail_header_date(VSTRING *buf, time_t when)
{
    char    date[100];
    struct tm tm;

    localtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
    vstring_strcpy(buf, date);
}

void    mail_header_message_id(VSTRING *buf, time_t when, const char *queue_id)
{
    char    stamp[32];
    struct tm tm;

    gmtime_r(&when, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    vstring_sprintf(buf, "<%s.%s@%s>", stamp, queue_id,
		    mail_conf_str(VAR_MYHOSTNAME));
}

void    mail_header_received_smtp(VSTRING *buf, const MAIL_HEADER_CLIENT *client,
				          const char *queue_id, const char *rcpt,
				          time_t when)
{
    VSTRING *date = vstring_alloc(64);

    mail_header_date(date, when);
    vstring_sprintf(buf, "Received: from %s (%s [%s])\r\n",
		    client->helo ? client->helo : client->name,
		    client->name, client->addr);
    if (client->comment)
	vstring_strcat(buf, client->comment);
    vstring_sprintf_append(buf, "\tby %s (%s) with %s", mail_conf_str(VAR_MYHOSTNAME),
			   mail_conf_str(VAR_MAIL_NAME), client->protocol);
    if (queue_id)
	vstring_sprintf_append(buf, " id %s", queue_id);
    if (rcpt) {
	VSTRING *ext = vstring_alloc(100);

	mail_addr_externalize(ext, rcpt);
	vstring_sprintf_append(buf, "\r\n\tfor <%s>; %s\r\n", vstring_str(ext),
			       vstring_str(date));
	vstring_free(ext);
    } else {
	vstring_sprintf_append(buf, ";\r\n\t%s\r\n", vstring_str(date));
    }
    vstring_free(date);
}

void    mail_header_received_local(VSTRING *buf, long uid, const char *queue_id,
				           time_t when)
{
    VSTRING *date = vstring_alloc(64);

    mail_header_date(date, when);
    vstring_sprintf(buf, "Received: by %s (%s, from userid %ld)\r\n"
		    "\tid %s; %s\r\n", mail_conf_str(VAR_MYHOSTNAME),
		    mail_conf_str(VAR_MAIL_NAME), uid, queue_id,
		    vstring_str(date));
    vstring_free(date);
}

/* phrase_needs_quote - does a display name hold RFC 5322 specials? */
static int phrase_needs_quote(const char *name)
{
    const unsigned char *cp;

    for (cp = (const unsigned char *) name; *cp; cp++)
	if (*cp < ' ' || strchr("()<>[]:;@\\,.\"", *cp))
	    return (1);
    return (0);
}

void    mail_header_from(VSTRING *buf, const char *full_name, const char *addr)
{
    VSTRING *ext = vstring_alloc(100);

    mail_addr_externalize(ext, addr);
    vstring_reset(buf);
    if (full_name && *full_name) {
	if (phrase_needs_quote(full_name)) {
	    vstring_addch(buf, '"');
	    for (const char *cp = full_name; *cp; cp++) {
		if (*cp == '"' || *cp == '\\')
		    vstring_addch(buf, '\\');
		if (*cp != '\r' && *cp != '\n')
		    vstring_addch(buf, *cp);
	    }
	    vstring_addch(buf, '"');
	} else {
	    vstring_strcat(buf, full_name);
	}
	vstring_sprintf_append(buf, " <%s>", vstring_str(ext));
    } else {
	vstring_strcat(buf, vstring_str(ext));
    }
    vstring_free(ext);
}

size_t  mail_header_name_len(const char *line, size_t len)
{
    size_t  i;
    size_t  name_len;

    for (i = 0; i < len; i++) {
	unsigned char ch = line[i];

	if (ch == ':')
	    return (i);
	if (ch <= ' ' || ch >= 127)
	    break;
    }
    if (i == 0 || i >= len || (line[i] != ' ' && line[i] != '\t'))
	return (0);
    name_len = i;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
	i++;
    return (i < len && line[i] == ':' ? name_len : 0);
}

int     mail_header_is(const char *line, size_t len, const char *name)
{
    size_t  name_len = mail_header_name_len(line, len);

    return (name_len > 0 && name_len == strlen(name)
	    && strncasecmp(line, name, name_len) == 0);
}

/* collect - header_addr_rewrite() callback: keep each address */
static int collect(const char *addr, VSTRING *result, void *context)
{
    (void) result;
    argv_add((ARGV *) context, addr);
    return (0);
}

int     mail_header_addrs(const char *value, ARGV *addrs)
{
    VSTRING *unused = vstring_alloc(10);
    size_t  before = addrs->argc;

    (void) header_addr_rewrite(value, collect, addrs, unused);
    vstring_free(unused);
    return ((int) (addrs->argc - before));
}
