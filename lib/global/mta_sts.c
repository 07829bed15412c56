/*
 * NAME
 *	mta_sts - MTA-STS policies (RFC 8461): discovery, fetch, cache
 * DESCRIPTION
 *	See mta_sts.h. A cache entry is one line, keyed by the domain:
 *	"id<TAB>fetched<TAB>policy text with newlines as \n". The cache
 *	is opened on first use (after the privilege drop: data_directory
 *	belongs to mail_owner) and kept for the life of the process.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dns/dns.h"
#include "tls/tls_https.h"
#include "global/mail_conf.h"
#include "global/mta_sts.h"

static DICT *sts_cache;
static int sts_cache_tried;

const char *mta_sts_mode_name(int mode)
{
    return (mode == MTA_STS_MODE_ENFORCE ? "enforce" :
	    mode == MTA_STS_MODE_TESTING ? "testing" : "none");
}

void    mta_sts_policy_free(MTA_STS_POLICY *pol)
{
    myfree(pol->id);
    myfree(pol->text);
    if (pol->mx)
	argv_free(pol->mx);
    memset(pol, 0, sizeof(*pol));
}

int     mta_sts_parse(const char *text, MTA_STS_POLICY *pol, VSTRING *why)
{
    char   *copy = mystrdup(text);
    char   *cp = copy, *line;
    int     have_version = 0, have_mode = 0, have_age = 0;

    if (pol->mx)
	argv_free(pol->mx);
    pol->mx = argv_alloc(4);
    pol->mode = MTA_STS_MODE_NONE;
    pol->max_age = 0;
    while ((line = strsep(&cp, "\n")) != 0) {
	char   *key = line, *val;
	size_t  n = strlen(line);

	if (n > 0 && line[n - 1] == '\r')
	    line[n - 1] = 0;
	if (*line == 0)
	    continue;
	if ((val = strchr(line, ':')) == 0) {
	    vstring_sprintf(why, "policy line without \":\": %.50s", line);
	    goto bad;
	}
	*val++ = 0;
	val += strspn(val, " \t");
	val[strcspn(val, " \t")] = 0;
	if (strcmp(key, "version") == 0) {
	    if (strcmp(val, "STSv1") != 0) {
		vstring_sprintf(why, "unsupported policy version \"%.20s\"", val);
		goto bad;
	    }
	    have_version = 1;
	} else if (strcmp(key, "mode") == 0) {
	    if (strcmp(val, "enforce") == 0)
		pol->mode = MTA_STS_MODE_ENFORCE;
	    else if (strcmp(val, "testing") == 0)
		pol->mode = MTA_STS_MODE_TESTING;
	    else if (strcmp(val, "none") == 0)
		pol->mode = MTA_STS_MODE_NONE;
	    else {
		vstring_sprintf(why, "invalid policy mode \"%.20s\"", val);
		goto bad;
	    }
	    have_mode = 1;
	} else if (strcmp(key, "max_age") == 0) {
	    if (!alldig(val) || *val == 0 || strlen(val) > 10) {
		vstring_sprintf(why, "invalid max_age \"%.20s\"", val);
		goto bad;
	    }
	    pol->max_age = atol(val);
	    if (pol->max_age > MTA_STS_MAX_AGE)
		pol->max_age = MTA_STS_MAX_AGE;
	    have_age = 1;
	} else if (strcmp(key, "mx") == 0) {
	    if (*val)
		argv_add(pol->mx, lowercase(val));
	}
	/* Other keys are for future versions: ignored (section 3.2). */
    }
    if (!have_version || !have_mode || !have_age) {
	vstring_sprintf(why, "policy without %s", !have_version ? "version" :
			!have_mode ? "mode" : "max_age");
	goto bad;
    }
    if (pol->mode != MTA_STS_MODE_NONE && pol->mx->argc == 0) {
	vstring_strcpy(why, "policy without mx");
	goto bad;
    }
    myfree(copy);
    return (0);
bad:
    myfree(copy);
    return (-1);
}

