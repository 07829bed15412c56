/*
 * NAME
 *	vstream - buffered I/O on descriptors, with timeouts and deadlines
 * SYNOPSIS
 *	VSTREAM *vstream_fdopen(int fd);
 *	VSTREAM *vstream_open(const char *path, int flags, int mode);
 *	int vstream_close(VSTREAM *s);		(closes the descriptor)
 *	void vstream_release(VSTREAM *s);	(frees, keeps the descriptor)
 *
 *	void vstream_set_timeout(VSTREAM *s, int seconds);
 *	void vstream_set_deadline(VSTREAM *s, int seconds);
 *	void vstream_clear_deadline(VSTREAM *s);
 *
 *	int vstream_getc(VSTREAM *s);
 *	ssize_t vstream_read(VSTREAM *s, void *buf, size_t len);
 *	int vstream_get_line(VSTREAM *s, VSTRING *line, size_t maxlen);
 *	size_t vstream_peek(VSTREAM *s);
 *	const char *vstream_peek_data(VSTREAM *s);	(vstream_peek() bytes)
 *	void vstream_skip(VSTREAM *s, size_t len);	(consume peeked bytes)
 *	int vstream_fill(VSTREAM *s, int wait_ms);
 *	void vstream_purge_read(VSTREAM *s);
 *
 *	int vstream_write(VSTREAM *s, const void *buf, size_t len);
 *	int vstream_fputs(VSTREAM *s, const char *str);
 *	int vstream_fprintf(VSTREAM *s, const char *fmt, ...);
 *	int vstream_fflush(VSTREAM *s);
 *
 *	int vstream_ferror(VSTREAM *s);		(I/O error or timeout)
 *	int vstream_feof(VSTREAM *s);
 *	int vstream_ftimeout(VSTREAM *s);
 *	void vstream_clearerr(VSTREAM *s);
 *	int vstream_fileno(VSTREAM *s);
 *
 *	off_t vstream_seek(VSTREAM *s, off_t offset, int whence);
 *	off_t vstream_tell(VSTREAM *s);
 *
 *	void vstream_set_io(VSTREAM *s, VSTREAM_READ_FN, VSTREAM_WRITE_FN, void *ctx);
 *	void vstream_set_bufsize(VSTREAM *s, size_t size);
 *
 *	long long vstream_now_ms(void);		(monotonic clock)
 *	int vstream_wait_fd(int fd, int for_write, int timeout_ms);
 * DESCRIPTION
 *	A stream reads and writes through its own buffers. Every wait for
 *	the peer is bounded twice: by the per-operation timeout
 *	(vstream_set_timeout, 0 = none), and by an optional absolute
 *	deadline (vstream_set_deadline) that covers everything until it is
 *	cleared or set again. The deadline is what stops a client that
 *	trickles one byte at a time from holding a session past its
 *	command timeout.
 *
 *	vstream_get_line() reads one line into line (without the LF; a CR
 *	before it is kept, the caller decides). It returns VSTREAM_LINE
 *	for a line that ended in LF, VSTREAM_LONG when maxlen bytes were
 *	read without LF (the rest of the line is read by the next call),
 *	VSTREAM_PARTIAL for bytes without LF at end of file, and
 *	VSTREAM_EOF (-1) on end of file, error or timeout with nothing
 *	read.
 *
 *	vstream_skip() consumes up to len bytes of what vstream_peek_data()
 *	shows, for a reader that used them in place (no copy).
 *
 *	vstream_set_bufsize() makes both buffers at least size bytes
 *	(default 8 KB; buffered data is kept): fewer, larger reads and
 *	writes for bulk data such as a message body.
 *
 *	vstream_fill() reads what the peer has sent so far into the read
 *	buffer, keeping what is already there (vstream_peek() then shows
 *	it all), after waiting at most wait_ms (0: only what is ready; then
 *	buffered output is not flushed first, as it is before a wait). It
 *	returns 1 when it read something, 0 when nothing came within
 *	wait_ms (no error flag is set), and VSTREAM_EOF at end of file, on
 *	an error, or when the stream's own timeout or deadline expired.
 *	A server uses it to watch a client between commands.
 *
 *	vstream_set_io() replaces the descriptor I/O (TLS plugs in here);
 *	the functions get the remaining time in milliseconds (-1 = none)
 *	and return -1 with errno ETIMEDOUT on a timeout.
 *
 *	vstream_now_ms() is the monotonic clock in milliseconds that
 *	deadlines are measured on. vstream_wait_fd() waits until fd is
 *	readable (or, with for_write, writable): 1 ready, 0 timeout, -1
 *	error; with timeout_ms -1 it returns 1 at once (the I/O that
 *	follows may block). Replacement I/O functions use it to wait the
 *	way the descriptor I/O does.
 *
 *	Output is buffered until vstream_fflush() or until the buffer is
 *	full. A read flushes pending output first (as stdio does for
 *	interactive streams), so a request/reply protocol needs no
 *	explicit flush before it waits for the reply.
 * DIAGNOSTICS
 *	Errors are sticky flags; functions return VSTREAM_EOF (-1).
 */
