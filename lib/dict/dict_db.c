/*
 * NAME
 *	dict_db - hash: and btree: tables in Berkeley DB files (FILE.db)
 * SYNOPSIS
 *	DICT *dict_db_open(const char *type, const char *name, int open_flags,
 *			   int dict_flags, int mode);
 *	void dict_db_cleanup(void);
 * DESCRIPTION
 *	The file is "name.db", a Berkeley DB (5.3) hash or btree database
 *	in native byte order, as Debian's Postfix writes it. Keys and
 *	values carry a trailing NUL when the table is written with
 *	DICT_FLAG_TRY1NULL (Postfix's default on Linux), none with only
 *	DICT_FLAG_TRY0NULL (postmap -n). A reader with both flags tries
 *	the key with NUL first, then without, and remembers which form the
 *	file uses.
 *
 *	Opened with O_TRUNC, the table is built in a temporary file in the
 *	same folder with a large cache and no syncing; dict_close() syncs
 *	it once, sets its mode, and renames it over name.db, so a reader
 *	sees either the old or the new table, never a half-built one.
 *	Other updates (postmap -i, -d) happen in place under an exclusive
 *	flock(2) of the database file; readers opened with DICT_FLAG_LOCK
 *	take a shared lock for each lookup, as Postfix does.
 *
 *	dict_db_cleanup() removes a temporary file that is still being built
 *	(for a fatal-exit hook).
 * DIAGNOSTICS
 *	"FILE.db: duplicate entry: \"key\"" with DICT_FLAG_DUP_WARN.
 *	An open failure makes a table whose lookups fail with
 *	DICT_ERR_RETRY; dict_error_text() is "open database FILE.db:
 *	reason", as Postfix says.
 *	Failure to finish a new table at dict_close() is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <db.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"

#define DICT_DB_READ_CACHE	(1024 * 1024)
#define DICT_DB_WRITE_CACHE	(64 * 1024 * 1024)
#define DICT_DB_NELEM		65536

typedef struct DICT_DB {
    DICT    dict;
    DB     *db;
    DBC    *cursor;
    char   *path;			/* name.db */
    char   *tmp_path;			/* being built, or NULL */
    int     mode;
    int     lock_fd;
    int     writable;
    VSTRING *key_buf;
    VSTRING *val_buf;
} DICT_DB;

static char *dict_db_building;		/* for dict_db_cleanup() */

void    dict_db_cleanup(void)
{
    if (dict_db_building)
	(void) unlink(dict_db_building);
}

/* dict_db_lock - flock the file, when it is shared with other processes */

static void dict_db_lock(DICT_DB *dd, int how)
{
    if (dd->lock_fd >= 0 && dd->tmp_path == 0
	&& (dd->writable || (dd->dict.flags & DICT_FLAG_LOCK)))
	while (flock(dd->lock_fd, how) < 0 && errno == EINTR)
	     /* again */ ;
}

static void dict_db_error(DICT_DB *dd, const char *op, int ret)
{
    VSTRING *why = vstring_alloc(100);

    vstring_sprintf(why, "%s %s: %s", op, dd->path, db_strerror(ret));
    if (dd->dict.error_text)
	myfree(dd->dict.error_text);
    dd->dict.error_text = vstring_export(why);
    dd->dict.error = DICT_ERR_RETRY;
}

/* dict_db_value - the value without its trailing NUL */

static const char *dict_db_value(DICT_DB *dd, DBT *val)
{
    size_t  len = val->size;

    if (len > 0 && ((char *) val->data)[len - 1] == 0)
	len--;
    vstring_memcpy(dd->val_buf, val->data, len);
    return (vstring_str(dd->val_buf));
}

static int dict_db_fetch(DICT_DB *dd, const char *key, size_t len, DBT *val)
{
    DBT     k;

    memset(&k, 0, sizeof(k));
    memset(val, 0, sizeof(*val));
    k.data = (void *) key;
    k.size = (u_int32_t) len;
    return (dd->db->get(dd->db, 0, &k, val, 0));
}

static const char *dict_db_get(DICT *d, const char *key)
{
    DICT_DB *dd = (DICT_DB *) d;
    size_t  len = strlen(key);
    const char *result = 0;
    DBT     val;
    int     ret = DB_NOTFOUND;

    dict_db_lock(dd, LOCK_SH);
    if (d->flags & DICT_FLAG_TRY1NULL) {
	if ((ret = dict_db_fetch(dd, key, len + 1, &val)) == 0) {
	    d->flags &= ~DICT_FLAG_TRY0NULL;
	    result = dict_db_value(dd, &val);
	}
    }
    if (ret == DB_NOTFOUND && (d->flags & DICT_FLAG_TRY0NULL)) {
	if ((ret = dict_db_fetch(dd, key, len, &val)) == 0) {
	    d->flags &= ~DICT_FLAG_TRY1NULL;
	    result = dict_db_value(dd, &val);
	}
    }
    dict_db_lock(dd, LOCK_UN);
    if (ret != 0 && ret != DB_NOTFOUND)
	dict_db_error(dd, "read", ret);
    return (result);
}

