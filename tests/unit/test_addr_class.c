/*
 * NAME
 *	test_addr_class - Postfix's address classes, decided in one place
 * DESCRIPTION
 *	The class of a domain and the parameters behind it: precedence
 *	(local, virtual alias, relay, default), table and /file items of
 *	mydestination, address literals of inet_interfaces and
 *	proxy_interfaces, the "domain is local" step of the lookup
 *	orders, permit_inet_interfaces, and table errors, which are never
 *	"not in the class". Where Postfix 3.7.11 (Debian) answers
 *	differently from what this system answered before the classes
 *	were one module, the comment gives Postfix's reply.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/addr_class.h"
#include "util/msg.h"
#include "unit.h"

static char dir[] = "/tmp/test_addr_class.XXXXXX";

/* path - a file of the test folder */
static const char *path(const char *name)
{
    static char buf[4][300];
    static int which;

    which = (which + 1) % 4;
    snprintf(buf[which], sizeof(buf[which]), "%s/%s", dir, name);
    return (buf[which]);
}

static void write_file(const char *name, const char *text)
{
    FILE   *fp = fopen(path(name), "w");

    if (fp == 0)
	abort();
    fputs(text, fp);
    fclose(fp);
}

/* setup - a fresh main.cf: the base settings, then name=value pairs */
static void setup(const char *first,...)
{
    va_list ap;
    const char *name;

    addr_class_reset();
    mail_conf_reset();
    mail_conf_set("myhostname", "mx.test.invalid");
    mail_conf_set("mydomain", "test.invalid");
    mail_conf_set("compatibility_level", "3.7");
    mail_conf_set("inet_interfaces", "127.0.0.1");
    va_start(ap, first);
    for (name = first; name; name = va_arg(ap, const char *))
	mail_conf_set(name, va_arg(ap, const char *));
    va_end(ap);
}

static int class_of(const char *domain)
{
    return (addr_class_domain(domain, (ADDR_CLASS_INFO *) 0));
}

UNIT_TEST(precedence_and_parameters)
{
    ADDR_CLASS_INFO info;

    setup("mydestination", "$myhostname, localhost, both.example",
	  "virtual_alias_domains", "alias.example, both.example, twice.example",
	  "relay_domains", "relay.example, twice.example, $mydestination",
	  (char *) 0);

    EXPECT_INT(addr_class_domain("mx.test.invalid", &info), ADDR_CLASS_LOCAL);
    EXPECT_INT(info.class, ADDR_CLASS_LOCAL);
    EXPECT_STR(info.domain_param, "mydestination");
    EXPECT_STR(info.rcpt_param, "local_recipient_maps");

    /* Any case, one trailing dot. */
    EXPECT_INT(class_of("MX.Test.Invalid."), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("mx.test.invalid.."), ADDR_CLASS_DEFAULT);

    /*
     * In mydestination and virtual_alias_domains: local. Postfix:
     * "250 2.1.5 Ok" for u@both.example and "warning: do not list domain
     * both.example in BOTH mydestination and virtual_alias_domains";
     * we answered 550 User unknown in virtual alias table before.
     */
    EXPECT_INT(class_of("both.example"), ADDR_CLASS_LOCAL);

    EXPECT_INT(addr_class_domain("alias.example", &info), ADDR_CLASS_ALIAS);
    EXPECT_STR(info.domain_param, "virtual_alias_domains");
    EXPECT_STR(info.rcpt_param, "virtual_alias_maps");
    EXPECT_INT(class_of("twice.example"), ADDR_CLASS_ALIAS);

    EXPECT_INT(addr_class_domain("relay.example", &info), ADDR_CLASS_RELAY);
    EXPECT_STR(info.domain_param, "relay_domains");
    EXPECT_STR(info.rcpt_param, "relay_recipient_maps");
    /* relay_domains is in parent_domain_matches_subdomains. */
    EXPECT_INT(class_of("sub.relay.example"), ADDR_CLASS_RELAY);

    EXPECT_INT(addr_class_domain("elsewhere.example", &info), ADDR_CLASS_DEFAULT);
    EXPECT(info.domain_param == 0);
    EXPECT(info.rcpt_param == 0);
    EXPECT_INT(class_of(""), ADDR_CLASS_DEFAULT);

    /* Addresses: the domain after the last "@", else $myorigin. */
    EXPECT_INT(addr_class_addr("u@relay.example", 0), ADDR_CLASS_RELAY);
    EXPECT_INT(addr_class_addr("\"a@b\"@alias.example", 0), ADDR_CLASS_ALIAS);
    EXPECT_INT(addr_class_addr("u", 0), ADDR_CLASS_LOCAL);

    /* One list, whatever the precedence. */
    EXPECT_INT(addr_class_listed(ADDR_CLASS_RELAY, "mx.test.invalid"), 1);
    EXPECT_INT(addr_class_listed(ADDR_CLASS_ALIAS, "both.example"), 1);
    EXPECT_INT(addr_class_listed(ADDR_CLASS_LOCAL, "relay.example"), 0);

    EXPECT_STR(addr_class_name(ADDR_CLASS_ALIAS), "virtual alias");
    EXPECT(addr_class_rcpt_param(ADDR_CLASS_DEFAULT) == 0);
}

