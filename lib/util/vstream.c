/*
 * NAME
 *	vstream - buffered I/O on descriptors, with timeouts and deadlines
 * DESCRIPTION
 *	See vstream.h. Descriptors may be blocking or not: a wait with a
 *	timeout is a poll(2); on a socket it comes only after a read or
 *	write without waiting (MSG_DONTWAIT) found nothing to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/vstream.h"

#define VSTREAM_BUFSIZE	8192

long long vstream_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* vstream_wait_fd - wait until readable/writable; 1 ready, 0 timeout, -1 error */
int     vstream_wait_fd(int fd, int for_write, int timeout_ms)
{
    struct pollfd pfd;
    int     n;

    if (timeout_ms < 0)
	return (1);
    pfd.fd = fd;
    pfd.events = for_write ? POLLOUT : POLLIN;
    for (;;) {
	long long start = vstream_now_ms();

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0 && errno == EINTR) {
	    timeout_ms -= (int) (vstream_now_ms() - start);
	    if (timeout_ms < 0)
		timeout_ms = 0;
	    continue;
	}
	return (n > 0 ? 1 : n);
    }
}

/*
 * With a timeout, a socket is first read or written without waiting
 * (MSG_DONTWAIT): poll(2) is called only when that would block. A read
 * right after this stream sent something (an answer is awaited) waits
 * first, as does any descriptor that is not a socket. The descriptor
 * I/O gets the stream as its context (the io_ctx of vstream_set_io()
 * is for the replacement functions only).
 */
