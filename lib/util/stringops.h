/*
 * NAME
 *	stringops - small string helpers
 * SYNOPSIS
 *	char *lowercase(char *str);		(in place, ASCII only)
 *	char *trimblanks(char *str);		(in place, returns str)
 *	char *mystrtok(char **bufp, const char *delim);
 *	char *mystrtokq(char **bufp, const char *delim);
 *	char *mystrtok_list(char **bufp);	(list items: ", \t\r\n")
 *	ARGV *argv_split_list(const char *text);
 *	int string_list_has(const char *text, const char *word);
 *	int alldig(const char *str);
 *	int allprint(const char *str);
 *	char *split_at(char *str, int ch);	(NUL at ch; returns rest)
 *	char *split_at_right(char *str, int ch);
 * DESCRIPTION
 *	mystrtok() returns the next token from *bufp separated by any of
 *	delim, or NULL at the end, and advances *bufp.
 *	mystrtokq() is mystrtok() where a delimiter inside a "{ ... }"
 *	group (groups nest) does not end the token, and the braces stay:
 *	"inline:{ a=b, c=d }" is one token.
 *
 *	mystrtok_list() is mystrtokq() for Postfix lists (commas and white
 *	space, LIST_DELIMS); an item that is a whole "{ ... }" group (3.0+
 *	list syntax) comes back without its braces and trimmed.
 *	argv_split_list() returns all items of a list (myfree with
 *	argv_free()). string_list_has() tells whether a list has word as
 *	an item (ASCII case-insensitive).
 *
 *	split_at() ends str at the first ch and returns the text after
 *	it; split_at_right() does the same at the last ch; both return
 *	NULL, leaving str alone, when there is no ch.
 *
 *	All of these modify only the string they are given (or *bufp's
 *	buffer); argv_split_list() works on its own copy.
 */
#ifndef STRINGOPS_H
#define STRINGOPS_H

#include "util/argv.h"

#define LIST_DELIMS	", \t\r\n"

extern char *lowercase(char *);
extern char *trimblanks(char *);
extern char *mystrtok(char **, const char *);
extern char *mystrtokq(char **, const char *);
extern char *mystrtok_list(char **);
extern ARGV *argv_split_list(const char *);
extern int string_list_has(const char *, const char *);
extern int alldig(const char *);
extern int allprint(const char *);
extern char *split_at(char *, int);
extern char *split_at_right(char *, int);

#endif
