/*
 * NAME
 *	info_log_addr - an address as the log shows it
 * DESCRIPTION
 *	See info_log_addr.h. The parameter is read once per process.
 */
#include <strings.h>

#include "util/msg.h"
#include "global/mail_addr.h"
#include "global/mail_conf.h"
#include "global/info_log_addr.h"

const char *info_log_addr(VSTRING *buf, const char *addr)
{
    static int external = -1;

    if (external < 0) {
	const char *how = mail_conf_str(VAR_INFO_LOG_ADDRESS_FORMAT);

	if (strcasecmp(how, "external") == 0)
	    external = 1;
	else if (strcasecmp(how, "internal") == 0)
	    external = 0;
	else
	    msg_fatal("invalid %s value: \"%s\"", VAR_INFO_LOG_ADDRESS_FORMAT, how);
    }
    if (!external || *addr == 0)
	return (addr);
    mail_addr_externalize(buf, addr);
    return (vstring_str(buf));
}