static ssize_t fd_read(void *ctx, int fd, void *buf, size_t len, int timeout_ms)
{
    VSTREAM *s = ctx;
    ssize_t n;
    int     ready;

    if (s && timeout_ms >= 0 && !(s->flags & (VSTREAM_FLAG_NOTSOCK | VSTREAM_FLAG_SENT))) {
	for (;;) {
	    if ((n = recv(fd, buf, len, MSG_DONTWAIT)) >= 0)
		return (n);
	    if (errno == EINTR)
		continue;
	    if (errno == ENOTSOCK)
		s->flags |= VSTREAM_FLAG_NOTSOCK;
	    else if (errno != EAGAIN && errno != EWOULDBLOCK)
		return (-1);
	    break;
	}
	if (timeout_ms == 0 && !(s->flags & VSTREAM_FLAG_NOTSOCK)) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
    }
    if (s)
	s->flags &= ~VSTREAM_FLAG_SENT;
    for (;;) {
	if ((ready = vstream_wait_fd(fd, 0, timeout_ms)) == 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (ready < 0)
	    return (-1);
	n = read(fd, buf, len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
	    continue;
	return (n);
    }
}

static ssize_t fd_write(void *ctx, int fd, const void *buf, size_t len, int timeout_ms)
{
    VSTREAM *s = ctx;
    ssize_t n;
    int     ready;

    if (s && timeout_ms >= 0) {
	s->flags |= VSTREAM_FLAG_SENT;
	while (!(s->flags & VSTREAM_FLAG_NOTSOCK)) {
	    if ((n = send(fd, buf, len, MSG_DONTWAIT)) >= 0)
		return (n);
	    if (errno == EINTR)
		continue;
	    if (errno == ENOTSOCK)
		s->flags |= VSTREAM_FLAG_NOTSOCK;
	    else if (errno != EAGAIN && errno != EWOULDBLOCK)
		return (-1);
	    break;
	}
    }
    for (;;) {
	if ((ready = vstream_wait_fd(fd, 1, timeout_ms)) == 0) {
	    errno = ETIMEDOUT;
	    return (-1);
	}
	if (ready < 0)
	    return (-1);
	n = write(fd, buf, len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
	    continue;
	return (n);
    }
}

#define READ_CTX(s)	((s)->read_fn == fd_read ? (void *) (s) : (s)->io_ctx)
#define WRITE_CTX(s)	((s)->write_fn == fd_write ? (void *) (s) : (s)->io_ctx)

VSTREAM *vstream_fdopen(int fd)
{
    VSTREAM *s = mycalloc(1, sizeof(*s));

    s->fd = fd;
    s->read_fn = fd_read;
    s->write_fn = fd_write;
    return (s);
}

VSTREAM *vstream_open(const char *path, int flags, int mode)
{
    int     fd = open(path, flags | O_CLOEXEC, mode);

    return (fd < 0 ? 0 : vstream_fdopen(fd));
}

void    vstream_release(VSTREAM *s)
{
    myfree(s->rbuf);
    myfree(s->wbuf);
    myfree(s);
}

int     vstream_close(VSTREAM *s)
{
    int     err = vstream_fflush(s);

    if (close(s->fd) < 0)
	err = VSTREAM_EOF;
    vstream_release(s);
    return (err);
}

void    vstream_set_timeout(VSTREAM *s, int seconds)
{
    s->timeout = seconds;
}

void    vstream_set_deadline(VSTREAM *s, int seconds)
{
    s->deadline_ms = seconds > 0 ? vstream_now_ms() + (long long) seconds * 1000 : 0;
}

void    vstream_clear_deadline(VSTREAM *s)
{
    s->deadline_ms = 0;
}

void    vstream_set_io(VSTREAM *s, VSTREAM_READ_FN r, VSTREAM_WRITE_FN w, void *ctx)
{
    s->read_fn = r ? r : fd_read;
    s->write_fn = w ? w : fd_write;
    s->io_ctx = ctx;
}

/* time_left - milliseconds this wait may take, -1 = unbounded, 0 = expired */
static int time_left(VSTREAM *s)
{
    long long left = -1;

    if (s->timeout > 0)
	left = (long long) s->timeout * 1000;
    if (s->deadline_ms > 0) {
	long long until = s->deadline_ms - vstream_now_ms();

	if (until < 0)
	    until = 0;
	if (left < 0 || until < left)
	    left = until;
    }
    return (left > 0x7fffffff ? 0x7fffffff : (int) left);
}

static int fill(VSTREAM *s)
{
    ssize_t n;
    int     left;

    if (s->flags & (VSTREAM_FLAG_ERR | VSTREAM_FLAG_TIMEOUT | VSTREAM_FLAG_EOF))
	return (VSTREAM_EOF);
    if (s->wlen > 0 && vstream_fflush(s) != 0)
	return (VSTREAM_EOF);
    if (s->rbuf == 0) {
	if (s->rcap == 0)
	    s->rcap = VSTREAM_BUFSIZE;
	s->rbuf = mymalloc(s->rcap);
    }
    if (s->rpos >= s->rlen)
	s->rpos = s->rlen = 0;
    if ((left = time_left(s)) == 0) {
	s->flags |= VSTREAM_FLAG_TIMEOUT;
	return (VSTREAM_EOF);
    }
    n = s->read_fn(READ_CTX(s), s->fd, s->rbuf + s->rlen, s->rcap - s->rlen, left);
    if (n < 0) {
	s->flags |= (errno == ETIMEDOUT ? VSTREAM_FLAG_TIMEOUT : VSTREAM_FLAG_ERR);
	return (VSTREAM_EOF);
    }
    if (n == 0) {
	s->flags |= VSTREAM_FLAG_EOF;
	return (VSTREAM_EOF);
    }
    s->rlen += n;
    s->offset += n;
    s->pos += n;
    return (0);
}

int     vstream_getc(VSTREAM *s)
{
    if (s->rpos >= s->rlen && fill(s) != 0)
	return (VSTREAM_EOF);
    return ((unsigned char) s->rbuf[s->rpos++]);
}

ssize_t vstream_read(VSTREAM *s, void *buf, size_t len)
{
    size_t  done = 0;
    size_t  n;

    while (done < len) {
	if (s->rpos >= s->rlen && fill(s) != 0)
	    break;
	n = s->rlen - s->rpos;
	if (n > len - done)
	    n = len - done;
	memcpy((char *) buf + done, s->rbuf + s->rpos, n);
	s->rpos += n;
	done += n;
    }
    return (done > 0 || len == 0 ? (ssize_t) done : VSTREAM_EOF);
}

int     vstream_get_line(VSTREAM *s, VSTRING *line, size_t maxlen)
{
    char   *nl;
    size_t  n;

    vstring_reset(line);
    for (;;) {
	if (s->rpos >= s->rlen && fill(s) != 0)
	    return (vstring_len(line) > 0 && vstream_feof(s) ?
		    VSTREAM_PARTIAL : VSTREAM_EOF);
	n = s->rlen - s->rpos;
	if (n > maxlen - vstring_len(line))
	    n = maxlen - vstring_len(line);
	if ((nl = memchr(s->rbuf + s->rpos, '\n', n)) != 0) {
	    vstring_memcat(line, s->rbuf + s->rpos, nl - (s->rbuf + s->rpos));
	    s->rpos = nl - s->rbuf + 1;
	    return (VSTREAM_LINE);
	}
	vstring_memcat(line, s->rbuf + s->rpos, n);
	s->rpos += n;
	if (vstring_len(line) >= maxlen)
	    return (VSTREAM_LONG);
    }
}

int     vstream_fill(VSTREAM *s, int wait_ms)
{
    ssize_t n;
    int     left;
    int     wait;

    if (s->flags & (VSTREAM_FLAG_ERR | VSTREAM_FLAG_TIMEOUT | VSTREAM_FLAG_EOF))
	return (VSTREAM_EOF);
    /* Output goes first, unless this only looks at what is already here. */
    if (wait_ms > 0 && s->wlen > 0 && vstream_fflush(s) != 0)
	return (VSTREAM_EOF);
    if (s->rbuf == 0) {
	s->rcap = VSTREAM_BUFSIZE;
	s->rbuf = mymalloc(s->rcap);
    }
    /* Keep the unread bytes at the front; grow when they fill the buffer. */
    if (s->rpos > 0) {
	memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
	s->rlen -= s->rpos;
	s->rpos = 0;
    }
    if (s->rlen == s->rcap) {
	s->rcap *= 2;
	s->rbuf = myrealloc(s->rbuf, s->rcap);
    }
    if ((left = time_left(s)) == 0) {
	s->flags |= VSTREAM_FLAG_TIMEOUT;
	return (VSTREAM_EOF);
    }
    wait = (left < 0 || wait_ms < left) ? wait_ms : left;
    n = s->read_fn(READ_CTX(s), s->fd, s->rbuf + s->rlen, s->rcap - s->rlen, wait);
    if (n < 0 && errno == ETIMEDOUT && wait == wait_ms && wait != left)
	return (0);
    if (n < 0) {
	s->flags |= (errno == ETIMEDOUT ? VSTREAM_FLAG_TIMEOUT : VSTREAM_FLAG_ERR);
	return (VSTREAM_EOF);
    }
    if (n == 0) {
	s->flags |= VSTREAM_FLAG_EOF;
	return (VSTREAM_EOF);
    }
    s->rlen += n;
    s->offset += n;
    s->pos += n;
    return (1);
}

size_t  vstream_peek(VSTREAM *s)
{
    return (s->rlen - s->rpos);
}

const char *vstream_peek_data(VSTREAM *s)
{
    return (s->rbuf + s->rpos);
}

void    vstream_skip(VSTREAM *s, size_t len)
{
    s->rpos += len < s->rlen - s->rpos ? len : s->rlen - s->rpos;
}

void    vstream_purge_read(VSTREAM *s)
{
    s->rpos = s->rlen = 0;
}

int     vstream_fflush(VSTREAM *s)
{
    size_t  done = 0;
    ssize_t n;
    int     left;

    if (s->flags & (VSTREAM_FLAG_ERR | VSTREAM_FLAG_TIMEOUT)) {
	s->wlen = 0;
	return (VSTREAM_EOF);
    }
    while (done < s->wlen) {
	if ((left = time_left(s)) == 0) {
	    s->flags |= VSTREAM_FLAG_TIMEOUT;
	    break;
	}
	n = s->write_fn(WRITE_CTX(s), s->fd, s->wbuf + done, s->wlen - done, left);
	if (n <= 0) {
	    s->flags |= (n < 0 && errno == ETIMEDOUT ?
			 VSTREAM_FLAG_TIMEOUT : VSTREAM_FLAG_ERR);
	    break;
	}
	done += n;
    }
    s->wlen = 0;
    return (vstream_ferror(s) ? VSTREAM_EOF : 0);
}

void    vstream_set_bufsize(VSTREAM *s, size_t size)
{
    if (size < VSTREAM_BUFSIZE)
	size = VSTREAM_BUFSIZE;
    if (s->rbuf == 0) {
	s->rcap = size;
    } else if (size > s->rcap) {
	s->rbuf = myrealloc(s->rbuf, size);
	s->rcap = size;
    }
    if (s->wbuf == 0) {
	s->wcap = size;
    } else if (size > s->wcap) {
	s->wbuf = myrealloc(s->wbuf, size);
	s->wcap = size;
    }
}

int     vstream_write(VSTREAM *s, const void *buf, size_t len)
{
    if (s->wbuf == 0) {
	if (s->wcap == 0)
	    s->wcap = VSTREAM_BUFSIZE;
	s->wbuf = mymalloc(s->wcap);
    }
    while (len > 0) {
	size_t  n = s->wcap - s->wlen;

	if (n == 0) {
	    if (vstream_fflush(s) != 0)
		return (VSTREAM_EOF);
	    continue;
	}
	if (n > len)
	    n = len;
	memcpy(s->wbuf + s->wlen, buf, n);
	s->wlen += n;
	s->offset += n;
	s->pos += n;
	buf = (const char *) buf + n;
	len -= n;
    }
    return (vstream_ferror(s) ? VSTREAM_EOF : 0);
}

int     vstream_fputs(VSTREAM *s, const char *str)
{
    return (vstream_write(s, str, strlen(str)));
}

int     vstream_fprintf(VSTREAM *s, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(256);
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    ret = vstream_write(s, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
    return (ret);
}

/* vstream_seek - for files: drop buffered input, flush output, lseek */
off_t   vstream_seek(VSTREAM *s, off_t offset, int whence)
{
    off_t   pos;

    if (s->wlen > 0 && vstream_fflush(s) != 0)
	return (-1);

    /* A place that is in the read buffer needs no system call. */
    if ((whence == SEEK_SET || whence == SEEK_CUR) && s->rlen > 0 && s->wbuf == 0) {
	off_t   start = s->pos - (off_t) s->rlen;	/* file offset of rbuf[0] */
	off_t   target = whence == SEEK_SET ? offset : vstream_tell(s) + offset;

	if (target >= start && target <= s->pos) {
	    s->rpos = (size_t) (target - start);
	    s->flags &= ~VSTREAM_FLAG_EOF;
	    return (target);
	}
    }
    if (whence == SEEK_CUR)
	offset -= (off_t) (s->rlen - s->rpos);
    s->rpos = s->rlen = 0;
    s->flags &= ~VSTREAM_FLAG_EOF;
    if ((pos = lseek(s->fd, offset, whence)) >= 0)
	s->pos = pos;
    return (pos);
}

/* vstream_tell - the logical position: what was read or written so far */
off_t   vstream_tell(VSTREAM *s)
{
    return (s->pos - (off_t) (s->rlen - s->rpos));
}
