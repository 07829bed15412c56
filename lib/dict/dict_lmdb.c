/*
 * NAME
 *	dict_lmdb - lmdb: tables in LMDB files (FILE.lmdb)
 * SYNOPSIS
 *	DICT *dict_lmdb_open(const char *type, const char *name, int open_flags,
 *			     int dict_flags, int mode);
 * DESCRIPTION
 *	The file is "name.lmdb", an LMDB environment in one file (no
 *	subfolder, no lock file) holding the main database, as Debian's
 *	postfix-lmdb writes it, so either program reads the other's files.
 *	Keys and values follow the NUL conventions of dict_db.c
 *	(DICT_FLAG_TRY1NULL, DICT_FLAG_TRY0NULL).
 *
 *	LMDB's own lock file is not used: as in Postfix, readers opened
 *	with DICT_FLAG_LOCK take a shared flock(2) of the file for each
 *	lookup and writers an exclusive one for each update, which is what
 *	Postfix's postmap and daemons do with the same files.
 *
 *	Opened with O_TRUNC (postmap), the table is built in a temporary
 *	file beside the final one and renamed over it at dict_close(), so
 *	readers see the old table or the new one. Other updates (postmap
 *	-i, -d) happen in place, one committed transaction per update. As
 *	in Postfix, opening a table for updates creates an empty one when
 *	there is none.
 *
 *	An empty key, or one longer than LMDB's key size limit, is not found
 *	(Postfix's lookup stops with a fatal MDB_BAD_VALSIZE error instead);
 *	storing one is an error.
 *
 *	The memory map starts at 16 MiB (Postfix's lmdb_map_size default,
 *	which is not read here) and doubles whenever the table needs more;
 *	a reader follows a table that another process made bigger.
 * DIAGNOSTICS
 *	"lmdb:FILE: duplicate entry: \"key\"" with DICT_FLAG_DUP_WARN (the
 *	table's name, where hash: says "FILE.db", as in Postfix).
 *	An open failure makes a table whose lookups fail with
 *	DICT_ERR_RETRY; dict_error_text() is "open database FILE.lmdb:
 *	reason", as Postfix says it. Failure to finish a new table at
 *	dict_close() is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <lmdb.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"

#define LMDB_MAP_SIZE		((size_t) 16 * 1024 * 1024)
#define LMDB_BULK_BATCH		10000	/* puts per commit while building */
#define LMDB_GROW_LIMIT		40	/* doublings before giving up */

typedef struct DICT_LMDB {
    DICT    dict;
    MDB_env *env;
    MDB_dbi dbi;
    size_t  map_size;
    MDB_txn *seq_txn;			/* dict_seq() */
    MDB_cursor *cursor;
    MDB_txn *bulk_txn;			/* building a new table */
    VSTRING *bulk_log;			/* puts since the last bulk commit */
    int     bulk_count;
    char   *path;			/* name.lmdb */
    char   *tmp_path;			/* being built, or NULL */
    int     mode;
    int     lock_fd;
    int     writable;
    VSTRING *key_buf;
    VSTRING *val_buf;
} DICT_LMDB;

static char *dict_lmdb_building;	/* see dict_lmdb_cleanup() */

/* dict_lmdb_cleanup - remove a table that is still being built */

void    dict_lmdb_cleanup(void)
{
    if (dict_lmdb_building)
	(void) unlink(dict_lmdb_building);
}

static void dict_lmdb_lock(DICT_LMDB *dl, int how)
{
    if (dl->lock_fd >= 0 && dl->tmp_path == 0
	&& (dl->writable || (dl->dict.flags & DICT_FLAG_LOCK)))
	while (flock(dl->lock_fd, how) < 0 && errno == EINTR)
	     /* again */ ;
}

static void dict_lmdb_error(DICT_LMDB *dl, const char *op, int ret)
{
    VSTRING *why = vstring_alloc(100);

    vstring_sprintf(why, "%s %s: %s", op, dl->path, mdb_strerror(ret));
    if (dl->dict.error_text)
	myfree(dl->dict.error_text);
    dl->dict.error_text = vstring_export(why);
    dl->dict.error = DICT_ERR_RETRY;
}

/* dict_lmdb_grow - a bigger map, after MDB_MAP_FULL (no transaction open) */

static int dict_lmdb_grow(DICT_LMDB *dl)
{
    int     ret;

    if (dl->map_size > ((size_t) -1) / 2)
	return (MDB_MAP_FULL);
    dl->map_size *= 2;
    if ((ret = mdb_env_set_mapsize(dl->env, dl->map_size)) != 0)
	return (ret);
    return (0);
}

