/*
 * NAME
 *	tls_dane - DANE TLSA records for the TLS client (RFC 7672)
 * DESCRIPTION
 *	See tls_dane.h. Usability is decided here, before any connection,
 *	so that the SMTP client knows the effective security level of a
 *	server (dane with no usable record is "encrypt") before it
 *	connects; OpenSSL then does the matching.
 */
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <openssl/evp.h>

#include "util/mymalloc.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "tls/tls_dane.h"

TLS_DANE *tls_dane_alloc(const char *base)
{
    TLS_DANE *dane = mycalloc(1, sizeof(*dane));

    dane->base = mystrdup(base);
    return (dane);
}

void    tls_dane_free(TLS_DANE *dane)
{
    if (dane == 0)
	return;
    for (size_t i = 0; i < dane->count; i++)
	myfree(dane->rec[i].data);
    myfree(dane->rec);
    myfree(dane->base);
    myfree(dane);
}

int     tls_dane_digests_parse(const char *digests, TLS_DANE_DIGEST *out, int max,
			               VSTRING *why)
{
    ARGV   *av = argv_split(digests ? digests : "", LIST_DELIMS);
    int     n = 0;

    for (size_t i = 0; i < av->argc; i++) {
	char   *name = av->argv[i];
	char   *num = strchr(name, '=');
	int     mtype = -1;
	int     std = 0;

	if (num)
	    *num++ = 0;
	if (strcasecmp(name, "sha256") == 0)
	    std = 1;
	else if (strcasecmp(name, "sha512") == 0)
	    std = 2;
	if (num) {
	    if (!alldig(num) || *num == 0 || strlen(num) > 3 || atoi(num) > 255
		|| atoi(num) == 0) {
		vstring_sprintf(why, "invalid matching type number in tls_dane_digests: %s=%s",
				name, num);
		goto bad;
	    }
	    mtype = atoi(num);
	    if (std && mtype != std) {
		vstring_sprintf(why, "tls_dane_digests: %s is matching type %d, not %d",
				name, std, mtype);
		goto bad;
	    }
	} else if (std) {
	    mtype = std;
	} else {
	    vstring_sprintf(why, "tls_dane_digests: digest %s needs an explicit matching type number",
			    name);
	    goto bad;
	}
	if (EVP_get_digestbyname(name) == 0 || strlen(name) >= sizeof(out->name)) {
	    vstring_sprintf(why, "tls_dane_digests: digest algorithm %s not supported by OpenSSL",
			    name);
	    goto bad;
	}
	for (int j = 0; j < n; j++) {
	    if (out[j].mtype == mtype) {
		vstring_sprintf(why, "tls_dane_digests: matching type %d listed twice", mtype);
		goto bad;
	    }
	}
	if (n >= max) {
	    vstring_sprintf(why, "tls_dane_digests: too many digests");
	    goto bad;
	}
	snprintf(out[n].name, sizeof(out[n].name), "%s", name);
	lowercase(out[n].name);
	out[n].mtype = mtype;
	n++;
    }
    argv_free(av);
    return (n);
bad:
    argv_free(av);
    return (-1);
}

/* mtype_usable - the matching type is Full(0) or a listed digest of that length */
static int mtype_usable(int mtype, size_t len, const char *digests)
{
    TLS_DANE_DIGEST dg[TLS_DANE_MAX_DIGESTS];
    VSTRING *why;
    int     n;

    if (mtype == 0)
	return (len > 0);
    why = vstring_alloc(50);
    n = tls_dane_digests_parse(digests, dg, TLS_DANE_MAX_DIGESTS, why);
    vstring_free(why);
    for (int i = 0; i < n; i++) {
	if (dg[i].mtype == mtype) {
	    const EVP_MD *md = EVP_get_digestbyname(dg[i].name);

	    return (md != 0 && (size_t) EVP_MD_size(md) == len);
	}
    }
    return (0);
}

int     tls_dane_add(TLS_DANE *dane, int usage, int selector, int mtype,
		             const unsigned char *data, size_t len, const char *digests)
{
    TLS_DANE_REC *r;

    /* RFC 7672 section 3.1.3: PKIX usages are not for SMTP. */
    if (usage != TLS_DANE_USAGE_DANE_TA && usage != TLS_DANE_USAGE_DANE_EE)
	return (0);
    if (selector != 0 && selector != 1)
	return (0);
    if (!mtype_usable(mtype, len, digests))
	return (0);
    if (dane->count >= dane->cap) {
	dane->cap = dane->cap ? 2 * dane->cap : 4;
	dane->rec = myrealloc(dane->rec, dane->cap * sizeof(*dane->rec));
    }
    r = dane->rec + dane->count++;
    r->usage = usage;
    r->selector = selector;
    r->mtype = mtype;
    r->len = len;
    r->data = mymalloc(len ? len : 1);
    memcpy(r->data, data, len);
    return (1);
}

const char *tls_dane_usage_name(int usage)
{
    switch (usage) {
    case TLS_DANE_USAGE_PKIX_TA:
	return ("PKIX-TA");
    case TLS_DANE_USAGE_PKIX_EE:
	return ("PKIX-EE");
    case TLS_DANE_USAGE_DANE_TA:
	return ("DANE-TA");
    case TLS_DANE_USAGE_DANE_EE:
	return ("DANE-EE");
    default:
	return ("unknown");
    }
}