/* dict_db_keylen - the stored length of a key, by the NUL convention */

static size_t dict_db_keylen(DICT *d, const char *key)
{
    /* Write with a NUL when the table may have one (Postfix on Linux). */
    if ((d->flags & DICT_FLAG_TRY1NULL) && (d->flags & DICT_FLAG_TRY0NULL))
	d->flags &= ~DICT_FLAG_TRY0NULL;
    return (strlen(key) + ((d->flags & DICT_FLAG_TRY1NULL) ? 1 : 0));
}

static int dict_db_put(DICT *d, const char *key, const char *value)
{
    DICT_DB *dd = (DICT_DB *) d;
    DBT     k;
    DBT     v;
    int     ret;
    u_int32_t flags;

    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *) key;
    k.size = (u_int32_t) dict_db_keylen(d, key);
    v.data = (void *) value;
    v.size = (u_int32_t) (strlen(value) + ((d->flags & DICT_FLAG_TRY1NULL) ? 1 : 0));
    flags = (d->flags & (DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE)) ?
	DB_NOOVERWRITE : 0;
    if (d->flags & DICT_FLAG_DUP_REPLACE)
	flags = 0;
    dict_db_lock(dd, LOCK_EX);
    ret = dd->db->put(dd->db, 0, &k, &v, flags);
    if (ret == 0 && dd->tmp_path == 0)
	ret = dd->db->sync(dd->db, 0);
    dict_db_lock(dd, LOCK_UN);
    if (ret == DB_KEYEXIST) {
	if (d->flags & DICT_FLAG_DUP_WARN)
	    msg_warn("%s: duplicate entry: \"%s\"", dd->path, dict_printable(key));
	return (1);
    }
    if (ret != 0) {
	dict_db_error(dd, "write", ret);
	return (-1);
    }
    return (0);
}

