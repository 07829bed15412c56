/*
 * NAME
 *	debug_peer - more logging for the peers of debug_peer_list
 * DESCRIPTION
 *	See debug_peer.h. The saved level lives here: one raise at a time.
 */
#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/debug_peer.h"

static MATCH_LIST *peer_list;		/* NULL: empty debug_peer_list */
static int peer_level;
static int saved_level = -1;		/* -1: not raised */

void    debug_peer_init(void)
{
    if (peer_list)
	return;
    peer_level = (int) mail_conf_int(VAR_DEBUG_PEER_LEVEL);
    if (*mail_conf_str(VAR_DEBUG_PEER_LIST))
	peer_list = mail_list_create(VAR_DEBUG_PEER_LIST);
}

int     debug_peer_check(const char *name, const char *addr)
{
    int     m;

    if (saved_level >= 0)
	return (1);
    if (peer_list == 0 || name == 0)
	return (0);
    if ((m = match_list_client(peer_list, name, addr ? addr : "")) < 0) {
	msg_warn("%s: %s", VAR_DEBUG_PEER_LIST, match_list_error(peer_list));
	return (0);
    }
    if (m == 0)
	return (0);
    saved_level = msg_verbose;
    msg_verbose += peer_level;
    return (1);
}

void    debug_peer_restore(void)
{
    if (saved_level >= 0) {
	msg_verbose = saved_level;
	saved_level = -1;
    }
}
