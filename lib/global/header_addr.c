/*
 * NAME
 *	header_addr - the addresses in a message header, found and rewritten
 * DESCRIPTION
 *	See header_addr.h. The value is read once, left to right, as a
 *	sequence of RFC 5322 lexical tokens: specials, atoms, quoted
 *	strings, domain literals and (nested) comments. A mailbox ends at
 *	a top-level "," or at the ";" that closes a group; a ":" outside
 *	angle brackets ends a group's display name. Inside "<...>" the
 *	address follows the last ":" of a source route. Outside angle
 *	brackets the address is the mailbox's words joined by "." and "@";
 *	two words in a row mean a display name without an address, which
 *	is left alone.
 *
 *	Only the bytes of each replaced address change, so names,
 *	comments and line folding stay as the sender wrote them. (Postfix
 *	writes the whole header out again from its tokens, which may change
 *	the spacing around "," and ";".)
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_addr.h"
#include "global/header_addr.h"

int     header_addr_class(const char *name, size_t len)
{
    static const struct {
	const char *name;
	int     class;
    }       headers[] = {
	{"From", HEADER_ADDR_SENDER},
	{"Sender", HEADER_ADDR_SENDER},
	{"Reply-To", HEADER_ADDR_SENDER},
	{"Errors-To", HEADER_ADDR_SENDER},
	{"Return-Receipt-To", HEADER_ADDR_SENDER},
	{"Disposition-Notification-To", HEADER_ADDR_SENDER},
	{"Resent-From", HEADER_ADDR_SENDER},
	{"Resent-Sender", HEADER_ADDR_SENDER},
	{"Mail-Followup-To", HEADER_ADDR_SENDER},
	{"To", HEADER_ADDR_RECIPIENT},
	{"Cc", HEADER_ADDR_RECIPIENT},
	{"Bcc", HEADER_ADDR_RECIPIENT},
	{"Apparently-To", HEADER_ADDR_RECIPIENT},
	{"Resent-To", HEADER_ADDR_RECIPIENT},
	{"Resent-Cc", HEADER_ADDR_RECIPIENT},
	{"Resent-Bcc", HEADER_ADDR_RECIPIENT},
	{"Resent-Reply-To", HEADER_ADDR_RECIPIENT},
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
	if (strlen(headers[i].name) == len && strncasecmp(headers[i].name, name, len) == 0)
	    return (headers[i].class);
    return (0);
}

/* Token kinds. */
#define TOK_END		0
#define TOK_ATOM	1		/* atom, or a run of dots and atoms */
#define TOK_QSTRING	2		/* "..." */
#define TOK_DLITERAL	3		/* [...] */
#define TOK_COMMENT	4		/* (...) */
#define TOK_SPECIAL	5		/* one of the specials below */
#define TOK_SPACE	6		/* white space, CR, LF */

#define SPECIALS	"()<>@,;:\\\".[]"

typedef struct TOKEN {
    int     kind;
    int     ch;				/* TOK_SPECIAL: which */
    const char *start;
    const char *end;
} TOKEN;

