/*
 * NAME
 *	test_mail_addr - envelope address parsing, quoting and checks
 */
#include <string.h>

#include "global/mail_addr.h"
#include "util/vstring.h"
#include "unit.h"

static VSTRING *buf;

static const char *parse(const char *arg, int flags, int want_err)
{
    int     err;

    if (buf == 0)
	buf = vstring_alloc(10);
    err = mail_addr_parse(arg, flags, buf);
    if (err != want_err)
	UNIT_FAIL("parse(%s): got %d (%s), want %d", arg, err,
		  mail_addr_strerror(err), want_err);
    return (vstring_str(buf));
}

#define RCPT	0
#define MAIL	MAIL_ADDR_FLAG_EMPTY_OK

UNIT_TEST(plain_paths)
{
    EXPECT_STR(parse("<user@example.com>", RCPT, 0), "user@example.com");
    EXPECT_STR(parse("<User@Example.COM>", RCPT, 0), "User@Example.COM");
    EXPECT_STR(parse("<postmaster>", RCPT, 0), "postmaster");
    EXPECT_STR(parse("<a.b-c+d@sub.example.com>", RCPT, 0), "a.b-c+d@sub.example.com");
    EXPECT_STR(parse("<user@example.com.>", RCPT, 0), "user@example.com");
    EXPECT_STR(parse("<user@[192.0.2.1]>", RCPT, 0), "user@[192.0.2.1]");
    EXPECT_STR(parse("<user@[IPv6:2001:db8::1]>", RCPT, 0), "user@[IPv6:2001:db8::1]");
    EXPECT_STR(parse("<user@under_score.example>", RCPT, 0), "user@under_score.example");
}

UNIT_TEST(null_sender)
{
    EXPECT_STR(parse("<>", MAIL, 0), "");
    parse("<>", RCPT, MAIL_ADDR_ERR_EMPTY);
    parse("", RCPT, MAIL_ADDR_ERR_EMPTY);
    EXPECT_STR(parse("<>", MAIL | MAIL_ADDR_FLAG_STRICT, 0), "");
    EXPECT_STR(parse("< >", MAIL, 0), "");
}

UNIT_TEST(quoted_local_parts)
{
    EXPECT_STR(parse("<\"a b\"@x.example>", RCPT, 0), "a b@x.example");
    EXPECT_STR(parse("<\"a\\\"b\"@x.example>", RCPT, 0), "a\"b@x.example");
    EXPECT_STR(parse("<\"user@other\"@ours.example>", RCPT, 0), "user@other@ours.example");
    EXPECT_STR(parse("<\"\"@x.example>", RCPT, 0), "@x.example");
    parse("<\"unterminated@x.example>", RCPT, MAIL_ADDR_ERR_SYNTAX);
    parse("<\"a\\", RCPT, MAIL_ADDR_ERR_SYNTAX);
}

UNIT_TEST(source_routes)
{
    EXPECT_STR(parse("<@a.example,@b.example:user@d.example>", RCPT, 0), "user@d.example");
    EXPECT_STR(parse("<@a.example:user@d.example>", RCPT | MAIL_ADDR_FLAG_STRICT, 0),
	       "user@d.example");
    /* "<@a:>" is the null sender with a route, accepted where <> is. */
    EXPECT_STR(parse("<@a.example:>", MAIL, 0), "");
    parse("<@a.example>", RCPT | MAIL_ADDR_FLAG_STRICT, MAIL_ADDR_ERR_STRICT);
}

UNIT_TEST(without_brackets)
{
    EXPECT_STR(parse("user@example.com", RCPT, 0), "user@example.com");
    parse("user@example.com", RCPT | MAIL_ADDR_FLAG_STRICT, MAIL_ADDR_ERR_STRICT);
    EXPECT_STR(parse("<user@example.com> (comment)", RCPT, 0), "user@example.com");
    parse("<user@example.com> (comment)", RCPT | MAIL_ADDR_FLAG_STRICT, MAIL_ADDR_ERR_STRICT);
    EXPECT_STR(parse("Joe <user@example.com>", RCPT, 0), "user@example.com");
    parse("<user@example.com", RCPT, MAIL_ADDR_ERR_SYNTAX);
    EXPECT_STR(parse("user@example.com>", RCPT, 0), "user@example.com");
}

