/*
 * NAME
 *	mac_expand - fill in $name templates from a caller's table
 * SYNOPSIS
 *	See mac_expand.h.
 * DESCRIPTION
 *	One pass over the template; a conditional's text is copied out
 *	and expanded by a recursive call, so "${a?{$b/x}}" works.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/mac_expand.h"

#define MAC_EXPAND_DEPTH	10
#define NAME_CHARS \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"

typedef struct EXPAND {
    const char *filter;
    MAC_EXPAND_LOOKUP lookup;
    void   *ctx;
    int     status;
} EXPAND;

static void expand(EXPAND *, const char *, size_t, VSTRING *, int);

/* close_of - the matching close bracket of the one at open, or NULL */
static const char *close_of(const char *open, const char *end)
{
    int     open_ch = *open;
    int     close_ch = open_ch == '{' ? '}' : ')';
    int     level = 0;

    for (const char *cp = open; cp < end; cp++) {
	if (*cp == open_ch)
	    level++;
	else if (*cp == close_ch && --level == 0)
	    return (cp);
    }
    return (0);
}

/* value_of - a name's value, or NULL when it is not defined */
static const char *value_of(EXPAND *ex, const char *name, size_t len)
{
    char   *copy = mystrndup(name, len);
    const char *value = ex->lookup(copy, ex->ctx);

    myfree(copy);
    return (value && *value ? value : 0);
}

/* put_value - a looked-up value, filtered */
static void put_value(EXPAND *ex, const char *value, VSTRING *out)
{
    for (const char *cp = value; *cp; cp++)
	vstring_addch(out, ex->filter == 0 || strchr(ex->filter, *cp) ? *cp : '_');
}

/*
 * braced_text - "{text}" at cp (inside [cp, end)): sets *text and *len
 * and returns the position after "}", or NULL when cp is not "{" or the
 * group is not closed.
 */
static const char *braced_text(const char *cp, const char *end,
			               const char **text, size_t *len)
{
    const char *close;

    while (cp < end && (*cp == ' ' || *cp == '\t'))
	cp++;
    if (cp >= end || *cp != '{' || (close = close_of(cp, end)) == 0)
	return (0);
    *text = cp + 1;
    *len = close - cp - 1;
    return (close + 1);
}

/*
 * conditional - the inside of "${name?...}" or "${name:...}": body is
 * what follows the name, op its first character.
 */
static void conditional(EXPAND *ex, const char *name, size_t name_len,
			        const char *body, const char *end,
			        VSTRING *out, int depth)
{
    int     defined = value_of(ex, name, name_len) != 0;
    int     op = *body++;
    const char *t1;
    const char *t2;
    size_t  l1;
    size_t  l2;
    const char *after;

    /* "{text1}:{text2}" and "{text}" forms; else the plain text. */
    if ((after = braced_text(body, end, &t1, &l1)) != 0) {
	while (after < end && (*after == ' ' || *after == '\t'))
	    after++;
	if (after == end) {
	    if ((op == '?') == defined)
		expand(ex, t1, l1, out, depth + 1);
	    return;
	}
	if (op == '?' && *after == ':'
	    && (after = braced_text(after + 1, end, &t2, &l2)) != 0) {
	    while (after < end && (*after == ' ' || *after == '\t'))
		after++;
	    if (after == end) {
		expand(ex, defined ? t1 : t2, defined ? l1 : l2, out, depth + 1);
		return;
	    }
	}
	ex->status |= MAC_EXPAND_ERROR;
	return;
    }
    if ((op == '?') == defined)
	expand(ex, body, end - body, out, depth + 1);
}

static void expand(EXPAND *ex, const char *text, size_t len, VSTRING *out, int depth)
{
    const char *end = text + len;
    const char *cp = text;

    if (depth > MAC_EXPAND_DEPTH) {
	ex->status |= MAC_EXPAND_ERROR;
	return;
    }
    while (cp < end) {
	const char *name;
	size_t  name_len;
	const char *value;

	if (*cp != '$') {
	    vstring_addch(out, *cp++);
	    continue;
	}
	cp++;
	if (cp < end && *cp == '$') {
	    vstring_addch(out, '$');
	    cp++;
	    continue;
	}
	if (cp < end && (*cp == '{' || *cp == '(')) {
	    const char *close = close_of(cp, end);

	    if (close == 0) {
		ex->status |= MAC_EXPAND_ERROR;
		return;
	    }
	    name = cp + 1;
	    name_len = strspn(name, NAME_CHARS);
	    if (name + name_len > close)
		name_len = close - name;
	    if (name_len == 0) {
		ex->status |= MAC_EXPAND_ERROR;
	    } else if (name + name_len == close) {
		if ((value = value_of(ex, name, name_len)) != 0)
		    put_value(ex, value, out);
		else
		    ex->status |= MAC_EXPAND_UNDEF;
	    } else if (*cp == '{' && (name[name_len] == '?' || name[name_len] == ':')) {
		conditional(ex, name, name_len, name + name_len, close, out, depth);
	    } else {
		ex->status |= MAC_EXPAND_ERROR;
	    }
	    cp = close + 1;
	    continue;
	}
	name = cp;
	name_len = strspn(name, NAME_CHARS);
	if (name + name_len > end)
	    name_len = end - name;
	if (name_len == 0) {
	    ex->status |= MAC_EXPAND_ERROR;
	    continue;
	}
	if ((value = value_of(ex, name, name_len)) != 0)
	    put_value(ex, value, out);
	else
	    ex->status |= MAC_EXPAND_UNDEF;
	cp = name + name_len;
    }
}

int     mac_expand(VSTRING *out, const char *template, const char *filter,
		           MAC_EXPAND_LOOKUP lookup, void *ctx)
{
    EXPAND  ex;

    ex.filter = filter;
    ex.lookup = lookup;
    ex.ctx = ctx;
    ex.status = 0;
    vstring_reset(out);
    expand(&ex, template, strlen(template), out, 0);
    return (ex.status);
}