int     mta_sts_mx_match(const MTA_STS_POLICY *pol, const char *host)
{
    for (size_t i = 0; pol->mx && i < pol->mx->argc; i++) {
	const char *pat = pol->mx->argv[i];

	if (strncmp(pat, "*.", 2) == 0) {
	    const char *dot = strchr(host, '.');

	    if (dot && dot != host && strcasecmp(dot + 1, pat + 2) == 0)
		return (1);
	} else if (strcasecmp(pat, host) == 0) {
	    return (1);
	}
    }
    return (0);
}

/* sts_txt_id - the id of the one "v=STSv1" TXT record; 1, 0 (none), -1 (retry) */
static int sts_txt_id(const char *domain, VSTRING *id)
{
    ARGV   *txt = argv_alloc(2);
    VSTRING *name = vstring_alloc(100);
    int     st, found = 0;

    vstring_sprintf(name, "_mta-sts.%s", domain);
    st = dns_lookup_txt_list(vstring_str(name), txt, 0, 0);
    for (size_t i = 0; st == DNS_OK && i < txt->argc; i++) {
	char   *rec = txt->argv[i], *cp, *field;

	if (strncmp(rec, "v=STSv1", 7) != 0 || (rec[7] != ';' && rec[7] != 0
						 && rec[7] != ' '))
	    continue;
	if (found++) {
	    found = 2;				/* more than one: invalid */
	    break;
	}
	cp = rec + 7;
	vstring_reset(id);
	while ((field = strsep(&cp, ";")) != 0) {
	    field += strspn(field, " \t");
	    if (strncmp(field, "id=", 3) == 0) {
		vstring_strcpy(id, field + 3);
		vstring_truncate(id, strcspn(vstring_str(id), " \t"));
	    }
	}
    }
    argv_free(txt);
    vstring_free(name);
    if (st == DNS_RETRY)
	return (-1);
    return (found == 1 && vstring_len(id) > 0 && vstring_len(id) <= 32);
}

/* sts_cache_open - the cache table, or NULL */
static DICT *sts_cache_open(void)
{
    const char *map = mail_conf_str(VAR_SMTP_MTA_STS_CACHE_MAP);
    mode_t  saved;

    if (sts_cache || sts_cache_tried || *map == 0)
	return (sts_cache);
    sts_cache_tried = 1;
    saved = umask(022);
    sts_cache = dict_open_mode(map, O_CREAT | O_RDWR,
			       (DICT_FLAG_DEFAULT | DICT_FLAG_DUP_REPLACE | DICT_FLAG_LOCK)
			       & ~DICT_FLAG_DUP_WARN, 0644);
    (void) umask(saved);
    if (dict_error_text(sts_cache)) {
	msg_warn("cannot open MTA-STS cache %s: %s", map, dict_error_text(sts_cache));
	dict_close(sts_cache);
	sts_cache = 0;
    }
    return (sts_cache);
}

/* sts_cache_get - an unexpired cached policy of domain; 1 or 0 */
static int sts_cache_get(const char *domain, MTA_STS_POLICY *pol)
{
    DICT   *d = sts_cache_open();
    const char *val;
    char   *copy, *id, *when, *text;
    VSTRING *why;
    int     ok = 0;

    if (d == 0 || (val = dict_get(d, domain)) == 0)
	return (0);
    copy = mystrdup(val);
    id = copy;
    if ((when = strchr(id, '\t')) != 0 && (text = strchr(when + 1, '\t')) != 0) {
	*when++ = 0;
	*text++ = 0;
	for (char *cp = text; (cp = strstr(cp, "\\n")) != 0; cp++) {
	    cp[0] = '\n';
	    memmove(cp + 1, cp + 2, strlen(cp + 2) + 1);
	}
	why = vstring_alloc(50);
	if (mta_sts_parse(text, pol, why) == 0
	    && atol(when) + pol->max_age > time((time_t *) 0)) {
	    myfree(pol->id);
	    myfree(pol->text);
	    pol->id = mystrdup(id);
	    pol->text = mystrdup(text);
	    pol->fetched = atol(when);
	    ok = 1;
	}
	vstring_free(why);
    }
    myfree(copy);
    return (ok);
}

