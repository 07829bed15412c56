/*
 * NAME
 *	dict_regex - the rule language of pcre: and regexp: tables (internal)
 * SYNOPSIS
 *	#include "dict/dict_regex.h"
 *
 *	DICT *dict_regex_open(const DICT_REGEX_ENGINE *engine, const char *name,
 *			      int open_flags, int dict_flags);
 * DESCRIPTION
 *	pcre_table(5) and regexp_table(5) share one rule language and
 *	differ only in the regular expressions behind it. This module reads
 *	the rules (through dict_rules_*, file or "{ {rule}, ... }" form),
 *	keeps the if/endif structure, checks and expands $n in results, and
 *	answers lookups; the engine compiles and matches:
 *
 *	/regex/flags result, !/regex/flags result,
 *	if [!]/regex/flags ... endif (nesting), $n ${n} $(n) $$ in results.
 *
 *	An engine gives the table type ("pcre", "regexp"; messages say
 *	"TYPE map FILE, line N: ..."), the few words in which Postfix's two
 *	table types differ, the options before any flag, and:
 *
 *	flag(ch, &options) toggles the option of flag character ch and
 *	returns DICT_REGEX_FLAG_OK, _OBSOLETE (warned about, ignored) or
 *	_UNKNOWN (the rule is skipped).
 *
 *	compile(pattern, options, why) returns the compiled expression, or
 *	NULL with Postfix's description of the problem in why.
 *
 *	groups(re) is the number of capturing groups.
 *
 *	match(re, key, why) returns 1 (match), 0 (no match) or -1 (the
 *	engine could not finish: why says why). After a match,
 *	group(re, n, &start, &end) gives the offsets of group n in key, or
 *	returns 0 when group n did not take part.
 *
 *	free(re) releases a compiled expression.
 * DIAGNOSTICS
 *	Rules that Postfix skips are warned about and skipped, in Postfix's
 *	words. Stricter than Postfix (DESIGN.md section 8): a regular
 *	expression that does not compile, an "if" without "endif", or an
 *	unreadable file make the whole table unusable; every lookup then
 *	fails with DICT_ERR_RETRY and dict_error_text() names the file and
 *	line. A match that the engine cannot finish fails that lookup with
 *	DICT_ERR_RETRY.
 */
#ifndef DICT_REGEX_H
#define DICT_REGEX_H
#include <stddef.h>
#include "dict/dict.h"
#include "util/vstring.h"

#define DICT_REGEX_FLAG_UNKNOWN		0
#define DICT_REGEX_FLAG_OK		1
#define DICT_REGEX_FLAG_OBSOLETE	2

typedef struct DICT_REGEX_ENGINE {
    const char *type;			/* "pcre", "regexp" */
    const char *no_delim_action;	/* after "no closing regexp delimiter" */
    const char *zero_index_words;	/* "out of range" or "out-of-range" */
    int     options;			/* before any flag */
    int     (*flag) (int, int *);
    void   *(*compile) (const char *, int, VSTRING *);
    size_t  (*groups) (void *);
    int     (*match) (void *, const char *, VSTRING *);
    int     (*group) (void *, size_t, size_t *, size_t *);
    void    (*free) (void *);
} DICT_REGEX_ENGINE;

extern DICT *dict_regex_open(const DICT_REGEX_ENGINE *, const char *, int, int);

#endif
