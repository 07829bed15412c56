/*
 * NAME
 *	postfix_check - "postfix check" and "postfix set-permissions"
 * SYNOPSIS
 *	#include "postfix.h"
 *
 *	int postfix_check_fatal(void);
 *	void postfix_check_warn(void);
 *	void postfix_set_permissions(void);
 * DESCRIPTION
 *	postfix_check_fatal() does what must succeed before master may
 *	start: the queue folders that are missing are created with their
 *	owners and modes (mail_queue_mkdirs(), as master does), so is
 *	data_directory (mail_owner, 0700); master.cf must exist; and
 *	"postsuper" (no option: put misplaced queue files where they
 *	belong) must succeed.
 *
 *	postfix_check_warn() warns, with Postfix's words, about:
 *	- queue_directory and its pid/ not owned by root, or group or
 *	  other writable;
 *	- anything under config_directory and daemon_directory not owned
 *	  by root, or group or other writable;
 *	- anything under data_directory not owned by mail_owner, or
 *	  group or other writable;
 *	- anything under the queue folders (incoming, active, deferred,
 *	  hold, corrupt, defer, bounce, trace, flush, saved, public,
 *	  private; sockets and FIFOs aside) not owned by mail_owner, and
 *	  maildrop/ itself (never what is in it: files of users);
 *	- public/, maildrop/ and the postqueue and postdrop commands not
 *	  of group setgid_group; those commands not set-group-id and
 *	  executable by all;
 *	- each file in corrupt/ ("damaged message");
 *	- /usr/lib/sendmail and /usr/sbin/sendmail that differ.
 *
 *	postfix_set_permissions() makes it so: queue folders (as
 *	above), the files in the queue folders (mail_owner), data_directory
 *	(mail_owner, 0700), postdrop and postqueue (root:setgid_group,
 *	mode 2555, as Debian installs them).
 * DIAGNOSTICS
 *	Lines through postfix_say(); unknown mail_owner or setgid_group
 *	is fatal.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_pool.h"
#include "postfix.h"

static const char *owner_dirs[] = {
    MAIL_QUEUE_SAVED, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFER,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_BOUNCE, MAIL_QUEUE_HOLD, MAIL_QUEUE_TRACE,
    MAIL_QUEUE_CORRUPT, MAIL_QUEUE_POOL, "public", "private", MAIL_QUEUE_FLUSH,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uid_t owner_uid;
static gid_t owner_gid;
static gid_t setgid_gid;

/* identity - mail_owner and setgid_group, fatal when unknown */
static void identity(void)
{
    struct passwd *pw;
    struct group *gr;

    if ((pw = getpwnam(mail_conf_str(VAR_MAIL_OWNER))) == 0)
	postfix_fatal("unknown mail_owner user name: %s", mail_conf_str(VAR_MAIL_OWNER));
    if ((gr = getgrnam(mail_conf_str(VAR_SETGID_GROUP))) == 0)
	postfix_fatal("unknown setgid_group group name: %s", mail_conf_str(VAR_SETGID_GROUP));
    owner_uid = pw->pw_uid;
    owner_gid = pw->pw_gid;
    setgid_gid = gr->gr_gid;
}

/* queue_dirs - create what is missing, fix owners and modes */
static int queue_dirs(void)
{
    const char *queue = mail_conf_str(VAR_QUEUE_DIRECTORY);
    const char *data = mail_conf_str(VAR_DATA_DIRECTORY);

    if (chdir(queue) < 0) {
	postfix_say(MSG_ERROR, "no Postfix queue directory %s!", queue);
	return (-1);
    }
    if (mail_queue_mkdirs(owner_uid, setgid_gid) < 0)
	return (-1);
    if (mkdir(data, 0700) < 0 && errno != EEXIST) {
	postfix_say(MSG_ERROR, "mkdir %s: %s", data, strerror(errno));
	return (-1);
    }
    return (0);
}

