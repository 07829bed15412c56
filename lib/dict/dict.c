/*
 * NAME
 *	dict - lookup tables behind one interface
 * SYNOPSIS
 *	See dict.h; the table types see dict_type.h.
 * DESCRIPTION
 *	dict_open() splits "type:name" and hands the name to the type's
 *	open function. The generic calls fold the key to lower case for
 *	fixed-key tables opened with DICT_FLAG_FOLD_FIX, then call the
 *	type's method. Pattern tables (pcre, cidr) get the key as is.
 *
 *	dict_changed() compares the identity (device, inode, mtime) of the
 *	table's file with what it was when the table was opened, so that a
 *	long-running process can restart after "postmap" rebuilt the table.
 * DIAGNOSTICS
 *	Nothing fatal here: a table that cannot be opened becomes a
 *	surrogate whose lookups fail with DICT_ERR_CONFIG (Postfix's
 *	"unavailable" table: smtpd answers 4.3.5 Server configuration error).
 * SEE ALSO
 *	dict_type.h, dict_db.c, dict_lmdb.c, dict_regex.c, dict_cidr.c,
 *	dict_unix.c, dict_proxy.c, dict_nis.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "dict/dict.h"
#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/stringops.h"

/*
 * The table types, in postconf -m order. Every other type (ldap, mysql,
 * pgsql, sqlite, memcache, socketmap, tcp, sdbm, dbm, cdb, ...) opens as
 * a table whose lookups fail: "unsupported dictionary type: TYPE".
 */
static DICT *dict_open_db(const char *, const char *, int, int, int);
static DICT *dict_open_simple(const char *, const char *, int, int, int);

static const struct dict_type_info {
    const char *type;
    DICT   *(*open) (const char *type, const char *name, int open_flags,
		               int dict_flags, int mode);
    DICT   *(*simple) (const char *name, int open_flags, int dict_flags);
} dict_types[] = {
    {"btree", dict_open_db, 0},
    {"cidr", dict_open_simple, dict_cidr_open},
    {"hash", dict_open_db, 0},
    {"inline", dict_open_simple, dict_inline_open},
    {"lmdb", dict_lmdb_open, 0},
    {"nis", dict_open_simple, dict_nis_open},
    {"pcre", dict_open_simple, dict_pcre_open},
    {"proxy", 0, 0},			/* dict_proxy_open, below */
    {"regexp", dict_open_simple, dict_regexp_open},
    {"static", dict_open_simple, dict_static_open},
    {"texthash", dict_open_simple, dict_texthash_open},
    {"unix", dict_open_simple, dict_unix_open},
    {0},
};

static DICT *dict_open_db(const char *type, const char *name, int open_flags,
			          int dict_flags, int mode)
{
    return (dict_db_open(type, name, open_flags, dict_flags, mode));
}

static const struct dict_type_info *dict_type_find(const char *type)
{
    for (const struct dict_type_info *dt = dict_types; dt->type; dt++)
	if (strcmp(dt->type, type) == 0)
	    return (dt);
    return (0);
}

static DICT *dict_open_simple(const char *type, const char *name,
			              int open_flags, int dict_flags, int mode)
{
    (void) mode;
    return (dict_type_find(type)->simple(name, open_flags, dict_flags));
}

int     dict_type_known(const char *type)
{
    return (dict_type_find(type) != 0);
}

const char *dict_type_list(void)
{
    static VSTRING *buf;

    if (buf == 0) {
	buf = vstring_alloc(64);
	for (const struct dict_type_info *dt = dict_types; dt->type; dt++)
	    vstring_sprintf_append(buf, "%s\n", dt->type);
    }
    return (vstring_str(buf));
}

const char *dict_printable(const char *text)
{
    static VSTRING *bufs[4];
    static int next;
    VSTRING *buf;

    next = (next + 1) % 4;
    if (bufs[next] == 0)
	bufs[next] = vstring_alloc(100);
    buf = bufs[next];
    vstring_reset(buf);
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
	vstring_addch(buf, (*cp >= 0x20 && *cp < 0x7f) ? *cp : '?');
    return (vstring_str(buf));
}

/* Methods of a table that cannot do something. */

static const char *dict_fail_get(DICT *d, const char *key)
{
    (void) key;
    d->error = d->error_text ? DICT_ERR_RETRY : DICT_ERR_NONE;
    return (0);
}

static int dict_fail_put(DICT *d, const char *key, const char *value)
{
    (void) key;
    (void) value;
    if (d->error_text == 0)
	d->error_text = mystrdup("table does not support updates");
    d->error = DICT_ERR_RETRY;
    return (-1);
}

static int dict_fail_del(DICT *d, const char *key)
{
    (void) key;
    if (d->error_text == 0)
	d->error_text = mystrdup("table does not support deletes");
    d->error = DICT_ERR_RETRY;
    return (-1);
}

static int dict_fail_seq(DICT *d, int how, const char **key, const char **value)
{
    (void) how;
    (void) key;
    (void) value;
    if (d->error_text == 0)
	d->error_text = mystrdup("sequence operation is not supported");
    d->error = DICT_ERR_RETRY;
    return (-1);
}

static void dict_plain_close(DICT *d)
{
    dict_free(d);
}

