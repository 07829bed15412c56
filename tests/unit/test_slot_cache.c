/*
 * NAME
 *	test_slot_cache - the shared record cache of the TLS session
 *	caches: values read back, expire, replace; a file of another
 *	format is started over; a torn record reads as empty; processes
 *	writing at once never leave a record that reads wrong
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/slot_cache.h"
#include "util/vstring.h"
#include "unit.h"

static char path[64];

static SLOT_CACHE *open_cache(VSTRING *why)
{
    int     fd = open(path, O_RDWR | O_CREAT, 0600);

    if (fd < 0)
	abort();
    return (slot_cache_open(fd, path, why));
}

static void fresh(void)
{
    int     fd;

    snprintf(path, sizeof(path), "/tmp/test_slot_cache.XXXXXX");
    if ((fd = mkstemp(path)) < 0)
	abort();
    close(fd);
}

UNIT_TEST(values_read_back)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *val = vstring_alloc(10);
    SLOT_CACHE *c;
    unsigned char bin[300];

    fresh();
    c = open_cache(why);
    EXPECT(c != 0);
    EXPECT_INT(vstring_len(why), 0);
    for (size_t i = 0; i < sizeof(bin); i++)
	bin[i] = (unsigned char) i;
    EXPECT_INT(slot_cache_put(c, "smtp&[192.0.2.1]:25", bin, sizeof(bin)), 0);
    EXPECT_INT(slot_cache_get(c, "smtp&[192.0.2.1]:25", 60, val), 1);
    EXPECT_INT(vstring_len(val), sizeof(bin));
    EXPECT(memcmp(vstring_str(val), bin, sizeof(bin)) == 0);
    EXPECT_INT(slot_cache_get(c, "smtp&[192.0.2.2]:25", 60, val), 0);
    /* A second descriptor (another process) sees the same record. */
    {
	SLOT_CACHE *c2 = open_cache(why);

	EXPECT_INT(slot_cache_get(c2, "smtp&[192.0.2.1]:25", 60, val), 1);
	EXPECT_INT(slot_cache_put(c2, "smtp&[192.0.2.1]:25", "new", 3), 0);
	slot_cache_close(c2);
    }
    EXPECT_INT(slot_cache_get(c, "smtp&[192.0.2.1]:25", 60, val), 1);
    EXPECT_INT(vstring_len(val), 3);
    slot_cache_del(c, "smtp&[192.0.2.1]:25");
    EXPECT_INT(slot_cache_get(c, "smtp&[192.0.2.1]:25", 60, val), 0);
    /* Too large for a slot: refused, not truncated. */
    {
	char   *big = calloc(1, SLOT_CACHE_VALUE_MAX + 1);

	EXPECT_INT(slot_cache_put(c, "big", big, SLOT_CACHE_VALUE_MAX + 1), -1);
	EXPECT_INT(slot_cache_put(c, "big", big, SLOT_CACHE_VALUE_MAX), 0);
	EXPECT_INT(slot_cache_get(c, "big", 60, val), 1);
	EXPECT_INT(vstring_len(val), SLOT_CACHE_VALUE_MAX);
	free(big);
    }
    slot_cache_close(c);
    unlink(path);
    vstring_free(why);
    vstring_free(val);
}

