/*
 * NAME
 *	verify_entry - address verification cache entries and their ageing
 * SYNOPSIS
 *	void verify_entry_times(VERIFY_TIMES *t);
 *	int verify_entry_parse(const char *raw, VERIFY_ENTRY *e, VSTRING *text);
 *	void verify_entry_format(VSTRING *buf, int status, long probed,
 *				 long updated, const char *text);
 *	int verify_entry_query(const char *raw, const VERIFY_TIMES *t, time_t now,
 *			       int *status, VSTRING *text, VSTRING *store);
 *	int verify_entry_update(const char *old_raw, int status, const char *text,
 *				const VERIFY_TIMES *t, time_t now, VSTRING *store);
 *	int verify_entry_expired(const char *raw, const VERIFY_TIMES *t, time_t now);
 * DESCRIPTION
 *	The verify service keeps one text value per address in
 *	address_verify_map, in the format of Postfix's verify cache, so
 *	"postmap -s btree:verify_cache" lists it and a cache written by
 *	Postfix reads here:
 *
 *	    status:probed:updated:text
 *
 *	status is VERIFY_ADDR_* (0 deliverable, 1 deferred, 2 bounced,
 *	3 unknown), probed the time a probe was last sent (0: none under
 *	way), updated the time of the last result (0: none yet), text the
 *	reason ("250 2.1.5 Ok", "host H[A] said: 550 ...").
 *
 *	verify_entry_times() reads address_verify_positive_expire_time,
 *	_positive_refresh_time, _negative_expire_time,
 *	_negative_refresh_time and address_verify_negative_cache.
 *
 *	verify_entry_query() answers a query from the entry raw (NULL when
 *	there is none): status and text for the client (an expired or
 *	missing entry is VERIFY_ADDR_TODO "Address verification in
 *	progress"). It returns 1 when a probe must be sent now (the entry
 *	is missing, expired, or due for a refresh, and no probe went out in
 *	the last VERIFY_PROBE_TTL seconds), with the entry to store in
 *	store (empty: store nothing, as for unknown addresses without
 *	address_verify_negative_cache); else 0.
 *
 *	verify_entry_update() decides what a result does to the cache: it
 *	returns 1 with the new entry in store, or 0 when the result is
 *	ignored: a failed probe never replaces a deliverable entry that has
 *	not expired (so a verified address stays accepted while its server
 *	is down). address_verify_negative_cache=no only stops the
 *	placeholders for probes of unknown addresses.
 *
 *	verify_entry_expired() is true for entries the periodic cleanup
 *	removes (and for entries that do not parse).
 */
#ifndef VERIFY_ENTRY_H
#define VERIFY_ENTRY_H
#include <time.h>
#include "util/vstring.h"

typedef struct VERIFY_ENTRY {
    int     status;
    long    probed;
    long    updated;
} VERIFY_ENTRY;

typedef struct VERIFY_TIMES {
    long    pos_expire;
    long    pos_refresh;
    long    neg_expire;
    long    neg_refresh;
    int     neg_cache;
} VERIFY_TIMES;

#define VERIFY_PROBE_TTL	1000	/* seconds between probes */
#define VERIFY_TEXT_TODO	"Address verification in progress"

extern void verify_entry_times(VERIFY_TIMES *);
extern int verify_entry_parse(const char *, VERIFY_ENTRY *, VSTRING *);
extern void verify_entry_format(VSTRING *, int, long, long, const char *);
extern int verify_entry_query(const char *, const VERIFY_TIMES *, time_t,
			              int *, VSTRING *, VSTRING *);
extern int verify_entry_update(const char *, int, const char *,
			               const VERIFY_TIMES *, time_t, VSTRING *);
extern int verify_entry_expired(const char *, const VERIFY_TIMES *, time_t);

#endif
