/*
 * NAME
 *	vstring - growable strings that may hold any bytes
 * SYNOPSIS
 *	VSTRING *vstring_alloc(size_t initial);
 *	void vstring_free(VSTRING *vp);
 *	char *vstring_str(VSTRING *vp);		(always NUL-terminated)
 *	size_t vstring_len(VSTRING *vp);
 *	char *vstring_end(VSTRING *vp);		(vstring_str() + vstring_len())
 *	void vstring_space(VSTRING *vp, size_t len);
 *	VSTRING *vstring_strcpy(VSTRING *vp, const char *src);
 *	VSTRING *vstring_strncpy(VSTRING *vp, const char *src, size_t len);
 *	VSTRING *vstring_strcat(VSTRING *vp, const char *src);
 *	VSTRING *vstring_strncat(VSTRING *vp, const char *src, size_t len);
 *	VSTRING *vstring_memcpy(VSTRING *vp, const void *src, size_t len);
 *	VSTRING *vstring_memcat(VSTRING *vp, const void *src, size_t len);
 *	VSTRING *vstring_addch(VSTRING *vp, int ch);
 *	VSTRING *vstring_sprintf(VSTRING *vp, const char *fmt, ...);
 *	VSTRING *vstring_sprintf_append(VSTRING *vp, const char *fmt, ...);
 *	VSTRING *vstring_vsprintf_append(VSTRING *vp, const char *fmt, va_list ap);
 *	VSTRING *vstring_truncate(VSTRING *vp, size_t len);
 *	void vstring_reset(VSTRING *vp);
 *	char *vstring_export(VSTRING *vp);	(frees the VSTRING, keeps data)
 * DESCRIPTION
 *	The contents are kept NUL-terminated at data[len] so they can be
 *	passed to string functions; embedded NULs are allowed for binary
 *	data. Growth is geometric; allocation failure panics.
 *
 *	vstring_space() makes room for len more bytes (and the NUL) after
 *	the current contents without changing them. vstring_strncpy() and
 *	vstring_strncat() copy at most len bytes, stopping at a NUL.
 */
#ifndef VSTRING_H
#define VSTRING_H
#include <stddef.h>
#include <stdarg.h>

typedef struct VSTRING {
    char   *data;
    size_t  len;
    size_t  cap;			/* allocated, excluding the NUL */
} VSTRING;

#define vstring_str(vp)	((vp)->data)
#define vstring_len(vp)	((vp)->len)
#define vstring_end(vp)	((vp)->data + (vp)->len)

extern VSTRING *vstring_alloc(size_t);
extern void vstring_free(VSTRING *);
extern void vstring_space(VSTRING *, size_t);
extern VSTRING *vstring_strcpy(VSTRING *, const char *);
extern VSTRING *vstring_strncpy(VSTRING *, const char *, size_t);
extern VSTRING *vstring_strcat(VSTRING *, const char *);
extern VSTRING *vstring_strncat(VSTRING *, const char *, size_t);
extern VSTRING *vstring_memcpy(VSTRING *, const void *, size_t);
extern VSTRING *vstring_memcat(VSTRING *, const void *, size_t);
extern VSTRING *vstring_addch(VSTRING *, int);
extern VSTRING *vstring_sprintf(VSTRING *, const char *, ...) __attribute__((format(printf, 2, 3)));
extern VSTRING *vstring_sprintf_append(VSTRING *, const char *, ...) __attribute__((format(printf, 2, 3)));
extern VSTRING *vstring_vsprintf_append(VSTRING *, const char *, va_list);
extern VSTRING *vstring_truncate(VSTRING *, size_t);
extern void vstring_reset(VSTRING *);
extern char *vstring_export(VSTRING *);

#endif
