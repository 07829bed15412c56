/*
 * NAME
 *	postmap_query - answer postmap -q, -d and -s
 * SYNOPSIS
 *	int postmap_query(char **maps, int count, const char *key, int dict_flags);
 *	int postmap_query_stdin(char **maps, int count, int dict_flags);
 *	int postmap_delete(char **maps, int count, const char *key, int dict_flags);
 *	int postmap_delete_stdin(char **maps, int count, int dict_flags);
 *	void postmap_dump(char **maps, int count, int dict_flags);
 * DESCRIPTION
 *	Queries ask the tables in order, once each (no address or domain
 *	iteration, as postmap -q does); the first answer wins. The query
 *	functions return the exit status: 0 when something was found
 *	(deleted), 1 otherwise.
 * DIAGNOSTICS
 *	Fatal: a table that cannot be opened, and a lookup that fails
 *	("table type:name: query error: why"), exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <stdint.h>
#include <string.h>

#include "postmap.h"
#include "dict/dict_type.h"
#include "dict/dict_build.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"

int     postmap_query(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDONLY, dict_flags);
    const char *value = dict_query_lookup(dicts, count, key);
    VSTREAM *out;

    if (value) {
	out = vstream_fdopen(1);
	vstream_fprintf(out, "%s\n", value);
	if (vstream_fflush(out) < 0)
	    msg_fatal("write standard output: %m");
	vstream_release(out);
    }
    dict_query_close(dicts, count);
    return (value ? 0 : 1);
}

int     postmap_query_stdin(char **maps, int count, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDONLY, dict_flags);
    VSTREAM *in = vstream_fdopen(0);
    VSTREAM *out = vstream_fdopen(1);
    VSTRING *key = vstring_alloc(100);
    const char *value;
    int     found = 0;

    while (vstream_get_line(in, key, SIZE_MAX) != VSTREAM_EOF) {
	if ((value = dict_query_lookup(dicts, count, vstring_str(key))) != 0) {
	    vstream_fprintf(out, "%s\t%s\n", vstring_str(key), value);
	    found = 1;
	}
    }
    if (vstream_fflush(out) < 0)
	msg_fatal("write standard output: %m");
    vstream_release(in);
    vstream_release(out);
    vstring_free(key);
    dict_query_close(dicts, count);
    return (found ? 0 : 1);
}

int     postmap_delete(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDWR, dict_flags);
    int     found = dict_query_delete(dicts, count, key);

    dict_query_close(dicts, count);
    return (found ? 0 : 1);
}

int     postmap_delete_stdin(char **maps, int count, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDWR, dict_flags);
    VSTREAM *in = vstream_fdopen(0);
    VSTRING *key = vstring_alloc(100);
    int     found = 0;

    while (vstream_get_line(in, key, SIZE_MAX) != VSTREAM_EOF)
	if (dict_query_delete(dicts, count, vstring_str(key)))
	    found = 1;
    vstream_release(in);
    vstring_free(key);
    dict_query_close(dicts, count);
    return (found ? 0 : 1);
}

void    postmap_dump(char **maps, int count, int dict_flags)
{
    DICT  **dicts = dict_query_open(maps, count, O_RDONLY, dict_flags);
    VSTREAM *out = vstream_fdopen(1);
    const char *key;
    const char *value;
    int     ret;

    for (int i = 0; i < count; i++) {
	if (strcmp(dicts[i]->type, "proxy") == 0) {
	    vstream_fflush(out);
	    msg_fatal("can't sequence maps via the proxy service");
	}
	for (ret = dict_seq(dicts[i], DICT_SEQ_FIRST, &key, &value); ret == 0;
	     ret = dict_seq(dicts[i], DICT_SEQ_NEXT, &key, &value))
	    vstream_fprintf(out, "%s\t%s\n", key, value);
	if (ret < 0) {
	    vstream_fflush(out);
	    msg_fatal("table %s:%s: %s", dicts[i]->type, dicts[i]->name,
		      dict_error_text(dicts[i]));
	}
    }
    if (vstream_fflush(out) < 0)
	msg_fatal("write standard output: %m");
    vstream_release(out);
    dict_query_close(dicts, count);
}
