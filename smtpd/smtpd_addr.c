/*
 * NAME
 *	smtpd_addr - envelope address syntax for smtpd
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_addr_extract(const char *arg, VSTRING *addr, char **rest);
 *	int smtpd_addr_envelope(const char *arg, VSTRING *addr, char **rest);
 *	const char *smtpd_addr_domain(const char *addr);
 *	int smtpd_addr_routed(const char *addr);
 *	int smtpd_addr_fqdn(const char *addr);
 *	int smtpd_valid_hostname(const char *name);
 *	int smtpd_xtext_decode(const char *text, VSTRING *out);
 * DESCRIPTION
 *	smtpd_addr_extract() takes the text after "MAIL FROM:" or "RCPT
 *	TO:" (or a VRFY argument): "<address>" (quoted local parts may hold
 *	any printable character, including ">"), or, as Postfix allows
 *	unless strict_rfc821_envelopes (smtpd_addr_envelope()), a bare
 *	address up to the first space. The address is stored in internal form (quotes removed, as
 *	Postfix keeps addresses in queue files) by mail_addr_parse(); a
 *	source route ("@a,@b:user@c") is removed, so mail goes to the
 *	final address only and a route can never turn into relaying.
 *	*rest points to what follows (the ESMTP parameters). Returns 0, or
 *	-1 for bad syntax (control characters, unbalanced quotes or
 *	brackets, white space outside quotes, a bad domain, an address
 *	over 1000 bytes). "<>" gives the empty address. "user@" (the null
 *	domain) is bad syntax unless resolve_null_domain = yes, as in
 *	Postfix; then it is kept as "user@" and resolves as the local host.
 *	smtpd_addr_envelope() is the same for MAIL FROM and RCPT TO: with
 *	strict_rfc821_envelopes the address must be in "<>".
 *
 *	The other address functions take internal-form addresses.
 *	smtpd_addr_domain() is the text after the last "@", or NULL.
 *	smtpd_addr_routed() says whether the local part still routes
 *	elsewhere: it holds "@" ("user@other"@ours), "%" (the percent
 *	hack) or "!" (a bang path). smtpd_addr_fqdn() says whether the
 *	domain is a fully-qualified host name or an address literal.
 *
 *	smtpd_valid_hostname() checks a host name (HELO, ETRN, client
 *	names). smtpd_xtext_decode() decodes RFC 3461 xtext (ENVID,
 *	ORCPT); -1 for bad syntax.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_addr.h"
#include "smtpd.h"

#define ADDR_MAX_LEN	1000

/* addr_span - the text of the address argument, "<...>" or a bare word */
static int addr_span(const char *arg, VSTRING *raw, char **rest)
{
    const char *cp = arg;
    const char *start;
    int     quoted = 0;

    while (*cp == ' ' || *cp == '\t')
	cp++;
    start = cp;
    if (*cp == '<') {
	for (cp++; *cp; cp++) {
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
	cp++;
	if (*cp != 0 && *cp != ' ' && *cp != '\t')
	    return (-1);
    } else {
	for (; *cp && *cp != ' ' && *cp != '\t'; cp++) {
	    if (*cp == '"')
		quoted = !quoted;
	    if (*cp == '<' || *cp == '>')
		return (-1);
	}
	if (quoted)
	    return (-1);
    }
    if (cp - start > ADDR_MAX_LEN)
	return (-1);
    vstring_strncpy(raw, start, cp - start);
    while (*cp == ' ' || *cp == '\t')
	cp++;
    *rest = (char *) cp;
    return (0);
}

/* null_domain - drop a final "@" (before ">"); 1 when there was one */
static int null_domain(VSTRING *raw)
{
    char   *cp = vstring_str(raw);
    size_t  len = vstring_len(raw);
    size_t  bracket = len > 0 && cp[len - 1] == '>';

    if (len < 2 + bracket || cp[len - 1 - bracket] != '@')
	return (0);
    if (bracket) {
	cp[len - 2] = '>';
	vstring_truncate(raw, len - 1);
    } else {
	vstring_truncate(raw, len - 1);
    }
    return (1);
}

int     smtpd_addr_extract(const char *arg, VSTRING *addr, char **rest)
{
    VSTRING *raw = vstring_alloc(100);
    int     ret = -1;

    vstring_reset(addr);
    if (addr_span(arg, raw, rest) == 0) {
	if (mail_addr_parse(vstring_str(raw), MAIL_ADDR_FLAG_EMPTY_OK, addr) == MAIL_ADDR_OK)
	    ret = 0;
	else if (var_resolve_null_domain && null_domain(raw)
		 && mail_addr_parse(vstring_str(raw), 0, addr) == MAIL_ADDR_OK
		 && strchr(vstring_str(addr), '@') == 0) {
	    /* resolve_null_domain: "user@" is user at this host (resolve(3)). */
	    vstring_strcat(addr, "@");
	    ret = 0;
	}
    }
    vstring_free(raw);
    return (ret);
}

int     smtpd_addr_envelope(const char *arg, VSTRING *addr, char **rest)
{
    const char *cp = arg;

    while (*cp == ' ' || *cp == '\t')
	cp++;
    if (var_strict_rfc821 && *cp != '<') {
	vstring_reset(addr);
	return (-1);
    }
    return (smtpd_addr_extract(arg, addr, rest));
}

const char *smtpd_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return (at ? at + 1 : 0);
}

int     smtpd_addr_routed(const char *addr)
{
    return (mail_addr_routing(addr) != 0);
}

int     smtpd_valid_hostname(const char *name)
{
    return (valid_hostname(name));
}

int     smtpd_addr_fqdn(const char *addr)
{
    const char *domain = smtpd_addr_domain(addr);

    if (domain == 0 || *domain == 0)
	return (0);
    if (valid_ip_literal(domain))
	return (1);
    return (strchr(domain, '.') != 0 && valid_hostname(domain));
}

int     smtpd_xtext_decode(const char *text, VSTRING *out)
{
    const char *cp;
    int     hi, lo;

    vstring_reset(out);
    for (cp = text; *cp; cp++) {
	if (*cp < 33 || *cp > 126)
	    return (-1);
	if (*cp == '+') {
	    if (!isxdigit((unsigned char) cp[1]) || !isxdigit((unsigned char) cp[2]))
		return (-1);
	    hi = isdigit((unsigned char) cp[1]) ? cp[1] - '0'
		: toupper((unsigned char) cp[1]) - 'A' + 10;
	    lo = isdigit((unsigned char) cp[2]) ? cp[2] - '0'
		: toupper((unsigned char) cp[2]) - 'A' + 10;
	    vstring_addch(out, hi * 16 + lo);
	    cp += 2;
	} else {
	    vstring_addch(out, *cp);
	}
    }
    return (0);
}
