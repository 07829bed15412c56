/*
 * NAME
 *	dict_build - make and query tables the way postmap and postalias do
 * SYNOPSIS
 *	See dict_build.h.
 * DESCRIPTION
 *	Moved here from postmap when postalias came: both build Berkeley
 *	DB tables byte-compatible with Postfix's, from different source
 *	formats.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "dict/dict.h"
#include "dict/dict_type.h"
#include "dict/dict_build.h"

static int buildable(const char *type)
{
    return (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0
	    || strcmp(type, "lmdb") == 0);
}

DICT   *dict_build_open(const char *type_name, const struct stat *source,
			        int dict_flags, int flags, DICT_BUILD_IDS *ids)
{
    char   *type = mystrdup(type_name);
    char   *name = strchr(type, ':');
    VSTRING *db_path = vstring_alloc(100);
    struct stat db_st;
    int     mode;
    int     open_flags;
    DICT   *d;

    if (name == 0)
	msg_fatal("dict_build_open: no type in \"%s\"", type_name);
    *name++ = 0;
    ids->uid = geteuid();
    ids->gid = getegid();
    if (!dict_type_known(type))
	msg_fatal("unsupported dictionary type: %s", type);
    if (!buildable(type)) {
	if (flags & DICT_BUILD_INCR)
	    msg_fatal("%s:%s map requires O_RDONLY access mode", type, name);
	msg_fatal("unsupported dictionary type: %s does not support "
		  "bulk-mode creation.", type);
    }

    /* Run as the owner of the source file, unless told otherwise. */
    if (!(flags & (DICT_BUILD_KEEP_ROOT | DICT_BUILD_INCR))
	&& ids->uid == 0 && source->st_uid != 0) {
	if (setegid(source->st_gid) < 0 || seteuid(source->st_uid) < 0)
	    msg_fatal("set effective ids to %ld/%ld: %m",
		      (long) source->st_uid, (long) source->st_gid);
    }

    vstring_sprintf(db_path, "%s.%s", name, strcmp(type, "lmdb") == 0 ? "lmdb" : "db");
    if (stat(vstring_str(db_path), &db_st) == 0) {
	/* An existing table keeps its mode; we must be allowed to write it. */
	mode = db_st.st_mode & 07777;
	if (faccessat(AT_FDCWD, vstring_str(db_path), W_OK, AT_EACCESS) < 0)
	    msg_fatal("open %s: %m", vstring_str(db_path));
    } else if (flags & DICT_BUILD_NO_INHERIT) {
	mode = 0644;
    } else {
	mode = 0600 | (source->st_mode & 044);
    }

    open_flags = (flags & DICT_BUILD_INCR) ? O_RDWR | O_CREAT :
	O_RDWR | O_CREAT | O_TRUNC;
    d = dict_open_mode(type_name, open_flags, dict_flags | DICT_FLAG_BULK_CREATE, mode);
    if (dict_error_text(d))
	msg_fatal("%s", dict_error_text(d));
    vstring_free(db_path);
    myfree(type);
    return (d);
}

void    dict_build_close(DICT *d, DICT_BUILD_IDS *ids)
{
    dict_close(d);
    if (geteuid() != ids->uid)
	if (seteuid(ids->uid) < 0 || setegid(ids->gid) < 0)
	    msg_fatal("restore effective ids: %m");
}

/*
 * query_lock - for a read-only session on hash: and btree: tables, one
 * shared lock on each database file for the whole session, instead of a
 * lock and unlock around every lookup (a writer that updates the file in
 * place, such as Postfix's postmap, waits until we are done).
 */
static void query_lock(const char *map)
{
    VSTRING *path;
    int     fd;

    while (strncmp(map, "proxy:", 6) == 0)
	map += 6;
    if (strncmp(map, "hash:", 5) != 0 && strncmp(map, "btree:", 6) != 0
	&& strncmp(map, "lmdb:", 5) != 0)
	return;
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s.%s", strchr(map, ':') + 1,
		    strncmp(map, "lmdb:", 5) == 0 ? "lmdb" : "db");
    /* The descriptor stays open (and locked) until we exit. */
    if ((fd = open(vstring_str(path), O_RDONLY | O_CLOEXEC)) >= 0)
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
	     /* again */ ;
    vstring_free(path);
}

DICT  **dict_query_open(char **maps, int count, int open_flags, int dict_flags)
{
    DICT  **dicts = mymalloc(count * sizeof(DICT *));

    if (open_flags == O_RDONLY && (dict_flags & DICT_FLAG_LOCK)) {
	for (int i = 0; i < count; i++)
	    query_lock(maps[i]);
	dict_flags &= ~DICT_FLAG_LOCK;
    }
    for (int i = 0; i < count; i++) {
	if (open_flags != O_RDONLY) {
	    const char *map = maps[i];
	    char   *type;

	    /* Updates through proxy: go to the table itself here. */
	    while (strncmp(map, "proxy:", 6) == 0)
		map += 6;
	    type = mystrndup(map, strcspn(map, ":"));
	    if (dict_type_known(type) && !buildable(type))
		msg_fatal("%s map requires O_RDONLY access mode", map);
	    myfree(type);
	}
	dicts[i] = dict_open(maps[i], open_flags, dict_flags);
	if (dict_error_text(dicts[i]))
	    msg_fatal("%s", dict_error_text(dicts[i]));
    }
    return (dicts);
}

void    dict_query_close(DICT **dicts, int count)
{
    for (int i = 0; i < count; i++)
	dict_close(dicts[i]);
    myfree(dicts);
}

const char *dict_query_lookup(DICT **dicts, int count, const char *key)
{
    const char *value;

    for (int i = 0; i < count; i++) {
	if ((value = dict_get(dicts[i], key)) != 0) {
	    if (*value == 0) {
		/* Postfix's postmap says this, and prints the empty value. */
		msg_warn("table %s:%s: key %s: empty string result is not allowed",
			 dicts[i]->type, dicts[i]->name, dict_printable(key));
		msg_warn("table %s:%s should return NO RESULT in case of NOT FOUND",
			 dicts[i]->type, dicts[i]->name);
	    }
	    return (value);
	}
	if (dicts[i]->error)
	    msg_fatal("table %s:%s: query error: %s", dicts[i]->type,
		      dicts[i]->name, dict_error_text(dicts[i]) ?
		      dict_error_text(dicts[i]) : "lookup failed");
    }
    return (0);
}

int     dict_query_delete(DICT **dicts, int count, const char *key)
{
    int     found = 0;
    int     ret;

    for (int i = 0; i < count; i++) {
	if ((ret = dict_del(dicts[i], key)) == 0)
	    found = 1;
	else if (ret < 0)
	    msg_fatal("table %s:%s: delete error: %s", dicts[i]->type,
		      dicts[i]->name, dict_error_text(dicts[i]));
    }
    return (found);
}
