/*
 * NAME
 *	tls_info - what a TLS session is, as Postfix logs and shows it
 * DESCRIPTION
 *	See tls_info.h. The key exchange and signature words are Postfix
 *	3.7's (compared with Debian's Postfix on both sides of a
 *	connection): "key-exchange X25519", "key-exchange ECDHE
 *	(prime256v1)", "key-exchange DHE (2048 bits)"; "server-signature
 *	RSA-PSS (2048 bits)" (TLS 1.3 signs with RSA-PSS),
 *	"server-signature ECDSA (prime256v1)"; the digest after it.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/mymalloc.h"
#include "tls/tls_fprint.h"
#include "tls/tls_info.h"

char   *tls_text_name(X509_NAME *name, int nid)
{
    int     pos;
    X509_NAME_ENTRY *entry;
    unsigned char *utf8 = 0;
    int     len;
    char   *text;

    if (name == 0 || (pos = X509_NAME_get_index_by_NID(name, nid, -1)) < 0
	|| (entry = X509_NAME_get_entry(name, pos)) == 0
	|| (len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))) < 0)
	return (0);
    /* A NUL inside the name would hide what follows it: no name. */
    if ((size_t) len != strlen((char *) utf8)) {
	OPENSSL_free(utf8);
	return (0);
    }
    text = mystrdup((char *) utf8);
    OPENSSL_free(utf8);
    for (unsigned char *cp = (unsigned char *) text; *cp; cp++)
	if (*cp < 0x20 || *cp == 0x7f)
	    *cp = '?';
    return (text);
}

/* group_name - OpenSSL's name of the curve of an EC key */
static const char *group_name(EVP_PKEY *key, char *buf, size_t len)
{
    size_t  glen = 0;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, buf, len, &glen) != 1)
	snprintf(buf, len, "unknown");
    return (buf);
}

/* kex_text - "key-exchange X25519" and friends */
static void kex_text(VSTRING *out, EVP_PKEY *tmp)
{
    char    group[64];

    switch (EVP_PKEY_get_base_id(tmp)) {
    case EVP_PKEY_EC:
	vstring_sprintf_append(out, "key-exchange ECDHE (%s)", group_name(tmp, group, sizeof(group)));
	break;
    case EVP_PKEY_DH:
	vstring_sprintf_append(out, "key-exchange DHE (%d bits)", EVP_PKEY_get_bits(tmp));
	break;
    default:
	vstring_sprintf_append(out, "key-exchange %s",
			       EVP_PKEY_get0_type_name(tmp) ? EVP_PKEY_get0_type_name(tmp)
			       : OBJ_nid2sn(EVP_PKEY_get_base_id(tmp)));
	break;
    }
}

/* sig_text - "WHO-signature RSA-PSS (2048 bits) WHO-digest SHA256" */
static void sig_text(VSTRING *out, const char *who, EVP_PKEY *key, int digest_nid)
{
    char    group[64];

    if (vstring_len(out))
	vstring_strcat(out, " ");
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
	vstring_sprintf_append(out, "%s-signature RSA-PSS (%d bits)", who, EVP_PKEY_get_bits(key));
	break;
    case EVP_PKEY_EC:
	vstring_sprintf_append(out, "%s-signature ECDSA (%s)", who,
			       group_name(key, group, sizeof(group)));
	break;
    default:
	vstring_sprintf_append(out, "%s-signature %s", who,
			       OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
	break;
    }
    if (digest_nid != NID_undef)
	vstring_sprintf_append(out, " %s-digest %s", who, OBJ_nid2sn(digest_nid));
}