UNIT_TEST(records_expire_and_make_room)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *val = vstring_alloc(10);
    SLOT_CACHE *c;
    char    key[40];
    int     found = 0;

    fresh();
    c = open_cache(why);
    EXPECT_INT(slot_cache_put(c, "old", "x", 1), 0);
    EXPECT_INT(slot_cache_get(c, "old", 0, val), 1);	/* stored this second */
    sleep(2);
    EXPECT_INT(slot_cache_get(c, "old", 1, val), 0);
    EXPECT_INT(slot_cache_get(c, "old", 60, val), 1);
    /* Many more keys than slots: the cache forgets, never fails. */
    for (int i = 0; i < 3 * SLOT_CACHE_SLOTS; i++) {
	snprintf(key, sizeof(key), "key%d", i);
	if (slot_cache_put(c, key, key, strlen(key)) != 0)
	    UNIT_FAIL("put %s", key);
    }
    for (int i = 0; i < 3 * SLOT_CACHE_SLOTS; i++) {
	snprintf(key, sizeof(key), "key%d", i);
	if (slot_cache_get(c, key, 60, val) == 1) {
	    found++;
	    if (vstring_len(val) != strlen(key) || memcmp(vstring_str(val), key, strlen(key)))
		UNIT_FAIL("%s has the value of another key", key);
	}
    }
    EXPECT(found > SLOT_CACHE_SLOTS / 2);
    EXPECT(found <= SLOT_CACHE_SLOTS);
    slot_cache_close(c);
    unlink(path);
    vstring_free(why);
    vstring_free(val);
}

UNIT_TEST(foreign_or_torn_content_is_discarded)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *val = vstring_alloc(10);
    SLOT_CACHE *c;
    int     fd;
    char    junk[10000];
    struct stat st;

    fresh();
    /* A Berkeley DB file, or any garbage: started over, with a reason. */
    fd = open(path, O_WRONLY | O_TRUNC);
    memset(junk, 'J', sizeof(junk));
    EXPECT_INT(write(fd, junk, sizeof(junk)), sizeof(junk));
    close(fd);
    c = open_cache(why);
    EXPECT(c != 0);
    EXPECT(strstr(vstring_str(why), "is not a cache of this format") != 0);
    EXPECT_INT(slot_cache_get(c, "JJJJ", -1, val), 0);
    EXPECT_INT(slot_cache_put(c, "k", "value", 5), 0);
    slot_cache_close(c);

    /* Flip one byte of the record's value: it reads as absent. */
    EXPECT_INT(stat(path, &st), 0);
    fd = open(path, O_RDWR);
    EXPECT_INT(pwrite(fd, "V", 1, st.st_size - 1), 1);
    close(fd);
    c = open_cache(why);
    EXPECT_INT(vstring_len(why), 0);
    EXPECT_INT(slot_cache_get(c, "k", -1, val), 0);
    /* Cut in the middle of a record: the same. */
    EXPECT_INT(slot_cache_put(c, "k", "value", 5), 0);
    EXPECT_INT(truncate(path, st.st_size - 2), 0);
    EXPECT_INT(slot_cache_get(c, "k", -1, val), 0);
    slot_cache_close(c);
    unlink(path);
    vstring_free(why);
    vstring_free(val);
}

UNIT_TEST(concurrent_writers_and_readers)
{
    VSTRING *why = vstring_alloc(10);
    pid_t   pids[4];
    int     status, bad = 0;

    fresh();
    for (int p = 0; p < 4; p++) {
	if ((pids[p] = fork()) == 0) {
	    SLOT_CACHE *c = open_cache(why);
	    VSTRING *val = vstring_alloc(10);
	    char    key[20], data[2000];
	    int     wrong = 0;

	    for (int i = 0; i < 400; i++) {
		int     k = (i * 7 + p) % 64;

		snprintf(key, sizeof(key), "k%d", k);
		memset(data, 'a' + k % 26, sizeof(data));
		(void) slot_cache_put(c, key, data, 100 + (size_t) k * 20);
		snprintf(key, sizeof(key), "k%d", (k + 5) % 64);
		if (slot_cache_get(c, key, 60, val) == 1) {
		    int     kk = (k + 5) % 64;

		    if (vstring_len(val) != 100 + (size_t) kk * 20
			|| vstring_str(val)[0] != 'a' + kk % 26
			|| vstring_str(val)[vstring_len(val) - 1] != 'a' + kk % 26)
			wrong++;
		}
	    }
	    _exit(wrong ? 1 : 0);
	}
    }
    for (int p = 0; p < 4; p++) {
	waitpid(pids[p], &status, 0);
	bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    EXPECT_INT(bad, 0);
    unlink(path);
    vstring_free(why);
}

int     main(void)
{
    return (unit_run());
}
