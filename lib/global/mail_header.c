/*
 * NAME
 *	mail_header - message headers that the mail system writes or reads
 * DESCRIPTION
 *	See mail_header.h. The address list reader makes one pass over
 *	the text: it keeps what is outside angle brackets and what is
 *	inside them for the current mailbox, and at a "," or ";" (or the
 *	end) the mailbox is the text inside the brackets when there were
 *	any, else the text outside; a ":" outside brackets and quotes
 *	starts a group, so what came before it was the group's name.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/vstring.h"
#include "util/argv.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
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
    if (rcpt) {
	VSTRING *ext = vstring_alloc(100);

	mail_addr_externalize(ext, rcpt);
	vstring_sprintf_append(buf, "\tby %s (%s) with %s id %s\r\n"
			       "\tfor <%s>; %s\r\n",
			       mail_conf_str(VAR_MYHOSTNAME),
			       mail_conf_str(VAR_MAIL_NAME), client->protocol,
			       queue_id, vstring_str(ext), vstring_str(date));
	vstring_free(ext);
    } else {
	vstring_sprintf_append(buf, "\tby %s (%s) with %s id %s;\r\n\t%s\r\n",
			       mail_conf_str(VAR_MYHOSTNAME),
			       mail_conf_str(VAR_MAIL_NAME), client->protocol,
			       queue_id, vstring_str(date));
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

/* addr_done - one mailbox is complete: add it */
static int addr_done(ARGV *addrs, VSTRING *outside, VSTRING *inside, int angle)
{
    VSTRING *src = angle ? inside : outside;
    VSTRING *internal;
    const char *text = vstring_str(src);
    int     added = 0;

    /* "<@a,@b:user@c>": the source route goes. */
    if (angle && *text == '@' && strchr(text, ':'))
	text = strchr(text, ':') + 1;
    if (*text) {
	internal = vstring_alloc(100);
	mail_addr_internalize(internal, text);
	if (vstring_len(internal) > 0) {
	    argv_add(addrs, vstring_str(internal));
	    added = 1;
	}
	vstring_free(internal);
    }
    vstring_reset(outside);
    vstring_reset(inside);
    return (added);
}

int     mail_header_addrs(const char *value, ARGV *addrs)
{
    VSTRING *outside = vstring_alloc(100);
    VSTRING *inside = vstring_alloc(100);
    const char *cp = value;
    int     in_angle = 0;
    int     angle = 0;			/* the mailbox has <...> */
    int     count = 0;
    int     depth;

    while (*cp) {
	VSTRING *dst = in_angle ? inside : outside;
	unsigned char ch = *cp;

	if (ch == '(') {			/* comment, may nest */
	    for (depth = 0; *cp; cp++) {
		if (*cp == '\\' && cp[1]) {
		    cp++;
		} else if (*cp == '(') {
		    depth++;
		} else if (*cp == ')' && --depth == 0) {
		    cp++;
		    break;
		}
	    }
	} else if (ch == '"') {			/* quoted string, kept */
	    vstring_addch(dst, *cp++);
	    while (*cp && *cp != '"') {
		if (*cp == '\\' && cp[1])
		    vstring_addch(dst, *cp++);
		vstring_addch(dst, *cp++);
	    }
	    if (*cp == '"')
		vstring_addch(dst, *cp++);
	} else if (ch == '[') {			/* domain literal, kept */
	    while (*cp && *cp != ']')
		vstring_addch(dst, *cp++);
	    if (*cp == ']')
		vstring_addch(dst, *cp++);
	} else if (ch == '<' && !in_angle) {
	    in_angle = angle = 1;
	    vstring_reset(inside);
	    cp++;
	} else if (ch == '>' && in_angle) {
	    in_angle = 0;
	    cp++;
	} else if (ch == ':' && !in_angle) {	/* group: drop its name */
	    vstring_reset(outside);
	    cp++;
	} else if ((ch == ',' || ch == ';') && !in_angle) {
	    count += addr_done(addrs, outside, inside, angle);
	    angle = 0;
	    cp++;
	} else if (isspace(ch)) {
	    cp++;
	} else {
	    vstring_addch(dst, *cp++);
	}
    }
    count += addr_done(addrs, outside, inside, angle);
    vstring_free(outside);
    vstring_free(inside);
    return (count);
}