/*
 * dict_lmdb_read_txn - begin a read transaction; adopt a map that another
 * process made bigger.
 */
static int dict_lmdb_read_txn(DICT_LMDB *dl, MDB_txn **txn)
{
    int     ret;

    ret = mdb_txn_begin(dl->env, 0, MDB_RDONLY, txn);
    if (ret == MDB_MAP_RESIZED) {
	if ((ret = mdb_env_set_mapsize(dl->env, 0)) == 0)
	    ret = mdb_txn_begin(dl->env, 0, MDB_RDONLY, txn);
    }
    return (ret);
}

/* dict_lmdb_value - the value without its trailing NUL */

static const char *dict_lmdb_value(DICT_LMDB *dl, MDB_val *val)
{
    size_t  len = val->mv_size;

    if (len > 0 && ((char *) val->mv_data)[len - 1] == 0)
	len--;
    vstring_memcpy(dl->val_buf, val->mv_data, len);
    return (vstring_str(dl->val_buf));
}

static int dict_lmdb_fetch(DICT_LMDB *dl, MDB_txn *txn, const char *key,
			           size_t len, MDB_val *val)
{
    MDB_val k;

    /*
     * LMDB cannot hold an empty key or one longer than its key size limit:
     * such a key is not in the table. (Postfix's lookup stops with a fatal
     * "MDB_BAD_VALSIZE" error.)
     */
    if (len == 0 || len > (size_t) mdb_env_get_maxkeysize(dl->env))
	return (MDB_NOTFOUND);
    k.mv_data = (void *) key;
    k.mv_size = len;
    return (mdb_get(txn, dl->dbi, &k, val));
}

static const char *dict_lmdb_get(DICT *d, const char *key)
{
    DICT_LMDB *dl = (DICT_LMDB *) d;
    size_t  len = strlen(key);
    const char *result = 0;
    MDB_txn *txn = 0;
    MDB_val val;
    int     ret;

    dict_lmdb_lock(dl, LOCK_SH);
    if (dl->bulk_txn)
	txn = dl->bulk_txn;
    else if ((ret = dict_lmdb_read_txn(dl, &txn)) != 0) {
	dict_lmdb_lock(dl, LOCK_UN);
	dict_lmdb_error(dl, "read", ret);
	return (0);
    }
    ret = MDB_NOTFOUND;
    if (d->flags & DICT_FLAG_TRY1NULL) {
	if ((ret = dict_lmdb_fetch(dl, txn, key, len + 1, &val)) == 0) {
	    d->flags &= ~DICT_FLAG_TRY0NULL;
	    result = dict_lmdb_value(dl, &val);
	}
    }
    if (ret == MDB_NOTFOUND && (d->flags & DICT_FLAG_TRY0NULL)) {
	if ((ret = dict_lmdb_fetch(dl, txn, key, len, &val)) == 0) {
	    d->flags &= ~DICT_FLAG_TRY1NULL;
	    result = dict_lmdb_value(dl, &val);
	}
    }
    if (txn != dl->bulk_txn)
	mdb_txn_abort(txn);
    dict_lmdb_lock(dl, LOCK_UN);
    if (ret != 0 && ret != MDB_NOTFOUND)
	dict_lmdb_error(dl, "read", ret);
    return (result);
}

/* dict_lmdb_size - the stored length of a key or value, by the NUL convention */

static size_t dict_lmdb_size(DICT *d, const char *text)
{
    /* Write with a NUL when the table may have one (Postfix on Linux). */
    if ((d->flags & DICT_FLAG_TRY1NULL) && (d->flags & DICT_FLAG_TRY0NULL))
	d->flags &= ~DICT_FLAG_TRY0NULL;
    return (strlen(text) + ((d->flags & DICT_FLAG_TRY1NULL) ? 1 : 0));
}

/* dict_lmdb_store - one put in txn: 0, MDB_KEYEXIST, or an error */

static int dict_lmdb_store(DICT_LMDB *dl, MDB_txn *txn, const char *key,
			           size_t klen, const char *value, size_t vlen)
{
    DICT   *d = &dl->dict;
    MDB_val k;
    MDB_val v;
    unsigned flags;

    k.mv_data = (void *) key;
    k.mv_size = klen;
    v.mv_data = (void *) value;
    v.mv_size = vlen;
    flags = (d->flags & (DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE)) ?
	MDB_NOOVERWRITE : 0;
    if (d->flags & DICT_FLAG_DUP_REPLACE)
	flags = 0;
    return (mdb_put(txn, dl->dbi, &k, &v, flags));
}

/* dict_lmdb_bulk_begin - a new bulk transaction, after the puts of the log */

