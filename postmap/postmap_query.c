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
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"

/*
 * postmap_lock - for a read-only session on hash: and btree: tables, one
 * shared lock on each database file for the whole session, instead of a
 * lock and unlock around every lookup (a writer that updates the file in
 * place, such as Postfix's postmap, waits until we are done).
 */
static void postmap_lock(const char *map)
{
    VSTRING *path;
    int     fd;

    while (strncmp(map, "proxy:", 6) == 0)
	map += 6;
    if (strncmp(map, "hash:", 5) != 0 && strncmp(map, "btree:", 6) != 0
	&& strncmp(map, "lmdb:", 5) != 0)
	return;
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s.%s", strchr(map, ':') + 1,
		    strncmp(map, "lmdb:", 5) == 0 ? "lmdb" : "db");
    /* The descriptor stays open (and locked) until we exit. */
    if ((fd = open(vstring_str(path), O_RDONLY | O_CLOEXEC)) >= 0)
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
	     /* again */ ;
    vstring_free(path);
}

static DICT **postmap_open(char **maps, int count, int open_flags, int dict_flags)
{
    DICT  **dicts = mymalloc(count * sizeof(DICT *));

    if (open_flags == O_RDONLY && (dict_flags & DICT_FLAG_LOCK)) {
	for (int i = 0; i < count; i++)
	    postmap_lock(maps[i]);
	dict_flags &= ~DICT_FLAG_LOCK;
    }

    for (int i = 0; i < count; i++) {
	if (open_flags != O_RDONLY) {
	    const char *map = maps[i];
	    char   *type;

	    /* Updates through proxy: go to the table itself here. */
	    while (strncmp(map, "proxy:", 6) == 0)
		map += 6;
	    type = mystrndup(map, strcspn(map, ":"));
	    if (dict_type_known(type) && strcmp(type, "hash") != 0
		&& strcmp(type, "btree") != 0 && strcmp(type, "lmdb") != 0)
		msg_fatal("%s map requires O_RDONLY access mode", map);
	    myfree(type);
	}
	dicts[i] = dict_open(maps[i], open_flags, dict_flags);
	if (dict_error_text(dicts[i]))
	    msg_fatal("%s", dict_error_text(dicts[i]));
    }
    return (dicts);
}

static void postmap_close(DICT **dicts, int count)
{
    for (int i = 0; i < count; i++)
	dict_close(dicts[i]);
    myfree(dicts);
}

static const char *postmap_lookup(DICT **dicts, int count, const char *key)
{
    const char *value;

    for (int i = 0; i < count; i++) {
	if ((value = dict_get(dicts[i], key)) != 0) {
	    if (*value == 0) {
		/* Postfix's postmap says this, and prints the empty value. */
		msg_warn("table %s:%s: key %s: empty string result is not allowed",
			 dicts[i]->type, dicts[i]->name, dict_printable(key));
		msg_warn("table %s:%s should return NO RESULT in case of NOT FOUND",
			 dicts[i]->type, dicts[i]->name);
	    }
	    return (value);
	}
	if (dicts[i]->error)
	    msg_fatal("table %s:%s: query error: %s", dicts[i]->type,
		      dicts[i]->name, dict_error_text(dicts[i]) ?
		      dict_error_text(dicts[i]) : "lookup failed");
    }
    return (0);
}

int     postmap_query(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = postmap_open(maps, count, O_RDONLY, dict_flags);
    const char *value = postmap_lookup(dicts, count, key);
    VSTREAM *out;

    if (value) {
	out = vstream_fdopen(1);
	vstream_fprintf(out, "%s\n", value);
	if (vstream_fflush(out) < 0)
	    msg_fatal("write standard output: %m");
	vstream_release(out);
    }
    postmap_close(dicts, count);
    return (value ? 0 : 1);
}

int     postmap_query_stdin(char **maps, int count, int dict_flags)
{
    DICT  **dicts = postmap_open(maps, count, O_RDONLY, dict_flags);
    VSTREAM *in = vstream_fdopen(0);
    VSTREAM *out = vstream_fdopen(1);
    VSTRING *key = vstring_alloc(100);
    const char *value;
    int     found = 0;

    while (vstream_get_line(in, key, SIZE_MAX) != VSTREAM_EOF) {
	if ((value = postmap_lookup(dicts, count, vstring_str(key))) != 0) {
	    vstream_fprintf(out, "%s\t%s\n", vstring_str(key), value);
	    found = 1;
	}
    }
    if (vstream_fflush(out) < 0)
	msg_fatal("write standard output: %m");
    vstream_release(in);
    vstream_release(out);
    vstring_free(key);
    postmap_close(dicts, count);
    return (found ? 0 : 1);
}

static int postmap_delete_key(DICT **dicts, int count, const char *key)
{
    int     found = 0;
    int     ret;

    for (int i = 0; i < count; i++) {
	if ((ret = dict_del(dicts[i], key)) == 0)
	    found = 1;
	else if (ret < 0)
	    msg_fatal("table %s:%s: delete error: %s", dicts[i]->type,
		      dicts[i]->name, dict_error_text(dicts[i]));
    }
    return (found);
}

int     postmap_delete(char **maps, int count, const char *key, int dict_flags)
{
    DICT  **dicts = postmap_open(maps, count, O_RDWR, dict_flags);
    int     found = postmap_delete_key(dicts, count, key);

    postmap_close(dicts, count);
    return (found ? 0 : 1);
}

int     postmap_delete_stdin(char **maps, int count, int dict_flags)
{
    DICT  **dicts = postmap_open(maps, count, O_RDWR, dict_flags);
    VSTREAM *in = vstream_fdopen(0);
    VSTRING *key = vstring_alloc(100);
    int     found = 0;

    while (vstream_get_line(in, key, SIZE_MAX) != VSTREAM_EOF)
	if (postmap_delete_key(dicts, count, vstring_str(key)))
	    found = 1;
    vstream_release(in);
    vstring_free(key);
    postmap_close(dicts, count);
    return (found ? 0 : 1);
}

void    postmap_dump(char **maps, int count, int dict_flags)
{
    DICT  **dicts = postmap_open(maps, count, O_RDONLY, dict_flags);
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
    postmap_close(dicts, count);
}
