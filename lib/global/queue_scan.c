/*
 * NAME
 *	queue_scan - visit every message file of one queue folder
 * DESCRIPTION
 *	See queue_scan.h. The names of a folder are read completely before
 *	any callback runs, so a callback may rename or remove the file it
 *	is given.
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "util/msg.h"
#include "util/argv.h"
#include "util/vstring.h"
#include "global/mail_queue.h"
#include "global/queue_scan.h"

static int scan_dir(const char *queue, const char *dir, int depth,
		            QUEUE_SCAN_FN fn, void *context)
{
    DIR    *dp;
    struct dirent *de;
    ARGV   *files = argv_alloc(16);
    ARGV   *subdirs = argv_alloc(4);
    VSTRING *path = vstring_alloc(64);
    int     ret = 0;

    if ((dp = opendir(dir)) == 0) {
	if (errno != ENOENT)
	    msg_warn("open folder %s: %s", dir, strerror(errno));
	argv_free(files);
	argv_free(subdirs);
	vstring_free(path);
	return (0);
    }
    while ((de = readdir(dp)) != 0) {
	int     type = de->d_type;

	if (de->d_name[0] == '.')
	    continue;
	if (type == DT_UNKNOWN) {
	    struct stat st;

	    vstring_sprintf(path, "%s/%s", dir, de->d_name);
	    if (lstat(vstring_str(path), &st) < 0)
		continue;
	    type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
	}
	if (type == DT_DIR && de->d_name[1] == 0 && depth < 16)
	    argv_add(subdirs, de->d_name);
	else if (type == DT_REG && mail_queue_id_ok(de->d_name))
	    argv_add(files, de->d_name);
    }
    closedir(dp);
    for (size_t i = 0; ret == 0 && i < files->argc; i++) {
	vstring_sprintf(path, "%s/%s", dir, files->argv[i]);
	ret = fn(queue, files->argv[i], vstring_str(path), context);
    }
    for (size_t i = 0; ret == 0 && i < subdirs->argc; i++) {
	vstring_sprintf(path, "%s/%s", dir, subdirs->argv[i]);
	ret = scan_dir(queue, vstring_str(path), depth + 1, fn, context);
    }
    argv_free(files);
    argv_free(subdirs);
    vstring_free(path);
    return (ret);
}

int     queue_scan(const char *queue, QUEUE_SCAN_FN fn, void *context)
{
    return (scan_dir(queue, queue, 0, fn, context));
}