DICT   *dict_alloc(const char *type, const char *name, size_t size)
{
    DICT   *d;

    if (size < sizeof(DICT))
	msg_panic("dict_alloc: size %zu too small", size);
    d = mycalloc(1, size);
    d->type = mystrdup(type);
    d->name = mystrdup(name);
    d->get = dict_fail_get;
    d->put = dict_fail_put;
    d->del = dict_fail_del;
    d->seq = dict_fail_seq;
    d->close = dict_plain_close;
    return (d);
}

void    dict_free(DICT *d)
{
    myfree(d->type);
    myfree(d->name);
    if (d->error_text)
	myfree(d->error_text);
    if (d->file)
	myfree(d->file);
    myfree(d);
}

void    dict_watch_file(DICT *d, const char *path)
{
    struct stat st;

    if (d->file != path) {
	if (d->file)
	    myfree(d->file);
	d->file = mystrdup(path);
    }
    if (stat(path, &st) == 0) {
	d->st_dev = st.st_dev;
	d->st_ino = st.st_ino;
	d->st_mtim = st.st_mtim;
    } else {
	d->st_dev = 0;
	d->st_ino = 0;
	d->st_mtim.tv_sec = 0;
	d->st_mtim.tv_nsec = 0;
    }
}

/* surrogate_get - a table that could not be opened: a configuration error */
static const char *surrogate_get(DICT *d, const char *key)
{
    (void) key;
    d->error = DICT_ERR_CONFIG;
    return (0);
}

DICT   *dict_surrogate(const char *type, const char *name, int dict_flags,
		               const char *fmt,...)
{
    DICT   *d = dict_alloc(type, name, sizeof(DICT));
    VSTRING *why = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(why, fmt, ap);
    va_end(ap);
    d->error_text = vstring_export(why);
    d->flags = dict_flags;
    d->error = DICT_ERR_CONFIG;
    d->get = surrogate_get;
    return (d);
}

/*
 * dict_surrogate_temporary - a surrogate for a table whose contents are
 * bad (a rule that does not compile): its lookups fail with
 * DICT_ERR_RETRY, so that they are refused for now, where Postfix
 * would skip the rule (DESIGN: fail closed, 451 4.3.0).
 */
void    dict_surrogate_temporary(DICT *d)
{
    d->get = dict_fail_get;
    d->error = DICT_ERR_RETRY;
}

DICT   *dict_open_mode(const char *type_name, int open_flags, int dict_flags,
		               int mode)
{
    const char *colon = strchr(type_name, ':');
    char   *type;
    const char *name;
    const struct dict_type_info *dt;
    DICT   *d;

    if (colon == 0 || colon == type_name || colon[1] == 0)
	return (dict_surrogate("unknown", type_name, dict_flags,
			       "open dictionary: expecting \"type:name\" "
			       "form instead of \"%s\"", type_name));
    type = mystrndup(type_name, colon - type_name);
    name = colon + 1;
    if (strcmp(type, "proxy") == 0)
	d = dict_proxy_open(name, open_flags, dict_flags, mode);
    else if ((dt = dict_type_find(type)) != 0)
	d = dt->open(type, name, open_flags, dict_flags, mode);
    else
	d = dict_surrogate(type, name, dict_flags,
			   "unsupported dictionary type: %s", type);
    myfree(type);
    return (d);
}

/* dict_cleanup - remove the temporary file of a table being built */

void    dict_cleanup(void)
{
    dict_db_cleanup();
    dict_lmdb_cleanup();
}

DICT   *dict_open(const char *type_name, int open_flags, int dict_flags)
{
    return (dict_open_mode(type_name, open_flags, dict_flags, 0644));
}

/* dict_fold - the key as the table sees it */

static const char *dict_fold(DICT *d, const char *key, VSTRING **bufp)
{
    if ((d->flags & DICT_FLAG_FOLD_FIX) == 0 || (d->flags & DICT_FLAG_PATTERN))
	return (key);
    for (const char *cp = key; *cp; cp++) {
	if (*cp >= 'A' && *cp <= 'Z') {
	    if (*bufp == 0)
		*bufp = vstring_alloc(100);
	    vstring_strcpy(*bufp, key);
	    return (lowercase(vstring_str(*bufp)));
	}
    }
    return (key);
}

static VSTRING *dict_fold_buf;

const char *dict_get(DICT *d, const char *key)
{
    d->error = DICT_ERR_NONE;
    return (d->get(d, dict_fold(d, key, &dict_fold_buf)));
}

int     dict_put(DICT *d, const char *key, const char *value)
{
    d->error = DICT_ERR_NONE;
    return (d->put(d, dict_fold(d, key, &dict_fold_buf), value));
}

int     dict_del(DICT *d, const char *key)
{
    d->error = DICT_ERR_NONE;
    return (d->del(d, dict_fold(d, key, &dict_fold_buf)));
}

int     dict_seq(DICT *d, int how, const char **key, const char **value)
{
    d->error = DICT_ERR_NONE;
    return (d->seq(d, how, key, value));
}

void    dict_close(DICT *d)
{
    d->close(d);
}

const char *dict_error_text(DICT *d)
{
    return (d->error_text);
}

int     dict_changed(DICT *d)
{
    struct stat st;

    if (d->file == 0)
	return (0);
    if (stat(d->file, &st) < 0)
	return (d->st_ino != 0);
    return (st.st_dev != d->st_dev || st.st_ino != d->st_ino
	    || st.st_mtim.tv_sec != d->st_mtim.tv_sec
	    || st.st_mtim.tv_nsec != d->st_mtim.tv_nsec);
}
