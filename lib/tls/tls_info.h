/*
 * NAME
 *	tls_info - what a TLS session is, as Postfix logs and shows it
 * SYNOPSIS
 *	#include "tls/tls_info.h"
 *
 *	TLS_INFO *tls_info_create(SSL *ssl, int is_server, const EVP_MD *md);
 *	void tls_info_summary(const TLS_INFO *info, VSTRING *out);
 *	const char *tls_info_trust(const TLS_INFO *info);
 *	void tls_info_free(TLS_INFO *info);
 *	char *tls_text_name(X509_NAME *name, int nid);
 * DESCRIPTION
 *	tls_info_create() describes a session after its handshake: the
 *	protocol, cipher and its bits; with TLS 1.3 (Postfix 3.7 says
 *	nothing more about older protocols) the key exchange and the
 *	signatures: kex is "key-exchange X25519 server-signature RSA-PSS
 *	(2048 bits) server-digest SHA256" (the digest only when the
 *	handshake signed, so not on a resumed session) and peer_sig, when
 *	the client signed with a certificate, "client-signature RSA-PSS
 *	(2048 bits) client-digest SHA256". is_server says which side ssl
 *	is. The peer's certificate: whether there is one, whether it
 *	verified (a chain to a trusted CA: SSL_get_verify_result()),
 *	its subject and issuer CommonName (the issuer's Organization
 *	when it has no CommonName; "" when there is none), and its
 *	certificate and public key fingerprints with md ("" without a
 *	certificate or md).
 *
 *	tls_info_summary() writes Postfix's log text: "TLSv1.3 with
 *	cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", then kex and
 *	peer_sig when there are. tls_info_trust() is "Trusted" (a
 *	verified certificate), "Untrusted" (one that did not verify) or
 *	"Anonymous" (none), as smtpd logs them.
 *
 *	tls_text_name() is the first nid entry of name (NID_commonName,
 *	NID_organizationName) as printable text: UTF-8 with control
 *	characters replaced by "?", NULL when there is none or it holds
 *	a NUL. The result is the caller's to myfree().
 */
#ifndef TLS_INFO_H
#define TLS_INFO_H
#include <openssl/ssl.h>
#include "util/vstring.h"

typedef struct TLS_INFO {
    char   *protocol;			/* "TLSv1.3" */
    char   *cipher;			/* "TLS_AES_256_GCM_SHA384" */
    int     bits;			/* used */
    int     alg_bits;			/* of the algorithm */
    char   *kex;			/* TLS 1.3 key exchange and server signature, or "" */
    char   *peer_sig;			/* TLS 1.3 client signature, or "" */
    int     reused;			/* a resumed session */
    int     ticket;			/* ... resumed from an RFC 5077 ticket (server) */
    int     peer_cert;			/* the peer sent a certificate */
    int     peer_trusted;		/* ... that verified */
    long    verify_error;		/* SSL_get_verify_result() */
    char   *peer_CN;			/* "" when none */
    char   *issuer_CN;			/* "" when none */
    char   *cert_fprint;		/* "" when none */
    char   *pkey_fprint;		/* "" when none */
} TLS_INFO;

extern TLS_INFO *tls_info_create(SSL *, int, const EVP_MD *);
extern void tls_info_summary(const TLS_INFO *, VSTRING *);
extern const char *tls_info_trust(const TLS_INFO *);
extern void tls_info_free(TLS_INFO *);
extern char *tls_text_name(X509_NAME *, int);

#endif