#ifndef VSTREAM_H
#define VSTREAM_H
#include <sys/types.h>
#include <stddef.h>
#include "util/vstring.h"

#define VSTREAM_EOF	(-1)
#define VSTREAM_LINE	1
#define VSTREAM_LONG	2
#define VSTREAM_PARTIAL	3

#define VSTREAM_FLAG_ERR	(1<<0)
#define VSTREAM_FLAG_EOF	(1<<1)
#define VSTREAM_FLAG_TIMEOUT	(1<<2)
#define VSTREAM_FLAG_NOTSOCK	(1<<3)	/* descriptor I/O: not a socket */
#define VSTREAM_FLAG_SENT	(1<<4)	/* descriptor I/O: wrote since the last wait to read */

typedef ssize_t (*VSTREAM_READ_FN) (void *ctx, int fd, void *buf, size_t len, int timeout_ms);
typedef ssize_t (*VSTREAM_WRITE_FN) (void *ctx, int fd, const void *buf, size_t len, int timeout_ms);

typedef struct VSTREAM {
    int     fd;
    int     flags;
    int     timeout;			/* seconds per wait, 0 = none */
    long long deadline_ms;		/* absolute, 0 = none */
    char   *rbuf;
    size_t  rpos;
    size_t  rlen;
    size_t  rcap;
    char   *wbuf;
    size_t  wlen;
    size_t  wcap;
    VSTREAM_READ_FN read_fn;
    VSTREAM_WRITE_FN write_fn;
    void   *io_ctx;
    off_t   offset;			/* bytes written or read so far */
    off_t   pos;			/* file position after rbuf data */
} VSTREAM;

extern VSTREAM *vstream_fdopen(int);
extern const char *vstream_peek_data(VSTREAM *);
extern void vstream_skip(VSTREAM *, size_t);
extern VSTREAM *vstream_open(const char *, int, int);
extern int vstream_close(VSTREAM *);
extern void vstream_release(VSTREAM *);
extern void vstream_set_timeout(VSTREAM *, int);
extern void vstream_set_deadline(VSTREAM *, int);
extern void vstream_clear_deadline(VSTREAM *);
extern int vstream_getc(VSTREAM *);
extern ssize_t vstream_read(VSTREAM *, void *, size_t);
extern int vstream_get_line(VSTREAM *, VSTRING *, size_t);
extern size_t vstream_peek(VSTREAM *);
extern int vstream_fill(VSTREAM *, int);
extern void vstream_purge_read(VSTREAM *);
extern int vstream_write(VSTREAM *, const void *, size_t);
extern int vstream_fputs(VSTREAM *, const char *);
extern int vstream_fprintf(VSTREAM *, const char *, ...) __attribute__((format(printf, 2, 3)));
extern int vstream_fflush(VSTREAM *);
extern void vstream_set_io(VSTREAM *, VSTREAM_READ_FN, VSTREAM_WRITE_FN, void *);
extern void vstream_set_bufsize(VSTREAM *, size_t);
extern off_t vstream_seek(VSTREAM *, off_t, int);
extern off_t vstream_tell(VSTREAM *);
extern long long vstream_now_ms(void);
extern int vstream_wait_fd(int fd, int for_write, int timeout_ms);

#define vstream_ferror(s)	((s)->flags & (VSTREAM_FLAG_ERR | VSTREAM_FLAG_TIMEOUT))
#define vstream_feof(s)		((s)->flags & VSTREAM_FLAG_EOF)
#define vstream_ftimeout(s)	((s)->flags & VSTREAM_FLAG_TIMEOUT)
#define vstream_clearerr(s)	((s)->flags = 0)
#define vstream_fileno(s)	((s)->fd)

#endif
