/*
 * NAME
 *	test_match_list - domain and network lists: literals, files, tables, "!"
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "global/mail_conf.h"
#include "dict/match_list.h"
#include "global/mail_list.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "unit.h"

static char dir[] = "/tmp/test_match_list.XXXXXX";
static char path_buf[512];

static const char *write_file(const char *name, const char *text)
{
    FILE   *fp;

    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
    fp = fopen(path_buf, "w");
    fputs(text, fp);
    fclose(fp);
    return (path_buf);
}

/* domain() flags: BYNAME decides parent matching as mail_list(3) does */
#define BYNAME (-1)

static int domain(const char *param, const char *text, int flags, const char *name)
{
    MATCH_LIST *list = match_list_create(param, text, flags == BYNAME ?
					 mail_list_parent_flag(param) : flags);
    int     rc = match_list_domain(list, name);

    match_list_free(list);
    return (rc);
}

static int client(const char *param, const char *text, const char *name, const char *addr)
{
    MATCH_LIST *list = match_list_create(param, text, mail_list_parent_flag(param));
    int     rc = match_list_client(list, name, addr);

    match_list_free(list);
    return (rc);
}

#define NOPARENT 0
#define PARENT MATCH_LIST_PARENT

UNIT_TEST(domain_literals)
{
    EXPECT_INT(domain("x", "example.com", NOPARENT, "example.com"), 1);
    EXPECT_INT(domain("x", "example.com", NOPARENT, "EXAMPLE.Com"), 1);
    EXPECT_INT(domain("x", "Example.COM", NOPARENT, "example.com"), 1);
    EXPECT_INT(domain("x", "example.com", NOPARENT, "sub.example.com"), 0);
    EXPECT_INT(domain("x", ".example.com", NOPARENT, "sub.example.com"), 1);
    EXPECT_INT(domain("x", ".example.com", NOPARENT, "a.b.example.com"), 1);
    EXPECT_INT(domain("x", ".example.com", NOPARENT, "example.com"), 0);
    EXPECT_INT(domain("x", "example.com", PARENT, "sub.example.com"), 1);
    EXPECT_INT(domain("x", "example.com", PARENT, "a.b.example.com"), 1);
    EXPECT_INT(domain("x", "example.com", PARENT, "badexample.com"), 0);
    EXPECT_INT(domain("x", "example.com", NOPARENT, "badexample.com"), 0);
    EXPECT_INT(domain("x", "a.test, b.test  c.test,,d.test", NOPARENT, "c.test"), 1);
    EXPECT_INT(domain("x", "a.test\n\tb.test", NOPARENT, "b.test"), 1);
    EXPECT_INT(domain("x", "", NOPARENT, "a.test"), 0);
    EXPECT_INT(domain("x", 0, NOPARENT, "a.test"), 0);
}

UNIT_TEST(parent_domain_matches_subdomains)
{
    mail_conf_reset();
    /* Default list: relay_domains is in it, transport_maps is not. */
    EXPECT_INT(domain("relay_domains", "example.com", BYNAME, "sub.example.com"), 1);
    EXPECT_INT(domain("fast_flush_domains", "example.com", BYNAME, "sub.example.com"), 1);
    EXPECT_INT(domain("transport_maps", "example.com", BYNAME, "sub.example.com"), 0);
    EXPECT_INT(domain("mydestination", "example.com", BYNAME, "sub.example.com"), 0);
    EXPECT_INT(domain("mydestination", ".example.com", BYNAME, "sub.example.com"), 1);
    mail_conf_set("parent_domain_matches_subdomains", "debug_peer_list mydestination");
    EXPECT_INT(domain("relay_domains", "example.com", BYNAME, "sub.example.com"), 0);
    EXPECT_INT(domain("mydestination", "example.com", BYNAME, "sub.example.com"), 1);
    mail_conf_reset();
}

