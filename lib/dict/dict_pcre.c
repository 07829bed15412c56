/*
 * NAME
 *	dict_pcre - pcre: tables, Postfix pcre_table(5) syntax (PCRE2)
 * SYNOPSIS
 *	DICT *dict_pcre_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The table is a file (pcre:/etc/postfix/x.pcre) or, as in Postfix
 *	3.7, inline rules (pcre:{ {rule1}, {rule2} }). Rules:
 *
 *	/regex/flags result	answer result when regex matches
 *	!/regex/flags result	answer result when regex does not match
 *	if /regex/flags ... endif, if !/regex/flags ... endif (nesting)
 *
 *	Any non-alphanumeric character other than white space delimits
 *	the regex; a backslash escapes the delimiter. Flags toggle PCRE2
 *	options: i (caseless, on by default), m (multiline), s (dotall, on
 *	by default), x (extended), A (anchored), E (dollar end only),
 *	U (ungreedy); X is obsolete and ignored. The result may use $1,
 *	${1} and $(1) for captured text (empty when the group did not
 *	take part) and $$ for a dollar. Rules are tried in order on the
 *	whole key; the first match wins.
 * DIAGNOSTICS
 *	Problems that Postfix reports and skips are reported and skipped
 *	the same way, in Postfix's words ("pcre map FILE, line N: ...").
 *	Stricter than Postfix: a regex that does not compile, an "if"
 *	without "endif", or an unreadable file make the table unusable;
 *	every lookup then fails with DICT_ERR_RETRY, and dict_error_text()
 *	names the file and line. A match that PCRE2 cannot finish (match
 *	limits) fails that lookup with DICT_ERR_RETRY.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <pcre2.h>

#include "dict/dict_type.h"
#include "dict/dict_source.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstream.h"
#include "util/vstring.h"

#define PCRE_PRINTABLE(c) \
	(((unsigned char) (c) >= 0x20 && (unsigned char) (c) < 0x7f) ? (c) : '?')

#define PCRE_OP_MATCH	1
#define PCRE_OP_IF	2
#define PCRE_OP_ENDIF	3

typedef struct PCRE_RULE {
    int     op;
    int     negate;
    int     lineno;
    pcre2_code *re;
    pcre2_match_data *md;
    char   *result;			/* PCRE_OP_MATCH */
    size_t  skip_to;			/* PCRE_OP_IF: index after its endif */
} PCRE_RULE;

typedef struct DICT_PCRE {
    DICT    dict;
    PCRE_RULE *rules;
    size_t  count;
    size_t  cap;
    VSTRING *result;
} DICT_PCRE;

typedef struct PCRE_PARSE {
    DICT_PCRE *dp;
    const char *map;			/* name in messages */
    int     lineno;
    size_t *open_ifs;			/* stack of rule indexes */
    size_t  depth;
    size_t  depth_cap;
    VSTRING *first_error;
} PCRE_PARSE;

/* pcre_fail - a problem that makes the whole table unusable */

static void pcre_fail(PCRE_PARSE *pp, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));

static void pcre_fail(PCRE_PARSE *pp, const char *fmt,...)
{
    va_list ap;
    VSTRING *why = vstring_alloc(100);

    va_start(ap, fmt);
    vstring_vsprintf_append(why, fmt, ap);
    va_end(ap);
    /* The first problem becomes the table's error text; warn the rest. */
    if (pp->first_error == 0) {
	pp->first_error = why;
    } else {
	msg_warn("%s", vstring_str(why));
	vstring_free(why);
    }
}

static PCRE_RULE *pcre_add(PCRE_PARSE *pp, int op)
{
    DICT_PCRE *dp = pp->dp;
    PCRE_RULE *rule;

    if (dp->count >= dp->cap) {
	dp->cap = dp->cap ? 2 * dp->cap : 16;
	dp->rules = myrealloc(dp->rules, dp->cap * sizeof(PCRE_RULE));
    }
    rule = dp->rules + dp->count++;
    memset(rule, 0, sizeof(*rule));
    rule->op = op;
    rule->lineno = pp->lineno;
    return (rule);
}

/*
 * pcre_pattern - parse "[!]/regex/flags" at *pp; compile it. Returns 0
 * after a warning when the rule must be skipped, -1 when the regex does
 * not compile.
 */
