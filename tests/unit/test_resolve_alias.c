/*
 * NAME
 *	test_resolve_alias - routing of virtual alias domain addresses
 * DESCRIPTION
 *	An address of a virtual alias domain that reaches the router had no
 *	alias: it goes to the error transport with Postfix's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/msg.h"
#include "global/resolve.h"
#include "unit.h"

static char dir[] = "/tmp/test_resolve_alias.XXXXXX";

UNIT_TEST(alias_class)
{
    char    path[300];
    FILE   *fp;
    RESOLVE_REPLY *r = resolve_reply_alloc();

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "virtual_alias_domains = alias.example\n"
	    "relay_domains = relay.example\n"
	    "transport_maps = inline:{ alias.example=smtp:[192.0.2.1] }\n");
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
    resolve_reset();

    EXPECT_INT(resolve_addr("a@b.example", "nobody@Alias.Example", r), RESOLVE_OK);
    EXPECT_STR(vstring_str(r->transport), "error");
    EXPECT_STR(vstring_str(r->nexthop), "5.1.1 User unknown in virtual alias table");
    EXPECT(r->flags & RESOLVE_CLASS_ALIAS);

    EXPECT_INT(resolve_addr("a@b.example", "user@relay.example", r), RESOLVE_OK);
    EXPECT_STR(vstring_str(r->transport), "relay");
    EXPECT(r->flags & RESOLVE_CLASS_RELAY);
    resolve_reply_free(r);
}

UNIT_TEST(local_class)
{
    char    path[300];
    FILE   *fp;
    RESOLVE_REPLY *r = resolve_reply_alloc();

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "myhostname = mx.test.invalid\n"
	    "mydestination = $myhostname, both.example, local.example\n"
	    "inet_interfaces = 127.0.0.1\n"
	    "virtual_alias_domains = both.example\n"
	    "relay_domains = local.example\n");
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
    resolve_reset();

    /*
     * A domain of mydestination that virtual_alias_domains lists too is
     * local, not an alias domain that bounces (Postfix: local class,
     * "warning: do not list domain both.example in BOTH mydestination
     * and virtual_alias_domains"): it goes to local_transport.
     */
    EXPECT_INT(resolve_addr("a@b.example", "u@both.example", r), RESOLVE_OK);
    EXPECT_STR(vstring_str(r->transport), "local");
    EXPECT_STR(vstring_str(r->nexthop), "mx.test.invalid");
    EXPECT(r->flags & RESOLVE_CLASS_LOCAL);
    EXPECT((r->flags & (RESOLVE_CLASS_DEFAULT | RESOLVE_CLASS_ALIAS)) == 0);

    /* Listed in relay_domains as well: local all the same, never relayed. */
    EXPECT_INT(resolve_addr("a@b.example", "u@local.example", r), RESOLVE_OK);
    EXPECT_STR(vstring_str(r->transport), "local");
    EXPECT(r->flags & RESOLVE_CLASS_LOCAL);
    EXPECT((r->flags & RESOLVE_CLASS_RELAY) == 0);

    /* An address literal of inet_interfaces is local too. */
    EXPECT_INT(resolve_addr("a@b.example", "u@[127.0.0.1]", r), RESOLVE_OK);
    EXPECT(r->flags & RESOLVE_CLASS_LOCAL);
    EXPECT_STR(vstring_str(r->transport), "local");
    EXPECT_INT(resolve_addr("a@b.example", "u@[127.0.0.2]", r), RESOLVE_OK);
    EXPECT((r->flags & RESOLVE_CLASS_LOCAL) == 0);

    /* A list that cannot answer defers, never "not local". */
    fp = fopen(path, "w");
    fprintf(fp, "mydestination = hash:%s/missing\n", dir);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
    resolve_reset();
    EXPECT_INT(resolve_addr("a@b.example", "u@elsewhere.example", r), RESOLVE_RETRY);
    EXPECT_STR(vstring_str(r->transport), "");
    resolve_reply_free(r);
}

int     main(void)
{
    char    cmd[300];
    int     rc;

    msg_init("postfix", "test_resolve_alias");
    if (mkdtemp(dir) == 0)
	return (1);
    rc = unit_run();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	rc = 1;
    return (rc);
}
