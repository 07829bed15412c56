/*
 * NAME
 *	attr - requests and replies between processes
 * DESCRIPTION
 *	See attr.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/attr.h"

ATTR   *attr_alloc(void)
{
    ATTR   *a = mymalloc(sizeof(*a));

    a->names = argv_alloc(8);
    a->values = argv_alloc(8);
    return (a);
}

void    attr_free(ATTR *a)
{
    argv_free(a->names);
    argv_free(a->values);
    myfree(a);
}

void    attr_reset(ATTR *a)
{
    argv_truncate(a->names, 0);
    argv_truncate(a->values, 0);
}

void    attr_add(ATTR *a, const char *name, const char *value)
{
    argv_add(a->names, name);
    argv_add(a->values, value ? value : "");
}

void    attr_addf(ATTR *a, const char *name, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(64);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    attr_add(a, name, vstring_str(buf));
    vstring_free(buf);
}

int     attr_send(VSTREAM *s, ATTR *a)
{
    for (size_t i = 0; i < a->names->argc; i++) {
	vstream_write(s, a->names->argv[i], strlen(a->names->argv[i]) + 1);
	vstream_write(s, a->values->argv[i], strlen(a->values->argv[i]) + 1);
    }
    vstream_write(s, "", 1);
    return (vstream_fflush(s));
}

/* read_string - one NUL-terminated string; -1 on error or when too long */
static int read_string(VSTREAM *s, VSTRING *buf, size_t max_len)
{
    int     ch;

    vstring_reset(buf);
    while ((ch = vstream_getc(s)) != VSTREAM_EOF) {
	if (ch == 0)
	    return (0);
	if (vstring_len(buf) >= max_len)
	    return (-1);
	vstring_addch(buf, ch);
    }
    return (-1);
}

int     attr_recv(VSTREAM *s, ATTR *a, size_t max_len, size_t max_count)
{
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(64);
    int     ret = -1;
    int     first = 1;

    attr_reset(a);
    for (;;) {
	if (read_string(s, name, max_len) < 0) {
	    if (first && vstream_feof(s) && vstring_len(name) == 0)
		ret = 0;
	    break;
	}
	first = 0;
	if (vstring_len(name) == 0) {
	    ret = 1;
	    break;
	}
	if (a->names->argc >= max_count || read_string(s, value, max_len) < 0)
	    break;
	attr_add(a, vstring_str(name), vstring_str(value));
    }
    vstring_free(name);
    vstring_free(value);
    return (ret);
}

const char *attr_get(ATTR *a, const char *name)
{
    for (size_t i = 0; i < a->names->argc; i++)
	if (strcmp(a->names->argv[i], name) == 0)
	    return (a->values->argv[i]);
    return (0);
}

int     attr_get_long(ATTR *a, const char *name, long *value)
{
    const char *text = attr_get(a, name);
    char   *end;

    if (text == 0 || *text == 0)
	return (-1);
    errno = 0;
    *value = strtol(text, &end, 10);
    return (*end || errno == ERANGE ? -1 : 0);
}

size_t  attr_count(ATTR *a)
{
    return (a->names->argc);
}

const char *attr_name(ATTR *a, size_t i)
{
    return (i < a->names->argc ? a->names->argv[i] : 0);
}

const char *attr_value(ATTR *a, size_t i)
{
    return (i < a->values->argc ? a->values->argv[i] : 0);
}
