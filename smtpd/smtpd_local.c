/*
 * NAME
 *	smtpd_local - refuse unknown local recipients at RCPT time
 * SYNOPSIS
 *	#include "smtpd_local.h"
 *
 *	void smtpd_local_init(void);
 *	int smtpd_local_unlisted(SMTPD_STATE *state);
 * DESCRIPTION
 *	smtpd_local_unlisted() is the local class's part of
 *	reject_unlisted_recipient (smtpd_reject_unlisted_recipient): a
 *	recipient in a mydestination domain must be in
 *	local_recipient_maps (default "proxy:unix:passwd.byname
 *	$alias_maps": a user of the system or an alias), else
 *
 *	    550 5.1.1 <nosuch@localhost>: Recipient address rejected:
 *	    User unknown in local recipient table
 *
 *	with unknown_local_recipient_reject_code, as Postfix answers.
 *	An empty local_recipient_maps turns the check off (local(8) then
 *	bounces unknown users). The tables are asked in Postfix's address
 *	order: user+ext@domain, user@domain, user+ext, user (the domain is
 *	local), @domain. "proxy:" tables are opened directly.
 *
 *	smtpd_local_init() opens the tables; call it before the chroot.
 *
 *	unix:passwd.byname is answered here from the password database:
 *	by getpwnam(3) where /etc/passwd is there, and, in a chroot
 *	(Debian's master.cf runs smtpd chrooted, and Postfix reaches the
 *	database through proxymap, which this system does not have),
 *	from the list of user names read at start. When /etc/passwd is
 *	replaced (useradd, userdel), the process exits after its current
 *	client, so the next one reads the new database.
 *	lib/dict's unix:passwd.byname reads the database where the
 *	process is: in a chroot without /etc/passwd, nss-systemd still
 *	knows root, so the table answers "not found" for every real user
 *	instead of failing; smtpd therefore answers this table itself.
 * DIAGNOSTICS
 *	A table that cannot be read answers "451 4.3.0 <addr>: Temporary
 *	lookup failure".
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "global/mail_addr_find.h"
#include "global/mail_server.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_local.h"

#define PASSWD_TABLE	"unix:passwd.byname"
#define PASSWD_FILE	"/etc/passwd"

static int local_check;			/* local_recipient_maps is not empty */
static MAPS *local_maps;		/* its tables but unix:passwd.byname */
static int use_passwd;			/* unix:passwd.byname is one of them */
static HTABLE *passwd_names;		/* user names at start */
static int passwd_fd = -1;		/* /etc/passwd, to notice a change */
static struct stat passwd_st;
static long reject_code;

/* passwd_changed - was /etc/passwd replaced or written since we read it? */
static int passwd_changed(void *unused)
{
    struct stat st;

    (void) unused;
    if (passwd_fd < 0 || fstat(passwd_fd, &st) < 0)
	return (0);
    return (st.st_nlink == 0 || st.st_mtime != passwd_st.st_mtime
	    || st.st_size != passwd_st.st_size);
}

/* passwd_snapshot - the user names, for lookups in a chroot */
static void passwd_snapshot(void)
{
    struct passwd *pw;

    passwd_names = htable_create(64);
    setpwent();
    while ((pw = getpwent()) != 0) {
	char   *name = lowercase(mystrdup(pw->pw_name));

	if (htable_find(passwd_names, name) == 0)
	    htable_enter(passwd_names, name, (void *) 1);
	myfree(name);
    }
    endpwent();
    if ((passwd_fd = open(PASSWD_FILE, O_RDONLY | O_CLOEXEC)) >= 0
	&& fstat(passwd_fd, &passwd_st) == 0)
	mail_server_watch(passwd_changed, (void *) 0);
}

/* passwd_find - a user of the system? 1, 0 */
static int passwd_find(const char *name)
{
    /*
     * In a chroot without /etc/passwd, the list read at start. (Asking
     * for uid 0 does not tell: nss-systemd knows root anywhere.)
     */
    if (access(PASSWD_FILE, F_OK) < 0)
	return (htable_find(passwd_names, name) != 0);
    return (getpwnam(name) != 0);
}

void    smtpd_local_init(void)
{
    ARGV   *list = argv_split_list(mail_conf_str(VAR_LOCAL_RECIPIENT_MAPS));
    VSTRING *names = vstring_alloc(100);

    reject_code = mail_conf_int(VAR_UNKNOWN_LOCAL_RECIPIENT_REJECT_CODE);
    local_check = list->argc > 0;
    for (size_t i = 0; i < list->argc; i++) {
	const char *name = list->argv[i];

	/* No proxymap here: "proxy:" tables are read directly anyway. */
	if (strncasecmp(name, "proxy:", 6) == 0)
	    name += 6;
	if (strcmp(name, PASSWD_TABLE) == 0)
	    use_passwd = 1;
	else
	    vstring_sprintf_append(names, "%s%s", vstring_len(names) ? ", " : "", name);
    }
    if (vstring_len(names) > 0)
	local_maps = maps_create(VAR_LOCAL_RECIPIENT_MAPS, vstring_str(names),
				 DICT_FLAG_DEFAULT);
    if (use_passwd)
	passwd_snapshot();
    argv_free(list);
    vstring_free(names);
}

int     smtpd_local_unlisted(SMTPD_STATE *state)
{
    VSTRING *local = vstring_alloc(64);
    VSTRING *user = vstring_alloc(64);
    VSTRING *ext = vstring_alloc(64);
    /* Replies show the address as the client gave it ("<root>"). */
    const char *given = state->rcpt_given ? state->rcpt_given : state->recipient;
    int     found = 0;
    int     ret = CHK_DUNNO;

    if (!local_check || state->recipient == 0)
	goto out;

    /* A user of the system: the local part, then without its extension. */
    if (use_passwd) {
	mail_addr_split(state->recipient, local, (VSTRING *) 0);
	lowercase(vstring_str(local));
	found = passwd_find(vstring_str(local));
	if (!found && *mail_conf_str(VAR_RECIPIENT_DELIMITER)
	    && mail_addr_split_ext(vstring_str(local), mail_conf_str(VAR_RECIPIENT_DELIMITER),
				   user, ext))
	    found = passwd_find(vstring_str(user));
    }
    if (!found && local_maps) {
	if (maps_find_addr(local_maps, state->recipient, MAPS_ADDR_DEFAULT) != 0) {
	    found = 1;
	} else if (local_maps->error) {
	    msg_warn("%s lookup error for \"%s\"", local_maps->title, state->recipient);
	    ret = smtpd_chk_tempfail(state, given);
	    goto out;
	}
    }
    if (!found) {
	ret = smtpd_chk_reject(state, reject_code, "5.1.1",
			       "<%s>: Recipient address rejected: User unknown%s", given,
			       var_show_unk_rcpt_table ? " in local recipient table" : "");
	/* Postfix sends no postmaster notice for an unknown user. */
	state->reply_class = SMTPD_NOTIFY_NONE;
    }

out:
    vstring_free(local);
    vstring_free(user);
    vstring_free(ext);
    return (ret);
}
