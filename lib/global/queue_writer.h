/*
 * NAME
 *	queue_writer - write one complete message file into a queue
 * SYNOPSIS
 *	#include "global/queue_writer.h"
 *
 *	QUEUE_WRITER *queue_writer_open(const char *queue);
 *	const char *queue_writer_id(QUEUE_WRITER *qw);
 *	const struct timeval *queue_writer_time(QUEUE_WRITER *qw);
 *
 *	int queue_writer_sender(QUEUE_WRITER *qw, const char *sender);
 *	int queue_writer_attr(QUEUE_WRITER *qw, const char *name, const char *value);
 *	int queue_writer_rcpt(QUEUE_WRITER *qw, const char *addr,
 *			      const char *orig_addr, int notify, const char *orcpt);
 *	int queue_writer_msg_begin(QUEUE_WRITER *qw);
 *	int queue_writer_msg_write(QUEUE_WRITER *qw, const void *buf, size_t len);
 *	off_t queue_writer_msg_size(QUEUE_WRITER *qw);
 *	void queue_writer_hold(QUEUE_WRITER *qw);
 *	int queue_writer_commit(QUEUE_WRITER *qw);
 *	void queue_writer_abort(QUEUE_WRITER *qw);
 *	int queue_writer_errno(QUEUE_WRITER *qw);
 *	int queue_writer_status(int err);
 *
 *	void queue_writer_filter(QUEUE_WRITER *qw, const char *filter);
 *	void queue_writer_redirect(QUEUE_WRITER *qw, const char *addr);
 *	int queue_writer_seal(QUEUE_WRITER *qw);
 *	const char *queue_writer_get_filter(QUEUE_WRITER *qw);
 *	off_t queue_writer_msg_offset(QUEUE_WRITER *qw);
 *	VSTREAM *queue_writer_reader(QUEUE_WRITER *qw);
 *	int queue_writer_rewrite(QUEUE_WRITER *qw);
 *	int queue_writer_rec(QUEUE_WRITER *qw, int type, const char *data,
 *			     size_t len);
 * DESCRIPTION
 *	The one way to put a new message into a queue (smtpd, bounce,
 *	verify). The records are those of queue_file.h, in its order;
 *	callers make the calls in that order:
 *
 *	queue_writer_open() takes a file for the message (the caller's
 *	cwd is queue_directory) and writes the V and T records (arrival
 *	time = now, also used for the queue ID). For incoming/ the file is
 *	one of pool/ (queue_pool(3), mail_queue_reuse()) or else a new one
 *	without a name (mail_queue_enter_unnamed()); either gets its queue
 *	ID's name only at commit, complete and on disk, so a crash before
 *	leaves nothing in the queue. Where neither can be had, and for the
 *	other queues, it is a new file named from the start
 *	(mail_queue_enter_stat()). NULL with errno when the file cannot be
 *	created.
 *
 *	queue_writer_sender() writes S ("" for the null sender), then any
 *	number of queue_writer_attr() A records. The first
 *	queue_writer_rcpt() writes the W record, then for each recipient
 *	O (when orig_addr is not NULL and differs from addr), N (when
 *	notify is not 0), Q (when orcpt is not NULL) and R.
 *
 *	queue_writer_msg_begin() starts the M record; the message bytes
 *	are streamed in with queue_writer_msg_write() (any number of
 *	calls; they are written as given: headers and body, CRLF lines);
 *	queue_writer_msg_size() is what was written so far.
 *
 *	queue_writer_commit() patches the M record's length, writes a P
 *	record of padding and E, so that the file ends at a multiple of
 *	4 KB (a file from pool/ is cut after E when it was longer), sets
 *	the owner-execute bit (the "complete" mark of mail_queue.h), fsyncs
 *	the file, gives it its name when it has none yet, fsyncs its queue
 *	folder, and closes the file. A file from pool/ that kept its mode
 *	(mail_queue_reuse()) needs no new mark, and fdatasync(2) makes it
 *	durable: its size and blocks are on disk when they did not change,
 *	as for a message of about the same size, and synced with its data
 *	when they did; its times are not needed to read it.
 *	The fsync of incoming/ is shared (group commit): it is skipped
 *	when an fsync of incoming/ that another writer began after this
 *	file's entry was made has completed, and commit waits (up to
 *	50 ms, on a futex) for one that is under way; when the fsync
 *	under way began before the entry, commit waits for it and then
 *	one of the writers that wait syncs for all of them (counters in a
 *	page of private/.incoming-sync, which processes of mail_owner map;
 *	see queue_writer.c for why that is enough). Every file and its
 *	entry are still on stable storage when commit returns. The folder
 *	is synced through the descriptor that mail_queue(3) keeps.
 *	Only when it returns 0 may the caller report success (DESIGN
 *	section 4, the durability rule). It frees qw in all cases; on
 *	failure the file is removed first.
 *
 *	queue_writer_hold() makes queue_writer_commit() put the file in
 *	the hold queue instead (header_checks HOLD): once the complete mark
 *	is set, the file is renamed into hold/ and both folders are synced
 *	before commit returns.
 *
 *	queue_writer_filter() sets the content filter ("transport:nexthop",
 *	content_filter or a FILTER action; NULL or "" for none; the last
 *	call wins): commit writes it as the F record, after the message.
 *	queue_writer_redirect() likewise sets the REDIRECT address (the >
 *	record, after F).
 *
 *	queue_writer_seal() finishes the file as commit does (F, >, P, E,
 *	the M record's length; the file takes the queue ID's name if it
 *	had another or none)
 *	and flushes it, but sets no complete mark (a file from pool/ loses
 *	it), syncs nothing and keeps
 *	qw: the file can be read whole (the bounce
 *	service reads a message that pickup refused, to return it to its
 *	sender) and qmgr never takes it; the caller then calls
 *	queue_writer_abort(), which removes it. 0, or -1 with
 *	queue_writer_errno().
 *
 *	Milters may change a message before it is committed
 *	(milter_edit(3)). queue_writer_msg_offset() is where the message
 *	data starts in the file (-1 before queue_writer_msg_begin()).
 *	queue_writer_reader() flushes what was written and opens the file
 *	being written for reading (NULL on error). queue_writer_rewrite()
 *	starts a new version of the file: from then on every call writes
 *	to a new file "ID.editN" beside it, from the start (the caller
 *	copies the V and T records with queue_writer_rec(), which writes
 *	any record as given); the previous version stays readable through
 *	a reader opened before. commit renames the new version over the
 *	queue ID's file (into hold/ when held), so a crash leaves at
 *	most the old incomplete file or the complete new one; abort
 *	removes both. Mail that no milter changes is never copied.
 *
 *	queue_writer_abort() removes the file and frees qw; it is also
 *	what a caller does after any failed call.
 *
 *	Every call after the first failure does nothing and returns -1;
 *	queue_writer_errno() is the errno of that failure. With
 *	queue_writer_status() a caller maps an errno to one of:
 *
 *	QUEUE_WRITER_STAT_NOSPACE	ENOSPC, EDQUOT, EFBIG: no room
 *					(smtpd: 452 4.3.1)
 *	QUEUE_WRITER_STAT_WRITE		any other I/O error (451 4.3.0)
 * DIAGNOSTICS
 *	Failures are reported to the caller, which logs them (with the
 *	queue ID when there is one); nothing here is fatal.
 * SEE ALSO
 *	queue_file(3), mail_queue(3)
 */
