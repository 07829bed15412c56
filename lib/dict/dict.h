/*
 * NAME
 *	dict - lookup tables behind one interface
 * SYNOPSIS
 *	DICT *dict_open(const char *type_name, int open_flags, int dict_flags);
 *	const char *dict_get(DICT *d, const char *key);
 *	int dict_put(DICT *d, const char *key, const char *value);
 *	int dict_del(DICT *d, const char *key);
 *	int dict_seq(DICT *d, int first_next, const char **key, const char **value);
 *	void dict_close(DICT *d);
 *	int dict_changed(DICT *d);
 *	const char *dict_error_text(DICT *d);
 *	DICT *dict_open_mode(const char *type_name, int open_flags,
 *			     int dict_flags, int mode);
 *	int dict_type_known(const char *type);
 *	const char *dict_type_list(void);
 *	void dict_cleanup(void);
 * DESCRIPTION
 *	type_name is "type:name" as in main.cf: hash:/etc/postfix/transport,
 *	btree:..., texthash:..., inline:{ k=v, ... }, static:value,
 *	pcre:/file, cidr:/file. A name without "type:" is an error here
 *	(postmap supplies default_database_type itself).
 *
 *	dict_get() returns the value, or NULL with d->error set:
 *	DICT_ERR_NONE (not found), DICT_ERR_RETRY (temporary: the table
 *	could not be read or compiled; callers answer 4xx / defer and never
 *	treat this as "not found"), DICT_ERR_CONFIG. Keys are folded to
 *	lower case unless DICT_FLAG_FOLD_FIX is off (postmap -f).
 *	The value stays valid until the next call on the same table.
 *
 *	Tables opened by a long-running process notice that their file
 *	changed (dict_changed); mail_server skeletons then exit after the
 *	current request so the next process opens the new file, as Postfix
 *	daemons do. Regexp-style tables (pcre) get the whole key and are
 *	not subject to the parent-domain/@domain iteration of maps_find.
 *
 *	dict_open() never fails: a table that cannot be opened (missing
 *	file, bad syntax that makes it unsafe, unknown type) comes back as
 *	a table whose lookups fail with DICT_ERR_RETRY, and
 *	dict_error_text() says why (NULL for a healthy table). Programs
 *	for which that is fatal (postmap) check dict_error_text() after
 *	opening. dict_open_mode() also gives the permissions of a file
 *	that is created (postmap); dict_open() uses 0644.
 *	With O_TRUNC and DICT_FLAG_BULK_CREATE a hash:/btree: table is
 *	built in a temporary file beside the final one, synced, and
 *	renamed over it at dict_close(), so readers never see a half-built
 *	table. dict_put() returns 0 (stored), 1 (duplicate kept, see the
 *	DUP flags; with none of them set a duplicate replaces the old
 *	value) or -1 (error, d->error set).
 *
 *	dict_cleanup() removes the temporary file of a table that is
 *	being built (call it from a fatal-exit hook, see msg_cleanup()).
 *
 *	dict_type_known() says whether "type" is a supported table type;
 *	dict_type_list() lists them (postconf -m style, one per line).
 *
 *	dict_seq() walks the table (postmap -s): DICT_SEQ_FIRST, then
 *	DICT_SEQ_NEXT; returns 0 for an item, 1 at the end, -1 on error.
 * FLAGS
 *	DICT_FLAG_FOLD_FIX	fold keys to lower case (default on)
 *	DICT_FLAG_TRY0NULL	also look up without trailing NUL
 *	DICT_FLAG_TRY1NULL	look up with trailing NUL
 *	DICT_FLAG_DUP_WARN	warn about duplicate keys, keep first
 *	DICT_FLAG_DUP_REPLACE	replace duplicates silently (postmap -r)
 *	DICT_FLAG_DUP_IGNORE	ignore duplicates silently (postmap -w)
 *	DICT_FLAG_FIXED		fixed-key table (hash, btree, texthash...)
 *	DICT_FLAG_PATTERN	pattern table (pcre, cidr): whole key only
 *	DICT_FLAG_BULK_CREATE	(postmap) build a new table atomically
 * DIAGNOSTICS
 *	A malformed source line: warning "file, line N: text" and the line
 *	is skipped, as Postfix does. An unreadable file or a bad regular
 *	expression makes every lookup return NULL with DICT_ERR_RETRY
 *	(stricter than Postfix 3.7, which skips the bad rule).
 */
#ifndef DICT_H
#define DICT_H
#include <sys/types.h>
#include <time.h>

#define DICT_ERR_NONE	0
#define DICT_ERR_RETRY	(-1)
#define DICT_ERR_CONFIG	(-2)

#define DICT_FLAG_FOLD_FIX	(1<<0)
#define DICT_FLAG_TRY0NULL	(1<<1)
#define DICT_FLAG_TRY1NULL	(1<<2)
#define DICT_FLAG_DUP_WARN	(1<<3)
#define DICT_FLAG_DUP_REPLACE	(1<<4)
#define DICT_FLAG_DUP_IGNORE	(1<<5)
#define DICT_FLAG_FIXED		(1<<6)
#define DICT_FLAG_PATTERN	(1<<7)
#define DICT_FLAG_BULK_CREATE	(1<<8)
#define DICT_FLAG_LOCK		(1<<9)

#define DICT_FLAG_DEFAULT \
    (DICT_FLAG_FOLD_FIX | DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL | DICT_FLAG_DUP_WARN)

#define DICT_SEQ_FIRST	0
#define DICT_SEQ_NEXT	1

typedef struct DICT DICT;

struct DICT {
    char   *type;			/* "hash" */
    char   *name;			/* "/etc/postfix/transport" */
    int     flags;
    int     error;			/* DICT_ERR_* of the last call */
    const char *(*get) (DICT *, const char *);
    int     (*put) (DICT *, const char *, const char *);
    int     (*del) (DICT *, const char *);
    int     (*seq) (DICT *, int, const char **, const char **);
    void    (*close) (DICT *);
    dev_t   st_dev;			/* file identity when opened */
    ino_t   st_ino;
    struct timespec st_mtim;
    char   *error_text;			/* why lookups fail, if they do */
    char   *file;			/* file watched by dict_changed() */
};

extern DICT *dict_open(const char *, int, int);
extern const char *dict_get(DICT *, const char *);
extern int dict_put(DICT *, const char *, const char *);
extern int dict_del(DICT *, const char *);
extern int dict_seq(DICT *, int, const char **, const char **);
extern void dict_close(DICT *);
extern int dict_changed(DICT *);
extern const char *dict_error_text(DICT *);
extern DICT *dict_open_mode(const char *, int, int, int);
extern int dict_type_known(const char *);
extern const char *dict_type_list(void);
extern void dict_cleanup(void);

#endif
