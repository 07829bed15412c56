/*
 * NAME
 *	test_dict_types - unit tests of regexp:, unix:, proxy:, nis:, lmdb:
 *	and the table types that are not supported
 * DESCRIPTION
 *	Through dict.h, in a temporary folder: regexp rules, flags,
 *	substitution, if/endif, inline form and the failures that make a
 *	table unusable; unix: lookups against getpwnam()/getgrnam(); proxy:
 *	keeping the inner table's kind and errors; nis: on this host; lmdb:
 *	build, update, delete, list, the NUL conventions and a table that
 *	outgrows the first memory map; unsupported types naming themselves.
 */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "unit.h"
#include "dict/dict.h"
#include "util/msg.h"
#include "util/vstring.h"

static char tmpdir[] = "/tmp/test_dict_types.XXXXXX";

static const char *tpath(const char *name)
{
    static VSTRING *buf;

    if (buf == 0) {
	buf = vstring_alloc(100);
	if (mkdtemp(tmpdir) == 0)
	    abort();
    }
    vstring_sprintf(buf, "%s/%s", tmpdir, name);
    return (vstring_str(buf));
}

/* table - write text to a file; "type:path" of it */

static const char *table(const char *type, const char *name, const char *text)
{
    static VSTRING *buf;
    FILE   *fp;

    if (buf == 0)
	buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s:%s", type, tpath(name));
    if (text) {
	fp = fopen(tpath(name), "w");
	fputs(text, fp);
	fclose(fp);
    }
    return (vstring_str(buf));
}

UNIT_TEST(regexp_rules)
{
    DICT   *d = dict_open(table("regexp", "r1",
				"/^(a+)(b*)@(.*)$/ ok $1 ${2} $(3) $$ end\n"
				"/^CaSe$/i exact\n"
				"/^(q)(r)?$/ [$2]\n"
				"|^p\\|q$| pipe\n"
				"/^bre\\{2\\}$/x bre\n"
				"/^ere{2}$/ ere\n"
				"/^nl$/m multi\n"
				"/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$/ $10$9$1\n"
				"/multi\n"
				"  line/ ml\n"
				"!/^z/ notz\n"), O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "aab@x.com"), "ok aa b x.com $ end");
    EXPECT_STR(dict_get(d, "AAB@X.COM"), "ok AA B X.COM $ end");
    EXPECT_STR(dict_get(d, "CaSe"), "exact");
    EXPECT_STR(dict_get(d, "case"), "notz");
    EXPECT_STR(dict_get(d, "q"), "[]");
    EXPECT_STR(dict_get(d, "QR"), "[R]");
    EXPECT_STR(dict_get(d, "p|q"), "pipe");
    EXPECT_STR(dict_get(d, "bree"), "bre");
    EXPECT_STR(dict_get(d, "eree"), "ere");
    EXPECT_STR(dict_get(d, "x\nnl\ny"), "multi");
    EXPECT_STR(dict_get(d, "abcdefghij"), "jia");
    EXPECT_STR(dict_get(d, "multi  line"), "ml");
    EXPECT(dict_get(d, "zz") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    dict_close(d);
}

UNIT_TEST(regexp_skipped_rules_and_nesting)
{
    DICT   *d = dict_open(table("regexp", "r2",
				"/^a/s unknown-flag\n"
				"/^b/ $0\n"
				"/^(c)/ $2\n"
				"!/^(d)/ $1\n"
				"/unterminated\n"
				"endif\n"
				"if /^q/\nif !/^qq/\n/./ single\nendif\n/./ double\n"
				"ENDIF\n/./ last\n"), O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "a"), "last");
    EXPECT_STR(dict_get(d, "b"), "last");
    EXPECT_STR(dict_get(d, "c"), "last");
    EXPECT_STR(dict_get(d, "q"), "single");
    EXPECT_STR(dict_get(d, "qq"), "double");
    dict_close(d);

    d = dict_open("regexp:{ {/^a(b)/ x$1}, {/c/ y}, {# comment} }", O_RDONLY,
		  DICT_FLAG_DEFAULT);
    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "abc"), "xb");
    EXPECT_STR(dict_get(d, "c"), "y");
    dict_close(d);
}

