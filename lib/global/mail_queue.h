/*
 * NAME
 *	mail_queue - queue folders, queue IDs and message file paths
 * SYNOPSIS
 *	#include "global/mail_queue.h"
 *
 *	#define MAIL_QUEUE_INCOMING "incoming"	(also ACTIVE DEFERRED HOLD
 *					 CORRUPT BOUNCE DEFER TRACE FLUSH SAVED)
 *	int MAIL_QUEUE_MSG_COMPLETE(struct stat *st);
 *	const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id);
 *	int mail_queue_id_ok(const char *id);
 *	VSTREAM *mail_queue_enter(const char *queue, int mode, VSTRING *id);
 *	VSTREAM *mail_queue_enter_stat(const char *queue, int mode, VSTRING *id,
 *				       struct stat *st);
 *	int mail_queue_dir_fd(const char *queue);
 *	int mail_queue_hashed(const char *queue);
 *	int mail_queue_sync(const char *queue, const char *id);
 *	VSTREAM *mail_queue_enter_unnamed(const char *queue, int mode,
 *					  VSTRING *id, struct stat *st);
 *	int mail_queue_link_fd(int fd, const char *queue, const char *id);
 *	void *mail_queue_shared_page(const char *path, size_t size);
 *	VSTREAM *mail_queue_reuse(int mode, VSTRING *id, struct stat *st,
 *				  VSTRING *path);
 *	int mail_queue_publish(const char *path, const char *queue,
 *				const char *id);
 *	int mail_queue_rename(const char *id, const char *from, const char *to);
 *	int mail_queue_remove(const char *queue, const char *id);
 *	int mail_queue_mkdirs(uid_t owner, gid_t group);
 * DESCRIPTION
 *	Daemons chdir(2) to queue_directory at start (the mail_server
 *	skeleton does it), so every path here is relative: "incoming/ID",
 *	"deferred/7/72C22A73A21" for queues named in hash_queue_names
 *	(hash_queue_depth levels of one hex digit each, the first digits
 *	of the ID), flat for the others.
 *
 *	Queue IDs have Postfix's shapes: short (default) is upper-case hex,
 *	5 digits of the microseconds of the arrival time followed by the
 *	file's inode number; long (enable_long_queue_ids) is as Postfix's.
 *	mail_queue_id_ok() accepts only those shapes (qmgr and postsuper
 *	skip every other name).
 *
 *	mail_queue_enter() creates a new file in the named queue with a
 *	temporary name, computes its queue ID from the inode, links the file
 *	under that ID (the name is unique because the inode is) and removes
 *	the temporary name. The file is open for read and write, with the
 *	caller's mode minus the owner-execute bit: that bit is set only when
 *	the file is complete, and MAIL_QUEUE_MSG_COMPLETE() tests it (see
 *	queue_file.h). mail_queue_enter_stat() is the same and also
 *	returns the new file's fstat(2) (its mode is the one the complete
 *	mark is added to).
 *
 *	mail_queue_dir_fd() is a descriptor of a flat queue folder, opened
 *	(close-on-exec) at its first use relative to the working directory
 *	of that moment and kept open for the life of the process; -1 with
 *	errno (a folder that the process may write and search but not
 *	read, as maildrop/ for postdrop, gets an O_PATH descriptor: good
 *	for creating and linking, and mail_queue_sync() then fsyncs the
 *	folder by name). Processes chdir(2) (and chroot(2)) to queue_directory before
 *	they create a message, as the mail_server skeleton does; a folder
 *	cannot be renamed under a running system. mail_queue_enter()
 *	creates and links its file through this descriptor, so the folder
 *	that is synced is the one that holds the entry.
 *	mail_queue_hashed() tells whether the queue is in hash_queue_names.
 *	mail_queue_sync() makes a message's entry durable: it fsyncs the
 *	folder that holds it (through the kept descriptor), and for a
 *	hashed queue each subfolder of its path up to the queue folder
 *	(one may have just been made). 0 or -1 with errno.
 *
 *	mail_queue_enter_unnamed() is mail_queue_enter_stat() without the
 *	link: the file (O_TMPFILE in the queue's folder) has its queue ID
 *	but no name until mail_queue_link_fd() gives it the ID's name in
 *	a queue (through /proc/self/fd; a missing hash subfolder is made;
 *	never over an existing name). A null stream where that cannot be
 *	done (no O_TMPFILE, no /proc).
 *
 *	mail_queue_shared_page() maps the first size bytes of a file
 *	(under private/) that the processes of mail_owner share
 *	(MAP_SHARED), creating it or growing it with zeros; null for root,
 *	or when the file is not mail_owner's alone, or without lock-free
 *	64-bit atomics.
 *
 *	mail_queue_reuse() is mail_queue_enter_stat() with a file taken
 *	from pool/ (queue_pool(3)) instead of a new one. A file whose mode
 *	is the caller's plus the complete mark (a message's file that
 *	nothing marked) keeps that mode, so that only its data changes;
 *	any other mode is set to the caller's minus the complete mark. Its
 *	queue ID is made from its inode as for a new file, and its name
 *	in pool/ goes into path.
 *	It has no name in a queue yet: mail_queue_publish() gives it one,
 *	the queue ID's, when it is complete and on disk (never replacing a
 *	file of that name; a missing hash subfolder is made). A null
 *	stream when pool/ has no file to give.
 *
 *	mail_queue_rename() moves a message file between queues (creating
 *	a missing hash subfolder), mail_queue_remove() deletes it; both
 *	return 0 or -1 with errno. mail_queue_mkdirs() creates every queue
 *	folder with Postfix's modes (master calls it), maildrop/ included:
 *	mode 1730, group setgid_group, so that the setgid postdrop can
 *	add files that only their owner and mail_owner can read.
 */
