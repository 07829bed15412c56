/*
 * NAME
 *	milter_edit - make a milter's changes to a queue file being written
 * SYNOPSIS
 *	#include "global/milter_edit.h"
 *
 *	int milter_edit_apply(QUEUE_WRITER *qw, const MILTER_EDITS *edits,
 *			      VSTREAM *src, off_t msg_offset, off_t msg_size,
 *			      MILTER_EDIT_RCPT_FN add_rcpt, void *ctx);
 * DESCRIPTION
 *	milter_edit_apply() writes a new version of the queue file that
 *	qw is writing (queue_writer_rewrite()), from src, a reader of the
 *	current version whose message is msg_size bytes at msg_offset,
 *	with the changes one filter asked for (milter(3)):
 *
 *	Envelope: the sender replaced (CHGFROM); a recipient whose
 *	original address (the O record, else the R record) is in del_rcpt
 *	is marked done (DELRCPT: it is not delivered); each address of
 *	add_rcpt is handed to add_rcpt(ctx, qw, address), which writes it
 *	(smtpd expands virtual aliases there) and returns 0 or -1.
 *
 *	Headers, in the filter's order, counted as the filter saw them
 *	(the first edits->hidden headers are not counted): add appends
 *	after the last header; insert at index 0 puts the header at the
 *	very top, at index N after the N-th header the filter saw (or at
 *	the end); change replaces the N-th header of that name (N from 1;
 *	0 counts as 1), an empty value deletes it, and a change of a
 *	header that is not there adds it, as Postfix's cleanup does.
 *	Header text is "Name: value" with the value's "\n" line breaks
 *	written as CRLF.
 *
 *	Body: replaced by edits->body (bare LF line ends become CRLF, a
 *	last line without one gets one) or copied.
 *
 *	The V, T, A, W records and the message's other headers are copied
 *	as they are. It returns 0, or -1 when the file could not be read
 *	or written (queue_writer_errno() then says why).
 * SEE ALSO
 *	milter(3), queue_writer(3)
 */
#ifndef MILTER_EDIT_H
#define MILTER_EDIT_H
#include "util/vstream.h"
#include "global/milter.h"
#include "global/queue_writer.h"

typedef int (*MILTER_EDIT_RCPT_FN) (void *, QUEUE_WRITER *, const char *);

extern int milter_edit_apply(QUEUE_WRITER *, const MILTER_EDITS *, VSTREAM *,
			             off_t, off_t, MILTER_EDIT_RCPT_FN, void *);

#endif
