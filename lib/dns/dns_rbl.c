/*
 * NAME
 *	dns_rbl - does a DNS list answer match a filter
 * SYNOPSIS
 *	#include "dns/dns.h"
 *
 *	int dns_rbl_filter_match(const char *filter,
 *				 const unsigned char *addr);
 * DESCRIPTION
 *	See dns.h. Shared by smtpd (reject_rbl_client and friends) and
 *	postscreen (postscreen_dnsbl_sites).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"

/* dns_rbl_filter_match - 1 when the filter matches addr, 0 not, -1 bad filter */
int     dns_rbl_filter_match(const char *filter, const unsigned char *addr)
{
    const char *cp = filter;
    int     matched = 1;
    char   *next;

    for (int i = 0; i < 4; i++) {
	if (i > 0 && *cp++ != '.')
	    return (-1);
	if (*cp == '[') {
	    /* "[a..b]", "[a;b]", "[a..b;c]": any range or value. */
	    int     hit = 0;

	    for (cp++; *cp != ']'; ) {
		unsigned long lo, hi;

		if (!isdigit((unsigned char) *cp))
		    return (-1);
		lo = hi = strtoul(cp, &next, 10);
		cp = next;
		if (strncmp(cp, "..", 2) == 0) {
		    if (!isdigit((unsigned char) cp[2]))
			return (-1);
		    hi = strtoul(cp + 2, &next, 10);
		    cp = next;
		}
		if (lo > 255 || hi > 255 || lo > hi)
		    return (-1);
		hit |= (lo <= addr[i] && addr[i] <= hi);
		if (*cp == ';')
		    cp++;
		else if (*cp != ']')
		    return (-1);
	    }
	    cp++;
	    matched &= hit;
	} else {
	    unsigned long val;

	    if (!isdigit((unsigned char) *cp))
		return (-1);
	    if ((val = strtoul(cp, &next, 10)) > 255)
		return (-1);
	    cp = next;
	    matched &= (val == addr[i]);
	}
    }
    return (*cp ? -1 : matched);
}

