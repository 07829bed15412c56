/*
 * NAME
 *	test_dict - unit tests of the fixed-key table types
 * DESCRIPTION
 *	static:, inline:, texthash:, hash: and btree: through dict.h,
 *	in a temporary folder.
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

static char tmpdir[] = "/tmp/test_dict.XXXXXX";

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

static void write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
}

UNIT_TEST(static_answers_everything)
{
    DICT   *d = dict_open("static:hello", O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT_STR(dict_get(d, "anything"), "hello");
    dict_close(d);
    d = dict_open("static:{ two words }", O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "x"), "two words");
    dict_close(d);
}

UNIT_TEST(inline_table)
{
    DICT   *d = dict_open("inline:{ Key=Value , {z = a b}, y=c }", O_RDONLY,
			  DICT_FLAG_DEFAULT);

    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "KEY"), "Value");
    EXPECT_STR(dict_get(d, "z"), "a b");
    EXPECT_STR(dict_get(d, "y"), "c");
    EXPECT(dict_get(d, "nope") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    dict_close(d);

    {
	const char *bad[] = {"inline:{ x=y, q }", "inline:{ x=y }extra",
	    "inline:x=y", "inline:{}", "inline:{ y= c }", "static:{ a b ",
	"static:", "nocolon", 0};

	for (const char **cpp = bad; *cpp; cpp++) {
	    d = dict_open(*cpp, O_RDONLY, DICT_FLAG_DEFAULT);
	    EXPECT(dict_error_text(d) != 0);
	    EXPECT(dict_get(d, "x") == 0);
	    EXPECT_INT(d->error, DICT_ERR_CONFIG);
	    dict_close(d);
	}
    }
}

UNIT_TEST(texthash_source_format)
{
    const char *path = tpath("th");
    VSTRING *name = vstring_alloc(100);
    DICT   *d;

    write_file(path, "a 1\n\n# c\nb\n  cont\n   # x\nc\n  d  \ne  \nf  g  \n"
	       "\"a b\" q\nA dup\nk2 v2 # trailing\n");
    vstring_sprintf(name, "texthash:%s", path);
    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "a"), "1");
    EXPECT_STR(dict_get(d, "b"), "cont");
    EXPECT_STR(dict_get(d, "C"), "d");
    EXPECT(dict_get(d, "e") == 0);
    EXPECT_STR(dict_get(d, "f"), "g");
    EXPECT_STR(dict_get(d, "\"a b\""), "q");
    EXPECT_STR(dict_get(d, "k2"), "v2 # trailing");
    EXPECT(dict_changed(d) == 0);
    dict_close(d);

    vstring_sprintf(name, "texthash:%s", tpath("missing"));
    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    EXPECT(dict_error_text(d) != 0);
    dict_close(d);
    vstring_free(name);
}

static void db_roundtrip(const char *type)
{
    VSTRING *name = vstring_alloc(100);
    DICT   *d;
    const char *k;
    const char *v;
    int     n = 0;

    vstring_sprintf(name, "%s:%s", type, tpath(type));
    d = dict_open(vstring_str(name), O_RDWR | O_CREAT | O_TRUNC,
		  DICT_FLAG_DEFAULT | DICT_FLAG_BULK_CREATE);
    EXPECT(dict_error_text(d) == 0);
    EXPECT_INT(dict_put(d, "User@Example.COM", "smtp:[10.0.0.1]:2525"), 0);
    EXPECT_INT(dict_put(d, "user@example.com", "second"), 1);
    EXPECT_INT(dict_put(d, "other", "Value"), 0);
    dict_close(d);

    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_error_text(d) == 0);
    EXPECT_STR(dict_get(d, "USER@example.com"), "smtp:[10.0.0.1]:2525");
    EXPECT_STR(dict_get(d, "other"), "Value");
    EXPECT(dict_get(d, "none") == 0);
    EXPECT_INT(d->error, DICT_ERR_NONE);
    for (int r = dict_seq(d, DICT_SEQ_FIRST, &k, &v); r == 0;
	 r = dict_seq(d, DICT_SEQ_NEXT, &k, &v))
	n++;
    EXPECT_INT(n, 2);
    EXPECT(dict_changed(d) == 0);
    dict_close(d);

    /* In-place update and delete. */
    d = dict_open(vstring_str(name), O_RDWR, DICT_FLAG_DEFAULT | DICT_FLAG_DUP_REPLACE);
    EXPECT_INT(dict_put(d, "other", "new"), 0);
    EXPECT_STR(dict_get(d, "other"), "new");
    EXPECT_INT(dict_del(d, "other"), 0);
    EXPECT_INT(dict_del(d, "other"), 1);
    EXPECT(dict_get(d, "other") == 0);
    dict_close(d);

    /* No trailing NUL (postmap -n) is still found by default readers. */
    {
	DICT   *reader = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);

	EXPECT(dict_changed(reader) == 0);
	d = dict_open(vstring_str(name), O_RDWR | O_CREAT | O_TRUNC,
		   DICT_FLAG_FOLD_FIX | DICT_FLAG_TRY0NULL | DICT_FLAG_BULK_CREATE);
	EXPECT_INT(dict_put(d, "nonul", "x"), 0);
	/* Until the new table is complete, readers see the old one. */
	EXPECT(dict_changed(reader) == 0);
	dict_close(d);
	/* A long-running reader notices the rebuilt table. */
	EXPECT(dict_changed(reader) == 1);
	dict_close(reader);
    }
    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT_STR(dict_get(d, "NONUL"), "x");
    dict_close(d);

    /* A missing file fails every lookup, and says why. */
    vstring_sprintf(name, "%s:%s", type, tpath("nosuch"));
    d = dict_open(vstring_str(name), O_RDONLY, DICT_FLAG_DEFAULT);
    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    EXPECT(strstr(dict_error_text(d), "No such file") != 0);
    dict_close(d);
    vstring_free(name);
}

UNIT_TEST(hash_roundtrip)
{
    db_roundtrip("hash");
}

UNIT_TEST(btree_roundtrip)
{
    db_roundtrip("btree");
}

UNIT_TEST(unknown_type)
{
    DICT   *d = dict_open("nosuch:thing", O_RDONLY, DICT_FLAG_DEFAULT);

    EXPECT(dict_get(d, "a") == 0);
    EXPECT_INT(d->error, DICT_ERR_CONFIG);
    dict_close(d);
}

UNIT_TEST(cleanup_tmpdir)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(cmd, "rm -rf %s", tpath(""));
    EXPECT_INT(system(vstring_str(cmd)), 0);
    vstring_free(cmd);
}

int     main(void)
{
    msg_to_stderr(1);
    return (unit_run());
}
