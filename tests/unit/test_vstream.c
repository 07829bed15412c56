/*
 * NAME
 *	test_vstream - seeks inside and outside the read buffer, larger
 *	buffers, vstream_skip(); queue file records whose length the file
 *	cannot hold; I/O with timeouts on sockets (without a wait first)
 *	and pipes, vstream_fill(s, 0), a stream with one replaced I/O
 *	function
 */
#include <sys/socket.h>
#include <errno.h>
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

UNIT_TEST(skip_what_was_peeked)
{
    char    path[64];
    const char data[] = "one\ntwo\nthree\n";
    VSTRING *line = vstring_alloc(10);
    VSTREAM *s;

    temp_file(path, data, sizeof(data) - 1);
    s = vstream_open(path, O_RDONLY, 0);
    EXPECT_INT(vstream_fill(s, 1000), 1);
    EXPECT_INT(vstream_peek(s), sizeof(data) - 1);
    /* A reader that used "one\n" in place consumes it. */
    vstream_skip(s, 4);
    EXPECT_INT(vstream_peek(s), sizeof(data) - 1 - 4);
    EXPECT(strncmp(vstream_peek_data(s), "two\n", 4) == 0);
    EXPECT_INT(vstream_get_line(s, line, 100), VSTREAM_LINE);
    EXPECT_STR(vstring_str(line), "two");
    /* Never past what is buffered. */
    vstream_skip(s, 1000);
    EXPECT_INT(vstream_peek(s), 0);
    EXPECT_INT(vstream_get_line(s, line, 100), VSTREAM_EOF);
    vstream_close(s);
    vstring_free(line);
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

UNIT_TEST(socket_and_pipe_with_timeout)
{
    int     sv[2];
    int     pv[2];
    VSTREAM *a;
    VSTREAM *b;
    VSTRING *line = vstring_alloc(10);

    EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    a = vstream_fdopen(sv[0]);
    b = vstream_fdopen(sv[1]);
    vstream_set_timeout(a, 5);
    vstream_set_timeout(b, 5);
    /* Nothing there: a look without waiting finds nothing, no error. */
    EXPECT_INT(vstream_fill(b, 0), 0);
    EXPECT(!vstream_ferror(b));
    /* Pipelined lines: one write, read one at a time from the buffer. */
    EXPECT_INT(vstream_fputs(a, "one\r\ntwo\r\n"), 0);
    EXPECT_INT(vstream_fflush(a), 0);
    EXPECT_INT(vstream_get_line(b, line, 100), VSTREAM_LINE);
    EXPECT_STR(vstring_str(line), "one\r");
    EXPECT_INT(vstream_get_line(b, line, 100), VSTREAM_LINE);
    EXPECT_STR(vstring_str(line), "two\r");
    /* A buffered reply stays buffered through a look at pending input. */
    EXPECT_INT(vstream_fputs(b, "250 ok\r\n"), 0);
    EXPECT_INT(vstream_fill(b, 0), 0);
    EXPECT_INT(vstream_fill(a, 0), 0);
    /* A wait for input sends it first; the answer comes after a wait. */
    EXPECT_INT(vstream_fill(b, 10), 0);
    EXPECT_INT(vstream_get_line(a, line, 100), VSTREAM_LINE);
    EXPECT_STR(vstring_str(line), "250 ok\r");
    /* End of file. */
    close(sv[0]);
    EXPECT_INT(vstream_get_line(b, line, 100), VSTREAM_EOF);
    EXPECT(vstream_feof(b));
    vstream_release(a);
    (void) vstream_close(b);

    /* A pipe is not a socket: the same calls work (with a wait first). */
    EXPECT(pipe(pv) == 0);
    a = vstream_fdopen(pv[1]);
    b = vstream_fdopen(pv[0]);
    vstream_set_timeout(a, 5);
    vstream_set_timeout(b, 5);
    EXPECT_INT(vstream_fill(b, 0), 0);
    EXPECT_INT(vstream_fputs(a, "x\n"), 0);
    EXPECT_INT(vstream_fflush(a), 0);
    EXPECT_INT(vstream_get_line(b, line, 100), VSTREAM_LINE);
    EXPECT_STR(vstring_str(line), "x");
    (void) vstream_close(a);
    (void) vstream_close(b);
    vstring_free(line);
}

static ssize_t count_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    (void) fd;
    (void) timeout_ms;
    ++*(int *) ctx;
    if (len > 0)
	memset(buf, 'r', 1);
    return (len > 0 ? 1 : 0);
}

UNIT_TEST(one_replaced_function_keeps_its_context)
{
    int     sv[2];
    int     ctx[8] = {0};
    VSTREAM *s;
    char    buf[4];

    /* Its own read function with a context, the descriptor's write. */
    EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    s = vstream_fdopen(sv[0]);
    vstream_set_timeout(s, 5);
    vstream_set_io(s, count_read, 0, ctx);
    EXPECT_INT(vstream_fputs(s, "hello"), 0);
    EXPECT_INT(vstream_fflush(s), 0);
    EXPECT_INT(recv(sv[1], buf, sizeof(buf), 0), 4);
    for (int i = 1; i < 8; i++)
	EXPECT_INT(ctx[i], 0);			/* the write left it alone */
    EXPECT_INT(vstream_getc(s), 'r');
    EXPECT_INT(ctx[0], 1);
    (void) vstream_close(s);
    close(sv[1]);
}
