/*
 * NAME
 *	mail_addr - RFC 5321 envelope addresses: parse, quote, split, check
 * DESCRIPTION
 *	See mail_addr.h. The parser is a small RFC 822 tokenizer (atoms,
 *	quoted strings, domain literals, comments, the specials that
 *	matter here) followed by the checks Postfix's smtpd applies to
 *	the MAIL FROM / RCPT TO argument. Every loop is bounded by the
 *	input; nothing is written except through VSTRING.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_addr.h"

/* Token types of the small RFC 822 tokenizer. */
#define TOK_END		0
#define TOK_TEXT	1		/* special character: verbatim */
#define TOK_QSTRING	2		/* quoted string, value unquoted */
#define TOK_COMMENT	3
#define TOK_ATOM	4
#define TOK_LITERAL	5		/* [domain literal], verbatim */
#define TOK_LT		'<'
#define TOK_GT		'>'
#define TOK_COMMA	','
#define TOK_SEMI	';'
#define TOK_ERROR	(-1)		/* unterminated quoted string */

#define IS_WORD(t)	((t) == TOK_ATOM || (t) == TOK_QSTRING || (t) == TOK_LITERAL)

#define IS_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

/* next_token - read one token from *cpp, its value into val */

static int next_token(const char **cpp, VSTRING *val)
{
    const char *cp = *cpp;
    int     depth;

    vstring_reset(val);
    while (IS_SPACE(*cp))
	cp++;
    if (*cp == 0) {
	*cpp = cp;
	return (TOK_END);
    }
    switch (*cp) {
    case '<':
    case '>':
    case ',':
    case ';':
	*cpp = cp + 1;
	return (*cp);
    case '"':
	for (cp++; *cp && *cp != '"'; cp++) {
	    if (*cp == '\\') {
		if (cp[1] == 0)
		    break;
		cp++;
	    }
	    vstring_addch(val, *cp);
	}
	if (*cp != '"') {
	    *cpp = cp;
	    return (TOK_ERROR);
	}
	*cpp = cp + 1;
	return (TOK_QSTRING);
    case '(':
	for (depth = 0; *cp; cp++) {
	    if (*cp == '\\') {
		if (cp[1] == 0)
		    break;
		cp++;
	    } else if (*cp == '(') {
		depth++;
	    } else if (*cp == ')' && --depth == 0) {
		break;
	    }
	}
	/* Like Postfix, an unterminated comment runs to the end. */
	*cpp = (*cp == ')' ? cp + 1 : cp);
	return (TOK_COMMENT);
    case '[':
	/* A domain literal is kept as written, brackets included. */
	for (; *cp && *cp != ']'; cp++) {
	    if (*cp == '\\' && cp[1] != 0)
		vstring_addch(val, *cp++);
	    vstring_addch(val, *cp);
	}
	/* Like Postfix, an unterminated literal is closed at the end. */
	vstring_addch(val, ']');
	*cpp = (*cp == ']' ? cp + 1 : cp);
	return (TOK_LITERAL);
    case '@':
    case ':':
    case '.':
    case ')':
    case ']':
	vstring_addch(val, *cp);
	*cpp = cp + 1;
	return (TOK_TEXT);
    default:
	/* An atom; a backslash outside quotes escapes one character. */
	while (*cp && !IS_SPACE(*cp) && strchr("<>,\"()[]@:;.", *cp) == 0) {
	    if (*cp == '\\' && cp[1] != 0)
		cp++;
	    vstring_addch(val, *cp++);
	}
	*cpp = cp;
	return (TOK_ATOM);
    }
}

/* valid_utf8 - well-formed UTF-8, no overlong forms or surrogates */

static int valid_utf8(const unsigned char *cp, size_t len)
{
    const unsigned char *end = cp + len;

    while (cp < end) {
	unsigned c = *cp;
	size_t  n;
	unsigned long cp_val;

	if (c < 0x80) {
	    cp++;
	    continue;
	}
	if (c >= 0xc2 && c <= 0xdf)
	    n = 1, cp_val = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
	    n = 2, cp_val = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
	    n = 3, cp_val = c & 0x07;
	else
	    return (0);
	if ((size_t) (end - cp) <= n)
	    return (0);
	for (size_t i = 1; i <= n; i++) {
	    if ((cp[i] & 0xc0) != 0x80)
		return (0);
	    cp_val = (cp_val << 6) | (cp[i] & 0x3f);
	}
	if ((n == 2 && (cp_val < 0x800 || (cp_val >= 0xd800 && cp_val <= 0xdfff)))
	    || (n == 3 && (cp_val < 0x10000 || cp_val > 0x10ffff)))
	    return (0);
	cp += n + 1;
    }
    return (1);
}

