/*
 * NAME
 *	test_tlsrpt_store - the TLS-RPT day files: records that read back
 *	as written (escapes, lists, policies once per file), concurrent
 *	writers that never mix their lines, day file names
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/tlsrpt_store.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "unit.h"

static char dir[] = "/tmp/test_tlsrpt_store.XXXXXX";
static char store[300];

static void setup(void)
{
    static int done;
    char    path[300];
    FILE   *fp;

    if (done++)
	return;
    if (mkdtemp(dir) == 0)
	abort();
    snprintf(store, sizeof(store), "%s/tlsrpt", dir);
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fprintf(fp, "tlsrpt_directory = %s\n", store);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
}

static void today_path(VSTRING *buf)
{
    tlsrpt_store_path(buf, store, tlsrpt_store_day(time((time_t *) 0)));
}

typedef struct SEEN {
    int     count;
    int     ok;
    VSTRING *last;
} SEEN;

static void seen_fn(void *ctx, const TLSRPT_POLICY *pol, const TLSRPT_RESULT *res)
{
    SEEN   *seen = ctx;

    seen->count++;
    if (res->result == 0)
	seen->ok++;
    vstring_sprintf(seen->last, "%s|%s|", pol->domain, pol->type);
    for (size_t i = 0; pol->mx && i < pol->mx->argc; i++)
	vstring_sprintf_append(seen->last, "mx=%s,", pol->mx->argv[i]);
    for (size_t i = 0; pol->strings && i < pol->strings->argc; i++)
	vstring_sprintf_append(seen->last, "s=%s,", pol->strings->argv[i]);
    vstring_sprintf_append(seen->last, "|%s|%s|%s|%s|%s",
			   res->result ? res->result : "(ok)",
			   res->reason ? res->reason : "-",
			   res->sending_ip ? res->sending_ip : "-",
			   res->mx_host ? res->mx_host : "-",
			   res->receiving_ip ? res->receiving_ip : "-");
}

UNIT_TEST(records_read_back)
{
    ARGV   *mx = argv_split("*.example.net mx.example.net", " ");
    ARGV   *strings = argv_alloc(4);
    TLSRPT_POLICY pol = {"example.net", TLSRPT_TYPE_STS, strings, mx};
    TLSRPT_RESULT ok = {0, 0, "192.0.2.1", "mx.example.net", "198.51.100.2"};
    TLSRPT_RESULT bad = {"certificate-expired", "odd\\reason; \"quoted\"", "192.0.2.1",
    "mx.example.net", 0};
    VSTRING *path = vstring_alloc(100);
    SEEN    seen = {0, 0, vstring_alloc(100)};
    FILE   *fp;
    char    line[1000];
    int     plines = 0;

    setup();
    argv_add(strings, "version: STSv1");
    argv_add(strings, "mode: testing");
    argv_add(strings, "mx:\t*.example.net\\");
    EXPECT_INT(tlsrpt_store_add(&pol, &ok), 0);
    EXPECT_INT(tlsrpt_store_add(&pol, &ok), 0);
    EXPECT_INT(tlsrpt_store_add(&pol, &bad), 0);
    today_path(path);
    EXPECT_INT(tlsrpt_store_read(vstring_str(path), seen_fn, &seen), 3);
    EXPECT_INT(seen.count, 3);
    EXPECT_INT(seen.ok, 2);
    EXPECT_STR(vstring_str(seen.last), "example.net|sts|mx=*.example.net,mx=mx.example.net,"
	       "s=version: STSv1,s=mode: testing,s=mx:\t*.example.net\\,"
	       "|certificate-expired|odd\\reason; \"quoted\"|192.0.2.1|mx.example.net|-");
    /* The policy is written once: one P line, three S lines, no raw tab in a field. */
    fp = fopen(vstring_str(path), "r");
    while (fp && fgets(line, sizeof(line), fp))
	plines += (line[0] == 'P');
    if (fp)
	fclose(fp);
    EXPECT_INT(plines, 1);
    unlink(vstring_str(path));
    argv_free(mx);
    argv_free(strings);
    vstring_free(path);
    vstring_free(seen.last);
}

