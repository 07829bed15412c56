/*
 * NAME
 *	rfc822_list - RFC 822 address lists as aliases(5) values hold them
 * SYNOPSIS
 *	See rfc822_list.h.
 * DESCRIPTION
 *	The text is first cut into tokens (words, quoted strings,
 *	comments, domain literals and the special characters); the three
 *	functions then write the tokens out in their own ways.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "global/rfc822_list.h"

#define TOK_ATOM	256		/* text: the word, backslashes removed */
#define TOK_QSTRING	257		/* text: between the quotes, as written */
#define TOK_COMMENT	258		/* text: with its parentheses, as written */
#define TOK_DOMLIT	259		/* text: with its brackets */

#define SPECIALS	"()<>@,;:\".[]"
#define IS_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')
#define IS_WORD(t)	((t) >= TOK_ATOM)

typedef struct TOKEN {
    int     type;			/* TOK_* or the special character */
    char   *text;
} TOKEN;

typedef struct TOKENS {
    TOKEN  *tok;
    size_t  count;
    size_t  cap;
} TOKENS;

static void add(TOKENS *t, int type, VSTRING *text)
{
    if (t->count >= t->cap) {
	t->cap = t->cap ? 2 * t->cap : 16;
	t->tok = myrealloc(t->tok, t->cap * sizeof(*t->tok));
    }
    t->tok[t->count].type = type;
    t->tok[t->count].text = text ? mystrdup(vstring_str(text)) : 0;
    t->count++;
}

static void tokens_free(TOKENS *t)
{
    for (size_t i = 0; i < t->count; i++)
	myfree(t->tok[i].text);
    myfree(t->tok);
}

/* scan - cut text into tokens */
static void scan(TOKENS *t, const char *text)
{
    VSTRING *buf = vstring_alloc(64);
    const unsigned char *cp = (const unsigned char *) text;

    memset(t, 0, sizeof(*t));
    while (*cp) {
	if (IS_SPACE(*cp)) {
	    cp++;
	} else if (*cp == '(') {
	    int     level = 0;

	    vstring_reset(buf);
	    do {
		if (*cp == '\\' && cp[1]) {
		    vstring_addch(buf, *cp++);
		} else if (*cp == '(') {
		    level++;
		} else if (*cp == ')') {
		    level--;
		}
		vstring_addch(buf, *cp++);
	    } while (*cp && level > 0);
	    add(t, TOK_COMMENT, buf);
	} else if (*cp == '"') {
	    vstring_reset(buf);
	    for (cp++; *cp && *cp != '"'; cp++) {
		/* A backslash at the very end stands for itself: keep it paired. */
		if (*cp == '\\')
		    vstring_addch(buf, cp[1] ? *cp++ : '\\');
		vstring_addch(buf, *cp);
	    }
	    if (*cp == '"')
		cp++;
	    add(t, TOK_QSTRING, buf);
	} else if (*cp == '[') {
	    vstring_reset(buf);
	    while (*cp && *cp != ']') {
		if (*cp == '\\')
		    vstring_addch(buf, cp[1] ? *cp++ : '\\');
		vstring_addch(buf, *cp++);
	    }
	    vstring_addch(buf, ']');
	    if (*cp == ']')
		cp++;
	    add(t, TOK_DOMLIT, buf);
	} else if (strchr(SPECIALS, *cp)) {
	    add(t, *cp++, (VSTRING *) 0);
	} else {
	    vstring_reset(buf);
	    while (*cp && !IS_SPACE(*cp) && !strchr(SPECIALS, *cp)) {
		if (*cp == '\\' && cp[1])
		    cp++;
		vstring_addch(buf, *cp++);
	    }
	    add(t, TOK_ATOM, buf);
	}
    }
    vstring_free(buf);
}

/* put_atom - a word, quoted when it holds what a word may not */
static void put_atom(VSTRING *out, const char *text)
{
    const char *cp;

    for (cp = text; *cp; cp++)
	if (IS_SPACE(*cp) || strchr(SPECIALS, *cp) || *cp == '\\')
	    break;
    if (*cp == 0 && *text) {
	vstring_strcat(out, text);
	return;
    }
    vstring_addch(out, '"');
    for (cp = text; *cp; cp++) {
	if (*cp == '"' || *cp == '\\')
	    vstring_addch(out, '\\');
	vstring_addch(out, *cp);
    }
    vstring_addch(out, '"');
}

