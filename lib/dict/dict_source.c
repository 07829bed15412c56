/*
 * NAME
 *	dict_source - read Postfix table source files
 * SYNOPSIS
 *	See dict_source.h.
 * DESCRIPTION
 *	Logical lines are assembled from physical lines of any length
 *	(VSTRING, no fixed buffer). As in Postfix, a line that holds a NUL
 *	byte counts as text (it is not blank), and the parsers that follow
 *	see it as a C string, cut at the first NUL.
 * DIAGNOSTICS
 *	"name: logical line must not start with whitespace: text",
 *	"name, line N: expected format: key whitespace value".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "dict/dict_source.h"
#include "dict/dict_type.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"


DICT_SOURCE *dict_source_stream(VSTREAM *fp, const char *name)
{
    DICT_SOURCE *src = mycalloc(1, sizeof(*src));

    src->fp = fp;
    src->name = mystrdup(name);
    src->phys = vstring_alloc(200);
    return (src);
}

DICT_SOURCE *dict_source_open(const char *path)
{
    VSTREAM *fp = vstream_open(path, O_RDONLY, 0);
    DICT_SOURCE *src;

    if (fp == 0)
	return (0);
    src = dict_source_stream(fp, path);
    src->own_fp = 1;
    return (src);
}

/* source_read - one physical line; 0 at end of file */

static int source_read(DICT_SOURCE *src, VSTRING *buf)
{
    int     ret;
    char   *cp;

    ret = vstream_get_line(src->fp, buf, SIZE_MAX);
    if (ret == VSTREAM_EOF) {
	if (vstream_ferror(src->fp))
	    src->error = 1;
	return (0);
    }
    src->lineno++;
    /* Keep NUL bytes: the line is not blank; parsers see a C string. */
    cp = vstring_str(buf);
    if (vstring_len(buf) > 0 && cp[vstring_len(buf) - 1] == '\r')
	vstring_truncate(buf, vstring_len(buf) - 1);
    return (1);
}

static int blank_or_comment(VSTRING *buf)
{
    const char *cp = vstring_str(buf);
    const char *end = vstring_end(buf);

    while (cp < end && isspace((unsigned char) *cp))
	cp++;
    return (cp == end || *cp == '#');
}

int     dict_source_next(DICT_SOURCE *src, VSTRING *line)
{
    char   *cp;
    size_t  len;

    for (;;) {
	/* Find the first line of a logical line. */
	if (!src->have_phys && !source_read(src, src->phys))
	    return (0);
	src->have_phys = 0;
	if (blank_or_comment(src->phys))
	    continue;
	vstring_memcpy(line, vstring_str(src->phys), vstring_len(src->phys));
	src->first_line = src->last_line = src->lineno;

	/* Continuation lines start with white space. */
	while (source_read(src, src->phys)) {
	    cp = vstring_str(src->phys);
	    if (blank_or_comment(src->phys))
		continue;
	    if (!isspace((unsigned char) *cp)) {
		src->have_phys = 1;
		break;
	    }
	    vstring_memcat(line, cp, vstring_len(src->phys));
	    src->last_line = src->lineno;
	}
	len = vstring_len(line);
	cp = vstring_str(line);
	while (len > 0 && isspace((unsigned char) cp[len - 1]))
	    len--;
	vstring_truncate(line, len);
	if (isspace((unsigned char) *cp)) {
	    msg_warn("%s: logical line must not start with whitespace: \"%s\"",
		     src->name, dict_printable(cp));
	    continue;
	}
	return (1);
    }
}

int     dict_source_split(DICT_SOURCE *src, char *line, char **key, char **value)
{
    char   *cp;
    int     quoted = 0;

    /*
     * The key ends at white space outside double quotes; a backslash
     * escapes the next character inside quotes. The quotes stay part of
     * the key, as Postfix stores it.
     */
    for (cp = line; *cp; cp++) {
	if (quoted && *cp == '\\' && cp[1])
	    cp++;
	else if (*cp == '"')
	    quoted = !quoted;
	else if (!quoted && isspace((unsigned char) *cp))
	    break;
    }
    if (quoted) {
	msg_warn("%s, line %d: unbalanced '\"' in '%s' -- ignoring this line",
		 src->name, src->first_line, dict_printable(line));
	return (0);
    }
    *key = line;
    if (*cp)
	*cp++ = 0;
    while (*cp && isspace((unsigned char) *cp))
	cp++;
    *value = cp;
    if (**key == 0 || **value == 0) {
	msg_warn("%s, line %d: expected format: key whitespace value%s",
		 src->name, src->first_line,
		 src->bad_line_suffix ? src->bad_line_suffix : "");
	return (0);
    }
    return (1);
}