/* sts_cache_put - remember a fetched policy */
static void sts_cache_put(const char *domain, const MTA_STS_POLICY *pol)
{
    DICT   *d = sts_cache_open();
    VSTRING *val;

    if (d == 0)
	return;
    val = vstring_alloc(200);
    vstring_sprintf(val, "%s\t%ld\t", pol->id, (long) pol->fetched);
    for (const char *cp = pol->text; *cp; cp++) {
	if (*cp == '\n')
	    vstring_strcat(val, "\\n");
	else if (*cp != '\r')
	    vstring_addch(val, *cp);
    }
    if (dict_put(d, domain, vstring_str(val)) < 0)
	msg_warn("cannot update MTA-STS cache %s: %s",
		 mail_conf_str(VAR_SMTP_MTA_STS_CACHE_MAP),
		 dict_error_text(d) ? dict_error_text(d) : "write error");
    vstring_free(val);
}

/* sts_fetch - the policy over HTTPS; 0 or -1 with why and failure */
static int sts_fetch(const char *domain, MTA_STS_POLICY *pol, VSTRING *why)
{
    VSTRING *host = vstring_alloc(100);
    VSTRING *body = vstring_alloc(1000);
    DNS_ADDR_LIST addrs;
    int     ret = -1;

    dns_addr_list_init(&addrs);
    vstring_sprintf(host, "mta-sts.%s", domain);
    pol->failure = "sts-policy-fetch-error";
    if (dns_lookup_addr(vstring_str(host), 0, DNS_FAMILY_INET | DNS_FAMILY_INET6,
			&addrs, why) != DNS_OK)
	goto done;
    for (size_t i = 0; i < addrs.count; i++) {
	if (tls_https_get(addrs.addr[i].ip, 443, vstring_str(host),
			  "/.well-known/mta-sts.txt",
			  mail_conf_str(VAR_SMTP_MTA_STS_CAFILE), MTA_STS_TIMEOUT,
			  MTA_STS_MAX_SIZE, body, why) == 0) {
	    ret = 0;
	    break;
	}
	if (strncmp(vstring_str(why), "webpki:", 7) == 0)
	    pol->failure = "sts-webpki-invalid";
    }
    if (ret == 0) {
	if (mta_sts_parse(vstring_str(body), pol, why) < 0) {
	    pol->failure = "sts-policy-invalid";
	    ret = -1;
	} else {
	    myfree(pol->text);
	    pol->text = mystrdup(vstring_str(body));
	    pol->failure = 0;
	}
    }
done:
    dns_addr_list_free(&addrs);
    vstring_free(host);
    vstring_free(body);
    return (ret);
}

int     mta_sts_lookup(const char *domain, MTA_STS_POLICY *pol, VSTRING *why)
{
    VSTRING *id = vstring_alloc(40);
    int     txt, cached;

    memset(pol, 0, sizeof(*pol));
    txt = sts_txt_id(domain, id);
    cached = sts_cache_get(domain, pol);

    /* No record (or DNS trouble): the cached policy, if any, still holds. */
    if (txt <= 0) {
	vstring_free(id);
	return (cached ? MTA_STS_FOUND : MTA_STS_NONE);
    }
    if (cached && strcmp(pol->id, vstring_str(id)) == 0) {
	vstring_free(id);
	return (MTA_STS_FOUND);
    }
    if (sts_fetch(domain, pol, why) < 0) {
	msg_warn("MTA-STS policy for %s: %s", domain, vstring_str(why));
	vstring_free(id);
	if (cached && sts_cache_get(domain, pol)) {
	    pol->failure = 0;
	    return (MTA_STS_FOUND);
	}
	return (MTA_STS_FAIL);
    }
    myfree(pol->id);
    pol->id = vstring_export(id);
    pol->fetched = time((time_t *) 0);
    sts_cache_put(domain, pol);
    return (MTA_STS_FOUND);
}
