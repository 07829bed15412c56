/*
 * NAME
 *	rfc822_list - RFC 822 address lists as aliases(5) values hold them
 * SYNOPSIS
 *	#include "global/rfc822_list.h"
 *
 *	void rfc822_list_normalize(VSTRING *out, const char *text);
 *	ARGV *rfc822_list_split(const char *text);
 *	void rfc822_list_internalize(VSTRING *out, const char *text);
 * DESCRIPTION
 *	The right-hand side of an alias, a line of a .forward or
 *	:include: file, is a list of destinations written with RFC 822's
 *	lexical rules: white space separates words and is otherwise
 *	dropped; "(...)" is a comment (comments nest; a comment that is
 *	not closed runs to the end); "..." is a quoted string (one that is
 *	not closed is closed at the end); "[...]" is a domain literal; a
 *	backslash takes the next character literally; the characters
 *	()<>@,;:.[] stand for themselves. Everything else (including
 *	"|", "/" and 8-bit bytes) makes up words.
 *
 *	rfc822_list_normalize() rewrites such a list the way Postfix's
 *	postalias stores a value: one space between two words (a word
 *	being a plain word, a quoted string, a comment or a domain
 *	literal) and before a "<" that follows a word, a space after each
 *	",", no other white space; a plain word that holds a character
 *	that would need quoting ("a\,b") is written as a quoted string.
 *	"a,b" becomes "a, b"; "Foo Bar<foo@bar>" becomes
 *	"Foo Bar <foo@bar>".
 *
 *	rfc822_list_split() returns the destinations of the list, each in
 *	internal form (quotes and backslashes removed, comments dropped),
 *	the way Postfix's local delivery agent reads them: the list is
 *	split at "," (and ";"); an element with "<...>" stands for what
 *	is inside the angle brackets (a source route "@a,@b:" dropped);
 *	otherwise two words in a row start a new destination, so
 *	"user1 user2" is two destinations while "|/bin/prog arg" is the
 *	command "|/bin/prog" and the address "arg" (a command with
 *	arguments must be quoted: "\"|/bin/prog arg\""). Empty elements
 *	are skipped.
 *
 *	rfc822_list_internalize() writes the whole text as one destination
 *	in internal form (an alias name: "\"a b\"" is "a b").
 * DIAGNOSTICS
 *	None: any input gives some result, never reading outside it.
 * SEE ALSO
 *	aliases(5), RFC 822 section 3
 */
#ifndef RFC822_LIST_H
#define RFC822_LIST_H
#include "util/vstring.h"
#include "util/argv.h"

extern void rfc822_list_normalize(VSTRING *, const char *);
extern ARGV *rfc822_list_split(const char *);
extern void rfc822_list_internalize(VSTRING *, const char *);

#endif
