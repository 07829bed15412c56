/*
 * NAME
 *	maillog - the maillog_file parameter, checked
 * DESCRIPTION
 *	See maillog.h.
 */
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "global/mail_conf.h"
#include "global/maillog.h"

const char *maillog_file(void)
{
    const char *file = mail_conf_str(VAR_MAILLOG_FILE);
    char   *prefixes;
    char   *bp;
    char   *prefix;
    int     ok = 0;

    if (*file == 0)
	return (file);
    bp = prefixes = mystrdup(mail_conf_str(VAR_MAILLOG_FILE_PREFIXES));
    while (!ok && (prefix = mystrtok_list(&bp)) != 0)
	ok = (strncmp(file, prefix, strlen(prefix)) == 0);
    myfree(prefixes);
    if (!ok)
	msg_fatal("maillog_file value '%s' does not match any prefix in %s",
		  file, VAR_MAILLOG_FILE_PREFIXES);
    return (file);
}
