/*
 * NAME
 *	dict_unix - unix:passwd.byname and unix:group.byname tables
 * SYNOPSIS
 *	DICT *dict_unix_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	Lookups through the C library's user and group database
 *	(getpwnam(3), getgrnam(3), so whatever /etc/nsswitch.conf says),
 *	with values in Postfix's form, the line of passwd(5) and group(5):
 *
 *	unix:passwd.byname	name:password:uid:gid:gecos:home:shell
 *	unix:group.byname	name:password:gid:member,member,...
 *
 *	Keys are folded to lower case (a fixed-key table). The table is
 *	read-only and cannot be listed.
 *
 *	A process that runs chrooted reads the database inside its chroot;
 *	there is no proxymap service to reach the real one (proxy: reads
 *	directly, see dict_proxy.c).
 * DIAGNOSTICS
 *	Another name than the two above makes a table whose lookups fail
 *	with DICT_ERR_RETRY: "unknown table: unix:NAME", in Postfix's words.
 *	When a name is not found and the database does not even know uid
 *	(or gid) 0, the database cannot be read (a chroot without it, a
 *	broken name service): the lookup fails with DICT_ERR_RETRY and
 *	dict_error_text() says "cannot access UNIX password (group)
 *	database", instead of answering "not found".
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"

typedef struct DICT_UNIX {
    DICT    dict;
    VSTRING *value;
} DICT_UNIX;

/* unix_unreadable - after a miss: is the database there at all? */

static const char *unix_unreadable(DICT *d, int group)
{
    VSTRING *why;
    int     found;

    errno = 0;
    found = group ? getgrgid(0) != 0 : getpwuid(0) != 0;
    if (found)
	return (0);
    why = vstring_alloc(100);
    vstring_sprintf(why, "cannot access UNIX %s database: %s",
		    group ? "group" : "password",
		    errno ? strerror(errno) : "no entry for id 0");
    if (d->error_text)
	myfree(d->error_text);
    d->error_text = vstring_export(why);
    d->error = DICT_ERR_RETRY;
    return (d->error_text);
}

static const char *dict_unix_getpw(DICT *d, const char *key)
{
    DICT_UNIX *du = (DICT_UNIX *) d;
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(key)) == 0) {
	(void) unix_unreadable(d, 0);
	return (0);
    }
    vstring_sprintf(du->value, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name,
		    pw->pw_passwd, (long) pw->pw_uid, (long) pw->pw_gid,
		    pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    return (vstring_str(du->value));
}

static const char *dict_unix_getgr(DICT *d, const char *key)
{
    DICT_UNIX *du = (DICT_UNIX *) d;
    struct group *gr;

    errno = 0;
    if ((gr = getgrnam(key)) == 0) {
	(void) unix_unreadable(d, 1);
	return (0);
    }
    vstring_sprintf(du->value, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd,
		    (long) gr->gr_gid);
    for (char **mem = gr->gr_mem; mem && *mem; mem++)
	vstring_sprintf_append(du->value, "%s%s", mem == gr->gr_mem ? "" : ",",
			       *mem);
    return (vstring_str(du->value));
}

static void dict_unix_close(DICT *d)
{
    vstring_free(((DICT_UNIX *) d)->value);
    dict_free(d);
}

DICT   *dict_unix_open(const char *name, int open_flags, int dict_flags)
{
    DICT_UNIX *du;
    const char *(*get) (DICT *, const char *);

    (void) open_flags;
    if (strcmp(name, "passwd.byname") == 0)
	get = dict_unix_getpw;
    else if (strcmp(name, "group.byname") == 0)
	get = dict_unix_getgr;
    else
	return (dict_surrogate("unix", name, dict_flags,
			       "unknown table: unix:%s", name));
    du = (DICT_UNIX *) dict_alloc("unix", name, sizeof(DICT_UNIX));
    du->dict.flags = dict_flags | DICT_FLAG_FIXED;
    du->dict.get = get;
    du->dict.close = dict_unix_close;
    du->value = vstring_alloc(100);
    return (&du->dict);
}
