/*
 * NAME
 *	match_list - main.cf lists of domains and of client networks
 * DESCRIPTION
 *	See match_list.h. A list is parsed once into an array of items;
 *	/file/name items are expanded in place, type:table items are
 *	opened, networks are converted to binary. An item that cannot be
 *	used (unreadable file, malformed network, "!" alone) is kept as an
 *	error item, so a search that reaches it answers -1 (temporary
 *	failure) while the items before it still work.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dict/match_list.h"

#define ITEM_LITERAL	1
#define ITEM_TABLE	2
#define ITEM_ERROR	3

#define NET_NONE	0		/* not address-like: a name */
#define NET_OK		1		/* address or net/mask */
#define NET_BAD		2		/* address-like but malformed */

#define MAX_FILE_DEPTH	10		/* /file/name inside /file/name ... */
#define MAX_LINE	100000		/* one logical line of a list file */

typedef struct MATCH_ITEM {
    int     negate;
    int     kind;			/* ITEM_* */
    char   *text;			/* pattern (folded), table, or why */
    DICT   *dict;			/* ITEM_TABLE */
    int     net;			/* NET_*, for ITEM_LITERAL */
    int     family;			/* AF_INET, AF_INET6 */
    unsigned char bytes[16];
    int     bits;			/* prefix length */
} MATCH_ITEM;

struct MATCH_LIST {
    char   *name;			/* parameter name, for messages */
    int     parent;			/* bare domains match subdomains */
    MATCH_ITEM *items;
    size_t  count;
    size_t  cap;
    VSTRING *why;			/* reason of the last -1 */
};

/* add_item - append one item */

static MATCH_ITEM *add_item(MATCH_LIST *list, int negate, int kind, const char *text)
{
    MATCH_ITEM *item;

    if (list->count == list->cap) {
	list->cap = list->cap ? 2 * list->cap : 8;
	list->items = myrealloc(list->items, list->cap * sizeof(*list->items));
    }
    item = list->items + list->count++;
    memset(item, 0, sizeof(*item));
    item->negate = negate;
    item->kind = kind;
    item->text = mystrdup(text);
    return (item);
}

/* add_error - an item that fails every search that reaches it */

static void add_error(MATCH_LIST *list, int negate, const char *fmt, const char *arg,
		              const char *detail)
{
    VSTRING *why = vstring_alloc(64);

    vstring_sprintf(why, "%s: ", list->name);
    vstring_sprintf_append(why, fmt, arg, detail);
    msg_warn("%s", vstring_str(why));
    add_item(list, negate, ITEM_ERROR, vstring_str(why));
    vstring_free(why);
}

/* parse_net - "1.2.3.4", "1.2.3.0/24", "[::1]/128", "fd00::/64" */

static int parse_net(const char *pattern, MATCH_ITEM *item)
{
    VSTRING *addr = vstring_alloc(64);
    const char *slash = strchr(pattern, '/');
    const char *end = slash ? slash : pattern + strlen(pattern);
    const char *start = pattern;
    int     max_bits;
    int     ok = 0;

    if (*start == '[') {
	if (end - start < 2 || end[-1] != ']')
	    goto out;
	start++, end--;
    }
    vstring_memcpy(addr, start, (size_t) (end - start));
    if (strchr(vstring_str(addr), ':')) {
	item->family = AF_INET6;
	max_bits = 128;
    } else {
	item->family = AF_INET;
	max_bits = 32;
    }
    if (inet_pton(item->family, vstring_str(addr), item->bytes) != 1)
	goto out;
    item->bits = max_bits;
    if (slash) {
	if (!alldig(slash + 1) || strlen(slash + 1) > 3)
	    goto out;
	item->bits = atoi(slash + 1);
	if (item->bits > max_bits)
	    goto out;
	/* Postfix refuses host bits outside the mask (10.0.0.1/8). */
	for (int bit = item->bits; bit < max_bits; bit++)
	    if (item->bytes[bit / 8] & (0x80 >> (bit % 8)))
		goto out;
    }
    ok = 1;
out:
    vstring_free(addr);
    return (ok);
}

/* address_like - would Postfix read this pattern as an address? */

static int address_like(const char *pattern)
{
    return (pattern[strspn(pattern, "0123456789abcdefABCDEF.:[]/")] == 0
	    && (strchr(pattern, '/') != 0 || strchr(pattern, ':') != 0));
}

static void parse_text(MATCH_LIST *, char *, int, int);

/* parse_file - /file/name: the items of each logical line */

