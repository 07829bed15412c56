/*
 * NAME
 *	tls_fprint - certificate and public key fingerprints
 * DESCRIPTION
 *	See tls_fprint.h.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "tls/tls_fprint.h"

const EVP_MD *tls_fprint_digest(const char *name)
{
    return (name && *name ? EVP_get_digestbyname(name) : 0);
}

/* hex_text - "AB:CD:..." of a digest */
static void hex_text(VSTRING *out, const unsigned char *md, unsigned len)
{
    vstring_reset(out);
    for (unsigned i = 0; i < len; i++)
	vstring_sprintf_append(out, "%s%02X", i ? ":" : "", md[i]);
}

int     tls_fprint_cert(X509 *cert, const EVP_MD *md, VSTRING *out)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned len;

    if (cert == 0 || md == 0 || X509_digest(cert, md, buf, &len) != 1)
	return (-1);
    hex_text(out, buf, len);
    return (0);
}

int     tls_fprint_pkey(X509 *cert, const EVP_MD *md, VSTRING *out)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned char *der = 0;
    unsigned len;
    int     der_len;
    int     ret = -1;

    if (cert == 0 || md == 0
	|| (der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)) <= 0)
	return (-1);
    if (EVP_Digest(der, (size_t) der_len, buf, &len, md, 0) == 1) {
	hex_text(out, buf, len);
	ret = 0;
    }
    OPENSSL_free(der);
    return (ret);
}

/* hex_value - a hex digit's value, or -1 */
static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
	return (ch - '0');
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
	return (ch - 'a' + 10);
    return (-1);
}

int     tls_fprint_decode(const char *text, unsigned char *buf, size_t size, size_t *len)
{
    const char *cp = text;
    int     hi, lo;

    *len = 0;
    while (*cp) {
	if ((hi = hex_value((unsigned char) cp[0])) < 0
	    || (lo = hex_value((unsigned char) cp[1])) < 0 || *len >= size)
	    return (-1);
	buf[(*len)++] = (unsigned char) (hi << 4 | lo);
	cp += 2;
	/* A colon goes between two bytes, never at the end. */
	if (*cp == ':' && cp[1] != 0)
	    cp++;
    }
    return (*len > 0 ? 0 : -1);
}

int     tls_fprint_match(X509 *cert, const EVP_MD *md, const char *list,
			         const char *peer, int *usable)
{
    char   *saved = mystrdup(list ? list : "");
    char   *bp = saved;
    char   *word;
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned char cert_md[EVP_MAX_MD_SIZE], pkey_md[EVP_MAX_MD_SIZE];
    unsigned cert_len = 0, pkey_len = 0;
    size_t  len;
    int     matched = 0;
    unsigned char *der = 0;
    int     der_len;

    *usable = 0;
    if (cert && md) {
	if (X509_digest(cert, md, cert_md, &cert_len) != 1)
	    cert_len = 0;
	if ((der_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)) > 0) {
	    if (EVP_Digest(der, (size_t) der_len, pkey_md, &pkey_len, md, 0) != 1)
		pkey_len = 0;
	    OPENSSL_free(der);
	}
    }
    while ((word = mystrtok(&bp, " \t\r\n,|")) != 0) {
	if (md == 0 || tls_fprint_decode(word, want, sizeof(want), &len) < 0
	    || len != (size_t) EVP_MD_get_size(md)) {
	    /* Postfix's words: it makes private-use TLSA records of them. */
	    if (peer) {
		VSTRING *hex = vstring_alloc(64);

		for (const char *cp = word; *cp; cp++)
		    if (*cp != ':')
			vstring_sprintf_append(hex, "%c", toupper((unsigned char) *cp));
		msg_warn("%s: unusable TLSA RR: 3 1 255 %s", peer, vstring_str(hex));
		msg_warn("%s: unusable TLSA RR: 3 0 255 %s", peer, vstring_str(hex));
		vstring_free(hex);
	    }
	    continue;
	}
	++*usable;
	if ((cert_len == len && memcmp(cert_md, want, len) == 0)
	    || (pkey_len == len && memcmp(pkey_md, want, len) == 0))
	    matched = 1;
    }
    myfree(saved);
    return (matched);
}