UNIT_TEST(malformed_lines_skipped)
{
    VSTRING *path = vstring_alloc(100);
    SEEN    seen = {0, 0, vstring_alloc(100)};
    FILE   *fp;

    setup();
    today_path(path);
    fp = fopen(vstring_str(path), "w");
    fputs("P\t0123456789abcdef\ta.example\tno-policy-found\t\t\n"
	  "S\t0123456789abcdef\t-\t\t192.0.2.1\tmx.a.example\t192.0.2.9\n"
	  "S\tffffffffffffffff\t-\t\t\t\t\n"	/* unknown policy */
	  "S\t0123456789abcdef\t-\t\\xzz\t\t\t\n"	/* bad escape */
	  "garbage\n"
	  "P\t1111111111111111\tevil\\x0aBcc: x\tsts\t\t\n"	/* not a host name */
	  "S\t1111111111111111\t-\t\t\t\t\n"
	  "P\t2222222222222222\tb.example\tweird\t\t\n"	/* not a policy type */
	  "S\t0123456789abcdef\tBad Result\t\t\t\t\n"
	  "S\t0123456789abcdef\tvalidation-failure\t\t\t\t\n"
	  "S\t0123456789abcdef\t-\t\t\t\t", fp);	/* no newline: being written */
    fclose(fp);
    EXPECT_INT(tlsrpt_store_read(vstring_str(path), seen_fn, &seen), 2);
    EXPECT_INT(seen.ok, 1);
    EXPECT_STR(vstring_str(seen.last), "a.example|no-policy-found||validation-failure|-|-|-|-");
    unlink(vstring_str(path));
    vstring_free(path);
    vstring_free(seen.last);
}

UNIT_TEST(concurrent_writers)
{
    VSTRING *path = vstring_alloc(100);
    SEEN    seen = {0, 0, vstring_alloc(100)};
    enum {
    WRITERS = 4, EACH = 400};

    setup();
    for (int w = 0; w < WRITERS; w++) {
	if (fork() == 0) {
	    VSTRING *dom = vstring_alloc(50);
	    ARGV   *strings = argv_alloc(4);

	    /* Long policy lines: appends of a few hundred bytes each. */
	    for (int i = 0; i < 8; i++)
		argv_add(strings, "3 1 1 0011223344556677889900112233445566778899001122334455667788990011");
	    for (int i = 0; i < EACH; i++) {
		TLSRPT_POLICY pol = {0, TLSRPT_TYPE_TLSA, strings, 0};
		TLSRPT_RESULT res = {i % 3 ? 0 : "validation-failure", 0, "192.0.2.1",
		"mx.example", "192.0.2.2"};

		vstring_sprintf(dom, "w%d-%d.example", w, i % 7);
		pol.domain = vstring_str(dom);
		if (tlsrpt_store_add(&pol, &res) < 0)
		    _exit(1);
	    }
	    _exit(0);
	}
    }
    for (int w = 0; w < WRITERS; w++) {
	int     status;

	EXPECT(wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    today_path(path);
    EXPECT_INT(tlsrpt_store_read(vstring_str(path), seen_fn, &seen), WRITERS * EACH);
    EXPECT_INT(seen.ok, WRITERS * (EACH - (EACH + 2) / 3));
    unlink(vstring_str(path));
    vstring_free(path);
    vstring_free(seen.last);
}

UNIT_TEST(day_names)
{
    VSTRING *buf = vstring_alloc(50);
    long    day;

    EXPECT_INT(tlsrpt_store_name_day("2024-02-29", &day), 1);
    EXPECT_STR(tlsrpt_store_path(buf, "/d", day), "/d/2024-02-29");
    EXPECT_INT(day, 19782);
    EXPECT_INT(tlsrpt_store_day((time_t) 19782 * 86400 + 86399), 19782);
    EXPECT_INT(tlsrpt_store_name_day("2023-02-29", &day), 0);
    EXPECT_INT(tlsrpt_store_name_day("2024-2-01", &day), 0);
    EXPECT_INT(tlsrpt_store_name_day("2024-02-01.sent", &day), 0);
    EXPECT_INT(tlsrpt_store_name_day("..", &day), 0);
    vstring_free(buf);
}

UNIT_TEST(zz_cleanup)
{
    DIR    *d;
    struct dirent *ent;
    char    path[600];

    setup();
    if ((d = opendir(store)) != 0) {
	while ((ent = readdir(d)) != 0) {
	    if (ent->d_name[0] == '.')
		continue;
	    snprintf(path, sizeof(path), "%s/%s", store, ent->d_name);
	    unlink(path);
	}
	closedir(d);
	rmdir(store);
    }
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    unlink(path);
    EXPECT_INT(rmdir(dir), 0);
}

int     main(void)
{
    return (unit_run());
}
