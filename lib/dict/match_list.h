/*
 * NAME
 *	match_list - main.cf lists of domains and of client networks
 * SYNOPSIS
 *	#include "dict/match_list.h"
 *
 *	MATCH_LIST *match_list_create(const char *param_name,
 *				      const char *text, int flags);
 *	int match_list_domain(MATCH_LIST *list, const char *domain);
 *	int match_list_client(MATCH_LIST *list, const char *name,
 *			      const char *addr);
 *	int match_list_string(MATCH_LIST *list, const char *string);
 *	const char *match_list_error(MATCH_LIST *list);
 *	int match_list_changed(MATCH_LIST *list);
 *	void match_list_free(MATCH_LIST *list);
 * DESCRIPTION
 *	A list is the value of a main.cf parameter such as relay_domains,
 *	mynetworks or fast_flush_domains: items separated by commas and/or
 *	white space ("{...}" keeps an item such as "inline:{a, b}" whole),
 *	tried left to right; the first item that matches decides. An item
 *	is
 *
 *	literal		a domain ("example.com", ".example.com"), a host
 *			name, an address ("192.0.2.1", "[2001:db8::1]"),
 *			or a network ("10.0.0.0/8", "[::1]/128",
 *			"[fd00::]/64"; bare IPv6 forms are accepted too);
 *	/file/name	replaced by the items in the file (same syntax,
 *			"#" comment lines, continuation lines);
 *	type:table	matched when the key is in the table (the value
 *			is ignored), opened with dict_open();
 *	!item		the same, negated: when it matches, the answer is
 *			"no match" and the search stops ("!/file/name"
 *			negates every item of the file).
 *
 *	match_list_create() parses text (the parameter's value, already
 *	expanded; NULL means empty) once. param_name names the list in
 *	messages. With MATCH_LIST_PARENT in flags, "example.com" matches
 *	"example.com" and every subdomain, and a table is also asked for
 *	each parent domain ("sub.example.com", then "example.com", then
 *	"com"). Otherwise only an item with a leading dot matches
 *	subdomains (".example.com") and tables are asked for
 *	".example.com", ".com". Parent keys are asked of fixed-key tables
 *	only (a pattern table such as pcre: gets the whole name once).
 *	Lists named by a main.cf parameter are made with mail_list(3),
 *	which decides the flag from parent_domain_matches_subdomains.
 *
 *	match_list_domain() matches a domain (host name) case-insensitively.
 *	match_list_client() is Postfix's "namadr" list: each item is tried
 *	against the client host name (as a domain) and then the client
 *	address (exact, "[addr]", or net/mask; an IPv4-mapped IPv6 address
 *	is compared as IPv4). match_list_string() compares whole strings
 *	(case-insensitive) and asks tables for the string as is.
 *
 *	match_list_changed() says whether a table of the list changed
 *	since it was opened (dict_changed()), so that a long-running
 *	process can exit after its current request and let the next
 *	process read the new table, as Postfix daemons do.
 * DIAGNOSTICS
 *	The match functions return 1 (match), 0 (no match, or matched a
 *	"!" item) or -1: the answer could not be found (a table lookup
 *	failed, a /file/name could not be read, a network item is
 *	malformed, nothing after "!", files nested too deep).
 *	Callers must treat -1 as a temporary failure (451 4.3.0, defer),
 *	never as "no match"; match_list_error() then tells why. Problems
 *	found while parsing are logged once as warnings naming the list;
 *	the bad item fails only when a search reaches it, as in Postfix,
 *	where items before it still answer.
 * SEE ALSO
 *	dict(3), reference/postfix-facts.md section 1
 */
#ifndef MATCH_LIST_H
#define MATCH_LIST_H

#define MATCH_LIST_PARENT	(1<<0)	/* bare domains match subdomains */

typedef struct MATCH_LIST MATCH_LIST;

extern MATCH_LIST *match_list_create(const char *, const char *, int);
extern int match_list_domain(MATCH_LIST *, const char *);
extern int match_list_client(MATCH_LIST *, const char *, const char *);
extern int match_list_string(MATCH_LIST *, const char *);
extern const char *match_list_error(MATCH_LIST *);
extern int match_list_changed(MATCH_LIST *);
extern void match_list_free(MATCH_LIST *);

#endif
