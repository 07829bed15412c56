/*
 * NAME
 *	mac_expand - fill in $name templates from a caller's table
 * SYNOPSIS
 *	#include "util/mac_expand.h"
 *
 *	typedef const char *(*MAC_EXPAND_LOOKUP) (const char *name, void *ctx);
 *
 *	int mac_expand(VSTRING *out, const char *template, const char *filter,
 *		       MAC_EXPAND_LOOKUP lookup, void *ctx);
 * DESCRIPTION
 *	mac_expand() writes template to out (replacing its contents) with
 *	the forms that Postfix's delivery agents accept in templates such
 *	as forward_path, luser_relay and command_execution_directory:
 *
 *	$name, ${name}, $(name)	the value of name
 *	${name?text}, ${name?{text}}	text when name is defined
 *	${name:text}, ${name:{text}}	text when name is not defined
 *	${name?{text1}:{text2}}		text1 when defined, else text2
 *	$$				a single "$"
 *
 *	A name is letters, digits and "_". It is defined when lookup()
 *	returns a non-empty string; lookup() may return NULL. The text of a
 *	conditional is itself expanded (up to a fixed nesting depth).
 *
 *	When filter is not NULL, every byte of a looked-up value that is
 *	not in filter becomes "_" (values reach a shell or a file name;
 *	the template's own text is not filtered).
 * DIAGNOSTICS
 *	The result is a bit mask: MAC_EXPAND_UNDEF when a plain $name was
 *	not defined (it expands to nothing), MAC_EXPAND_ERROR for a
 *	malformed template (an unclosed "{" or "(", a "$" followed by
 *	nothing usable, nesting too deep); 0 when all is well. Nothing
 *	here logs.
 */
#ifndef MAC_EXPAND_H
#define MAC_EXPAND_H
#include "util/vstring.h"

#define MAC_EXPAND_UNDEF	(1<<0)
#define MAC_EXPAND_ERROR	(1<<1)

typedef const char *(*MAC_EXPAND_LOOKUP) (const char *, void *);

extern int mac_expand(VSTRING *, const char *, const char *, MAC_EXPAND_LOOKUP, void *);

#endif