/* hostname_check - valid_hostname(), optionally with 8-bit labels */

static int hostname_check(const char *name, int allow_8bit)
{
    const unsigned char *cp;
    size_t  label_len = 0;
    int     non_numeric = 0;

    if (name == 0 || *name == 0 || strlen(name) > MAIL_ADDR_DOMAIN_MAX)
	return (0);
    for (cp = (const unsigned char *) name; /* void */ ; cp++) {
	unsigned c = *cp;

	if (c == '.' || c == 0) {
	    if (label_len == 0 || cp[-1] == '-')
		return (0);
	    if (c == 0)
		break;
	    label_len = 0;
	    continue;
	}
	if (c >= '0' && c <= '9') {
	    /* digits alone do not make a host name */
	} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
		   || (allow_8bit && c >= 0x80)) {
	    non_numeric = 1;
	} else if (c == '-') {
	    if (label_len == 0)
		return (0);
	    non_numeric = 1;
	} else {
	    return (0);
	}
	if (++label_len > MAIL_ADDR_LABEL_MAX)
	    return (0);
    }
    return (non_numeric);
}

int     valid_hostname(const char *name)
{
    return (hostname_check(name, 0));
}

int     valid_ipv4_addr(const char *text)
{
    int     octets = 0;
    int     value = -1;			/* -1: no digit in this octet yet */
    int     first = -1;

    /* Dotted quad, 0..255 each, as Postfix checks it: "0.1.2.3" is not. */
    for (const char *cp = text; /* void */ ; cp++) {
	if (*cp >= '0' && *cp <= '9') {
	    value = (value < 0 ? 0 : value * 10) + (*cp - '0');
	    if (value > 255)
		return (0);
	} else if (*cp == '.' || *cp == 0) {
	    if (value < 0 || ++octets > 4)
		return (0);
	    if (octets == 1)
		first = value;
	    if (*cp == 0)
		break;
	    value = -1;
	} else {
	    return (0);
	}
    }
    return (octets == 4 && (first != 0 || text[strspn(text, "0.")] == 0));
}

int     valid_ipv6_addr(const char *text)
{
    struct in6_addr a;

    return (strchr(text, ':') != 0 && strlen(text) < 64
	    && inet_pton(AF_INET6, text, &a) == 1);
}

int     valid_ip_literal(const char *text)
{
    size_t  len = strlen(text);
    char   *inner;
    int     ok;

    if (len < 3 || text[0] != '[' || text[len - 1] != ']')
	return (0);
    inner = mystrndup(text + 1, len - 2);
    if (strncasecmp(inner, "IPv6:", 5) == 0)
	ok = valid_ipv6_addr(inner + 5);
    else
	ok = valid_ipv4_addr(inner);
    myfree(inner);
    return (ok);
}

/*
 * addr_select - the address of an argument whose outer brackets and
 * source route are gone. The argument is read as segments separated by
 * "," or ";"; in each, the text inside "<...>" is the address when there
 * is such a pair, else the whole segment is. As in Postfix, two words in
 * a row ("us er", "a"b, a(c)b) do not make an address, an unclosed "<"
 * is an error and a stray ">" is ignored. The first segment's address
 * goes into addr; *non_addr counts what is not address text (comments,
 * separators, phrases outside "<...>"). Returns MAIL_ADDR_OK,
 * MAIL_ADDR_ERR_SYNTAX or MAIL_ADDR_ERR_MULTIPLE.
 */
