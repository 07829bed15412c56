/*
 * NAME
 *	srs - Sender Rewriting Scheme (SRS0/SRS1) for forwarded mail
 * DESCRIPTION
 *	See srs.h. The hash and timestamp encodings follow libsrs2 (and
 *	postsrsd, which uses it): the HMAC input is the lower-cased fields
 *	concatenated without separators, the hash is the first
 *	SRS_HASH_LEN characters of the standard base64 alphabet applied to
 *	the digest, the timestamp is two base32 digits (A-Z2-7) of the day
 *	number modulo 1024. We always write "=" after the tag and accept
 *	"=", "+" and "-" there, as libsrs2 does.
 *
 *	XXX srs_exclude_domains takes literal domains only (".example"
 *	for subdomains); type:table entries are ignored with a warning.
 * DIAGNOSTICS
 *	Warnings for an unreadable or empty srs_secret_file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/srs.h"

struct SRS {
    char   *domain;			/* srs_domain, lower case */
    ARGV   *secrets;			/* first signs, all verify */
    long    max_age_days;
    ARGV   *exclude;			/* srs_exclude_domains */
    int     broken;			/* secrets unreadable */
};

#define SRS0_TAG	"SRS0"
#define SRS1_TAG	"SRS1"
#define SRS_SEP		'='
#define SRS_IS_TAGSEP(c) ((c) == '=' || (c) == '+' || (c) == '-')

static const char srs_b64[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char srs_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* srs_create - a rewriter for one domain */

SRS    *srs_create(const char *domain, const ARGV *secrets, long max_age)
{
    SRS    *srs = mymalloc(sizeof(*srs));

    srs->domain = lowercase(mystrdup(domain));
    srs->secrets = argv_alloc(secrets ? secrets->argc : 1);
    if (secrets)
	for (size_t i = 0; i < secrets->argc; i++)
	    argv_add(srs->secrets, secrets->argv[i]);
    srs->max_age_days = max_age / SRS_DAY;
    srs->exclude = argv_alloc(1);
    srs->broken = (srs->secrets->argc == 0);
    return (srs);
}

/* srs_set_exclude - domains whose senders we never rewrite */

void    srs_set_exclude(SRS *srs, const char *list)
{
    char   *saved = mystrdup(list ? list : "");
    char   *bp = saved;
    char   *item;

    argv_truncate(srs->exclude, 0);
    while ((item = mystrtok_list(&bp)) != 0) {
	if (strchr(item, ':') != 0 || *item == '/') {
	    msg_warn("srs_exclude_domains: table or file \"%s\" is not supported; ignored",
		     item);
	    continue;
	}
	argv_add(srs->exclude, lowercase(item));
    }
    myfree(saved);
}

/* srs_read_secrets - one secret per line; blank lines skipped */

static int srs_read_secrets(const char *path, ARGV *secrets)
{
    VSTREAM *fp;
    VSTRING *line;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	msg_warn("open srs_secret_file %s: %s", path, strerror(errno));
	return (-1);
    }
    line = vstring_alloc(100);
    while (vstream_get_line(fp, line, 4096) != VSTREAM_EOF) {
	char   *cp = vstring_str(line);

	cp = trimblanks(cp);
	if (*cp)
	    argv_add(secrets, cp);
    }
    vstring_free(line);
    vstream_close(fp);
    if (secrets->argc == 0) {
	msg_warn("srs_secret_file %s holds no secret", path);
	return (-1);
    }
    return (0);
}

/* srs_from_conf - the rewriter that main.cf asks for, or NULL */

SRS    *srs_from_conf(void)
{
    const char *domain = mail_conf_str(VAR_SRS_DOMAIN);
    const char *path = mail_conf_str(VAR_SRS_SECRET_FILE);
    ARGV   *secrets;
    SRS    *srs;

    if (*domain == 0)
	return (0);
    secrets = argv_alloc(2);
    if (*path == 0)
	msg_warn("srs_domain is set but srs_secret_file is empty: SRS disabled");
    else
	(void) srs_read_secrets(path, secrets);
    srs = srs_create(domain, secrets, mail_conf_time(VAR_SRS_MAX_AGE));
    argv_free(secrets);
    srs_set_exclude(srs, mail_conf_str(VAR_SRS_EXCLUDE_DOMAINS));
    return (srs);
}

void    srs_free(SRS *srs)
{
    myfree(srs->domain);
    argv_free(srs->secrets);
    argv_free(srs->exclude);
    myfree(srs);
}

const char *srs_domain(SRS *srs)
{
    return (srs->domain);
}

/* srs_timestamp - two base32 digits of the day number */

void    srs_timestamp(time_t now, char buf[3])
{
    long    day = (long) (now / SRS_DAY);

    buf[1] = srs_b32[day & 31];
    buf[0] = srs_b32[(day >> 5) & 31];
    buf[2] = 0;
}

/* srs_timestamp_check - SRS_OK, SRS_ERR_SYNTAX or SRS_ERR_EXPIRED */

