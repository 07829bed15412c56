/*
 * NAME
 *	postmap_build - make a table from its source file
 * SYNOPSIS
 *	void postmap_build(const char *type_name, int dict_flags, int flags);
 * DESCRIPTION
 *	Reads "key whitespace value" lines from the source file (or, with
 *	POSTMAP_FLAG_INCR, from standard input) and stores them. Only
 *	hash:, btree: and lmdb: tables can be built; proxy: only with -i
 *	(the inner table is updated directly). A new table is built aside
 *	and renamed into place when complete (dict_db.c, dict_lmdb.c); -i updates
 *	the existing table in place under a lock.
 *
 *	When root builds from a source file owned by another user, the
 *	work is done with that user's effective ids (unless -o), so the
 *	table belongs to the owner of its source. A new table gets the
 *	source file's group and other read bits (mode 0600 | (source &
 *	044)), 0644 with -p; a table that exists keeps its mode.
 * DIAGNOSTICS
 *	Fatal: an unreadable source file, a type that cannot be built, a
 *	table that cannot be written. Malformed lines are warnings, as
 *	in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "postmap.h"
#include "dict/dict_source.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"

static int postmap_buildable(const char *type)
{
    return (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0
	    || strcmp(type, "lmdb") == 0);
}

void    postmap_build(const char *type_name, int dict_flags, int flags)
{
    char   *type = mystrdup(type_name);
    char   *inner = 0;
    char   *name = strchr(type, ':');
    DICT_SOURCE *src;
    VSTREAM *in = 0;
    VSTRING *line = vstring_alloc(200);
    VSTRING *db_path = vstring_alloc(100);
    struct stat st;
    struct stat db_st;
    int     mode;
    int     open_flags;
    uid_t   saved_uid = geteuid();
    gid_t   saved_gid = getegid();
    DICT   *d;
    char   *key;
    char   *value;

    *name++ = 0;

    /*
     * Postfix builds no table through its proxymap service; -i through
     * proxy: updates the table itself here (there is no proxywrite).
     */
    if (strcmp(type, "proxy") == 0) {
	if (!(flags & POSTMAP_FLAG_INCR))
	    msg_fatal("can't create maps via the proxy service");
	type_name = inner = mystrdup(name);
	myfree(type);
	type = mystrdup(inner);
	if ((name = strchr(type, ':')) == 0)
	    msg_fatal("open dictionary: expecting \"type:name\" form instead "
		      "of \"%s\"", type);
	*name++ = 0;
    }

    /* The source comes first: Postfix complains about it first. */
    if (flags & POSTMAP_FLAG_INCR) {
	in = vstream_fdopen(0);
	src = dict_source_stream(in, name);
	if (fstat(0, &st) < 0)
	    msg_fatal("fstat standard input: %m");
    } else {
	if ((src = dict_source_open(name)) == 0)
	    msg_fatal("open %s: %m", name);
	if (fstat(vstream_fileno(src->fp), &st) < 0)
	    msg_fatal("fstat %s: %m", name);
    }
    if (!dict_type_known(type))
	msg_fatal("unsupported dictionary type: %s", type);
    if (!postmap_buildable(type)) {
	if (flags & POSTMAP_FLAG_INCR)
	    msg_fatal("%s:%s map requires O_RDONLY access mode", type, name);
	msg_fatal("unsupported dictionary type: %s does not support "
		  "bulk-mode creation.", type);
    }

    /* Run as the owner of the source file, unless told otherwise. */
    if (!(flags & (POSTMAP_FLAG_KEEP_ROOT | POSTMAP_FLAG_INCR))
	&& saved_uid == 0 && st.st_uid != 0) {
	if (setegid(st.st_gid) < 0 || seteuid(st.st_uid) < 0)
	    msg_fatal("set effective ids to %ld/%ld: %m",
		      (long) st.st_uid, (long) st.st_gid);
    }

    vstring_sprintf(db_path, "%s.%s", name, strcmp(type, "lmdb") == 0 ? "lmdb" : "db");
    if (stat(vstring_str(db_path), &db_st) == 0) {
	/* An existing table keeps its mode; we must be allowed to write it. */
	mode = db_st.st_mode & 07777;
	if (faccessat(AT_FDCWD, vstring_str(db_path), W_OK, AT_EACCESS) < 0)
	    msg_fatal("open %s: %m", vstring_str(db_path));
    } else if (flags & POSTMAP_FLAG_NO_INHERIT) {
	mode = 0644;
    } else {
	mode = 0600 | (st.st_mode & 044);
    }

    open_flags = (flags & POSTMAP_FLAG_INCR) ? O_RDWR | O_CREAT :
	O_RDWR | O_CREAT | O_TRUNC;
    d = dict_open_mode(type_name, open_flags,
		       dict_flags | DICT_FLAG_BULK_CREATE, mode);
    if (dict_error_text(d))
	msg_fatal("%s", dict_error_text(d));

    while (dict_source_next(src, line)) {
	if (!dict_source_split(src, vstring_str(line), &key, &value))
	    continue;
	if (dict_put(d, key, value) < 0)
	    msg_fatal("%s:%s: %s", type, name, dict_error_text(d));
    }
    if (dict_source_error(src))
	msg_fatal("read %s: %m", name);
    dict_close(d);
    dict_source_close(src);
    if (in)
	vstream_release(in);

    if (geteuid() != saved_uid)
	if (seteuid(saved_uid) < 0 || setegid(saved_gid) < 0)
	    msg_fatal("restore effective ids: %m");
    vstring_free(line);
    vstring_free(db_path);
    myfree(type);
    if (inner)
	myfree(inner);
}
