/*
 * NAME
 *	verify_entry - address verification cache entries and their ageing
 * DESCRIPTION
 *	See verify_entry.h. Pure functions of (entry, parameters, now), so
 *	the rules are tested without a daemon.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/verify_clnt.h"
#include "global/verify_entry.h"

void    verify_entry_times(VERIFY_TIMES *t)
{
    t->pos_expire = mail_conf_time(VAR_ADDRESS_VERIFY_POSITIVE_EXPIRE_TIME);
    t->pos_refresh = mail_conf_time(VAR_ADDRESS_VERIFY_POSITIVE_REFRESH_TIME);
    t->neg_expire = mail_conf_time(VAR_ADDRESS_VERIFY_NEGATIVE_EXPIRE_TIME);
    t->neg_refresh = mail_conf_time(VAR_ADDRESS_VERIFY_NEGATIVE_REFRESH_TIME);
    t->neg_cache = mail_conf_bool(VAR_ADDRESS_VERIFY_NEGATIVE_CACHE);
}

/* verify_entry_number - one decimal field ended by ':' */

static int verify_entry_number(const char **cpp, long *val)
{
    char   *end;

    errno = 0;
    if (**cpp < '0' || **cpp > '9')
	return (-1);
    *val = strtol(*cpp, &end, 10);
    if (errno != 0 || *end != ':')
	return (-1);
    *cpp = end + 1;
    return (0);
}

int     verify_entry_parse(const char *raw, VERIFY_ENTRY *e, VSTRING *text)
{
    const char *cp = raw;
    long    status;

    if (raw == 0
	|| verify_entry_number(&cp, &status) < 0
	|| verify_entry_number(&cp, &e->probed) < 0
	|| verify_entry_number(&cp, &e->updated) < 0
	|| status < VERIFY_ADDR_OK || status > VERIFY_ADDR_TODO)
	return (-1);
    e->status = (int) status;
    if (text)
	vstring_strcpy(text, cp);
    return (0);
}

void    verify_entry_format(VSTRING *buf, int status, long probed,
			            long updated, const char *text)
{
    vstring_sprintf(buf, "%d:%ld:%ld:%s", status, probed, updated, text);
}

/* verify_entry_is_expired - too old to be believed */

static int verify_entry_is_expired(const VERIFY_ENTRY *e, const VERIFY_TIMES *t, time_t now)
{
    if (e->status == VERIFY_ADDR_OK)
	return (e->updated + t->pos_expire < (long) now);
    return (e->updated + t->neg_expire < (long) now);
}

int     verify_entry_expired(const char *raw, const VERIFY_TIMES *t, time_t now)
{
    VERIFY_ENTRY e;

    if (verify_entry_parse(raw, &e, 0) < 0)
	return (1);
    /* A placeholder for a probe under way lives as long as the probe. */
    if (e.updated == 0)
	return (e.probed + VERIFY_PROBE_TTL < (long) now);
    return (verify_entry_is_expired(&e, t, now));
}

int     verify_entry_query(const char *raw, const VERIFY_TIMES *t, time_t now,
			           int *status, VSTRING *text, VSTRING *store)
{
    VERIFY_ENTRY e;
    int     refresh;

    vstring_reset(store);
    if (verify_entry_parse(raw, &e, text) < 0
	|| (e.updated != 0 && verify_entry_is_expired(&e, t, now))
	|| e.updated == 0) {
	/* Unknown, or known too long ago: ask again. */
	long    probed = (raw && verify_entry_parse(raw, &e, 0) == 0) ? e.probed : 0;

	e.status = VERIFY_ADDR_TODO;
	e.probed = probed;
	e.updated = 0;
	vstring_strcpy(text, VERIFY_TEXT_TODO);
    }
    *status = e.status;

    if (e.status == VERIFY_ADDR_OK)
	refresh = (e.updated + t->pos_refresh < (long) now);
    else
	refresh = (e.updated + t->neg_refresh < (long) now);
    if (!refresh || (long) now - e.probed <= VERIFY_PROBE_TTL)
	return (0);

    /* Remember that a probe is under way, so the next query waits. */
    if (e.updated != 0 || t->neg_cache)
	verify_entry_format(store, e.status, (long) now, e.updated, vstring_str(text));
    return (1);
}

int     verify_entry_update(const char *old_raw, int status, const char *text,
			            const VERIFY_TIMES *t, time_t now, VSTRING *store)
{
    VERIFY_ENTRY old;

    vstring_reset(store);
    if (status != VERIFY_ADDR_OK) {
	/* A failure does not clobber a deliverable address before it expires. */
	if (verify_entry_parse(old_raw, &old, 0) == 0 && old.status == VERIFY_ADDR_OK
	    && old.updated != 0 && !verify_entry_is_expired(&old, t, now))
	    return (0);
    }
    verify_entry_format(store, status, 0, (long) now, text ? text : "");
    return (1);
}
