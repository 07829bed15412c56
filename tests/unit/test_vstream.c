/*
 * NAME
 *	test_vstream - seeks inside and outside the read buffer, larger
 *	buffers; queue file records whose length the file cannot hold
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/queue_file.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "unit.h"

/* temp_file - a file with the given bytes; its path in path */
static void temp_file(char *path, const void *data, size_t len)
{
    int     fd;

    strcpy(path, "/tmp/test_vstream.XXXXXX");
    if ((fd = mkstemp(path)) < 0 || write(fd, data, len) != (ssize_t) len)
	abort();
    close(fd);
}

UNIT_TEST(seek_in_buffer_and_beyond)
{
    char    path[64];
    char    data[20000];
    char    buf[16];
    VSTREAM *s;

    for (size_t i = 0; i < sizeof(data); i++)
	data[i] = 'a' + i % 26;
    temp_file(path, data, sizeof(data));
    s = vstream_open(path, O_RDONLY, 0);
    EXPECT(s != 0);
    EXPECT_INT(vstream_read(s, buf, 10), 10);
    EXPECT(memcmp(buf, data, 10) == 0);
    /* Back, inside what was read: the same bytes again. */
    EXPECT_INT(vstream_seek(s, 3, SEEK_SET), 3);
    EXPECT_INT(vstream_tell(s), 3);
    EXPECT_INT(vstream_read(s, buf, 5), 5);
    EXPECT(memcmp(buf, data + 3, 5) == 0);
    /* Forward inside the buffer, relative. */
    EXPECT_INT(vstream_seek(s, 100, SEEK_CUR), 108);
    EXPECT_INT(vstream_read(s, buf, 4), 4);
    EXPECT(memcmp(buf, data + 108, 4) == 0);
    /* Beyond the buffer (8 KB), then back to the start. */
    EXPECT_INT(vstream_seek(s, 15000, SEEK_SET), 15000);
    EXPECT_INT(vstream_read(s, buf, 6), 6);
    EXPECT(memcmp(buf, data + 15000, 6) == 0);
    EXPECT_INT(vstream_seek(s, 0, SEEK_SET), 0);
    EXPECT_INT(vstream_read(s, buf, 6), 6);
    EXPECT(memcmp(buf, data, 6) == 0);
    /* At the end, EOF; a seek back inside the buffer clears it. */
    EXPECT_INT(vstream_seek(s, sizeof(data) - 2, SEEK_SET), (long) sizeof(data) - 2);
    EXPECT_INT(vstream_read(s, buf, 8), 2);
    EXPECT(vstream_getc(s) == VSTREAM_EOF);
    EXPECT_INT(vstream_seek(s, sizeof(data) - 4, SEEK_SET), (long) sizeof(data) - 4);
    EXPECT_INT(vstream_read(s, buf, 8), 4);
    EXPECT(memcmp(buf, data + sizeof(data) - 4, 4) == 0);
    vstream_close(s);
    unlink(path);
}

UNIT_TEST(bufsize_larger_reads)
{
    char    path[64];
    static char data[200000];
    static char out[200000];
    VSTREAM *s;

    for (size_t i = 0; i < sizeof(data); i++)
	data[i] = (char) (i * 7);
    temp_file(path, data, sizeof(data));
    s = vstream_open(path, O_RDONLY, 0);
    vstream_set_bufsize(s, 64 * 1024);
    EXPECT_INT(vstream_read(s, out, 5), 5);
    /* One read filled 64 KB: that much is buffered now. */
    EXPECT_INT(vstream_peek(s), 64 * 1024 - 5);
    EXPECT_INT(vstream_read(s, out + 5, sizeof(out) - 5), (long) sizeof(out) - 5);
    EXPECT(memcmp(out, data, sizeof(data)) == 0);
    vstream_close(s);
    unlink(path);
}

UNIT_TEST(record_length_beyond_file)
{
    char    path[64];
    /* V record "1", then an S record that says 100 bytes and has 3. */
    static const char data[] = "V\0\0\0\0011S\0\0\0\144abc";
    VSTRING *buf = vstring_alloc(10);
    VSTREAM *s;

    temp_file(path, data, sizeof(data) - 1);
    s = vstream_open(path, O_RDONLY, 0);
    EXPECT_INT(rec_get(s, buf, 1000), 'V');
    EXPECT_STR(vstring_str(buf), "1");
    EXPECT_INT(rec_get(s, buf, 1000), REC_TYPE_ERROR);
    vstream_close(s);
    unlink(path);
    vstring_free(buf);
}

int     main(void)
{
    return (unit_run());
}
