/*
 * NAME
 *	local_include - deliver to the destinations of an :include: file
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_include(LOCAL_STATE *state, const char *path);
 * DESCRIPTION
 *	local_deliver_include() reads ":include:/file/name" and delivers
 *	to each destination in it (local_token.c), one level deeper, as
 *	an expansion of type "include" (allow_mail_to_commands and
 *	allow_mail_to_files name it so; by default an :include: file may
 *	not name commands and files).
 *
 *	The file is read with the rights of the user whose .forward or
 *	alias table led here, or as root when there is none. Files and
 *	commands that it names are delivered with those rights; without a
 *	user, with the rights of the file's owner, default_privs when
 *	root owns it. Each file is read once per request.
 * DIAGNOSTICS
 *	A relative path, a missing file or one that is not a regular file
 *	bounces the recipient with 5.3.5 "mail system configuration error"
 *	and a warning in Postfix's words (":include:relative uses a
 *	relative path", "unable to lookup :include: file PATH: No such
 *	file or directory").
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstream.h"
#include "local.h"

#define CONFIG_ERROR	"mail system configuration error"

void    local_deliver_include(LOCAL_STATE *state, const char *path)
{
    LOCAL_STATE child;
    struct stat st;
    VSTREAM *fp;
    int     err = 0;
    int     have_user = state->usr.uid != 0;

    if (*path != '/') {
	msg_warn(":include:%s uses a relative path", path);
	local_status_bounce(state, "5.3.5", 0, CONFIG_ERROR);
	return;
    }
    if (state->level > LOCAL_MAX_LEVEL) {
	msg_warn("include file loop for %s", path);
	local_status_bounce(state, "5.4.6", 0, "include file loop for %s", path);
	return;
    }
    if (local_been_here(state->msg, "include", path))
	return;

    /* Read it with the rights of the user that led here, or as root. */
    local_privs_set(have_user ? state->usr.uid : 0, have_user ? state->usr.gid : 0);
    if (stat(path, &st) < 0) {
	err = errno;
    } else if (!S_ISREG(st.st_mode)) {
	err = -1;
    } else if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	err = errno;
    }
    local_privs_restore();
    if (err > 0) {
	msg_warn("unable to lookup :include: file %s: %s", path, strerror(err));
	local_status_bounce(state, "5.3.5", 0, CONFIG_ERROR);
	return;
    }
    if (err < 0) {
	msg_warn(":include: file %s is not a regular file", path);
	local_status_bounce(state, "5.3.5", 0, CONFIG_ERROR);
	return;
    }

    child = *state;
    child.level = state->level + 1;
    child.exp_type = EXPAND_TYPE_INCL;
    if (!have_user) {
	/* No user: the file's owner, default_privs for root. */
	struct passwd *pw;

	memset(&child.usr, 0, sizeof(child.usr));
	if (st.st_uid != 0) {
	    child.usr.uid = st.st_uid;
	    child.usr.gid = (pw = getpwuid(st.st_uid)) != 0 ? pw->pw_gid : st.st_gid;
	}
    }
    (void) local_deliver_stream(&child, fp, path);
    (void) vstream_close(fp);
}