UNIT_TEST(negation_first_match_wins)
{
    EXPECT_INT(domain("x", "!bad.example.com, .example.com", NOPARENT, "bad.example.com"), 0);
    EXPECT_INT(domain("x", "!bad.example.com, .example.com", NOPARENT, "good.example.com"), 1);
    EXPECT_INT(domain("x", ".example.com, !bad.example.com", NOPARENT, "bad.example.com"), 1);
    EXPECT_INT(domain("x", "!!a.test", NOPARENT, "a.test"), 1);
    EXPECT_INT(domain("x", "!a.test", NOPARENT, "b.test"), 0);
    /* "!" alone is an error item: it answers -1 when reached. */
    EXPECT_INT(domain("x", "a.test, !", NOPARENT, "a.test"), 1);
    EXPECT_INT(domain("x", "a.test, !", NOPARENT, "b.test"), -1);
}

UNIT_TEST(files)
{
    char    list[600];
    const char *p;

    p = write_file("domains", "# comment\n\na.test, b.test\n  # indented comment\n"
		   "c.test\n  d.test\n!e.test\n.e.test");
    snprintf(list, sizeof(list), "x.test %s", p);
    EXPECT_INT(domain("x", list, NOPARENT, "a.test"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "d.test"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "x.test"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "e.test"), 0);
    EXPECT_INT(domain("x", list, NOPARENT, "sub.e.test"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "comment"), 0);
    EXPECT_INT(domain("x", list, NOPARENT, "f.test"), 0);

    /* !/file/name negates each item of the file. */
    snprintf(list, sizeof(list), "!%s, .test", p);
    EXPECT_INT(domain("x", list, NOPARENT, "a.test"), 0);
    EXPECT_INT(domain("x", list, NOPARENT, "e.test"), 1);	/* !!e.test */
    EXPECT_INT(domain("x", list, NOPARENT, "f.test"), 1);

    /* A file in a file. */
    p = write_file("outer", "");
    snprintf(list, sizeof(list), "%s/domains\n", dir);
    write_file("outer", list);
    snprintf(list, sizeof(list), "%s", p);
    EXPECT_INT(domain("x", list, NOPARENT, "c.test"), 1);

    /* A file that includes itself: an error, not a crash. */
    snprintf(list, sizeof(list), "%s/self", dir);
    write_file("self", list);
    EXPECT_INT(domain("x", list, NOPARENT, "c.test"), -1);
}

UNIT_TEST(missing_file_is_temporary_error)
{
    MATCH_LIST *list;

    list = match_list_create("relay_domains", "a.test, /nonexistent/file, b.test", mail_list_parent_flag("relay_domains"));
    EXPECT_INT(match_list_domain(list, "a.test"), 1);
    EXPECT_INT(match_list_domain(list, "b.test"), -1);
    EXPECT(strstr(match_list_error(list), "relay_domains") != 0);
    EXPECT(strstr(match_list_error(list), "/nonexistent/file") != 0);
    EXPECT_INT(match_list_client(list, "b.test", "192.0.2.1"), -1);
    match_list_free(list);
}

