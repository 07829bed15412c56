/*
 * NAME
 *	local_token - deliver to a list of destinations
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_deliver_list(LOCAL_STATE *state, const char *text);
 *	int local_deliver_stream(LOCAL_STATE *state, VSTREAM *fp,
 *				 const char *path);
 * DESCRIPTION
 *	local_deliver_list() delivers to each destination of an alias
 *	value or a line of a .forward or :include: file (rfc822_list(3)
 *	splits it): "|command" (local_command.c), "/file/name"
 *	(local_file.c), ":include:/file/name" (local_include.c), or an
 *	address (local_resolve.c). state describes where the list came
 *	from (its expansion type, rights and sender). It returns the
 *	number of destinations.
 *
 *	local_deliver_stream() does that for each line of a file, after
 *	skipping empty lines and lines that start with "#"; lines are read
 *	in pieces of at most line_length_limit bytes, as Postfix does.
 * DIAGNOSTICS
 *	A read error defers the recipient: 4.3.0 "error reading PATH".
 */
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/argv.h"
#include "global/mail_conf.h"
#include "global/rfc822_list.h"
#include "local.h"

int     local_deliver_list(LOCAL_STATE *state, const char *text)
{
    ARGV   *list = rfc822_list_split(text);
    int     count = (int) list->argc;

    for (size_t i = 0; i < list->argc; i++) {
	const char *dest = list->argv[i];

	if (*dest == '|')
	    local_deliver_command(state, dest + 1, 0);
	else if (*dest == '/')
	    local_deliver_file(state, dest);
	else if (strncasecmp(dest, ":include:", 9) == 0)
	    local_deliver_include(state, dest + 9);
	else
	    local_deliver_address(state, dest);
    }
    argv_free(list);
    return (count);
}

int     local_deliver_stream(LOCAL_STATE *state, VSTREAM *fp, const char *path)
{
    VSTRING *line = vstring_alloc(256);
    long    limit = mail_conf_int(VAR_LINE_LENGTH_LIMIT);
    int     count = 0;
    int     kind;

    if (limit < 256)
	limit = 256;
    while ((kind = vstream_get_line(fp, line, (size_t) limit)) != VSTREAM_EOF) {
	char   *cp = vstring_str(line) + strspn(vstring_str(line), " \t\r");

	if (*cp == 0 || *cp == '#')
	    continue;
	count += local_deliver_list(state, cp);
    }
    if (vstream_ferror(fp)) {
	local_status_defer(state, "4.3.0", "error reading %s", path);
	count = -1;
    }
    vstring_free(line);
    return (count);
}
