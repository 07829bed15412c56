/*
 * NAME
 *	local_resolve - deliver to an address found in an expansion
 * SYNOPSIS
 *	#include "local.h"
 *
 *	void local_deliver_address(LOCAL_STATE *state, const char *address);
 *	void local_canonical(VSTRING *out, const char *address);
 * DESCRIPTION
 *	local_canonical() gives an address without a domain the domain
 *	$myorigin ("bob" is bob@$myorigin), as Postfix's address
 *	rewriting does.
 *
 *	local_deliver_address() sends an address that an alias, a
 *	.forward or an :include: file named where Postfix's local agent
 *	sends it:
 *
 *	- an address of an alias that this agent delivers (the router
 *	  gives it our transport) is delivered here and now, one level
 *	  deeper: its own aliases, .forward and mailbox;
 *	- the .forward owner's own address, named in the .forward, goes
 *	  to the owner's mailbox;
 *	- everything else (other domains, and local addresses named in a
 *	  .forward or :include: file) is forwarded: it becomes a
 *	  recipient of a new message (local_forward.c), so that each
 *	  recipient has its own delivery status in the queue.
 * DIAGNOSTICS
 *	A routing table that cannot be read defers the recipient (4.3.0
 *	"address resolver failure").
 */
#include <string.h>
#include <strings.h>
#include <pwd.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/resolve.h"
#include "local.h"

void    local_canonical(VSTRING *out, const char *address)
{
    if (strrchr(address, '@') != 0)
	vstring_strcpy(out, address);
    else
	vstring_sprintf(out, "%s@%s", address, local_conf.myorigin);
}

/* is_ours - does the router send this address to this agent? 1, 0, -1 */
static int is_ours(const char *sender, const char *address)
{
    RESOLVE_REPLY *reply = resolve_reply_alloc();
    int     ret;

    if (resolve_addr(sender, address, reply) != RESOLVE_OK)
	ret = -1;
    else
	ret = strcmp(vstring_str(reply->transport), local_conf.service) == 0;
    resolve_reply_free(reply);
    return (ret);
}

/* deliver_own_mailbox - the .forward owner named in the .forward */
static void deliver_own_mailbox(LOCAL_STATE *child)
{
    struct passwd *pw;
    struct passwd copy;

    if ((pw = getpwnam(child->user)) == 0) {
	local_deliver_recipient(child);
	return;
    }
    copy = *pw;
    copy.pw_name = mystrdup(pw->pw_name);
    copy.pw_dir = mystrdup(pw->pw_dir);
    copy.pw_shell = mystrdup(pw->pw_shell);
    local_deliver_mailbox(child, &copy);
    myfree(copy.pw_name);
    myfree(copy.pw_dir);
    myfree(copy.pw_shell);
}

void    local_deliver_address(LOCAL_STATE *state, const char *address)
{
    VSTRING *canon = vstring_alloc(100);
    LOCAL_STATE child;
    int     ours;

    local_canonical(canon, address);
    if ((ours = is_ours(state->sender, vstring_str(canon))) < 0) {
	local_status_defer(state, "4.3.0", "address resolver failure");
	vstring_free(canon);
	return;
    }
    if (ours) {
	local_state_child(&child, state, vstring_str(canon));
	local_state_split(&child);
	if (state->exp_type == EXPAND_TYPE_ALIAS) {
	    local_state_free(&child);
	    local_deliver_recipient(&child);
	    local_state_free(&child);
	    vstring_free(canon);
	    return;
	}
	if (state->exp_type == EXPAND_TYPE_FWD && state->exp_from
	    && strcmp(child.user, state->exp_from) == 0) {
	    deliver_own_mailbox(&child);
	    local_state_free(&child);
	    vstring_free(canon);
	    return;
	}
	local_state_free(&child);
    }
    local_forward_append(state, vstring_str(canon), 0);
    vstring_free(canon);
}
