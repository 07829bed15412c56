/*
 * NAME
 *	mail_addr - RFC 5321 envelope addresses: parse, quote, split, check
 * SYNOPSIS
 *	#include "global/mail_addr.h"
 *
 *	int mail_addr_parse(const char *arg, int flags, VSTRING *addr);
 *	const char *mail_addr_strerror(int err);
 *
 *	void mail_addr_internalize(VSTRING *out, const char *external);
 *	void mail_addr_externalize(VSTRING *out, const char *internal);
 *	int mail_addr_needs_quote(const char *localpart, size_t len);
 *
 *	int mail_addr_split(const char *addr, VSTRING *local, VSTRING *domain);
 *	const char *mail_addr_rightmost_at(const char *external);
 *	char *mail_addr_lowercase_domain(char *addr);
 *
 *	int mail_addr_split_ext(const char *localpart, const char *delims,
 *				VSTRING *user, VSTRING *ext);
 *	int mail_addr_strip_ext(const char *addr, const char *delims,
 *				VSTRING *out);
 *
 *	int mail_addr_routing(const char *addr);
 *
 *	int valid_hostname(const char *name);
 *	int valid_ipv4_addr(const char *text);
 *	int valid_ipv6_addr(const char *text);
 *	int valid_ip_literal(const char *text);
 * DESCRIPTION
 *	Postfix keeps addresses in two forms. The internal form is what
 *	queue files, tables and logs hold: quotes removed ("a b"@x is
 *	a b@x). The external form is what goes on the wire: the local part
 *	quoted when it is not a dot-atom. The last "@" of the internal
 *	form separates local part and domain.
 *
 *	mail_addr_parse() reads the address argument of MAIL FROM or RCPT
 *	TO the way Postfix's smtpd does: surrounding "<" ">" removed, a
 *	source route ("@a,@b:user@d") dropped, RFC 822 quoting, comments
 *	and white space understood, and the result stored in internal
 *	form. The flags:
 *
 *	MAIL_ADDR_FLAG_EMPTY_OK	"<>" is accepted (MAIL FROM: the null
 *				sender); without it an empty address is
 *				an error (RCPT TO).
 *	MAIL_ADDR_FLAG_STRICT	strict_rfc821_envelopes: "<" required,
 *				no comments or phrases, no source route
 *				left in the result.
 *	MAIL_ADDR_FLAG_UTF8	non-ASCII bytes must be valid UTF-8
 *				(SMTPUTF8 sessions).
 *	MAIL_ADDR_FLAG_RFC_LENGTHS  also enforce RFC 5321 4.5.3.1 sizes:
 *				local part 64, domain 255, path 256
 *				octets. Postfix does not (it only limits
 *				the domain, through valid_hostname), so
 *				smtpd leaves this off.
 *
 *	Besides the syntax, like Postfix's resolver the domain (text after
 *	the last "@") must be a valid host name or an address literal
 *	("[1.2.3.4]", "[IPv6:::1]"); an address without "@" ("postmaster")
 *	is fine, and so is an empty local part ("<@x>", "<\"\"@x>"), as
 *	in Postfix. Control characters are refused.
 *
 *	Quirks kept for compatibility (checked against Postfix 3.7 smtpd):
 *	white space next to "@" and "." is dropped ("<user @x>"), but two
 *	words in a row are an error ("<us er@x>", "<a(c)b@x>"); an unclosed
 *	"<" is an error, a stray ">" is not; an unterminated comment runs to
 *	the end and an unterminated "[literal" is closed at the end; ";"
 *	separates addresses like ","; a trailing dot of the domain is
 *	removed ("user@example.com." is "user@example.com").
 *
 *	mail_addr_internalize() removes RFC 822 quoting from an address
 *	("\"a b\"@x" -> "a b@x"). mail_addr_externalize() quotes the local
 *	part when needed ("a b@x" -> "\"a b\"@x"; "a@b@x" ->
 *	"\"a@b\"@x"). mail_addr_needs_quote() says if a local part is not
 *	a dot-atom.
 *
 *	mail_addr_split() splits an internal-form address at its last "@"
 *	(local or domain may be NULL when not wanted); without "@" the
 *	domain is empty and the result 0, else 1.
 *	mail_addr_rightmost_at() finds the last "@" of an external-form
 *	address that is outside quotes and brackets (NULL: none).
 *	mail_addr_lowercase_domain() lower-cases the text after the last
 *	"@" in place (the local part keeps its case, as in Postfix).
 *
 *	mail_addr_split_ext() splits a local part at the first of the
 *	recipient_delimiter characters: "user+ext" -> "user", "ext"; it
 *	returns the delimiter found or 0 (then user is the whole local
 *	part and ext is empty). As Postfix does, nothing is split off
 *	"postmaster", an empty user part, or, with "-" as delimiter,
 *	"owner-list" and "list-request". mail_addr_strip_ext() does the
 *	same to a whole internal-form address and stores the address
 *	without extension; it returns 1 when something was removed.
 *
 *	mail_addr_routing() reports what in a local part asks for
 *	routing by the receiver, which a relay check refuses from
 *	untrusted clients (allow_untrusted_routing = no):
 *	MAIL_ADDR_ROUTE_AT ("user@other"@ours), MAIL_ADDR_ROUTE_PERCENT
 *	(user%other@ours), MAIL_ADDR_ROUTE_BANG (other!user@ours).
 *
 *	valid_hostname() accepts labels of letters, digits, "-" and "_"
 *	(not starting or ending with "-"), 63 octets per label, 255 in
 *	all, no empty label, and not all-numeric (an IP address must be
 *	written as a literal). valid_ipv4_addr()/valid_ipv6_addr() check
 *	bare addresses; valid_ip_literal() checks "[1.2.3.4]" and
 *	"[IPv6:...]".
 * DIAGNOSTICS
 *	mail_addr_parse() returns MAIL_ADDR_OK or one of MAIL_ADDR_ERR_*
 *	(smtpd answers "501 5.1.7 Bad sender address syntax" or "501
 *	5.1.3 Bad recipient address syntax" for any of them);
 *	mail_addr_strerror() names the problem for logging. Nothing here
 *	logs, aborts or reads outside its input, whatever the input.
 * SEE ALSO
 *	RFC 5321 section 4.1.2, RFC 5322 section 3.4.1
 */