UNIT_TEST(bad_syntax)
{
    parse("<a@example.com, b@example.com>", RCPT, MAIL_ADDR_ERR_MULTIPLE);
    parse("<user@>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    EXPECT_STR(parse("<@example.com>", RCPT, 0), "@example.com");
    parse("<@example.com>", RCPT | MAIL_ADDR_FLAG_STRICT, MAIL_ADDR_ERR_STRICT);
    parse("<user@exa mple.com>", RCPT, MAIL_ADDR_ERR_SYNTAX);
    parse("<user@-bad.example>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<user@bad-.example>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<user@a..example>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<user@1.2.3.4>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<user@[1.2.3.999]>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    EXPECT_STR(parse("<user@[1.2.3.4>", RCPT, 0), "user@[1.2.3.4]");
    parse("<user@[::1]>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<us\001er@example.com>", RCPT, MAIL_ADDR_ERR_CHARS);
    parse("<us\ter@example.com>", RCPT, MAIL_ADDR_ERR_SYNTAX);
    parse("<\"us\\\ber\"@example.com>", RCPT, MAIL_ADDR_ERR_CHARS);
    EXPECT_STR(parse("<user@exa(mple.com>", RCPT, 0), "user@exa");
}

/*
 * Accept or refuse as Debian's Postfix 3.7.11 smtpd did (250 or 501 to
 * MAIL FROM / RCPT TO, probed over SMTP with compatibility_level = 3.6).
 * The internal forms are ours (Postfix does not show them).
 */
UNIT_TEST(postfix_smtpd_verdicts)
{
    static const struct {
	const char *arg;
	int     flags;
	int     ok;
	const char *internal;
    }       cases[] = {
	{"<>", MAIL, 1, ""},
	{"<@a,@b:user@ours.test>", MAIL, 1, "user@ours.test"},
	{"user@ours.test", MAIL, 1, "user@ours.test"},
	{"<user@ours.test", MAIL, 0, 0},
	{"<user@ours.test.>", MAIL, 1, "user@ours.test"},
	{"<user@1.2.3.4>", MAIL, 0, 0},
	{"<user@[1.2.3.4]>", MAIL, 1, "user@[1.2.3.4]"},
	{"<user@[0.1.2.3]>", MAIL, 0, 0},
	{"<user@[010.1.2.3]>", MAIL, 1, "user@[010.1.2.3]"},
	{"<user@[::1]>", MAIL, 0, 0},
	{"<user@[IPv6:::1]>", MAIL, 1, "user@[IPv6:::1]"},
	{"<user@>", MAIL, 0, 0},
	{"<@ours.test>", MAIL, 1, "@ours.test"},
	{"<\"a b\"@ours.test>", MAIL, 1, "a b@ours.test"},
	{"<a@b, c@d>", MAIL, 0, 0},
	{"<user@-bad.test>", MAIL, 0, 0},
	{"<user@a..test>", MAIL, 0, 0},
	{"<user@under_score.test>", MAIL, 1, "user@under_score.test"},
	{"<\"unterminated@ours.test>", MAIL, 0, 0},
	{"<user@exa(mple.test>", MAIL, 1, "user@exa"},
	{"<@a:>", MAIL, 1, ""},
	{"<postmaster>", MAIL, 1, "postmaster"},
	{"<u@b\xef\xbf\xbd\x63her.test>", MAIL, 0, 0},
	{"<x y>", MAIL, 0, 0},
	{"<>", RCPT, 0, 0},
	{"<\"user@other\"@ours.test>", RCPT, 1, "user@other@ours.test"},
	{"<user%other@ours.test>", RCPT, 1, "user%other@ours.test"},
	{"<@a:user@ours.test>", RCPT, 1, "user@ours.test"},
	{"<user@exa mple.test>", RCPT, 0, 0},
	{"<\"\"@ours.test>", RCPT, 1, "@ours.test"},
	{"<user@[1.2.3.4>", RCPT, 1, "user@[1.2.3.4]"},
	{"<us er@ours.test>", RCPT, 0, 0},
	{"<\"a\" \"b\"@ours.test>", RCPT, 0, 0},
	{"<user @ours.test>", RCPT, 1, "user@ours.test"},
	{"<user@ ours.test>", RCPT, 1, "user@ours.test"},
	{"<user@ours .test>", RCPT, 1, "user@ours.test"},
	{"<user@ours.test>>", RCPT, 1, "user@ours.test"},
	{"user@ours.test>", RCPT, 1, "user@ours.test"},
	{"<<user@ours.test>>", RCPT, 1, "user@ours.test"},
	{"<a.@ours.test>", RCPT, 1, "a.@ours.test"},
	{"<.a@ours.test>", RCPT, 1, ".a@ours.test"},
	{"<a(c)b@ours.test>", RCPT, 0, 0},
	{"<a@b@ours.test>", RCPT, 1, "a@b@ours.test"},
	{"<user@[1.2.3.4]x>", RCPT, 0, 0},
	{"<user@ours.test:x>", RCPT, 0, 0},
	{"<user;x@ours.test>", RCPT, 0, 0},
	{"<user@ours.test;>", RCPT, 1, "user@ours.test"},
	{"<@a,@b:@c:user@ours.test>", RCPT, 1, "user@ours.test"},
	{"<@a user@ours.test>", RCPT, 0, 0},
	{"<@:user@ours.test>", RCPT, 1, "user@ours.test"},
	{"<\"a\\\"b\"@ours.test>", RCPT, 1, "a\"b@ours.test"},
	{"<user@OURS.TEST>", RCPT, 1, "user@OURS.TEST"},
	{"<user@ours.test..>", RCPT, 0, 0},
	{"<user@.ours.test>", RCPT, 0, 0},
	{"<\"a@b\"@ours.test", RCPT, 0, 0},
	{"<user@[1.2.3.4", RCPT, 0, 0},
	{"<a(b@ours.test>", RCPT, 1, "a"},
	{"<user@[IPv6:1.2.3.4]>", RCPT, 0, 0},
	{"<user@[IPv6:::ffff:1.2.3.4]>", RCPT, 1, "user@[IPv6:::ffff:1.2.3.4]"},
	{"<user@[1.2.3]>", RCPT, 0, 0},
	{"<a\"b\"@ours.test>", RCPT, 0, 0},
	{"<\"a\"b@ours.test>", RCPT, 0, 0},
	{"<\"a\".b@ours.test>", RCPT, 1, "a.b@ours.test"},
	{"<a(x)@ours.test>", RCPT, 1, "a@ours.test"},
	{"<user@ours.test (x)>", RCPT, 1, "user@ours.test"},
    };
    VSTRING *out = vstring_alloc(64);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	int     err = mail_addr_parse(cases[i].arg, cases[i].flags, out);

	if ((err == MAIL_ADDR_OK) != cases[i].ok)
	    UNIT_FAIL("%s: got %s, Postfix %s", cases[i].arg,
		      mail_addr_strerror(err), cases[i].ok ? "accepts" : "refuses");
	else if (cases[i].ok && strcmp(vstring_str(out), cases[i].internal) != 0)
	    UNIT_FAIL("%s: got \"%s\", want \"%s\"", cases[i].arg,
		      vstring_str(out), cases[i].internal);
    }
    vstring_free(out);
}

UNIT_TEST(utf8)
{
    EXPECT_STR(parse("<j\xc3\xb6rg@example.com>", RCPT, 0), "j\xc3\xb6rg@example.com");
    EXPECT_STR(parse("<j\xc3\xb6rg@example.com>", RCPT | MAIL_ADDR_FLAG_UTF8, 0),
	       "j\xc3\xb6rg@example.com");
    parse("<j\xf6rg@example.com>", RCPT | MAIL_ADDR_FLAG_UTF8, MAIL_ADDR_ERR_CHARS);
    parse("<u@b\xc3\xbc\x63her.example>", RCPT, MAIL_ADDR_ERR_DOMAIN);
    parse("<u@b\xc3\xbc\x63her.example>", RCPT | MAIL_ADDR_FLAG_UTF8, 0);
}

UNIT_TEST(lengths)
{
    VSTRING *arg = vstring_alloc(10);
    char    label[64];

    memset(label, 'a', 63);
    label[63] = 0;
    /* 64-octet local part is fine, 65 is not (when asked to check). */
    vstring_strcpy(arg, "<");
    for (int i = 0; i < 64; i++)
	vstring_addch(arg, 'l');
    vstring_strcat(arg, "@example.com>");
    parse(vstring_str(arg), RCPT | MAIL_ADDR_FLAG_RFC_LENGTHS, 0);
    vstring_strcpy(arg, "<l");
    for (int i = 0; i < 64; i++)
	vstring_addch(arg, 'l');
    vstring_strcat(arg, "@example.com>");
    parse(vstring_str(arg), RCPT | MAIL_ADDR_FLAG_RFC_LENGTHS, MAIL_ADDR_ERR_LENGTH);
    parse(vstring_str(arg), RCPT, 0);		/* Postfix does not limit it */
    /* Postfix 3.7 smtpd took a 1500-octet local part too (probed). */
    vstring_strcpy(arg, "<");
    for (int i = 0; i < 1500; i++)
	vstring_addch(arg, 'l');
    vstring_strcat(arg, "@example.com>");
    parse(vstring_str(arg), RCPT, 0);

    /* A 64-octet label is never a host name (Postfix: 501; 63 is fine). */
    vstring_sprintf(arg, "<u@%sa.example>", label);
    parse(vstring_str(arg), RCPT, MAIL_ADDR_ERR_DOMAIN);
    vstring_sprintf(arg, "<u@%s.example>", label);
    parse(vstring_str(arg), RCPT, 0);

    /* Domain over 255 octets (Postfix: 501 for 258, 250 for 250). */
    vstring_sprintf(arg, "<u@%s.%s.%s.%s.ex>", label, label, label, label);
    parse(vstring_str(arg), RCPT, MAIL_ADDR_ERR_DOMAIN);
    /* Domain of 250, path over 256. */
    vstring_sprintf(arg, "<uuuuuuuuu@%s.%s.%s.%.58s>", label, label, label, label);
    parse(vstring_str(arg), RCPT, 0);
    parse(vstring_str(arg), RCPT | MAIL_ADDR_FLAG_RFC_LENGTHS, MAIL_ADDR_ERR_LENGTH);

    /* Very long input: no crash, a clean answer. */
    vstring_strcpy(arg, "<");
    for (int i = 0; i < 100000; i++)
	vstring_strcat(arg, "\"(<[");
    parse(vstring_str(arg), RCPT, MAIL_ADDR_ERR_SYNTAX);
    vstring_free(arg);
}

UNIT_TEST(quoting)
{
    VSTRING *out = vstring_alloc(10);

    mail_addr_externalize(out, "a b@x.example");
    EXPECT_STR(vstring_str(out), "\"a b\"@x.example");
    mail_addr_externalize(out, "user@other@ours.example");
    EXPECT_STR(vstring_str(out), "\"user@other\"@ours.example");
    mail_addr_externalize(out, "a\"b\\c@x");
    EXPECT_STR(vstring_str(out), "\"a\\\"b\\\\c\"@x");
    mail_addr_externalize(out, "first.last+tag@x");
    EXPECT_STR(vstring_str(out), "first.last+tag@x");
    mail_addr_externalize(out, "a..b@x");
    EXPECT_STR(vstring_str(out), "\"a..b\"@x");
    mail_addr_externalize(out, ".a@x");
    EXPECT_STR(vstring_str(out), "\".a\"@x");
    mail_addr_externalize(out, "postmaster");
    EXPECT_STR(vstring_str(out), "postmaster");
    mail_addr_externalize(out, "");
    EXPECT_STR(vstring_str(out), "");

    mail_addr_internalize(out, "\"a b\"@x.example");
    EXPECT_STR(vstring_str(out), "a b@x.example");
    mail_addr_internalize(out, "\"a\\\"b\\\\c\"@x");
    EXPECT_STR(vstring_str(out), "a\"b\\c@x");
    mail_addr_internalize(out, "\"user@other\"@ours");
    EXPECT_STR(vstring_str(out), "user@other@ours");

    /* Round trip. */
    mail_addr_externalize(out, "a b@x");
    {
	VSTRING *back = vstring_alloc(10);

	mail_addr_internalize(back, vstring_str(out));
	EXPECT_STR(vstring_str(back), "a b@x");
	vstring_free(back);
    }
    EXPECT_INT(mail_addr_needs_quote("abc", 3), 0);
    EXPECT_INT(mail_addr_needs_quote("a(c", 3), 1);
    EXPECT_INT(mail_addr_needs_quote("", 0), 1);
    vstring_free(out);
}

UNIT_TEST(splitting)
{
    VSTRING *local = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(10);
    const char *at;
    char    addr[] = "User@Sub.Example.COM";

    EXPECT_INT(mail_addr_split("user@other@ours", local, domain), 1);
    EXPECT_STR(vstring_str(local), "user@other");
    EXPECT_STR(vstring_str(domain), "ours");
    EXPECT_INT(mail_addr_split("postmaster", local, domain), 0);
    EXPECT_STR(vstring_str(local), "postmaster");
    EXPECT_STR(vstring_str(domain), "");

    at = mail_addr_rightmost_at("\"a@b\"@c");
    EXPECT(at != 0 && strcmp(at, "@c") == 0);
    at = mail_addr_rightmost_at("a@[x@y]");
    EXPECT(at != 0 && strcmp(at, "@[x@y]") == 0);
    EXPECT(mail_addr_rightmost_at("\"a@b\"") == 0);
    EXPECT(mail_addr_rightmost_at("\"a\\\"@b\"") == 0);

    EXPECT_STR(mail_addr_lowercase_domain(addr), "User@sub.example.com");
    vstring_free(local);
    vstring_free(domain);
}

UNIT_TEST(extensions)
{
    VSTRING *user = vstring_alloc(10);
    VSTRING *ext = vstring_alloc(10);
    VSTRING *out = vstring_alloc(10);

    EXPECT_INT(mail_addr_split_ext("user+foo", "+", user, ext), '+');
    EXPECT_STR(vstring_str(user), "user");
    EXPECT_STR(vstring_str(ext), "foo");
    EXPECT_INT(mail_addr_split_ext("user+foo+bar", "+", user, ext), '+');
    EXPECT_STR(vstring_str(ext), "foo+bar");
    EXPECT_INT(mail_addr_split_ext("user-foo", "+-", user, ext), '-');
    EXPECT_STR(vstring_str(user), "user");
    EXPECT_INT(mail_addr_split_ext("user+foo", "", user, ext), 0);
    EXPECT_STR(vstring_str(user), "user+foo");
    EXPECT_STR(vstring_str(ext), "");
    EXPECT_INT(mail_addr_split_ext("+foo", "+", user, ext), 0);
    EXPECT_INT(mail_addr_split_ext("Postmaster", "+", user, ext), 0);
    EXPECT_INT(mail_addr_split_ext("owner-list", "-", user, ext), 0);
    EXPECT_INT(mail_addr_split_ext("list-request", "-", user, ext), 0);
    EXPECT_INT(mail_addr_split_ext("list-foo", "-", user, ext), '-');

    EXPECT_INT(mail_addr_strip_ext("user+ext@example.com", "+", out), 1);
    EXPECT_STR(vstring_str(out), "user@example.com");
    EXPECT_INT(mail_addr_strip_ext("user@example.com", "+", out), 0);
    EXPECT_STR(vstring_str(out), "user@example.com");
    EXPECT_INT(mail_addr_strip_ext("a+b@c+d@example.com", "+", out), 1);
    EXPECT_STR(vstring_str(out), "a@example.com");
    vstring_free(user);
    vstring_free(ext);
    vstring_free(out);
}

UNIT_TEST(routing_checks)
{
    EXPECT_INT(mail_addr_routing("user@example.com"), 0);
    EXPECT_INT(mail_addr_routing("user%other@ours"), MAIL_ADDR_ROUTE_PERCENT);
    EXPECT_INT(mail_addr_routing("other!user@ours"), MAIL_ADDR_ROUTE_BANG);
    EXPECT_INT(mail_addr_routing("user@other@ours"), MAIL_ADDR_ROUTE_AT);
    EXPECT_INT(mail_addr_routing("host!user%x"), MAIL_ADDR_ROUTE_BANG | MAIL_ADDR_ROUTE_PERCENT);
    EXPECT_INT(mail_addr_routing("user@ours!x"), 0);
}

UNIT_TEST(hostnames_and_literals)
{
    EXPECT_INT(valid_hostname("example.com"), 1);
    EXPECT_INT(valid_hostname("a"), 1);
    EXPECT_INT(valid_hostname("x-1.example"), 1);
    EXPECT_INT(valid_hostname("123.example"), 1);
    EXPECT_INT(valid_hostname("1.2.3.4"), 0);
    EXPECT_INT(valid_hostname(""), 0);
    EXPECT_INT(valid_hostname(".example"), 0);
    EXPECT_INT(valid_hostname("example."), 0);
    EXPECT_INT(valid_hostname("ex ample"), 0);
    EXPECT_INT(valid_hostname("-x.example"), 0);

    EXPECT_INT(valid_ipv4_addr("192.0.2.1"), 1);
    EXPECT_INT(valid_ipv4_addr("192.0.2"), 0);
    EXPECT_INT(valid_ipv4_addr("192.0.2.256"), 0);
    EXPECT_INT(valid_ipv4_addr("::1"), 0);
    EXPECT_INT(valid_ipv4_addr("0.0.0.0"), 1);
    EXPECT_INT(valid_ipv4_addr("0.1.2.3"), 0);
    EXPECT_INT(valid_ipv4_addr("010.1.2.3"), 1);
    EXPECT_INT(valid_ipv4_addr("1.2.3.4."), 0);
    EXPECT_INT(valid_ipv4_addr(".1.2.3.4"), 0);
    EXPECT_INT(valid_ipv4_addr("1..3.4"), 0);
    EXPECT_INT(valid_ipv4_addr("1.2.3.4.5"), 0);
    EXPECT_INT(valid_ipv4_addr("99999999999999999999.1.1.1"), 0);
    EXPECT_INT(valid_ipv4_addr(""), 0);
    EXPECT_INT(valid_ipv6_addr("::1"), 1);
    EXPECT_INT(valid_ipv6_addr("fe80::1:2"), 1);
    EXPECT_INT(valid_ipv6_addr("::ffff:192.0.2.1"), 1);
    EXPECT_INT(valid_ipv6_addr("1.2.3.4"), 0);
    EXPECT_INT(valid_ipv6_addr(":::"), 0);

    EXPECT_INT(valid_ip_literal("[192.0.2.1]"), 1);
    EXPECT_INT(valid_ip_literal("[IPv6:::1]"), 1);
    EXPECT_INT(valid_ip_literal("[ipv6:2001:db8::]"), 1);
    EXPECT_INT(valid_ip_literal("[::1]"), 0);
    EXPECT_INT(valid_ip_literal("[IPv6:1.2.3.4]"), 0);
    EXPECT_INT(valid_ip_literal("192.0.2.1"), 0);
    EXPECT_INT(valid_ip_literal("[]"), 0);
    EXPECT_INT(valid_ip_literal("["), 0);
}

int     main(void)
{
    int     rc = unit_run();

    if (buf)
	vstring_free(buf);
    return (rc);
}