static int dict_lmdb_bulk_begin(DICT_LMDB *dl)
{
    const char *cp;
    const char *end;
    size_t  klen;
    size_t  vlen;
    int     ret;

    for (int tries = 0; tries < LMDB_GROW_LIMIT; tries++) {
	if ((ret = mdb_txn_begin(dl->env, 0, 0, &dl->bulk_txn)) != 0)
	    return (ret);
	/* The log holds "klen vlen key value" records of accepted puts. */
	cp = vstring_str(dl->bulk_log);
	end = vstring_end(dl->bulk_log);
	for (ret = 0; ret == 0 && cp < end; cp += klen + vlen) {
	    memcpy(&klen, cp, sizeof(klen));
	    memcpy(&vlen, cp + sizeof(klen), sizeof(vlen));
	    cp += 2 * sizeof(size_t);
	    ret = dict_lmdb_store(dl, dl->bulk_txn, cp, klen, cp + klen, vlen);
	}
	if (ret == 0)
	    return (0);
	mdb_txn_abort(dl->bulk_txn);
	dl->bulk_txn = 0;
	if (ret != MDB_MAP_FULL || (ret = dict_lmdb_grow(dl)) != 0)
	    return (ret);
    }
    return (MDB_MAP_FULL);
}

/* dict_lmdb_bulk_commit - commit the bulk transaction; a full map grows */

static int dict_lmdb_bulk_commit(DICT_LMDB *dl)
{
    int     ret;

    for (int tries = 0; tries < LMDB_GROW_LIMIT; tries++) {
	if (dl->bulk_txn == 0 && (ret = dict_lmdb_bulk_begin(dl)) != 0)
	    return (ret);
	ret = mdb_txn_commit(dl->bulk_txn);
	dl->bulk_txn = 0;
	if (ret == 0) {
	    vstring_reset(dl->bulk_log);
	    dl->bulk_count = 0;
	    return (0);
	}
	/* The commit freed the transaction: grow, then replay the log. */
	if (ret != MDB_MAP_FULL || (ret = dict_lmdb_grow(dl)) != 0)
	    return (ret);
    }
    return (MDB_MAP_FULL);
}

/* dict_lmdb_bulk_put - a put while building; a full map grows and replays */

static int dict_lmdb_bulk_put(DICT_LMDB *dl, const char *key, size_t klen,
			              const char *value, size_t vlen)
{
    int     ret;

    for (int tries = 0; tries < LMDB_GROW_LIMIT; tries++) {
	if (dl->bulk_txn == 0 && (ret = dict_lmdb_bulk_begin(dl)) != 0)
	    return (ret);
	ret = dict_lmdb_store(dl, dl->bulk_txn, key, klen, value, vlen);
	if (ret == 0) {
	    vstring_memcat(dl->bulk_log, &klen, sizeof(klen));
	    vstring_memcat(dl->bulk_log, &vlen, sizeof(vlen));
	    vstring_memcat(dl->bulk_log, key, klen);
	    vstring_memcat(dl->bulk_log, value, vlen);
	    if (++dl->bulk_count >= LMDB_BULK_BATCH)
		return (dict_lmdb_bulk_commit(dl));
	    return (0);
	}
	if (ret != MDB_MAP_FULL)
	    return (ret);
	mdb_txn_abort(dl->bulk_txn);
	dl->bulk_txn = 0;
	if ((ret = dict_lmdb_grow(dl)) != 0)
	    return (ret);
    }
    return (MDB_MAP_FULL);
}

/* dict_lmdb_update - one committed put or delete in place */

static int dict_lmdb_update(DICT_LMDB *dl, const char *key, size_t klen,
			            const char *value, size_t vlen)
{
    MDB_txn *txn;
    MDB_val k;
    int     ret;

    for (int tries = 0; tries < LMDB_GROW_LIMIT; tries++) {
	ret = mdb_txn_begin(dl->env, 0, 0, &txn);
	if (ret == MDB_MAP_RESIZED) {
	    if ((ret = mdb_env_set_mapsize(dl->env, 0)) != 0)
		return (ret);
	    continue;
	}
	if (ret != 0)
	    return (ret);
	if (value) {
	    ret = dict_lmdb_store(dl, txn, key, klen, value, vlen);
	} else {
	    k.mv_data = (void *) key;
	    k.mv_size = klen;
	    ret = mdb_del(txn, dl->dbi, &k, 0);
	}
	if (ret == 0)
	    ret = mdb_txn_commit(txn);
	else
	    mdb_txn_abort(txn);
	if (ret != MDB_MAP_FULL)
	    return (ret);
	if ((ret = dict_lmdb_grow(dl)) != 0)
	    return (ret);
    }
    return (MDB_MAP_FULL);
}

