/*
 * NAME
 *	tls_dane - DANE TLSA records for the TLS client (RFC 7672)
 * SYNOPSIS
 *	#include "tls/tls_dane.h"
 *
 *	TLS_DANE *tls_dane_alloc(const char *base);
 *	int tls_dane_add(TLS_DANE *dane, int usage, int selector, int mtype,
 *			 const unsigned char *data, size_t len,
 *			 const char *digests);
 *	void tls_dane_free(TLS_DANE *dane);
 *
 *	int tls_dane_digests_parse(const char *digests, TLS_DANE_DIGEST *out,
 *				   int max, VSTRING *why);
 *	const char *tls_dane_usage_name(int usage);
 * DESCRIPTION
 *	A TLS_DANE holds the usable TLSA records of one server and its
 *	TLSA base domain (the MX host name: the name the certificate is
 *	checked against for DANE-TA, and the SNI name). tls_client(3)
 *	hands them to OpenSSL's DANE verifier (SSL_dane_enable,
 *	SSL_dane_tlsa_add).
 *
 *	tls_dane_add() keeps a record only when RFC 7672 lets an SMTP
 *	client use it: usage DANE-TA(2) or DANE-EE(3) (PKIX-TA(0) and
 *	PKIX-EE(1) are ignored, section 3.1.3), selector Cert(0) or
 *	SPKI(1), matching type Full(0) or a digest named in digests
 *	(tls_dane_digests) with data of that digest's length. 1 when kept,
 *	0 when unusable.
 *
 *	tls_dane_digests_parse() reads Postfix's tls_dane_digests syntax
 *	("sha512 sha256", "sha256=1", "name=number"): names in descending
 *	preference, each a digest OpenSSL knows; the standard ones must
 *	have their IANA number (sha256=1, sha512=2). Returns the count, or
 *	-1 with a reason. tls_dane_add() keeps no digest record when the
 *	list is invalid (Postfix: invalid elements disable DANE).
 *
 *	tls_dane_usage_name() is "DANE-TA", "DANE-EE", ... for logs.
 * DIAGNOSTICS
 *	Nothing here logs; callers warn.
 * SEE ALSO
 *	tls_client(3), RFC 6698, RFC 7671, RFC 7672
 */
#ifndef TLS_DANE_H
#define TLS_DANE_H
#include <stddef.h>
#include "util/vstring.h"

typedef struct TLS_DANE_REC {
    int     usage;
    int     selector;
    int     mtype;
    unsigned char *data;
    size_t  len;
} TLS_DANE_REC;

typedef struct TLS_DANE {
    char   *base;			/* TLSA base domain */
    TLS_DANE_REC *rec;
    size_t  count;
    size_t  cap;
} TLS_DANE;

typedef struct TLS_DANE_DIGEST {
    char    name[32];			/* OpenSSL digest name */
    int     mtype;			/* TLSA matching type */
} TLS_DANE_DIGEST;

#define TLS_DANE_MAX_DIGESTS	8

#define TLS_DANE_USAGE_PKIX_TA	0
#define TLS_DANE_USAGE_PKIX_EE	1
#define TLS_DANE_USAGE_DANE_TA	2
#define TLS_DANE_USAGE_DANE_EE	3

extern TLS_DANE *tls_dane_alloc(const char *);
extern int tls_dane_add(TLS_DANE *, int, int, int, const unsigned char *, size_t,
			        const char *);
extern void tls_dane_free(TLS_DANE *);
extern int tls_dane_digests_parse(const char *, TLS_DANE_DIGEST *, int, VSTRING *);
extern const char *tls_dane_usage_name(int);

#endif
