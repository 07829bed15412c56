/*
 * NAME
 *	smtpd_local.h - the RCPT check of local recipients
 * SYNOPSIS
 *	#include "smtpd_local.h"
 *
 *	void smtpd_local_init(void);
 *	int smtpd_local_unlisted(SMTPD_STATE *state);
 * DESCRIPTION
 *	See smtpd_local.c.
 */
#ifndef SMTPD_LOCAL_H
#define SMTPD_LOCAL_H
#include "smtpd.h"

extern void smtpd_local_init(void);
extern int smtpd_local_unlisted(SMTPD_STATE *);

#endif
