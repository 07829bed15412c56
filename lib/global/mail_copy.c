/*
 * NAME
 *	mail_copy - write a queued message out for final delivery
 * SYNOPSIS
 *	See mail_copy.h.
 * DESCRIPTION
 *	The message is read line by line, never past its size (the queue
 *	file's E record follows it); a line longer than the read buffer
 *	is written in pieces, and only its first piece is subject to the
 *	start-of-line quoting.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "util/vstream.h"
#include "util/vstring.h"
#include "global/mail_addr.h"
#include "global/mail_copy.h"

#define MAIL_COPY_CHUNK	4096

void    mail_copy_from_line(VSTRING *buf, const char *sender, time_t when)
{
    VSTRING *ext = vstring_alloc(64);
    struct tm tm;
    char    date[64];

    localtime_r(&when, &tm);
    /* asctime(3) layout, without its newline: "Mon Dec  7 14:32:26 2026". */
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    mail_addr_externalize(ext, sender);
    vstring_sprintf(buf, "From %s  %s", *sender ? vstring_str(ext) : "MAILER-DAEMON", date);
    vstring_free(ext);
}

int     mail_copy(VSTREAM *src, off_t offset, off_t size, VSTREAM *dst, int flags,
		          const MAIL_COPY_ENV *env, VSTRING *why)
{
    const char *eol = env->eol ? env->eol : "\n";
    VSTRING *buf = vstring_alloc(MAIL_COPY_CHUNK);
    VSTRING *addr = vstring_alloc(64);
    off_t   left = size;
    int     at_line_start = 1;
    int     status = 0;
    int     saved_errno;

    if (flags & MAIL_COPY_FROM) {
	mail_copy_from_line(buf, env->sender, time((time_t *) 0));
	vstream_fprintf(dst, "%s%s", vstring_str(buf), eol);
    }
    if (flags & MAIL_COPY_RETURN_PATH) {
	mail_addr_externalize(addr, env->sender);
	vstream_fprintf(dst, "Return-Path: <%s>%s", vstring_str(addr), eol);
    }
    if (flags & MAIL_COPY_ORIG_RCPT) {
	mail_addr_externalize(addr, env->orig_rcpt);
	vstream_fprintf(dst, "X-Original-To: %s%s", vstring_str(addr), eol);
    }
    if (flags & MAIL_COPY_DELIVERED) {
	mail_addr_externalize(addr, env->delivered);
	vstream_fprintf(dst, "Delivered-To: %s%s", vstring_str(addr), eol);
    }

    if (vstream_seek(src, offset, SEEK_SET) < 0) {
	status = MAIL_COPY_STAT_READ;
    } else {
	while (left > 0 && !vstream_ferror(dst)) {
	    size_t  max = left < MAIL_COPY_CHUNK ? (size_t) left : MAIL_COPY_CHUNK;
	    int     kind = vstream_get_line(src, buf, max);
	    size_t  len = vstring_len(buf);

	    if (kind == VSTREAM_EOF) {
		status = MAIL_COPY_STAT_READ;
		break;
	    }
	    left -= len + (kind == VSTREAM_LINE);
	    if (kind == VSTREAM_LINE && len > 0 && vstring_str(buf)[len - 1] == '\r')
		len--;
	    if (at_line_start) {
		if ((flags & MAIL_COPY_QUOTE) && len >= 5
		    && strncmp(vstring_str(buf), "From ", 5) == 0)
		    vstream_write(dst, ">", 1);
		if ((flags & MAIL_COPY_DOT) && len >= 1 && vstring_str(buf)[0] == '.')
		    vstream_write(dst, ".", 1);
	    }
	    vstream_write(dst, vstring_str(buf), len);
	    if (kind == VSTREAM_LINE) {
		vstream_fputs(dst, eol);
		at_line_start = 1;
	    } else {
		at_line_start = 0;
	    }
	}
	if (status == 0 && !at_line_start)
	    vstream_fputs(dst, eol);
	if (status == 0 && vstream_ferror(src))
	    status = MAIL_COPY_STAT_READ;
    }
    saved_errno = errno;
    if (status == 0 && (flags & MAIL_COPY_BLANK))
	vstream_fputs(dst, eol);
    if (status == MAIL_COPY_STAT_READ) {
	errno = saved_errno ? saved_errno : EIO;
	vstring_sprintf(why, "error reading message: %s", strerror(errno));
    } else if (vstream_fflush(dst) != 0 || vstream_ferror(dst)) {
	status = MAIL_COPY_STAT_WRITE;
	if (errno == 0)
	    errno = EIO;
	vstring_sprintf(why, "error writing message: %s", strerror(errno));
    }
    vstring_free(buf);
    vstring_free(addr);
    return (status);
}
