/*
 * NAME
 *	mymalloc - memory allocation that never returns NULL
 * SYNOPSIS
 *	void *mymalloc(size_t len);
 *	void *mycalloc(size_t count, size_t size);	(zero-filled)
 *	void *myrealloc(void *ptr, size_t len);
 *	void myfree(void *ptr);
 *	char *mystrdup(const char *str);
 *	char *mystrndup(const char *str, size_t len);
 *	void *mymemdup(const void *ptr, size_t len);
 * DESCRIPTION
 *	Thin wrappers around malloc(3) and friends. Running out of memory
 *	is a panic in the allocator, so callers never check for NULL.
 *	mystrndup() copies at most len bytes and always terminates.
 * DIAGNOSTICS
 *	Panic: out of memory, or a request larger than SSIZE_MAX.
 */
#ifndef MYMALLOC_H
#define MYMALLOC_H
#include <stddef.h>

extern void *mymalloc(size_t);
extern void *mycalloc(size_t, size_t);
extern void *myrealloc(void *, size_t);
extern void myfree(void *);
extern char *mystrdup(const char *);
extern char *mystrndup(const char *, size_t);
extern void *mymemdup(const void *, size_t);

#endif
