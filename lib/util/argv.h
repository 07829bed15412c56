/*
 * NAME
 *	argv - string vectors
 * SYNOPSIS
 *	ARGV *argv_alloc(size_t initial);
 *	void argv_add(ARGV *av, const char *str);	(copies str)
 *	void argv_addn(ARGV *av, const char *str, size_t len);
 *	void argv_truncate(ARGV *av, size_t len);
 *	ARGV *argv_split(const char *str, const char *delim);
 *	void argv_free(ARGV *av);
 * DESCRIPTION
 *	A NULL-terminated array of owned strings with a count.
 *	argv_split() splits at any of the delimiter characters and skips
 *	empty fields, the way Postfix splits lists ("a, b  c").
 */
#ifndef ARGV_H
#define ARGV_H
#include <stddef.h>

typedef struct ARGV {
    char  **argv;
    size_t  argc;
    size_t  cap;
} ARGV;

extern ARGV *argv_alloc(size_t);
extern void argv_add(ARGV *, const char *);
extern void argv_addn(ARGV *, const char *, size_t);
extern void argv_truncate(ARGV *, size_t);
extern ARGV *argv_split(const char *, const char *);
extern void argv_free(ARGV *);

#endif
