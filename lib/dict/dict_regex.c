/*
 * NAME
 *	dict_regex - the rule language of pcre: and regexp: tables
 * SYNOPSIS
 *	See dict_regex.h.
 * DESCRIPTION
 *	Rules are kept in one array in file order; an "if" rule knows the
 *	index after its "endif", so a lookup that does not enter the block
 *	jumps over it. Any non-alphanumeric character other than white
 *	space delimits the expression; a backslash keeps the next character
 *	(the backslash stays in the expression, as in Postfix).
 * DIAGNOSTICS
 *	See dict_regex.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/dict_regex.h"
#include "dict/dict_source.h"
#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"

#define REGEX_PRINTABLE(c) \
	(((unsigned char) (c) >= 0x20 && (unsigned char) (c) < 0x7f) ? (c) : '?')

#define REGEX_OP_MATCH	1
#define REGEX_OP_IF	2
#define REGEX_OP_ENDIF	3

typedef struct REGEX_RULE {
    int     op;
    int     negate;
    int     lineno;
    void   *re;				/* the engine's compiled expression */
    char   *result;			/* REGEX_OP_MATCH */
    size_t  skip_to;			/* REGEX_OP_IF: index after its endif */
} REGEX_RULE;

typedef struct DICT_REGEX {
    DICT    dict;
    const DICT_REGEX_ENGINE *engine;
    REGEX_RULE *rules;
    size_t  count;
    size_t  cap;
    VSTRING *result;
    VSTRING *why;
} DICT_REGEX;

typedef struct REGEX_PARSE {
    DICT_REGEX *dr;
    const DICT_REGEX_ENGINE *engine;
    const char *map;			/* name in messages */
    int     lineno;
    size_t *open_ifs;			/* stack of rule indexes */
    size_t  depth;
    size_t  depth_cap;
    VSTRING *first_error;
} REGEX_PARSE;

/* regex_fail - a problem that makes the whole table unusable */

static void regex_fail(REGEX_PARSE *pp, const char *fmt,...)
    __attribute__((format(printf, 2, 3)));

static void regex_fail(REGEX_PARSE *pp, const char *fmt,...)
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

static REGEX_RULE *regex_add(REGEX_PARSE *pp, int op)
{
    DICT_REGEX *dr = pp->dr;
    REGEX_RULE *rule;

    if (dr->count >= dr->cap) {
	dr->cap = dr->cap ? 2 * dr->cap : 16;
	dr->rules = myrealloc(dr->rules, dr->cap * sizeof(REGEX_RULE));
    }
    rule = dr->rules + dr->count++;
    memset(rule, 0, sizeof(*rule));
    rule->op = op;
    rule->lineno = pp->lineno;
    return (rule);
}

/*
 * regex_pattern - parse "[!]/regex/flags" at *bufp; compile it. Returns 0
 * after a warning when the rule must be skipped, -1 when the regex does
 * not compile.
 */
static int regex_pattern(REGEX_PARSE *pp, char **bufp, void **re, int *negate)
{
    const DICT_REGEX_ENGINE *engine = pp->engine;
    char   *cp = *bufp;
    char   *pattern;
    int     delim;
    int     options = engine->options;
    VSTRING *why;

    *negate = 0;
    while (*cp == '!') {
	*negate = !*negate;
	cp++;
    }
    delim = (unsigned char) *cp;
    if (delim == 0 || isalnum(delim) || isspace(delim)) {
	msg_warn("%s map %s, line %d: ignoring unrecognized request",
		 engine->type, pp->map, pp->lineno);
	return (0);
    }
    pattern = ++cp;
    for (; *cp && (unsigned char) *cp != delim; cp++)
	if (*cp == '\\' && cp[1])
	    cp++;
    if ((unsigned char) *cp != delim) {
	msg_warn("%s map %s, line %d: no closing regexp delimiter \"%c\": %s",
		 engine->type, pp->map, pp->lineno, REGEX_PRINTABLE(delim),
		 engine->no_delim_action);
	return (0);
    }
    *cp++ = 0;
    for (; *cp && !isspace((unsigned char) *cp); cp++) {
	switch (engine->flag((unsigned char) *cp, &options)) {
	case DICT_REGEX_FLAG_OK:
	    break;
	case DICT_REGEX_FLAG_OBSOLETE:
	    msg_warn("%s map %s, line %d: ignoring obsolete regexp option \"%c\"",
		     engine->type, pp->map, pp->lineno, REGEX_PRINTABLE(*cp));
	    break;
	default:
	    msg_warn("%s map %s, line %d: unknown regexp option \"%c\": "
		     "skipping this rule", engine->type, pp->map, pp->lineno,
		     REGEX_PRINTABLE(*cp));
	    return (0);
	}
    }
    *bufp = cp;
    why = vstring_alloc(100);
    if ((*re = engine->compile(pattern, options, why)) == 0) {
	regex_fail(pp, "%s map %s, line %d: %s", engine->type, pp->map,
		   pp->lineno, vstring_str(why));
	vstring_free(why);
	return (-1);
    }
    vstring_free(why);
    return (1);
}

