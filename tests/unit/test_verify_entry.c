/*
 * NAME
 *	test_verify_entry - verify cache entries: format, probes, ageing
 */
#include <stdio.h>
#include <string.h>

#include "util/vstring.h"
#include "util/msg.h"
#include "global/verify_clnt.h"
#include "global/verify_entry.h"
#include "unit.h"

#define T0	1795423585L
#define DAY	86400L

static VERIFY_TIMES times = {
    31 * DAY,				/* positive expire */
    7 * DAY,				/* positive refresh */
    3 * DAY,				/* negative expire */
    3 * 3600L,				/* negative refresh */
    1,					/* negative cache */
};

UNIT_TEST(format_parse)
{
    VSTRING *buf = vstring_alloc(10);
    VSTRING *text = vstring_alloc(10);
    VERIFY_ENTRY e;

    verify_entry_format(buf, VERIFY_ADDR_BOUNCE, 0, T0, "host a[1.2.3.4] said: 550 5.1.1 no: such (in reply to RCPT TO command)");
    EXPECT_STR(vstring_str(buf), "2:0:1795423585:host a[1.2.3.4] said: 550 5.1.1 no: such (in reply to RCPT TO command)");
    EXPECT_INT(verify_entry_parse(vstring_str(buf), &e, text), 0);
    EXPECT_INT(e.status, VERIFY_ADDR_BOUNCE);
    EXPECT_INT(e.probed, 0);
    EXPECT_INT(e.updated, T0);
    EXPECT_STR(vstring_str(text), "host a[1.2.3.4] said: 550 5.1.1 no: such (in reply to RCPT TO command)");
    /* Postfix's own cache entries read the same. */
    EXPECT_INT(verify_entry_parse("0:0:1700000000:250 2.1.5 Ok", &e, text), 0);
    EXPECT_STR(vstring_str(text), "250 2.1.5 Ok");
    EXPECT_INT(verify_entry_parse("", &e, text), -1);
    EXPECT_INT(verify_entry_parse("9:0:0:x", &e, text), -1);
    EXPECT_INT(verify_entry_parse("0:x:0:x", &e, text), -1);
    EXPECT_INT(verify_entry_parse("0:0:0", &e, text), -1);
    EXPECT_INT(verify_entry_parse(0, &e, text), -1);
    vstring_free(buf);
    vstring_free(text);
}

UNIT_TEST(unknown_address_probe_cycle)
{
    VSTRING *text = vstring_alloc(10);
    VSTRING *store = vstring_alloc(10);
    VSTRING *saved = vstring_alloc(10);
    int     status;

    /* Unknown: answer "in progress", probe, remember the probe. */
    EXPECT_INT(verify_entry_query(0, &times, T0, &status, text, store), 1);
    EXPECT_INT(status, VERIFY_ADDR_TODO);
    EXPECT_STR(vstring_str(text), VERIFY_TEXT_TODO);
    EXPECT_STR(vstring_str(store), "3:1795423585:0:Address verification in progress");
    vstring_strcpy(saved, vstring_str(store));

    /* Asked again soon: no second probe. */
    EXPECT_INT(verify_entry_query(vstring_str(saved), &times, T0 + 10, &status, text, store), 0);
    EXPECT_INT(status, VERIFY_ADDR_TODO);
    /* The probe got lost: probe again after VERIFY_PROBE_TTL. */
    EXPECT_INT(verify_entry_query(vstring_str(saved), &times, T0 + VERIFY_PROBE_TTL + 1,
				  &status, text, store), 1);

    /* Without a negative cache nothing is stored for unknown addresses. */
    times.neg_cache = 0;
    EXPECT_INT(verify_entry_query(0, &times, T0, &status, text, store), 1);
    EXPECT_STR(vstring_str(store), "");
    times.neg_cache = 1;
    vstring_free(text);
    vstring_free(store);
    vstring_free(saved);
}