#ifndef QUEUE_WRITER_H
#define QUEUE_WRITER_H
#include <sys/types.h>
#include <sys/time.h>
#include <stddef.h>
#include "util/vstream.h"

typedef struct QUEUE_WRITER QUEUE_WRITER;

#define QUEUE_WRITER_STAT_NOSPACE	1
#define QUEUE_WRITER_STAT_WRITE		2

extern QUEUE_WRITER *queue_writer_open(const char *);
extern const char *queue_writer_id(QUEUE_WRITER *);
extern const struct timeval *queue_writer_time(QUEUE_WRITER *);
extern int queue_writer_sender(QUEUE_WRITER *, const char *);
extern int queue_writer_attr(QUEUE_WRITER *, const char *, const char *);
extern int queue_writer_rcpt(QUEUE_WRITER *, const char *, const char *, int, const char *);
extern int queue_writer_msg_begin(QUEUE_WRITER *);
extern int queue_writer_msg_write(QUEUE_WRITER *, const void *, size_t);
extern off_t queue_writer_msg_size(QUEUE_WRITER *);
extern void queue_writer_hold(QUEUE_WRITER *);
extern int queue_writer_commit(QUEUE_WRITER *);
extern void queue_writer_abort(QUEUE_WRITER *);
extern int queue_writer_errno(QUEUE_WRITER *);
extern int queue_writer_status(int);
extern void queue_writer_filter(QUEUE_WRITER *, const char *);
extern void queue_writer_redirect(QUEUE_WRITER *, const char *);
extern int queue_writer_seal(QUEUE_WRITER *);
extern const char *queue_writer_get_filter(QUEUE_WRITER *);
extern off_t queue_writer_msg_offset(QUEUE_WRITER *);
extern VSTREAM *queue_writer_reader(QUEUE_WRITER *);
extern int queue_writer_rewrite(QUEUE_WRITER *);
extern int queue_writer_rec(QUEUE_WRITER *, int, const char *, size_t);

#endif