int     postfix_check_fatal(void)
{
    VSTRING *path = vstring_alloc(100);
    char   *postsuper;
    int     status;
    pid_t   pid;

    identity();
    if (queue_dirs() < 0) {
	postfix_say(MSG_FATAL, "unable to create missing queue directories");
	return (-1);
    }
    vstring_sprintf(path, "%s/master.cf", mail_conf_dir());
    if (access(vstring_str(path), F_OK) < 0) {
	postfix_say(MSG_FATAL, "no %s file found", vstring_str(path));
	return (-1);
    }
    vstring_sprintf(path, "%s/postsuper", mail_conf_str(VAR_COMMAND_DIRECTORY));
    postsuper = vstring_export(path);
    if ((pid = fork()) < 0)
	postfix_fatal("fork: %s", strerror(errno));
    if (pid == 0) {
	execl(postsuper, "postsuper", (char *) 0);
	fprintf(stderr, "postfix: fatal: execl %s: %s\n", postsuper, strerror(errno));
	_exit(1);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    postfix_fatal("waitpid: %s", strerror(errno));
    myfree(postsuper);
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1);
}

/* What a walk checks; nftw() passes no context, so it lives here. */
static uid_t want_uid;
static const char *want_name;
static int want_perms;			/* also warn about g+w, o+w */
static int skip_special;		/* sockets and FIFOs are not checked */

static int check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    struct stat target;

    (void) ftw;
    if (flag == FTW_NS)
	return (0);
    if (skip_special && (S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode)))
	return (0);
    if (st->st_uid != want_uid)
	postfix_say(MSG_WARN, "not owned by %s: %s", want_name, path);
    /* A symlink is judged by what it points to, as "find -L" does. */
    if (want_perms && stat(path, &target) == 0 && (target.st_mode & 022))
	postfix_say(MSG_WARN, "group or other writable: %s", path);
    return (0);
}

static void walk(const char *top, uid_t uid, const char *name, int perms, int special)
{
    want_uid = uid;
    want_name = name;
    want_perms = perms;
    skip_special = special;
    (void) nftw(top, check_one, 16, FTW_PHYS);
}

/* check_shallow - one path, not what is below it */
static void check_shallow(const char *path, uid_t uid, const char *name, int perms)
{
    struct stat st;

    if (lstat(path, &st) < 0)
	return;
    want_uid = uid;
    want_name = name;
    want_perms = perms;
    skip_special = 0;
    (void) check_one(path, &st, FTW_F, 0);
}

/* check_group - of setgid_group, and for commands set-gid and executable */
static void check_group(const char *path, int command)
{
    struct stat st;

    if (stat(path, &st) < 0)
	return;
    if (st.st_gid != setgid_gid)
	postfix_say(MSG_WARN, "not owned by group %s: %s", mail_conf_str(VAR_SETGID_GROUP), path);
    if (command && (st.st_mode & 02111) != 02111)
	postfix_say(MSG_WARN, "not set-gid or not owner+group+world executable: %s", path);
}

/* damaged_one - a file in corrupt/ */
static int damaged_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode))
	postfix_say(MSG_WARN, "damaged message: %s", path);
    return (0);
}

/* files_differ - two regular files with different contents */
static int files_differ(const char *a, const char *b)
{
    FILE   *fa = fopen(a, "r");
    FILE   *fb = fopen(b, "r");
    int     ca, cb;
    int     differ = 0;

    if (fa && fb) {
	do {
	    ca = getc(fa);
	    cb = getc(fb);
	} while (ca == cb && ca != EOF);
	differ = (ca != cb);
    }
    if (fa)
	fclose(fa);
    if (fb)
	fclose(fb);
    return (differ);
}

