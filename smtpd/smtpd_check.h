/*
 * NAME
 *	smtpd_check.h - inside the access policy: smtpd_check.c and its parts
 * SYNOPSIS
 *	#include "smtpd.h"
 *	#include "smtpd_check.h"
 *
 *	int smtpd_chk_reject(SMTPD_STATE *state, long code, const char *dsn,
 *			     const char *fmt, ...);
 *	void smtpd_chk_defer_if(SMTPD_STATE *state, VSTRING *held, long code,
 *				const char *dsn, const char *fmt, ...);
 *	void smtpd_chk_hold(SMTPD_STATE *state, VSTRING *held,
 *			    const char *reply);
 *	int smtpd_chk_tempfail(SMTPD_STATE *state, const char *name);
 *	char *smtpd_chk_lower_domain(const char *addr);
 *	int smtpd_chk_final_domain(const char *domain);
 *	int smtpd_chk_auth_destination(SMTPD_STATE *state);
 *	int smtpd_chk_lookup(SMTPD_STATE *state, MAPS *maps, const char *key,
 *			     int flags, const char *name, const char *class,
 *			     int depth, int *ret);
 *	int smtpd_chk_domain_access(SMTPD_STATE *state, MAPS *maps,
 *				    const char *domain, const char *name,
 *				    const char *class, int depth, int *ret);
 * DESCRIPTION
 *	A restriction answers CHK_DUNNO (go on), CHK_OK (permit: the list
 *	ends) or CHK_REJECT (the reply is in state->reply).
 *
 *	smtpd_chk_reject() formats "code dsn text" into state->reply
 *	(the first digit of dsn follows the code) and returns CHK_REJECT.
 *	smtpd_chk_defer_if() holds such a reply in state->defer_if_permit
 *	or state->defer_if_reject (held), unless one is held already;
 *	smtpd_chk_hold() does that for a reply already formatted. Under
 *	warn_if_reject (state->warn_if_reject) the reply is logged as a
 *	"reject_warning" instead, as Postfix does.
 *	smtpd_chk_tempfail() is "451 4.3.0 <name>: Temporary lookup
 *	failure". smtpd_chk_lower_domain() is a lower-case copy of an
 *	address's domain, or NULL (myfree it). smtpd_chk_final_domain()
 *	says whether a domain is of the local or the virtual alias class
 *	of addr_class(3) (1, 0, or -1 when a list could not be read).
 *	smtpd_chk_auth_destination() is permit_auth_destination: CHK_OK
 *	when the recipient is ours (no relaying), CHK_DUNNO, or -1 when a
 *	list could not be read.
 *
 *	smtpd_chk_lookup() looks key up in an access table (flags as
 *	maps_find()) and acts on the entry found, as a check_*_access
 *	restriction does; smtpd_chk_domain_access() looks up domain, then
 *	its parent domains. Both return 1 when an entry was found (*ret is
 *	its CHK_* result; DUNNO counts as found), 0 when not, -1 (lookup
 *	only) when the table failed (*ret is a 451 reply). name and class
 *	are what the reply shows ("<name>: class rejected: ...").
 *
 *	The DNS lists and host name checks are in smtpd_dnscheck.c; the
 *	check_*_{a,mx,ns}_access tables and permit_mx_backup in
 *	smtpd_dnsaccess.c; permit_sasl_authenticated, the sender login
 *	checks and reject_unlisted_sender in smtpd_sasl.c.
 */
#ifndef SMTPD_CHECK_H
#define SMTPD_CHECK_H
#include "util/vstring.h"
#include "dict/maps.h"
#include "smtpd.h"

#define CHK_DUNNO	0
#define CHK_OK		1
#define CHK_REJECT	2

extern int smtpd_chk_reject(SMTPD_STATE *, long, const char *, const char *,...)
	__attribute__((format(printf, 4, 5)));
extern void smtpd_chk_defer_if(SMTPD_STATE *, VSTRING *, long, const char *,
			               const char *,...) __attribute__((format(printf, 5, 6)));
extern void smtpd_chk_hold(SMTPD_STATE *, VSTRING *, const char *);
extern int smtpd_chk_tempfail(SMTPD_STATE *, const char *);
extern char *smtpd_chk_lower_domain(const char *);
extern int smtpd_chk_final_domain(const char *);
extern int smtpd_chk_auth_destination(SMTPD_STATE *);
extern int smtpd_chk_lookup(SMTPD_STATE *, MAPS *, const char *, int, const char *,
			            const char *, int, int *);
extern int smtpd_chk_domain_access(SMTPD_STATE *, MAPS *, const char *, const char *,
				           const char *, int, int *);

/* smtpd_sasl.c */
extern int smtpd_sasl_permit(SMTPD_STATE *);
extern int smtpd_sasl_login_mismatch(SMTPD_STATE *, const char *);
extern int smtpd_sasl_unlisted_sender(SMTPD_STATE *, int (*) (SMTPD_STATE *), int);

/* smtpd_dnscheck.c */
extern void smtpd_dnscheck_init(void);
extern int smtpd_dnscheck_list(SMTPD_STATE *, const char *, const char *);
extern int smtpd_dnscheck_domain(SMTPD_STATE *, const char *, int);
extern int smtpd_dnscheck_helo_syntax(SMTPD_STATE *);
extern int smtpd_dnscheck_helo(SMTPD_STATE *);
extern int smtpd_dnscheck_maps_rbl(SMTPD_STATE *);

/* smtpd_dnsaccess.c */
extern void smtpd_dnsaccess_init(void);
extern int smtpd_dnsaccess(SMTPD_STATE *, const char *, MAPS *, int, int *);
extern int smtpd_dnsaccess_mx_backup(SMTPD_STATE *);

#endif