static int pcre_pattern(PCRE_PARSE *pp, char **bufp, pcre2_code **re,
			        int *negate)
{
    char   *cp = *bufp;
    char   *pattern;
    int     delim;
    uint32_t options = PCRE2_CASELESS | PCRE2_DOTALL;
    int     errcode;
    PCRE2_SIZE erroffset;
    PCRE2_UCHAR errbuf[256];

    *negate = 0;
    while (*cp == '!') {
	*negate = !*negate;
	cp++;
    }
    delim = (unsigned char) *cp;
    if (delim == 0 || isalnum(delim) || isspace(delim)) {
	msg_warn("pcre map %s, line %d: ignoring unrecognized request",
		 pp->map, pp->lineno);
	return (0);
    }
    pattern = ++cp;
    for (; *cp && (unsigned char) *cp != delim; cp++)
	if (*cp == '\\' && cp[1])
	    cp++;
    if ((unsigned char) *cp != delim) {
	msg_warn("pcre map %s, line %d: no closing regexp delimiter \"%c\": "
		 "ignoring this rule", pp->map, pp->lineno, PCRE_PRINTABLE(delim));
	return (0);
    }
    *cp++ = 0;
    for (; *cp && !isspace((unsigned char) *cp); cp++) {
	switch (*cp) {
	case 'i':
	    options ^= PCRE2_CASELESS;
	    break;
	case 'm':
	    options ^= PCRE2_MULTILINE;
	    break;
	case 's':
	    options ^= PCRE2_DOTALL;
	    break;
	case 'x':
	    options ^= PCRE2_EXTENDED;
	    break;
	case 'A':
	    options ^= PCRE2_ANCHORED;
	    break;
	case 'E':
	    options ^= PCRE2_DOLLAR_ENDONLY;
	    break;
	case 'U':
	    options ^= PCRE2_UNGREEDY;
	    break;
	case 'X':
	    msg_warn("pcre map %s, line %d: ignoring obsolete regexp "
		     "option \"%c\"", pp->map, pp->lineno, PCRE_PRINTABLE(*cp));
	    break;
	default:
	    msg_warn("pcre map %s, line %d: unknown regexp option \"%c\": "
		     "skipping this rule", pp->map, pp->lineno, PCRE_PRINTABLE(*cp));
	    return (0);
	}
    }
    *bufp = cp;
    *re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, options,
			&errcode, &erroffset, 0);
    if (*re == 0) {
	pcre2_get_error_message(errcode, errbuf, sizeof(errbuf));
	pcre_fail(pp, "pcre map %s, line %d: error in regex at offset %lu: %s",
		  pp->map, pp->lineno, (unsigned long) erroffset,
		  (char *) errbuf);
	return (-1);
    }
    return (1);
}

/*
 * pcre_check_result - validate $n references. Returns 0 after warnings
 * when the rule must be skipped.
 */
static int pcre_check_result(PCRE_PARSE *pp, const char *result,
			             uint32_t groups, int negate)
{
    const char *cp;
    const char *name;
    size_t  len;
    int     bad = 0;
    int     close;
    int     numbers = 0;
    long    max_index = 0;
    char   *index;

    /* Syntax first, over the whole text; then what the numbers mean. */
    for (cp = result; *cp; cp++) {
	if (*cp != '$')
	    continue;
	if (cp[1] == '$') {
	    cp++;
	    continue;
	}
	if (cp[1] == '{' || cp[1] == '(') {
	    close = cp[1] == '{' ? '}' : ')';
	    name = cp + 2;
	    if ((len = strcspn(name, close == '}' ? "}" : ")")) == strlen(name)) {
		msg_warn("truncated macro reference: \"%s\"", dict_printable(result));
		bad = 1;
		break;
	    }
	    cp = name + len;
	} else {
	    name = cp + 1;
	    for (len = 0; isalnum((unsigned char) name[len]) || name[len] == '_'; len++)
		 /* void */ ;
	    if (len > 0)
		cp = name + len - 1;
	}
	if (len == 0) {
	    msg_warn("empty macro name: \"%s\"", dict_printable(result));
	    bad = 1;
	    continue;
	}
	index = mystrndup(name, len);
	if (!alldig(index)) {
	    msg_warn("pcre map %s, line %d: non-numeric replacement index \"%s\"",
		     pp->map, pp->lineno, dict_printable(index));
	    bad = 1;
	} else if (atol(index) == 0) {
	    /* Postfix counts $0 as a syntax error. */
	    msg_warn("pcre map %s, line %d: out of range replacement index \"%s\"",
		     pp->map, pp->lineno, index);
	    bad = 1;
	} else {
	    numbers = 1;
	    if (strlen(index) > 6)
		max_index = 1000000;
	    else if (atol(index) > max_index)
		max_index = atol(index);
	}
	myfree(index);
    }
    if (bad) {
	msg_warn("pcre map %s, line %d: bad replacement syntax: skipping this rule",
		 pp->map, pp->lineno);
	return (0);
    }
    if (negate && numbers) {
	msg_warn("pcre map %s, line %d: $number found in negative match "
		 "replacement text: skipping this rule", pp->map, pp->lineno);
	return (0);
    }
    if (max_index > (long) groups) {
	msg_warn("pcre map %s, line %d: out of range replacement index "
		 "\"%ld\": skipping this rule", pp->map, pp->lineno, max_index);
	return (0);
    }
    return (1);
}

