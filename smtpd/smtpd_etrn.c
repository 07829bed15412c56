/*
 * NAME
 *	smtpd_etrn - ETRN (RFC 1985) through the flush service
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_etrn_cmd(SMTPD_STATE *state, char *args);
 * DESCRIPTION
 *	Postfix's ETRN: one argument, a domain, with an optional leading
 *	"@" or "#" that is removed; it must be a valid host name or
 *	address literal, pass smtpd_etrn_restrictions and be in
 *	fast_flush_domains. Then flush_send_site() asks the flush service
 *	to deliver the site's deferred mail. Replies (never with enhanced
 *	status codes, as Postfix): 250 Queuing started, 458 Unable to
 *	queue messages (flush service failed), 459 <site>: service
 *	unavailable (not eligible), 500 Syntax: ETRN domain, 501 Error:
 *	invalid parameter syntax, 503 Error: MAIL transaction in progress,
 *	503 Error: send HELO/EHLO first (smtpd_helo_required).
 * DIAGNOSTICS
 *	"warning: reject: ETRN site... from host[addr]" for a site that is
 *	not eligible.
 */
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/flush_client.h"
#include "smtpd.h"

/* valid_site - host name or address literal */
static int valid_site(const char *site)
{
    size_t  len = strlen(site);

    if (len > 2 && site[0] == '[' && site[len - 1] == ']')
	return (strspn(site + 1, "0123456789abcdefABCDEF.:IPv") == len - 2);
    return (smtpd_valid_hostname(site));
}

void    smtpd_etrn_cmd(SMTPD_STATE *state, char *args)
{
    char   *copy = mystrdup(args);
    char   *cp = copy;
    char   *arg = mystrtok(&cp, " \t");
    const char *site;
    int     m;

    if (arg == 0 || mystrtok(&cp, " \t") != 0) {
	smtpd_reply(state, "500 Syntax: ETRN domain");
	goto done;
    }
    if (var_smtpd_helo_required && state->helo_name == 0) {
	smtpd_reply(state, "503 Error: send HELO/EHLO first");
	goto done;
    }
    if (smtpd_tls_required(state)) {
	smtpd_reply(state, "530 Must issue a STARTTLS command first");
	goto done;
    }
    if (state->sender) {
	smtpd_reply(state, "503 Error: MAIL transaction in progress");
	goto done;
    }
    site = (*arg == '@' || *arg == '#') ? arg + 1 : arg;
    if (!valid_site(site)) {
	smtpd_reply(state, "501 Error: invalid parameter syntax");
	goto done;
    }
    if (smtpd_check_etrn(state, site) != SMTPD_CHECK_OK) {
	smtpd_log_reject(state, "ETRN", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
	goto done;
    }
    if ((m = smtpd_check_fast_flush(site)) < 0) {
	smtpd_reply(state, "458 Unable to queue messages");
	goto done;
    }
    switch (m > 0 ? flush_send_site(site) : FLUSH_STAT_DENY) {
    case FLUSH_STAT_OK:
	smtpd_reply(state, "250 Queuing started");
	break;
    case FLUSH_STAT_DENY:
	{
	    VSTRING *text = vstring_alloc(100);

	    msg_warn("reject: ETRN %.100s... from %s", smtpd_printable(text, arg),
		     state->namaddr);
	    vstring_free(text);
	}
	smtpd_reply(state, "459 <%s>: service unavailable", arg);
	break;
    default:
	smtpd_reply(state, "458 Unable to queue messages");
	break;
    }

done:
    myfree(copy);
}
