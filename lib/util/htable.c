/*
 * NAME
 *	htable - hash tables with string keys
 * DESCRIPTION
 *	See htable.h. FNV-1a hashing; power-of-two sizes.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/htable.h"

unsigned long htable_hash(const char *key, size_t size)
{
    unsigned long h = 2166136261UL;

    while (*key) {
	h ^= (unsigned char) *key++;
	h *= 16777619UL;
    }
    return (h & (size - 1));
}

HTABLE *htable_create(size_t size)
{
    HTABLE *t = mymalloc(sizeof(*t));
    size_t  n = 16;

    while (n < size)
	n <<= 1;
    t->size = n;
    t->used = 0;
    t->data = mycalloc(n, sizeof(HTABLE_INFO *));
    return (t);
}

static void htable_grow(HTABLE *t)
{
    size_t  new_size = t->size * 2;
    HTABLE_INFO **new_data = mycalloc(new_size, sizeof(HTABLE_INFO *));
    HTABLE_INFO *ht, *next;

    for (size_t i = 0; i < t->size; i++) {
	for (ht = t->data[i]; ht; ht = next) {
	    unsigned long h = htable_hash(ht->key, new_size);

	    next = ht->next;
	    ht->next = new_data[h];
	    new_data[h] = ht;
	}
    }
    myfree(t->data);
    t->data = new_data;
    t->size = new_size;
}

HTABLE_INFO *htable_locate(HTABLE *t, const char *key)
{
    HTABLE_INFO *ht;

    for (ht = t->data[htable_hash(key, t->size)]; ht; ht = ht->next)
	if (strcmp(ht->key, key) == 0)
	    return (ht);
    return (0);
}

void   *htable_find(HTABLE *t, const char *key)
{
    HTABLE_INFO *ht = htable_locate(t, key);

    return (ht ? ht->value : 0);
}

HTABLE_INFO *htable_enter(HTABLE *t, const char *key, void *value)
{
    HTABLE_INFO *ht;
    unsigned long h;

    if ((ht = htable_locate(t, key)) != 0)
	return (ht);
    if (t->used >= t->size)
	htable_grow(t);
    h = htable_hash(key, t->size);
    ht = mymalloc(sizeof(*ht));
    ht->key = mystrdup(key);
    ht->value = value;
    ht->next = t->data[h];
    t->data[h] = ht;
    t->used++;
    return (ht);
}

void    htable_delete(HTABLE *t, const char *key, void (*free_fn)(void *))
{
    HTABLE_INFO **pp, *ht;

    for (pp = &t->data[htable_hash(key, t->size)]; (ht = *pp) != 0; pp = &ht->next) {
	if (strcmp(ht->key, key) == 0) {
	    *pp = ht->next;
	    if (free_fn)
		free_fn(ht->value);
	    myfree(ht->key);
	    myfree(ht);
	    t->used--;
	    return;
	}
    }
}

void    htable_free(HTABLE *t, void (*free_fn)(void *))
{
    HTABLE_INFO *ht, *next;

    if (t == 0)
	return;
    for (size_t i = 0; i < t->size; i++) {
	for (ht = t->data[i]; ht; ht = next) {
	    next = ht->next;
	    if (free_fn)
		free_fn(ht->value);
	    myfree(ht->key);
	    myfree(ht);
	}
    }
    myfree(t->data);
    myfree(t);
}

HTABLE_INFO **htable_list(HTABLE *t)
{
    HTABLE_INFO **list = mymalloc((t->used + 1) * sizeof(*list));
    size_t  n = 0;

    for (size_t i = 0; i < t->size; i++)
	for (HTABLE_INFO *ht = t->data[i]; ht; ht = ht->next)
	    list[n++] = ht;
    list[n] = 0;
    return (list);
}
