/*
 * NAME
 *	mymalloc - memory allocation that never returns NULL
 * DESCRIPTION
 *	See mymalloc.h.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "util/mymalloc.h"
#include "util/msg.h"

static void *check(void *ptr, size_t len)
{
    if (ptr == 0 && len != 0)
	msg_panic("out of memory allocating %zu bytes", len);
    return (ptr);
}

void   *mymalloc(size_t len)
{
    if (len > SIZE_MAX / 2)
	msg_panic("mymalloc: bad length %zu", len);
    return (check(malloc(len ? len : 1), len));
}

void   *mycalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / 2 / size)
	msg_panic("mycalloc: bad length %zu*%zu", n, size);
    return (check(calloc(n ? n : 1, size ? size : 1), n * size));
}

void   *myrealloc(void *ptr, size_t len)
{
    if (len > SIZE_MAX / 2)
	msg_panic("myrealloc: bad length %zu", len);
    return (check(realloc(ptr, len ? len : 1), len));
}

void    myfree(void *ptr)
{
    free(ptr);
}

char   *mystrdup(const char *str)
{
    return (mymemdup(str, strlen(str) + 1));
}

char   *mystrndup(const char *str, size_t len)
{
    const char *end = memchr(str, 0, len);
    char   *copy;

    if (end)
	len = end - str;
    copy = mymalloc(len + 1);
    memcpy(copy, str, len);
    copy[len] = 0;
    return (copy);
}

void   *mymemdup(const void *ptr, size_t len)
{
    return (memcpy(mymalloc(len), ptr, len));
}
