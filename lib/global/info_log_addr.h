/*
 * NAME
 *	info_log_addr - an address as the log shows it
 * SYNOPSIS
 *	#include "global/info_log_addr.h"
 *
 *	const char *info_log_addr(VSTRING *buf, const char *addr);
 * DESCRIPTION
 *	info_log_addr() formats an internal-form address for a log line's
 *	from=<...>, to=<...> and orig_to=<...> fields as
 *	info_log_address_format says: "external" (Postfix's default: the
 *	local part quoted where it needs it, to=<"u b"@example.com>) or
 *	"internal" (as stored, to=<u b@example.com>). The result is buf's
 *	text, or addr itself.
 * DIAGNOSTICS
 *	Fatal: an info_log_address_format value that is neither.
 * SEE ALSO
 *	mail_addr(3), the two forms
 */
#ifndef INFO_LOG_ADDR_H
#define INFO_LOG_ADDR_H
#include "util/vstring.h"

extern const char *info_log_addr(VSTRING *, const char *);

#endif
