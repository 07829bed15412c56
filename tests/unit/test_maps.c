/*
 * NAME
 *	test_maps - unit tests of table lists and Postfix's lookup orders
 * DESCRIPTION
 *	maps_create/maps_find with inline tables, and the transport,
 *	recipient, sender-relayhost and SASL password orders of
 *	reference/postfix-facts.md section 4.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "dict/maps.h"
#include "global/mail_addr_find.h"
#include "global/addr_class.h"
#include "global/mail_conf.h"
#include "util/mymalloc.h"
#include "util/msg.h"

UNIT_TEST(list_first_match_wins)
{
    MAPS   *m = maps_create("test_maps", "inline:{ a=1, b=2 }, inline:{a=3, c=4}, static:any",
			    DICT_FLAG_DEFAULT);

    EXPECT_INT(m->names->argc, 3);
    EXPECT_STR(maps_find(m, "A", 0), "1");
    EXPECT_STR(maps_find(m, "c", 0), "4");
    EXPECT_STR(maps_find(m, "zzz", 0), "any");
    EXPECT_INT(m->error, 0);
    maps_free(m);
    m = maps_create("test_maps", "", DICT_FLAG_DEFAULT);
    EXPECT(maps_find(m, "a", 0) == 0);
    maps_free(m);
}

UNIT_TEST(error_stops_search)
{
    MAPS   *m = maps_create("test_maps", "inline:{ a=1 } hash:/nonexistent/x inline:{ b=2 }",
			    DICT_FLAG_DEFAULT);

    EXPECT_STR(maps_find(m, "a", 0), "1");
    EXPECT(maps_find(m, "b", 0) == 0);
    EXPECT_INT(m->error, DICT_ERR_CONFIG);
    maps_free(m);
}

UNIT_TEST(transport_order)
{
    char   *key;
    MAPS   *m;

    mail_conf_set("recipient_delimiter", "+");
    mail_conf_set("parent_domain_matches_subdomains", "relay_domains");
    m = maps_create("transport_maps",
		    "inline:{ u+x@example.com=full, user@example.com=noext,"
		    " example.com=dom, .example.com=parent, .org=tld, *=star }",
		    DICT_FLAG_DEFAULT);
    EXPECT_STR(maps_find_transport(m, "u+x@example.com", &key), "full");
    EXPECT_STR(key, "u+x@example.com");
    myfree(key);
    EXPECT_STR(maps_find_transport(m, "user+foo@Example.com", &key), "noext");
    EXPECT_STR(key, "user@Example.com");
    myfree(key);
    EXPECT_STR(maps_find_transport(m, "other@example.com", 0), "dom");
    EXPECT_STR(maps_find_transport(m, "other@a.b.example.com", &key), "parent");
    EXPECT_STR(key, ".example.com");
    myfree(key);
    EXPECT_STR(maps_find_transport(m, "x@sub.example.org", 0), "tld");
    EXPECT_STR(maps_find_transport(m, "x@elsewhere.net", &key), "star");
    EXPECT_STR(key, "*");
    myfree(key);
    maps_free(m);

    /* transport_maps in parent_domain_matches_subdomains: bare parents. */
    mail_conf_set("parent_domain_matches_subdomains", "transport_maps");
    m = maps_create("transport_maps", "inline:{ example.com=dom }", DICT_FLAG_DEFAULT);
    EXPECT_STR(maps_find_transport(m, "x@a.example.com", 0), "dom");
    maps_free(m);
    mail_conf_set("parent_domain_matches_subdomains", "relay_domains");
    m = maps_create("transport_maps", "inline:{ example.com=dom }", DICT_FLAG_DEFAULT);
    EXPECT(maps_find_transport(m, "x@a.example.com", 0) == 0);
    EXPECT_INT(m->error, 0);
    maps_free(m);

    /* The null recipient. */
    mail_conf_set("myhostname", "mx.test.invalid");
    m = maps_create("transport_maps", "inline:{ mailer-daemon@mx.test.invalid=nul }",
		    DICT_FLAG_DEFAULT);
    EXPECT_STR(maps_find_transport(m, "", 0), "nul");
    maps_free(m);
}