void    postfix_check_warn(void)
{
    const char *queue = mail_conf_str(VAR_QUEUE_DIRECTORY);
    const char *owner = mail_conf_str(VAR_MAIL_OWNER);
    VSTRING *path = vstring_alloc(100);
    VSTRING *top = vstring_alloc(100);
    const char *tops[2];

    identity();

    /* root's: the queue folder itself and pid/, the programs, the files. */
    vstring_sprintf(path, "%s/.", queue);
    check_shallow(vstring_str(path), 0, "root", 1);
    vstring_sprintf(path, "%s/pid", queue);
    check_shallow(vstring_str(path), 0, "root", 1);
    tops[0] = mail_conf_str(VAR_DAEMON_DIRECTORY);
    tops[1] = mail_conf_dir();
    for (size_t i = 0; i < COUNT(tops); i++) {
	vstring_sprintf(top, "%s/.", tops[i]);
	walk(vstring_str(top), 0, "root", 1, 0);
    }

    /* mail_owner's: data_directory, the queue folders, maildrop/ itself. */
    vstring_sprintf(top, "%s/.", mail_conf_str(VAR_DATA_DIRECTORY));
    walk(vstring_str(top), owner_uid, owner, 1, 0);
    for (size_t i = 0; i < COUNT(owner_dirs); i++) {
	vstring_sprintf(top, "%s/%s", queue, owner_dirs[i]);
	walk(vstring_str(top), owner_uid, owner, 0, 1);
    }
    vstring_sprintf(path, "%s/%s", queue, MAIL_QUEUE_MAILDROP);
    check_shallow(vstring_str(path), owner_uid, owner, 0);

    /* setgid_group's: the folders and commands that cross to it. */
    vstring_sprintf(path, "%s/postqueue", mail_conf_str(VAR_COMMAND_DIRECTORY));
    check_group(vstring_str(path), 1);
    vstring_sprintf(path, "%s/postdrop", mail_conf_str(VAR_COMMAND_DIRECTORY));
    check_group(vstring_str(path), 1);
    vstring_sprintf(path, "%s/public", queue);
    check_group(vstring_str(path), 0);
    vstring_sprintf(path, "%s/%s", queue, MAIL_QUEUE_MAILDROP);
    check_group(vstring_str(path), 0);

    /* Damaged messages, and another MTA's sendmail. */
    if (chdir(queue) == 0) {
	(void) nftw(MAIL_QUEUE_CORRUPT, damaged_one, 16, FTW_PHYS);
    }
    if (access("/usr/sbin/sendmail", F_OK) == 0 && access("/usr/lib/sendmail", F_OK) == 0
	&& files_differ("/usr/sbin/sendmail", "/usr/lib/sendmail")) {
	postfix_say(MSG_WARN, "/usr/lib/sendmail and /usr/sbin/sendmail differ");
	postfix_say(MSG_WARN, "Replace one by a symbolic link to the other");
    }
    vstring_free(path);
    vstring_free(top);
}

/* fix_one - a queue file or folder belongs to mail_owner */
static int fix_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) ftw;
    if (flag == FTW_NS || S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode))
	return (0);
    if (st->st_uid != owner_uid && lchown(path, owner_uid, (gid_t) -1) < 0)
	postfix_say(MSG_WARN, "chown %s: %s", path, strerror(errno));
    return (0);
}

void    postfix_set_permissions(void)
{
    const char *queue = mail_conf_str(VAR_QUEUE_DIRECTORY);
    const char *data = mail_conf_str(VAR_DATA_DIRECTORY);
    VSTRING *path = vstring_alloc(100);
    static const char *commands[] = {"postdrop", "postqueue"};

    identity();
    if (queue_dirs() < 0)
	postfix_fatal("unable to set the permissions of %s", queue);
    for (size_t i = 0; i < COUNT(owner_dirs); i++)
	(void) nftw(owner_dirs[i], fix_one, 16, FTW_PHYS);
    if (chown(data, owner_uid, owner_gid) < 0 || chmod(data, 0700) < 0)
	postfix_say(MSG_WARN, "set the owner and mode of %s: %s", data, strerror(errno));
    for (size_t i = 0; i < COUNT(commands); i++) {
	vstring_sprintf(path, "%s/%s", mail_conf_str(VAR_COMMAND_DIRECTORY), commands[i]);
	if (access(vstring_str(path), F_OK) < 0)
	    continue;
	if (chown(vstring_str(path), 0, setgid_gid) < 0
	    || chmod(vstring_str(path), 02555) < 0)
	    postfix_say(MSG_WARN, "set the owner and mode of %s: %s", vstring_str(path),
			strerror(errno));
    }
    vstring_free(path);
}