static int addr_select(const char *cp, VSTRING *addr, int *non_addr)
{
    VSTRING *tok = vstring_alloc(64);
    VSTRING *outside = vstring_alloc(64);	/* segment text outside <> */
    VSTRING *inside = vstring_alloc(64);	/* segment text inside <> */
    int     naddr = 0;
    int     in_angle = 0;
    int     open_angles = 0;
    int     seen_angle = 0;
    int     outside_tokens = 0;
    int     prev_word_in = 0;		/* last token inside <> was a word */
    int     prev_word_out = 0;
    int     adjacent_out = 0;		/* two words in a row outside <> */
    int     err = MAIL_ADDR_OK;
    int     type;

    for (;;) {
	type = next_token(&cp, tok);
	if (type == TOK_ERROR) {
	    err = MAIL_ADDR_ERR_SYNTAX;
	    break;
	}
	if (type == TOK_END || type == TOK_COMMA || type == TOK_SEMI) {
	    if (seen_angle) {
		naddr++;
		if (outside_tokens)
		    (*non_addr)++;
		if (naddr == 1)
		    vstring_memcpy(addr, vstring_str(inside), vstring_len(inside));
	    } else if (outside_tokens) {
		naddr++;
		if (adjacent_out) {
		    err = MAIL_ADDR_ERR_SYNTAX;
		    break;
		}
		if (naddr == 1)
		    vstring_memcpy(addr, vstring_str(outside), vstring_len(outside));
	    }
	    if (type == TOK_END)
		break;
	    (*non_addr)++;			/* the separator itself */
	    vstring_reset(inside);
	    vstring_reset(outside);
	    seen_angle = in_angle = outside_tokens = 0;
	    prev_word_in = prev_word_out = adjacent_out = 0;
	    continue;
	}
	if (type == TOK_LT) {
	    if (!seen_angle)
		vstring_reset(inside);
	    seen_angle = in_angle = 1;
	    open_angles++;
	    prev_word_in = 0;
	    continue;
	}
	if (type == TOK_GT) {
	    if (open_angles > 0)
		open_angles--;
	    in_angle = 0;
	    prev_word_out = 0;
	    continue;
	}
	if (type == TOK_COMMENT) {
	    (*non_addr)++;
	    continue;
	}
	if (in_angle) {
	    if (IS_WORD(type) && prev_word_in) {
		err = MAIL_ADDR_ERR_SYNTAX;
		break;
	    }
	    prev_word_in = IS_WORD(type);
	    vstring_memcat(inside, vstring_str(tok), vstring_len(tok));
	} else {
	    if (IS_WORD(type) && prev_word_out)
		adjacent_out = 1;
	    prev_word_out = IS_WORD(type);
	    vstring_memcat(outside, vstring_str(tok), vstring_len(tok));
	    outside_tokens++;
	}
    }
    if (err == MAIL_ADDR_OK && open_angles > 0)
	err = MAIL_ADDR_ERR_SYNTAX;
    if (err == MAIL_ADDR_OK && naddr > 1)
	err = MAIL_ADDR_ERR_MULTIPLE;
    vstring_free(tok);
    vstring_free(outside);
    vstring_free(inside);
    return (err);
}

/*
 * addr_check_domain - the text after the last "@" of a non-empty address
 * must be a host name or an address literal; a trailing dot of the
 * domain is removed first ("user@example.com." is "user@example.com", as
 * in Postfix). With MAIL_ADDR_FLAG_RFC_LENGTHS, local part and domain
 * are held to RFC 5321's sizes. An address without "@" passes.
 */
static int addr_check_domain(VSTRING *addr, int flags)
{
    const char *a = vstring_str(addr);
    size_t  alen = vstring_len(addr);
    const char *at;
    size_t  dlen;

    if (strrchr(a, '@') == 0)
	return (MAIL_ADDR_OK);
    if (alen > 2 && a[alen - 1] == '.' && a[alen - 2] != '.' && a[alen - 2] != '@')
	vstring_truncate(addr, --alen);
    a = vstring_str(addr);
    at = strrchr(a, '@');
    dlen = alen - (size_t) (at + 1 - a);
    if (dlen == 0)
	return (MAIL_ADDR_ERR_DOMAIN);
    if (at[1] == '[' ? !valid_ip_literal(at + 1)
	: !hostname_check(at + 1, (flags & MAIL_ADDR_FLAG_UTF8) != 0))
	return (MAIL_ADDR_ERR_DOMAIN);
    if ((flags & MAIL_ADDR_FLAG_RFC_LENGTHS)
	&& ((size_t) (at - a) > MAIL_ADDR_LOCAL_MAX || dlen > MAIL_ADDR_DOMAIN_MAX))
	return (MAIL_ADDR_ERR_LENGTH);
    return (MAIL_ADDR_OK);
}

/*
 * addr_check - the checks on the selected address: empty only where
 * allowed, no control characters, valid UTF-8 when asked, a usable
 * domain, and with MAIL_ADDR_FLAG_RFC_LENGTHS RFC 5321's path size.
 */