static void pcre_parse_line(PCRE_PARSE *pp, char *line)
{
    PCRE_RULE *rule;
    pcre2_code *re = 0;
    uint32_t groups;
    int     negate;
    char   *cp;

    if (strncasecmp(line, "if", 2) == 0 && !isalnum((unsigned char) line[2])) {
	cp = line + 2;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (pcre_pattern(pp, &cp, &re, &negate) <= 0)
	    return;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (*cp) {
	    msg_warn("pcre map %s, line %d: ignoring extra text after IF "
		     "statement: \"%s\"", pp->map, pp->lineno, dict_printable(cp));
	    msg_warn("pcre map %s, line %d: do not prepend whitespace to "
		     "statements between IF and ENDIF", pp->map, pp->lineno);
	}
	rule = pcre_add(pp, PCRE_OP_IF);
	rule->re = re;
	rule->negate = negate;
	rule->md = pcre2_match_data_create_from_pattern(re, 0);
	if (pp->depth >= pp->depth_cap) {
	    pp->depth_cap = pp->depth_cap ? 2 * pp->depth_cap : 8;
	    pp->open_ifs = myrealloc(pp->open_ifs, pp->depth_cap * sizeof(size_t));
	}
	pp->open_ifs[pp->depth++] = pp->dp->count - 1;
	return;
    }
    if (strncasecmp(line, "endif", 5) == 0 && !isalnum((unsigned char) line[5])) {
	cp = line + 5;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (pp->depth == 0) {
	    msg_warn("pcre map %s, line %d: ignoring ENDIF without matching IF",
		     pp->map, pp->lineno);
	    return;
	}
	if (*cp)
	    msg_warn("pcre map %s, line %d: ignoring extra text after ENDIF",
		     pp->map, pp->lineno);
	(void) pcre_add(pp, PCRE_OP_ENDIF);
	pp->dp->rules[pp->open_ifs[--pp->depth]].skip_to = pp->dp->count;
	return;
    }
    /* A line that starts with a NUL byte holds no rule. */
    if (*line == 0)
	return;
    cp = line;
    if (pcre_pattern(pp, &cp, &re, &negate) <= 0)
	return;
    while (isspace((unsigned char) *cp))
	cp++;
    if (*cp == 0)
	msg_warn("pcre map %s, line %d: no replacement text: using empty string",
		 pp->map, pp->lineno);
    if (pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups) != 0)
	groups = 0;
    if (!pcre_check_result(pp, cp, groups, negate)) {
	pcre2_code_free(re);
	return;
    }
    rule = pcre_add(pp, PCRE_OP_MATCH);
    rule->re = re;
    rule->negate = negate;
    rule->result = mystrdup(cp);
    rule->md = pcre2_match_data_create_from_pattern(re, 0);
}

/* pcre_expand - the result with $n replaced by captured text */

static const char *pcre_expand(DICT_PCRE *dp, PCRE_RULE *rule, const char *key,
			               int matched)
{
    VSTRING *out = dp->result;
    const char *cp;
    const char *name;
    size_t  len;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rule->md);
    long    n;

    vstring_reset(out);
    for (cp = rule->result; *cp; cp++) {
	if (*cp != '$') {
	    vstring_addch(out, *cp);
	    continue;
	}
	if (cp[1] == '$') {
	    vstring_addch(out, '$');
	    cp++;
	    continue;
	}
	if (cp[1] == '{' || cp[1] == '(') {
	    name = cp + 2;
	    len = strcspn(name, cp[1] == '{' ? "}" : ")");
	    cp = name + len;
	} else {
	    name = cp + 1;
	    for (len = 0; isalnum((unsigned char) name[len]) || name[len] == '_'; len++)
		 /* void */ ;
	    if (len == 0) {
		vstring_addch(out, '$');
		continue;
	    }
	    cp = name + len - 1;
	}
	n = strtol(name, 0, 10);
	if (n < matched && ov[2 * n] != PCRE2_UNSET)
	    vstring_memcat(out, key + ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
    }
    return (vstring_str(out));
}

/* pcre_match - 1 match, 0 no match, -1 error; *count = ovector pairs set */

