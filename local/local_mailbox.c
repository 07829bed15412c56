/*
 * NAME
 *	local_mailbox - deliver to a user's mailbox
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_mailbox(LOCAL_STATE *state, const struct passwd *pw);
 *	int local_mbox_append(LOCAL_STATE *state, MBOX *mbox, int copy_flags,
 *			      VSTRING *why, char *dsn);
 * DESCRIPTION
 *	local_deliver_mailbox() delivers to the mailbox of a passwd user,
 *	in Postfix's order of precedence: mailbox_command_maps (by user
 *	name), mailbox_command (run with the user's rights, default_privs
 *	for root), home_mailbox (a file relative to the home folder, or a
 *	Maildir when it ends in "/"), else the UNIX mailbox
 *	mail_spool_directory/user. Mail whose sender an owner- alias
 *	changed is not delivered here but forwarded as a new message.
 *
 *	A UNIX mailbox gets a "From sender date" line, Return-Path:,
 *	X-Original-To: and (prepend_delivered_header "file")
 *	Delivered-To: headers, ">From " quoting and an empty line at the
 *	end; it is locked as mailbox_delivery_lock says (fcntl, dotlock on
 *	Debian), synced before success is reported, and cut back to its
 *	old length when a write fails. A mailbox in the spool folder is
 *	opened as the user with the folder's group when the folder is
 *	group-writable (Debian's /var/mail: root:mail 2775), as the user
 *	when it is world-writable, and as root otherwise (a new mailbox
 *	is then given to the user); the message is written as the user.
 *	With strict_mailbox_ownership, a mailbox that the user does not own
 *	is not touched (deferred, with Postfix's warning).
 *	mailbox_size_limit is the largest size a mailbox file may reach
 *	(a write beyond it fails with "File too large", 5.2.2).
 *
 *	After a mailbox delivery, with biff = yes, "user@offset" goes to
 *	the local biff service (comsat, UDP port "biff" on 127.0.0.1), as
 *	Postfix does.
 *
 *	local_mbox_append() writes the message to an open mailbox or file
 *	(with the current effective ids) and syncs it; on failure it
 *	truncates the file to its old size and returns -1 with why and dsn
 *	set.
 * DIAGNOSTICS
 *	"cannot update mailbox PATH for user NAME. REASON" with the
 *	reason of mbox_open(3) or of the write; 4.X.X codes defer, 5.X.X
 *	codes bounce.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/mail_copy.h"
#include "global/mbox_open.h"
#include "local.h"

/* biff_notify - tell comsat that user's mailbox grew at offset */
static void biff_notify(const char *user, off_t offset)
{
    static int sock = -1;
    static struct sockaddr_in sin;
    char    text[300];
    int     len;

    if (sock < 0) {
	struct servent *sp;

	if ((sp = getservbyname("biff", "udp")) == 0) {
	    msg_warn("service biff/udp is not in the services database");
	    return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sp->s_port;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sock = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
	    msg_warn("socket: %m");
	    return;
	}
    }
    len = snprintf(text, sizeof(text), "%s@%lld", user, (long long) offset);
    if (len > 0 && len < (int) sizeof(text))
	(void) sendto(sock, text, (size_t) len + 1, 0, (struct sockaddr *) &sin, sizeof(sin));
}

/* file_limit - RLIMIT_FSIZE for mailbox_size_limit; returns the old one */
static void file_limit(struct rlimit *old, int set)
{
    struct rlimit lim;

    if (local_conf.mailbox_limit <= 0)
	return;
    if (set) {
	(void) getrlimit(RLIMIT_FSIZE, old);
	lim = *old;
	lim.rlim_cur = (rlim_t) local_conf.mailbox_limit;
	if (old->rlim_max != RLIM_INFINITY && lim.rlim_cur > old->rlim_max)
	    lim.rlim_cur = old->rlim_max;
	(void) setrlimit(RLIMIT_FSIZE, &lim);
    } else {
	(void) setrlimit(RLIMIT_FSIZE, old);
    }
}

