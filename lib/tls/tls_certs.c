/*
 * NAME
 *	tls_certs - load keys, certificate chains and DH parameters
 * DESCRIPTION
 *	See tls_certs.h. The chain files are read one PEM object at a time
 *	(PEM_read_bio) so that their order can be checked: a key opens a
 *	group, the next certificate is its certificate, more certificates
 *	are its chain, and the next key (or the end) hands the group to
 *	SSL_CTX_use_cert_and_key().
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "tls/tls_io.h"
#include "tls/tls_certs.h"

typedef struct CHAIN_GROUP {
    EVP_PKEY *key;
    int     key_index;			/* PEM object number of the key */
    const char *key_file;
    X509   *cert;
    STACK_OF(X509) *chain;
} CHAIN_GROUP;

static void group_reset(CHAIN_GROUP *g)
{
    EVP_PKEY_free(g->key);
    X509_free(g->cert);
    sk_X509_pop_free(g->chain, X509_free);
    memset(g, 0, sizeof(*g));
}

/* group_done - hand a complete group to the context; 0 or -1 (logged) */
static int group_done(SSL_CTX *ctx, CHAIN_GROUP *g)
{
    int     ret = 0;

    if (g->key == 0)
	return (0);
    if (g->cert == 0) {
	msg_warn("No certs for key at index %d in %s", g->key_index, g->key_file);
	ret = -1;
    } else if (SSL_CTX_use_cert_and_key(ctx, g->cert, g->key, g->chain, 1) != 1) {
	VSTRING *why = vstring_alloc(100);

	tls_io_errors(why);
	msg_warn("error loading the key at index %d in %s%s", g->key_index,
		 g->key_file, vstring_str(why));
	vstring_free(why);
	ret = -1;
    }
    group_reset(g);
    return (ret);
}

/* pem_object - one PEM object into the group; 0 or -1 (logged) */
static int pem_object(SSL_CTX *ctx, CHAIN_GROUP *g, const char *file, int index,
		              const char *name, const unsigned char *data, long len)
{
    const unsigned char *p = data;

    if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0
	|| strcmp(name, "EC PRIVATE KEY") == 0 || strcmp(name, "DSA PRIVATE KEY") == 0) {
	EVP_PKEY *key;

	if (g->key && g->cert == 0) {
	    msg_warn("error loading certificate chain: key at index %d in %s "
		     "not followed by a certificate", g->key_index, g->key_file);
	    return (-1);
	}
	if (group_done(ctx, g) < 0)
	    return (-1);
	if ((key = d2i_AutoPrivateKey(0, &p, len)) == 0) {
	    msg_warn("error loading chain from %s: cannot decode the key at index %d",
		     file, index);
	    return (-1);
	}
	g->key = key;
	g->key_index = index;
	g->key_file = file;
	return (0);
    }
    if (strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0
	|| strcmp(name, "TRUSTED CERTIFICATE") == 0) {
	X509   *cert = strcmp(name, "TRUSTED CERTIFICATE") == 0 ?
	d2i_X509_AUX(0, &p, len) : d2i_X509(0, &p, len);

	if (cert == 0) {
	    msg_warn("error loading chain from %s: cannot decode the certificate at index %d",
		     file, index);
	    return (-1);
	}
	if (g->key == 0) {
	    msg_warn("error loading chain from %s: key not first", file);
	    X509_free(cert);
	    return (-1);
	}
	if (g->cert == 0) {
	    if (X509_check_private_key(cert, g->key) != 1) {
		ERR_clear_error();
		msg_warn("key at index %d in %s does not match next certificate",
			 g->key_index, g->key_file);
		X509_free(cert);
		return (-1);
	    }
	    g->cert = cert;
	} else {
	    if (g->chain == 0)
		g->chain = sk_X509_new_null();
	    sk_X509_push(g->chain, cert);
	}
	return (0);
    }
    if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
	msg_warn("error loading chain from %s: the key at index %d is encrypted", file, index);
	return (-1);
    }
    /* Other objects (DH parameters, ...) are not ours to read here. */
    return (0);
}

