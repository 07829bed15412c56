/*
 * NAME
 *	smtpd_rewrite - address rewriting before the queue file is written
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_rewrite_init(void);
 *	int smtpd_rewrite_active(int local);
 *	int smtpd_rewrite_envelope(SMTPD_STATE *state, int class,
 *				   const char *addr, VSTRING *result);
 *	int smtpd_rewrite_header(int local, const char *raw, size_t len,
 *				 VSTRING *result);
 *	int smtpd_rewrite_drop_header(const char *raw, size_t len);
 * DESCRIPTION
 *	What Postfix's cleanup does to addresses, done here since smtpd
 *	writes the queue file itself (addr_rewrite(3)): canonical_maps,
 *	sender_canonical_maps, recipient_canonical_maps with their
 *	*_classes, masquerade_domains with masquerade_classes and
 *	masquerade_exceptions, and the canonical address form
 *	(append_at_myorigin, append_dot_mydomain, swap_bangpath,
 *	allow_percent_hack). Envelope addresses are always rewritten, as in
 *	Postfix; headers only for clients in local_header_rewrite_clients,
 *	or for any client when remote_header_rewrite_domain is set (then
 *	incomplete addresses of other clients get that domain), as Postfix
 *	2.2 and later do (checked against Debian's Postfix 3.7.11: a
 *	client outside local_header_rewrite_clients had its envelope
 *	rewritten and its headers left as they were).
 *
 *	smtpd_rewrite_envelope() rewrites an envelope sender
 *	(ADDR_REWRITE_ENV_SENDER) or recipient (ADDR_REWRITE_ENV_RCPT): 1
 *	when result differs, 0 when not, -1 after a table error (the caller
 *	answers 451 4.3.0). receive_override_options = no_address_mappings
 *	turns it off.
 *
 *	smtpd_rewrite_header() rewrites the addresses of one whole header
 *	(raw: "Name: value" with its CRLF continuation lines) as
 *	header_addr(3) finds them, when the header is an address header and
 *	this client's headers are rewritten: 1 with the new header in
 *	result, 0 when it stays, -1 after a table error.
 *	smtpd_rewrite_active() says whether headers need to be held for it.
 *	For both, local is smtpd_check_rewrite_client()'s answer for the
 *	client, which the caller asks once per message.
 *
 *	smtpd_rewrite_drop_header() says whether a header is one that
 *	message_drop_headers removes (default: Bcc, Content-Length,
 *	Resent-Bcc, Return-Path, as Postfix 3.7).
 * SEE ALSO
 *	addr_rewrite(3), header_addr(3), canonical(5)
 */
#include <string.h>
#include <strings.h>

#include "util/stringops.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/addr_rewrite.h"
#include "global/input_transp.h"
#include "smtpd.h"

static ADDR_REWRITE *rewrite;
static ARGV *drop_headers;		/* message_drop_headers */
static int header_work;			/* any header rewriting configured */

void    smtpd_rewrite_init(void)
{
    rewrite = addr_rewrite_create();
    drop_headers = argv_split_list(mail_conf_str(VAR_MESSAGE_DROP_HEADERS));
    header_work = (*mail_conf_str(VAR_CANONICAL_MAPS) || *mail_conf_str(VAR_SENDER_CANONICAL_MAPS)
		   || *mail_conf_str(VAR_RECIPIENT_CANONICAL_MAPS)
		   || *mail_conf_str(VAR_MASQUERADE_DOMAINS)
		   || mail_conf_bool(VAR_APPEND_AT_MYORIGIN)
		   || mail_conf_bool(VAR_APPEND_DOT_MYDOMAIN)
		   || mail_conf_bool(VAR_SWAP_BANGPATH)
		   || mail_conf_bool(VAR_ALLOW_PERCENT_HACK));
}

/* header_class - the header class flags (REMOTE or not) */
static int header_class(int local)
{
    return (local > 0 ? 0 : ADDR_REWRITE_REMOTE);
}

int     smtpd_rewrite_active(int local)
{
    if (var_input_transp & INPUT_TRANSP_ADDRESS_MAPPING)
	return (0);
    return (header_work && addr_rewrite_enabled(rewrite, header_class(local)));
}

int     smtpd_rewrite_envelope(SMTPD_STATE *state, int class, const char *addr,
			               VSTRING *result)
{
    (void) state;
    if (var_input_transp & INPUT_TRANSP_ADDRESS_MAPPING) {
	vstring_strcpy(result, addr);
	return (0);
    }
    return (addr_rewrite(rewrite, class, addr, result));
}

int     smtpd_rewrite_header(int local, const char *raw, size_t len,
			             VSTRING *result)
{
    if (!smtpd_rewrite_active(local))
	return (0);
    return (addr_rewrite_header(rewrite, header_class(local), raw, len, result));
}

int     smtpd_rewrite_drop_header(const char *raw, size_t len)
{
    const char *colon = memchr(raw, ':', len);
    size_t  name_len;

    if (colon == 0)
	return (0);
    for (name_len = colon - raw; name_len > 0
	 && (raw[name_len - 1] == ' ' || raw[name_len - 1] == '\t'); name_len--)
	 /* void */ ;
    for (size_t i = 0; i < drop_headers->argc; i++)
	if (strlen(drop_headers->argv[i]) == name_len
	    && strncasecmp(drop_headers->argv[i], raw, name_len) == 0)
	    return (1);
    return (0);
}

int     smtpd_rewrite_drop_active(void)
{
    return (drop_headers->argc > 0);
}
