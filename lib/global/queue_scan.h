/*
 * NAME
 *	queue_scan - visit every message file of one queue folder
 * SYNOPSIS
 *	typedef int (*QUEUE_SCAN_FN)(const char *queue, const char *id,
 *				     const char *path, void *context);
 *	int queue_scan(const char *queue, QUEUE_SCAN_FN fn, void *context);
 * DESCRIPTION
 *	queue_scan() walks the folder queue (relative to the current
 *	directory, the queue directory), descending into the one-character
 *	hash subfolders whatever hash_queue_names says (so a queue that
 *	was hashed differently before is still found), and calls fn for
 *	every regular file whose name is a queue ID (mail_queue_id_ok),
 *	with its path ("deferred/7/72C22A73A21"). Symbolic links and other
 *	names are skipped. fn returns 0 to go on, anything else to stop;
 *	that value is returned. A missing folder is an empty queue.
 * DIAGNOSTICS
 *	A folder that exists but cannot be read is a warning; the walk
 *	goes on.
 * SEE ALSO
 *	mail_queue(3)
 */
#ifndef QUEUE_SCAN_H
#define QUEUE_SCAN_H

typedef int (*QUEUE_SCAN_FN) (const char *, const char *, const char *, void *);

extern int queue_scan(const char *, QUEUE_SCAN_FN, void *);

#endif