/* chain_files - Postfix 3.4's smtpd_tls_chain_files; 0 or -1 (logged) */
static int chain_files(SSL_CTX *ctx, const char *files)
{
    ARGV   *list = argv_split_list(files);
    CHAIN_GROUP g;
    int     index = 0;
    int     ret = 0;

    memset(&g, 0, sizeof(g));
    for (size_t i = 0; ret == 0 && i < list->argc; i++) {
	const char *file = list->argv[i];
	BIO    *bio;
	char   *name = 0, *header = 0;
	unsigned char *data = 0;
	long    len;
	int     in_file = 0;

	if ((bio = BIO_new_file(file, "r")) == 0) {
	    ERR_clear_error();
	    msg_warn("error opening chain file: %s: %s", file, strerror(errno));
	    ret = -1;
	    break;
	}
	while (ret == 0 && PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
	    in_file++;
	    ret = pem_object(ctx, &g, file, ++index, name, data, len);
	    OPENSSL_free(name);
	    OPENSSL_free(header);
	    OPENSSL_free(data);
	}
	ERR_clear_error();			/* PEM_read_bio: end of file */
	BIO_free(bio);
	if (ret == 0 && in_file == 0) {
	    msg_warn("No PEM data in %s", file);
	    ret = -1;
	}
    }
    if (ret == 0 && list->argc > 0)
	ret = group_done(ctx, &g);
    group_reset(&g);
    argv_free(list);
    return (ret);
}

int     tls_certs_load(SSL_CTX *ctx, const char *chains, const char *cert_file,
		               const char *key_file, const char *prefix, VSTRING *why)
{
    vstring_reset(why);
    if (chains && *chains) {
	if (cert_file && *cert_file)
	    msg_warn("Both %s_tls_chain_files and one or more of the legacy "
		     " %s_tls_cert_file, %s_tls_eccert_file or %s_tls_dcert_file "
		     "are non-empty; the legacy  parameters will be ignored",
		     prefix, prefix, prefix, prefix);
	if (chain_files(ctx, chains) < 0) {
	    vstring_sprintf(why, "error loading private keys and certificates from: %s", chains);
	    return (-1);
	}
	return (0);
    }
    if (cert_file == 0 || *cert_file == 0) {
	vstring_strcpy(why, "no certificate file configured");
	return (-1);
    }
    if (key_file == 0 || *key_file == 0)
	key_file = cert_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
	vstring_sprintf(why, "cannot load certificate from %s", cert_file);
	tls_io_errors(why);
	return (-1);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
	vstring_sprintf(why, "cannot load private key from %s", key_file);
	tls_io_errors(why);
	return (-1);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
	vstring_sprintf(why, "private key in %s does not match certificate in %s",
			key_file, cert_file);
	tls_io_errors(why);
	return (-1);
    }
    return (0);
}

void    tls_certs_dh(SSL_CTX *ctx, const char *dh_file)
{
    BIO    *bio;
    EVP_PKEY *params = 0;

    /* OpenSSL's choice unless the file gives the parameters. */
    SSL_CTX_set_dh_auto(ctx, 1);
    if (dh_file == 0 || *dh_file == 0 || strcmp(dh_file, "auto") == 0)
	return;
    if ((bio = BIO_new_file(dh_file, "r")) == 0) {
	ERR_clear_error();
	msg_warn("cannot load DH parameters from file %s: %s -- using compiled-in defaults",
		 dh_file, strerror(errno));
	return;
    }
    params = PEM_read_bio_Parameters(bio, 0);
    BIO_free(bio);
    if (params == 0 || EVP_PKEY_get_base_id(params) != EVP_PKEY_DH
	|| SSL_CTX_set0_tmp_dh_pkey(ctx, params) != 1) {
	ERR_clear_error();
	EVP_PKEY_free(params);
	msg_warn("error decoding DH parameters from file \"%s\" -- using compiled-in defaults",
		 dh_file);
	return;
    }
    /* The context owns params now; automatic parameters would win. */
    SSL_CTX_set_dh_auto(ctx, 0);
}
