/*
 * NAME
 *	local_alias - deliver to the expansion of an alias
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_deliver_alias(LOCAL_STATE *state);
 * DESCRIPTION
 *	local_deliver_alias() looks the local part (lower case) up in
 *	alias_maps, then, when it has an address extension, the user
 *	name without it. Not an alias: 0. An alias: its destinations are
 *	delivered (local_token.c) and the result is 1.
 *
 *	As in Postfix:
 *	- An address found in its own alias expansion is not an alias
 *	  there: "root: root, bob" delivers to root's mailbox and to bob.
 *	- Expansions nest at most LOCAL_MAX_LEVEL deep; deeper is taken
 *	  for an alias loop: "alias database loop for NAME" (warning and
 *	  bounce 5.4.6).
 *	- Files and commands of an alias are delivered with the rights of
 *	  the owner of the table file, default_privs when root owns it.
 *	- With owner_request_special, an alias "owner-NAME" makes
 *	  owner-NAME@$myorigin the envelope sender of the expansion (with
 *	  expand_owner_alias, the first address of the owner alias
 *	  instead); with reset_owner_alias, an alias without an owner of
 *	  its own goes back to the original sender. Mail with another
 *	  sender is delivered as a new message (local_forward.c).
 * DIAGNOSTICS
 *	A table that cannot be read defers the recipient: 4.3.0 "alias
 *	database unavailable", with Postfix's warning.
 * BUGS
 *	Regular expression tables in alias_maps substitute $1 and friends
 *	in their results; Postfix's local(8) turns that off.
 */
#include <sys/stat.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/argv.h"
#include "dict/dict.h"
#include "dict/maps.h"
#include "global/mail_conf.h"
#include "global/rfc822_list.h"
#include "local.h"

#define ALIAS_FOUND	1
#define ALIAS_NONE	0
#define ALIAS_ERROR	(-1)

/*
 * alias_find - the value of name in alias_maps, and the owner of the
 * table that has it (0 when root owns it or it has no file).
 */
static int alias_find(const char *name, char **value, uid_t *owner_uid, gid_t *owner_gid)
{
    MAPS   *maps = local_conf.alias_maps;
    const char *found;
    struct stat st;
    struct passwd *pw;

    *owner_uid = 0;
    *owner_gid = 0;
    if (maps == 0)
	return (ALIAS_NONE);
    for (size_t i = 0; i < maps->names->argc; i++) {
	DICT   *d = maps->dicts[i];

	if ((found = dict_get(d, name)) != 0) {
	    *value = mystrdup(found);
	    if (d->file && stat(d->file, &st) == 0 && st.st_uid != 0) {
		*owner_uid = st.st_uid;
		*owner_gid = (pw = getpwuid(st.st_uid)) != 0 ? pw->pw_gid : st.st_gid;
	    }
	    return (ALIAS_FOUND);
	}
	if (d->error != DICT_ERR_NONE) {
	    if (dict_error_text(d))
		msg_warn("%s is unavailable. %s", maps->names->argv[i], dict_error_text(d));
	    msg_warn("%s: lookup of '%s' failed", maps->names->argv[i], name);
	    return (ALIAS_ERROR);
	}
    }
    return (ALIAS_NONE);
}

/* owner_sender - the sender that an owner- alias of name gives, or NULL */
static int owner_sender(const char *name, VSTRING *sender)
{
    VSTRING *owner = vstring_alloc(64);
    char   *value = 0;
    uid_t   uid;
    gid_t   gid;
    int     found;

    vstring_sprintf(owner, "owner-%s", name);
    found = alias_find(vstring_str(owner), &value, &uid, &gid);
    if (found == ALIAS_FOUND) {
	ARGV   *list = mail_conf_bool(VAR_EXPAND_OWNER_ALIAS) ? rfc822_list_split(value) : 0;

	if (list && list->argc > 0)
	    local_canonical(sender, list->argv[0]);
	else
	    local_canonical(sender, vstring_str(owner));
	if (list)
	    argv_free(list);
    }
    myfree(value);
    vstring_free(owner);
    return (found);
}

int     local_deliver_alias(LOCAL_STATE *state)
{
    const char *names[2];
    int     count = 0;
    char   *value = 0;
    uid_t   uid;
    gid_t   gid;
    int     found = ALIAS_NONE;
    const char *name = 0;

    if (local_conf.alias_maps == 0)
	return (0);
    names[count++] = state->local;
    if (state->extension && strcmp(state->user, state->local) != 0)
	names[count++] = state->user;
    for (int i = 0; i < count && found == ALIAS_NONE; i++) {
	/* Found in its own expansion: deliver to the user instead. */
	if (state->exp_from && (state->exp_type & EXPAND_TYPE_ALIAS)
	    && strcasecmp(state->exp_from, names[i]) == 0)
	    return (0);
	name = names[i];
	found = alias_find(name, &value, &uid, &gid);
    }
    if (found == ALIAS_NONE)
	return (0);
    if (found == ALIAS_ERROR) {
	local_status_defer(state, "4.3.0", "alias database unavailable");
	return (1);
    }
    if (state->level > LOCAL_MAX_LEVEL) {
	msg_warn("alias database loop for %s", name);
	local_status_bounce(state, "5.4.6", 0, "alias database loop for %s", name);
	myfree(value);
	return (1);
    }

    /* The expansion: its rights, its sender, and where it came from. */
    {
	LOCAL_STATE child = *state;
	VSTRING *sender = vstring_alloc(64);
	char   *alias_name = mystrdup(name);

	child.exp_type = EXPAND_TYPE_ALIAS;
	child.exp_from = alias_name;
	memset(&child.usr, 0, sizeof(child.usr));
	child.usr.uid = uid;
	child.usr.gid = gid;
	if (mail_conf_bool(VAR_OWNER_REQUEST_SPECIAL) && strncasecmp(name, "owner-", 6) != 0) {
	    switch (owner_sender(name, sender)) {
	    case ALIAS_FOUND:
		child.sender = vstring_str(sender);
		child.sender_changed = 1;
		child.owner = alias_name;
		break;
	    case ALIAS_ERROR:
		local_status_defer(state, "4.3.0", "alias database unavailable");
		vstring_free(sender);
		myfree(alias_name);
		myfree(value);
		return (1);
	    default:
		if (mail_conf_bool(VAR_RESET_OWNER_ALIAS) && child.owner) {
		    child.sender = state->msg->req->sender;
		    child.sender_changed = 0;
		    child.owner = 0;
		}
		break;
	    }
	}
	(void) local_deliver_list(&child, value);
	vstring_free(sender);
	myfree(alias_name);
    }
    myfree(value);
    return (1);
}
