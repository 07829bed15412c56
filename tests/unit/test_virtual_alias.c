/*
 * NAME
 *	test_virtual_alias - alias domains, lookup order, 1:N expansion
 * DESCRIPTION
 *	Tables are texthash: files in a temporary folder (read directly,
 *	no postmap), so the test depends on main.cf and dict only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "global/virtual_alias.h"
#include "global/addr_class.h"
#include "unit.h"

static char dir[] = "/tmp/test_virtual_alias.XXXXXX";

static void write_file(const char *name, const char *text)
{
    char    path[256];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

/* setup - main.cf with the given extra lines, the standard alias table */

static VIRTUAL_ALIAS *setup(const char *extra)
{
    char    main_cf[4096];

    write_file("virtual",
	       "alias.example		anything\n"
	       "info@alias.example	owner@provider.example\n"
	       "team@alias.example	a@one.example, b@two.example,\n"
	       "	a@one.example\n"
	       "list@alias.example	team@alias.example, c@three.example\n"
	       "@catchall.example	boss@provider.example\n"
	       "@rename.example		@renamed.example\n"
	       "sales@relay.example	sales@crm.example\n"
	       "keep@relay.example	keep@relay.example, copy@archive.example\n"
	       "loop1@alias.example	loop2@alias.example\n"
	       "loop2@alias.example	loop1@alias.example\n"
	       "quoted@alias.example	\"a,b\"@q.example, <x@q.example>\n"
	       "bare@alias.example	postmaster\n"
	       "joe@ext.example		joe@target.example\n"
	       "joe+list@ext.example	lists@target.example\n"
	       "@ext.example		all@target.example\n");
    snprintf(main_cf, sizeof(main_cf),
	     "myhostname = mx.test.invalid\n"
	     "myorigin = origin.example\n"
	     "virtual_alias_maps = texthash:%s/virtual\n%s", dir, extra);
    write_file("main.cf", main_cf);
    mail_conf_reset();
    mail_conf_read(dir);
    addr_class_reset();			/* the domain lists of the new main.cf */
    return (virtual_alias_create());
}

/* expand - "target<orig>,..." (<orig> when it differs), or "RETRY why" */

static const char *expand(VIRTUAL_ALIAS *va, const char *rcpt)
{
    static VSTRING *out;
    VSTRING *why = vstring_alloc(10);
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();

    if (out == 0)
	out = vstring_alloc(100);
    vstring_reset(out);
    if (virtual_alias_expand(va, rcpt, res, why) != VIRTUAL_ALIAS_OK) {
	vstring_sprintf(out, "RETRY %s", vstring_str(why));
    } else {
	for (size_t i = 0; i < res->count; i++) {
	    if (i)
		vstring_strcat(out, ",");
	    vstring_strcat(out, res->targets[i].address);
	    if (strcmp(res->targets[i].orig, res->targets[i].address) != 0)
		vstring_sprintf_append(out, "<%s>", res->targets[i].orig);
	}
    }
    virtual_alias_result_free(res);
    vstring_free(why);
    return (vstring_str(out));
}

UNIT_TEST(alias_domains_default)
{
    VIRTUAL_ALIAS *va = setup("");

    /* Default $virtual_alias_maps: the domain name itself is the key. */
    EXPECT_INT(virtual_alias_domain(va, "alias.example"), VIRTUAL_ALIAS_YES);
    EXPECT_INT(virtual_alias_domain(va, "ALIAS.Example"), VIRTUAL_ALIAS_YES);
    EXPECT_INT(virtual_alias_domain(va, "catchall.example"), VIRTUAL_ALIAS_NO);
    EXPECT_INT(virtual_alias_domain(va, "relay.example"), VIRTUAL_ALIAS_NO);
    EXPECT_INT(virtual_alias_domain(va, "sub.alias.example"), VIRTUAL_ALIAS_NO);
    virtual_alias_free(va);
}

