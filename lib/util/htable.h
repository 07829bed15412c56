/*
 * NAME
 *	htable - hash tables with string keys
 * SYNOPSIS
 *	HTABLE *htable_create(size_t size);
 *	HTABLE_INFO *htable_enter(HTABLE *t, const char *key, void *value);
 *	void *htable_find(HTABLE *t, const char *key);
 *	HTABLE_INFO *htable_locate(HTABLE *t, const char *key);
 *	void htable_delete(HTABLE *t, const char *key, void (*free_fn)(void *));
 *	void htable_free(HTABLE *t, void (*free_fn)(void *));
 *	HTABLE_INFO **htable_list(HTABLE *t);	(NULL-terminated, myfree it)
 *	unsigned long htable_hash(const char *key, size_t size);
 * DESCRIPTION
 *	Chained hash table; keys are copied; values are the caller's.
 *	htable_enter() does not replace an existing key: it returns the
 *	existing entry unchanged (check with htable_locate first when that
 *	matters). The table grows when it gets full.
 *
 *	htable_hash() is the table's hash function: the bucket of key
 *	among size buckets (size is a power of two, as the table keeps it).
 */
#ifndef HTABLE_H
#define HTABLE_H
#include <stddef.h>

typedef struct HTABLE_INFO {
    char   *key;
    void   *value;
    struct HTABLE_INFO *next;
} HTABLE_INFO;

typedef struct HTABLE {
    size_t  size;
    size_t  used;
    HTABLE_INFO **data;
} HTABLE;

extern HTABLE *htable_create(size_t);
extern HTABLE_INFO *htable_enter(HTABLE *, const char *, void *);
extern HTABLE_INFO *htable_locate(HTABLE *, const char *);
extern void *htable_find(HTABLE *, const char *);
extern void htable_delete(HTABLE *, const char *, void (*)(void *));
extern void htable_free(HTABLE *, void (*)(void *));
extern HTABLE_INFO **htable_list(HTABLE *);
extern unsigned long htable_hash(const char *, size_t);

#endif
