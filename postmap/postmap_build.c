/*
 * NAME
 *	postmap_build - make a table from its source file
 * SYNOPSIS
 *	void postmap_build(const char *type_name, int dict_flags, int flags);
 * DESCRIPTION
 *	Reads "key whitespace value" lines from the source file (or, with
 *	POSTMAP_FLAG_INCR, from standard input) and stores them in the
 *	table that dict_build(3) opens: hash:, btree: and lmdb: (the rules
 *	of ownership, mode and atomic replacement are there; postalias
 *	shares them); proxy: only with -i (the inner table is updated
 *	directly).
 * DIAGNOSTICS
 *	Fatal: an unreadable source file, a type that cannot be built, a
 *	table that cannot be written. Malformed lines are warnings, as
 *	in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "postmap.h"
#include "dict/dict_source.h"
#include "dict/dict_build.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "util/vstring.h"

void    postmap_build(const char *type_name, int dict_flags, int flags)
{
    char   *type = mystrdup(type_name);
    char   *inner = 0;
    char   *name = strchr(type, ':');
    DICT_SOURCE *src;
    VSTREAM *in = 0;
    VSTRING *line = vstring_alloc(200);
    struct stat st;
    DICT_BUILD_IDS ids;
    int     build_flags = 0;
    DICT   *d;
    char   *key;
    char   *value;

    *name++ = 0;

    /*
     * Postfix builds no table through its proxymap service; -i through
     * proxy: updates the table itself here (there is no proxywrite).
     */
    if (strcmp(type, "proxy") == 0) {
	if (!(flags & POSTMAP_FLAG_INCR))
	    msg_fatal("can't create maps via the proxy service");
	type_name = inner = mystrdup(name);
	myfree(type);
	type = mystrdup(inner);
	if ((name = strchr(type, ':')) == 0)
	    msg_fatal("open dictionary: expecting \"type:name\" form instead "
		      "of \"%s\"", type);
	*name++ = 0;
    }

    /* The source comes first: Postfix complains about it first. */
    if (flags & POSTMAP_FLAG_INCR) {
	in = vstream_fdopen(0);
	src = dict_source_stream(in, name);
	if (fstat(0, &st) < 0)
	    msg_fatal("fstat standard input: %m");
    } else {
	if ((src = dict_source_open(name)) == 0)
	    msg_fatal("open %s: %m", name);
	if (fstat(vstream_fileno(src->fp), &st) < 0)
	    msg_fatal("fstat %s: %m", name);
    }
    if (flags & POSTMAP_FLAG_INCR)
	build_flags |= DICT_BUILD_INCR;
    if (flags & POSTMAP_FLAG_KEEP_ROOT)
	build_flags |= DICT_BUILD_KEEP_ROOT;
    if (flags & POSTMAP_FLAG_NO_INHERIT)
	build_flags |= DICT_BUILD_NO_INHERIT;
    d = dict_build_open(type_name, &st, dict_flags, build_flags, &ids);

    while (dict_source_next(src, line)) {
	if (!dict_source_split(src, vstring_str(line), &key, &value))
	    continue;
	if (dict_put(d, key, value) < 0)
	    msg_fatal("%s:%s: %s", type, name, dict_error_text(d));
    }
    if (dict_source_error(src))
	msg_fatal("read %s: %m", name);
    dict_build_close(d, &ids);
    dict_source_close(src);
    if (in)
	vstream_release(in);
    vstring_free(line);
    myfree(type);
    if (inner)
	myfree(inner);
}