UNIT_TEST(alias_domains_list)
{
    VIRTUAL_ALIAS *va = setup("virtual_alias_domains = !no.catchall.example,"
			      " catchall.example .wild.example rename.example\n");

    EXPECT_INT(virtual_alias_domain(va, "catchall.example"), VIRTUAL_ALIAS_YES);
    EXPECT_INT(virtual_alias_domain(va, "no.catchall.example"), VIRTUAL_ALIAS_NO);
    EXPECT_INT(virtual_alias_domain(va, "a.wild.example"), VIRTUAL_ALIAS_YES);
    EXPECT_INT(virtual_alias_domain(va, "wild.example"), VIRTUAL_ALIAS_NO);
    EXPECT_INT(virtual_alias_domain(va, "alias.example"), VIRTUAL_ALIAS_NO);
    virtual_alias_free(va);
}

UNIT_TEST(rcpt_check)
{
    VIRTUAL_ALIAS *va = setup("virtual_alias_domains = alias.example, catchall.example\n");

    EXPECT_INT(virtual_alias_rcpt_check(va, "info@alias.example"), VIRTUAL_ALIAS_FOUND);
    EXPECT_INT(virtual_alias_rcpt_check(va, "INFO@Alias.Example"), VIRTUAL_ALIAS_FOUND);
    EXPECT_INT(virtual_alias_rcpt_check(va, "nobody@alias.example"), VIRTUAL_ALIAS_UNKNOWN);
    EXPECT_INT(virtual_alias_rcpt_check(va, "anyone@catchall.example"), VIRTUAL_ALIAS_FOUND);
    EXPECT_INT(virtual_alias_rcpt_check(va, "sales@relay.example"), VIRTUAL_ALIAS_FOUND);
    EXPECT_INT(virtual_alias_rcpt_check(va, "other@relay.example"), VIRTUAL_ALIAS_NONE);
    /* Targets are not aliases: they get no special treatment. */
    EXPECT_INT(virtual_alias_rcpt_check(va, "owner@provider.example"), VIRTUAL_ALIAS_NONE);
    virtual_alias_free(va);
}

UNIT_TEST(expand_basic)
{
    VIRTUAL_ALIAS *va = setup("");

    EXPECT_STR(expand(va, "info@alias.example"), "owner@provider.example<info@alias.example>");
    EXPECT_STR(expand(va, "Info@Alias.Example"), "owner@provider.example<Info@Alias.Example>");
    /* 1:N with a duplicate target removed. */
    EXPECT_STR(expand(va, "team@alias.example"),
	       "a@one.example<team@alias.example>,b@two.example<team@alias.example>");
    /* Recursive. */
    EXPECT_STR(expand(va, "list@alias.example"),
	       "a@one.example<list@alias.example>,c@three.example<list@alias.example>,"
	       "b@two.example<list@alias.example>");
    /* Not aliased: itself. */
    EXPECT_STR(expand(va, "nobody@relay.example"), "nobody@relay.example");
    /* Catch-all; @domain -> @otherdomain keeps the user. */
    EXPECT_STR(expand(va, "x@catchall.example"), "boss@provider.example<x@catchall.example>");
    EXPECT_STR(expand(va, "Fred@rename.example"), "Fred@renamed.example<Fred@rename.example>");
    /* An address may expand into itself once. */
    EXPECT_STR(expand(va, "keep@relay.example"),
	       "keep@relay.example,copy@archive.example<keep@relay.example>");
    /* Quotes and angle brackets; a bare name gets @$myorigin. */
    EXPECT_STR(expand(va, "quoted@alias.example"),
	       "a,b@q.example<quoted@alias.example>,x@q.example<quoted@alias.example>");
    EXPECT_STR(expand(va, "bare@alias.example"), "postmaster@origin.example<bare@alias.example>");
    virtual_alias_free(va);
}

UNIT_TEST(expand_extensions)
{
    VIRTUAL_ALIAS *va = setup("recipient_delimiter = +\n");

    /* user+ext@domain first. */
    EXPECT_STR(expand(va, "joe+list@ext.example"), "lists@target.example<joe+list@ext.example>");
    /* user@domain, extension propagated (default: canonical, virtual). */
    EXPECT_STR(expand(va, "joe+foo@ext.example"), "joe+foo@target.example<joe+foo@ext.example>");
    /* @domain, extension propagated. */
    EXPECT_STR(expand(va, "ann+foo@ext.example"), "all+foo@target.example<ann+foo@ext.example>");
    EXPECT_STR(expand(va, "Fred+x@rename.example"),
	       "Fred+x@renamed.example<Fred+x@rename.example>");
    virtual_alias_free(va);

    va = setup("recipient_delimiter = +\npropagate_unmatched_extensions = canonical\n");
    EXPECT_STR(expand(va, "joe+foo@ext.example"), "joe@target.example<joe+foo@ext.example>");
    virtual_alias_free(va);

    /* Without recipient_delimiter, user+ext@domain is an address of its own. */
    va = setup("");
    EXPECT_STR(expand(va, "joe+foo@ext.example"), "all@target.example<joe+foo@ext.example>");
    virtual_alias_free(va);
}