/* next_token - the token at *cpp; advances *cpp */
static TOKEN next_token(const char **cpp)
{
    const char *cp = *cpp;
    TOKEN   t;

    t.start = cp;
    t.ch = 0;
    if (*cp == 0) {
	t.kind = TOK_END;
    } else if (*cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n') {
	while (*cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n')
	    cp++;
	t.kind = TOK_SPACE;
    } else if (*cp == '"') {
	for (cp++; *cp && *cp != '"'; cp++)
	    if (*cp == '\\' && cp[1])
		cp++;
	if (*cp == '"')
	    cp++;
	t.kind = TOK_QSTRING;
    } else if (*cp == '(') {
	int     level = 0;

	for (; *cp; cp++) {
	    if (*cp == '\\' && cp[1])
		cp++;
	    else if (*cp == '(')
		level++;
	    else if (*cp == ')' && --level == 0) {
		cp++;
		break;
	    }
	}
	t.kind = TOK_COMMENT;
    } else if (*cp == '[') {
	for (cp++; *cp && *cp != ']'; cp++)
	    if (*cp == '\\' && cp[1])
		cp++;
	if (*cp == ']')
	    cp++;
	t.kind = TOK_DLITERAL;
    } else if (strchr(SPECIALS, *cp)) {
	t.kind = TOK_SPECIAL;
	t.ch = *cp++;
    } else {
	while (*cp && !strchr(SPECIALS, *cp) && *cp != ' ' && *cp != '\t'
	       && *cp != '\r' && *cp != '\n')
	    cp++;
	t.kind = TOK_ATOM;
    }
    t.end = cp;
    *cpp = cp;
    return (t);
}

/* is_addr_part - a token that may be part of an addr-spec */
static int is_addr_part(const TOKEN *t)
{
    return (t->kind == TOK_ATOM || t->kind == TOK_QSTRING || t->kind == TOK_DLITERAL
	    || (t->kind == TOK_SPECIAL && (t->ch == '.' || t->ch == '@')));
}

/* is_word - an atom or quoted string (not a dot, @ or literal) */
static int is_word(const TOKEN *t)
{
    return (t->kind == TOK_ATOM || t->kind == TOK_QSTRING);
}

typedef struct REWRITE {
    HEADER_ADDR_FN fn;
    void   *context;
    VSTRING *out;			/* the new value, built as we go */
    const char *copied;			/* value copied to out up to here */
    VSTRING *external;			/* one address, as written */
    VSTRING *internal;
    VSTRING *result;
    int     changed;
    int     error;
} REWRITE;

/*
 * replace - one address: [start, end) holds it; the external form, with
 * comments and white space left out, is in rw->external.
 */
static void replace(REWRITE *rw, const char *start, const char *end)
{
    int     status;

    if (rw->error || vstring_len(rw->external) == 0)
	return;
    mail_addr_internalize(rw->internal, vstring_str(rw->external));
    if (vstring_len(rw->internal) == 0)
	return;
    vstring_reset(rw->result);
    if ((status = rw->fn(vstring_str(rw->internal), rw->result, rw->context)) < 0) {
	rw->error = 1;
	return;
    }
    if (status == 0)
	return;
    vstring_strncat(rw->out, rw->copied, start - rw->copied);
    mail_addr_externalize(rw->internal, vstring_str(rw->result));
    vstring_strcat(rw->out, vstring_str(rw->internal));
    rw->copied = end;
    rw->changed++;
}

/*
 * angle_addr - the address inside "<...>"; *cpp is just past "<". The
 * address follows the last ":" (a source route "@a,@b:" before it).
 */
static void angle_addr(REWRITE *rw, const char **cpp)
{
    const char *start = 0;
    const char *end = 0;
    TOKEN   t;

    vstring_reset(rw->external);
    for (;;) {
	t = next_token(cpp);
	if (t.kind == TOK_END || (t.kind == TOK_SPECIAL && t.ch == '>'))
	    break;
	if (t.kind == TOK_SPECIAL && (t.ch == ':' || t.ch == ',')) {
	    /* A source route so far: start again. */
	    vstring_reset(rw->external);
	    start = end = 0;
	    continue;
	}
	if (!is_addr_part(&t))
	    continue;				/* comments, white space */
	if (start == 0)
	    start = t.start;
	end = t.end;
	vstring_strncat(rw->external, t.start, t.end - t.start);
    }
    if (start)
	replace(rw, start, end);
}

int     header_addr_rewrite(const char *value, HEADER_ADDR_FN fn, void *context,
			            VSTRING *out)
{
    REWRITE rw;
    const char *cp = value;
    const char *start = 0;		/* the bare address so far */
    const char *end = 0;
    int     multiword = 0;		/* words in a row: a display name */
    int     angle = 0;			/* this mailbox had "<...>" */
    TOKEN   t;
    int     result;

    rw.fn = fn;
    rw.context = context;
    rw.out = vstring_alloc(100);
    rw.copied = value;
    rw.external = vstring_alloc(100);
    rw.internal = vstring_alloc(100);
    rw.result = vstring_alloc(100);
    rw.changed = 0;
    rw.error = 0;
    vstring_reset(rw.external);

    for (;;) {
	t = next_token(&cp);
	if (t.kind == TOK_END
	    || (t.kind == TOK_SPECIAL && (t.ch == ',' || t.ch == ';' || t.ch == ':'))) {
	    /* The end of a mailbox, or of a group's display name. */
	    if (t.kind == TOK_SPECIAL && t.ch == ':' && !angle) {
		vstring_reset(rw.external);
	    } else if (!angle && start && !multiword) {
		replace(&rw, start, end);
	    }
	    vstring_reset(rw.external);
	    start = end = 0;
	    multiword = 0;
	    angle = 0;
	    if (t.kind == TOK_END || rw.error)
		break;
	    continue;
	}
	if (t.kind == TOK_SPECIAL && t.ch == '<') {
	    angle = 1;
	    angle_addr(&rw, &cp);
	    if (rw.error)
		break;
	    continue;
	}
	if (angle || !is_addr_part(&t))
	    continue;				/* comments, white space */
	/* A word after a word ("John Smith") is a name, not an address. */
	if (is_word(&t) && vstring_len(rw.external) > 0) {
	    int     last = vstring_str(rw.external)[vstring_len(rw.external) - 1];

	    if (last != '.' && last != '@')
		multiword = 1;
	}
	if (start == 0)
	    start = t.start;
	end = t.end;
	vstring_strncat(rw.external, t.start, t.end - t.start);
    }
    if (rw.error) {
	result = -1;
    } else if ((result = rw.changed) > 0) {
	vstring_strcat(rw.out, rw.copied);
	vstring_strcpy(out, vstring_str(rw.out));
    }
    vstring_free(rw.out);
    vstring_free(rw.external);
    vstring_free(rw.internal);
    vstring_free(rw.result);
    return (result);
}
