/*
 * NAME
 *	mail_conf_checkdir - which configuration folder a command may read
 * DESCRIPTION
 *	See mail_conf_checkdir.h. The default main.cf is read into the
 *	parameter table (its raw text is what counts, as in Postfix),
 *	then the table is reset before the chosen main.cf is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_conf_checkdir.h"

#ifndef DEF_CONFIG_DIR
#define DEF_CONFIG_DIR	"/etc/postfix"
#endif

/* listed - is dir an item of the raw value of a parameter? */
static int listed(const char *param, const char *dir)
{
    const char *raw = mail_conf_raw(param);
    char   *copy;
    char   *bp;
    char   *item;
    int     found = 0;

    if (raw == 0)
	return (0);
    bp = copy = mystrdup(raw);
    while (!found && (item = mystrtok(&bp, ", \t\r\n")) != 0)
	found = strcmp(item, dir) == 0;
    myfree(copy);
    return (found);
}

void    mail_conf_checkdir(const char *dir, int status)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int     found;

    if (strcmp(dir, DEF_CONFIG_DIR) == 0)
	return;
    vstring_sprintf(path, "%s/main.cf", DEF_CONFIG_DIR);
    if (access(vstring_str(path), R_OK) < 0)
	msg_fatal_status(status, "open file %s: %s", vstring_str(path), strerror(errno));
    mail_conf_reset();
    if (mail_conf_read_file(vstring_str(path), why) < 0)
	msg_fatal_status(status, "%s", vstring_str(why));
    found = listed(VAR_ALTERNATE_CONFIG_DIRECTORIES, dir)
	|| listed(VAR_MULTI_INSTANCE_DIRECTORIES, dir);
    mail_conf_reset();
    if (!found) {
	msg_error("unauthorized configuration directory name: %s", dir);
	msg_fatal_status(status, "specify \"%s = %s\" or \"%s = %s\" in %s",
			 VAR_ALTERNATE_CONFIG_DIRECTORIES, dir,
			 VAR_MULTI_INSTANCE_DIRECTORIES, dir, vstring_str(path));
    }
    vstring_free(path);
    vstring_free(why);
}

void    mail_conf_read_checked(const char *cmdline_dir, int status)
{
    const char *env = getenv("MAIL_CONFIG");
    int     set_id = getuid() != geteuid() || getgid() != getegid();

    if (cmdline_dir) {
	if (getuid() != 0)
	    mail_conf_checkdir(cmdline_dir, status);
    } else if (env && *env && set_id && geteuid() != 0) {
	mail_conf_checkdir(env, status);
    }
    mail_conf_read(cmdline_dir);
}