UNIT_TEST(regexp_failures_are_errors)
{
    const char *bad[] = {"/ok/ fine\n/bad(regex/ x\n", "/a/ x\nif /b/\n/c/ d\n",
    "/ok/ fine\nif /[z/\n/c/ d\nendif\n", 0};
    DICT   *d;

    for (int i = 0; bad[i]; i++) {
	d = dict_open(table("regexp", "bad", bad[i]), O_RDONLY, DICT_FLAG_DEFAULT);
	EXPECT(dict_error_text(d) != 0);
	EXPECT(strstr(dict_error_text(d), "regexp map ") != 0);
	EXPECT(strstr(dict_error_text(d), "/bad, line 2: ") != 0);
	EXPECT(dict_get(d, "ok") == 0);
	EXPECT_INT(d->error, DICT_ERR_RETRY);
	dict_close(d);
    }
    d = dict_open(table("regexp", "bad", "/(/ x\n"), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(strstr(dict_error_text(d), "line 1: Unmatched ( or \\(") != 0);
    dict_close(d);
    /* Stacked repetitions would cost regcomp() gigabytes: refused. */
    d = dict_open(table("regexp", "bad", "/[+++++++++++]x+++/ ok\n"
			"/x+++++++++++++++++++++++++++++/ x\n"), O_RDONLY,
		  DICT_FLAG_DEFAULT);
    EXPECT(strstr(dict_error_text(d), "line 2: more than 8 repetition "
		  "operators in a row") != 0);
    dict_close(d);
    d = dict_open(table("regexp", "nosuch", 0), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);
    /* The inline form is checked as Postfix checks it. */
    d = dict_open("regexp:{ {/a/ b}", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_error_text(d), "regexp map: missing '}' in \"{ {/a/ b}\"");
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);
    d = dict_open("regexp:{/a/ b}", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_error_text(d), "regexp map: no '{' at start of text in \"/a/\"");
    dict_close(d);
}

UNIT_TEST(unix_passwd_and_group)
{
    DICT   *pw = dict_open("unix:passwd.byname", O_RDONLY, DICT_FLAG_DEFAULT);
    DICT   *gr = dict_open("unix:group.byname", O_RDONLY, DICT_FLAG_DEFAULT);
    struct passwd *p = getpwnam("root");
    struct group *g = getgrnam("root");
    VSTRING *want = vstring_alloc(100);

    EXPECT(p != 0 && g != 0);
    vstring_sprintf(want, "root:%s:0:0:%s:%s:%s", p->pw_passwd, p->pw_gecos,
		    p->pw_dir, p->pw_shell);
    EXPECT_STR(dict_get(pw, "root"), vstring_str(want));
    EXPECT_STR(dict_get(pw, "ROOT"), vstring_str(want));
    vstring_sprintf(want, "root:%s:0:", g->gr_passwd);
    for (char **m = g->gr_mem; *m; m++)
	vstring_sprintf_append(want, "%s%s", m == g->gr_mem ? "" : ",", *m);
    EXPECT_STR(dict_get(gr, "root"), vstring_str(want));
    EXPECT(dict_get(pw, "no-such-user-here") == 0);
    EXPECT_INT(pw->error, DICT_ERR_NONE);
    EXPECT(dict_get(gr, "") == 0);
    EXPECT_INT(gr->error, DICT_ERR_NONE);
    dict_close(pw);
    dict_close(gr);
    vstring_free(want);

    pw = dict_open("unix:passwd.byuid", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_error_text(pw), "unknown table: unix:passwd.byuid");
    EXPECT(dict_get(pw, "root") == 0);
    EXPECT_INT(pw->error, DICT_ERR_CONFIG);
    dict_close(pw);
}