static int addr_check(VSTRING *addr, int flags)
{
    const char *a = vstring_str(addr);
    size_t  alen = vstring_len(addr);
    int     err;

    if (alen == 0)
	return ((flags & MAIL_ADDR_FLAG_EMPTY_OK) ? MAIL_ADDR_OK : MAIL_ADDR_ERR_EMPTY);
    for (size_t i = 0; i < alen; i++) {
	unsigned char c = a[i];

	if (c < 0x20 || c == 0x7f)
	    return (MAIL_ADDR_ERR_CHARS);
    }
    if ((flags & MAIL_ADDR_FLAG_UTF8) && !valid_utf8((const unsigned char *) a, alen))
	return (MAIL_ADDR_ERR_CHARS);
    if ((err = addr_check_domain(addr, flags)) != MAIL_ADDR_OK)
	return (err);
    if (flags & MAIL_ADDR_FLAG_RFC_LENGTHS) {
	VSTRING *ext;

	a = vstring_str(addr);
	alen = vstring_len(addr);
	ext = vstring_alloc(alen + 2);
	/* The path is the quoted form with its angle brackets. */
	mail_addr_externalize(ext, a);
	if (vstring_len(ext) + 2 > MAIL_ADDR_PATH_MAX
	    || (strrchr(a, '@') == 0 && alen > MAIL_ADDR_LOCAL_MAX))
	    err = MAIL_ADDR_ERR_LENGTH;
	vstring_free(ext);
    }
    return (err);
}

/* mail_addr_parse - MAIL FROM / RCPT TO argument to internal form */

int     mail_addr_parse(const char *arg, int flags, VSTRING *addr)
{
    char   *text;
    const char *cp;
    const char *colon;
    size_t  len = strlen(arg);
    int     non_addr = 0;
    int     err;

    vstring_reset(addr);

    /* Outer brackets first, then the deprecated source route(s). */
    if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>')
	text = mystrndup(arg + 1, len - 2);
    else
	text = mystrdup(arg);
    cp = text;
    while (*cp == '@' && (colon = strchr(cp, ':')) != 0)
	cp = colon + 1;

    err = addr_select(cp, addr, &non_addr);
    if (err == MAIL_ADDR_OK && (flags & MAIL_ADDR_FLAG_STRICT)
	&& (non_addr > 0 || arg[0] != '<' || vstring_str(addr)[0] == '@'))
	err = MAIL_ADDR_ERR_STRICT;
    if (err == MAIL_ADDR_OK)
	err = addr_check(addr, flags);
    if (err != MAIL_ADDR_OK)
	vstring_reset(addr);
    myfree(text);
    return (err);
}

const char *mail_addr_strerror(int err)
{
    switch (err) {
    case MAIL_ADDR_OK:
	return ("ok");
    case MAIL_ADDR_ERR_SYNTAX:
	return ("malformed address");
    case MAIL_ADDR_ERR_EMPTY:
	return ("empty address");
    case MAIL_ADDR_ERR_MULTIPLE:
	return ("more than one address");
    case MAIL_ADDR_ERR_DOMAIN:
	return ("malformed domain");
    case MAIL_ADDR_ERR_CHARS:
	return ("invalid character");
    case MAIL_ADDR_ERR_LENGTH:
	return ("address too long");
    case MAIL_ADDR_ERR_STRICT:
	return ("not an RFC 821 path");
    default:
	return ("unknown error");
    }
}

/* mail_addr_internalize - remove RFC 822 quoting */

void    mail_addr_internalize(VSTRING *out, const char *external)
{
    VSTRING *tok = vstring_alloc(64);
    const char *cp = external;
    int     type;

    vstring_reset(out);
    while ((type = next_token(&cp, tok)) != TOK_END) {
	if (type == TOK_ERROR) {
	    /* Unterminated: keep the rest as it is. */
	    vstring_memcat(out, vstring_str(tok), vstring_len(tok));
	    break;
	}
	if (type == TOK_COMMENT)
	    continue;
	if (type == TOK_LT || type == TOK_GT || type == TOK_COMMA || type == TOK_SEMI)
	    vstring_addch(out, type);
	else
	    vstring_memcat(out, vstring_str(tok), vstring_len(tok));
    }
    vstring_free(tok);
}

/* mail_addr_needs_quote - is a local part other than a dot-atom? */

int     mail_addr_needs_quote(const char *local, size_t len)
{
    static const char atext_specials[] = "!#$%&'*+-/=?^_`{|}~";

    if (len == 0 || local[0] == '.' || local[len - 1] == '.')
	return (1);
    for (size_t i = 0; i < len; i++) {
	unsigned char c = local[i];

	if (c == '.') {
	    if (local[i + 1] == '.')
		return (1);
	} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		     || (c >= '0' && c <= '9') || c >= 0x80
		     || (c != 0 && strchr(atext_specials, c) != 0))) {
	    return (1);
	}
    }
    return (0);
}

