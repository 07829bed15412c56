/*
 * NAME
 *	dict_pcre - pcre: tables, Postfix pcre_table(5) syntax (PCRE2)
 * SYNOPSIS
 *	DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The table is a file (pcre:/etc/postfix/x.pcre) or, as in Postfix
 *	3.7, inline rules (pcre:{ {rule1}, {rule2} }). The rule language
 *	(/regex/flags result, !/regex/, if ... endif, $n) is dict_regex's;
 *	this file is its PCRE2 engine.
 *
 *	Flags toggle PCRE2 options: i (caseless, on by default), m
 *	(multiline), s (dotall, on by default), x (extended), A (anchored),
 *	E (dollar end only), U (ungreedy); X is obsolete and ignored.
 * DIAGNOSTICS
 *	See dict_regex.h. A regex that does not compile is described as
 *	"pcre map FILE, line N: error in regex at offset N: text". A match
 *	that PCRE2 cannot finish (match limits) fails that lookup with
 *	DICT_ERR_RETRY.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdint.h>
#include <string.h>
#include <pcre2.h>

#include "dict/dict_type.h"
#include "dict/dict_regex.h"
#include "util/mymalloc.h"
#include "util/vstring.h"

typedef struct PCRE_EXPR {
    pcre2_code *re;
    pcre2_match_data *md;
    size_t  count;			/* ovector pairs set by the last match */
} PCRE_EXPR;

static int pcre_flag(int ch, int *options)
{
    switch (ch) {
    case 'i':
	*options ^= PCRE2_CASELESS;
	return (DICT_REGEX_FLAG_OK);
    case 'm':
	*options ^= PCRE2_MULTILINE;
	return (DICT_REGEX_FLAG_OK);
    case 's':
	*options ^= PCRE2_DOTALL;
	return (DICT_REGEX_FLAG_OK);
    case 'x':
	*options ^= PCRE2_EXTENDED;
	return (DICT_REGEX_FLAG_OK);
    case 'A':
	*options ^= PCRE2_ANCHORED;
	return (DICT_REGEX_FLAG_OK);
    case 'E':
	*options ^= PCRE2_DOLLAR_ENDONLY;
	return (DICT_REGEX_FLAG_OK);
    case 'U':
	*options ^= PCRE2_UNGREEDY;
	return (DICT_REGEX_FLAG_OK);
    case 'X':
	return (DICT_REGEX_FLAG_OBSOLETE);
    default:
	return (DICT_REGEX_FLAG_UNKNOWN);
    }
}

static void *pcre_compile(const char *pattern, int options, VSTRING *why)
{
    PCRE_EXPR *expr;
    pcre2_code *re;
    int     errcode;
    PCRE2_SIZE erroffset;
    PCRE2_UCHAR errbuf[256];

    re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
		       (uint32_t) options, &errcode, &erroffset, 0);
    if (re == 0) {
	pcre2_get_error_message(errcode, errbuf, sizeof(errbuf));
	vstring_sprintf(why, "error in regex at offset %lu: %s",
			(unsigned long) erroffset, (char *) errbuf);
	return (0);
    }
    expr = mycalloc(1, sizeof(*expr));
    expr->re = re;
    expr->md = pcre2_match_data_create_from_pattern(re, 0);
    return (expr);
}

static size_t pcre_groups(void *ptr)
{
    PCRE_EXPR *expr = ptr;
    uint32_t groups;

    if (pcre2_pattern_info(expr->re, PCRE2_INFO_CAPTURECOUNT, &groups) != 0)
	return (0);
    return (groups);
}

static int pcre_match(void *ptr, const char *key, VSTRING *why)
{
    PCRE_EXPR *expr = ptr;
    int     rc = pcre2_match(expr->re, (PCRE2_SPTR) key, strlen(key), 0, 0,
			     expr->md, 0);
    PCRE2_UCHAR errbuf[256];

    if (rc >= 0) {
	expr->count = rc ? (size_t) rc : pcre2_get_ovector_count(expr->md);
	return (1);
    }
    if (rc == PCRE2_ERROR_NOMATCH)
	return (0);
    pcre2_get_error_message(rc, errbuf, sizeof(errbuf));
    vstring_strcpy(why, (char *) errbuf);
    return (-1);
}

static int pcre_group(void *ptr, size_t n, size_t *start, size_t *end)
{
    PCRE_EXPR *expr = ptr;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(expr->md);

    if (n >= expr->count || ov[2 * n] == PCRE2_UNSET)
	return (0);
    *start = ov[2 * n];
    *end = ov[2 * n + 1];
    return (1);
}

static void pcre_free(void *ptr)
{
    PCRE_EXPR *expr = ptr;

    pcre2_code_free(expr->re);
    pcre2_match_data_free(expr->md);
    myfree(expr);
}

static const DICT_REGEX_ENGINE pcre_engine = {
    "pcre",
    "ignoring this rule",		/* Postfix's words differ from regexp: */
    "out of range",
    PCRE2_CASELESS | PCRE2_DOTALL,
    pcre_flag,
    pcre_compile,
    pcre_groups,
    pcre_match,
    pcre_group,
    pcre_free,
};

DICT   *dict_pcre_open(const char *name, int open_flags, int dict_flags)
{
    return (dict_regex_open(&pcre_engine, name, open_flags, dict_flags));
}