static int srs_timestamp_check(SRS *srs, const char *stamp, time_t now)
{
    long    then = 0;
    long    today;
    const char *cp;

    if (strlen(stamp) != 2)
	return (SRS_ERR_SYNTAX);
    for (cp = stamp; *cp; cp++) {
	const char *pos = strchr(srs_b32, toupper((unsigned char) *cp));

	if (pos == 0)
	    return (SRS_ERR_SYNTAX);
	then = (then << 5) | (pos - srs_b32);
    }
    today = (long) ((now / SRS_DAY) % SRS_TIME_SLOTS);
    while (today < then)
	today += SRS_TIME_SLOTS;
    return (today <= then + srs->max_age_days ? SRS_OK : SRS_ERR_EXPIRED);
}

/* srs_hash - HMAC-SHA1 of the lower-cased fields, base64, 4 characters */

int     srs_hash(const char *secret, VSTRING *result, int nargs,...)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    VSTRING *data = vstring_alloc(100);
    va_list ap;
    int     i;

    va_start(ap, nargs);
    for (i = 0; i < nargs; i++)
	vstring_strcat(data, va_arg(ap, const char *));
    va_end(ap);
    lowercase(vstring_str(data));
    if (HMAC(EVP_sha1(), secret, (int) strlen(secret),
	     (const unsigned char *) vstring_str(data), vstring_len(data),
	     digest, &dlen) == 0) {
	vstring_free(data);
	return (-1);
    }
    vstring_free(data);

    /* The first SRS_HASH_LEN base64 digits: 6 bits each, MSB first. */
    vstring_reset(result);
    for (i = 0; i < SRS_HASH_LEN; i++) {
	int     bit = i * 6;
	int     byte = bit / 8;
	int     shift = bit % 8;
	unsigned v = ((unsigned) digest[byte] << 8) | digest[byte + 1];

	vstring_addch(result, srs_b64[(v >> (10 - shift)) & 0x3f]);
    }
    return (0);
}

/* srs_hash_verify - does any secret give this hash (ignoring case)? */

static int srs_hash_verify(SRS *srs, const char *hash, const char *a,
			           const char *b, const char *c)
{
    VSTRING *want = vstring_alloc(SRS_HASH_LEN);
    int     ret = SRS_ERR_HASH;

    if (strlen(hash) != SRS_HASH_LEN) {
	vstring_free(want);
	return (SRS_ERR_HASH);
    }
    for (size_t i = 0; i < srs->secrets->argc; i++) {
	int     rc = (c ? srs_hash(srs->secrets->argv[i], want, 3, a, b, c)
		      : srs_hash(srs->secrets->argv[i], want, 2, a, b));

	if (rc == 0 && strcasecmp(vstring_str(want), hash) == 0) {
	    ret = SRS_OK;
	    break;
	}
    }
    vstring_free(want);
    return (ret);
}

/* srs_excluded - sender domain in srs_exclude_domains? */

static int srs_excluded(SRS *srs, const char *domain)
{
    size_t  dlen = strlen(domain);

    for (size_t i = 0; i < srs->exclude->argc; i++) {
	const char *pat = srs->exclude->argv[i];
	size_t  plen = strlen(pat);

	if (strcasecmp(pat, domain) == 0)
	    return (1);
	if (pat[0] == '.' && dlen > plen
	    && strcasecmp(domain + dlen - plen, pat) == 0)
	    return (1);
    }
    return (0);
}

/* srs_has_tag - local part starts with SRS0/SRS1 and a separator */

static int srs_has_tag(const char *local, const char *tag)
{
    return (strncasecmp(local, tag, 4) == 0 && SRS_IS_TAGSEP(local[4]));
}

/* srs_forward - rewrite a sender for forwarding */

int     srs_forward(SRS *srs, const char *sender, VSTRING *result, time_t now)
{
    char   *copy;
    char   *domain;
    char   *local;
    char   *host;
    char   *rest;
    VSTRING *hash;
    char    stamp[3];
    int     ret = SRS_OK;

    vstring_strcpy(result, sender);
    if (*sender == 0 || (domain = strrchr(sender, '@')) == 0
	|| domain[1] == 0 || domain == sender)
	return (SRS_NOCHANGE);
    domain += 1;
    if (strcasecmp(domain, srs->domain) == 0 || srs_excluded(srs, domain))
	return (SRS_NOCHANGE);
    if (srs->broken || srs->secrets->argc == 0) {
	msg_warn("SRS: no usable secret: sender <%s> not rewritten", sender);
	return (SRS_ERR_TEMP);
    }
    copy = mystrdup(sender);
    local = copy;
    domain = split_at_right(copy, '@');
    hash = vstring_alloc(SRS_HASH_LEN);

    if (srs_has_tag(local, SRS0_TAG)) {
	/* Another forwarder's SRS0: keep its host, sign again. */
	const char *rest = local + 4;

	srs_hash(srs->secrets->argv[0], hash, 2, domain, rest);
	vstring_sprintf(result, "%s%c%s%c%s%c%s@%s", SRS1_TAG, SRS_SEP,
			vstring_str(hash), SRS_SEP, domain, SRS_SEP, rest,
			srs->domain);
    } else if (srs_has_tag(local, SRS1_TAG)
	       && (host = strchr(local + 5, SRS_SEP)) != 0
	       && (rest = strchr(host + 1, SRS_SEP)) != 0) {
	/* SRS1 again: keep the first hop, replace the hash. */
	*host++ = 0;
	*rest++ = 0;
	srs_hash(srs->secrets->argv[0], hash, 2, host, rest);
	vstring_sprintf(result, "%s%c%s%c%s%c%s@%s", SRS1_TAG, SRS_SEP,
			vstring_str(hash), SRS_SEP, host, SRS_SEP, rest,
			srs->domain);
    } else {
	/* An ordinary sender (or a malformed SRS1 one, taken as is). */
	srs_timestamp(now, stamp);
	srs_hash(srs->secrets->argv[0], hash, 3, stamp, domain, local);
	vstring_sprintf(result, "%s%c%s%c%s%c%s%c%s@%s", SRS0_TAG, SRS_SEP,
			vstring_str(hash), SRS_SEP, stamp, SRS_SEP, domain,
			SRS_SEP, local, srs->domain);
    }
    vstring_free(hash);
    myfree(copy);
    return (ret);
}

