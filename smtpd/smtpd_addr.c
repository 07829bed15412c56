/*
 * NAME
 *	smtpd_addr - envelope address syntax for smtpd
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_addr_extract(const char *arg, VSTRING *addr, char **rest);
 *	const char *smtpd_addr_domain(const char *addr);
 *	int smtpd_addr_routed(const char *addr);
 *	int smtpd_addr_fqdn(const char *addr);
 *	int smtpd_valid_hostname(const char *name);
 *	int smtpd_xtext_decode(const char *text, VSTRING *out);
 * DESCRIPTION
 *	smtpd_addr_extract() takes the text after "MAIL FROM:" or "RCPT
 *	TO:" (or a VRFY argument): "<address>" (quoted local parts may hold
 *	any printable character, including ">"), or, as Postfix allows
 *	unless strict_rfc821_envelopes, a bare address up to the first
 *	space. A source route ("@a,@b:user@c") is removed: mail goes to
 *	the final address only, so a route can never turn into relaying.
 *	*rest points to what follows (the ESMTP parameters). Returns 0,
 *	or -1 for bad syntax (control characters, unbalanced quotes or
 *	brackets, white space outside quotes, an address over 1000
 *	bytes).
 *
 *	smtpd_addr_domain() is the part after the rightmost "@" that is
 *	not inside a quoted string, or NULL.
 *
 *	smtpd_addr_routed() says whether the local part, unquoted, still
 *	routes elsewhere: it holds "@", "%" (the percent hack) or "!" (a
 *	bang path). The relay check uses it for our local domains.
 *
 *	smtpd_addr_fqdn() says whether the address has a domain that is a
 *	fully-qualified host name or an address literal.
 *
 *	smtpd_xtext_decode() decodes RFC 3461 xtext (ENVID, ORCPT);
 *	-1 for bad syntax.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mymalloc.h"

#include "vstring.h"
#include "smtpd.h"

#define ADDR_MAX_LEN	1000

int     smtpd_addr_extract(const char *arg, VSTRING *addr, char **rest)
{
    const char *cp = arg;
    const char *start, *end;
    int     quoted = 0;
    const char *colon;
    const char *ap;

    while (*cp == ' ' || *cp == '\t')
	cp++;
    vstring_reset(addr);
    if (*cp == '<') {
	start = ++cp;
	for (; *cp; cp++) {
	    if (quoted && *cp == '\\' && cp[1]) {
		cp++;
		continue;
	    }
	    if (*cp == '"')
		quoted = !quoted;
	    else if (!quoted && *cp == '>')
		break;
	    else if (!quoted && (*cp == ' ' || *cp == '\t' || *cp == '<'))
		return (-1);
	}
	if (*cp != '>')
	    return (-1);
	end = cp++;
	if (*cp != 0 && *cp != ' ' && *cp != '\t')
	    return (-1);
    } else {
	start = cp;
	for (; *cp && *cp != ' ' && *cp != '\t'; cp++) {
	    if (*cp == '"')
		quoted = !quoted;
	    if (*cp == '<' || *cp == '>')
		return (-1);
	}
	if (quoted)
	    return (-1);
	end = cp;
    }
    if (end - start > ADDR_MAX_LEN)
	return (-1);
    vstring_strncpy(addr, start, end - start);
    for (ap = vstring_str(addr); *ap; ap++)
	if ((unsigned char) *ap < 0x20 || *ap == 0x7f)
	    return (-1);
    if (vstring_len(addr) != strlen(vstring_str(addr)))
	return (-1);
    /* Drop a source route: @a,@b:user@c -> user@c. */
    if (vstring_str(addr)[0] == '@') {
	if ((colon = strchr(vstring_str(addr), ':')) == 0)
	    return (-1);
	{
	    char   *tail = mystrdup(colon + 1);

	    vstring_strcpy(addr, tail);
	    myfree(tail);
	}
	if (vstring_len(addr) == 0 || vstring_str(addr)[0] == '@')
	    return (-1);
    }
    while (*cp == ' ' || *cp == '\t')
	cp++;
    *rest = (char *) cp;
    return (0);
}

const char *smtpd_addr_domain(const char *addr)
{
    const char *at = 0;
    int     quoted = 0;
    const char *cp;

    for (cp = addr; *cp; cp++) {
	if (quoted && *cp == '\\' && cp[1]) {
	    cp++;
	    continue;
	}
	if (*cp == '"')
	    quoted = !quoted;
	else if (!quoted && *cp == '@')
	    at = cp;
    }
    return (at ? at + 1 : 0);
}

int     smtpd_addr_routed(const char *addr)
{
    const char *domain = smtpd_addr_domain(addr);
    const char *end = domain ? domain - 1 : addr + strlen(addr);
    const char *cp;

    for (cp = addr; cp < end; cp++)
	if (*cp == '@' || *cp == '%' || *cp == '!')
	    return (1);
    return (0);
}

int     smtpd_valid_hostname(const char *name)
{
    const char *cp;
    int     label_len = 0;
    int     len = 0;
    int     non_digit = 0;

    if (*name == 0 || *name == '.')
	return (0);
    for (cp = name; *cp; cp++, len++) {
	if (*cp == '.') {
	    if (label_len == 0 || cp[-1] == '-')
		return (0);
	    label_len = 0;
	    continue;
	}
	if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != '_')
	    return (0);
	if (label_len == 0 && *cp == '-')
	    return (0);
	if (!isdigit((unsigned char) *cp))
	    non_digit = 1;
	if (++label_len > 63)
	    return (0);
    }
    if (len > 255 || cp[-1] == '-')
	return (0);
    return (non_digit);
}

/* addr_literal - "[1.2.3.4]" or "[IPv6:...]" */
static int addr_literal(const char *domain)
{
    size_t  len = strlen(domain);
    const char *cp;

    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
	return (0);
    for (cp = domain + 1; cp < domain + len - 1; cp++)
	if (!isxdigit((unsigned char) *cp) && *cp != '.' && *cp != ':'
	    && strncasecmp(cp, "IPv6:", 5) != 0)
	    return (0);
	else if (strncasecmp(cp, "IPv6:", 5) == 0)
	    cp += 4;
    return (1);
}

int     smtpd_addr_fqdn(const char *addr)
{
    const char *domain = smtpd_addr_domain(addr);
    const char *trimmed;

    if (domain == 0 || *domain == 0)
	return (0);
    if (addr_literal(domain))
	return (1);
    trimmed = domain;
    return (strchr(trimmed, '.') != 0 && smtpd_valid_hostname(trimmed));
}

int     smtpd_xtext_decode(const char *text, VSTRING *out)
{
    const char *cp;
    int     hi, lo;

    vstring_reset(out);
    for (cp = text; *cp; cp++) {
	if (*cp < 33 || *cp > 126 || *cp == '=')
	    return (-1);
	if (*cp == '+') {
	    if (!isxdigit((unsigned char) cp[1]) || !isxdigit((unsigned char) cp[2]))
		return (-1);
	    hi = isdigit((unsigned char) cp[1]) ? cp[1] - '0' : (toupper((unsigned char) cp[1]) - 'A' + 10);
	    lo = isdigit((unsigned char) cp[2]) ? cp[2] - '0' : (toupper((unsigned char) cp[2]) - 'A' + 10);
	    vstring_addch(out, hi * 16 + lo);
	    cp += 2;
	} else {
	    vstring_addch(out, *cp);
	}
    }
    return (0);
}
