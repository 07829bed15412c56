/*
 * NAME
 *	test_smtp_reply - the SMTP client's reply parser and MX ordering
 */
#include <string.h>

#include "util/mymalloc.h"
#include "smtpc/smtp_client.h"
#include "dns/dns.h"
#include "unit.h"

static SMTP_REPLY *feed_all(const char *text, int *complete)
{
    SMTP_REPLY *r = smtp_reply_alloc();
    const char *cp = text, *nl;

    *complete = 0;
    while (*cp) {
	nl = strchr(cp, '\n');
	*complete = smtp_reply_feed(r, cp, nl ? (size_t) (nl - cp) : strlen(cp));
	if (!nl)
	    break;
	cp = nl + 1;
    }
    return (r);
}

UNIT_TEST(single_line_with_enhanced_code)
{
    int     done;
    SMTP_REPLY *r = feed_all("550 5.1.1 <a@b>: User unknown\r\n", &done);

    EXPECT_INT(done, 1);
    EXPECT_INT(r->code, 550);
    EXPECT_STR(r->dsn, "5.1.1");
    EXPECT_STR(vstring_str(r->text), "550 5.1.1 <a@b>: User unknown");
    smtp_reply_free(r);
}

UNIT_TEST(multi_line_joined)
{
    int     done;
    SMTP_REPLY *r = feed_all("250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", &done);

    EXPECT_INT(done, 1);
    EXPECT_INT(r->code, 250);
    EXPECT_STR(r->dsn, "2.0.0");
    EXPECT_INT(r->lines->argc, 3);
    EXPECT_STR(r->lines->argv[1], "PIPELINING");
    EXPECT_STR(vstring_str(r->text), "250 mx.test PIPELINING SIZE 1000");
    smtp_reply_free(r);
}

UNIT_TEST(incomplete_reply)
{
    int     done;
    SMTP_REPLY *r = feed_all("451-4.3.0 wait\r\n", &done);

    EXPECT_INT(done, 0);
    smtp_reply_free(r);
}

UNIT_TEST(derived_status_and_class_mismatch)
{
    int     done;
    SMTP_REPLY *r = feed_all("421 service not available\r\n", &done);

    EXPECT_STR(r->dsn, "4.0.0");
    smtp_reply_free(r);
    r = feed_all("550 2.1.1 contradicting code\r\n", &done);
    EXPECT_STR(r->dsn, "5.0.0");
    smtp_reply_free(r);
}

UNIT_TEST(garbage_is_code_zero)
{
    int     done;
    SMTP_REPLY *r = feed_all("hello\x01world\r\n", &done);

    EXPECT_INT(done, 1);
    EXPECT_INT(r->code, 0);
    EXPECT_STR(vstring_str(r->text), "hello?world");
    smtp_reply_free(r);
}

UNIT_TEST(bare_code)
{
    int     done;
    SMTP_REPLY *r = feed_all("250\r\n", &done);

    EXPECT_INT(done, 1);
    EXPECT_INT(r->code, 250);
    EXPECT_STR(vstring_str(r->text), "250");
    smtp_reply_free(r);
}

UNIT_TEST(mx_sort_by_preference)
{
    DNS_MX_LIST list = {0};
    int     prefs[] = {30, 10, 20, 10, 30};

    for (int i = 0; i < 5; i++) {
	list.mx = myrealloc(list.mx, (i + 1) * sizeof(DNS_MX));
	list.mx[i].host = mystrdup("h");
	list.mx[i].pref = prefs[i];
	list.count = i + 1;
    }
    dns_mx_sort(&list);
    for (size_t i = 1; i < list.count; i++)
	EXPECT(list.mx[i - 1].pref <= list.mx[i].pref);
    dns_mx_list_free(&list);
}

int     main(void)
{
    return (unit_run());
}