UNIT_TEST(expand_limits)
{
    VIRTUAL_ALIAS *va = setup("virtual_alias_recursion_limit = 5\n");

    EXPECT_STR(expand(va, "loop1@alias.example"), "RETRY 4.6.0 Alias expansion error");
    virtual_alias_free(va);

    va = setup("virtual_alias_expansion_limit = 3\n");
    EXPECT_STR(expand(va, "list@alias.example"), "RETRY 4.6.0 Alias expansion error");
    EXPECT_STR(expand(va, "team@alias.example"),
	       "a@one.example<team@alias.example>,b@two.example<team@alias.example>");
    virtual_alias_free(va);
}

UNIT_TEST(message_dups_and_forwarded)
{
    VIRTUAL_ALIAS *va = setup("");
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();
    VSTRING *why = vstring_alloc(10);

    EXPECT_INT(virtual_alias_expand(va, "team@alias.example", res, why), VIRTUAL_ALIAS_OK);
    EXPECT_INT(virtual_alias_expand(va, "team@alias.example", res, why), VIRTUAL_ALIAS_OK);
    EXPECT_INT(res->count, 2);
    EXPECT_INT(virtual_alias_result_forwarded(res), 1);
    virtual_alias_result_free(res);

    res = virtual_alias_result_alloc();
    EXPECT_INT(virtual_alias_expand(va, "nobody@relay.example", res, why), VIRTUAL_ALIAS_OK);
    EXPECT_INT(virtual_alias_result_forwarded(res), 0);
    virtual_alias_result_free(res);
    vstring_free(why);
    virtual_alias_free(va);
}

UNIT_TEST(table_error_is_not_no)
{
    VIRTUAL_ALIAS *va;
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();
    VSTRING *why = vstring_alloc(10);
    char    main_cf[512];

    snprintf(main_cf, sizeof(main_cf),
	     "virtual_alias_maps = texthash:%s/no-such-file\n", dir);
    write_file("main.cf", main_cf);
    mail_conf_reset();
    mail_conf_read(dir);
    addr_class_reset();			/* the domain lists of the new main.cf */
    va = virtual_alias_create();
    EXPECT_INT(virtual_alias_rcpt_check(va, "info@alias.example"), VIRTUAL_ALIAS_RETRY);
    EXPECT_INT(virtual_alias_domain(va, "alias.example"), VIRTUAL_ALIAS_RETRY);
    EXPECT_INT(virtual_alias_expand(va, "info@alias.example", res, why), VIRTUAL_ALIAS_RETRY);
    EXPECT_INT(res->count, 0);
    virtual_alias_result_free(res);
    vstring_free(why);
    virtual_alias_free(va);
}

UNIT_TEST(no_maps)
{
    VIRTUAL_ALIAS *va;

    write_file("main.cf", "myhostname = mx.test.invalid\n");
    mail_conf_reset();
    mail_conf_read(dir);
    addr_class_reset();			/* the domain lists of the new main.cf */
    va = virtual_alias_create();
    EXPECT_INT(virtual_alias_changes(va), 0);
    EXPECT_INT(virtual_alias_rcpt_check(va, "a@b.example"), VIRTUAL_ALIAS_NONE);
    EXPECT_STR(expand(va, "a@b.example"), "a@b.example");
    virtual_alias_free(va);
}

int     main(void)
{
    char    cmd[300];
    int     rc;

    msg_init("postfix", "test_virtual_alias");
    if (mkdtemp(dir) == 0) {
	perror("mkdtemp");
	return (1);
    }
    rc = unit_run();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	rc = 1;
    return (rc);
}
