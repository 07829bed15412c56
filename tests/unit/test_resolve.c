/*
 * NAME
 *	test_resolve - routing of recipients: classes, relayhost, transport(5)
 * DESCRIPTION
 *	The transport_maps examples of Postfix's documentation, the
 *	address classes, sender-dependent relayhosts and transports, and
 *	the nexthop forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/resolve.h"
#include "unit.h"

static char dir[] = "/tmp/test_resolve.XXXXXX";

static const char *table(const char *name, const char *text)
{
    static char path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return (path);
}

static void setup(void)
{
    static int done;

    if (!done) {
	if (mkdtemp(dir) == 0)
	    abort();
	done = 1;
    }
    resolve_reset();
    mail_conf_reset();
    mail_conf_set("myhostname", "mx.test.invalid");
    mail_conf_set("mydomain", "test.invalid");
    mail_conf_set("compatibility_level", "3.7");
}

/* route - "transport nexthop" of a recipient, or "RETRY" */
static const char *route(const char *sender, const char *rcpt)
{
    static VSTRING *buf;
    RESOLVE_REPLY *r = resolve_reply_alloc();

    if (buf == 0)
	buf = vstring_alloc(64);
    if (resolve_addr(sender, rcpt, r) != RESOLVE_OK)
	vstring_strcpy(buf, "RETRY");
    else
	vstring_sprintf(buf, "%s %s", vstring_str(r->transport), vstring_str(r->nexthop));
    resolve_reply_free(r);
    return (vstring_str(buf));
}

UNIT_TEST(address_classes)
{
    RESOLVE_REPLY *r = resolve_reply_alloc();

    setup();
    mail_conf_set("relay_domains", "example.com, !no.example.org, example.org");
    EXPECT_STR(route("a@b.test", "u@elsewhere.test"), "smtp elsewhere.test");
    EXPECT_STR(route("a@b.test", "u@Example.COM."), "relay example.com");
    /* relay_domains is in parent_domain_matches_subdomains. */
    EXPECT_STR(route("a@b.test", "u@sub.example.com"), "relay sub.example.com");
    EXPECT_STR(route("a@b.test", "u@example.org"), "relay example.org");
    EXPECT_STR(route("a@b.test", "u@x.example.org"), "relay x.example.org");
    EXPECT_STR(route("a@b.test", "u@no.example.org"), "smtp no.example.org");
    EXPECT_INT(resolve_addr("", "u@example.com", r), RESOLVE_OK);
    EXPECT(r->flags & RESOLVE_CLASS_RELAY);
    EXPECT_STR(vstring_str(r->recipient), "u@example.com");
    EXPECT_INT(resolve_addr("", "u@other.test", r), RESOLVE_OK);
    EXPECT(r->flags & RESOLVE_CLASS_DEFAULT);
    resolve_reply_free(r);
}

/*
 * The local class: mydestination (default "$myhostname, localhost.$mydomain,
 * localhost") goes to local_transport, "local:$myhostname", and is never
 * relayed under its own name, not even when relay_domains or relayhost
 * would say so; transport_maps may still route it.
 */
UNIT_TEST(mydestination_goes_to_local_transport)
{
    RESOLVE_REPLY *r = resolve_reply_alloc();

    setup();
    EXPECT_STR(route("a@b.test", "root@localhost"), "local mx.test.invalid");
    EXPECT_STR(route("a@b.test", "u@MX.test.invalid."), "local mx.test.invalid");
    EXPECT_STR(route("a@b.test", "u@localhost.test.invalid"), "local mx.test.invalid");
    EXPECT_INT(resolve_addr("", "root@localhost", r), RESOLVE_OK);
    EXPECT(r->flags & RESOLVE_CLASS_LOCAL);
    EXPECT_STR(vstring_str(r->recipient), "root@localhost");
    /* Subdomains are not local: mydestination is no parent-domain list. */
    EXPECT_STR(route("", "u@sub.localhost"), "smtp sub.localhost");
    mail_conf_set("relay_domains", "localhost");
    mail_conf_set("relayhost", "[gw.test]");
    resolve_reset();
    EXPECT_STR(route("", "root@localhost"), "local mx.test.invalid");
    mail_conf_set("local_transport", "mybox");
    resolve_reset();
    EXPECT_STR(route("", "root@localhost"), "mybox localhost");
    mail_conf_set("transport_maps", "inline:{localhost=lmtp:unix:private/dovecot}");
    resolve_reset();
    EXPECT_STR(route("", "root@localhost"), "lmtp unix:private/dovecot");
    mail_conf_set("mydestination", "");
    mail_conf_set("transport_maps", "");
    resolve_reset();
    EXPECT_STR(route("", "root@localhost"), "relay [gw.test]");
    resolve_reply_free(r);
}

