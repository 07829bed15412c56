/*
 * NAME
 *	tlsrpt_store - per-day files of TLS sessions for TLS-RPT (RFC 8460)
 * SYNOPSIS
 *	#include "global/tlsrpt_store.h"
 *
 *	int tlsrpt_store_add(const TLSRPT_POLICY *pol, const TLSRPT_RESULT *res);
 *
 *	const char *tlsrpt_store_path(VSTRING *buf, const char *dir, long day);
 *	long tlsrpt_store_day(time_t when);
 *	int tlsrpt_store_name_day(const char *name, long *day);
 *	int tlsrpt_store_read(const char *path, TLSRPT_STORE_FN fn, void *ctx);
 * DESCRIPTION
 *	The shared store of the TLS-RPT counts: the smtp processes append,
 *	the tlsrpt(8) service reads. Each UTC day has one file in
 *	tlsrpt_directory, named YYYY-MM-DD; a writer opens the file of the
 *	current day (creating the folder and the file, mode 0600) and keeps
 *	it open until the day changes or the file is removed.
 *
 *	tlsrpt_store_add() appends one TLS session (or one attempt that a
 *	policy failed before any session) of a policy domain: pol says
 *	which policy applied (type TLSRPT_TYPE_TLSA, _STS, _NONE, its
 *	policy strings and mx-host patterns, each list may be NULL), res
 *	how it went (result NULL: success, else an RFC 8460 result type;
 *	with the failure details). The record is one write(2) with
 *	O_APPEND under a shared flock(2), so concurrent writers never mix
 *	their lines and a reader that takes the exclusive lock sees only
 *	whole lines. Nothing waits for anyone else: no round trip per
 *	session. A process writes a policy line once per file and then
 *	refers to it by a digest, so a session line is short.
 *
 *	tlsrpt_store_day() is the UTC day number (days since 1970) of a
 *	time; tlsrpt_store_path() the file of a day; tlsrpt_store_name_day()
 *	reads a file name back (1, or 0 for other names).
 *
 *	tlsrpt_store_read() calls fn(ctx, pol, res) for each session line
 *	of a file, under the exclusive lock; malformed lines (and a last
 *	line without its newline) are skipped. Returns the number of
 *	sessions, or -1 with errno when the file cannot be read.
 * DIAGNOSTICS
 *	tlsrpt_store_add() logs a warning when the file cannot be written
 *	(once per day file) and returns -1; delivery goes on. Nothing here
 *	is fatal.
 * SEE ALSO
 *	tlsrpt(8), smtp(8)
 */
#ifndef TLSRPT_STORE_H
#define TLSRPT_STORE_H
#include <time.h>
#include "util/argv.h"
#include "util/vstring.h"

#define TLSRPT_TYPE_TLSA	"tlsa"
#define TLSRPT_TYPE_STS		"sts"
#define TLSRPT_TYPE_NONE	"no-policy-found"

typedef struct TLSRPT_POLICY {
    const char *domain;			/* the policy domain */
    const char *type;			/* TLSRPT_TYPE_* */
    const ARGV *strings;		/* policy-string, or NULL */
    const ARGV *mx;			/* mx-host, or NULL */
} TLSRPT_POLICY;

typedef struct TLSRPT_RESULT {
    const char *result;			/* NULL: success; else result-type */
    const char *reason;			/* failure-reason-code, or NULL */
    const char *sending_ip;		/* or NULL */
    const char *mx_host;		/* receiving-mx-hostname, or NULL */
    const char *receiving_ip;		/* or NULL */
} TLSRPT_RESULT;

typedef void (*TLSRPT_STORE_FN) (void *, const TLSRPT_POLICY *, const TLSRPT_RESULT *);

extern int tlsrpt_store_add(const TLSRPT_POLICY *, const TLSRPT_RESULT *);
extern long tlsrpt_store_day(time_t);
extern const char *tlsrpt_store_path(VSTRING *, const char *, long);
extern int tlsrpt_store_name_day(const char *, long *);
extern int tlsrpt_store_read(const char *, TLSRPT_STORE_FN, void *);

#endif