UNIT_TEST(networks_ipv4)
{
    EXPECT_INT(client("mynetworks", "127.0.0.0/8", "localhost", "127.0.0.1"), 1);
    EXPECT_INT(client("mynetworks", "127.0.0.0/8", "x", "128.0.0.1"), 0);
    EXPECT_INT(client("mynetworks", "192.0.2.1", "x", "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "192.0.2.1", "x", "192.0.2.10"), 0);
    EXPECT_INT(client("mynetworks", "[192.0.2.1]", "x", "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "192.0.2.0/24", "x", "192.0.2.255"), 1);
    EXPECT_INT(client("mynetworks", "192.0.2.0/25", "x", "192.0.2.128"), 0);
    EXPECT_INT(client("mynetworks", "192.0.2.128/25", "x", "192.0.2.129"), 1);
    EXPECT_INT(client("mynetworks", "10.1.2.3/32", "x", "10.1.2.3"), 1);
    EXPECT_INT(client("mynetworks", "0.0.0.0/0", "x", "203.0.113.9"), 1);
    EXPECT_INT(client("mynetworks", "0.0.0.0/0", "x", "::1"), 0);
    EXPECT_INT(client("mynetworks", "10.0.0.0/8", "x", "::ffff:10.9.8.7"), 1);
    /* Host bits outside the mask, or a mask too wide: temporary error. */
    EXPECT_INT(client("mynetworks", "10.0.0.1/8", "x", "10.0.0.1"), -1);
    EXPECT_INT(client("mynetworks", "10.0.0.1/8", "x", "10.0.0.2"), -1);
    EXPECT_INT(client("mynetworks", "10.0.0.0/33", "x", "10.0.0.2"), -1);
    EXPECT_INT(client("mynetworks", "192.0.2.0/24, 10.0.0.0/33", "x", "192.0.2.3"), 1);
}

UNIT_TEST(networks_ipv6)
{
    EXPECT_INT(client("mynetworks", "[::1]/128", "localhost", "::1"), 1);
    EXPECT_INT(client("mynetworks", "[::1]/128", "x", "::2"), 0);
    EXPECT_INT(client("mynetworks", "[::1]", "x", "::1"), 1);
    EXPECT_INT(client("mynetworks", "[::1]", "x", "0:0:0:0:0:0:0:1"), 1);
    EXPECT_INT(client("mynetworks", "[fd00::]/64", "x", "fd00::1:2"), 1);
    EXPECT_INT(client("mynetworks", "[fd00::]/64", "x", "fd00:0:0:1::2"), 0);
    EXPECT_INT(client("mynetworks", "[2001:DB8::]/32", "x", "2001:db8:ffff::1"), 1);
    EXPECT_INT(client("mynetworks", "[fd00::]/64", "x", "10.0.0.1"), 0);
    EXPECT_INT(client("mynetworks", "fd00::/64", "x", "fd00::5"), 1);
    EXPECT_INT(client("mynetworks", "::1", "x", "::1"), 1);
    EXPECT_INT(client("mynetworks", "[fd00::1]/64", "x", "fd00::5"), -1);
    EXPECT_INT(client("mynetworks", "[fd00::]/129", "x", "fd00::5"), -1);
}

UNIT_TEST(networks_names)
{
    /* mynetworks is in parent_domain_matches_subdomains by default. */
    mail_conf_reset();
    EXPECT_INT(client("mynetworks", "example.com", "mail.example.com", "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "example.com", "example.com", "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "example.com", "unknown", "192.0.2.1"), 0);
    EXPECT_INT(client("smtpd_client_restrictions", "example.com", "mail.example.com",
		      "192.0.2.1"), 0);
    EXPECT_INT(client("smtpd_client_restrictions", ".example.com", "mail.example.com",
		      "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "!mail.example.com, 192.0.2.0/24",
		      "mail.example.com", "192.0.2.1"), 0);
    EXPECT_INT(client("mynetworks", "!mail.example.com, 192.0.2.0/24",
		      "other.example.com", "192.0.2.1"), 1);
    EXPECT_INT(client("mynetworks", "!192.0.2.1 192.0.2.0/24", "x", "192.0.2.1"), 0);
    EXPECT_INT(client("mynetworks", "!192.0.2.1 192.0.2.0/24", "x", "192.0.2.2"), 1);
    /* A domain item never gets in the way of address matching. */
    EXPECT_INT(client("mynetworks", "dead.beef, 10.0.0.0/8", "x", "10.1.1.1"), 1);
}

UNIT_TEST(networks_file)
{
    char    list[600];
    const char *p = write_file("nets", "# trusted\n127.0.0.0/8 [::1]/128\n"
			       "!192.0.2.7\n192.0.2.0/24\n");

    snprintf(list, sizeof(list), "%s", p);
    EXPECT_INT(client("mynetworks", list, "x", "127.0.0.1"), 1);
    EXPECT_INT(client("mynetworks", list, "x", "::1"), 1);
    EXPECT_INT(client("mynetworks", list, "x", "192.0.2.7"), 0);
    EXPECT_INT(client("mynetworks", list, "x", "192.0.2.8"), 1);
    EXPECT_INT(client("mynetworks", list, "x", "198.51.100.1"), 0);
}

UNIT_TEST(domain_tables)
{
    char    list[600];
    const char *p;

    /* A fixed-key table: parent lookups as "domain" or ".domain". */
    p = write_file("domains.txt", "example.com OK\n.dot.example OK\nexcluded.example.com OK\n");
    snprintf(list, sizeof(list), "texthash:%s", p);
    EXPECT_INT(domain("x", list, NOPARENT, "example.com"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "EXAMPLE.COM"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "sub.example.com"), 0);
    EXPECT_INT(domain("x", list, PARENT, "sub.example.com"), 1);
    EXPECT_INT(domain("x", list, PARENT, "a.b.example.com"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "sub.dot.example"), 1);
    EXPECT_INT(domain("x", list, NOPARENT, "dot.example"), 0);
    EXPECT_INT(domain("x", list, PARENT, "other.test"), 0);

    /* Negated table, then a literal. */
    snprintf(list, sizeof(list), "!texthash:%s, .com", p);
    EXPECT_INT(domain("x", list, NOPARENT, "excluded.example.com"), 0);
    EXPECT_INT(domain("x", list, NOPARENT, "other.com"), 1);

    /* inline: and static: tables; the value is ignored. */
    EXPECT_INT(domain("x", "inline:{ a.test=x, { b.test = y, z } }", NOPARENT, "b.test"), 1);
    EXPECT_INT(domain("x", "inline:{ a.test=x, b.test=y }, c.test", NOPARENT, "c.test"), 1);
    EXPECT_INT(domain("x", "inline:{ a.test=x }", NOPARENT, "d.test"), 0);
    EXPECT_INT(domain("x", "static:whatever", NOPARENT, "any.test"), 1);
}

UNIT_TEST(hash_tables)
{
    char    list[600];
    char    cmd[700];
    const char *p;

    write_file("main.cf", "");
    p = write_file("relay", "example.net OK\n192.0.2.9 OK\n");
    snprintf(cmd, sizeof(cmd), "/usr/sbin/postmap -c %s hash:%s", dir, p);
    if (system(cmd) != 0) {
	UNIT_FAIL("cannot run %s", cmd);
	return;
    }
    snprintf(list, sizeof(list), "hash:%s", p);
    EXPECT_INT(domain("relay_domains", list, BYNAME, "example.net"), 1);
    EXPECT_INT(domain("relay_domains", list, BYNAME, "mx.example.net"), 1);
    EXPECT_INT(domain("transport_maps", list, BYNAME, "mx.example.net"), 0);
    EXPECT_INT(client("mynetworks", list, "unknown", "192.0.2.9"), 1);
    EXPECT_INT(client("mynetworks", list, "host.example.net", "198.51.100.1"), 1);
    EXPECT_INT(client("mynetworks", list, "unknown", "198.51.100.1"), 0);

    /* A rebuilt table is noticed. */
    {
	MATCH_LIST *ml = match_list_create("relay_domains", list, mail_list_parent_flag("relay_domains"));

	EXPECT_INT(match_list_changed(ml), 0);
	p = write_file("relay", "example.org OK\n");
	snprintf(cmd, sizeof(cmd), "/usr/sbin/postmap -c %s hash:%s", dir, p);
	EXPECT_INT(system(cmd), 0);
	EXPECT_INT(match_list_changed(ml), 1);
	match_list_free(ml);
    }
}

UNIT_TEST(table_errors_are_temporary)
{
    MATCH_LIST *list;
    char    text[600];

    /* A missing .db file: every lookup fails, never "no match". */
    snprintf(text, sizeof(text), "a.test, hash:%s/nosuch, b.test", dir);
    list = match_list_create("relay_domains", text, mail_list_parent_flag("relay_domains"));
    EXPECT_INT(match_list_domain(list, "a.test"), 1);
    EXPECT_INT(match_list_domain(list, "b.test"), -1);
    EXPECT(strstr(match_list_error(list), "nosuch") != 0);
    EXPECT_INT(match_list_client(list, "x", "192.0.2.1"), -1);
    EXPECT_INT(match_list_string(list, "b.test"), -1);
    match_list_free(list);

    /* An unknown table type, and a bad regular expression. */
    EXPECT_INT(domain("x", "nosuchtype:/etc/x", NOPARENT, "a.test"), -1);
    snprintf(text, sizeof(text), "pcre:%s", write_file("bad.pcre", "/(unclosed/ OK\n"));
    EXPECT_INT(domain("x", text, NOPARENT, "a.test"), -1);
}

/*
 * relay_domains = .dot.test, parent.test, !no.list.test, list.test as
 * Debian's Postfix 3.7.11 answered RCPT TO from outside mynetworks
 * (reject_unauth_destination): in a parent-matching list a leading-dot
 * item matches nothing, not even subdomains.
 */
UNIT_TEST(relay_domains_as_postfix)
{
    MATCH_LIST *list;

    mail_conf_reset();
    list = match_list_create("relay_domains",
			     ".dot.test, parent.test, !no.list.test, list.test", mail_list_parent_flag("relay_domains"));
    EXPECT_INT(match_list_domain(list, "dot.test"), 0);
    EXPECT_INT(match_list_domain(list, "sub.dot.test"), 0);
    EXPECT_INT(match_list_domain(list, "a.sub.dot.test"), 0);
    EXPECT_INT(match_list_domain(list, "parent.test"), 1);
    EXPECT_INT(match_list_domain(list, "sub.parent.test"), 1);
    EXPECT_INT(match_list_domain(list, "no.list.test"), 0);
    EXPECT_INT(match_list_domain(list, "x.no.list.test"), 0);
    EXPECT_INT(match_list_domain(list, "list.test"), 1);
    EXPECT_INT(match_list_domain(list, "other.test"), 0);
    match_list_free(list);

    /* mynetworks forms: 451 for a bad net/mask, a missing file or table. */
    EXPECT_INT(client("mynetworks", "127.0.0.1/8", "unknown", "127.0.0.1"), -1);
    EXPECT_INT(client("mynetworks", "!127.0.0.1 127.0.0.0/8", "unknown", "127.0.0.1"), 0);
    EXPECT_INT(client("mynetworks", "127.0.0.0/8", "unknown", "127.0.0.1"), 1);
    EXPECT_INT(client("mynetworks", "[127.0.0.1]", "unknown", "127.0.0.1"), 1);
    EXPECT_INT(client("mynetworks", "static:x", "unknown", "127.0.0.1"), 1);
    EXPECT_INT(client("mynetworks", "/nonexistent/file", "unknown", "127.0.0.1"), -1);
    EXPECT_INT(client("mynetworks", "hash:/nonexistent/table", "unknown", "127.0.0.1"), -1);
}

UNIT_TEST(pattern_tables_get_whole_name)
{
    char    list[600];
    const char *p;

    p = write_file("domains.pcre", "/^example\\.com$/ OK\n/\\.sub\\.test$/ OK\n");
    snprintf(list, sizeof(list), "pcre:%s", p);
    EXPECT_INT(domain("x", list, NOPARENT, "example.com"), 1);
    /* No parent-domain keys for a pattern table. */
    EXPECT_INT(domain("x", list, PARENT, "a.example.com"), 0);
    EXPECT_INT(domain("x", list, PARENT, "a.sub.test"), 1);
}

UNIT_TEST(network_tables)
{
    char    list[600];
    const char *p;

    p = write_file("nets.cidr", "10.0.0.0/8 OK\n2001:db8::/32 OK\n");
    snprintf(list, sizeof(list), "cidr:%s", p);
    EXPECT_INT(client("mynetworks", list, "unknown", "10.1.2.3"), 1);
    EXPECT_INT(client("mynetworks", list, "unknown", "2001:db8::5"), 1);
    EXPECT_INT(client("mynetworks", list, "unknown", "192.0.2.1"), 0);
    snprintf(list, sizeof(list), "!cidr:%s, 0.0.0.0/0", p);
    EXPECT_INT(client("mynetworks", list, "unknown", "10.1.2.3"), 0);
    EXPECT_INT(client("mynetworks", list, "unknown", "192.0.2.1"), 1);
}

UNIT_TEST(string_lists)
{
    MATCH_LIST *list = match_list_create("authorized_flush_users", "root, !bob, Alice", mail_list_parent_flag("authorized_flush_users"));

    EXPECT_INT(match_list_string(list, "root"), 1);
    EXPECT_INT(match_list_string(list, "alice"), 1);
    EXPECT_INT(match_list_string(list, "bob"), 0);
    EXPECT_INT(match_list_string(list, "eve"), 0);
    match_list_free(list);
}

int     main(void)
{
    int     rc;
    char    cmd[600];

    if (mkdtemp(dir) == 0) {
	perror("mkdtemp");
	return (2);
    }
    msg_init("postfix", "test_match_list");
    rc = unit_run();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	rc = 1;
    return (rc);
}
