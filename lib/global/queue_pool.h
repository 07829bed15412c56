/*
 * NAME
 *	queue_pool - files of delivered messages, kept for new ones
 * SYNOPSIS
 *	#include "global/queue_pool.h"
 *
 *	#define MAIL_QUEUE_POOL "pool"
 *	int queue_pool_take(VSTRING *path, struct stat *st);
 *	int queue_pool_put(const char *queue, const char *id, off_t size);
 * DESCRIPTION
 *	Creating a file and removing it again is the most expensive thing
 *	the file system does for a message (on ext4: allocating an inode,
 *	freeing its blocks). The pool/ folder keeps the files of delivered
 *	messages so that a new message can be written into one of them.
 *
 *	queue_pool_put() is what qmgr does instead of removing a delivered
 *	message: the file moves into pool/ when it is not larger than
 *	POOL_FILE_MAX and pool/ holds fewer than POOL_COUNT_MAX files; else
 *	it is removed. 0 or -1 with errno, as mail_queue_remove().
 *
 *	queue_pool_take() claims a file of pool/ for a message being
 *	written: it opens it for read and write, with an exclusive
 *	flock(2) that the writer keeps until it closes the file, and
 *	returns the descriptor, its path in path ("pool/s<n>") and its
 *	fstat(2) in st; -1 when there is none. The old content stays until
 *	the writer overwrites it. A file with another owner or more than
 *	one name (after a crash, when one rename reached the disk and
 *	another did not) is removed, never reused.
 *
 *	A writer keeps its file in pool/ until the file is complete and on
 *	disk (fsync), and only then renames it into incoming/: a crash
 *	never leaves a half-written message, or an old message's data
 *	under a new queue ID, in a queue folder. A writer that gives the
 *	file up (an aborted transaction, a milter's new version) removes
 *	it before it closes it, so that no other writer takes it while a
 *	reader may still read it. A writer that was killed leaves its file
 *	in its slot, unlocked, for a later writer.
 *
 *	Processes that run as root neither place nor take files: the
 *	counters that order pool/ are in a page that mail_owner's
 *	processes share (see queue_pool.c).
 */
#ifndef QUEUE_POOL_H
#define QUEUE_POOL_H

#include <sys/stat.h>
#include "util/vstring.h"

#define MAIL_QUEUE_POOL	"pool"
#define POOL_FILE_MAX	(256 * 1024)
#define POOL_COUNT_MAX	512

extern int queue_pool_take(VSTRING *, struct stat *);
extern int queue_pool_put(const char *, const char *, off_t);

#endif