static void parse_file(MATCH_LIST *list, const char *path, int negate, int depth)
{
    VSTREAM *fp;
    VSTRING *line;
    VSTRING *logical;
    int     status;

    if (depth >= MAX_FILE_DEPTH) {
	add_error(list, negate, "%s: files nested too deep%s", path, "");
	return;
    }
    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	add_error(list, negate, "open file %s: %s", path, strerror(errno));
	return;
    }
    line = vstring_alloc(100);
    logical = vstring_alloc(100);
    for (;;) {
	status = vstream_get_line(fp, line, MAX_LINE);
	if (status == VSTREAM_EOF || (status != VSTREAM_LINE && status != VSTREAM_PARTIAL
				      && status != VSTREAM_LONG))
	    break;
	if (status == VSTREAM_LONG) {
	    /* Skip the rest of an absurd line; its items may be cut. */
	    msg_warn("%s: %s: line longer than %d bytes, truncated",
		     list->name, path, MAX_LINE);
	    while (vstream_get_line(fp, line, MAX_LINE) == VSTREAM_LONG)
		 /* void */ ;
	    vstring_reset(line);
	}
	/* A line that starts with white space continues the logical line. */
	if (vstring_len(line) > 0 && strchr(" \t", vstring_str(line)[0])) {
	    const char *cp = vstring_str(line) + strspn(vstring_str(line), " \t\r");

	    if (*cp == '#' || *cp == 0)
		continue;
	    vstring_addch(logical, ' ');
	    vstring_strcat(logical, vstring_str(line));
	    continue;
	}
	if (vstring_len(logical) > 0)
	    parse_text(list, vstring_str(logical), negate, depth + 1);
	vstring_reset(logical);
	if (vstring_str(line)[0] != '#')
	    vstring_strcpy(logical, vstring_str(line));
    }
    if (vstream_ferror(fp))
	add_error(list, negate, "read file %s: %s", path, strerror(errno));
    else if (vstring_len(logical) > 0)
	parse_text(list, vstring_str(logical), negate, depth + 1);
    vstream_close(fp);
    vstring_free(line);
    vstring_free(logical);
}

/* parse_text - the items of one list text; buf is modified */

static void parse_text(MATCH_LIST *list, char *buf, int negate, int depth)
{
    char   *bp = buf;
    char   *item;
    int     neg;
    MATCH_ITEM *it;

    while ((item = mystrtokq(&bp, LIST_DELIMS)) != 0) {
	for (neg = negate; *item == '!'; item++)
	    neg = !neg;
	if (*item == 0) {
	    add_error(list, neg, "no pattern after '!'%s%s", "", "");
	} else if (*item == '/') {
	    parse_file(list, item, neg, depth);
	} else if (*item != '[' && strchr(item, ':') != 0
		   && !(address_like(item) && parse_net(item, &(MATCH_ITEM) {0}))) {
	    it = add_item(list, neg, ITEM_TABLE, item);
	    it->dict = dict_open(item, O_RDONLY, DICT_FLAG_DEFAULT);
	    if (it->dict->error != DICT_ERR_NONE)
		/* Lookups will fail with a temporary error; say why now. */
		msg_warn("%s: %s: %s", list->name, item, dict_error_text(it->dict) ?
			 dict_error_text(it->dict) : "table error");
	} else {
	    it = add_item(list, neg, ITEM_LITERAL, item);
	    lowercase(it->text);
	    if (parse_net(it->text, it))
		it->net = NET_OK;
	    else if (address_like(it->text))
		it->net = NET_BAD;
	}
    }
}

MATCH_LIST *match_list_create(const char *param_name, const char *text, int flags)
{
    MATCH_LIST *list = mymalloc(sizeof(*list));
    char   *copy;

    list->name = mystrdup(param_name ? param_name : "match list");
    list->items = 0;
    list->count = list->cap = 0;
    list->why = vstring_alloc(64);
    list->parent = (flags & MATCH_LIST_PARENT) != 0;
    copy = mystrdup(text ? text : "");
    parse_text(list, copy, 0, 0);
    myfree(copy);
    return (list);
}

void    match_list_free(MATCH_LIST *list)
{
    for (size_t i = 0; i < list->count; i++) {
	if (list->items[i].dict)
	    dict_close(list->items[i].dict);
	myfree(list->items[i].text);
    }
    if (list->items)
	myfree(list->items);
    vstring_free(list->why);
    myfree(list->name);
    myfree(list);
}

int     match_list_changed(MATCH_LIST *list)
{
    for (size_t i = 0; i < list->count; i++)
	if (list->items[i].dict && dict_changed(list->items[i].dict))
	    return (1);
    return (0);
}

const char *match_list_error(MATCH_LIST *list)
{
    return (vstring_str(list->why));
}

/* item_error - -1, and why */

static int item_error(MATCH_LIST *list, MATCH_ITEM *item)
{
    if (item->kind == ITEM_ERROR)
	vstring_strcpy(list->why, item->text);
    else
	vstring_sprintf(list->why, "%s: %s: table lookup problem%s%s", list->name,
			item->text, item->dict && item->dict->error_text ? ": " : "",
		   item->dict && item->dict->error_text ? item->dict->error_text : "");
    return (-1);
}

/* table_lookup - 1 found, 0 not, -1 error */

static int table_lookup(MATCH_LIST *list, MATCH_ITEM *item, const char *key)
{
    if (dict_get(item->dict, key) != 0)
	return (1);
    if (item->dict->error != DICT_ERR_NONE)
	return (item_error(list, item));
    return (0);
}

/* match_name - one item against a (folded) host or domain name */

