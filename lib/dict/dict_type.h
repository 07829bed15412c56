/*
 * NAME
 *	dict_type - what a table type provides to dict.c (internal)
 * SYNOPSIS
 *	#include "dict/dict_type.h"
 *
 *	DICT *dict_alloc(const char *type, const char *name, size_t size);
 *	void dict_free(DICT *d);
 *	DICT *dict_surrogate(const char *type, const char *name, int dict_flags,
 *			     const char *fmt, ...);
 *	void dict_watch_file(DICT *d, const char *path);
 *	const char *dict_printable(const char *text);
 *
 *	DICT *dict_db_open(const char *type, const char *name, int open_flags,
 *			   int dict_flags, int mode);
 *	DICT *dict_static_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_inline_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_texthash_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_lmdb_open(const char *type, const char *name, int open_flags,
 *			     int dict_flags, int mode);
 *	DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_regexp_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_cidr_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_unix_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_nis_open(const char *name, int open_flags, int dict_flags);
 *	DICT *dict_proxy_open(const char *name, int open_flags, int dict_flags,
 *			      int mode);
 *	void dict_db_cleanup(void);
 *	void dict_lmdb_cleanup(void);
 *
 *	DICT *dict_mem_create(const char *type, const char *name, int dict_flags);
 * DESCRIPTION
 *	Each table type lives in its own lib/dict_TYPE.c and returns a
 *	DICT (or a larger structure that starts with one) from its open
 *	function. dict.c folds keys and dispatches; the types see keys
 *	already folded when the table is a fixed-key table.
 *
 *	dict_alloc() makes a DICT of "size" bytes with methods that fail.
 *	dict_surrogate() makes a table whose every lookup fails with
 *	DICT_ERR_CONFIG and error_text set from fmt (a table that could not
 *	be opened: Postfix's "unavailable" table); it still watches its
 *	file so that a long-running process notices when the file appears
 *	or changes. dict_surrogate_temporary() makes its lookups fail with
 *	DICT_ERR_RETRY instead (a table with a rule that does not compile,
 *	which Postfix would skip: we refuse for now, DESIGN).
 *	dict_watch_file() records a file's identity for dict_changed().
 *
 *	dict_printable() returns text with every byte outside printable
 *	ASCII replaced by "?", as Postfix logs file content; the result
 *	stays valid for the next three calls.
 *
 *	dict_mem_create() is an in-memory fixed-key table (inline:,
 *	texthash:) filled with dict_put().
 */
#ifndef DICT_TYPE_H
#define DICT_TYPE_H
#include <stddef.h>
#include "dict/dict.h"

extern DICT *dict_alloc(const char *, const char *, size_t);
extern void dict_free(DICT *);
extern DICT *dict_surrogate(const char *, const char *, int, const char *, ...)
	__attribute__((format(printf, 4, 5)));
extern void dict_surrogate_temporary(DICT *);
extern void dict_watch_file(DICT *, const char *);
extern const char *dict_printable(const char *);

extern DICT *dict_db_open(const char *, const char *, int, int, int);
extern DICT *dict_static_open(const char *, int, int);
extern DICT *dict_inline_open(const char *, int, int);
extern DICT *dict_texthash_open(const char *, int, int);
extern DICT *dict_lmdb_open(const char *, const char *, int, int, int);
extern DICT *dict_pcre_open(const char *, int, int);
extern DICT *dict_regexp_open(const char *, int, int);
extern DICT *dict_cidr_open(const char *, int, int);
extern DICT *dict_unix_open(const char *, int, int);
extern DICT *dict_nis_open(const char *, int, int);
extern DICT *dict_proxy_open(const char *, int, int, int);
extern void dict_db_cleanup(void);
extern void dict_lmdb_cleanup(void);
extern DICT *dict_mem_create(const char *, const char *, int);

#endif