static int dict_lmdb_put(DICT *d, const char *key, const char *value)
{
    DICT_LMDB *dl = (DICT_LMDB *) d;
    size_t  klen = dict_lmdb_size(d, key);
    size_t  vlen = dict_lmdb_size(d, value);
    int     ret;

    dict_lmdb_lock(dl, LOCK_EX);
    if (dl->tmp_path)
	ret = dict_lmdb_bulk_put(dl, key, klen, value, vlen);
    else
	ret = dict_lmdb_update(dl, key, klen, value, vlen);
    dict_lmdb_lock(dl, LOCK_UN);
    if (ret == MDB_KEYEXIST) {
	if (d->flags & DICT_FLAG_DUP_WARN)
	    msg_warn("%s:%s: duplicate entry: \"%s\"", d->type, d->name,
		     dict_printable(key));
	return (1);
    }
    if (ret != 0) {
	dict_lmdb_error(dl, "write", ret);
	return (-1);
    }
    return (0);
}

static int dict_lmdb_del(DICT *d, const char *key)
{
    DICT_LMDB *dl = (DICT_LMDB *) d;
    size_t  len = strlen(key);
    int     ret = MDB_NOTFOUND;

    if (dl->tmp_path) {
	dict_lmdb_error(dl, "delete from", EINVAL);
	return (-1);
    }
    dict_lmdb_lock(dl, LOCK_EX);
    if (d->flags & DICT_FLAG_TRY1NULL) {
	if ((ret = dict_lmdb_update(dl, key, len + 1, 0, 0)) == 0)
	    d->flags &= ~DICT_FLAG_TRY0NULL;
    }
    if (ret == MDB_NOTFOUND && (d->flags & DICT_FLAG_TRY0NULL)) {
	if ((ret = dict_lmdb_update(dl, key, len, 0, 0)) == 0)
	    d->flags &= ~DICT_FLAG_TRY1NULL;
    }
    dict_lmdb_lock(dl, LOCK_UN);
    if (ret == MDB_NOTFOUND)
	return (1);
    if (ret != 0) {
	dict_lmdb_error(dl, "delete from", ret);
	return (-1);
    }
    return (0);
}

static void dict_lmdb_seq_end(DICT_LMDB *dl)
{
    if (dl->cursor)
	mdb_cursor_close(dl->cursor);
    if (dl->seq_txn)
	mdb_txn_abort(dl->seq_txn);
    dl->cursor = 0;
    dl->seq_txn = 0;
}

static int dict_lmdb_seq(DICT *d, int how, const char **key, const char **value)
{
    DICT_LMDB *dl = (DICT_LMDB *) d;
    MDB_val k;
    MDB_val v;
    int     ret;
    size_t  len;

    if (how == DICT_SEQ_FIRST)
	dict_lmdb_seq_end(dl);
    if (dl->cursor == 0) {
	if (how != DICT_SEQ_FIRST)
	    return (1);
	if ((ret = dict_lmdb_read_txn(dl, &dl->seq_txn)) != 0
	    || (ret = mdb_cursor_open(dl->seq_txn, dl->dbi, &dl->cursor)) != 0) {
	    dict_lmdb_seq_end(dl);
	    dict_lmdb_error(dl, "read", ret);
	    return (-1);
	}
    }
    ret = mdb_cursor_get(dl->cursor, &k, &v, how == DICT_SEQ_FIRST ? MDB_FIRST : MDB_NEXT);
    if (ret == MDB_NOTFOUND) {
	dict_lmdb_seq_end(dl);
	return (1);
    }
    if (ret != 0) {
	dict_lmdb_seq_end(dl);
	dict_lmdb_error(dl, "read", ret);
	return (-1);
    }
    len = k.mv_size;
    if (len > 0 && ((char *) k.mv_data)[len - 1] == 0)
	len--;
    vstring_memcpy(dl->key_buf, k.mv_data, len);
    *key = vstring_str(dl->key_buf);
    *value = dict_lmdb_value(dl, &v);
    return (0);
}

/* dict_lmdb_finish - commit the new table, sync it and move it into place */