/*
 * regex_check_result - validate $n references. Returns 0 after warnings
 * when the rule must be skipped.
 */
static int regex_check_result(REGEX_PARSE *pp, const char *result,
			              size_t groups, int negate)
{
    const char *type = pp->engine->type;
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
	    /* A syntax error ends the scan, as "truncated" does. */
	    msg_warn("empty macro name: \"%s\"", dict_printable(result));
	    bad = 1;
	    break;
	}
	index = mystrndup(name, len);
	if (!alldig(index)) {
	    msg_warn("%s map %s, line %d: non-numeric replacement index \"%s\"",
		     type, pp->map, pp->lineno, dict_printable(index));
	    bad = 1;
	} else if (atol(index) == 0) {
	    /* Postfix counts $0 as a syntax error. */
	    msg_warn("%s map %s, line %d: %s replacement index \"%s\"",
		     type, pp->map, pp->lineno, pp->engine->zero_index_words, index);
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
	msg_warn("%s map %s, line %d: bad replacement syntax: skipping this rule",
		 type, pp->map, pp->lineno);
	return (0);
    }
    if (negate && numbers) {
	msg_warn("%s map %s, line %d: $number found in negative match "
		 "replacement text: skipping this rule", type, pp->map, pp->lineno);
	return (0);
    }
    if (max_index > (long) groups) {
	msg_warn("%s map %s, line %d: out of range replacement index "
		 "\"%ld\": skipping this rule", type, pp->map, pp->lineno, max_index);
	return (0);
    }
    return (1);
}

static void regex_parse_line(REGEX_PARSE *pp, char *line)
{
    const DICT_REGEX_ENGINE *engine = pp->engine;
    REGEX_RULE *rule;
    void   *re = 0;
    int     negate;
    char   *cp;

    if (strncasecmp(line, "if", 2) == 0 && !isalnum((unsigned char) line[2])) {
	cp = line + 2;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (regex_pattern(pp, &cp, &re, &negate) <= 0)
	    return;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (*cp) {
	    msg_warn("%s map %s, line %d: ignoring extra text after IF "
		     "statement: \"%s\"", engine->type, pp->map, pp->lineno,
		     dict_printable(cp));
	    msg_warn("%s map %s, line %d: do not prepend whitespace to "
		     "statements between IF and ENDIF", engine->type, pp->map,
		     pp->lineno);
	}
	rule = regex_add(pp, REGEX_OP_IF);
	rule->re = re;
	rule->negate = negate;
	if (pp->depth >= pp->depth_cap) {
	    pp->depth_cap = pp->depth_cap ? 2 * pp->depth_cap : 8;
	    pp->open_ifs = myrealloc(pp->open_ifs, pp->depth_cap * sizeof(size_t));
	}
	pp->open_ifs[pp->depth++] = pp->dr->count - 1;
	return;
    }
    if (strncasecmp(line, "endif", 5) == 0 && !isalnum((unsigned char) line[5])) {
	cp = line + 5;
	while (isspace((unsigned char) *cp))
	    cp++;
	if (pp->depth == 0) {
	    msg_warn("%s map %s, line %d: ignoring ENDIF without matching IF",
		     engine->type, pp->map, pp->lineno);
	    return;
	}
	if (*cp)
	    msg_warn("%s map %s, line %d: ignoring extra text after ENDIF",
		     engine->type, pp->map, pp->lineno);
	(void) regex_add(pp, REGEX_OP_ENDIF);
	pp->dr->rules[pp->open_ifs[--pp->depth]].skip_to = pp->dr->count;
	return;
    }
    /* A line that starts with a NUL byte holds no rule. */
    if (*line == 0)
	return;
    cp = line;
    if (regex_pattern(pp, &cp, &re, &negate) <= 0)
	return;
    while (isspace((unsigned char) *cp))
	cp++;
    if (*cp == 0)
	msg_warn("%s map %s, line %d: no replacement text: using empty string",
		 engine->type, pp->map, pp->lineno);
    if (!regex_check_result(pp, cp, engine->groups(re), negate)) {
	engine->free(re);
	return;
    }
    rule = regex_add(pp, REGEX_OP_MATCH);
    rule->re = re;
    rule->negate = negate;
    rule->result = mystrdup(cp);
}

/* regex_expand - the result with $n replaced by captured text */

