/*
 * NAME
 *	local_recipient - what one local address means
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_recipient(LOCAL_STATE *state);
 *	void local_state_split(LOCAL_STATE *state);
 *	void local_state_child(LOCAL_STATE *child, const LOCAL_STATE *parent,
 *			       const char *address);
 *	void local_state_free(LOCAL_STATE *state);
 *	const char *local_attr_lookup(const char *name, void *state);
 * DESCRIPTION
 *	local_deliver_recipient() delivers one address, in Postfix's
 *	order:
 *
 *	1. A request recipient that the message already names in a
 *	   Delivered-To: header is a forwarding loop: it bounces (5.4.6
 *	   "mail forwarding loop for ADDR").
 *	2. Aliases (local_alias.c), unless the address came from its own
 *	   alias.
 *	3. For a user of the passwd database: require_home_directory,
 *	   then ~/.forward (local_dotforward.c), unless the address came
 *	   from the user's own .forward; then the mailbox
 *	   (local_mailbox.c).
 *	4. Anyone else: luser_relay when it is set (the address is sent
 *	   there), else a bounce: 5.1.1 'unknown user: "name"'.
 *
 *	Decisions use the local part folded to lower case, and, with
 *	recipient_delimiter, the user name without its extension
 *	(local_state_split: "Joe+Ext@Host" is user "joe", extension
 *	"ext", domain "host"; owner-list and list-request keep their
 *	names when the delimiter is "-" and owner_request_special is on).
 *
 *	local_state_child() starts the state of an address that another
 *	one expanded to: the same request recipient, one level deeper.
 *
 *	local_attr_lookup() is the table of $name values for templates
 *	(forward_path, luser_relay, command_execution_directory): user,
 *	home, shell, recipient, extension, domain, local, mailbox and
 *	recipient_delimiter (the delimiter found in the address).
 */
#include <sys/stat.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/htable.h"
#include "util/stringops.h"
#include "util/mac_expand.h"
#include "global/mail_conf.h"
#include "global/mail_addr.h"
#include "local.h"

void    local_state_split(LOCAL_STATE *state)
{
    VSTRING *local = vstring_alloc(64);
    VSTRING *domain = vstring_alloc(64);
    VSTRING *user = vstring_alloc(64);
    VSTRING *ext = vstring_alloc(64);
    const char *delims = local_conf.delimiter;

    mail_addr_split(state->address, local, domain);
    lowercase(vstring_str(local));
    lowercase(vstring_str(domain));
    state->local = mystrdup(vstring_str(local));
    state->domain = mystrdup(vstring_str(domain));

    /* owner-list and list-request are names, not extensions. */
    if (!mail_conf_bool(VAR_OWNER_REQUEST_SPECIAL) && *delims) {
	const char *cp = state->local + strcspn(state->local, delims);

	if (*cp && cp > state->local) {
	    vstring_strncpy(user, state->local, cp - state->local);
	    vstring_strcpy(ext, cp + 1);
	    state->delim = *cp;
	} else {
	    vstring_strcpy(user, state->local);
	    vstring_reset(ext);
	    state->delim = 0;
	}
    } else {
	state->delim = *delims ? mail_addr_split_ext(state->local, delims, user, ext) : 0;
	if (!*delims)
	    vstring_strcpy(user, state->local);
    }
    state->user = mystrdup(vstring_str(user));
    state->extension = state->delim ? mystrdup(vstring_str(ext)) : 0;
    vstring_free(local);
    vstring_free(domain);
    vstring_free(user);
    vstring_free(ext);
}

void    local_state_free(LOCAL_STATE *state)
{
    myfree(state->local);
    myfree(state->user);
    myfree(state->extension);
    myfree(state->domain);
    state->local = state->user = state->extension = state->domain = 0;
}

void    local_state_child(LOCAL_STATE *child, const LOCAL_STATE *parent,
			          const char *address)
{
    *child = *parent;
    child->level = parent->level + 1;
    child->address = address;
    child->local = child->user = child->extension = child->domain = 0;
    child->delim = 0;
    if (!mail_conf_bool(VAR_FROZEN_DELIVERED_TO))
	child->delivered = address;
}

