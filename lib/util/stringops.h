/*
 * NAME
 *	stringops - small string helpers
 * SYNOPSIS
 *	char *lowercase(char *str);		(in place, ASCII only)
 *	char *trimblanks(char *str);		(in place, returns str)
 *	char *mystrtok(char **bufp, const char *delim);
 *	char *mystrtok_list(char **bufp);	(list items: ", \t\r\n")
 *	int alldig(const char *str);
 *	int allprint(const char *str);
 *	const char *split_at(char *str, int ch);	(NUL at ch; returns rest)
 *	const char *split_at_right(char *str, int ch);
 *	int strcasecmp_utf8(const char *a, const char *b);
 * DESCRIPTION
 *	mystrtok() returns the next token from *bufp separated by any of
 *	delim, or NULL at the end, and advances *bufp.
 *	mystrtok_list() is the same for Postfix lists, and it keeps
 *	"{ ... }" groups together as one token (3.0+ list syntax), without
 *	the braces.
 */
#ifndef STRINGOPS_H
#define STRINGOPS_H

#define LIST_DELIMS	", \t\r\n"

extern char *lowercase(char *);
extern char *trimblanks(char *);
extern char *mystrtok(char **, const char *);
extern char *mystrtok_list(char **);
extern int alldig(const char *);
extern int allprint(const char *);
extern char *split_at(char *, int);
extern char *split_at_right(char *, int);

#endif