void    rfc822_list_normalize(VSTRING *out, const char *text)
{
    TOKENS  t;
    int     prev = 0;

    scan(&t, text);
    vstring_reset(out);
    for (size_t i = 0; i < t.count; i++) {
	TOKEN  *tp = t.tok + i;

	if ((IS_WORD(tp->type) || tp->type == '<') && IS_WORD(prev))
	    vstring_addch(out, ' ');
	switch (tp->type) {
	case TOK_ATOM:
	    put_atom(out, tp->text);
	    break;
	case TOK_QSTRING:
	    vstring_addch(out, '"');
	    vstring_strcat(out, tp->text);
	    vstring_addch(out, '"');
	    break;
	case TOK_COMMENT:
	case TOK_DOMLIT:
	    vstring_strcat(out, tp->text);
	    break;
	case ',':
	    vstring_strcat(out, ", ");
	    break;
	default:
	    vstring_addch(out, tp->type);
	    break;
	}
	prev = tp->type;
    }
    tokens_free(&t);
}

/* put_internal - one token in internal form */
static void put_internal(VSTRING *out, const TOKEN *tp)
{
    const char *cp;

    switch (tp->type) {
    case TOK_ATOM:
    case TOK_DOMLIT:
	vstring_strcat(out, tp->text);
	break;
    case TOK_QSTRING:
	for (cp = tp->text; *cp; cp++) {
	    if (*cp == '\\' && cp[1])
		cp++;
	    vstring_addch(out, *cp);
	}
	break;
    case TOK_COMMENT:
	break;
    default:
	vstring_addch(out, tp->type);
	break;
    }
}

/* flush - add a finished destination to the list */
static void flush(ARGV *list, VSTRING *addr)
{
    if (vstring_len(addr) > 0)
	argv_add(list, vstring_str(addr));
    vstring_reset(addr);
}

/* split_element - the destinations of tokens [from, to) */
static void split_element(ARGV *list, const TOKENS *t, size_t from, size_t to,
			          VSTRING *addr)
{
    size_t  open;
    int     prev = 0;

    for (open = from; open < to && t->tok[open].type != '<'; open++)
	 /* void */ ;
    if (open < to) {
	/* "phrase <route-addr>": only what is between the brackets. */
	size_t  start = open + 1;
	size_t  end;

	for (end = start; end < to && t->tok[end].type != '>'; end++)
	     /* void */ ;
	if (start < end && t->tok[start].type == '@') {
	    size_t  colon;

	    for (colon = start; colon < end && t->tok[colon].type != ':'; colon++)
		 /* void */ ;
	    if (colon < end)
		start = colon + 1;
	}
	for (size_t i = start; i < end; i++) {
	    if (t->tok[i].type == TOK_COMMENT)
		continue;
	    if (IS_WORD(t->tok[i].type) && IS_WORD(prev))
		vstring_addch(addr, ' ');
	    put_internal(addr, t->tok + i);
	    prev = t->tok[i].type;
	}
	flush(list, addr);
	return;
    }
    for (size_t i = from; i < to; i++) {
	if (t->tok[i].type == TOK_COMMENT)
	    continue;
	if (IS_WORD(t->tok[i].type) && IS_WORD(prev))
	    flush(list, addr);
	put_internal(addr, t->tok + i);
	prev = t->tok[i].type;
    }
    flush(list, addr);
}

ARGV   *rfc822_list_split(const char *text)
{
    TOKENS  t;
    ARGV   *list = argv_alloc(4);
    VSTRING *addr = vstring_alloc(64);
    size_t  start = 0;

    int     angle = 0;

    scan(&t, text);
    for (size_t i = 0; i <= t.count; i++) {
	/* A "," inside <...> belongs to a source route, not to the list. */
	if (i < t.count && t.tok[i].type == '<')
	    angle = 1;
	else if (i < t.count && t.tok[i].type == '>')
	    angle = 0;
	if (i == t.count || (!angle && (t.tok[i].type == ',' || t.tok[i].type == ';'))) {
	    split_element(list, &t, start, i, addr);
	    start = i + 1;
	}
    }
    vstring_free(addr);
    tokens_free(&t);
    return (list);
}

void    rfc822_list_internalize(VSTRING *out, const char *text)
{
    TOKENS  t;
    int     prev = 0;

    scan(&t, text);
    vstring_reset(out);
    for (size_t i = 0; i < t.count; i++) {
	if (t.tok[i].type == TOK_COMMENT)
	    continue;
	if (IS_WORD(t.tok[i].type) && IS_WORD(prev))
	    vstring_addch(out, ' ');
	put_internal(out, t.tok + i);
	prev = t.tok[i].type;
    }
    tokens_free(&t);
}
