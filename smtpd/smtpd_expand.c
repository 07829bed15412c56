/*
 * NAME
 *	smtpd_expand - $name attributes in reply templates and footers
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_expand_init(void);
 *	void smtpd_expand(SMTPD_STATE *state, const char *tmpl, VSTRING *out,
 *			  const SMTPD_EXPAND_ATTR *attr);
 *	void smtpd_expand_footer(SMTPD_STATE *state, VSTRING *reply);
 * DESCRIPTION
 *	smtpd_expand() appends tmpl to out with Postfix's template forms
 *	$name, ${name}, $(name), ${name?text}, ${name:text},
 *	${name?{text}:{text}} (text expanded in turn) and $$ for a dollar.
 *	The names are those of Postfix's SMTP server templates: client
 *	(name[address], with :port under smtpd_client_port_logging),
 *	client_address, client_name, reverse_client_name, client_port,
 *	helo_name, sender, sender_name, sender_domain, recipient,
 *	recipient_name, recipient_domain (the null address is "<>"; an
 *	address is shown as the client gave it), localtime ("Mmm dd
 *	hh:mm:ss"), server_name ($myhostname); attr adds the names of one
 *	kind of template (rbl_code, rbl_class ... for DNS list replies) and
 *	the recipient the template is about. A value is censored by
 *	smtpd_expansion_filter: a byte not in that set (C escapes such as
 *	\t and \40 allowed) becomes "_". Another name expands to nothing and
 *	logs Postfix's "warning: unknown macro name "x" in expansion request".
 *
 *	smtpd_expand_footer() appends the footer to a 4xx or 5xx reply:
 *	the template found in smtpd_reject_footer_maps under the whole reply
 *	text, else smtpd_reject_footer. It starts on a new line, or on the
 *	same line when it starts with "\c"; each "\n" in it starts a new
 *	line. Every line gets the reply's code and enhanced status code,
 *	with "-" on all lines but the last: "550-5.1.1 text\r\n550 5.1.1
 *	footer". $recipient there is the first recipient accepted in the
 *	transaction, as in Postfix. The footer is never logged.
 * DIAGNOSTICS
 *	A table that cannot be read is logged, and the default footer used.
 * SEE ALSO
 *	postconf(5) smtpd_reject_footer, default_rbl_reply
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "dict/maps.h"
#include "smtpd.h"

#define EXPAND_MAX_DEPTH	10

static char filter[256];		/* smtpd_expansion_filter, by byte */
static MAPS *footer_maps;		/* smtpd_reject_footer_maps, or NULL */
static const char *footer;		/* smtpd_reject_footer */

/* filter_init - smtpd_expansion_filter, with its C escapes */
static void filter_init(const char *text)
{
    const unsigned char *cp = (const unsigned char *) text;

    memset(filter, 0, sizeof(filter));
    while (*cp) {
	int     ch = *cp++;

	if (ch == '\\' && *cp) {
	    ch = *cp++;
	    switch (ch) {
	    case 'a': ch = '\a'; break;
	    case 'b': ch = '\b'; break;
	    case 'f': ch = '\f'; break;
	    case 'n': ch = '\n'; break;
	    case 'r': ch = '\r'; break;
	    case 't': ch = '\t'; break;
	    case 'v': ch = '\v'; break;
	    default:
		if (ch >= '0' && ch <= '7') {
		    ch -= '0';
		    for (int n = 1; n < 3 && *cp >= '0' && *cp <= '7'; n++)
			ch = ch * 8 + (*cp++ - '0');
		    ch &= 0xff;
		}
		break;
	    }
	}
	filter[ch] = 1;
    }
}

/* raw - a template parameter as written: not subject to $name expansion */
static const char *raw(const char *name)
{
    const char *value = mail_conf_raw(name);

    return (value ? value : mail_conf_default(name));
}

void    smtpd_expand_init(void)
{
    filter_init(raw(VAR_SMTPD_EXPANSION_FILTER));
    footer = mystrdup(raw(VAR_SMTPD_REJECT_FOOTER));
    if (*mail_conf_str(VAR_SMTPD_REJECT_FOOTER_MAPS))
	footer_maps = maps_create(VAR_SMTPD_REJECT_FOOTER_MAPS,
		      mail_conf_str(VAR_SMTPD_REJECT_FOOTER_MAPS), DICT_FLAG_DEFAULT);
}

/* part - the local part or the domain of an address, in buf */
static const char *part(const char *addr, int want_domain, VSTRING *buf)
{
    const char *at;

    if (addr == 0)
	return ("");
    if (*addr == 0)
	return (want_domain ? "" : "<>");
    if ((at = strrchr(addr, '@')) == 0)
	return (want_domain ? "" : addr);
    if (want_domain)
	return (at + 1);
    vstring_strncpy(buf, addr, at - addr);
    return (vstring_str(buf));
}

