/*
 * NAME
 *	user_acl - is a local user in a list of users
 * SYNOPSIS
 *	#include "global/user_acl.h"
 *
 *	int user_acl_check(const char *param, uid_t uid, VSTRING *name,
 *			   VSTRING *why);
 * DESCRIPTION
 *	For authorized_submit_users (sendmail, postdrop) and the like:
 *	the login name of uid is looked up in the list that the
 *	parameter names (names, type:table, static:anyone, "!" to
 *	exclude), as Postfix's commands do. name receives the login
 *	name, for the caller's message.
 *
 *	Returns 1 when the user is in the list, 0 when not, -1 when the
 *	user ID has no name or a table cannot be read (why says so).
 * SEE ALSO
 *	match_list(3), postconf(5) authorized_submit_users
 */
#ifndef USER_ACL_H
#define USER_ACL_H
#include <sys/types.h>
#include "util/vstring.h"

extern int user_acl_check(const char *, uid_t, VSTRING *, VSTRING *);

#endif
