/*
 * NAME
 *	mail_list - the match list that a main.cf parameter names
 * DESCRIPTION
 *	See mail_list.h.
 */
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/mail_list.h"

int     mail_list_parent_flag(const char *param_name)
{
    return (string_list_has(mail_conf_str(VAR_PARENT_DOMAIN_MATCHES_SUBDOMAINS),
			    param_name) ? MATCH_LIST_PARENT : 0);
}

MATCH_LIST *mail_list_create(const char *param_name)
{
    return (match_list_create(param_name, mail_conf_str(param_name),
			      mail_list_parent_flag(param_name)));
}