/* signatures - the TLS 1.3 key exchange and signature words */
static void signatures(SSL *ssl, int is_server, TLS_INFO *info)
{
    VSTRING *kex = vstring_alloc(100);
    VSTRING *peer = vstring_alloc(100);
    EVP_PKEY *tmp = 0;
    EVP_PKEY *local_key = SSL_get_privatekey(ssl);
    X509   *peer_cert = SSL_get0_peer_certificate(ssl);
    EVP_PKEY *peer_key = peer_cert ? X509_get0_pubkey(peer_cert) : 0;
    int     local_md = NID_undef, peer_md = NID_undef;

    if ((is_server ? SSL_get_tmp_key(ssl, &tmp) : SSL_get_peer_tmp_key(ssl, &tmp)) && tmp) {
	kex_text(kex, tmp);
	EVP_PKEY_free(tmp);
    }
    /* Without a signature in this handshake (resumption): no digest. */
    if (SSL_get_signature_nid(ssl, &local_md) != 1)
	local_md = NID_undef;
    if (SSL_get_peer_signature_nid(ssl, &peer_md) != 1)
	peer_md = NID_undef;
    if (is_server) {
	if (local_key)
	    sig_text(kex, "server", local_key, local_md);
	if (peer_key)
	    sig_text(peer, "client", peer_key, peer_md);
    } else {
	if (peer_key)
	    sig_text(kex, "server", peer_key, peer_md);
	if (local_key && local_md != NID_undef)
	    sig_text(peer, "client", local_key, local_md);
    }
    info->kex = vstring_export(kex);
    info->peer_sig = vstring_export(peer);
}

TLS_INFO *tls_info_create(SSL *ssl, int is_server, const EVP_MD *md)
{
    TLS_INFO *info = mycalloc(1, sizeof(*info));
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    X509   *cert = SSL_get0_peer_certificate(ssl);
    VSTRING *buf = vstring_alloc(100);
    char   *name;

    info->protocol = mystrdup(SSL_get_version(ssl));
    info->cipher = mystrdup(cipher ? SSL_CIPHER_get_name(cipher) : "");
    info->bits = cipher ? SSL_CIPHER_get_bits(cipher, &info->alg_bits) : 0;
    info->reused = SSL_session_reused(ssl);
    if (SSL_version(ssl) >= TLS1_3_VERSION) {
	signatures(ssl, is_server, info);
    } else {
	info->kex = mystrdup("");
	info->peer_sig = mystrdup("");
    }
    info->verify_error = SSL_get_verify_result(ssl);
    info->peer_cert = (cert != 0);
    info->peer_trusted = (cert != 0 && info->verify_error == X509_V_OK);
    name = cert ? tls_text_name(X509_get_subject_name(cert), NID_commonName) : 0;
    info->peer_CN = name ? name : mystrdup("");
    name = cert ? tls_text_name(X509_get_issuer_name(cert), NID_commonName) : 0;
    if (name == 0 && cert)
	name = tls_text_name(X509_get_issuer_name(cert), NID_organizationName);
    info->issuer_CN = name ? name : mystrdup("");
    info->cert_fprint = mystrdup(cert && tls_fprint_cert(cert, md, buf) == 0 ? vstring_str(buf) : "");
    info->pkey_fprint = mystrdup(cert && tls_fprint_pkey(cert, md, buf) == 0 ? vstring_str(buf) : "");
    vstring_free(buf);
    return (info);
}

void    tls_info_summary(const TLS_INFO *info, VSTRING *out)
{
    vstring_sprintf(out, "%s with cipher %s (%d/%d bits)", info->protocol, info->cipher,
		    info->bits, info->alg_bits);
    if (*info->kex)
	vstring_sprintf_append(out, " %s", info->kex);
    if (*info->peer_sig)
	vstring_sprintf_append(out, " %s", info->peer_sig);
}

const char *tls_info_trust(const TLS_INFO *info)
{
    return (!info->peer_cert ? "Anonymous" : info->peer_trusted ? "Trusted" : "Untrusted");
}

void    tls_info_free(TLS_INFO *info)
{
    if (info == 0)
	return;
    myfree(info->protocol);
    myfree(info->cipher);
    myfree(info->kex);
    myfree(info->peer_sig);
    myfree(info->peer_CN);
    myfree(info->issuer_CN);
    myfree(info->cert_fprint);
    myfree(info->pkey_fprint);
    myfree(info);
}
