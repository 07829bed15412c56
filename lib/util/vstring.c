/*
 * NAME
 *	vstring - growable strings that may hold any bytes
 * DESCRIPTION
 *	See vstring.h.
 */
#include <stdio.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"

VSTRING *vstring_alloc(size_t initial)
{
    VSTRING *vp = mymalloc(sizeof(*vp));

    if (initial < 16)
	initial = 16;
    vp->data = mymalloc(initial + 1);
    vp->data[0] = 0;
    vp->len = 0;
    vp->cap = initial;
    return (vp);
}

void    vstring_free(VSTRING *vp)
{
    if (vp) {
	myfree(vp->data);
	myfree(vp);
    }
}

/* vstring_space - make room for len more bytes plus the NUL */
void    vstring_space(VSTRING *vp, size_t len)
{
    size_t  need = vp->len + len;

    if (need > vp->cap) {
	size_t  cap = vp->cap * 2;

	if (cap < need)
	    cap = need;
	vp->data = myrealloc(vp->data, cap + 1);
	vp->cap = cap;
    }
}

VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len)
{
    vstring_space(vp, len);
    memmove(vp->data + vp->len, src, len);
    vp->len += len;
    vp->data[vp->len] = 0;
    return (vp);
}

VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len)
{
    vp->len = 0;
    return (vstring_memcat(vp, src, len));
}

VSTRING *vstring_strcpy(VSTRING *vp, const char *src)
{
    return (vstring_memcpy(vp, src, strlen(src)));
}

VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len)
{
    const char *end = memchr(src, 0, len);

    return (vstring_memcpy(vp, src, end ? (size_t) (end - src) : len));
}

VSTRING *vstring_strcat(VSTRING *vp, const char *src)
{
    return (vstring_memcat(vp, src, strlen(src)));
}

VSTRING *vstring_strncat(VSTRING *vp, const char *src, size_t len)
{
    const char *end = memchr(src, 0, len);

    return (vstring_memcat(vp, src, end ? (size_t) (end - src) : len));
}

VSTRING *vstring_addch(VSTRING *vp, int ch)
{
    char    c = ch;

    return (vstring_memcat(vp, &c, 1));
}

VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap)
{
    va_list ap2;
    int     n;

    va_copy(ap2, ap);
    n = vsnprintf(vp->data + vp->len, vp->cap - vp->len + 1, fmt, ap2);
    va_end(ap2);
    if (n < 0)
	return (vp);
    if ((size_t) n > vp->cap - vp->len) {
	vstring_space(vp, n);
	vsnprintf(vp->data + vp->len, vp->cap - vp->len + 1, fmt, ap);
    }
    vp->len += n;
    return (vp);
}

VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    vp->len = 0;
    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return (vp);
}

VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(vp, fmt, ap);
    va_end(ap);
    return (vp);
}

VSTRING *vstring_truncate(VSTRING *vp, size_t len)
{
    if (len < vp->len) {
	vp->len = len;
	vp->data[len] = 0;
    }
    return (vp);
}

void    vstring_reset(VSTRING *vp)
{
    vp->len = 0;
    vp->data[0] = 0;
}

char   *vstring_export(VSTRING *vp)
{
    char   *data = vp->data;

    myfree(vp);
    return (data);
}
