/*
 * NAME
 *	test_dict_pattern - unit tests of pcre: and cidr: tables
 * DESCRIPTION
 *	Rules, flags, substitution, if/endif, negation, inline forms, the
 *	tables that fail as a whole (bad regex, open if, missing file),
 *	and dict_changed() on a rewritten file.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "unit.h"
#include "dict/dict.h"
#include "util/msg.h"
#include "util/vstring.h"

static char tmpdir[] = "/tmp/test_dict_pattern.XXXXXX";

static const char *table(const char *type, const char *name, const char *text)
{
    static VSTRING *buf;
    VSTRING *path = vstring_alloc(100);
    FILE   *fp;

    if (buf == 0) {
	buf = vstring_alloc(100);
	if (mkdtemp(tmpdir) == 0)
	    abort();
    }
    vstring_sprintf(path, "%s/%s", tmpdir, name);
    if (text) {
	fp = fopen(vstring_str(path), "w");
	fputs(text, fp);
	fclose(fp);
    }
    vstring_sprintf(buf, "%s:%s", type, vstring_str(path));
    vstring_free(path);
    return (vstring_str(buf));
}

UNIT_TEST(pcre_rules)
{
    DICT   *d = dict_open(table("pcre", "p1",
				"/^(a+)(b*)@(.*)$/ ok $1 ${2} $(3) $$ end\n"
				"!/^z/ notz\n"
				"/^CaSe$/i exact\n"
				"/^(q)(r)?$/ [$2]\n"
				"/^a\\/b$/ slash\n"
				"|^p| pipe\n"
				"/multi\n"
				"  line/ ml\n"), O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "aab@x.com"), "ok aa b x.com $ end");
    EXPECT_STR(dict_get(d, "AAB@X.COM"), "ok AA B X.COM $ end");
    EXPECT_STR(dict_get(d, "CaSe"), "notz");
    dict_close(d);

    d = dict_open(table("pcre", "p2",
			"/^CaSe$/i exact\n/^(q)(r)?$/ [$2]\n/^a\\/b$/ slash\n"
			"|^p| pipe\n/multi\n  line/ ml\n/x/ bad ${1\n/^/ last\n"),
		  O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "CaSe"), "exact");
    EXPECT_STR(dict_get(d, "case"), "last");
    EXPECT_STR(dict_get(d, "q"), "[]");
    EXPECT_STR(dict_get(d, "QR"), "[R]");
    EXPECT_STR(dict_get(d, "a/b"), "slash");
    EXPECT_STR(dict_get(d, "p"), "pipe");
    EXPECT_STR(dict_get(d, "multi  line"), "ml");
    EXPECT_STR(dict_get(d, "x"), "last");
    dict_close(d);
}

UNIT_TEST(pcre_if_endif)
{
    DICT   *d = dict_open(table("pcre", "p3",
				"if /^q/\nif !/^qq/\n/./ single\nendif\n/./ double\n"
				"ENDIF\n/^x/ x\n"), O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "q"), "single");
    EXPECT_STR(dict_get(d, "qq"), "double");
    EXPECT_STR(dict_get(d, "x"), "x");
    EXPECT(dict_get(d, "y") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    dict_close(d);
}

UNIT_TEST(pcre_inline)
{
    DICT   *d = dict_open("pcre:{ {/^a(b)/ x$1}, {/c/ y} }", O_RDONLY,
			  DICT_FLAG_DEFAULT);

    EXPECT_STR(dict_get(d, "abc"), "xb");
    EXPECT_STR(dict_get(d, "c"), "y");
    dict_close(d);
}

UNIT_TEST(pcre_failures_are_errors)
{
    const char *bad[] = {"/ok/ fine\n/bad(regex/ x\n", "/a/ x\nif /b/\n/c/ d\n", 0};
    DICT   *d;

    for (int i = 0; bad[i]; i++) {
	d = dict_open(table("pcre", "bad", bad[i]), O_RDONLY, DICT_FLAG_DEFAULT);
	EXPECT(dict_error_text(d) != 0);
	EXPECT(strstr(dict_error_text(d), ", line 2: ") != 0);
	EXPECT(dict_get(d, "ok") == 0);
	EXPECT_INT(d->error, DICT_ERR_RETRY);
	dict_close(d);
    }
    d = dict_open(table("pcre", "nosuch", 0), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);
}

UNIT_TEST(cidr_rules)
{
    DICT   *d = dict_open(table("cidr", "c1",
				"10.0.0.0/8 ten\n192.168.1.1 host\n"
				"[2001:db8::]/32 v6doc\n10.1.0.0/8 badbits\n"
				"if 172.16.0.0/12\n172.16.5.0/24 inner\nendif\n"
				"!172.16.0.0/12 not172\n::1 lo6\n"), O_RDONLY,
		  DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "10.1.2.3"), "ten");
    EXPECT_STR(dict_get(d, "192.168.1.1"), "host");
    EXPECT_STR(dict_get(d, "172.16.5.9"), "inner");
    EXPECT(dict_get(d, "172.16.6.9") == 0);
    EXPECT_STR(dict_get(d, "8.8.8.8"), "not172");
    EXPECT_STR(dict_get(d, "2001:DB8::1"), "v6doc");
    EXPECT_STR(dict_get(d, "0:0::1"), "lo6");
    EXPECT(dict_get(d, "::2") == 0);
    EXPECT(dict_get(d, "[10.0.0.1]") == 0);
    EXPECT(dict_get(d, "010.1.2.3") == 0);
    EXPECT(dict_get(d, "not an address") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    dict_close(d);

    d = dict_open("cidr:{ {1.1.1.0/24 x}, {2.0.0.0/8 y} }", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "2.3.4.5"), "y");
    dict_close(d);

    d = dict_open(table("cidr", "c2", "1.2.3.4 a\nif 10.0.0.0/8\n"), O_RDONLY,
		  DICT_FLAG_DEFAULT);
    EXPECT(dict_get(d, "1.2.3.4") == 0);
    EXPECT_INT(d->error, DICT_ERR_RETRY);
    EXPECT(strstr(dict_error_text(d), "line 2: IF has no matching ENDIF") != 0);
    dict_close(d);
}

UNIT_TEST(changed_file_is_noticed)
{
    const char *types[] = {"pcre", "cidr", "texthash", 0};

    for (int i = 0; types[i]; i++) {
	char   *name = strdup(table(types[i], types[i], "1.2.3.4 a\n"));
	DICT   *d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT);
	char   *path = strchr(name, ':') + 1;
	char   *tmp;
	FILE   *fp;

	EXPECT(dict_changed(d) == 0);
	/* Replace the file the way editors and postmap do. */
	tmp = malloc(strlen(path) + 5);
	strcpy(tmp, path);
	strcat(tmp, ".new");
	fp = fopen(tmp, "w");
	fputs("1.2.3.4 b\n", fp);
	fclose(fp);
	rename(tmp, path);
	EXPECT(dict_changed(d) == 1);
	dict_close(d);
	free(tmp);
	free(name);
    }
}

UNIT_TEST(cleanup_tmpdir)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    EXPECT_INT(system(vstring_str(cmd)), 0);
    vstring_free(cmd);
}

int     main(void)
{
    msg_to_stderr(1);
    return (unit_run());
}