static int match_name(MATCH_LIST *list, MATCH_ITEM *item, const char *name)
{
    const char *entry;
    const char *next;
    size_t  nlen;
    size_t  plen;
    int     rc;

    if (item->kind == ITEM_TABLE) {
	for (entry = name; *entry; entry = next) {
	    if (entry == name || (item->dict->flags & DICT_FLAG_FIXED)) {
		if ((rc = table_lookup(list, item, entry)) != 0)
		    return (rc);
	    }
	    if ((next = strchr(entry + 1, '.')) == 0)
		break;
	    if (list->parent)
		next += 1;
	}
	return (0);
    }
    if (strcmp(name, item->text) == 0)
	return (1);
    nlen = strlen(name);
    plen = strlen(item->text);
    if (plen == 0 || plen >= nlen)
	return (0);
    if (list->parent)
	return (name[nlen - plen - 1] == '.' && strcmp(name + nlen - plen, item->text) == 0);
    if (item->text[0] == '.')
	return (strcmp(name + nlen - plen, item->text) == 0);
    return (0);
}

/* match_addr - one item against a client address */

static int match_addr(MATCH_LIST *list, MATCH_ITEM *item, const char *addr,
		              int family, const unsigned char *bytes)
{
    size_t  alen = strlen(addr);

    if (item->kind == ITEM_TABLE)
	return (table_lookup(list, item, addr));
    if (strcmp(addr, item->text) == 0)
	return (1);
    if (item->text[0] == '[' && strncmp(item->text + 1, addr, alen) == 0
	&& strcmp(item->text + 1 + alen, "]") == 0)
	return (1);
    if (item->net == NET_BAD && family != 0) {
	vstring_sprintf(list->why, "%s: bad net/mask pattern: \"%s\"",
			list->name, item->text);
	return (-1);
    }
    if (item->net != NET_OK || family == 0 || family != item->family)
	return (0);
    for (int bit = 0; bit < item->bits; bit += 8) {
	int     left = item->bits - bit;
	unsigned mask = left >= 8 ? 0xff : (0xff00 >> left) & 0xff;

	if ((bytes[bit / 8] & mask) != (item->bytes[bit / 8] & mask))
	    return (0);
    }
    return (1);
}

/* fold - lower-case copy of a search string */

static char *fold(const char *str)
{
    return (lowercase(mystrdup(str ? str : "")));
}

int     match_list_domain(MATCH_LIST *list, const char *domain)
{
    char   *name = fold(domain);
    int     rc = 0;

    vstring_reset(list->why);
    for (size_t i = 0; i < list->count; i++) {
	MATCH_ITEM *item = list->items + i;

	if (item->kind == ITEM_ERROR) {
	    rc = item_error(list, item);
	    break;
	}
	if ((rc = match_name(list, item, name)) != 0) {
	    if (rc > 0 && item->negate)
		rc = 0;
	    break;
	}
    }
    myfree(name);
    return (rc);
}

int     match_list_string(MATCH_LIST *list, const char *string)
{
    char   *key = fold(string);
    int     rc = 0;

    vstring_reset(list->why);
    for (size_t i = 0; i < list->count; i++) {
	MATCH_ITEM *item = list->items + i;

	if (item->kind == ITEM_ERROR) {
	    rc = item_error(list, item);
	    break;
	}
	if (item->kind == ITEM_TABLE)
	    rc = table_lookup(list, item, key);
	else
	    rc = (strcmp(key, item->text) == 0);
	if (rc != 0) {
	    if (rc > 0 && item->negate)
		rc = 0;
	    break;
	}
    }
    myfree(key);
    return (rc);
}

int     match_list_client(MATCH_LIST *list, const char *name, const char *addr)
{
    char   *fname = fold(name);
    char   *faddr = fold(addr);
    unsigned char bytes[16];
    int     family = 0;
    int     rc = 0;

    /* Compare an IPv4-mapped IPv6 client as IPv4, as Postfix sees it. */
    if (strncmp(faddr, "::ffff:", 7) == 0 && strchr(faddr + 7, '.') != 0)
	memmove(faddr, faddr + 7, strlen(faddr + 7) + 1);
    if (faddr[strspn(faddr, "0123456789abcdef.:")] != 0) {
	/* Not an address: match the name only (Postfix does the same). */
	faddr[0] = 0;
    } else if (strchr(faddr, ':')) {
	if (inet_pton(AF_INET6, faddr, bytes) == 1)
	    family = AF_INET6;
    } else if (inet_pton(AF_INET, faddr, bytes) == 1) {
	family = AF_INET;
    }
    vstring_reset(list->why);
    for (size_t i = 0; i < list->count; i++) {
	MATCH_ITEM *item = list->items + i;

	if (item->kind == ITEM_ERROR) {
	    rc = item_error(list, item);
	    break;
	}
	if (*fname)
	    rc = match_name(list, item, fname);
	if (rc == 0 && *faddr)
	    rc = match_addr(list, item, faddr, family, bytes);
	if (rc != 0) {
	    if (rc > 0 && item->negate)
		rc = 0;
	    break;
	}
    }
    myfree(fname);
    myfree(faddr);
    return (rc);
}
