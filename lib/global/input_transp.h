/*
 * NAME
 *	input_transp - receive_override_options
 * SYNOPSIS
 *	#include "global/input_transp.h"
 *
 *	int input_transp_mask(const char *param, const char *value);
 * DESCRIPTION
 *	input_transp_mask() turns a receive_override_options value into
 *	INPUT_TRANSP_* bits, the processing a receiving program (smtpd,
 *	pickup) leaves out, typically on the service that takes mail back
 *	from an after-queue content filter:
 *
 *	no_unknown_recipient_checks	INPUT_TRANSP_UNKNOWN_RCPT
 *	no_address_mappings		INPUT_TRANSP_ADDRESS_MAPPING
 *	no_header_body_checks		INPUT_TRANSP_HEADER_BODY
 *	no_milters			INPUT_TRANSP_MILTER
 * DIAGNOSTICS
 *	Fatal: an unknown option ("invalid receive_override_options
 *	value: NAME"), as a bad configuration.
 */
#ifndef INPUT_TRANSP_H
#define INPUT_TRANSP_H

#define INPUT_TRANSP_UNKNOWN_RCPT	(1<<0)
#define INPUT_TRANSP_ADDRESS_MAPPING	(1<<1)
#define INPUT_TRANSP_HEADER_BODY	(1<<2)
#define INPUT_TRANSP_MILTER		(1<<3)

extern int input_transp_mask(const char *, const char *);

#endif