/* attr_value - one attribute, or NULL when the name is unknown */
static const char *attr_value(SMTPD_STATE *state, const SMTPD_EXPAND_ATTR *attr,
			              const char *name, VSTRING *buf)
{
    const char *sender = state->sender_given ? state->sender_given : state->sender;
    const char *rcpt = attr ? attr->recipient : 0;
    const char *value;

    if (attr && attr->lookup && (value = attr->lookup(name, attr->context)) != 0)
	return (value);
    if (strcmp(name, "client") == 0)
	return (state->namaddr);
    if (strcmp(name, "client_address") == 0)
	return (state->addr);
    if (strcmp(name, "client_name") == 0)
	return (state->name);
    if (strcmp(name, "reverse_client_name") == 0)
	return (state->reverse_name);
    if (strcmp(name, "client_port") == 0)
	return (state->port);
    if (strcmp(name, "helo_name") == 0)
	return (state->helo_name ? state->helo_name : "");
    if (strcmp(name, "sender") == 0)
	return (sender == 0 ? "" : *sender ? sender : "<>");
    if (strcmp(name, "sender_name") == 0)
	return (part(sender, 0, buf));
    if (strcmp(name, "sender_domain") == 0)
	return (part(sender, 1, buf));
    if (strcmp(name, "recipient") == 0)
	return (rcpt == 0 ? "" : *rcpt ? rcpt : "<>");
    if (strcmp(name, "recipient_name") == 0)
	return (part(rcpt, 0, buf));
    if (strcmp(name, "recipient_domain") == 0)
	return (part(rcpt, 1, buf));
    if (strcmp(name, "server_name") == 0)
	return (var_myhostname);
    if (strcmp(name, "localtime") == 0) {
	time_t  now = time((time_t *) 0);
	struct tm *tm = localtime(&now);
	char    text[32];

	strftime(text, sizeof(text), "%b %d %H:%M:%S", tm);
	vstring_strcpy(buf, text);
	return (vstring_str(buf));
    }
    return (0);
}

/*
 * censor - append a value, bytes outside smtpd_expansion_filter as "_"
 * (CR and LF always: a reply line must stay one line)
 */
static void censor(VSTRING *out, const char *value)
{
    for (const unsigned char *cp = (const unsigned char *) value; *cp; cp++)
	vstring_addch(out, filter[*cp] && *cp != '\r' && *cp != '\n' ? *cp : '_');
}

/* lookup - a censored value, or empty with a warning */
static void lookup(SMTPD_STATE *state, const SMTPD_EXPAND_ATTR *attr,
		           const char *name, VSTRING *out)
{
    VSTRING *buf = vstring_alloc(50);
    const char *value = attr_value(state, attr, name, buf);

    if (value == 0)
	msg_warn("unknown macro name \"%s\" in expansion request", name);
    else
	censor(out, value);
    vstring_free(buf);
}

/* braced - "{text}" at cp: its inside (a copy) and where it ends */
static char *braced(const char *cp, const char **end)
{
    int     level = 0;

    for (const char *p = cp; *p; p++) {
	if (*p == '{')
	    level++;
	else if (*p == '}' && --level == 0) {
	    *end = p + 1;
	    return (mystrndup(cp + 1, p - cp - 1));
	}
    }
    return (0);
}

static void expand(SMTPD_STATE *, const char *, VSTRING *, const SMTPD_EXPAND_ATTR *, int);

/*
 * conditional - ${name?text}, ${name:text}, ${name?{t1}:{t2}}: what
 * follows the name up to the closing brace, with the name's value
 */
static void conditional(SMTPD_STATE *state, const char *value, const char *rest,
			        VSTRING *out, const SMTPD_EXPAND_ATTR *attr, int depth)
{
    int     op = *rest++;
    const char *end;
    char   *t1, *t2 = 0;

    /* The 3.0 form ${name?{t1}:{t2}} and its halves. */
    if (*rest == '{' && (t1 = braced(rest, &end)) != 0) {
	if (op == '?' && *end == ':' && end[1] == '{'
	    && (t2 = braced(end + 1, &end)) != 0) {
	    expand(state, *value ? t1 : t2, out, attr, depth + 1);
	} else if ((op == '?') == (*value != 0)) {
	    expand(state, t1, out, attr, depth + 1);
	}
	myfree(t1);
	myfree(t2);
	return;
    }
    if ((op == '?') == (*value != 0))
	expand(state, rest, out, attr, depth + 1);
}

