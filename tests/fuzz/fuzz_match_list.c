/*
 * NAME
 *	fuzz_match_list - libFuzzer target for domain and network lists
 * DESCRIPTION
 *	The first line of the input is a list (as in relay_domains or
 *	mynetworks); each further line is a query: a domain for
 *	match_list_domain() and a "name address" pair for
 *	match_list_client(). Inputs that would open files (/file/name
 *	items, file-based table types) are skipped: the table parsers
 *	have their own targets, and a fuzzer must not read /dev/zero.
 *	Every answer must be 1, 0 or -1, and -1 must come with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/match_list.h"
#include "util/mymalloc.h"
#include "util/stringops.h"

static int opens_files(const char *text)
{
    static const char *file_types[] = {
	"hash:", "btree:", "texthash:", "pcre:", "cidr:", 0,
    };

    for (const char **tp = file_types; *tp; tp++)
	if (strstr(text, *tp))
	    return (1);
    for (const char *cp = text; (cp = strchr(cp, '/')) != 0; cp++)
	if (cp == text || strchr(", \t\r\n!{", cp[-1]))
	    return (1);
    return (0);
}

static void check(MATCH_LIST *list, int rc)
{
    if (rc < -1 || rc > 1 || (rc == -1 && *match_list_error(list) == 0))
	abort();
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = mystrndup((const char *) data, size);
    char   *nl = strchr(text, '\n');
    char    default_query[] = "example.com 192.0.2.1";
    char   *queries = nl ? nl + 1 : default_query;
    MATCH_LIST *lists[2];
    char   *line;

    if (nl)
	*nl = 0;
    if (opens_files(text)) {
	myfree(text);
	return (0);
    }
    lists[0] = match_list_create("fuzz", text, MATCH_LIST_PARENT);
    lists[1] = match_list_create("fuzz", text, 0);
    while ((line = mystrtok(&queries, "\n")) != 0) {
	char   *addr = strchr(line, ' ');

	if (addr)
	    *addr++ = 0;
	for (int i = 0; i < 2; i++) {
	    check(lists[i], match_list_domain(lists[i], line));
	    check(lists[i], match_list_string(lists[i], line));
	    check(lists[i], match_list_client(lists[i], line, addr ? addr : line));
	}
    }
    match_list_free(lists[0]);
    match_list_free(lists[1]);
    myfree(text);
    return (0);
}
