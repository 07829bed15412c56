/*
 * NAME
 *	qmgr_scan - walk a queue folder a few names at a time
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	QMGR_SCAN *qmgr_scan_create(const char *queue);
 *	void qmgr_scan_request(QMGR_SCAN *scan);
 *	int qmgr_scan_busy(QMGR_SCAN *scan);
 *	const char *qmgr_scan_next(QMGR_SCAN *scan, VSTRING *path);
 * DESCRIPTION
 *	A scan is one pass over a queue folder ("incoming", "deferred"),
 *	descending into the one-hex-digit subfolders of a hashed queue
 *	(hash_queue_names, hash_queue_depth). qmgr_scan_next() returns the
 *	next name that is a queue ID (mail_queue_id_ok) and stores its
 *	path ("deferred/7/72C22A73A21") in path, or NULL when the pass is
 *	over. The caller takes as many names per turn of the event loop as
 *	it likes, so a folder with a million files never stops the
 *	process.
 *
 *	qmgr_scan_request() asks for a pass: it starts one now, or, when a
 *	pass is under way, one more after it (files may have been added
 *	behind the current position).
 */
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "qmgr.h"

#define SCAN_MAX_DEPTH	16

struct QMGR_SCAN {
    char   *queue;
    int     depth;			/* levels of hash subfolders */
    int     level;			/* open folders on the stack - 1 */
    DIR    *dirs[SCAN_MAX_DEPTH + 1];
    VSTRING *prefix[SCAN_MAX_DEPTH + 1];
    int     busy;
    int     again;
};

/* hashed_depth - hash_queue_depth when queue is in hash_queue_names */
static int hashed_depth(const char *queue)
{
    long    depth;

    if (!string_list_has(mail_conf_str(VAR_HASH_QUEUE_NAMES), queue))
	return (0);
    depth = mail_conf_int(VAR_HASH_QUEUE_DEPTH);

    return (depth < 0 ? 0 : depth > SCAN_MAX_DEPTH ? SCAN_MAX_DEPTH : (int) depth);
}

QMGR_SCAN *qmgr_scan_create(const char *queue)
{
    QMGR_SCAN *scan = mycalloc(1, sizeof(*scan));

    scan->queue = mystrdup(queue);
    scan->depth = hashed_depth(queue);
    scan->level = -1;
    for (int i = 0; i <= SCAN_MAX_DEPTH; i++)
	scan->prefix[i] = vstring_alloc(32);
    return (scan);
}

static int scan_start(QMGR_SCAN *scan)
{
    if ((scan->dirs[0] = opendir(scan->queue)) == 0) {
	msg_warn("open queue folder %s: %m", scan->queue);
	return (-1);
    }
    vstring_strcpy(scan->prefix[0], scan->queue);
    scan->level = 0;
    scan->busy = 1;
    return (0);
}

void    qmgr_scan_request(QMGR_SCAN *scan)
{
    if (scan->busy)
	scan->again = 1;
    else
	(void) scan_start(scan);
}

int     qmgr_scan_busy(QMGR_SCAN *scan)
{
    return (scan->busy);
}

/* hex_digit_name - a one-character hash subfolder name */
static int hex_digit_name(const char *name)
{
    return (name[0] != 0 && name[1] == 0 && strchr("0123456789ABCDEFabcdef", name[0]) != 0);
}

const char *qmgr_scan_next(QMGR_SCAN *scan, VSTRING *path)
{
    struct dirent *de;

    while (scan->busy) {
	if (scan->level < 0) {
	    /* The pass is over. */
	    scan->busy = 0;
	    if (scan->again) {
		scan->again = 0;
		(void) scan_start(scan);
	    }
	    return (0);
	}
	errno = 0;
	if ((de = readdir(scan->dirs[scan->level])) == 0) {
	    closedir(scan->dirs[scan->level]);
	    scan->dirs[scan->level] = 0;
	    scan->level--;
	    continue;
	}
	if (de->d_name[0] == '.')
	    continue;
	if (scan->level < scan->depth && hex_digit_name(de->d_name)) {
	    VSTRING *sub = scan->prefix[scan->level + 1];
	    DIR    *dir;

	    vstring_sprintf(sub, "%s/%s", vstring_str(scan->prefix[scan->level]),
			    de->d_name);
	    if ((dir = opendir(vstring_str(sub))) != 0) {
		scan->level++;
		scan->dirs[scan->level] = dir;
	    }
	    continue;
	}
	if (!mail_queue_id_ok(de->d_name))
	    continue;
	vstring_sprintf(path, "%s/%s", vstring_str(scan->prefix[scan->level]),
			de->d_name);
	return (strrchr(vstring_str(path), '/') + 1);
    }
    return (0);
}
