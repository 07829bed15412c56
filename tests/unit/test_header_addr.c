/*
 * NAME
 *	test_header_addr - addresses in headers, found and replaced
 * DESCRIPTION
 *	The rewriter below maps a few addresses, as canonical maps would,
 *	and records every address it was asked about. The header classes
 *	are those that Debian's Postfix 3.7 rewrote with
 *	sender_canonical_maps / recipient_canonical_maps.
 */
#include <string.h>

#include "util/vstring.h"
#include "global/header_addr.h"
#include "unit.h"

static VSTRING *seen;

static int map(const char *addr, VSTRING *result, void *context)
{
    static const char *table[][2] = {
	{"bob@dest.test", "robert@dest.test"},
	{"dave", "dave@mx.test.invalid"},
	{"john doe@x.test", "john.doe@x.test"},
	{"a@x.test", "b c@y.test"},
	{"fail@x.test", 0},
    };

    (void) context;
    vstring_sprintf_append(seen, "[%s]", addr);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
	if (strcmp(addr, table[i][0]) == 0) {
	    if (table[i][1] == 0)
		return (-1);
	    vstring_strcpy(result, table[i][1]);
	    return (1);
	}
    }
    return (0);
}

static const char *rewrite(const char *value, int *count)
{
    static VSTRING *out;

    if (out == 0)
	out = vstring_alloc(100);
    if (seen == 0)
	seen = vstring_alloc(100);
    vstring_strcpy(out, "(unchanged)");
    vstring_reset(seen);
    *count = header_addr_rewrite(value, map, 0, out);
    return (vstring_str(out));
}

UNIT_TEST(classes_as_postfix)
{
    EXPECT_INT(header_addr_class("From", 4), HEADER_ADDR_SENDER);
    EXPECT_INT(header_addr_class("reply-to", 8), HEADER_ADDR_SENDER);
    EXPECT_INT(header_addr_class("Mail-Followup-To", 16), HEADER_ADDR_SENDER);
    EXPECT_INT(header_addr_class("Resent-Sender", 13), HEADER_ADDR_SENDER);
    EXPECT_INT(header_addr_class("TO", 2), HEADER_ADDR_RECIPIENT);
    EXPECT_INT(header_addr_class("Resent-Reply-To", 15), HEADER_ADDR_RECIPIENT);
    EXPECT_INT(header_addr_class("Apparently-To", 13), HEADER_ADDR_RECIPIENT);
    EXPECT_INT(header_addr_class("Delivered-To", 12), 0);
    EXPECT_INT(header_addr_class("X-Original-To", 13), 0);
    EXPECT_INT(header_addr_class("Mail-Reply-To", 13), 0);
    EXPECT_INT(header_addr_class("Subject", 7), 0);
}

UNIT_TEST(simple_forms)
{
    int     n;

    EXPECT_STR(rewrite(" bob@dest.test", &n), " robert@dest.test");
    EXPECT_INT(n, 1);
    EXPECT_STR(rewrite(" \"Bob B\" <bob@dest.test>", &n), " \"Bob B\" <robert@dest.test>");
    EXPECT_STR(rewrite(" Bob <bob@dest.test> (work)", &n), " Bob <robert@dest.test> (work)");
    EXPECT_STR(rewrite(" bob@dest.test (Bob)", &n), " robert@dest.test (Bob)");
    EXPECT_STR(rewrite(" carol@x.test", &n), "(unchanged)");
    EXPECT_INT(n, 0);
    EXPECT_STR(vstring_str(seen), "[carol@x.test]");
}

UNIT_TEST(lists_groups_and_folding)
{
    int     n;

    EXPECT_STR(rewrite(" a1@x.test,\r\n\tbob@dest.test, \"C\" <c@x.test>", &n),
	       " a1@x.test,\r\n\trobert@dest.test, \"C\" <c@x.test>");
    EXPECT_INT(n, 1);
    EXPECT_STR(vstring_str(seen), "[a1@x.test][bob@dest.test][c@x.test]");
    /* Debian's Postfix: "group: robert@dest.test, dave@mx.test.invalid;" */
    EXPECT_STR(rewrite(" group: bob@dest.test, dave ; , e@x.test", &n),
	       " group: robert@dest.test, dave@mx.test.invalid ; , e@x.test");
    EXPECT_INT(n, 2);
    EXPECT_STR(rewrite(" undisclosed-recipients:;", &n), "(unchanged)");
    EXPECT_STR(vstring_str(seen), "");
}

UNIT_TEST(quoting_and_routes)
{
    int     n;

    /* Looked up unquoted, written back quoted only when needed. */
    EXPECT_STR(rewrite(" \"john doe\"@x.test", &n), " john.doe@x.test");
    EXPECT_STR(rewrite(" <a@x.test>", &n), " <\"b c\"@y.test>");
    EXPECT_STR(rewrite(" <@relay.test,@r2.test:bob@dest.test>", &n),
	       " <@relay.test,@r2.test:robert@dest.test>");
    EXPECT_STR(vstring_str(seen), "[bob@dest.test]");
    EXPECT_STR(rewrite(" user@[192.0.2.1]", &n), "(unchanged)");
    EXPECT_STR(vstring_str(seen), "[user@[192.0.2.1]]");
    /* Comments inside are not part of the address. */
    EXPECT_STR(rewrite(" (a (nested, one) here) bob@dest.test", &n),
	       " (a (nested, one) here) robert@dest.test");
    EXPECT_STR(rewrite(" \"a, b\" <bob@dest.test>", &n), " \"a, b\" <robert@dest.test>");
}

UNIT_TEST(names_without_address_and_empty)
{
    int     n;

    EXPECT_STR(rewrite(" John Smith", &n), "(unchanged)");
    EXPECT_STR(vstring_str(seen), "");
    EXPECT_STR(rewrite(" <>", &n), "(unchanged)");
    EXPECT_STR(vstring_str(seen), "");
    EXPECT_STR(rewrite("", &n), "(unchanged)");
    /* Unbalanced input is read to the end, never past it. */
    EXPECT_STR(rewrite(" \"unterminated <bob@dest.test>", &n), "(unchanged)");
    EXPECT_STR(rewrite(" <bob@dest.test", &n), " <robert@dest.test");
    EXPECT_STR(rewrite(" (unclosed bob@dest.test", &n), "(unchanged)");
}

UNIT_TEST(table_error_stops)
{
    int     n;

    EXPECT_STR(rewrite(" bob@dest.test, fail@x.test, dave", &n), "(unchanged)");
    EXPECT_INT(n, -1);
    EXPECT_STR(vstring_str(seen), "[bob@dest.test][fail@x.test]");
}

int     main(void)
{
    return (unit_run());
}
