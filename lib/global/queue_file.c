/*
 * NAME
 *	queue_file - typed records of a message file
 * DESCRIPTION
 *	See queue_file.h.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "util/vstring.h"
#include "util/vstream.h"
#include "global/queue_file.h"

int     rec_put(VSTREAM *s, int type, const void *data, size_t len)
{
    unsigned char head[REC_HEADER_LEN];

    if (len > 0xffffffffUL)
	return (-1);
    head[0] = (unsigned char) type;
    head[1] = (len >> 24) & 0xff;
    head[2] = (len >> 16) & 0xff;
    head[3] = (len >> 8) & 0xff;
    head[4] = len & 0xff;
    if (vstream_write(s, head, sizeof(head)) != 0)
	return (-1);
    return (len ? vstream_write(s, data, len) : 0);
}

int     rec_fputs(VSTREAM *s, int type, const char *str)
{
    return (rec_put(s, type, str, strlen(str)));
}

int     rec_fprintf(VSTREAM *s, int type, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    ret = rec_put(s, type, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
    return (ret);
}

int     rec_get_head(VSTREAM *s, size_t *len)
{
    unsigned char head[REC_HEADER_LEN];
    ssize_t n;
    struct stat st;
    off_t   here;

    if ((n = vstream_read(s, head, sizeof(head))) == VSTREAM_EOF)
	return (vstream_ferror(s) ? REC_TYPE_ERROR : REC_TYPE_EOF);
    if (n != sizeof(head))
	return (REC_TYPE_ERROR);
    *len = ((size_t) head[1] << 24) | ((size_t) head[2] << 16)
	| ((size_t) head[3] << 8) | head[4];
    /*
     * Never trust a length that the file cannot hold. Data already in the
     * stream's buffer was read from the file: after the first record
     * (where the file is checked to be a regular file) there is no need
     * to ask its size for a record that is in the buffer.
     */
    here = vstream_tell(s);
    if (here <= REC_HEADER_LEN || *len > vstream_peek(s)) {
	if (fstat(vstream_fileno(s), &st) < 0 || !S_ISREG(st.st_mode)
	    || (off_t) * len > st.st_size - here)
	    return (REC_TYPE_ERROR);
    }
    return (head[0]);
}

int     rec_get(VSTREAM *s, VSTRING *buf, size_t max_len)
{
    size_t  len;
    int     type;

    vstring_reset(buf);
    if ((type = rec_get_head(s, &len)) < 0)
	return (type);
    if (len > max_len)
	return (REC_TYPE_ERROR);
    vstring_space(buf, len);
    if (len > 0 && vstream_read(s, vstring_str(buf), len) != (ssize_t) len)
	return (REC_TYPE_ERROR);
    buf->len = len;
    buf->data[len] = 0;
    return (type);
}

/* rec_mark_done - change an R record's type byte to D, in place */
int     rec_mark_done(int fd, off_t rcpt_offset)
{
    char    type = REC_TYPE_DONE;

    return (pwrite(fd, &type, 1, rcpt_offset) == 1 ? 0 : -1);
}
