/*
 * NAME
 *	mail_tls - TLS settings that come from main.cf
 * SYNOPSIS
 *	#include "global/mail_tls.h"
 *
 *	const char *mail_tls_cipherlist(const char *grade);
 * DESCRIPTION
 *	mail_tls_cipherlist() is the OpenSSL cipher list of a Postfix
 *	cipher grade, the value of tls_<grade>_cipherlist (high, medium,
 *	low, export, null), or "" for a name that is not a grade (the TLS
 *	layer then refuses the grade by name, see tls_proto(3)).
 * SEE ALSO
 *	tls_proto(3), which checks the grade and adds exclusions
 */
#ifndef MAIL_TLS_H
#define MAIL_TLS_H

extern const char *mail_tls_cipherlist(const char *);

#endif