static const char *regex_expand(DICT_REGEX *dr, REGEX_RULE *rule, const char *key)
{
    VSTRING *out = dr->result;
    const char *cp;
    const char *name;
    size_t  len;
    size_t  start;
    size_t  end;
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
	if (n > 0 && dr->engine->group(rule->re, (size_t) n, &start, &end))
	    vstring_memcat(out, key + start, end - start);
    }
    return (vstring_str(out));
}

/* regex_match - 1 match, 0 no match, -1 error (warned) */

static int regex_match(DICT_REGEX *dr, REGEX_RULE *rule, const char *key)
{
    int     m = dr->engine->match(rule->re, key, dr->why);

    if (m < 0)
	msg_warn("%s map %s, line %d: matching error: %s", dr->engine->type,
		 dr->dict.name, rule->lineno, vstring_str(dr->why));
    return (m);
}

static const char *dict_regex_get(DICT *d, const char *key)
{
    DICT_REGEX *dr = (DICT_REGEX *) d;
    REGEX_RULE *rule;
    size_t  i = 0;
    int     m;

    while (i < dr->count) {
	rule = dr->rules + i;
	switch (rule->op) {
	case REGEX_OP_ENDIF:
	    i++;
	    break;
	case REGEX_OP_IF:
	    if ((m = regex_match(dr, rule, key)) < 0) {
		d->error = DICT_ERR_RETRY;
		return (0);
	    }
	    i = (m != rule->negate) ? i + 1 : rule->skip_to;
	    break;
	default:
	    if ((m = regex_match(dr, rule, key)) < 0) {
		d->error = DICT_ERR_RETRY;
		return (0);
	    }
	    if (m != rule->negate)
		return (rule->negate ? rule->result :
			regex_expand(dr, rule, key));
	    i++;
	    break;
	}
    }
    return (0);
}

static void dict_regex_close(DICT *d)
{
    DICT_REGEX *dr = (DICT_REGEX *) d;

    for (size_t i = 0; i < dr->count; i++) {
	if (dr->rules[i].re)
	    dr->engine->free(dr->rules[i].re);
	if (dr->rules[i].result)
	    myfree(dr->rules[i].result);
    }
    if (dr->rules)
	myfree(dr->rules);
    vstring_free(dr->result);
    vstring_free(dr->why);
    dict_free(d);
}

/* regex_finish - after the last line: unusable table, or a good one */

static DICT *regex_finish(REGEX_PARSE *pp, int dict_flags)
{
    DICT_REGEX *dr = pp->dr;
    DICT   *d = &dr->dict;

    if (pp->depth > 0) {
	pp->lineno = dr->rules[pp->open_ifs[pp->depth - 1]].lineno;
	regex_fail(pp, "%s map %s, line %d: IF has no matching ENDIF",
		   pp->engine->type, pp->map, pp->lineno);
    }
    if (pp->open_ifs)
	myfree(pp->open_ifs);
    if (pp->first_error) {
	DICT   *s = dict_surrogate(pp->engine->type, d->name, dict_flags, "%s",
				   vstring_str(pp->first_error));

	dict_surrogate_temporary(s);

	if (d->file)
	    dict_watch_file(s, d->file);
	vstring_free(pp->first_error);
	dict_regex_close(d);
	return (s);
    }
    return (d);
}

DICT   *dict_regex_open(const DICT_REGEX_ENGINE *engine, const char *name,
			        int open_flags, int dict_flags)
{
    DICT_REGEX *dr;
    REGEX_PARSE parse;
    DICT_RULES *rules;
    VSTRING *line = vstring_alloc(200);
    DICT   *d;
    int     lineno;

    (void) open_flags;
    memset(&parse, 0, sizeof(parse));
    parse.engine = engine;
    parse.map = name;

    /* TYPE:{ {rule1}, {rule2} } has one rule per item; a file, one per line. */
    if ((rules = dict_rules_open(engine->type, name, line)) == 0) {
	d = dict_surrogate(engine->type, name, dict_flags, "%s", vstring_str(line));
	if (name[0] != '{')
	    dict_watch_file(d, name);
	vstring_free(line);
	return (d);
    }
    dr = (DICT_REGEX *) dict_alloc(engine->type, name, sizeof(DICT_REGEX));
    dr->engine = engine;
    dr->result = vstring_alloc(100);
    dr->why = vstring_alloc(100);
    if (name[0] != '{')
	dict_watch_file(&dr->dict, name);
    parse.dr = dr;
    while (dict_rules_next(rules, line, &lineno)) {
	parse.lineno = lineno;
	regex_parse_line(&parse, vstring_str(line));
    }
    if (dict_rules_error(rules))
	regex_fail(&parse, "read %s: %s", name, strerror(errno));
    vstring_free(line);
    dict_rules_close(rules);
    dr->dict.flags = dict_flags | DICT_FLAG_PATTERN;
    dr->dict.get = dict_regex_get;
    dr->dict.close = dict_regex_close;
    return (regex_finish(&parse, dict_flags));
}