int     local_mbox_append(LOCAL_STATE *state, MBOX *mbox, int copy_flags,
			          VSTRING *why, char *dsn)
{
    DELIVER_REQUEST *req = state->msg->req;
    MAIL_COPY_ENV env;
    struct rlimit old;
    off_t   start;
    int     fd = vstream_fileno(mbox->fp);
    int     status;

    env.sender = state->sender;
    env.orig_rcpt = state->orig;
    env.delivered = state->delivered;
    env.eol = 0;
    start = S_ISREG(mbox->st.st_mode) ? lseek(fd, 0, SEEK_END) : 0;
    file_limit(&old, 1);
    status = mail_copy(state->msg->fp, req->data_offset, req->data_size, mbox->fp,
		       copy_flags, &env, why);
    if (status == 0 && S_ISREG(mbox->st.st_mode) && fsync(fd) < 0) {
	status = MAIL_COPY_STAT_WRITE;
	vstring_sprintf(why, "error writing message: %m");
    }
    file_limit(&old, 0);
    if (status == 0)
	return (0);
    if (status & MAIL_COPY_STAT_WRITE)
	snprintf(dsn, 16, "%s", mbox_dsn(errno, "5.2.0"));
    else
	snprintf(dsn, 16, "4.3.0");
    /* Leave the mailbox as it was. */
    if (S_ISREG(mbox->st.st_mode) && start >= 0 && ftruncate(fd, start) < 0)
	msg_warn("truncate %s: %m", "mailbox");
    return (-1);
}

/* deliver_mbox - a UNIX mailbox: in the spool folder, or in the home */
static void deliver_mbox(LOCAL_STATE *state, const struct passwd *pw,
			         const char *path, const char *spool)
{
    uid_t   open_uid = pw->pw_uid;
    gid_t   open_gid = pw->pw_gid;
    uid_t   chown_uid = (uid_t) -1;
    gid_t   chown_gid = (gid_t) -1;
    struct stat st;
    MBOX_ERROR err;
    MBOX   *mbox;
    VSTRING *why = vstring_alloc(100);
    char    dsn[16];
    int     copy_flags;
    off_t   offset;

    err.text = why;
    if (spool) {
	/* Debian's /var/mail is root:mail 2775: the user, with group mail. */
	if (stat(spool, &st) == 0 && (st.st_mode & S_IWOTH)) {
	     /* void */ ;
	} else if (stat(spool, &st) == 0 && (st.st_mode & S_IWGRP)) {
	    open_gid = st.st_gid;
	} else {
	    open_uid = 0;
	    open_gid = 0;
	    chown_uid = pw->pw_uid;
	    chown_gid = pw->pw_gid;
	}
    }
    local_privs_set(open_uid, open_gid);
    mbox = mbox_open(path, local_conf.lock_mask,
		     MBOX_CREATE,
		     chown_uid, chown_gid, &err);
    local_privs_restore();
    if (mbox == 0) {
	if (err.dsn[0] == '4')
	    local_status_defer(state, err.dsn, "cannot update mailbox %s for user %s. %s",
			       path, pw->pw_name, vstring_str(why));
	else
	    local_status_bounce(state, err.dsn, 0, "cannot update mailbox %s for user %s. %s",
				path, pw->pw_name, vstring_str(why));
	vstring_free(why);
	return;
    }
    if (S_ISREG(mbox->st.st_mode) && mbox->st.st_uid != pw->pw_uid
	&& mail_conf_bool(VAR_STRICT_MAILBOX_OWNERSHIP)) {
	msg_warn("specify \"%s = no\" to ignore mailbox ownership mismatch",
		 VAR_STRICT_MAILBOX_OWNERSHIP);
	local_status_defer(state, "4.2.0",
			   "cannot update mailbox %s for user %s. destination %s is not owned by recipient",
			   path, pw->pw_name, path);
	local_privs_set(open_uid, open_gid);
	mbox_release(mbox);
	local_privs_restore();
	vstring_free(why);
	return;
    }

    /* The message is written with the user's rights (disk quota). */
    copy_flags = MAIL_COPY_MBOX | MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
    if (local_conf.deliver_hdr_mask & DELIVER_HDR_FILE)
	copy_flags |= MAIL_COPY_DELIVERED;
    local_privs_set(pw->pw_uid, pw->pw_gid);
    offset = lseek(vstream_fileno(mbox->fp), 0, SEEK_END);
    if (local_mbox_append(state, mbox, copy_flags, why, dsn) < 0) {
	local_privs_set(open_uid, open_gid);
	mbox_release(mbox);
	local_privs_restore();
	if (dsn[0] == '4')
	    local_status_defer(state, dsn, "cannot update mailbox %s for user %s. %s",
			       path, pw->pw_name, vstring_str(why));
	else
	    local_status_bounce(state, dsn, 0, "cannot update mailbox %s for user %s. %s",
				path, pw->pw_name, vstring_str(why));
	vstring_free(why);
	return;
    }
    local_privs_set(open_uid, open_gid);
    mbox_release(mbox);
    local_privs_restore();
    if (local_conf.biff)
	biff_notify(pw->pw_name, offset);
    local_status_sent(state, "2.0.0", 1, "delivered to mailbox");
    vstring_free(why);
}

