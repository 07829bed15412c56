/*
 * NAME
 *	tls_certs - load keys, certificate chains and DH parameters
 * SYNOPSIS
 *	#include "tls/tls_certs.h"
 *
 *	int tls_certs_load(SSL_CTX *ctx, const char *chain_files,
 *			   const char *cert_file, const char *key_file,
 *			   const char *prefix, VSTRING *why);
 *	void tls_certs_dh(SSL_CTX *ctx, const char *dh_file);
 * DESCRIPTION
 *	tls_certs_load() gives ctx its keys and certificates. With
 *	chain_files (smtpd_tls_chain_files, smtp_tls_chain_files: Postfix
 *	3.4 semantics) the files are read as if concatenated, and the PEM
 *	objects must come as key1, cert1, [chain1], key2, cert2, [chain2],
 *	...: each key directly followed by its certificate and the issuer
 *	certificates that complete its chain, at most one key of each
 *	algorithm (RSA, ECDSA, Ed25519, ...; OpenSSL picks the one the
 *	peer can use). Otherwise cert_file holds a certificate and its
 *	chain, key_file (default cert_file) the key. prefix is "smtpd" or
 *	"smtp", for the warning when both forms are set ("Both
 *	smtpd_tls_chain_files and one or more of the legacy ... are
 *	non-empty; the legacy parameters will be ignored", Postfix's).
 *	0, or -1 with the reason in why after the problem was logged with
 *	Postfix's words: "No PEM data in FILE", "error loading chain from
 *	FILE: key not first", "No certs for key at index N in FILE", "key
 *	at index N in FILE does not match next certificate", "error
 *	loading certificate chain: key at index N in FILE not followed by
 *	a certificate", "error opening chain file: FILE: reason" (N counts
 *	PEM objects from 1 over all the files).
 *
 *	tls_certs_dh() sets the DH parameters of DHE ciphers (TLS 1.2 and
 *	older): from dh_file (PEM), else, and when the file cannot be
 *	read ('warning: error decoding DH parameters from file "F" --
 *	using compiled-in defaults', as Postfix), OpenSSL's choice by the
 *	size of the server key (Postfix 3.7 with OpenSSL 3, "auto").
 */
#ifndef TLS_CERTS_H
#define TLS_CERTS_H
#include <openssl/ssl.h>
#include "util/vstring.h"

extern int tls_certs_load(SSL_CTX *, const char *, const char *, const char *,
			          const char *, VSTRING *);
extern void tls_certs_dh(SSL_CTX *, const char *);

#endif
