/*
 * NAME
 *	tls_fprint - certificate and public key fingerprints
 * SYNOPSIS
 *	#include "tls/tls_fprint.h"
 *
 *	const EVP_MD *tls_fprint_digest(const char *name);
 *	int tls_fprint_cert(X509 *cert, const EVP_MD *md, VSTRING *out);
 *	int tls_fprint_pkey(X509 *cert, const EVP_MD *md, VSTRING *out);
 *	int tls_fprint_decode(const char *text, unsigned char *buf,
 *			      size_t size, size_t *len);
 *	int tls_fprint_match(X509 *cert, const EVP_MD *md, const char *list,
 *			     const char *peer, int *usable);
 * DESCRIPTION
 *	Fingerprints as Postfix writes them: the digest of the DER
 *	certificate, or of its DER SubjectPublicKeyInfo (the public key
 *	fingerprint, Postfix 2.9 and later), in upper-case hex with a
 *	colon between bytes ("0C:B8:AF:...").
 *
 *	tls_fprint_digest() is the OpenSSL digest of a name such as md5,
 *	sha1, sha256 (smtp_tls_fingerprint_digest and
 *	smtpd_tls_fingerprint_digest), or NULL when there is none.
 *	tls_fprint_cert() and tls_fprint_pkey() write the fingerprint
 *	into out: 0, or -1 when OpenSSL cannot compute it.
 *
 *	tls_fprint_decode() reads a fingerprint as an administrator writes
 *	it: hex digits in either case, a colon between bytes optional
 *	(Postfix 3.6 and later): 0, or -1 when it is not hex bytes or more
 *	than size of them.
 *
 *	tls_fprint_match() compares cert with a list of fingerprints
 *	(separated by white space, commas or "|"), each against the
 *	certificate and against its public key: 1 when one matches, else
 *	0. *usable counts the fingerprints of the digest's length; the
 *	others never match, and with peer set each is logged as Postfix
 *	does ("warning: PEER: unusable TLSA RR: 3 1 255 HEX", then the
 *	same with 3 0 255: Postfix 3.7 turns fingerprints into
 *	private-use TLSA records).
 * SEE ALSO
 *	tls_info(3), tls_client(3)
 */
#ifndef TLS_FPRINT_H
#define TLS_FPRINT_H
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "util/vstring.h"

extern const EVP_MD *tls_fprint_digest(const char *);
extern int tls_fprint_cert(X509 *, const EVP_MD *, VSTRING *);
extern int tls_fprint_pkey(X509 *, const EVP_MD *, VSTRING *);
extern int tls_fprint_decode(const char *, unsigned char *, size_t, size_t *);
extern int tls_fprint_match(X509 *, const EVP_MD *, const char *, const char *, int *);

#endif
