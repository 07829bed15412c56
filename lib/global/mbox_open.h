/*
 * NAME
 *	mbox_open - open and lock a UNIX mailbox or a file for appending
 * SYNOPSIS
 *	#include "global/mbox_open.h"
 *
 *	int mbox_lock_mask(const char *list);
 *	MBOX *mbox_open(const char *path, int lock_mask, int flags,
 *			uid_t chown_uid, gid_t chown_gid, MBOX_ERROR *err);
 *	void mbox_release(MBOX *mbox);
 *	const char *mbox_dsn(int err, const char *def_dsn);
 * DESCRIPTION
 *	mbox_lock_mask() turns a mailbox_delivery_lock value ("fcntl,
 *	dotlock") into a mask of MBOX_LOCK_FLOCK, MBOX_LOCK_FCNTL and
 *	MBOX_LOCK_DOT; an unknown name is a fatal configuration error, as
 *	in Postfix.
 *
 *	mbox_open() opens path for appending with the caller's effective
 *	ids, the way the local delivery agent has to: first the dot lock
 *	("path.lock", created exclusively; a lock older than
 *	stale_lock_time is removed; deliver_lock_attempts tries,
 *	deliver_lock_delay apart), then the file: an existing one must not
 *	be a symbolic link and, when it is a regular file, must have one
 *	link; a missing one is created with mode 0600 (exclusively, so a
 *	racing symlink is no risk) and, when chown_uid is not (uid_t) -1,
 *	given to chown_uid:chown_gid. Then the kernel locks (fcntl
 *	write lock and/or flock, non-blocking, the same number of tries).
 *	Only regular files are locked; /dev/null and other devices are
 *	just opened. The file's status (fstat after opening) is in
 *	mbox->st.
 *
 *	flags: MBOX_DOT_LOCK_MAY_FAIL: a dot lock that cannot be made
 *	(the folder is not writable, say) is skipped with a warning
 *	("unable to create lock file PATH.lock: ..."); one that another
 *	process holds still fails (files named in aliases and .forward);
 *	MBOX_CREATE: create the file when it is missing (else ENOENT is
 *	an error).
 *
 *	mbox_release() closes the file (releasing the kernel locks) and
 *	removes the dot lock; call it with the ids that made the lock.
 * DIAGNOSTICS
 *	mbox_open() returns NULL and fills in err: err->dsn is "4.2.0"
 *	when another process holds a lock (try later), mbox_dsn(errno,
 *	"5.2.0") otherwise; err->text says what failed: "unable to create
 *	lock file PATH.lock: File exists", "unable to lock for exclusive
 *	access: Resource temporarily unavailable", "cannot open file:
 *	Permission denied", "file is a symbolic link", "file has 2 hard
 *	links" (Postfix's words).
 *
 *	mbox_dsn() is "5.2.2" (mailbox full) for EDQUOT and EFBIG, "4.3.0"
 *	for errors that may go away (ENOSPC, EIO, EAGAIN, ENOMEM, EMFILE,
 *	ENFILE, ESTALE), and def_dsn for the others.
 */
#ifndef MBOX_OPEN_H
#define MBOX_OPEN_H
#include <sys/types.h>
#include <sys/stat.h>
#include "util/vstream.h"
#include "util/vstring.h"

#define MBOX_LOCK_FLOCK		(1<<0)
#define MBOX_LOCK_FCNTL		(1<<1)
#define MBOX_LOCK_DOT		(1<<2)

#define MBOX_DOT_LOCK_MAY_FAIL	(1<<0)
#define MBOX_CREATE		(1<<1)

typedef struct MBOX {
    VSTREAM *fp;
    struct stat st;			/* of the open file */
    char   *lock_path;			/* dot lock we made, or NULL */
} MBOX;

typedef struct MBOX_ERROR {
    char    dsn[16];
    VSTRING *text;			/* caller's buffer */
} MBOX_ERROR;

extern int mbox_lock_mask(const char *);
extern MBOX *mbox_open(const char *, int, int, uid_t, gid_t, MBOX_ERROR *);
extern void mbox_release(MBOX *);
extern const char *mbox_dsn(int, const char *);

#endif