/* srs_is_ours - address in srs_domain? */

int     srs_is_ours(SRS *srs, const char *addr)
{
    const char *at = strrchr(addr, '@');

    return (at != 0 && strcasecmp(at + 1, srs->domain) == 0);
}

/* srs_reverse - where a bounce to an SRS address must go */

int     srs_reverse(SRS *srs, const char *addr, VSTRING *result, time_t now)
{
    char   *copy;
    char   *local;
    int     ret;

    vstring_reset(result);
    if (!srs_is_ours(srs, addr))
	return (SRS_NOT_SRS);
    copy = mystrdup(addr);
    local = copy;
    (void) split_at_right(copy, '@');

    if (srs_has_tag(local, SRS0_TAG)) {
	char   *hash = local + 5;
	char   *stamp, *odomain, *ouser;

	if ((stamp = split_at(hash, SRS_SEP)) == 0
	    || (odomain = split_at(stamp, SRS_SEP)) == 0
	    || (ouser = split_at(odomain, SRS_SEP)) == 0
	    || *odomain == 0 || *ouser == 0) {
	    ret = SRS_ERR_SYNTAX;
	} else if (srs_timestamp_check(srs, stamp, now) == SRS_ERR_SYNTAX) {
	    ret = SRS_ERR_SYNTAX;
	} else if (srs->broken) {
	    ret = SRS_ERR_TEMP;
	} else if ((ret = srs_hash_verify(srs, hash, stamp, odomain, ouser)) == SRS_OK
		   && (ret = srs_timestamp_check(srs, stamp, now)) == SRS_OK) {
	    vstring_sprintf(result, "%s@%s", ouser, odomain);
	}
    } else if (srs_has_tag(local, SRS1_TAG)) {
	char   *hash = local + 5;
	char   *host, *rest;

	if ((host = split_at(hash, SRS_SEP)) == 0
	    || (rest = split_at(host, SRS_SEP)) == 0
	    || *host == 0 || *rest == 0) {
	    ret = SRS_ERR_SYNTAX;
	} else if (srs->broken) {
	    ret = SRS_ERR_TEMP;
	} else if ((ret = srs_hash_verify(srs, hash, host, rest, 0)) == SRS_OK) {
	    vstring_sprintf(result, "%s%s@%s", SRS0_TAG, rest, host);
	}
    } else {
	ret = SRS_NOT_SRS;
    }
    myfree(copy);
    return (ret);
}

const char *srs_strerror(int status)
{
    switch (status) {
    case SRS_OK:
	return ("success");
    case SRS_NOCHANGE:
	return ("sender not rewritten");
    case SRS_NOT_SRS:
	return ("not an SRS address");
    case SRS_ERR_SYNTAX:
	return ("malformed SRS address");
    case SRS_ERR_HASH:
	return ("SRS hash does not verify");
    case SRS_ERR_EXPIRED:
	return ("SRS address has expired");
    case SRS_ERR_TEMP:
	return ("SRS secret is not available");
    default:
	return ("unknown SRS error");
    }
}

/* srs_domain_of - the domain of an address, or "" */

static const char *srs_domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return (at ? at + 1 : "");
}

/* srs_request_sender - the envelope sender for one delivery request */

int     srs_request_sender(SRS *srs, const DELIVER_REQUEST *req,
			           VSTRING *result, time_t now)
{
    int     forwarded = 0;

    vstring_strcpy(result, req->sender ? req->sender : "");
    if (srs == 0 || req->sender == 0 || *req->sender == 0
	|| DEL_REQ_TRACE_ONLY(req->flags))
	return (0);
    for (size_t i = 0; i < req->rcpt_count && !forwarded; i++) {
	const RECIPIENT *r = req->rcpt + i;

	if (r->orig_addr && *r->orig_addr
	    && strcasecmp(srs_domain_of(r->orig_addr), srs_domain_of(r->address)) != 0)
	    forwarded = 1;
    }
    if (!forwarded)
	return (0);
    return (srs_forward(srs, req->sender, result, now) == SRS_OK);
}
