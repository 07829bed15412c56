/*
 * NAME
 *	dict_cidr - cidr: tables, Postfix cidr_table(5) syntax
 * SYNOPSIS
 *	DICT *dict_cidr_open(const char *name, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The table is a file (cidr:/etc/postfix/clients.cidr) or inline
 *	rules (cidr:{ {rule1}, {rule2} }). Rules, tried in order:
 *
 *	network/prefix result, address result	match
 *	!network/prefix result			match when not inside
 *	if [!]network/prefix ... endif		nesting
 *
 *	Addresses are IPv4 (dotted quad, decimal) or IPv6, optionally in
 *	"[]" in the table. Keys are addresses without brackets; a key that
 *	is not an address matches nothing, and a rule of the other address
 *	family does not apply (not even negated), as in Postfix.
 * DIAGNOSTICS
 *	Bad rules are reported in Postfix's words ("cidr map FILE, line
 *	N: ...: skipping this rule") and skipped. Stricter than Postfix:
 *	an "if" without "endif" or an unreadable file make every lookup
 *	fail with DICT_ERR_RETRY; dict_error_text() names file and line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dict/dict_type.h"
#include "dict/dict_source.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"

#define CIDR_OP_MATCH	1
#define CIDR_OP_IF	2
#define CIDR_OP_ENDIF	3

typedef struct CIDR_RULE {
    int     op;
    int     negate;
    int     family;			/* AF_INET or AF_INET6 */
    int     prefix;			/* bits */
    unsigned char net[16];
    int     lineno;
    char   *result;
    size_t  skip_to;			/* CIDR_OP_IF: index after endif */
} CIDR_RULE;

typedef struct DICT_CIDR {
    DICT    dict;
    CIDR_RULE *rules;
    size_t  count;
    size_t  cap;
} DICT_CIDR;

typedef struct CIDR_PARSE {
    DICT_CIDR *dc;
    const char *map;
    int     lineno;
    size_t *open_ifs;
    size_t  depth;
    size_t  depth_cap;
    char   *error;
} CIDR_PARSE;

/* cidr_addr - text to binary address; 0 if not an address */

static int cidr_addr(const char *text, unsigned char *addr, int *family)
{
    *family = strchr(text, ':') ? AF_INET6 : AF_INET;
    memset(addr, 0, 16);
    return (inet_pton(*family, text, addr) == 1);
}

static int cidr_prefix_match(const unsigned char *a, const unsigned char *net,
			             int prefix)
{
    int     bytes = prefix / 8;
    int     bits = prefix % 8;

    if (memcmp(a, net, bytes) != 0)
	return (0);
    if (bits == 0)
	return (1);
    return (((a[bytes] ^ net[bytes]) & (0xff << (8 - bits)) & 0xff) == 0);
}

/*
 * cidr_pattern - parse "[!]addr[/len]" into rule; 0 after a warning when
 * the rule must be skipped.
 */
