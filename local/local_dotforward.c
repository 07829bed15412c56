/*
 * NAME
 *	local_dotforward - deliver as a user's .forward file says
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_deliver_dotforward(LOCAL_STATE *state, const struct passwd *pw);
 * DESCRIPTION
 *	local_deliver_dotforward() tries the files of forward_path in
 *	turn ($home/.forward${recipient_delimiter}${extension},
 *	$home/.forward by default; $name values are filtered with
 *	forward_expansion_filter, and an entry that names an undefined
 *	value, such as ${extension} for an address without one, is
 *	skipped). The first file that exists decides: its destinations
 *	are delivered (local_token.c) with the user's rights, as an
 *	expansion of type "forward", and the result is 1; a file without
 *	destinations (empty, or only comments) means "no forwarding" and
 *	the result is 0, so the mailbox gets the mail.
 *
 *	The file is opened with the user's rights. It must be a regular
 *	file owned by the user or root and not writable by others; a file
 *	that is not is ignored with a warning, as in Postfix. An address
 *	that came from this user's own .forward does not read it again.
 * DIAGNOSTICS
 *	A file that exists but cannot be read defers the recipient (4.3.0
 *	"cannot open FILE: ...").
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "util/mac_expand.h"
#include "global/mail_conf.h"
#include "local.h"

/* open_forward - a .forward file as the user; NULL with *err (0: none) */
static VSTREAM *open_forward(const char *path, const struct passwd *pw, int *err)
{
    VSTREAM *fp = 0;
    struct stat st;
    int     fd;

    *err = 0;
    local_privs_set(pw->pw_uid, pw->pw_gid);
    if ((fd = open(path, O_RDONLY | O_NONBLOCK)) < 0) {
	if (errno != ENOENT && errno != ENOTDIR)
	    *err = errno;
    } else if (fstat(fd, &st) < 0) {
	*err = errno;
	close(fd);
    } else if (!S_ISREG(st.st_mode)) {
	msg_warn("file %s is not a regular file", path);
	close(fd);
    } else if (st.st_uid != 0 && st.st_uid != pw->pw_uid) {
	msg_warn("file %s has bad owner uid %ld", path, (long) st.st_uid);
	close(fd);
    } else if (st.st_mode & S_IWOTH) {
	msg_warn("file %s is world writable", path);
	close(fd);
    } else {
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	fp = vstream_fdopen(fd);
    }
    local_privs_restore();
    return (fp);
}

int     local_deliver_dotforward(LOCAL_STATE *state, const struct passwd *pw)
{
    const char *tmpl = mail_conf_raw(VAR_FORWARD_PATH);
    const char *filter = mail_conf_str(VAR_FORWARD_EXPANSION_FILTER);
    LOCAL_STATE child = *state;
    ARGV   *paths;
    VSTRING *path = vstring_alloc(100);
    int     handled = 0;
    int     err;

    /* Named in the user's own .forward: that file is not read again. */
    if ((state->exp_type & EXPAND_TYPE_FWD) && state->exp_from
	&& strcmp(state->exp_from, pw->pw_name) == 0) {
	vstring_free(path);
	return (0);
    }
    if (tmpl == 0)
	tmpl = mail_conf_default(VAR_FORWARD_PATH);

    /* From here on, the user's rights and attributes. */
    child.usr.uid = pw->pw_uid;
    child.usr.gid = pw->pw_gid;
    child.usr.home = pw->pw_dir;
    child.usr.shell = pw->pw_shell;
    child.usr.logname = pw->pw_name;

    paths = argv_split_list(tmpl);
    for (size_t i = 0; i < paths->argc; i++) {
	VSTREAM *fp;

	if (mac_expand(path, paths->argv[i], filter, local_attr_lookup, &child) != 0
	    || vstring_len(path) == 0)
	    continue;
	if ((fp = open_forward(vstring_str(path), pw, &err)) == 0) {
	    if (err == 0)
		continue;
	    local_status_defer(state, "4.3.0", "cannot open %s: %s",
			       vstring_str(path), strerror(err));
	    handled = 1;
	    break;
	}
	child.exp_type = EXPAND_TYPE_FWD;
	child.exp_from = pw->pw_name;
	child.level = state->level + 1;
	handled = local_deliver_stream(&child, fp, vstring_str(path)) != 0;
	(void) vstream_close(fp);
	break;
    }
    argv_free(paths);
    vstring_free(path);
    return (handled);
}
