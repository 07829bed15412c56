/*
 * NAME
 *	dict_proxy - proxy:type:name tables, read directly
 * SYNOPSIS
 *	DICT *dict_proxy_open(const char *name, int open_flags, int dict_flags,
 *			      int mode);
 * DESCRIPTION
 *	In Postfix, "proxy:" sends lookups to the proxymap service, which
 *	opens the table once for many processes and outside their chroot,
 *	and which refuses tables that are not listed in proxy_read_maps
 *	(proxy_write_maps for updates). This mail system has no proxymap
 *	service: the process that uses "proxy:hash:/etc/postfix/x" opens
 *	"hash:/etc/postfix/x" itself, with its own privileges and inside
 *	its own chroot. proxy_read_maps and proxy_write_maps are not
 *	consulted: with no service in between, no process reaches a table
 *	through "proxy:" that it could not open directly.
 *
 *	The table keeps the inner table's kind (fixed-key or pattern), its
 *	file for dict_changed(), and its answers and errors; its type is
 *	"proxy" and its name the inner "type:name", as Postfix names it.
 *	It cannot be listed (dict_seq), as through proxymap.
 * DIAGNOSTICS
 *	The inner table's: an unknown inner type or a table that cannot be
 *	opened makes a table whose lookups fail with DICT_ERR_RETRY.
 */
#include <string.h>

#include "dict/dict_type.h"
#include "util/mymalloc.h"

typedef struct DICT_PROXY {
    DICT    dict;
    DICT   *inner;
} DICT_PROXY;

/* proxy_result - copy what the inner table said about the last call */

static void proxy_result(DICT_PROXY *dp)
{
    DICT   *inner = dp->inner;

    dp->dict.error = inner->error;
    if (inner->error_text
	&& (dp->dict.error_text == 0
	    || strcmp(dp->dict.error_text, inner->error_text) != 0)) {
	if (dp->dict.error_text)
	    myfree(dp->dict.error_text);
	dp->dict.error_text = mystrdup(inner->error_text);
    }
}

static const char *dict_proxy_get(DICT *d, const char *key)
{
    DICT_PROXY *dp = (DICT_PROXY *) d;
    const char *value;

    dp->inner->error = DICT_ERR_NONE;
    value = dp->inner->get(dp->inner, key);
    proxy_result(dp);
    return (value);
}

static int dict_proxy_put(DICT *d, const char *key, const char *value)
{
    DICT_PROXY *dp = (DICT_PROXY *) d;
    int     ret;

    dp->inner->error = DICT_ERR_NONE;
    ret = dp->inner->put(dp->inner, key, value);
    proxy_result(dp);
    return (ret);
}

static int dict_proxy_del(DICT *d, const char *key)
{
    DICT_PROXY *dp = (DICT_PROXY *) d;
    int     ret;

    dp->inner->error = DICT_ERR_NONE;
    ret = dp->inner->del(dp->inner, key);
    proxy_result(dp);
    return (ret);
}

static void dict_proxy_close(DICT *d)
{
    DICT_PROXY *dp = (DICT_PROXY *) d;

    dict_close(dp->inner);
    dict_free(d);
}

DICT   *dict_proxy_open(const char *name, int open_flags, int dict_flags,
			        int mode)
{
    DICT_PROXY *dp = (DICT_PROXY *) dict_alloc("proxy", name, sizeof(DICT_PROXY));
    DICT   *inner = dict_open_mode(name, open_flags, dict_flags, mode);

    dp->inner = inner;
    dp->dict.flags = inner->flags;
    dp->dict.get = dict_proxy_get;
    dp->dict.put = dict_proxy_put;
    dp->dict.del = dict_proxy_del;
    dp->dict.close = dict_proxy_close;
    if (inner->error_text)
	dp->dict.error_text = mystrdup(inner->error_text);
    dp->dict.error = inner->error;
    if (inner->file) {
	dp->dict.file = mystrdup(inner->file);
	dp->dict.st_dev = inner->st_dev;
	dp->dict.st_ino = inner->st_ino;
	dp->dict.st_mtim = inner->st_mtim;
    }
    return (&dp->dict);
}