static void dict_lmdb_finish(DICT_LMDB *dl)
{
    int     ret;
    int     fd;
    char   *dir;
    char   *slash;

    if ((ret = dict_lmdb_bulk_commit(dl)) != 0)
	msg_fatal("write %s: %s", dl->tmp_path, mdb_strerror(ret));
    if ((ret = mdb_env_sync(dl->env, 1)) != 0)
	msg_fatal("sync %s: %s", dl->tmp_path, mdb_strerror(ret));
    mdb_env_close(dl->env);
    dl->env = 0;
    if ((fd = open(dl->tmp_path, O_RDONLY)) < 0)
	msg_fatal("open %s: %m", dl->tmp_path);
    if (fchmod(fd, dl->mode) < 0)
	msg_fatal("chmod %s: %m", dl->tmp_path);
    if (fsync(fd) < 0)
	msg_fatal("fsync %s: %m", dl->tmp_path);
    (void) close(fd);
    if (rename(dl->tmp_path, dl->path) < 0)
	msg_fatal("rename %s to %s: %m", dl->tmp_path, dl->path);
    dir = mystrdup(dl->path);
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

static void dict_lmdb_close(DICT *d)
{
    DICT_LMDB *dl = (DICT_LMDB *) d;

    dict_lmdb_seq_end(dl);
    if (dl->tmp_path) {
	dict_lmdb_finish(dl);
	dict_lmdb_building = 0;
	myfree(dl->tmp_path);
    }
    if (dl->env)
	mdb_env_close(dl->env);
    myfree(dl->path);
    vstring_free(dl->bulk_log);
    vstring_free(dl->key_buf);
    vstring_free(dl->val_buf);
    dict_free(d);
}

/* dict_lmdb_env - open the environment and its main database */

static int dict_lmdb_env(DICT_LMDB *dl, const char *path, int read_only)
{
    unsigned env_flags = MDB_NOSUBDIR | MDB_NOLOCK;
    MDB_txn *txn;
    int     ret;

    if (read_only)
	env_flags |= MDB_RDONLY;
    if (dl->tmp_path)
	env_flags |= MDB_NOSYNC;
    if ((ret = mdb_env_create(&dl->env)) != 0)
	return (ret);
    if ((ret = mdb_env_set_mapsize(dl->env, dl->map_size)) != 0
	|| (ret = mdb_env_open(dl->env, path, env_flags, dl->mode)) != 0)
	return (ret);
    if ((ret = dict_lmdb_read_txn(dl, &txn)) != 0)
	return (ret);
    ret = mdb_dbi_open(txn, 0, 0, &dl->dbi);
    mdb_txn_abort(txn);
    return (ret);
}

DICT   *dict_lmdb_open(const char *type, const char *name, int open_flags,
			       int dict_flags, int mode)
{
    DICT_LMDB *dl;
    VSTRING *buf = vstring_alloc(100);
    const char *open_path;
    int     ret;

    dl = (DICT_LMDB *) dict_alloc(type, name, sizeof(DICT_LMDB));
    dl->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dl->dict.get = dict_lmdb_get;
    dl->dict.put = dict_lmdb_put;
    dl->dict.del = dict_lmdb_del;
    dl->dict.seq = dict_lmdb_seq;
    dl->dict.close = dict_lmdb_close;
    dl->bulk_log = vstring_alloc(100);
    dl->key_buf = vstring_alloc(100);
    dl->val_buf = vstring_alloc(100);
    dl->mode = mode;
    dl->lock_fd = -1;
    dl->map_size = LMDB_MAP_SIZE;
    vstring_sprintf(buf, "%s.lmdb", name);
    dl->path = mystrdup(vstring_str(buf));
    dl->writable = (open_flags & O_ACCMODE) != O_RDONLY;
    open_path = dl->path;

    if (open_flags & O_TRUNC) {
	/* A new table: build it aside, rename at close. */
	vstring_sprintf(buf, "%s.lmdb.%ld.tmp", name, (long) getpid());
	dl->tmp_path = mystrdup(vstring_str(buf));
	(void) unlink(dl->tmp_path);
	open_path = dl->tmp_path;
	dict_lmdb_building = dl->tmp_path;
    }
    vstring_free(buf);

    if ((ret = dict_lmdb_env(dl, open_path, !dl->writable)) != 0) {
	DICT   *s = dict_surrogate(type, name, dict_flags,
				   "open database %s: %s", dl->path,
				   mdb_strerror(ret));

	dict_watch_file(s, dl->path);
	if (dl->tmp_path) {
	    (void) unlink(dl->tmp_path);
	    dict_lmdb_building = 0;
	    myfree(dl->tmp_path);
	    dl->tmp_path = 0;
	}
	dict_lmdb_close(&dl->dict);
	return (s);
    }
    if (mdb_env_get_fd(dl->env, &dl->lock_fd) != 0)
	dl->lock_fd = -1;
    dict_watch_file(&dl->dict, dl->path);
    return (&dl->dict);
}
