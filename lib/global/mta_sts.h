/*
 * NAME
 *	mta_sts - MTA-STS policies (RFC 8461): discovery, fetch, cache
 * SYNOPSIS
 *	#include "global/mta_sts.h"
 *
 *	int mta_sts_lookup(const char *domain, MTA_STS_POLICY *pol, VSTRING *why);
 *	int mta_sts_mx_match(const MTA_STS_POLICY *pol, const char *host);
 *	void mta_sts_policy_free(MTA_STS_POLICY *pol);
 *	int mta_sts_parse(const char *text, MTA_STS_POLICY *pol, VSTRING *why);
 * DESCRIPTION
 *	mta_sts_lookup() finds the policy of a recipient domain when
 *	smtp_mta_sts_enable is on: the TXT record "_mta-sts.<domain>"
 *	("v=STSv1; id=..."; exactly one), then the policy, from the cache
 *	(smtp_mta_sts_cache_map, a table in data_directory) while its id
 *	is the one published and its max_age has not passed, else from
 *	https://mta-sts.<domain>/.well-known/mta-sts.txt (tls_https(3):
 *	a certificate valid for that name from smtp_mta_sts_CAfile, at
 *	most MTA_STS_MAX_SIZE bytes, MTA_STS_TIMEOUT seconds, no
 *	redirects). A fetched policy replaces the cached one. When the
 *	TXT record is gone, or the fetch fails, an unexpired cached policy
 *	still applies (RFC 8461 section 5.1): a policy cannot be removed
 *	by an attacker who blocks DNS or HTTPS.
 *
 *	Results: MTA_STS_FOUND (pol filled; mode may be none),
 *	MTA_STS_NONE (no policy), MTA_STS_FAIL (a policy is announced but
 *	none could be fetched nor found in the cache; why says why and
 *	pol->failure is the RFC 8460 result type: sts-policy-fetch-error,
 *	sts-policy-invalid or sts-webpki-invalid).
 *
 *	mta_sts_mx_match() says whether an MX host name matches one of the
 *	policy's mx patterns ("mail.example.com", "*.example.net": the
 *	wildcard covers exactly one leftmost label).
 *
 *	mta_sts_parse() reads a policy body (RFC 8461 section 3.2): 0, or
 *	-1 with why.
 * DIAGNOSTICS
 *	A cache that cannot be written is logged and the policy used.
 */
#ifndef MTA_STS_H
#define MTA_STS_H
#include <time.h>
#include "util/argv.h"
#include "util/vstring.h"

#define MTA_STS_NONE	0
#define MTA_STS_FOUND	1
#define MTA_STS_FAIL	2

#define MTA_STS_MODE_NONE	0
#define MTA_STS_MODE_TESTING	1
#define MTA_STS_MODE_ENFORCE	2

#define MTA_STS_MAX_SIZE	65536	/* RFC 8461 section 3.3 */
#define MTA_STS_TIMEOUT		10	/* seconds for a fetch */
#define MTA_STS_MAX_AGE		31557600	/* RFC 8461: at most a year */

typedef struct MTA_STS_POLICY {
    int     mode;			/* MTA_STS_MODE_* */
    char   *id;				/* the TXT record's id */
    ARGV   *mx;				/* mx patterns */
    long    max_age;
    time_t  fetched;
    char   *text;			/* the policy as fetched (for TLS-RPT) */
    const char *failure;		/* RFC 8460 result type when FAIL */
} MTA_STS_POLICY;

extern int mta_sts_lookup(const char *, MTA_STS_POLICY *, VSTRING *);
extern int mta_sts_mx_match(const MTA_STS_POLICY *, const char *);
extern void mta_sts_policy_free(MTA_STS_POLICY *);
extern int mta_sts_parse(const char *, MTA_STS_POLICY *, VSTRING *);
extern const char *mta_sts_mode_name(int);

#endif