UNIT_TEST(relay_domains_files_and_tables)
{
    char    item[600];

    setup();
    table("relay_list", "# relayed\nfile.test other.test\n");
    table("relay_table", "table.test OK\n");
    snprintf(item, sizeof(item), "%s/relay_list, texthash:%s/relay_table", dir, dir);
    mail_conf_set("relay_domains", item);
    EXPECT_STR(route("", "u@file.test"), "relay file.test");
    EXPECT_STR(route("", "u@other.test"), "relay other.test");
    EXPECT_STR(route("", "u@table.test"), "relay table.test");
    EXPECT_STR(route("", "u@sub.table.test"), "relay sub.table.test");
    EXPECT_STR(route("", "u@none.test"), "smtp none.test");
}

UNIT_TEST(relayhost_and_class_nexthops)
{
    setup();
    mail_conf_set("relay_domains", "example.com");
    mail_conf_set("relayhost", "[gw.test]:587");
    EXPECT_STR(route("", "u@example.com"), "relay [gw.test]:587");
    EXPECT_STR(route("", "u@other.test"), "smtp [gw.test]:587");
    /* A nexthop in the class's transport wins over relayhost. */
    mail_conf_set("relay_transport", "relay:[inside.test]");
    mail_conf_set("default_transport", "smtp:[outbound.test]:25");
    resolve_reset();
    EXPECT_STR(route("", "u@example.com"), "relay [inside.test]");
    EXPECT_STR(route("", "u@other.test"), "smtp [outbound.test]:25");
    mail_conf_set("default_transport", "error:5.7.1 outbound mail disabled");
    EXPECT_STR(route("", "u@other.test"), "error 5.7.1 outbound mail disabled");
}

UNIT_TEST(transport_maps_examples)
{
    char    item[600];

    setup();
    mail_conf_set("relay_domains", "example.com");
    table("transport",
	  "# transport(5) examples\n"
	  "example.com      relay:[mail.example.com]\n"
	  ".example.com     relay:[sub-gw.example.com]\n"
	  "user@example.com smtp:[special.example.net]\n"
	  "ip.test          smtp:[192.0.2.1]:2525\n"
	  "v6.test          smtp:[2001:db8::1]:2525\n"
	  "bare.test        lmtp:\n"
	  "word.test        uucp\n"
	  "error.test       error:5.1.2 mail for error.test is not accepted\n"
	  "retry.test       retry:4.3.5 try again later\n"
	  "keep.test        :\n"
	  "nh.test          :[other-gw.test]\n"
	  "unix.test        lmtp:unix:/var/run/lmtp\n"
	  "inet.test        lmtp:inet:127.0.0.1:24\n"
	  "hostport.test    smtp:mx.hostport.test:2525\n");
    snprintf(item, sizeof(item), "texthash:%s/transport", dir);
    mail_conf_set("transport_maps", item);
    mail_conf_set("relayhost", "[relayhost.test]");

    EXPECT_STR(route("", "a@example.com"), "relay [mail.example.com]");
    /* Parent domain matching needs the ".example.com" key. */
    EXPECT_STR(route("", "a@deep.sub.example.com"), "relay [sub-gw.example.com]");
    /* A full-address entry overrides its domain, with and without +ext. */
    EXPECT_STR(route("", "user@example.com"), "smtp [special.example.net]");
    EXPECT_STR(route("", "USER@Example.com"), "smtp [special.example.net]");
    EXPECT_STR(route("", "ip@ip.test"), "smtp [192.0.2.1]:2525");
    EXPECT_STR(route("", "x@v6.test"), "smtp [2001:db8::1]:2525");
    /* "transport:" resets the nexthop to the recipient domain. */
    EXPECT_STR(route("", "x@bare.test"), "lmtp bare.test");
    EXPECT_STR(route("", "x@word.test"), "uucp word.test");
    EXPECT_STR(route("", "x@error.test"), "error 5.1.2 mail for error.test is not accepted");
    EXPECT_STR(route("", "x@retry.test"), "retry 4.3.5 try again later");
    /* ":" changes nothing: default class, relayhost. */
    EXPECT_STR(route("", "x@keep.test"), "smtp [relayhost.test]");
    EXPECT_STR(route("", "x@nh.test"), "smtp [other-gw.test]");
    EXPECT_STR(route("", "x@unix.test"), "lmtp unix:/var/run/lmtp");
    EXPECT_STR(route("", "x@inet.test"), "lmtp inet:127.0.0.1:24");
    EXPECT_STR(route("", "x@hostport.test"), "smtp mx.hostport.test:2525");
    /* Not in the table: the class defaults. */
    EXPECT_STR(route("", "x@nowhere.test"), "smtp [relayhost.test]");
}

