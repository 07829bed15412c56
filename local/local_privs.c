/*
 * NAME
 *	local_privs - whose rights the local delivery agent uses
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_privs_init(void);
 *	void local_privs_set(uid_t uid, gid_t gid);
 *	void local_privs_restore(void);
 *	void local_user_privs(LOCAL_STATE *state, uid_t *uid, gid_t *gid);
 * DESCRIPTION
 *	Started as root, the agent keeps root as its real and saved user
 *	id and works with the effective ids of mail_owner
 *	(local_privs_init). local_privs_set() takes other effective ids
 *	(a recipient, the spool folder's group, root) with only gid as
 *	supplementary group; local_privs_restore() goes back to
 *	mail_owner. Started by another user (tests, development) nothing
 *	changes ids.
 *
 *	local_user_privs() says with whose rights a file or command of
 *	this address is delivered: the user of the .forward or :include:
 *	file or alias table that it came from; default_privs when there
 *	is none or that user is root.
 * DIAGNOSTICS
 *	A failure to change ids is fatal: going on with the wrong rights
 *	is not an option.
 */
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "local.h"

void    local_privs_set(uid_t uid, gid_t gid)
{
    if (!local_conf.privileged)
	return;
    if (geteuid() != 0 && seteuid(0) < 0)
	msg_fatal("seteuid(0): %m");
    if (setgroups(1, &gid) < 0)
	msg_fatal("setgroups(%ld): %m", (long) gid);
    if (setegid(gid) < 0)
	msg_fatal("setegid(%ld): %m", (long) gid);
    if (uid != 0 && seteuid(uid) < 0)
	msg_fatal("seteuid(%ld): %m", (long) uid);
}

void    local_privs_restore(void)
{
    local_privs_set(local_conf.owner_uid, local_conf.owner_gid);
}

void    local_privs_init(void)
{
    local_privs_restore();
}

void    local_user_privs(LOCAL_STATE *state, uid_t *uid, gid_t *gid)
{
    if (state->usr.uid != 0) {
	*uid = state->usr.uid;
	*gid = state->usr.gid;
    } else {
	*uid = local_conf.privs_uid;
	*gid = local_conf.privs_gid;
    }
}