UNIT_TEST(proxy_reads_the_inner_table)
{
    DICT   *d = dict_open("proxy:inline:{ Key=Value }", O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(d->type, "proxy");
    EXPECT_STR(d->name, "inline:{ Key=Value }");
    EXPECT_STR(dict_get(d, "KEY"), "Value");
    EXPECT(dict_get(d, "nokey") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    dict_close(d);

    /* A pattern table stays one (maps_find asks it once, whole key). */
    d = dict_open("proxy:regexp:{ {/^A/ yes} }", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT((d->flags & DICT_FLAG_PATTERN) != 0);
    EXPECT_STR(dict_get(d, "abc"), "yes");
    dict_close(d);

    d = dict_open("proxy:unix:passwd.byname", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(strncmp(dict_get(d, "root"), "root:", 5) == 0);
    dict_close(d);

    d = dict_open("proxy:ldap:/etc/postfix/ldap.cf", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_error_text(d), "unsupported dictionary type: ldap");
    EXPECT(dict_get(d, "x") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);

    d = dict_open(table("proxy:texthash", "th", "a b\n"), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "a"), "b");
    EXPECT(dict_changed(d) == 0);
    unlink(tpath("th"));
    EXPECT(dict_changed(d) == 1);
    dict_close(d);
}

UNIT_TEST(nis_on_this_host)
{
    char    domain[256] = "";
    DICT   *d = dict_open("nis:mail.aliases", O_RDONLY, DICT_FLAG_DEFAULT);
    int     has_domain;

    has_domain = getdomainname(domain, sizeof(domain)) == 0 && domain[0]
	&& strcmp(domain, "(none)") != 0;
    EXPECT(dict_get(d, "postmaster") == 0);
    if (has_domain) {
	EXPECT_STR(dict_error_text(d), "unsupported dictionary type: nis");
	EXPECT_INT(d->error, DICT_ERR_RETRY);
    } else {
	/* As Postfix without a NIS domain: a warning, then "not found". */
	EXPECT(dict_error_text(d) == 0);
	EXPECT_INT(d->error, DICT_ERR_NONE);
    }
    dict_close(d);
}

UNIT_TEST(unsupported_types_name_themselves)
{
    const char *types[] = {"ldap", "mysql", "pgsql", "sqlite", "memcache",
    "socketmap", "tcp", "sdbm", "dbm", "cdb", "fail", 0};
    VSTRING *name = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);
    DICT   *d;

    for (int i = 0; types[i]; i++) {
	vstring_sprintf(name, "%s:/etc/postfix/x.cf", types[i]);
	vstring_sprintf(want, "unsupported dictionary type: %s", types[i]);
	d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
	EXPECT_STR(dict_error_text(d), vstring_str(want));
	EXPECT(dict_get(d, "x") == 0);
	EXPECT_INT(d->error, DICT_ERR_CONFIG);
	EXPECT(dict_type_known(types[i]) == 0);
	dict_close(d);
    }
    EXPECT(dict_type_known("regexp") && dict_type_known("lmdb")
	   && dict_type_known("unix") && dict_type_known("proxy"));
    vstring_free(name);
    vstring_free(want);
}

/* lmdb_build - a new lmdb: table from key/value pairs, as postmap does */

static void lmdb_build(const char *name, int flags, const char **pairs)
{
    DICT   *d = dict_open(name, O_RDWR | O_CREAT | O_TRUNC,
			  flags | DICT_FLAG_BULK_CREATE);

    EXPECT(dict_error_text(d) == 0);
    for (int i = 0; pairs[i]; i += 2)
	(void) dict_put(d, pairs[i], pairs[i + 1]);
    dict_close(d);
}

UNIT_TEST(lmdb_roundtrip)
{
    const char *pairs[] = {"Key1", "value one", "b", "two", "b", "three", 0};
    const char *name = strdup(table("lmdb", "l1", 0));
    const char *key;
    const char *value;
    DICT   *d;
    int     count = 0;
    struct stat st;

    lmdb_build(name, DICT_FLAG_DEFAULT, pairs);
    EXPECT(stat(tpath("l1.lmdb"), &st) == 0);
    EXPECT(access(tpath("l1.lmdb-lock"), F_OK) < 0);
    d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT | DICT_FLAG_LOCK);
    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "KEY1"), "value one");
    EXPECT_STR(dict_get(d, "b"), "two");	/* the first one wins */
    EXPECT(dict_get(d, "nosuch") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    for (int r = dict_seq(d, DICT_SEQ_FIRST, &key, &value); r == 0;
	 r = dict_seq(d, DICT_SEQ_NEXT, &key, &value))
	count++;
    EXPECT_INT(count, 2);
    dict_close(d);

    /* In-place updates (postmap -i, -d). */
    d = dict_open(name, O_RDWR, DICT_FLAG_DEFAULT);
    EXPECT_INT(dict_put(d, "new", "entry"), 0);
    EXPECT_INT(dict_put(d, "b", "again"), 1);
    EXPECT_INT(dict_del(d, "key1"), 0);
    EXPECT_INT(dict_del(d, "key1"), 1);
    dict_close(d);
    d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "new"), "entry");
    EXPECT_STR(dict_get(d, "b"), "two");
    EXPECT(dict_get(d, "key1") == 0);
    dict_close(d);

    /* Without the trailing NUL (postmap -n): a default reader finds it. */
    lmdb_build(name, (DICT_FLAG_DEFAULT & ~DICT_FLAG_TRY1NULL), pairs);
    d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "key1"), "value one");
    dict_close(d);
    d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT & ~DICT_FLAG_TRY0NULL);
    EXPECT(dict_get(d, "key1") == 0);
    dict_close(d);
    free((void *) name);
}

