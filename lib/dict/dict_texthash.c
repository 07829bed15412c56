/*
 * NAME
 *	dict_texthash - texthash:/file, a postmap source file read directly
 * SYNOPSIS
 *	DICT *dict_texthash_open(const char *path, int open_flags, int dict_flags);
 * DESCRIPTION
 *	The file is read once, in postmap(1) source format, into an
 *	in-memory table; keys are folded to lower case unless the table
 *	is opened without DICT_FLAG_FOLD_FIX; the first of duplicate keys
 *	wins. dict_changed() reports when the file is replaced or changed.
 * DIAGNOSTICS
 *	Malformed lines: warning "file, line N: ..." and skipped. An
 *	unreadable file makes every lookup fail with DICT_ERR_RETRY.
 */
#include <errno.h>
#include <string.h>

#include "dict/dict_type.h"
#include "dict/dict_source.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "util/msg.h"

DICT   *dict_texthash_open(const char *path, int open_flags, int dict_flags)
{
    DICT_SOURCE *src;
    VSTRING *line;
    VSTRING *folded;
    DICT   *d;
    char   *key;
    char   *value;

    (void) open_flags;
    if ((src = dict_source_open(path)) == 0) {
	d = dict_surrogate("texthash", path, dict_flags, "open database %s: %s",
			   path, strerror(errno));
	dict_watch_file(d, path);
	return (d);
    }
    d = dict_mem_create("texthash", path, dict_flags);
    dict_watch_file(d, path);
    /* Postfix's texthash words a bad line with a suffix. */
    src->bad_line_suffix = " -- ignoring this line";
    line = vstring_alloc(200);
    folded = vstring_alloc(100);
    while (dict_source_next(src, line)) {
	if (!dict_source_split(src, vstring_str(line), &key, &value))
	    continue;
	vstring_strcpy(folded, key);
	if (dict_flags & DICT_FLAG_FOLD_FIX)
	    lowercase(vstring_str(folded));
	if (d->get(d, vstring_str(folded)) != 0) {
	    if (dict_flags & DICT_FLAG_DUP_REPLACE) {
		d->del(d, vstring_str(folded));
	    } else {
		if (!(dict_flags & DICT_FLAG_DUP_IGNORE))
		    msg_warn("%s, line %d: duplicate entry: \"%s\"",
			     path, src->first_line, dict_printable(key));
		continue;
	    }
	}
	d->put(d, vstring_str(folded), value);
    }
    if (dict_source_error(src)) {
	dict_close(d);
	d = dict_surrogate("texthash", path, dict_flags, "read %s: %s",
			   path, strerror(errno));
	dict_watch_file(d, path);
    }
    vstring_free(line);
    vstring_free(folded);
    dict_source_close(src);
    return (d);
}