const char *local_attr_lookup(const char *name, void *context)
{
    LOCAL_STATE *state = context;
    static char delim[2];

    if (strcmp(name, "user") == 0)
	return (state->user);
    if (strcmp(name, "home") == 0)
	return (state->usr.home);
    if (strcmp(name, "shell") == 0)
	return (state->usr.shell);
    if (strcmp(name, "recipient") == 0)
	return (state->address);
    if (strcmp(name, "extension") == 0)
	return (state->extension);
    if (strcmp(name, "domain") == 0)
	return (state->domain);
    if (strcmp(name, "local") == 0 || strcmp(name, "mailbox") == 0)
	return (state->local);
    if (strcmp(name, "recipient_delimiter") == 0) {
	delim[0] = (char) state->delim;
	delim[1] = 0;
	return (delim);
    }
    return (0);
}

/* deliver_unknown - not an alias and not a user: luser_relay, or bounce */
static void deliver_unknown(LOCAL_STATE *state)
{
    const char *relay = mail_conf_raw(VAR_LUSER_RELAY);
    VSTRING *target;

    if (relay == 0)
	relay = mail_conf_default(VAR_LUSER_RELAY);
    if (*relay == 0) {
	local_status_bounce(state, "5.1.1", 0, "unknown user: \"%s\"", state->user);
	return;
    }
    target = vstring_alloc(100);
    if (mac_expand(target, relay, (char *) 0, local_attr_lookup, state) & MAC_EXPAND_ERROR) {
	msg_warn("%s: bad syntax: \"%s\"", VAR_LUSER_RELAY, relay);
	local_status_defer(state, "4.3.5", "mail system configuration error");
    } else {
	local_forward_append(state, vstring_str(target), 0);
    }
    vstring_free(target);
}

/* deliver_user - a user of the passwd database: home, .forward, mailbox */
static void deliver_user(LOCAL_STATE *state, const struct passwd *pw)
{
    struct stat st;

    if (mail_conf_bool(VAR_REQUIRE_HOME_DIRECTORY)) {
	int     err;

	local_privs_set(pw->pw_uid, pw->pw_gid);
	err = stat(pw->pw_dir, &st) < 0 ? errno : 0;
	local_privs_restore();
	if (err != 0) {
	    local_status_defer(state, "4.3.0", "cannot access home directory %s: %s",
			       pw->pw_dir, strerror(err));
	    return;
	}
    }
    if (local_deliver_dotforward(state, pw))
	return;
    local_deliver_mailbox(state, pw);
}

void    local_deliver_recipient(LOCAL_STATE *state)
{
    struct passwd *pw;
    struct passwd copy;

    local_state_split(state);

    /* Mail that was delivered to this address before is in a loop. */
    if (state->level == 0) {
	if (delivered_hdr_find(state->msg->hdr, state->address)) {
	    local_status_bounce(state, "5.4.6", 0, "mail forwarding loop for %s",
				state->address);
	    return;
	}
    }
    if (local_deliver_alias(state))
	return;

    errno = 0;
    if ((pw = getpwnam(state->user)) == 0) {
	if (errno != 0 && errno != ENOENT && errno != ESRCH) {
	    local_status_defer(state, "4.3.0", "user lookup error: %s", strerror(errno));
	    return;
	}
	deliver_unknown(state);
	return;
    }
    /* Our own copy: deeper deliveries look up other users. */
    copy = *pw;
    copy.pw_name = mystrdup(pw->pw_name);
    copy.pw_dir = mystrdup(pw->pw_dir);
    copy.pw_shell = mystrdup(pw->pw_shell);
    copy.pw_passwd = (char *) "";
    copy.pw_gecos = (char *) "";
    deliver_user(state, &copy);
    myfree(copy.pw_name);
    myfree(copy.pw_dir);
    myfree(copy.pw_shell);
}