/* mail_addr_externalize - quote the local part when needed */

void    mail_addr_externalize(VSTRING *out, const char *internal)
{
    const char *at = strrchr(internal, '@');
    size_t  local_len = at ? (size_t) (at - internal) : strlen(internal);

    vstring_reset(out);
    if (*internal == 0)
	return;
    if (mail_addr_needs_quote(internal, local_len)) {
	vstring_addch(out, '"');
	for (size_t i = 0; i < local_len; i++) {
	    if (internal[i] == '"' || internal[i] == '\\')
		vstring_addch(out, '\\');
	    vstring_addch(out, internal[i]);
	}
	vstring_addch(out, '"');
    } else {
	vstring_memcat(out, internal, local_len);
    }
    if (at)
	vstring_strcat(out, at);
}

/* mail_addr_split - internal form at the last @ */

int     mail_addr_split(const char *addr, VSTRING *local, VSTRING *domain)
{
    const char *at = strrchr(addr, '@');

    if (local)
	vstring_memcpy(local, addr, at ? (size_t) (at - addr) : strlen(addr));
    if (domain)
	vstring_strcpy(domain, at ? at + 1 : "");
    return (at != 0);
}

/* mail_addr_rightmost_at - last @ of an external form outside quotes */

const char *mail_addr_rightmost_at(const char *ext)
{
    const char *last = 0;
    int     quoted = 0;
    int     bracket = 0;

    for (const char *cp = ext; *cp; cp++) {
	if (*cp == '\\' && (quoted || bracket)) {
	    if (cp[1] == 0)
		break;
	    cp++;
	} else if (*cp == '"' && !bracket) {
	    quoted = !quoted;
	} else if (quoted) {
	    /* void */ ;
	} else if (*cp == '[') {
	    bracket = 1;
	} else if (*cp == ']') {
	    bracket = 0;
	} else if (*cp == '@' && !bracket) {
	    last = cp;
	}
    }
    return (last);
}

char   *mail_addr_lowercase_domain(char *addr)
{
    char   *at = strrchr(addr, '@');

    if (at)
	for (char *cp = at + 1; *cp; cp++)
	    if (*cp >= 'A' && *cp <= 'Z')
		*cp += 'a' - 'A';
    return (addr);
}

/* mail_addr_split_ext - user+ext at the first delimiter */

int     mail_addr_split_ext(const char *local, const char *delims,
			            VSTRING *user, VSTRING *ext)
{
    const char *pos = 0;
    size_t  len = strlen(local);

    if (delims && *delims && strcasecmp(local, "postmaster") != 0)
	pos = strpbrk(local, delims);
    if (pos == local)
	pos = 0;
    if (pos && strchr(delims, '-')
	&& (strncasecmp(local, "owner-", 6) == 0
	    || (len > 8 && strcasecmp(local + len - 8, "-request") == 0)))
	pos = 0;
    if (user)
	vstring_memcpy(user, local, pos ? (size_t) (pos - local) : len);
    if (ext)
	vstring_strcpy(ext, pos ? pos + 1 : "");
    return (pos ? (unsigned char) *pos : 0);
}

int     mail_addr_strip_ext(const char *addr, const char *delims, VSTRING *out)
{
    VSTRING *local = vstring_alloc(64);
    VSTRING *user = vstring_alloc(64);
    const char *at = strrchr(addr, '@');
    int     found;

    vstring_memcpy(local, addr, at ? (size_t) (at - addr) : strlen(addr));
    found = mail_addr_split_ext(vstring_str(local), delims, user, 0);
    vstring_memcpy(out, vstring_str(user), vstring_len(user));
    if (at)
	vstring_strcat(out, at);
    vstring_free(local);
    vstring_free(user);
    return (found != 0);
}

/* mail_addr_routing - what in the local part asks for more routing */

int     mail_addr_routing(const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t  len = at ? (size_t) (at - addr) : strlen(addr);
    int     what = 0;

    for (size_t i = 0; i < len; i++) {
	if (addr[i] == '@')
	    what |= MAIL_ADDR_ROUTE_AT;
	else if (addr[i] == '%')
	    what |= MAIL_ADDR_ROUTE_PERCENT;
	else if (addr[i] == '!')
	    what |= MAIL_ADDR_ROUTE_BANG;
    }
    return (what);
}
