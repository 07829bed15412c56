/*
 * NAME
 *	test_mail_queue - queue IDs, hashed paths, enter/rename/remove, mkdirs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "unit.h"

static char dir[] = "/tmp/test_mail_queue.XXXXXX";

static void setup(const char *main_cf)
{
    char    path[256];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/main.cf", dir);
    fp = fopen(path, "w");
    fputs(main_cf, fp);
    fclose(fp);
    mail_conf_reset();
    mail_conf_read(dir);
}

UNIT_TEST(id_shapes)
{
    EXPECT(mail_queue_id_ok("72C22A73A21"));
    EXPECT(mail_queue_id_ok("4jY02T1xgWz1bXy0"));
    EXPECT(mail_queue_id_ok("4jYz2T1xzWz1bXy0"));	/* "z" is a base-52 digit */
    EXPECT(!mail_queue_id_ok("72c22a73a21"));
    EXPECT(!mail_queue_id_ok("72C22"));
    EXPECT(!mail_queue_id_ok(""));
    EXPECT(!mail_queue_id_ok("T1234.5"));
    EXPECT(!mail_queue_id_ok("../etc"));
    EXPECT(!mail_queue_id_ok("4jY02T1xgWz"));
    EXPECT(!mail_queue_id_ok("4jA02T1xgWz1bXy0"));	/* vowel */
}

UNIT_TEST(paths)
{
    VSTRING *buf = vstring_alloc(10);

    setup("hash_queue_depth = 2\n");
    EXPECT_STR(mail_queue_path(buf, "incoming", "72C22A73A21"), "incoming/72C22A73A21");
    EXPECT_STR(mail_queue_path(buf, "deferred", "72C22A73A21"), "deferred/7/2/72C22A73A21");
    EXPECT_STR(mail_queue_path(buf, "defer", "72C22A73A21"), "defer/7/2/72C22A73A21");
    setup("");
    EXPECT_STR(mail_queue_path(buf, "deferred", "72C22A73A21"), "deferred/7/72C22A73A21");
    /* Long IDs hash on the hex digits of their microseconds. */
    {
	const char *p = mail_queue_path(buf, "deferred", "4jY02T0001z1bXy0");

	EXPECT_STR(p, "deferred/0/4jY02T0001z1bXy0");
	/* usec "000z" = 51 = 0x33: hex digits 00033 */
	p = mail_queue_path(buf, "deferred", "4jYz2T000zz1bXy0");
	EXPECT_STR(p, "deferred/0/4jYz2T000zz1bXy0");
    }
    setup("hash_queue_depth = 5\n");
    EXPECT_STR(mail_queue_path(buf, "deferred", "4jYz2T000zz1bXy0"),
	       "deferred/0/0/0/3/3/4jYz2T000zz1bXy0");
    vstring_free(buf);
}

static void enter_rename_remove(int long_ids)
{
    VSTRING *id = vstring_alloc(10);
    VSTRING *path = vstring_alloc(10);
    VSTREAM *fp;
    struct stat st;

    setup(long_ids ? "enable_long_queue_ids = yes\n" : "");
    EXPECT(mail_queue_mkdirs(getuid(), getgid()) == 0);
    fp = mail_queue_enter(MAIL_QUEUE_INCOMING, 0700, id);
    EXPECT(fp != 0);
    if (fp == 0)
	return;
    EXPECT(mail_queue_id_ok(vstring_str(id)));
    EXPECT(fstat(vstream_fileno(fp), &st) == 0);
    EXPECT(!MAIL_QUEUE_MSG_COMPLETE(&st));
    if (!long_ids) {
	char    ino[32];

	snprintf(ino, sizeof(ino), "%lX", (unsigned long) st.st_ino);
	EXPECT_STR(vstring_str(id) + 5, ino);
    } else {
	EXPECT(strchr(vstring_str(id), 'z') != 0);
    }
    vstream_close(fp);
    EXPECT(stat(mail_queue_path(path, "incoming", vstring_str(id)), &st) == 0);
    EXPECT(mail_queue_rename(vstring_str(id), "incoming", "deferred") == 0);
    EXPECT(stat(mail_queue_path(path, "deferred", vstring_str(id)), &st) == 0);
    EXPECT(mail_queue_rename(vstring_str(id), "incoming", "deferred") < 0);
    EXPECT(mail_queue_remove("deferred", vstring_str(id)) == 0);
    EXPECT(stat(vstring_str(path), &st) < 0);
    vstring_free(id);
    vstring_free(path);
}

UNIT_TEST(enter_short)
{
    enter_rename_remove(0);
}

UNIT_TEST(enter_long)
{
    enter_rename_remove(1);
}

UNIT_TEST(mkdirs_modes)
{
    struct stat st;

    setup("");
    EXPECT(mail_queue_mkdirs(getuid(), getgid()) == 0);
    EXPECT(stat("public", &st) == 0 && (st.st_mode & 0777) == 0710);
    EXPECT(stat("incoming", &st) == 0 && (st.st_mode & 07777) == 0700);
    EXPECT(stat("pid", &st) == 0 && S_ISDIR(st.st_mode));
    EXPECT(stat("saved", &st) == 0 && S_ISDIR(st.st_mode));
}

int     main(void)
{
    char    qdir[300];
    int     ret;

    if (mkdtemp(dir) == 0)
	return (2);
    snprintf(qdir, sizeof(qdir), "%s/queue", dir);
    if (mkdir(qdir, 0755) < 0 || chdir(qdir) < 0)
	return (2);
    ret = unit_run();
    {
	char    cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
	    ret = 2;
    }
    return (ret);
}