int     dict_source_error(DICT_SOURCE *src)
{
    return (src->error);
}

void    dict_source_close(DICT_SOURCE *src)
{
    if (src->own_fp)
	vstream_close(src->fp);
    vstring_free(src->phys);
    myfree(src->name);
    myfree(src);
}

/* rules_close - the "}" that closes the "{" at open, or NULL */

static const char *rules_close(const char *open)
{
    int     level = 0;

    for (const char *cp = open; *cp; cp++) {
	if (*cp == '{')
	    level++;
	else if (*cp == '}' && --level == 0)
	    return (cp);
    }
    return (0);
}

/* rules_braced - is text one "{...}" group? Postfix's words if not */

static int rules_braced(const char *type, const char *text, VSTRING *why)
{
    const char *end;

    if (*text != '{') {
	vstring_sprintf(why, "%s map: no '{' at start of text in \"%s\"",
			type, text);
	return (0);
    }
    if ((end = rules_close(text)) == 0) {
	vstring_sprintf(why, "%s map: missing '}' in \"%s\"", type, text);
	return (0);
    }
    while (*++end)
	if (!isspace((unsigned char) *end)) {
	    vstring_sprintf(why, "%s map: syntax error after '}' in \"%s\"",
			    type, text);
	    return (0);
	}
    return (1);
}

/* rules_inline_ok - "{ {rule}, {rule} ... }": every item in braces */

static int rules_inline_ok(const char *type, const char *name, VSTRING *why)
{
    char   *saved;
    char   *cursor;
    char   *item;
    int     ok;

    if (!rules_braced(type, name, why))
	return (0);
    saved = cursor = mystrndup(name + 1, rules_close(name) - name - 1);
    ok = 1;
    while (ok && (item = mystrtokq(&cursor, LIST_DELIMS)) != 0)
	ok = rules_braced(type, item, why);
    myfree(saved);
    return (ok);
}

/* dict_rules_open - the rules of "type:{ {r1}, ... }" or of a source file */
DICT_RULES *dict_rules_open(const char *type, const char *name, VSTRING *why)
{
    DICT_RULES *rules;
    size_t  len = strlen(name);

    if (name[0] == '{' && !rules_inline_ok(type, name, why))
	return (0);
    rules = mycalloc(1, sizeof(*rules));
    if (name[0] == '{') {
	len = rules_close(name) - name + 1;
	rules->saved = rules->cursor = mystrndup(name + 1, len - 2);
    } else if ((rules->src = dict_source_open(name)) == 0) {
	vstring_sprintf(why, "open %s: %s", name, strerror(errno));
	myfree(rules);
	return (0);
    }
    return (rules);
}

/* dict_rules_next - the next rule and its line (or item) number */
int     dict_rules_next(DICT_RULES *rules, VSTRING *rule, int *lineno)
{
    char   *item;

    if (rules->src) {
	if (!dict_source_next(rules->src, rule))
	    return (0);
	*lineno = rules->src->first_line;
	return (1);
    }
    while ((item = mystrtok_list(&rules->cursor)) != 0) {
	rules->item++;
	if (*item && *item != '#') {
	    vstring_strcpy(rule, item);
	    *lineno = rules->item;
	    return (1);
	}
    }
    return (0);
}

int     dict_rules_error(DICT_RULES *rules)
{
    return (rules->src ? dict_source_error(rules->src) : 0);
}

void    dict_rules_close(DICT_RULES *rules)
{
    if (rules->src)
	dict_source_close(rules->src);
    myfree(rules->saved);
    myfree(rules);
}
