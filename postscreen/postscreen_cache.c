/*
 * NAME
 *	postscreen_cache - who passed the tests, until when
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_cache_open(void);
 *	void psc_cache_cleanup(void);
 *	int psc_cache_lookup(const char *addr, time_t now, time_t *greet,
 *			     time_t *dnsbl, time_t *deep);
 *	void psc_cache_update(const char *addr, time_t greet_expire,
 *			      time_t dnsbl_expire, const time_t *deep);
 *	int psc_deep_enabled(int test);
 *	int psc_cache_interval(void);
 *	void psc_cache_drain(void);
 * DESCRIPTION
 *	postscreen_cache_map (default btree:$data_directory/
 *	postscreen_cache; empty: remember nothing) holds one entry per
 *	client address that passed: the times until which each test
 *	result holds, in Postfix's order "pregreet;dnsbl;pipelining;
 *	non_smtp_command;bare_newline" (seconds since the epoch; 1 marks
 *	a test that was disabled, which counts as passed only while it
 *	stays disabled; 0 a test that has not been passed yet).
 *
 *	psc_cache_open() opens the table (as root, before the chroot).
 *	psc_cache_lookup() says whether addr has an entry (PSC_CACHE_FOUND)
 *	and which of its test results still hold: PSC_CACHE_GREET,
 *	PSC_CACHE_DNSBL, with their expiry times in *greet and *dnsbl (0
 *	for the others), and PSC_CACHE_DEEP(PSC_TEST_PIPEL, _NSMTP,
 *	_BARLF) for the deep protocol tests, whose times go to
 *	deep[PSC_TEST_*] (an array of PSC_TEST_COUNT).
 *	psc_cache_update() stores a pass; deep (the same array) gives the
 *	deep test times, or is null when they are all disabled.
 *	psc_deep_enabled() says whether the deep test PSC_TEST_* is on
 *	(postscreen_pipelining_enable, _non_smtp_command_enable,
 *	_bare_newline_enable).
 *
 *	psc_cache_cleanup() drops entries whose results all expired more
 *	than postscreen_cache_retention_time ago, and logs "cache TYPE:NAME
 *	full cleanup: retained=N dropped=M entries" as Postfix does.
 *	postscreen.c runs it at start and every
 *	postscreen_cache_cleanup_interval (psc_cache_interval(); 0 turns
 *	the cleanup off).
 *
 *	psc_cache_drain() is for the process that finishes the clients of
 *	a postscreen that restarts: it stops using the table, which the
 *	new process now writes (the clients it passes are not
 *	remembered).
 * DIAGNOSTICS
 *	Fatal: the table cannot be opened. A lookup or update that fails
 *	is logged as a warning; the client is then tested again.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "dict/dict.h"
#include "global/mail_conf.h"
#include "postscreen.h"

static DICT *cache;

void    psc_cache_open(void)
{
    const char *map = mail_conf_str(VAR_POSTSCREEN_CACHE_MAP);
    int     flags = (DICT_FLAG_DEFAULT | DICT_FLAG_DUP_REPLACE) & ~DICT_FLAG_DUP_WARN;
    mode_t  saved_mask;

    if (*map == 0)
	return;
    saved_mask = umask(022);
    cache = dict_open_mode(map, O_CREAT | O_RDWR, flags, 0644);
    (void) umask(saved_mask);
    if (dict_error_text(cache) != 0)
	msg_fatal("open %s: %s", map, dict_error_text(cache));
}

void    psc_cache_drain(void)
{
    if (cache) {
	dict_close(cache);
	cache = 0;
    }
}

int     psc_cache_interval(void)
{
    return (cache ? (int) mail_conf_time(VAR_POSTSCREEN_CACHE_CLEANUP_INTERVAL) : 0);
}

/* psc_cache_parse - the five times of an entry; -1 when malformed */
static int psc_cache_parse(const char *value, long *times)
{
    const char *cp = value;
    char   *end;

    for (int i = 0; i < 5; i++) {
	times[i] = strtol(cp, &end, 10);
	if (end == cp || (i < 4 ? *end != ';' : *end != 0))
	    return (-1);
	cp = end + 1;
    }
    return (0);
}

