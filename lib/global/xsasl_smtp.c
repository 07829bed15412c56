/*
 * NAME
 *	xsasl_smtp - the AUTH command exchange of an SMTP server
 * SYNOPSIS
 *	See xsasl_smtp.h.
 * DESCRIPTION
 *	Shared by smtpd (the AUTH command) and odmr (a customer site
 *	logging in before ATRN), so that both answer and log as Postfix's
 *	smtpd does. What the client wrote (the mechanism, a name, a too
 *	long response) reaches the log with control characters and 8-bit
 *	bytes shown as '?'.
 */
#include <string.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "global/xsasl_smtp.h"

/* safe - a copy of client text fit for the log */
static const char *safe(VSTRING *buf, const char *text)
{
    vstring_reset(buf);
    for (; *text; text++) {
	int     ch = (unsigned char) *text;

	vstring_addch(buf, (ch < ' ' || ch >= 127) ? '?' : ch);
    }
    return (vstring_str(buf));
}

static void reply(const XSASL_SMTP_IO *io, VSTRING *buf, const char *fmt, const char *arg)
{
    vstring_sprintf(buf, fmt, arg);
    io->reply(io->ctx, vstring_str(buf));
}

int     xsasl_smtp_auth(XSASL_SERVER *server, const XSASL_SMTP_IO *io,
			        const char *namaddr, const char *mech,
			        const char *init, long limit)
{
    VSTRING *text = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    VSTRING *response = vstring_alloc(100);
    VSTRING *log_mech = vstring_alloc(20);
    VSTRING *log_text = vstring_alloc(100);
    const char *name;
    int     status;

    for (status = xsasl_server_first(server, mech, init, text);
	 status == XSASL_AUTH_MORE;
	 status = xsasl_server_next(server, vstring_str(response), text)) {
	reply(io, line, "334 %s", vstring_str(text));
	switch (io->read(io->ctx, response, limit)) {
	case XSASL_SMTP_READ_OK:
	    break;
	case XSASL_SMTP_READ_LONG:
	    vstring_truncate(response, 30);
	    msg_warn("%s: request longer than %ld: %s...", namaddr, limit,
		     safe(log_text, vstring_str(response)));
	    io->reply(io->ctx, "500 5.5.6 SASL response limit exceeded");
	    status = XSASL_AUTH_FAIL;
	    goto done;
	default:
	    status = XSASL_SMTP_LOST;
	    goto done;
	}
	if (strcmp(vstring_str(response), "*") == 0) {
	    msg_warn("%s: SASL %s authentication aborted", namaddr,
		     safe(log_mech, mech));
	    io->reply(io->ctx, "501 5.7.0 Authentication aborted");
	    status = XSASL_AUTH_FAIL;
	    goto done;
	}
    }
    if (status == XSASL_AUTH_DONE) {
	io->reply(io->ctx, "235 2.7.0 Authentication successful");
    } else {
	name = xsasl_server_username(server);
	msg_warn("%s: SASL %s authentication failed: %s, sasl_username=%s",
		 namaddr, safe(log_mech, mech), vstring_str(text),
		 name ? safe(log_text, name) : "(unavailable)");
	/* RFC 4954, section 6. */
	if (status == XSASL_AUTH_TEMP)
	    reply(io, line, "454 4.7.0 Temporary authentication failure: %s",
		  vstring_str(text));
	else
	    reply(io, line, "535 5.7.8 Error: authentication failed: %s",
		  vstring_str(text));
	status = XSASL_AUTH_FAIL;
    }
done:
    vstring_free(text);
    vstring_free(line);
    vstring_free(response);
    vstring_free(log_mech);
    vstring_free(log_text);
    return (status);
}
