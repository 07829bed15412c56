/*
 * NAME
 *	local_file - deliver to a file named in an alias, .forward or
 *	:include: file
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_file(LOCAL_STATE *state, const char *path);
 * DESCRIPTION
 *	local_deliver_file() appends the message to "/file/name" in UNIX
 *	mailbox format (a "From " line, Return-Path:, X-Original-To:,
 *	Delivered-To: as prepend_delivered_header says, ">From "
 *	quoting, an empty line at the end), or writes it into a Maildir
 *	when the name ends in "/". Devices such as /dev/null are fine.
 *
 *	Only where allow_mail_to_files allows the expansion type (alias,
 *	forward, include; by default alias and forward): elsewhere the
 *	recipient bounces with 5.7.1 "mail to file is restricted".
 *
 *	The delivery is made with the rights of the user on whose behalf
 *	it is made (local_user_privs: default_privs when there is none, or
 *	when that is root). A regular file is locked as
 *	mailbox_delivery_lock says; a dot lock that cannot be made is only
 *	a warning here. A new file is created with mode 0600; an existing
 *	one must not be a symbolic link or have several links.
 * DIAGNOSTICS
 *	"cannot append message to file PATH: REASON"; 4.X.X codes defer,
 *	5.X.X codes bounce.
 */
#include <stdio.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_copy.h"
#include "global/mbox_open.h"
#include "local.h"

void    local_deliver_file(LOCAL_STATE *state, const char *path)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    MBOX_ERROR err;
    MBOX   *mbox;
    uid_t   uid;
    gid_t   gid;
    char    dsn[16];
    int     copy_flags;

    if (state->msg->req->flags & DEL_REQ_FLAG_VERIFY) {
	local_status_sent(state, "2.0.0", 1, "delivers to file: %s", path);
	goto out;
    }
    if ((state->exp_type & local_conf.file_mask) == 0) {
	local_status_bounce(state, "5.7.1", 0, "mail to file is restricted");
	goto out;
    }
    local_user_privs(state, &uid, &gid);
    vstring_sprintf(key, "%ld %s", (long) uid, path);
    if (local_been_here(state->msg, "file", vstring_str(key)))
	goto out;

    copy_flags = MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
    if (local_conf.deliver_hdr_mask & DELIVER_HDR_FILE)
	copy_flags |= MAIL_COPY_DELIVERED;
    local_privs_set(uid, gid);
    if (path[strlen(path) - 1] == '/') {
	if (local_maildir(state, path, copy_flags, why, dsn) < 0) {
	    local_privs_restore();
	    if (dsn[0] == '4')
		local_status_defer(state, dsn, "maildir delivery failed: %s", vstring_str(why));
	    else
		local_status_bounce(state, dsn, 0, "maildir delivery failed: %s", vstring_str(why));
	} else {
	    local_privs_restore();
	    local_status_sent(state, "2.0.0", 1, "delivered to maildir");
	}
	goto out;
    }
    err.text = why;
    if ((mbox = mbox_open(path, local_conf.lock_mask, MBOX_CREATE | MBOX_DOT_LOCK_MAY_FAIL,
			  (uid_t) -1, (gid_t) -1, &err)) == 0) {
	local_privs_restore();
	snprintf(dsn, sizeof(dsn), "%s", err.dsn);
    } else if (local_mbox_append(state, mbox, copy_flags | MAIL_COPY_MBOX, why, dsn) < 0) {
	mbox_release(mbox);
	local_privs_restore();
    } else {
	mbox_release(mbox);
	local_privs_restore();
	local_status_sent(state, "2.0.0", 1, "delivered to file: %s", path);
	goto out;
    }
    if (dsn[0] == '4')
	local_status_defer(state, dsn, "cannot append message to file %s: %s",
			   path, vstring_str(why));
    else
	local_status_bounce(state, dsn, 0, "cannot append message to file %s: %s",
			    path, vstring_str(why));

out:
    vstring_free(why);
    vstring_free(key);
}