UNIT_TEST(virtual_mailbox_domains_is_not_a_class)
{
    /*
     * No virtual(8) here: the domain stays in the default class, and
     * smtpd refuses it as relaying (Postfix: 250 2.1.5 Ok, then delivery
     * by virtual(8)); master logs "unused parameter".
     */
    setup("virtual_mailbox_domains", "vmbox.example", (char *) 0);
    EXPECT_INT(class_of("vmbox.example"), ADDR_CLASS_DEFAULT);
}

UNIT_TEST(mydestination_table_and_file_items)
{
    char    value[1024];
    char    cmd[600];

    write_file("main.cf", "");		/* for Debian's postmap */
    write_file("dest", "tbl.example\tx\n");
    snprintf(cmd, sizeof(cmd), "/usr/sbin/postmap -c %s hash:%s", dir, path("dest"));
    EXPECT_INT(system(cmd), 0);
    write_file("texthash", "text.example x\n");
    write_file("dest.list", "# local domains\nfile.example\n"
	       "file2.example, file3.example\n  file4.example\n");
    snprintf(value, sizeof(value), "$myhostname, hash:%s, texthash:%s, %s, !no.example",
	     path("dest"), path("texthash"), path("dest.list"));
    setup("mydestination", value, "relay_domains", "file2.example", (char *) 0);

    EXPECT_INT(class_of("tbl.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("TBL.EXAMPLE."), ADDR_CLASS_LOCAL);
    /* mydestination is not in parent_domain_matches_subdomains. */
    EXPECT_INT(class_of("sub.tbl.example"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("text.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("file.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("file2.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("file3.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("file4.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("no.example"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(addr_class_bare_user("file3.example"), 1);

    /* Parsed once per configuration: a changed file counts after a reload. */
    write_file("dest.list", "new.example\n");
    EXPECT_INT(class_of("file.example"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("new.example"), ADDR_CLASS_DEFAULT);
    addr_class_reset();
    EXPECT_INT(class_of("file.example"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("new.example"), ADDR_CLASS_LOCAL);
}

UNIT_TEST(domain_literals)
{
    ADDR_CLASS_INFO info;

    /*
     * Postfix: "250 2.1.5 Ok" for u@[127.0.0.1] with inet_interfaces =
     * 127.0.0.1, and for u@[192.0.2.77] and u@[IPv6:fd00::77] with
     * proxy_interfaces = 192.0.2.77, [fd00::77]; we answered "554 5.7.1
     * <u@[127.0.0.1]>: Relay access denied" before. Other addresses:
     * 554 Relay access denied, as before.
     */
    setup("proxy_interfaces", "192.0.2.77, [fd00::77]", (char *) 0);
    EXPECT_INT(addr_class_domain("[127.0.0.1]", &info), ADDR_CLASS_LOCAL);
    EXPECT_STR(info.domain_param, "inet_interfaces");
    EXPECT_STR(info.rcpt_param, "local_recipient_maps");
    EXPECT_INT(addr_class_domain("[192.0.2.77]", &info), ADDR_CLASS_LOCAL);
    EXPECT_STR(info.domain_param, "proxy_interfaces");
    EXPECT_INT(class_of("[IPv6:fd00::77]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[ipv6:FD00:0:0::77]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[127.0.0.2]"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("[IPv6:::1]"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("[fd00::77]"), ADDR_CLASS_DEFAULT);	/* no IPv6: tag */
    EXPECT_INT(class_of("[IPv6:127.0.0.1]"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("[not-an-address]"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(class_of("127.0.0.1"), ADDR_CLASS_DEFAULT);
    EXPECT_INT(addr_class_bare_user("[127.0.0.1]"), 1);

    /* A literal written in mydestination is a domain like any other. */
    setup("mydestination", "[192.0.2.9]", (char *) 0);
    EXPECT_INT(addr_class_domain("[192.0.2.9]", &info), ADDR_CLASS_LOCAL);
    EXPECT_STR(info.domain_param, "mydestination");

    /* Postfix: loopback-only means 127.0.0.1 and ::1. */
    setup("inet_interfaces", "loopback-only", (char *) 0);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[IPv6:::1]"), ADDR_CLASS_LOCAL);

    /* "all": every interface address; lo is always there. */
    setup("inet_interfaces", "all", (char *) 0);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[192.0.2.255]"), ADDR_CLASS_DEFAULT);

    /* Postfix: with inet_protocols = ipv4, u@[IPv6:::1] is relaying. */
    setup("inet_interfaces", "all", "inet_protocols", "ipv4", (char *) 0);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[IPv6:::1]"), ADDR_CLASS_DEFAULT);

    /* Host names are resolved once (localhost: /etc/hosts). */
    setup("inet_interfaces", "localhost", (char *) 0);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_LOCAL);
}

UNIT_TEST(bare_user_step)
{
    /*
     * The user-only key of virtual(5) and relay_recipient_maps: for
     * $myorigin and the local class. Postfix, with mydestination =
     * localhost, myorigin = origin.example, relay_domains =
     * origin.example, mx.test.invalid and relay_recipient_maps =
     * inline:{ bob=x }: "250 2.1.5 Ok" for bob@origin.example and "550
     * 5.1.1 <bob@mx.test.invalid>: Recipient address rejected: User
     * unknown in relay recipient table"; we answered 250 for both
     * ($myhostname counted, $myorigin did not).
     */
    setup("mydestination", "localhost", "myorigin", "origin.example",
	  "relay_domains", "origin.example, mx.test.invalid", (char *) 0);
    EXPECT_INT(addr_class_bare_user("origin.example"), 1);
    EXPECT_INT(addr_class_bare_user("Origin.Example."), 1);
    EXPECT_INT(class_of("origin.example"), ADDR_CLASS_RELAY);
    EXPECT_INT(addr_class_bare_user("mx.test.invalid"), 0);
    EXPECT_INT(addr_class_bare_user("localhost"), 1);
    EXPECT_INT(addr_class_bare_user("[127.0.0.1]"), 1);
    EXPECT_INT(addr_class_bare_user("elsewhere.example"), 0);
}

UNIT_TEST(inet_interfaces_clients)
{
    setup("proxy_interfaces", "192.0.2.77", (char *) 0);
    EXPECT_INT(addr_class_interface("127.0.0.1"), 1);
    EXPECT_INT(addr_class_interface("::ffff:127.0.0.1"), 1);
    EXPECT_INT(addr_class_interface("127.0.0.2"), 0);
    /* permit_inet_interfaces: not proxy_interfaces, as in Postfix. */
    EXPECT_INT(addr_class_interface("192.0.2.77"), 0);
    EXPECT_INT(addr_class_interface("unknown"), 0);
}

UNIT_TEST(table_errors_are_not_no)
{
    char    value[600];
    ADDR_CLASS_INFO info;

    /*
     * Postfix, mydestination = $myhostname, hash:missing: 250 for
     * u@$myhostname (decided before the table), "451 4.3.0 <u@x>:
     * Temporary lookup failure" for the others, literals too, with
     * "warning: mydestination: hash:...: table lookup problem".
     */
    snprintf(value, sizeof(value), "$myhostname, hash:%s", path("missing"));
    setup("mydestination", value, "relay_domains", "relay.example", (char *) 0);
    EXPECT_INT(class_of("mx.test.invalid"), ADDR_CLASS_LOCAL);
    EXPECT_INT(addr_class_domain("relay.example", &info), ADDR_CLASS_RETRY);
    EXPECT_INT(info.class, ADDR_CLASS_RETRY);
    EXPECT(info.domain_param == 0 && info.rcpt_param == 0);
    EXPECT_INT(class_of("other.example"), ADDR_CLASS_RETRY);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_RETRY);
    EXPECT_INT(addr_class_addr("u@other.example", 0), ADDR_CLASS_RETRY);
    EXPECT_INT(addr_class_bare_user("other.example"), -1);
    EXPECT_INT(addr_class_listed(ADDR_CLASS_LOCAL, "other.example"), -1);
    /* $myorigin needs no list. */
    EXPECT_INT(addr_class_bare_user("mx.test.invalid"), 1);

    /* A failure is not remembered: the next question asks again. */
    EXPECT_INT(class_of("other.example"), ADDR_CLASS_RETRY);

    snprintf(value, sizeof(value), "alias.example, texthash:%s", path("missing"));
    setup("virtual_alias_domains", value, (char *) 0);
    EXPECT_INT(class_of("mx.test.invalid"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("alias.example"), ADDR_CLASS_ALIAS);
    EXPECT_INT(class_of("other.example"), ADDR_CLASS_RETRY);

    snprintf(value, sizeof(value), "%s", path("missing-file"));
    setup("relay_domains", value, (char *) 0);
    EXPECT_INT(class_of("other.example"), ADDR_CLASS_RETRY);
    EXPECT_INT(addr_class_listed(ADDR_CLASS_RELAY, "x.example"), -1);
    /* The bare-user step asks only whether the domain is local. */
    EXPECT_INT(addr_class_bare_user("other.example"), 0);
    EXPECT_INT(addr_class_bare_user("localhost"), 1);

    /* An interface name that does not resolve: literals are unknown. */
    setup("proxy_interfaces", "no-such-host.invalid", (char *) 0);
    EXPECT_INT(class_of("[127.0.0.1]"), ADDR_CLASS_LOCAL);
    EXPECT_INT(class_of("[192.0.2.1]"), ADDR_CLASS_RETRY);
    EXPECT_INT(class_of("other.example"), ADDR_CLASS_DEFAULT);
}

int     main(void)
{
    char    cmd[300];
    int     rc;

    msg_init("postfix", "test_addr_class");
    if (mkdtemp(dir) == 0)
	return (1);
    rc = unit_run();
    addr_class_reset();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	rc = 1;
    return (rc);
}
