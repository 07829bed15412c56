/*
 * NAME
 *	test_mail_conf - main.cf reading, expansion and typed parameters
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "unit.h"

static char dir[] = "/tmp/test_mail_conf.XXXXXX";

static void write_main_cf(const char *text)
{
    char    path[256];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
}

static void expect_expand(const char *text, const char *want)
{
    char   *got = mail_conf_expand(text);

    EXPECT_STR(got, want);
    myfree(got);
}

UNIT_TEST(syntax)
{
    write_main_cf("# comment\n"
		  "myhostname = mx.test.invalid\n"
		  "mynetworks = 10.0.0.0/8  # not a comment\n"
		  "relay_domains = a.example,\n"
		  "    b.example\n"
		  "\n"
		  "  # indented comment\n"
		  "message_size_limit=1000\n"
		  "message_size_limit = 2000\n");
    EXPECT_STR(mail_conf_str("myhostname"), "mx.test.invalid");
    EXPECT_STR(mail_conf_str("mynetworks"), "10.0.0.0/8  # not a comment");
    EXPECT_STR(mail_conf_str("relay_domains"), "a.example, b.example");
    EXPECT_INT(mail_conf_int("message_size_limit"), 2000);
    EXPECT_STR(mail_conf_str("mydomain"), "test.invalid");
    EXPECT_STR(mail_conf_str("smtpd_banner"), "mx.test.invalid ESMTP Postfix");
}

UNIT_TEST(expansion_forms)
{
    write_main_cf("a = alpha\nempty =\nb = $a-${a}-$(a)\n"
		  "loop1 = x\n");
    expect_expand("$a", "alpha");
    expect_expand("$b", "alpha-alpha-alpha");
    expect_expand("${a?yes}", "yes");
    expect_expand("${empty?yes}", "");
    expect_expand("${nosuch?yes}", "");
    expect_expand("${a:no}", "");
    expect_expand("${empty:no}", "no");
    expect_expand("${a?{x, y}}", "x, y");
    expect_expand("${a?{t1}:{t2}}", "t1");
    expect_expand("${empty?{t1}:{t2}}", "t2");
    expect_expand("$$a", "$a");
    expect_expand("${{$a} == {alpha} ? {eq} : {ne}}", "eq");
    expect_expand("${{10} < {9} ? {lt} : {ge}}", "ge");
    expect_expand("${{3.6} <level {3.10} ? {lt} : {ge}}", "lt");
    expect_expand("${{2} <level {2} ? {lt} : {ge}}", "ge");
    expect_expand("$nosuch.", ".");
}

UNIT_TEST(compatibility_level_defaults)
{
    write_main_cf("myhostname = h.example\nmydomain = example\n");
    EXPECT_STR(mail_conf_str("relay_domains"), "h.example, localhost.example, localhost");
    EXPECT_STR(mail_conf_str("mynetworks_style"), "subnet");
    EXPECT_STR(mail_conf_str("smtpd_relay_restrictions"), "");
    EXPECT_INT(mail_conf_bool("append_dot_mydomain"), 1);
    write_main_cf("compatibility_level = 3.7\nmyhostname = h.example\n");
    EXPECT_STR(mail_conf_str("relay_domains"), "");
    EXPECT_STR(mail_conf_str("mynetworks_style"), "host");
    EXPECT_STR(mail_conf_str("smtpd_relay_restrictions"),
	       "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
    EXPECT_STR(mail_conf_str("fast_flush_domains"), "");
}

UNIT_TEST(time_units)
{
    write_main_cf("maximal_queue_lifetime = 5\ndelay_warning_time = 4\n"
		  "minimal_backoff_time = 2m\n");
    EXPECT_INT(mail_conf_time("maximal_queue_lifetime"), 5 * 86400);
    EXPECT_INT(mail_conf_time("delay_warning_time"), 4 * 3600);
    EXPECT_INT(mail_conf_time("minimal_backoff_time"), 120);
    EXPECT_INT(mail_conf_time("smtpd_timeout"), 300);
    EXPECT_INT(mail_conf_time("bounce_queue_lifetime"), 5 * 86400);
    mail_conf_set("stress", "yes");
    EXPECT_INT(mail_conf_time("smtpd_timeout"), 10);
    EXPECT_INT(mail_conf_int("smtpd_hard_error_limit"), 1);
}

UNIT_TEST(overrides_and_transports)
{
    write_main_cf("relay_destination_concurrency_limit = 3\n"
		  "default_destination_recipient_limit = 7\n");
    EXPECT_INT(mail_conf_transport_int("relay", VAR_DEFAULT_DESTINATION_CONCURRENCY_LIMIT), 3);
    EXPECT_INT(mail_conf_transport_int("smtp", VAR_DEFAULT_DESTINATION_CONCURRENCY_LIMIT), 20);
    EXPECT_INT(mail_conf_transport_int("ondemand", VAR_DEFAULT_DESTINATION_RECIPIENT_LIMIT), 7);
    mail_conf_set("ondemand_destination_recipient_limit", "2");
    EXPECT_INT(mail_conf_transport_int("ondemand", VAR_DEFAULT_DESTINATION_RECIPIENT_LIMIT), 2);
    mail_conf_set("service_name", "relay");
    mail_conf_set("syslog_name", "postfix/$service_name");
    EXPECT_STR(mail_conf_str("syslog_name"), "postfix/relay");
}

UNIT_TEST(bad_lines)
{
    char    path[256];
    FILE   *fp;
    VSTRING *why = vstring_alloc(100);

    snprintf(path, sizeof(path), "%s/bad.cf", dir);
    fp = fopen(path, "w");
    fputs("a = 1\nthis line has no equals\n", fp);
    fclose(fp);
    EXPECT_INT(mail_conf_read_file(path, why), -1);
    EXPECT(strstr(vstring_str(why), "bad.cf, line 2: missing '=' after attribute name") != 0);
    vstring_free(why);
}

int     main(void)
{
    int     status;
    char    cmd[300];

    msg_init("postfix", "test_mail_conf");
    msg_to_stderr(1);
    if (mkdtemp(dir) == 0)
	return (2);
    status = unit_run();
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	status = 2;
    return (status);
}
