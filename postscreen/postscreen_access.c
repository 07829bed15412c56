/*
 * NAME
 *	postscreen_access - postscreen_access_list
 * SYNOPSIS
 *	#include "postscreen.h"
 *
 *	void psc_access_init(void);
 *	void psc_access_watch(void);
 *	int psc_access_interface(const char *server_addr);
 *	int psc_access(const char *addr);
 * DESCRIPTION
 *	postscreen_access_list is a list of permit_mynetworks and
 *	type:table items (cidr: tables as a rule), tried left to right
 *	with the client address. permit_mynetworks permits a client in
 *	mynetworks; a table answer "permit" permits, "reject" rejects,
 *	"dunno" goes on with the next item (case does not matter; text
 *	after the first word is ignored). The first item that permits or
 *	rejects decides; otherwise the answer is PSC_ACL_DUNNO.
 *
 *	psc_access_init() parses the list and opens its tables (as root,
 *	before the chroot). psc_access_watch() (after the chroot) makes
 *	postscreen restart at the next connection when one of them changes
 *	on disk (mail_server(3)); a table that the chroot hides is not
 *	watched.
 *
 *	psc_access_interface() says whether server_addr, the address a
 *	client connected to, is in postscreen_allowlist_interfaces (the
 *	addresses where clients may earn a cache entry).
 * DIAGNOSTICS
 *	Fatal: an item that is neither permit_mynetworks nor type:table.
 *	A table that cannot be read, or mynetworks that cannot be matched,
 *	is logged as a warning and the rest of the list is skipped
 *	(PSC_ACL_DUNNO: the client is tested as anyone else). An answer
 *	that is no action is logged and skipped.
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dict/maps.h"
#include "dict/match_list.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"
#include "global/mail_server.h"
#include "postscreen.h"

typedef struct PSC_ACL_ITEM {
    char   *name;			/* as configured */
    MAPS   *maps;			/* NULL: permit_mynetworks */
} PSC_ACL_ITEM;

static PSC_ACL_ITEM *acl;
static size_t acl_count;
static MATCH_LIST *mynetworks;
static MATCH_LIST *interfaces;		/* postscreen_allowlist_interfaces */

void    psc_access_init(void)
{
    ARGV   *items = argv_split_list(mail_conf_str(VAR_POSTSCREEN_ACCESS_LIST));

    acl = mycalloc(items->argc + 1, sizeof(*acl));
    for (size_t i = 0; i < items->argc; i++) {
	const char *item = items->argv[i];

	acl[acl_count].name = mystrdup(item);
	if (strcasecmp(item, "permit_mynetworks") == 0) {
	    if (mynetworks == 0)
		mynetworks = mail_list_create(VAR_MYNETWORKS);
	} else if (strchr(item, ':') != 0) {
	    acl[acl_count].maps = maps_create(VAR_POSTSCREEN_ACCESS_LIST, item, DICT_FLAG_DEFAULT);
	} else {
	    msg_fatal("%s: unknown element: %s", VAR_POSTSCREEN_ACCESS_LIST, item);
	}
	acl_count++;
    }
    argv_free(items);
    interfaces = match_list_create(VAR_POSTSCREEN_ALLOWLIST_INTERFACES,
				   mail_conf_str(VAR_POSTSCREEN_ALLOWLIST_INTERFACES), 0);
}

/*
 * psc_access_interface - may a client earn a cache entry on this server
 * address? A list that cannot be searched says no (the client is
 * tested, and told to try again later).
 */
int     psc_access_interface(const char *server_addr)
{
    int     m = match_list_client(interfaces, "", server_addr);

    if (m < 0)
	msg_warn("%s: %s", VAR_POSTSCREEN_ALLOWLIST_INTERFACES,
		 match_list_error(interfaces) ? match_list_error(interfaces) : "lookup error");
    return (m > 0);
}

/*
 * psc_access_watch - after the chroot: restart when a table changes. A
 * table file that the chroot hides cannot be watched (it would look
 * gone): a change to it needs "postfix reload".
 */
void    psc_access_watch(void)
{
    if (mynetworks && !match_list_changed(mynetworks))
	mail_server_watch((int (*) (void *)) match_list_changed, mynetworks);
    for (size_t i = 0; i < acl_count; i++)
	if (acl[i].maps && !maps_changed(acl[i].maps))
	    mail_server_watch((int (*) (void *)) maps_changed, acl[i].maps);
}

int     psc_access(const char *addr)
{
    for (size_t i = 0; i < acl_count; i++) {
	PSC_ACL_ITEM *item = acl + i;
	const char *value;
	char   *copy;
	char   *cp;
	char   *word;
	int     ret = PSC_ACL_DUNNO;

	if (item->maps == 0) {
	    int     m = match_list_client(mynetworks, "", addr);

	    if (m < 0) {
		msg_warn("%s: %s: %s -- ignoring the remainder of this access list",
			 VAR_POSTSCREEN_ACCESS_LIST, item->name,
			 match_list_error(mynetworks) ? match_list_error(mynetworks) : "lookup error");
		return (PSC_ACL_DUNNO);
	    }
	    if (m > 0)
		return (PSC_ACL_PERMIT);
	    continue;
	}
	if ((value = maps_find(item->maps, addr, 0)) == 0) {
	    if (item->maps->error) {
		msg_warn("%s: %s: table lookup error -- ignoring the remainder of this access list",
			 VAR_POSTSCREEN_ACCESS_LIST, item->name);
		return (PSC_ACL_DUNNO);
	    }
	    continue;
	}
	cp = copy = mystrdup(value);
	word = mystrtok(&cp, " \t,");
	if (word == 0 || strcasecmp(word, "dunno") == 0)
	    ret = PSC_ACL_DUNNO;
	else if (strcasecmp(word, "permit") == 0)
	    ret = PSC_ACL_PERMIT;
	else if (strcasecmp(word, "reject") == 0)
	    ret = PSC_ACL_REJECT;
	else
	    msg_warn("%s: %s: unknown command: %s", VAR_POSTSCREEN_ACCESS_LIST, item->name, word);
	myfree(copy);
	if (ret != PSC_ACL_DUNNO)
	    return (ret);
    }
    return (PSC_ACL_DUNNO);
}
