/*
 * NAME
 *	addr_canon - an address in canonical form
 * DESCRIPTION
 *	See addr_canon.h.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/addr_canon.h"

struct ADDR_CANON {
    int     swap_bangpath;
    int     percent_hack;
    int     dequoted;			/* resolve_dequoted_address */
    int     append_at_myorigin;
    int     append_dot_mydomain;
    char   *myorigin;
    char   *mydomain;
    VSTRING *work;
};

ADDR_CANON *addr_canon_create(void)
{
    ADDR_CANON *ac = mymalloc(sizeof(*ac));

    ac->swap_bangpath = mail_conf_bool(VAR_SWAP_BANGPATH);
    ac->percent_hack = mail_conf_bool(VAR_ALLOW_PERCENT_HACK);
    ac->dequoted = mail_conf_bool(VAR_RESOLVE_DEQUOTED_ADDRESS);
    ac->append_at_myorigin = mail_conf_bool(VAR_APPEND_AT_MYORIGIN);
    ac->append_dot_mydomain = mail_conf_bool(VAR_APPEND_DOT_MYDOMAIN);
    ac->myorigin = mystrdup(mail_conf_str(VAR_MYORIGIN));
    ac->mydomain = mystrdup(mail_conf_str(VAR_MYDOMAIN));
    ac->work = vstring_alloc(100);
    return (ac);
}

void    addr_canon_free(ADDR_CANON *ac)
{
    myfree(ac->myorigin);
    myfree(ac->mydomain);
    vstring_free(ac->work);
    myfree(ac);
}

void    addr_canon(ADDR_CANON *ac, VSTRING *addr, const char *domain)
{
    char   *cp = vstring_str(addr);
    char   *at;
    char   *bang;

    if (*cp == 0)
	return;
    at = strrchr(cp, '@');
    if (at == 0 && ac->swap_bangpath && (bang = strchr(cp, '!')) != 0 && bang > cp
	&& bang[1]) {
	/* site!user -> user@site */
	vstring_sprintf(ac->work, "%s@%.*s", bang + 1, (int) (bang - cp), cp);
	vstring_strcpy(addr, vstring_str(ac->work));
    } else if (at == 0 && ac->percent_hack && (at = strrchr(cp, '%')) != 0) {
	*at = '@';
    }
    cp = vstring_str(addr);
    if ((at = strrchr(cp, '@')) == 0) {
	if (domain)
	    vstring_sprintf_append(addr, "@%s", domain);
	else if (ac->append_at_myorigin && *ac->myorigin)
	    vstring_sprintf_append(addr, "@%s", ac->myorigin);
	return;
    }
    if (ac->append_dot_mydomain && *ac->mydomain && at[1] && at[1] != '['
	&& strchr(at + 1, '.') == 0)
	vstring_sprintf_append(addr, ".%s", ac->mydomain);
}

int     addr_canon_routed(ADDR_CANON *ac, const char *local, size_t len)
{
    return ((ac->dequoted && memchr(local, '@', len) != 0)
	    || (ac->swap_bangpath && memchr(local, '!', len) != 0)
	    || (ac->percent_hack && memchr(local, '%', len) != 0));
}