static int pcre_match(DICT_PCRE *dp, PCRE_RULE *rule, const char *key, int *count)
{
    int     rc = pcre2_match(rule->re, (PCRE2_SPTR) key, strlen(key), 0, 0,
			     rule->md, 0);
    PCRE2_UCHAR errbuf[256];

    if (rc >= 0) {
	*count = rc ? rc : (int) pcre2_get_ovector_count(rule->md);
	return (1);
    }
    if (rc == PCRE2_ERROR_NOMATCH)
	return (0);
    pcre2_get_error_message(rc, errbuf, sizeof(errbuf));
    msg_warn("pcre map %s, line %d: matching error: %s", dp->dict.name,
	     rule->lineno, (char *) errbuf);
    return (-1);
}

static const char *dict_pcre_get(DICT *d, const char *key)
{
    DICT_PCRE *dp = (DICT_PCRE *) d;
    PCRE_RULE *rule;
    size_t  i = 0;
    int     count = 0;
    int     m;

    while (i < dp->count) {
	rule = dp->rules + i;
	switch (rule->op) {
	case PCRE_OP_ENDIF:
	    i++;
	    break;
	case PCRE_OP_IF:
	    if ((m = pcre_match(dp, rule, key, &count)) < 0) {
		d->error = DICT_ERR_RETRY;
		return (0);
	    }
	    i = (m != rule->negate) ? i + 1 : rule->skip_to;
	    break;
	default:
	    if ((m = pcre_match(dp, rule, key, &count)) < 0) {
		d->error = DICT_ERR_RETRY;
		return (0);
	    }
	    if (m != rule->negate)
		return (rule->negate ? rule->result :
			pcre_expand(dp, rule, key, count));
	    i++;
	    break;
	}
    }
    return (0);
}

static void dict_pcre_close(DICT *d)
{
    DICT_PCRE *dp = (DICT_PCRE *) d;

    for (size_t i = 0; i < dp->count; i++) {
	if (dp->rules[i].re)
	    pcre2_code_free(dp->rules[i].re);
	if (dp->rules[i].md)
	    pcre2_match_data_free(dp->rules[i].md);
	if (dp->rules[i].result)
	    myfree(dp->rules[i].result);
    }
    if (dp->rules)
	myfree(dp->rules);
    vstring_free(dp->result);
    dict_free(d);
}

/* pcre_finish - after the last line: unusable table, or a good one */

static DICT *pcre_finish(PCRE_PARSE *pp, int dict_flags)
{
    DICT_PCRE *dp = pp->dp;
    DICT   *d = &dp->dict;

    if (pp->depth > 0) {
	pp->lineno = dp->rules[pp->open_ifs[pp->depth - 1]].lineno;
	pcre_fail(pp, "pcre map %s, line %d: IF has no matching ENDIF",
		  pp->map, pp->lineno);
    }
    if (pp->open_ifs)
	myfree(pp->open_ifs);
    if (pp->first_error) {
	DICT   *s = dict_surrogate("pcre", d->name, dict_flags, "%s",
				   vstring_str(pp->first_error));

	if (d->file)
	    dict_watch_file(s, d->file);
	vstring_free(pp->first_error);
	dict_pcre_close(d);
	return (s);
    }
    return (d);
}

DICT   *dict_pcre_open(const char *name, int open_flags, int dict_flags)
{
    DICT_PCRE *dp;
    PCRE_PARSE parse;
    DICT_RULES *rules;
    VSTRING *line = vstring_alloc(200);
    DICT   *d;
    int     lineno;

    (void) open_flags;
    memset(&parse, 0, sizeof(parse));
    parse.map = name;

    /* pcre:{ {rule1}, {rule2} } has one rule per item; a file, one per line. */
    if ((rules = dict_rules_open("pcre", name, line)) == 0) {
	d = dict_surrogate("pcre", name, dict_flags, "%s", vstring_str(line));
	if (name[0] != '{')
	    dict_watch_file(d, name);
	vstring_free(line);
	return (d);
    }
    dp = (DICT_PCRE *) dict_alloc("pcre", name, sizeof(DICT_PCRE));
    dp->result = vstring_alloc(100);
    if (name[0] != '{')
	dict_watch_file(&dp->dict, name);
    parse.dp = dp;
    while (dict_rules_next(rules, line, &lineno)) {
	parse.lineno = lineno;
	pcre_parse_line(&parse, vstring_str(line));
    }
    if (dict_rules_error(rules))
	pcre_fail(&parse, "read %s: %s", name, strerror(errno));
    vstring_free(line);
    dict_rules_close(rules);
    dp->dict.flags = dict_flags | DICT_FLAG_PATTERN;
    dp->dict.get = dict_pcre_get;
    dp->dict.close = dict_pcre_close;
    return (pcre_finish(&parse, dict_flags));
}
