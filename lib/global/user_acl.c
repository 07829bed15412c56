/*
 * NAME
 *	user_acl - is a local user in a list of users
 * DESCRIPTION
 *	See user_acl.h.
 */
#include <pwd.h>

#include "util/vstring.h"
#include "global/mail_list.h"
#include "global/user_acl.h"

int     user_acl_check(const char *param, uid_t uid, VSTRING *name, VSTRING *why)
{
    struct passwd *pw;
    MATCH_LIST *list;
    int     ok;

    if ((pw = getpwuid(uid)) == 0) {
	vstring_sprintf(name, "%ld", (long) uid);
	vstring_sprintf(why, "unknown user ID %ld", (long) uid);
	return (-1);
    }
    vstring_strcpy(name, pw->pw_name);
    list = mail_list_create(param);
    if ((ok = match_list_string(list, vstring_str(name))) < 0)
	vstring_sprintf(why, "%s: %s", param, match_list_error(list));
    match_list_free(list);
    return (ok < 0 ? -1 : ok > 0);
}