UNIT_TEST(positive_entry)
{
    VSTRING *text = vstring_alloc(10);
    VSTRING *store = vstring_alloc(10);
    VSTRING *ok = vstring_alloc(10);
    int     status;

    EXPECT_INT(verify_entry_update("3:1795423585:0:x", VERIFY_ADDR_OK, "250 2.1.5 Ok",
				   &times, T0, store), 1);
    EXPECT_STR(vstring_str(store), "0:0:1795423585:250 2.1.5 Ok");
    vstring_strcpy(ok, vstring_str(store));

    EXPECT_INT(verify_entry_query(vstring_str(ok), &times, T0 + DAY, &status, text, store), 0);
    EXPECT_INT(status, VERIFY_ADDR_OK);
    EXPECT_STR(vstring_str(text), "250 2.1.5 Ok");

    /* Due for refresh: still OK, and a probe goes out. */
    EXPECT_INT(verify_entry_query(vstring_str(ok), &times, T0 + 8 * DAY, &status, text, store), 1);
    EXPECT_INT(status, VERIFY_ADDR_OK);
    EXPECT_STR(vstring_str(store), "0:1796114785:1795423585:250 2.1.5 Ok");

    /* A temporary failure (primary down) does not clobber it. */
    EXPECT_INT(verify_entry_update(vstring_str(ok), VERIFY_ADDR_DEFER,
				   "connect to h[127.0.0.1]:25: Connection refused",
				   &times, T0 + 8 * DAY, store), 0);
    EXPECT_INT(verify_entry_update(vstring_str(ok), VERIFY_ADDR_BOUNCE, "550",
				   &times, T0 + 8 * DAY, store), 0);

    /* Expired: unknown again. */
    EXPECT_INT(verify_entry_query(vstring_str(ok), &times, T0 + 32 * DAY, &status, text, store), 1);
    EXPECT_INT(status, VERIFY_ADDR_TODO);
    EXPECT_INT(verify_entry_expired(vstring_str(ok), &times, T0 + 30 * DAY), 0);
    EXPECT_INT(verify_entry_expired(vstring_str(ok), &times, T0 + 32 * DAY), 1);
    /* An expired OK entry may be replaced by a failure. */
    EXPECT_INT(verify_entry_update(vstring_str(ok), VERIFY_ADDR_BOUNCE, "550",
				   &times, T0 + 32 * DAY, store), 1);
    vstring_free(text);
    vstring_free(store);
    vstring_free(ok);
}

UNIT_TEST(negative_entry)
{
    VSTRING *text = vstring_alloc(10);
    VSTRING *store = vstring_alloc(10);
    VSTRING *bad = vstring_alloc(10);
    int     status;

    EXPECT_INT(verify_entry_update(0, VERIFY_ADDR_BOUNCE,
				   "host h[127.0.0.1] said: 550 5.1.1 nope (in reply to RCPT TO command)",
				   &times, T0, store), 1);
    vstring_strcpy(bad, vstring_str(store));
    EXPECT_INT(verify_entry_query(vstring_str(bad), &times, T0 + 60, &status, text, store), 0);
    EXPECT_INT(status, VERIFY_ADDR_BOUNCE);
    EXPECT_STR(vstring_str(text), "host h[127.0.0.1] said: 550 5.1.1 nope (in reply to RCPT TO command)");
    /* Refreshed after 3h, still answered from the cache meanwhile. */
    EXPECT_INT(verify_entry_query(vstring_str(bad), &times, T0 + 4 * 3600, &status, text, store), 1);
    EXPECT_INT(status, VERIFY_ADDR_BOUNCE);
    /* A success replaces a failure at once. */
    EXPECT_INT(verify_entry_update(vstring_str(bad), VERIFY_ADDR_OK, "250 2.1.5 Ok",
				   &times, T0 + 60, store), 1);
    /* Expired after 3 days. */
    EXPECT_INT(verify_entry_query(vstring_str(bad), &times, T0 + 4 * DAY, &status, text, store), 1);
    EXPECT_INT(status, VERIFY_ADDR_TODO);
    EXPECT_INT(verify_entry_expired(vstring_str(bad), &times, T0 + 4 * DAY), 1);
    EXPECT_INT(verify_entry_expired("garbage", &times, T0), 1);
    vstring_free(text);
    vstring_free(store);
    vstring_free(bad);
}

int     main(void)
{
    msg_init("postfix", "test_verify_entry");
    return (unit_run());
}