/* psc_cache_test_ok - one test result: disabled now, or fresh */
static int psc_cache_test_ok(long when, int enabled, time_t now)
{
    if (!enabled)
	return (1);
    return (when != PSC_TIME_DISABLED && when > (long) now);
}

int     psc_deep_enabled(int test)
{
    switch (test) {
    case PSC_TEST_PIPEL:
	return (mail_conf_bool(VAR_POSTSCREEN_PIPELINING_ENABLE));
    case PSC_TEST_NSMTP:
	return (mail_conf_bool(VAR_POSTSCREEN_NON_SMTP_COMMAND_ENABLE));
    case PSC_TEST_BARLF:
	return (mail_conf_bool(VAR_POSTSCREEN_BARE_NEWLINE_ENABLE));
    default:
	return (0);
    }
}

int     psc_cache_lookup(const char *addr, time_t now, time_t *greet, time_t *dnsbl,
			         time_t *deep)
{
    const char *value;
    long    times[5];
    int     found = 0;

    *greet = *dnsbl = 0;
    for (int t = 0; t < PSC_TEST_COUNT; t++)
	deep[t] = 0;
    if (cache == 0)
	return (0);
    if ((value = dict_get(cache, addr)) == 0) {
	if (cache->error)
	    msg_warn("%s:%s: lookup of %s failed", cache->type, cache->name, addr);
	return (0);
    }
    found |= PSC_CACHE_FOUND;
    if (psc_cache_parse(value, times) < 0)
	return (found);
    if (psc_cache_test_ok(times[0], 1, now)) {
	*greet = times[0];
	found |= PSC_CACHE_GREET;
    }
    if (psc_cache_test_ok(times[1], psc_dnsbl_enabled(), now)) {
	*dnsbl = times[1];
	found |= PSC_CACHE_DNSBL;
    }
    for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++) {
	if (psc_cache_test_ok(times[t], psc_deep_enabled(t), now)) {
	    deep[t] = times[t];
	    found |= PSC_CACHE_DEEP(t);
	}
    }
    return (found);
}

void    psc_cache_update(const char *addr, time_t greet_expire, time_t dnsbl_expire,
			         const time_t *deep)
{
    char    value[128];
    long    d[PSC_TEST_COUNT];

    if (cache == 0)
	return;
    for (int t = PSC_TEST_PIPEL; t <= PSC_TEST_BARLF; t++)
	d[t] = deep ? (long) deep[t] : PSC_TIME_DISABLED;
    snprintf(value, sizeof(value), "%ld;%ld;%ld;%ld;%ld", (long) greet_expire,
	     (long) dnsbl_expire, d[PSC_TEST_PIPEL], d[PSC_TEST_NSMTP], d[PSC_TEST_BARLF]);
    if (dict_put(cache, addr, value) != 0)
	msg_warn("%s:%s: update of %s failed", cache->type, cache->name, addr);
}

void    psc_cache_cleanup(void)
{
    time_t  now = time((time_t *) 0);
    long    retention = mail_conf_time(VAR_POSTSCREEN_CACHE_RETENTION_TIME);
    const char *key;
    const char *value;
    ARGV   *expired;
    long    retained = 0;

    if (cache == 0 || psc_cache_interval() <= 0)
	return;
    expired = argv_alloc(10);
    if (dict_seq(cache, DICT_SEQ_FIRST, &key, &value) == 0) {
	do {
	    long    times[5];
	    long    newest = 0;

	    if (psc_cache_parse(value, times) == 0)
		for (int i = 0; i < 5; i++)
		    if (times[i] > newest)
			newest = times[i];
	    if (newest + retention < (long) now)
		argv_add(expired, key);
	    else
		retained++;
	} while (dict_seq(cache, DICT_SEQ_NEXT, &key, &value) == 0);
    }
    for (size_t i = 0; i < expired->argc; i++)
	(void) dict_del(cache, expired->argv[i]);
    msg_info("cache %s:%s full cleanup: retained=%ld dropped=%ld entries",
	     cache->type, cache->name, retained, (long) expired->argc);
    argv_free(expired);
}
