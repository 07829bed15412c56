/*
 * NAME
 *	srs - Sender Rewriting Scheme (SRS0/SRS1) for forwarded mail
 * SYNOPSIS
 *	SRS *srs_create(const char *domain, const ARGV *secrets, long max_age);
 *	SRS *srs_from_conf(void);
 *	void srs_free(SRS *srs);
 *
 *	int srs_forward(SRS *srs, const char *sender, VSTRING *result, time_t now);
 *	int srs_reverse(SRS *srs, const char *addr, VSTRING *result, time_t now);
 *	int srs_is_ours(SRS *srs, const char *addr);
 *	const char *srs_strerror(int status);
 *	const char *srs_domain(SRS *srs);
 *
 *	int srs_request_sender(SRS *srs, const DELIVER_REQUEST *req,
 *			       VSTRING *result, time_t now);
 * DESCRIPTION
 *	This is our own addition to Postfix (what postsrsd does beside it),
 *	in the established format of libsrs2 and postsrsd so that either
 *	side can verify the other's addresses given the same secret:
 *
 *	    SRS0=HHHH=TT=origdomain=user@srs_domain
 *	    SRS1=HHHH=firsthop==HHHH=TT=origdomain=user@srs_domain
 *
 *	HHHH is the first four characters of the standard base64 encoding
 *	of HMAC-SHA1(secret, lowercase(TT origdomain user)) for SRS0, and of
 *	HMAC-SHA1(secret, lowercase(firsthop rest)) for SRS1, where rest is
 *	what followed "SRS0" in the address that we forward again. TT is
 *	the day number (seconds / 86400) modulo 1024 in two base32
 *	characters (A-Z2-7).
 *
 *	srs_create() makes a rewriter for srs_domain with the secrets (the
 *	first one signs, all are accepted: rotate by adding a new first
 *	line) and the maximal age in seconds (rounded down to whole days).
 *	srs_from_conf() reads srs_domain, srs_secret_file (one secret per
 *	line, blank lines skipped), srs_max_age and srs_exclude_domains;
 *	it returns NULL when srs_domain is empty (SRS is off).
 *
 *	srs_forward() rewrites an envelope sender for forwarding. The
 *	caller decides when: only when a recipient was aliased to another
 *	domain; other mail keeps its sender. It returns SRS_OK with the
 *	new sender in result, or SRS_NOCHANGE (null sender, no domain, a
 *	sender of srs_domain itself or of srs_exclude_domains: result is
 *	the sender unchanged), or SRS_ERR_TEMP when the secrets could not
 *	be read (result is the sender unchanged; a warning was logged).
 *	An SRS0 sender of another forwarder becomes SRS1; an SRS1 sender
 *	keeps its first hop and gets our hash.
 *
 *	srs_reverse() turns an address of srs_domain back into where a
 *	bounce must go: SRS0 -> the original sender, SRS1 -> the first
 *	forwarder's SRS0 address. It returns SRS_OK with result, or
 *	SRS_NOT_SRS (not an SRS address of srs_domain: let other rules
 *	decide), SRS_ERR_SYNTAX, SRS_ERR_HASH (forged: no secret gives
 *	this hash; compared case-insensitively, since some MTAs fold
 *	case), SRS_ERR_EXPIRED (older than srs_max_age), SRS_ERR_TEMP.
 *
 *	srs_is_ours() says whether addr is in srs_domain.
 *
 *	srs_request_sender() is the call a delivery agent makes before
 *	MAIL FROM: result is the envelope sender to use for req. It is
 *	the SRS form of req->sender (and the function returns 1) when
 *	SRS is on (srs non-NULL), the sender is not null, and some
 *	recipient of the request was aliased to another domain (its
 *	original address is set and its domain differs from the
 *	target's); else req->sender unchanged (returns 0). Mail that is
 *	not forwarded keeps its sender; our own DSNs (null sender) and
 *	address probes never change.
 * DIAGNOSTICS
 *	A warning when srs_secret_file cannot be read or holds no secret.
 * SEE ALSO
 *	https://www.libsrs2.org/srs/srs.pdf (the scheme), RFC 2104 (HMAC)
 */
#ifndef SRS_H
#define SRS_H
#include <time.h>
#include "util/argv.h"
#include "util/vstring.h"
#include "global/deliver_request.h"

typedef struct SRS SRS;

#define SRS_OK		0
#define SRS_NOCHANGE	1
#define SRS_NOT_SRS	2
#define SRS_ERR_SYNTAX	(-1)
#define SRS_ERR_HASH	(-2)
#define SRS_ERR_EXPIRED	(-3)
#define SRS_ERR_TEMP	(-4)

#define SRS_HASH_LEN	4
#define SRS_DAY		86400
#define SRS_TIME_SLOTS	1024

extern SRS *srs_create(const char *, const ARGV *, long);
extern SRS *srs_from_conf(void);
extern void srs_free(SRS *);
extern void srs_set_exclude(SRS *, const char *);
extern int srs_forward(SRS *, const char *, VSTRING *, time_t);
extern int srs_reverse(SRS *, const char *, VSTRING *, time_t);
extern int srs_is_ours(SRS *, const char *);
extern const char *srs_strerror(int);
extern const char *srs_domain(SRS *);
extern int srs_request_sender(SRS *, const DELIVER_REQUEST *, VSTRING *, time_t);

/* Building blocks, for tests. */
extern void srs_timestamp(time_t, char[3]);
extern int srs_hash(const char *, VSTRING *, int, ...);

#endif
