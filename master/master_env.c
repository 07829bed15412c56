/*
 * NAME
 *	master_env - the environment that master and its children run with
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_import_env(void);
 * DESCRIPTION
 *	master_import_env() runs once at start, after main.cf is read: of
 *	the environment that master was started with it keeps only the
 *	names that import_environment lists, and it sets the name=value
 *	items of that list (Postfix's default imports MAIL_CONFIG,
 *	MAIL_DEBUG, MAIL_LOGTAG, TZ, XAUTHORITY, DISPLAY, POSTLOG_SERVICE
 *	and POSTLOG_HOSTNAME, and sets LANG=C). Every process that master
 *	starts inherits the result; the commands that local(8) and pipe(8)
 *	run get the export_environment part of it. A reload does not import
 *	again, as in Postfix.
 *
 *	The options of a sanitizer build (ASAN_*, UBSAN_*, LSAN_*) are kept
 *	whatever the list says.
 * DIAGNOSTICS
 *	Fatal when the environment cannot be set.
 */
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "master.h"

/* sanitizer - a sanitizer's own option, kept in any case */
static int sanitizer(const char *entry)
{
    static const char *const prefix[] = {"ASAN_", "UBSAN_", "LSAN_", 0};

    for (int i = 0; prefix[i]; i++)
	if (strncmp(entry, prefix[i], strlen(prefix[i])) == 0)
	    return (1);
    return (0);
}

void    master_import_env(void)
{
    extern char **environ;
    ARGV   *items = argv_split_list(mail_conf_str(VAR_IMPORT_ENVIRONMENT));
    ARGV   *keep = argv_alloc(16);

    /* What to keep, read before anything is cleared. */
    for (size_t i = 0; i < items->argc; i++) {
	const char *item = items->argv[i];
	const char *value;

	if (strchr(item, '=') != 0)
	    argv_add(keep, item);
	else if ((value = getenv(item)) != 0) {
	    VSTRING *entry = vstring_alloc(100);

	    vstring_sprintf(entry, "%s=%s", item, value);
	    argv_add(keep, vstring_str(entry));
	    vstring_free(entry);
	}
    }
    for (char **cpp = environ; *cpp; cpp++)
	if (sanitizer(*cpp))
	    argv_add(keep, *cpp);
    if (clearenv() != 0)
	msg_fatal("cannot clear the environment");
    for (size_t i = 0; i < keep->argc; i++) {
	char   *name = mystrdup(keep->argv[i]);
	char   *value = strchr(name, '=');

	*value++ = 0;
	if (*name && setenv(name, value, 1) < 0)
	    msg_fatal("setenv %s: %m", name);
	myfree(name);
    }
    argv_free(keep);
    argv_free(items);
}