#ifndef MAIL_QUEUE_H
#define MAIL_QUEUE_H
#include <sys/types.h>
#include <sys/stat.h>
#include "util/vstring.h"
#include "util/vstream.h"

#define MAIL_QUEUE_INCOMING	"incoming"
#define MAIL_QUEUE_ACTIVE	"active"
#define MAIL_QUEUE_DEFERRED	"deferred"
#define MAIL_QUEUE_HOLD		"hold"
#define MAIL_QUEUE_CORRUPT	"corrupt"
#define MAIL_QUEUE_BOUNCE	"bounce"
#define MAIL_QUEUE_DEFER	"defer"
#define MAIL_QUEUE_TRACE	"trace"
#define MAIL_QUEUE_FLUSH	"flush"
#define MAIL_QUEUE_SAVED	"saved"
#define MAIL_QUEUE_MAILDROP	"maildrop"

#define MAIL_QUEUE_MSG_COMPLETE(st)	(((st)->st_mode & S_IXUSR) != 0)

extern const char *mail_queue_path(VSTRING *, const char *, const char *);
extern int mail_queue_id_ok(const char *);
extern VSTREAM *mail_queue_enter(const char *, int, VSTRING *);
extern VSTREAM *mail_queue_enter_stat(const char *, int, VSTRING *, struct stat *);
extern int mail_queue_dir_fd(const char *);
extern int mail_queue_hashed(const char *);
extern int mail_queue_sync(const char *, const char *);
extern VSTREAM *mail_queue_enter_unnamed(const char *, int, VSTRING *, struct stat *);
extern int mail_queue_link_fd(int, const char *, const char *);
extern void *mail_queue_shared_page(const char *, size_t);
extern VSTREAM *mail_queue_reuse(int, VSTRING *, struct stat *, VSTRING *);
extern int mail_queue_publish(const char *, const char *, const char *);
extern int mail_queue_rename(const char *, const char *, const char *);
extern int mail_queue_remove(const char *, const char *);
extern int mail_queue_mkdirs(uid_t, gid_t);

#endif
