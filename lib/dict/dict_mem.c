/*
 * NAME
 *	dict_mem - in-memory fixed-key table (inline:, texthash:)
 * SYNOPSIS
 *	DICT *dict_mem_create(const char *type, const char *name, int dict_flags);
 * DESCRIPTION
 *	A hash table of copied keys and values, filled with dict_put() and
 *	walked by dict_seq() in insertion order. Duplicate keys follow the
 *	DICT_FLAG_DUP_* flags as the Berkeley DB tables do.
 * DIAGNOSTICS
 *	"name: duplicate entry: \"key\"" with DICT_FLAG_DUP_WARN.
 */
#include <string.h>

#include "dict/dict_type.h"
#include "util/htable.h"
#include "util/mymalloc.h"
#include "util/msg.h"

typedef struct DICT_MEM {
    DICT    dict;
    HTABLE *table;
    char  **order;			/* keys in insertion order */
    size_t  count;
    size_t  cap;
    size_t  cursor;
} DICT_MEM;

static const char *dict_mem_get(DICT *d, const char *key)
{
    DICT_MEM *dm = (DICT_MEM *) d;

    return (htable_find(dm->table, key));
}

static int dict_mem_put(DICT *d, const char *key, const char *value)
{
    DICT_MEM *dm = (DICT_MEM *) d;
    HTABLE_INFO *ht;

    if ((ht = htable_locate(dm->table, key)) != 0) {
	if (d->flags & DICT_FLAG_DUP_IGNORE)
	    return (1);
	if (d->flags & DICT_FLAG_DUP_WARN) {
	    msg_warn("%s: duplicate entry: \"%s\"", d->name, dict_printable(key));
	    return (1);
	}
	myfree(ht->value);
	ht->value = mystrdup(value);
	return (0);
    }
    ht = htable_enter(dm->table, key, mystrdup(value));
    if (dm->count >= dm->cap) {
	dm->cap = dm->cap ? 2 * dm->cap : 16;
	dm->order = myrealloc(dm->order, dm->cap * sizeof(char *));
    }
    dm->order[dm->count++] = ht->key;
    return (0);
}

static int dict_mem_del(DICT *d, const char *key)
{
    DICT_MEM *dm = (DICT_MEM *) d;
    HTABLE_INFO *ht = htable_locate(dm->table, key);
    size_t  i;

    if (ht == 0)
	return (1);
    for (i = 0; i < dm->count; i++)
	if (dm->order[i] == ht->key)
	    break;
    if (i < dm->count) {
	memmove(dm->order + i, dm->order + i + 1,
		(dm->count - i - 1) * sizeof(char *));
	dm->count--;
    }
    htable_delete(dm->table, key, myfree);
    return (0);
}

static int dict_mem_seq(DICT *d, int how, const char **key, const char **value)
{
    DICT_MEM *dm = (DICT_MEM *) d;

    if (how == DICT_SEQ_FIRST)
	dm->cursor = 0;
    if (dm->cursor >= dm->count)
	return (1);
    *key = dm->order[dm->cursor++];
    *value = htable_find(dm->table, *key);
    return (0);
}

static void dict_mem_close(DICT *d)
{
    DICT_MEM *dm = (DICT_MEM *) d;

    htable_free(dm->table, myfree);
    if (dm->order)
	myfree(dm->order);
    dict_free(d);
}

DICT   *dict_mem_create(const char *type, const char *name, int dict_flags)
{
    DICT_MEM *dm = (DICT_MEM *) dict_alloc(type, name, sizeof(DICT_MEM));

    dm->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dm->dict.get = dict_mem_get;
    dm->dict.put = dict_mem_put;
    dm->dict.del = dict_mem_del;
    dm->dict.seq = dict_mem_seq;
    dm->dict.close = dict_mem_close;
    dm->table = htable_create(64);
    return (&dm->dict);
}