static int cidr_pattern(CIDR_PARSE *cp, const char *text, CIDR_RULE *rule)
{
    VSTRING *pat = vstring_alloc(100);
    char   *addr;
    char   *mask;
    char   *close;
    int     bits;
    int     ok = 0;
    unsigned char masked[16];
    char    buf[INET6_ADDRSTRLEN];

    rule->negate = 0;
    while (*text == '!') {
	rule->negate = !rule->negate;
	text++;
    }
    /* "[addr]/len" is "addr/len"; messages show it without brackets. */
    if (*text == '[') {
	if ((close = strchr(text, ']')) == 0) {
	    msg_warn("cidr map %s, line %d: missing ']' character after \"%s\": "
		     "skipping this rule", cp->map, cp->lineno, dict_printable(text));
	    vstring_free(pat);
	    return (0);
	}
	if (close[1] != 0 && close[1] != '/') {
	    vstring_strncpy(pat, text, close - text + 1);
	    msg_warn("cidr map %s, line %d: garbage after \"%s\": "
		     "skipping this rule", cp->map, cp->lineno,
		     dict_printable(vstring_str(pat)));
	    vstring_free(pat);
	    return (0);
	}
	vstring_strncpy(pat, text + 1, close - text - 1);
	vstring_strcat(pat, close + 1);
    } else {
	vstring_strcpy(pat, text);
    }
    addr = mystrdup(vstring_str(pat));
    if ((mask = strchr(addr, '/')) != 0) {
	*mask++ = 0;
	if (!alldig(mask) || strlen(mask) > 3) {
	    msg_warn("cidr map %s, line %d: bad mask value in \"%s\": "
		     "skipping this rule", cp->map, cp->lineno, dict_printable(vstring_str(pat)));
	    goto done;
	}
	/* As Postfix: the mask length is checked before the address. */
	bits = strchr(addr, ':') ? 128 : 32;
	rule->prefix = atoi(mask);
	if (rule->prefix > bits) {
	    msg_warn("cidr map %s, line %d: bad mask length in \"%s\": "
		     "skipping this rule", cp->map, cp->lineno, dict_printable(vstring_str(pat)));
	    goto done;
	}
	if (!cidr_addr(addr, rule->net, &rule->family)) {
	    msg_warn("cidr map %s, line %d: bad network value in \"%s\": "
		     "skipping this rule", cp->map, cp->lineno, dict_printable(vstring_str(pat)));
	    goto done;
	}
	memset(masked, 0, sizeof(masked));
	memcpy(masked, rule->net, rule->prefix / 8);
	if (rule->prefix % 8)
	    masked[rule->prefix / 8] = rule->net[rule->prefix / 8]
		& (0xff << (8 - rule->prefix % 8));
	if (memcmp(masked, rule->net, 16) != 0) {
	    inet_ntop(rule->family, masked, buf, sizeof(buf));
	    msg_warn("cidr map %s, line %d: non-null host address bits in "
		     "\"%s\", perhaps you should use \"%s/%d\" instead: "
		     "skipping this rule", cp->map, cp->lineno,
		     dict_printable(vstring_str(pat)), buf, rule->prefix);
	    goto done;
	}
    } else {
	if (!cidr_addr(addr, rule->net, &rule->family)) {
	    msg_warn("cidr map %s, line %d: bad address pattern: \"%s\": "
		     "skipping this rule", cp->map, cp->lineno, dict_printable(vstring_str(pat)));
	    goto done;
	}
	rule->prefix = rule->family == AF_INET ? 32 : 128;
    }
    ok = 1;
done:
    myfree(addr);
    vstring_free(pat);
    return (ok);
}

static CIDR_RULE *cidr_add(CIDR_PARSE *cp, CIDR_RULE *proto)
{
    DICT_CIDR *dc = cp->dc;

    if (dc->count >= dc->cap) {
	dc->cap = dc->cap ? 2 * dc->cap : 16;
	dc->rules = myrealloc(dc->rules, dc->cap * sizeof(CIDR_RULE));
    }
    dc->rules[dc->count] = *proto;
    dc->rules[dc->count].lineno = cp->lineno;
    return (dc->rules + dc->count++);
}

static void cidr_parse_line(CIDR_PARSE *cp, char *line)
{
    CIDR_RULE rule;
    char   *pattern;
    char   *result;

    memset(&rule, 0, sizeof(rule));
    if (strncasecmp(line, "if", 2) == 0 && !isalnum((unsigned char) line[2])) {
	for (pattern = line + 2; isspace((unsigned char) *pattern); pattern++)
	     /* void */ ;
	if (!cidr_pattern(cp, pattern, &rule))
	    return;
	rule.op = CIDR_OP_IF;
	(void) cidr_add(cp, &rule);
	if (cp->depth >= cp->depth_cap) {
	    cp->depth_cap = cp->depth_cap ? 2 * cp->depth_cap : 8;
	    cp->open_ifs = myrealloc(cp->open_ifs, cp->depth_cap * sizeof(size_t));
	}
	cp->open_ifs[cp->depth++] = cp->dc->count - 1;
	return;
    }
    if (strncasecmp(line, "endif", 5) == 0 && !isalnum((unsigned char) line[5])) {
	if (cp->depth == 0) {
	    msg_warn("cidr map %s, line %d: ENDIF without IF: skipping this rule",
		     cp->map, cp->lineno);
	    return;
	}
	rule.op = CIDR_OP_ENDIF;
	(void) cidr_add(cp, &rule);
	cp->dc->rules[cp->open_ifs[--cp->depth]].skip_to = cp->dc->count;
	return;
    }
    if (*line == 0) {
	msg_warn("cidr map %s, line %d: no address pattern: skipping this rule",
		 cp->map, cp->lineno);
	return;
    }
    pattern = line;
    result = line + strcspn(line, " \t\r\n\v\f");
    if (*result)
	*result++ = 0;
    while (isspace((unsigned char) *result))
	result++;
    if (!cidr_pattern(cp, pattern, &rule))
	return;
    if (*result == 0) {
	msg_warn("cidr map %s, line %d: no lookup result: skipping this rule",
		 cp->map, cp->lineno);
	return;
    }
    rule.op = CIDR_OP_MATCH;
    rule.result = mystrdup(result);
    (void) cidr_add(cp, &rule);
}