UNIT_TEST(lmdb_failures)
{
    DICT   *d;
    FILE   *fp;

    d = dict_open(table("lmdb", "nosuch", 0), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(strstr(dict_error_text(d), "open database ") != 0);
    EXPECT(strstr(dict_error_text(d), "nosuch.lmdb: No such file or directory") != 0);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);

    fp = fopen(tpath("junk.lmdb"), "w");
    fputs("this is not an lmdb file\n", fp);
    fclose(fp);
    d = dict_open(table("lmdb", "junk", 0), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(strstr(dict_error_text(d), "MDB_INVALID") != 0);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);
}

UNIT_TEST(lmdb_outgrows_its_map)
{
    const char *pairs[] = {"a", "b", 0};
    const char *name = strdup(table("lmdb", "big", 0));
    const char *name2;
    VSTRING *key = vstring_alloc(100);
    VSTRING *value = vstring_alloc(300);
    DICT   *d;
    struct stat st;
    int     n = 60000;

    /* About 20 MiB of values: more than the first 16 MiB map, twice. */
    d = dict_open(name, O_RDWR | O_CREAT | O_TRUNC,
		  DICT_FLAG_DEFAULT | DICT_FLAG_BULK_CREATE);
    for (int i = 0; i < n; i++) {
	vstring_sprintf(key, "key%d", i);
	vstring_sprintf(value, "%0300d", i);
	EXPECT_INT(dict_put(d, vstring_str(key), vstring_str(value)), 0);
    }
    dict_close(d);
    EXPECT(stat(tpath("big.lmdb"), &st) == 0 && st.st_size > 16 * 1024 * 1024);

    d = dict_open(name, O_RDONLY, DICT_FLAG_DEFAULT);
    vstring_sprintf(value, "%0300d", 0);
    EXPECT_STR(dict_get(d, "key0"), vstring_str(value));
    vstring_sprintf(value, "%0300d", n - 1);
    vstring_sprintf(key, "key%d", n - 1);
    EXPECT_STR(dict_get(d, vstring_str(key)), vstring_str(value));
    dict_close(d);

    /* In place (postmap -i): a small table takes 20 MiB, 60 updates. */
    name2 = strdup(table("lmdb", "grow", 0));
    lmdb_build(name2, DICT_FLAG_DEFAULT, pairs);
    d = dict_open(name2, O_RDWR, DICT_FLAG_DEFAULT);
    vstring_sprintf(value, "%0327680d", 7);
    for (int i = 0; i < 64; i++) {
	vstring_sprintf(key, "big%d", i);
	if (dict_put(d, vstring_str(key), vstring_str(value)) != 0) {
	    EXPECT(!"in-place put failed");
	    break;
	}
    }
    dict_close(d);
    EXPECT(stat(tpath("grow.lmdb"), &st) == 0 && st.st_size > 16 * 1024 * 1024);
    d = dict_open(name2, O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "big63"), vstring_str(value));
    EXPECT_STR(dict_get(d, "a"), "b");
    dict_close(d);
    free((void *) name2);
    vstring_free(key);
    vstring_free(value);
    free((void *) name);
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
