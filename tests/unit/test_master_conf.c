/*
 * NAME
 *	test_master_conf - the master.cf parser
 */
#include <string.h>

#include "global/master_conf.h"
#include "util/vstring.h"
#include "unit.h"

static MASTER_CONF *parse(const char *text, VSTRING *why)
{
    return (master_conf_parse("master.cf", text, strlen(text), why));
}

static void expect_error(const char *text, const char *want)
{
    VSTRING *why = vstring_alloc(10);
    MASTER_CONF *conf = parse(text, why);

    EXPECT(conf == 0);
    if (conf == 0)
	EXPECT_STR(vstring_str(why), want);
    master_conf_free(conf);
    vstring_free(why);
}

UNIT_TEST(columns_and_defaults)
{
    VSTRING *why = vstring_alloc(10);
    MASTER_CONF *conf = parse(
	"# comment\n"
	"\n"
	"smtp      inet  n       -       y       -       -       smtpd\n"
	"qmgr      unix  n       -       n       300     1       qmgr\n"
	"tlsmgr    unix  -       -       y       1000?   1       tlsmgr\n"
	"bounce    unix  -       -       y       -       0       bounce\n"
	"local     unix  -       n       n       -       -       local\n", why);

    EXPECT(conf != 0);
    if (conf == 0)
	return;
    EXPECT_INT(conf->count, 5);
    EXPECT_STR(conf->ents[0]->service, "smtp");
    EXPECT_STR(conf->ents[0]->type, "inet");
    EXPECT_INT(conf->ents[0]->private_, 0);
    EXPECT_INT(conf->ents[0]->unpriv, 1);
    EXPECT_INT(conf->ents[0]->chroot, 1);
    EXPECT_INT(conf->ents[0]->wakeup, 0);
    EXPECT_INT(conf->ents[0]->maxproc, MASTER_MAXPROC_DEFAULT);
    EXPECT_STR(conf->ents[0]->command, "smtpd");
    EXPECT_INT(conf->ents[0]->line, 3);
    EXPECT_INT(conf->ents[1]->private_, 0);
    EXPECT_INT(conf->ents[1]->chroot, 0);
    EXPECT_INT(conf->ents[1]->wakeup, 300);
    EXPECT_INT(conf->ents[1]->wakeup_on_use, 0);
    EXPECT_INT(conf->ents[1]->maxproc, 1);
    EXPECT_INT(conf->ents[2]->private_, 1);
    EXPECT_INT(conf->ents[2]->wakeup, 1000);
    EXPECT_INT(conf->ents[2]->wakeup_on_use, 1);
    EXPECT_INT(conf->ents[3]->maxproc, 0);
    EXPECT_INT(conf->ents[4]->unpriv, 0);
    master_conf_free(conf);
    vstring_free(why);
}

UNIT_TEST(args_overrides_continuation)
{
    VSTRING *why = vstring_alloc(10);
    MASTER_CONF *conf = parse(
	"relay     unix  -       -       y       -       -       smtp\n"
	"        -o syslog_name=postfix/$service_name\n"
	"# a comment between continuation lines\n"
	"   -o { smtp_helo_name = my host name }  -v\n"
	"maildrop  unix  -       n       n       -       -       pipe\n"
	"  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
	"127.0.0.1:2525 inet n - n - 10 smtpd -o {a=b}\n", why);

    EXPECT(conf != 0);
    if (conf == 0) {
	printf("%s\n", vstring_str(why));
	return;
    }
    EXPECT_INT(conf->count, 3);
    EXPECT_INT(conf->ents[0]->args->argc, 5);
    EXPECT_STR(conf->ents[0]->args->argv[0], "-o");
    EXPECT_STR(conf->ents[0]->args->argv[1], "syslog_name=postfix/$service_name");
    EXPECT_STR(conf->ents[0]->args->argv[3], "smtp_helo_name=my host name");
    EXPECT_STR(conf->ents[0]->args->argv[4], "-v");
    EXPECT_STR(conf->ents[1]->args->argv[0], "flags=DRXhu");
    EXPECT_STR(conf->ents[1]->args->argv[4], "${recipient}");
    EXPECT_STR(conf->ents[2]->service, "127.0.0.1:2525");
    EXPECT_INT(conf->ents[2]->maxproc, 10);
    EXPECT_STR(conf->ents[2]->args->argv[1], "a=b");
    EXPECT_INT(conf->ents[2]->line, 7);
    master_conf_free(conf);
    vstring_free(why);
}

UNIT_TEST(last_wins)
{
    VSTRING *why = vstring_alloc(10);
    MASTER_CONF *conf = parse(
	"smtp inet n - n - - smtpd\n"
	"smtp unix - - n - - smtp\n"
	"smtp inet n - n - 5 smtpd -v\n", why);

    EXPECT(conf != 0);
    if (conf == 0)
	return;
    EXPECT_INT(conf->count, 2);
    EXPECT_STR(conf->ents[0]->type, "unix");
    EXPECT_STR(conf->ents[1]->type, "inet");
    EXPECT_INT(conf->ents[1]->maxproc, 5);
    EXPECT_INT(conf->ents[1]->line, 3);
    master_conf_free(conf);
    vstring_free(why);
}

UNIT_TEST(errors)
{
    expect_error("smtp inet n - n - -\n",
		 "master.cf, line 1: bad field count (7 fields, expected at least 8)");
    expect_error("# x\nsmtp tcp n - n - - smtpd\n",
		 "master.cf, line 2: bad transport type: tcp");
    expect_error("smtp unix x - n - - smtpd\n",
		 "master.cf, line 1: bad private field value: x");
    expect_error("smtp unix - yes n - - smtpd\n",
		 "master.cf, line 1: bad unprivileged field value: yes");
    expect_error("smtp unix - - Y - - smtpd\n",
		 "master.cf, line 1: bad chroot field value: Y");
    expect_error("a unix - - n 10x - smtpd\n",
		 "master.cf, line 1: bad wakeup time field value: 10x");
    expect_error("a unix - - n ? - smtpd\n",
		 "master.cf, line 1: bad wakeup time field value: ?");
    expect_error("a unix - - n - -1 smtpd\n",
		 "master.cf, line 1: bad process limit field value: -1");
    expect_error("smtp inet y - n - - smtpd\n",
		 "master.cf, line 1: inet service smtp cannot be private");
    expect_error("a unix - - n - - smtp -o\n",
		 "master.cf, line 1: -o option without name=value");
    expect_error("a unix - - n - - smtp -o novalue\n",
		 "master.cf, line 1: -o option requires name=value, found \"novalue\"");
    expect_error("a unix - - n - - smtp\n  -o { a = b\n",
		 "master.cf, line 1: missing '}'");
    expect_error("a unix - - n - - smtp -o {a=b}x\n",
		 "master.cf, line 1: syntax error after '}' in \"{a=b}x\"");
    expect_error("  -o a=b\n",
		 "master.cf, line 1: continuation line without a service line before it");
}

UNIT_TEST(empty_and_crlf)
{
    VSTRING *why = vstring_alloc(10);
    MASTER_CONF *conf = parse("", why);

    EXPECT(conf != 0 && conf->count == 0);
    master_conf_free(conf);
    conf = parse("smtp inet n - n - - smtpd\r\n", why);
    EXPECT(conf != 0 && conf->count == 1);
    if (conf)
	EXPECT_STR(conf->ents[0]->command, "smtpd");
    master_conf_free(conf);
    vstring_free(why);
}

int     main(void)
{
    return (unit_run());
}