/* expand - one level of the template */
static void expand(SMTPD_STATE *state, const char *tmpl, VSTRING *out,
		           const SMTPD_EXPAND_ATTR *attr, int depth)
{
    const char *cp, *end;
    VSTRING *name = vstring_alloc(50);
    VSTRING *buf = vstring_alloc(50);
    size_t  n;

    for (cp = tmpl; *cp; cp++) {
	if (*cp != '$' || depth > EXPAND_MAX_DEPTH) {
	    vstring_addch(out, *cp);
	} else if (cp[1] == '$') {
	    vstring_addch(out, *++cp);
	} else if (cp[1] == '{' || cp[1] == '(') {
	    int     open = cp[1], close = (open == '{' ? '}' : ')');
	    int     level = 0;
	    const char *inner = cp + 2;

	    for (end = cp + 1; *end; end++) {
		if (*end == open)
		    level++;
		else if (*end == close && --level == 0)
		    break;
	    }
	    if (*end == 0) {
		vstring_strcat(out, cp);
		break;
	    }
	    n = strspn(inner, "abcdefghijklmnopqrstuvwxyz"
		       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	    vstring_strncpy(name, inner, n);
	    if (inner[n] == '?' || inner[n] == ':') {
		const char *value = attr_value(state, attr, vstring_str(name), buf);
		char   *rest = mystrndup(inner + n, end - inner - n);

		if (value == 0) {
		    msg_warn("unknown macro name \"%s\" in expansion request",
			     vstring_str(name));
		    value = "";
		}
		conditional(state, value, rest, out, attr, depth);
		myfree(rest);
	    } else {
		lookup(state, attr, vstring_str(name), out);
	    }
	    cp = end;
	} else if ((n = strspn(cp + 1, "abcdefghijklmnopqrstuvwxyz"
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")) > 0) {
	    vstring_strncpy(name, cp + 1, n);
	    lookup(state, attr, vstring_str(name), out);
	    cp += n;
	} else {
	    vstring_addch(out, *cp);
	}
    }
    vstring_free(name);
    vstring_free(buf);
}

void    smtpd_expand(SMTPD_STATE *state, const char *tmpl, VSTRING *out,
		             const SMTPD_EXPAND_ATTR *attr)
{
    expand(state, tmpl, out, attr, 0);
}

/* footer_template - the footer for this reply, or NULL */
static const char *footer_template(const char *reply)
{
    const char *tmpl;

    if (footer_maps) {
	if ((tmpl = maps_find(footer_maps, reply, 0)) != 0)
	    return (tmpl);
	if (footer_maps->error)
	    msg_warn("%s lookup error for \"%s\"", footer_maps->title, reply);
    }
    return (*footer ? footer : 0);
}

void    smtpd_expand_footer(SMTPD_STATE *state, VSTRING *reply)
{
    const char *tmpl;
    const char *text = vstring_str(reply);
    const char *cp;
    VSTRING *expanded;
    VSTRING *prefix;
    SMTPD_EXPAND_ATTR attr;
    size_t  n;

    if ((text[0] != '4' && text[0] != '5') || (tmpl = footer_template(text)) == 0)
	return;

    /* "550 5.1.1 " or "550 ": the code and status that every line repeats. */
    prefix = vstring_alloc(20);
    vstring_strncpy(prefix, text, 3);
    if (text[3] == ' ' && isdigit((unsigned char) text[4]) && text[5] == '.'
	&& (n = strspn(text + 4, "0123456789.")) > 4
	&& (text[4 + n] == ' ' || text[4 + n] == 0)) {
	vstring_addch(prefix, ' ');
	vstring_strncat(prefix, text + 4, n);
    }

    memset(&attr, 0, sizeof(attr));
    attr.recipient = state->first_rcpt;
    expanded = vstring_alloc(100);
    smtpd_expand(state, tmpl, expanded, &attr);

    /* Without "\c" the footer starts a line of its own. */
    cp = vstring_str(expanded);
    if (strncmp(cp, "\\c", 2) == 0)
	cp += 2;
    else
	vstring_sprintf_append(reply, "\r\n%s ", vstring_str(prefix));
    for (; *cp; cp++) {
	if (cp[0] == '\\' && cp[1] == 'n') {
	    vstring_sprintf_append(reply, "\r\n%s ", vstring_str(prefix));
	    cp++;
	} else {
	    /* As smtpd_reply() does: no control characters, no 8-bit. */
	    unsigned char ch = *cp;

	    vstring_addch(reply, ch < 0x20 || ch >= 0x7f ? ' ' : ch);
	}
    }

    /* All lines but the last get "-" after the code. */
    for (char *line = vstring_str(reply); (line = strstr(line, "\r\n")) != 0;) {
	char   *prev = line;

	while (prev > vstring_str(reply) && prev[-1] != '\n')
	    prev--;
	if (strlen(prev) > 3)
	    prev[3] = '-';
	line += 2;
    }
    vstring_free(expanded);
    vstring_free(prefix);
}
