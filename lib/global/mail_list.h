/*
 * NAME
 *	mail_list - the match list that a main.cf parameter names
 * SYNOPSIS
 *	#include "global/mail_list.h"
 *
 *	MATCH_LIST *mail_list_create(const char *param_name);
 *	int mail_list_parent_flag(const char *param_name);
 * DESCRIPTION
 *	mail_list_create() parses the value of param_name (relay_domains,
 *	mynetworks, fast_flush_domains, ...) with match_list_create(), and
 *	makes it match subdomains of bare domains when param_name is listed
 *	in parent_domain_matches_subdomains, as Postfix does.
 *
 *	mail_list_parent_flag() is that decision alone: MATCH_LIST_PARENT
 *	or 0, for a list whose text does not come from its parameter.
 * SEE ALSO
 *	match_list(3), the list itself
 */
#ifndef MAIL_LIST_H
#define MAIL_LIST_H
#include "dict/match_list.h"

extern MATCH_LIST *mail_list_create(const char *);
extern int mail_list_parent_flag(const char *);

#endif