UNIT_TEST(recipient_order)
{
    MAPS   *m;

    mail_conf_set("recipient_delimiter", "+");
    mail_conf_set("mydestination", "local.test");
    addr_class_reset();			/* the new mydestination */
    m = maps_create("relay_recipient_maps",
		    "inline:{ user@example.com=ok, @example.net=any, bob=local }",
		    DICT_FLAG_DEFAULT);
    EXPECT_STR(maps_find_addr(m, "USER@EXAMPLE.COM", MAPS_ADDR_DEFAULT), "ok");
    EXPECT_STR(maps_find_addr(m, "user+ext@example.com", MAPS_ADDR_DEFAULT), "ok");
    EXPECT_STR(maps_find_addr(m, "who@example.net", MAPS_ADDR_DEFAULT), "any");
    EXPECT(maps_find_addr(m, "bob@example.com", MAPS_ADDR_DEFAULT) == 0);
    EXPECT_STR(maps_find_addr(m, "bob@local.test", MAPS_ADDR_DEFAULT), "local");
    EXPECT_STR(maps_find_addr(m, "bob+x@local.test", MAPS_ADDR_DEFAULT), "local");
    EXPECT(maps_find_addr(m, "who@example.net", MAPS_ADDR_FULL) == 0);
    maps_free(m);

    /* Without recipient_delimiter the extension is part of the user. */
    mail_conf_set("recipient_delimiter", "");
    m = maps_create("relay_recipient_maps", "inline:{ user@example.com=ok }",
		    DICT_FLAG_DEFAULT);
    EXPECT(maps_find_addr(m, "user+ext@example.com", MAPS_ADDR_DEFAULT) == 0);
    maps_free(m);
}

UNIT_TEST(sender_relayhost_order)
{
    MAPS   *m = maps_create("sender_dependent_relayhost_maps",
			    "inline:{ a@example.com=[relay1], @example.com=[relay2],"
			    " b@example.com=DUNNO, <>=[bounces] }",
			    DICT_FLAG_DEFAULT);

    EXPECT_STR(maps_find_sender(m, "a@example.com"), "[relay1]");
    EXPECT_STR(maps_find_sender(m, "c@example.com"), "[relay2]");
    EXPECT(maps_find_sender(m, "b@example.com") == 0);
    EXPECT_INT(m->error, 0);
    EXPECT(maps_find_sender(m, "c@example.org") == 0);
    EXPECT_STR(maps_find_sender(m, ""), "[bounces]");
    maps_free(m);
}

UNIT_TEST(sasl_order)
{
    MAPS   *m = maps_create("smtp_sasl_password_maps",
			    "inline:{ a@example.com=sender, @example.org=dom,"
			    " mail.example.com=host, [gw.example.com]:587=nexthop }",
			    DICT_FLAG_DEFAULT);

    /* Without sender-dependent authentication the caller passes no sender. */
    EXPECT_STR(maps_find_sasl(m, 0, "mail.example.com", "example.com"), "host");
    EXPECT_STR(maps_find_sasl(m, "", "other", "[gw.example.com]:587"), "nexthop");
    EXPECT_STR(maps_find_sasl(m, "a@example.com", "mail.example.com", "example.com"), "sender");
    EXPECT_STR(maps_find_sasl(m, "x@example.org", "mail.example.com", "example.com"), "dom");
    EXPECT_STR(maps_find_sasl(m, "", "mail.example.com", "example.com"), "host");
    EXPECT(maps_find_sasl(m, "", "x", "y") == 0);
    maps_free(m);
}

UNIT_TEST(pattern_tables_see_whole_address_only)
{
    MAPS   *m = maps_create("transport_maps", "static:pat", DICT_FLAG_DEFAULT);

    /* static: is a fixed table: it answers the first key. */
    EXPECT_STR(maps_find_transport(m, "a@b.example", 0), "pat");
    EXPECT_STR(maps_find(m, "x", MAPS_FIND_FIXED), "pat");
    maps_free(m);
}

int     main(void)
{
    msg_to_stderr(1);
    return (unit_run());
}
