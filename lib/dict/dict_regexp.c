/*
 * NAME
 *	dict_regexp - regexp: tables, Postfix regexp_table(5) syntax (POSIX)
 * SYNOPSIS
 *	DICT *dict_regexp_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The table is a file (regexp:/etc/postfix/x.regexp) or inline rules
 *	(regexp:{ {rule1}, {rule2} }). The rule language (/regex/flags
 *	result, !/regex/, if ... endif, $n) is dict_regex's; this file is
 *	its engine, the C library's regcomp(3) and regexec(3).
 *
 *	Flags toggle regcomp() options: i (REG_ICASE, on by default), m
 *	(REG_NEWLINE: "^" and "$" also match at line breaks, "." and
 *	bracket expressions do not match a newline) and x (REG_EXTENDED,
 *	on by default; off gives basic regular expressions). Matching is
 *	byte by byte (the process keeps the "C" locale), as for Postfix.
 * DIAGNOSTICS
 *	See dict_regex.h. A regex that does not compile is described with
 *	regerror(3)'s text: "regexp map FILE, line N: Unmatched ( or \(".
 *	Stricter than Postfix: more than 8 repetition operators in a row
 *	("x+++++++++") is refused the same way ("more than 8 repetition
 *	operators in a row"), before regcomp() would need gigabytes for it.
 */
#include <regex.h>
#include <string.h>

#include "dict/dict_type.h"
#include "dict/dict_regex.h"
#include "util/mymalloc.h"
#include "util/vstring.h"

typedef struct REGEXP_EXPR {
    regex_t re;
    regmatch_t *pmatch;			/* re_nsub + 1 entries */
} REGEXP_EXPR;

static int regexp_flag(int ch, int *options)
{
    switch (ch) {
    case 'i':
	*options ^= REG_ICASE;
	return (DICT_REGEX_FLAG_OK);
    case 'm':
	*options ^= REG_NEWLINE;
	return (DICT_REGEX_FLAG_OK);
    case 'x':
	*options ^= REG_EXTENDED;
	return (DICT_REGEX_FLAG_OK);
    default:
	return (DICT_REGEX_FLAG_UNKNOWN);
    }
}

static void regexp_error(int err, regex_t *re, VSTRING *why)
{
    size_t  len = regerror(err, re, 0, 0);
    char   *text = mymalloc(len);

    (void) regerror(err, re, text, len);
    vstring_strcpy(why, text);
    myfree(text);
}

/*
 * regexp_stacked - the longest run of repetition operators in a row
 * ("a+++", "a*{2}?"). glibc's regcomp() copies the expression for each
 * one, so its memory grows exponentially with the run: 20 "+" in a row
 * take 700 MB, 25 take 2 GB (Postfix, with the same library, has the
 * same problem). A run means no more than its first operator.
 */
static size_t regexp_interval(const char *cp)
{
    const char *start = cp;

    /* "{m,n}" (extended) or "\{m,n\}" (basic); the length, or 0. */
    if (*cp == '\\')
	cp++;
    if (*cp++ != '{')
	return (0);
    cp += strspn(cp, "0123456789,");
    if (*cp == '\\')
	cp++;
    if (*cp != '}')
	return (0);
    return (cp + 1 - start);
}

static int regexp_stacked(const char *cp)
{
    int     run = 0;
    int     longest = 0;
    size_t  len;

    while (*cp) {
	if (*cp == '[') {
	    /* A bracket expression: its characters are literal. */
	    cp++;
	    if (*cp == '^')
		cp++;
	    if (*cp == ']')
		cp++;
	    while (*cp && *cp != ']') {
		if (cp[0] == '[' && (cp[1] == ':' || cp[1] == '.' || cp[1] == '=')) {
		    const char *end = strchr(cp + 2, cp[1]);

		    cp = (end && end[1] == ']') ? end + 2 : cp + 1;
		} else {
		    cp++;
		}
	    }
	    if (*cp)
		cp++;
	    run = 0;
	    continue;
	}
	if (*cp == '*' || *cp == '+' || *cp == '?') {
	    cp++;
	    run++;
	} else if ((len = regexp_interval(cp)) > 0) {
	    cp += len;
	    run++;
	} else {
	    cp += (cp[0] == '\\' && cp[1]) ? 2 : 1;
	    run = 0;
	}
	if (run > longest)
	    longest = run;
    }
    return (longest);
}

#define REGEXP_STACK_LIMIT	8

static void *regexp_compile(const char *pattern, int options, VSTRING *why)
{
    REGEXP_EXPR *expr;
    int     err;

    if (regexp_stacked(pattern) > REGEXP_STACK_LIMIT) {
	vstring_sprintf(why, "more than %d repetition operators in a row",
			REGEXP_STACK_LIMIT);
	return (0);
    }
    expr = mycalloc(1, sizeof(*expr));
    if ((err = regcomp(&expr->re, pattern, options)) != 0) {
	regexp_error(err, &expr->re, why);
	myfree(expr);
	return (0);
    }
    expr->pmatch = mycalloc(expr->re.re_nsub + 1, sizeof(regmatch_t));
    return (expr);
}

static size_t regexp_groups(void *ptr)
{
    return (((REGEXP_EXPR *) ptr)->re.re_nsub);
}

static int regexp_match(void *ptr, const char *key, VSTRING *why)
{
    REGEXP_EXPR *expr = ptr;
    int     err;

    err = regexec(&expr->re, key, expr->re.re_nsub + 1, expr->pmatch, 0);
    if (err == 0)
	return (1);
    if (err == REG_NOMATCH)
	return (0);
    regexp_error(err, &expr->re, why);
    return (-1);
}

static int regexp_group(void *ptr, size_t n, size_t *start, size_t *end)
{
    REGEXP_EXPR *expr = ptr;

    if (n > expr->re.re_nsub || expr->pmatch[n].rm_so < 0)
	return (0);
    *start = (size_t) expr->pmatch[n].rm_so;
    *end = (size_t) expr->pmatch[n].rm_eo;
    return (1);
}

static void regexp_free(void *ptr)
{
    REGEXP_EXPR *expr = ptr;

    regfree(&expr->re);
    myfree(expr->pmatch);
    myfree(expr);
}

static const DICT_REGEX_ENGINE regexp_engine = {
    "regexp",
    "skipping this rule",		/* Postfix's words differ from pcre: */
    "out-of-range",
    REG_EXTENDED | REG_ICASE,
    regexp_flag,
    regexp_compile,
    regexp_groups,
    regexp_match,
    regexp_group,
    regexp_free,
};

DICT   *dict_regexp_open(const char *name, int open_flags, int dict_flags)
{
    return (dict_regex_open(&regexp_engine, name, open_flags, dict_flags));
}