static const char *dict_cidr_get(DICT *d, const char *key)
{
    DICT_CIDR *dc = (DICT_CIDR *) d;
    unsigned char addr[16];
    int     family;
    CIDR_RULE *rule;
    size_t  i = 0;
    int     m;

    if (!cidr_addr(key, addr, &family))
	return (0);
    while (i < dc->count) {
	rule = dc->rules + i;
	if (rule->op == CIDR_OP_ENDIF) {
	    i++;
	    continue;
	}
	m = rule->family == family
	    && cidr_prefix_match(addr, rule->net, rule->prefix) != rule->negate;
	if (rule->op == CIDR_OP_IF)
	    i = m ? i + 1 : rule->skip_to;
	else if (m)
	    return (rule->result);
	else
	    i++;
    }
    return (0);
}

static void dict_cidr_close(DICT *d)
{
    DICT_CIDR *dc = (DICT_CIDR *) d;

    for (size_t i = 0; i < dc->count; i++)
	if (dc->rules[i].result)
	    myfree(dc->rules[i].result);
    if (dc->rules)
	myfree(dc->rules);
    dict_free(d);
}

DICT   *dict_cidr_open(const char *name, int open_flags, int dict_flags)
{
    CIDR_PARSE parse;
    DICT_CIDR *dc;
    DICT_RULES *rules;
    VSTRING *line = vstring_alloc(100);
    DICT   *d;

    (void) open_flags;
    memset(&parse, 0, sizeof(parse));
    parse.map = name;
    if ((rules = dict_rules_open("cidr", name, line)) == 0) {
	d = dict_surrogate("cidr", name, dict_flags, "%s", vstring_str(line));
	if (name[0] != '{')
	    dict_watch_file(d, name);
	vstring_free(line);
	return (d);
    }
    dc = (DICT_CIDR *) dict_alloc("cidr", name, sizeof(DICT_CIDR));
    if (name[0] != '{')
	dict_watch_file(&dc->dict, name);
    parse.dc = dc;
    while (dict_rules_next(rules, line, &parse.lineno))
	cidr_parse_line(&parse, vstring_str(line));
    if (dict_rules_error(rules) && parse.error == 0) {
	vstring_sprintf(line, "read %s: %s", name, strerror(errno));
	parse.error = mystrdup(vstring_str(line));
    }
    vstring_free(line);
    dict_rules_close(rules);
    dc->dict.flags = dict_flags | DICT_FLAG_PATTERN;
    dc->dict.get = dict_cidr_get;
    dc->dict.close = dict_cidr_close;
    if (parse.depth > 0 && parse.error == 0) {
	VSTRING *why = vstring_alloc(100);

	vstring_sprintf(why, "cidr map %s, line %d: IF has no matching ENDIF",
			name, dc->rules[parse.open_ifs[parse.depth - 1]].lineno);
	parse.error = vstring_export(why);
    }
    if (parse.open_ifs)
	myfree(parse.open_ifs);
    if (parse.error) {
	d = dict_surrogate("cidr", name, dict_flags, "%s", parse.error);
	dict_surrogate_temporary(d);
	if (dc->dict.file)
	    dict_watch_file(d, dc->dict.file);
	myfree(parse.error);
	dict_cidr_close(&dc->dict);
	return (d);
    }
    return (&dc->dict);
}