static int dict_db_del(DICT *d, const char *key)
{
    DICT_DB *dd = (DICT_DB *) d;
    size_t  len = strlen(key);
    DBT     k;
    int     ret = DB_NOTFOUND;

    memset(&k, 0, sizeof(k));
    k.data = (void *) key;
    dict_db_lock(dd, LOCK_EX);
    if (d->flags & DICT_FLAG_TRY1NULL) {
	k.size = (u_int32_t) (len + 1);
	if ((ret = dd->db->del(dd->db, 0, &k, 0)) == 0)
	    d->flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (ret == DB_NOTFOUND && (d->flags & DICT_FLAG_TRY0NULL)) {
	k.size = (u_int32_t) len;
	if ((ret = dd->db->del(dd->db, 0, &k, 0)) == 0)
	    d->flags &= ~DICT_FLAG_TRY1NULL;
    }
    if (ret == 0 && dd->tmp_path == 0)
	ret = dd->db->sync(dd->db, 0);
    dict_db_lock(dd, LOCK_UN);
    if (ret == DB_NOTFOUND)
	return (1);
    if (ret != 0) {
	dict_db_error(dd, "delete from", ret);
	return (-1);
    }
    return (0);
}

static int dict_db_seq(DICT *d, int how, const char **key, const char **value)
{
    DICT_DB *dd = (DICT_DB *) d;
    DBT     k;
    DBT     v;
    int     ret;
    size_t  len;

    if (how == DICT_SEQ_FIRST && dd->cursor) {
	dd->cursor->close(dd->cursor);
	dd->cursor = 0;
    }
    if (dd->cursor == 0) {
	if (how != DICT_SEQ_FIRST)
	    return (1);
	if ((ret = dd->db->cursor(dd->db, 0, &dd->cursor, 0)) != 0) {
	    dict_db_error(dd, "read", ret);
	    return (-1);
	}
    }
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    ret = dd->cursor->get(dd->cursor, &k, &v, how == DICT_SEQ_FIRST ? DB_FIRST : DB_NEXT);
    if (ret == DB_NOTFOUND) {
	dd->cursor->close(dd->cursor);
	dd->cursor = 0;
	return (1);
    }
    if (ret != 0) {
	dict_db_error(dd, "read", ret);
	return (-1);
    }
    len = k.size;
    if (len > 0 && ((char *) k.data)[len - 1] == 0)
	len--;
    vstring_memcpy(dd->key_buf, k.data, len);
    *key = vstring_str(dd->key_buf);
    *value = dict_db_value(dd, &v);
    return (0);
}

/* dict_db_finish - sync the new table and move it into place */

static void dict_db_finish(DICT_DB *dd)
{
    int     fd;
    char   *dir;
    char   *slash;

    if ((fd = open(dd->tmp_path, O_RDONLY)) < 0)
	msg_fatal("open %s: %m", dd->tmp_path);
    if (fchmod(fd, dd->mode) < 0)
	msg_fatal("chmod %s: %m", dd->tmp_path);
    if (fsync(fd) < 0)
	msg_fatal("fsync %s: %m", dd->tmp_path);
    (void) close(fd);
    if (rename(dd->tmp_path, dd->path) < 0)
	msg_fatal("rename %s to %s: %m", dd->tmp_path, dd->path);
    dir = mystrdup(dd->path);
    if ((slash = strrchr(dir, '/')) != 0) {
	slash[slash == dir ? 1 : 0] = 0;
    } else {
	myfree(dir);
	dir = mystrdup(".");
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
	(void) fsync(fd);
	(void) close(fd);
    }
    myfree(dir);
}

static void dict_db_close(DICT *d)
{
    DICT_DB *dd = (DICT_DB *) d;
    int     ret;

    if (dd->cursor)
	dd->cursor->close(dd->cursor);
    if (dd->tmp_path) {
	if ((ret = dd->db->close(dd->db, 0)) != 0)
	    msg_fatal("close database %s: %s", dd->tmp_path, db_strerror(ret));
	dict_db_finish(dd);
	dict_db_building = 0;
	myfree(dd->tmp_path);
    } else if (dd->db) {
	(void) dd->db->close(dd->db, 0);
    }
    myfree(dd->path);
    vstring_free(dd->key_buf);
    vstring_free(dd->val_buf);
    dict_free(d);
}

DICT   *dict_db_open(const char *type, const char *name, int open_flags,
		             int dict_flags, int mode)
{
    DICT_DB *dd;
    DBTYPE  db_type = strcmp(type, "btree") == 0 ? DB_BTREE : DB_HASH;
    VSTRING *buf = vstring_alloc(100);
    u_int32_t db_flags = 0;
    const char *open_path;
    int     ret;

    dd = (DICT_DB *) dict_alloc(type, name, sizeof(DICT_DB));
    dd->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dd->dict.get = dict_db_get;
    dd->dict.put = dict_db_put;
    dd->dict.del = dict_db_del;
    dd->dict.seq = dict_db_seq;
    dd->dict.close = dict_db_close;
    dd->key_buf = vstring_alloc(100);
    dd->val_buf = vstring_alloc(100);
    dd->mode = mode;
    dd->lock_fd = -1;
    vstring_sprintf(buf, "%s.db", name);
    dd->path = mystrdup(vstring_str(buf));
    dd->writable = (open_flags & O_ACCMODE) != O_RDONLY;
    open_path = dd->path;

    if (open_flags & O_TRUNC) {
	/* A new table: build it aside, rename at close. */
	vstring_sprintf(buf, "%s.db.%ld.tmp", name, (long) getpid());
	dd->tmp_path = mystrdup(vstring_str(buf));
	(void) unlink(dd->tmp_path);
	open_path = dd->tmp_path;
	db_flags = DB_CREATE;
	dict_db_building = dd->tmp_path;
    } else if (!dd->writable) {
	db_flags = DB_RDONLY;
    } else if (open_flags & O_CREAT) {
	db_flags = DB_CREATE;
    }
    vstring_free(buf);

    if ((ret = db_create(&dd->db, 0, 0)) != 0)
	msg_fatal("db_create: %s", db_strerror(ret));
    if (dd->tmp_path) {
	(void) dd->db->set_cachesize(dd->db, 0, DICT_DB_WRITE_CACHE, 1);
	if (db_type == DB_HASH)
	    (void) dd->db->set_h_nelem(dd->db, DICT_DB_NELEM);
    } else {
	(void) dd->db->set_cachesize(dd->db, 0, DICT_DB_READ_CACHE, 1);
    }
    /* Berkeley DB names a bare file "./FILE" in its messages, as for Postfix. */
    if (strchr(open_path, '/') == 0) {
	vstring_sprintf(dd->val_buf, "./%s", open_path);
	open_path = vstring_str(dd->val_buf);
    }
    ret = dd->db->open(dd->db, 0, open_path, 0, db_type, db_flags, mode);
    vstring_reset(dd->val_buf);
    if (ret != 0) {
	/* Postfix's words: "open FILE.db: reason". */
	vstring_sprintf(dd->key_buf, "open database %s: %s", dd->path,
			ret > 0 ? strerror(ret) : db_strerror(ret));
	(void) dd->db->close(dd->db, 0);
	dd->db = 0;
	if (dd->tmp_path) {
	    (void) unlink(dd->tmp_path);
	    dict_db_building = 0;
	    myfree(dd->tmp_path);
	    dd->tmp_path = 0;
	}
	dd->dict.error_text = mystrdup(vstring_str(dd->key_buf));
	{
	    DICT   *s = dict_surrogate(type, name, dict_flags, "%s",
				       dd->dict.error_text);

	    dict_watch_file(s, dd->path);
	    dict_db_close(&dd->dict);
	    return (s);
	}
    }
    if (dd->db->fd(dd->db, &dd->lock_fd) != 0)
	dd->lock_fd = -1;
    dict_watch_file(&dd->dict, dd->path);
    return (&dd->dict);
}