UNIT_TEST(transport_maps_wildcard)
{
    char    item[600];

    setup();
    table("transport_wild",
	  "my.domain    :\n"
	  ".my.domain   :\n"
	  "*            smtp:outbound-relay.my.domain\n");
    snprintf(item, sizeof(item), "texthash:%s/transport_wild", dir);
    mail_conf_set("transport_maps", item);
    EXPECT_STR(route("", "a@my.domain"), "smtp my.domain");
    EXPECT_STR(route("", "a@x.my.domain"), "smtp x.my.domain");
    EXPECT_STR(route("", "a@else.test"), "smtp outbound-relay.my.domain");
}

UNIT_TEST(transport_maps_parent_matches)
{
    char    item[600];

    setup();
    table("transport_parent", "example.com relay:[gw.example.com]\n");
    snprintf(item, sizeof(item), "texthash:%s/transport_parent", dir);
    mail_conf_set("transport_maps", item);
    EXPECT_STR(route("", "a@sub.example.com"), "smtp sub.example.com");
    resolve_reset();
    mail_conf_set("parent_domain_matches_subdomains", "relay_domains, transport_maps");
    EXPECT_STR(route("", "a@sub.example.com"), "relay [gw.example.com]");
}

UNIT_TEST(sender_dependent)
{
    char    item[600];

    setup();
    table("sdrh",
	  "alice@a.test   [relay1.test]:587\n"
	  "@b.test        [relay2.test]\n"
	  "carol@a.test   DUNNO\n");
    table("sdtr", "@c.test  special:[c-gw.test]\n@d.test  other\n");
    snprintf(item, sizeof(item), "texthash:%s/sdrh", dir);
    mail_conf_set("sender_dependent_relayhost_maps", item);
    snprintf(item, sizeof(item), "texthash:%s/sdtr", dir);
    mail_conf_set("sender_dependent_default_transport_maps", item);
    mail_conf_set("relayhost", "[default-relay.test]");
    mail_conf_set("relay_domains", "relayed.test");

    EXPECT_STR(route("alice@a.test", "x@far.test"), "smtp [relay1.test]:587");
    EXPECT_STR(route("bob@b.test", "x@far.test"), "smtp [relay2.test]");
    EXPECT_STR(route("carol@a.test", "x@far.test"), "smtp [default-relay.test]");
    EXPECT_STR(route("dave@a.test", "x@far.test"), "smtp [default-relay.test]");
    EXPECT_STR(route("", "x@far.test"), "smtp [default-relay.test]");
    /* The sender-dependent transport applies to the default class only. */
    EXPECT_STR(route("e@c.test", "x@far.test"), "special [c-gw.test]");
    EXPECT_STR(route("e@d.test", "x@far.test"), "other [default-relay.test]");
    EXPECT_STR(route("e@c.test", "x@relayed.test"), "relay [default-relay.test]");
    EXPECT_STR(route("bob@b.test", "x@relayed.test"), "relay [relay2.test]");
}

UNIT_TEST(table_errors_defer)
{
    setup();
    mail_conf_set("transport_maps", "hash:/nonexistent/transport");
    EXPECT_STR(route("", "x@far.test"), "RETRY");
}

UNIT_TEST(nexthop_forms)
{
    VSTRING *host = vstring_alloc(16);
    VSTRING *port = vstring_alloc(16);
    int     no_mx;

#define SPLIT(nh, h, p, nomx) do { \
	EXPECT_INT(resolve_split_nexthop(nh, host, port, &no_mx), 0); \
	EXPECT_STR(vstring_str(host), h); EXPECT_STR(vstring_str(port), p); \
	EXPECT_INT(no_mx, nomx); } while (0)

    SPLIT("example.com", "example.com", "", 0);
    SPLIT("[mail.example.com]", "mail.example.com", "", 1);
    SPLIT("mx.example.com:2525", "mx.example.com", "2525", 0);
    SPLIT("[192.0.2.1]:2525", "192.0.2.1", "2525", 1);
    SPLIT("[2001:db8::1]:24", "2001:db8::1", "24", 1);
    SPLIT("inet:127.0.0.1:24", "127.0.0.1", "24", 0);
    SPLIT("inet:[::1]:24", "::1", "24", 1);
    EXPECT_INT(resolve_split_nexthop("[unclosed", host, port, &no_mx), -1);
    EXPECT_INT(resolve_split_nexthop("[]:25", host, port, &no_mx), -1);
    EXPECT_INT(resolve_split_nexthop("", host, port, &no_mx), -1);
    vstring_free(host);
    vstring_free(port);
}

int     main(void)
{
    int     ret = unit_run();
    char    cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	ret = 1;
    return (ret);
}