/* deliver_maildir - home_mailbox ending in "/" */
static void deliver_maildir(LOCAL_STATE *state, const struct passwd *pw, const char *path)
{
    VSTRING *why = vstring_alloc(100);
    char    dsn[16];
    int     copy_flags = MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;

    if (local_conf.deliver_hdr_mask & DELIVER_HDR_FILE)
	copy_flags |= MAIL_COPY_DELIVERED;
    local_privs_set(pw->pw_uid, pw->pw_gid);
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
    vstring_free(why);
}

void    local_deliver_mailbox(LOCAL_STATE *state, const struct passwd *pw)
{
    const char *command = 0;
    const char *home_mailbox = mail_conf_str(VAR_HOME_MAILBOX);
    VSTRING *path = vstring_alloc(100);
    LOCAL_STATE user = *state;

    /* The user's rights and attributes, for commands too. */
    user.usr.uid = pw->pw_uid;
    user.usr.gid = pw->pw_gid;
    user.usr.home = pw->pw_dir;
    user.usr.shell = pw->pw_shell;
    user.usr.logname = pw->pw_name;

    if (state->msg->req->flags & DEL_REQ_FLAG_VERIFY) {
	local_status_sent(state, "2.0.0", 1, "delivers to mailbox");
	vstring_free(path);
	return;
    }
    /* A list owner's sender is for a new message, not this mailbox. */
    if (state->sender_changed) {
	local_forward_append(state, state->address, 0);
	vstring_free(path);
	return;
    }
    if (local_been_here(state->msg, "mailbox", pw->pw_name)) {
	vstring_free(path);
	return;
    }
    if (local_conf.mbox_cmd_maps) {
	command = maps_find(local_conf.mbox_cmd_maps, pw->pw_name, 0);
	if (command == 0 && local_conf.mbox_cmd_maps->error) {
	    local_status_defer(state, "4.3.0", "table lookup failure");
	    vstring_free(path);
	    return;
	}
    }
    if (command == 0 && (command = mail_conf_raw(VAR_MAILBOX_COMMAND)) == 0)
	command = mail_conf_default(VAR_MAILBOX_COMMAND);
    if (command && *command) {
	local_deliver_command(&user, command, 1);
    } else if (*home_mailbox) {
	vstring_sprintf(path, "%s/%s", pw->pw_dir, home_mailbox);
	if (home_mailbox[strlen(home_mailbox) - 1] == '/')
	    deliver_maildir(&user, pw, vstring_str(path));
	else
	    deliver_mbox(&user, pw, vstring_str(path), (char *) 0);
    } else {
	const char *spool = mail_conf_str(VAR_MAIL_SPOOL_DIRECTORY);

	vstring_sprintf(path, "%s/%s", spool, pw->pw_name);
	if (spool[strlen(spool) - 1] == '/') {
	    vstring_sprintf(path, "%s%s/", spool, pw->pw_name);
	    deliver_maildir(&user, pw, vstring_str(path));
	} else {
	    deliver_mbox(&user, pw, vstring_str(path), spool);
	}
    }
    vstring_free(path);
}