#ifndef MAIL_ADDR_H
#define MAIL_ADDR_H
#include <stddef.h>
#include "util/vstring.h"

#define MAIL_ADDR_FLAG_EMPTY_OK		(1<<0)
#define MAIL_ADDR_FLAG_STRICT		(1<<1)
#define MAIL_ADDR_FLAG_UTF8		(1<<2)
#define MAIL_ADDR_FLAG_RFC_LENGTHS	(1<<3)

#define MAIL_ADDR_OK			0
#define MAIL_ADDR_ERR_SYNTAX		(-1)	/* unbalanced quote, junk */
#define MAIL_ADDR_ERR_EMPTY		(-2)	/* <> where not allowed */
#define MAIL_ADDR_ERR_MULTIPLE		(-3)	/* a@b, c@d */
#define MAIL_ADDR_ERR_DOMAIN		(-4)	/* bad host name or literal */
#define MAIL_ADDR_ERR_CHARS		(-5)	/* control char, bad UTF-8 */
#define MAIL_ADDR_ERR_LENGTH		(-6)	/* RFC 5321 size limits */
#define MAIL_ADDR_ERR_STRICT		(-7)	/* not strict RFC 821 */

#define MAIL_ADDR_LOCAL_MAX	64
#define MAIL_ADDR_DOMAIN_MAX	255
#define MAIL_ADDR_PATH_MAX	256
#define MAIL_ADDR_LABEL_MAX	63

#define MAIL_ADDR_ROUTE_AT	(1<<0)
#define MAIL_ADDR_ROUTE_PERCENT	(1<<1)
#define MAIL_ADDR_ROUTE_BANG	(1<<2)

extern int mail_addr_parse(const char *, int, VSTRING *);
extern const char *mail_addr_strerror(int);
extern void mail_addr_internalize(VSTRING *, const char *);
extern void mail_addr_externalize(VSTRING *, const char *);
extern int mail_addr_needs_quote(const char *, size_t);
extern int mail_addr_split(const char *, VSTRING *, VSTRING *);
extern const char *mail_addr_rightmost_at(const char *);
extern char *mail_addr_lowercase_domain(char *);
extern int mail_addr_split_ext(const char *, const char *, VSTRING *, VSTRING *);
extern int mail_addr_strip_ext(const char *, const char *, VSTRING *);
extern int mail_addr_routing(const char *);
extern int valid_hostname(const char *);
extern int valid_ipv4_addr(const char *);
extern int valid_ipv6_addr(const char *);
extern int valid_ip_literal(const char *);

#endif
