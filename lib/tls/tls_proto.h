/*
 * NAME
 *	tls_proto - Postfix's TLS protocol and cipher settings for OpenSSL
 * SYNOPSIS
 *	#include "tls/tls_proto.h"
 *
 *	int tls_protocol_mask(const char *protocols, int *min, int *max,
 *			      long *no_ops, VSTRING *why);
 *	char *tls_cipher_list(const char *grade, const char *grade_list,
 *			      const char *exclude, VSTRING *why);
 * DESCRIPTION
 *	tls_protocol_mask() reads protocols in Postfix's syntax
 *	(">=TLSv1.2", "<=TLSv1.2", "!SSLv2, !SSLv3", "TLSv1.2 TLSv1.3";
 *	separators are commas, colons and white space): the lowest and
 *	highest version to allow and SSL_OP_NO_* bits for holes in
 *	between. 0, or -1 with a reason.
 *
 *	tls_cipher_list() checks a cipher grade name (high, medium, low,
 *	export, null) and returns its OpenSSL cipher list, grade_list (the
 *	value of tls_<grade>_cipherlist, which the caller reads), with
 *	":!name" appended for each item of exclude. The result is the
 *	caller's to myfree; NULL with a reason for an unknown grade.
 * SEE ALSO
 *	tls_client(3), tls_server(3)
 */
#ifndef TLS_PROTO_H
#define TLS_PROTO_H
#include "util/vstring.h"

extern int tls_protocol_mask(const char *, int *, int *, long *, VSTRING *);
extern char *tls_cipher_list(const char *, const char *, const char *, VSTRING *);

#endif
