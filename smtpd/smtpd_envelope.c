/*
 * NAME
 *	smtpd_envelope - MAIL FROM and RCPT TO
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_mail_cmd(SMTPD_STATE *state, char *args);
 *	void smtpd_rcpt_cmd(SMTPD_STATE *state, char *args);
 * DESCRIPTION
 *	smtpd_mail_cmd() parses "FROM:<address> [SIZE= BODY= RET= ENVID=]",
 *	applies smtpd_client_message_rate_limit ("450 4.7.1 Error: too
 *	much mail from addr"), refuses a declared size over
 *	message_size_limit (552 5.3.4) or over the free queue space (452
 *	4.3.1), and runs the sender restrictions when smtpd_delay_reject
 *	is off.
 *
 *	smtpd_rcpt_cmd() parses "TO:<address> [NOTIFY= ORCPT=]" (not
 *	after a BDAT chunk: "503 5.5.1 Error: RCPT after BDAT"), applies
 *	smtpd_client_recipient_rate_limit ("450 4.7.1 Error: too many
 *	recipients from addr"), enforces
 *	smtpd_recipient_limit (452 4.5.3) and runs the access policy
 *	(smtpd_check.c). The first accepted recipient creates the queue
 *	file in incoming/ (and logs "QID: client=host[addr]", with
 *	", orig_queue_id=ID, orig_client=name[addr]" after XFORWARD); an
 *	unwritable queue answers 451 4.3.0 at once, a full one 452 4.3.1.
 *	Each accepted recipient is written to the queue file right away
 *	with its DSN NOTIFY and ORCPT.
 *
 *	Stricter than Postfix: an ESMTP parameter with a control character
 *	(a bare CR included) is refused with 501, and the address type of
 *	ORCPT must be an atom (RFC 3461), so that nothing we store can
 *	break a command line when the message is relayed.
 *
 *	When smtpd's own checks pass, MAIL and RCPT go to the milters
 *	(smtpd_milter.c) and to a before-queue proxy filter
 *	(smtpd_proxy.c); a refusal of either is the client's reply.
 *
 *	An address without a domain gets "@$myorigin", as Postfix's
 *	trivial-rewrite does for envelope addresses: the checks look up
 *	and the queue file holds that form (state->sender, recipient),
 *	while reply texts and log lines show the address as the client
 *	gave it (state->sender_given, rcpt_given), as Postfix's do:
 *	"554 5.7.1 <u>: Relay access denied", "from=<a> to=<u>".
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/queue_writer.h"
#include "smtpd.h"

/* param_bad - a control character anywhere in an ESMTP parameter */
static int param_bad(const char *param)
{
    for (const unsigned char *cp = (const unsigned char *) param; *cp; cp++)
	if (*cp < 0x20 || *cp == 0x7f)
	    return (1);
    return (0);
}

/* atom - RFC 5322 atext only (the ORCPT address type) */
static int atom(const char *text, size_t len)
{
    static const char specials[] = "!#$%&'*+-/=?^_`{|}~";

    if (len == 0)
	return (0);
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = text[i];

	if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
	      || (ch >= '0' && ch <= '9') || (ch && strchr(specials, ch))))
	    return (0);
    }
    return (1);
}

/*
 * smtpd_canonical_addr - append @$myorigin to an address without a
 * domain (the null address stays empty)
 */
char   *smtpd_canonical_addr(const char *addr)
{
    VSTRING *buf;

    if (*addr == 0 || smtpd_addr_domain(addr) != 0)
	return (mystrdup(addr));
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s@%s", addr, var_myorigin);
    return (vstring_export(buf));
}

void    smtpd_mail_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    VSTRING *decoded;
    char   *rest, *param;
    long    size = 0;
    const char *ret = 0;
    char   *envid = 0;
    char   *params = 0;

    if (state->sender) {
	smtpd_reply(state, "503 5.5.1 Error: nested MAIL command");
	return;
    }
    if (var_smtpd_helo_required && state->helo_name == 0) {
	smtpd_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
	return;
    }
    if (smtpd_tls_required(state)) {
	smtpd_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
	return;
    }
    if (strncasecmp(args, "FROM:", 5) != 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
	return;
    }
    addr = vstring_alloc(100);
    if (smtpd_addr_envelope(args + 5, addr, &rest) < 0) {
	smtpd_reply(state, "501 5.1.7 Bad sender address syntax");
	vstring_free(addr);
	return;
    }
    decoded = vstring_alloc(100);
    params = mystrdup(rest ? rest : "");
    while ((param = mystrtok(&rest, " \t")) != 0) {
	if (param_bad(param)) {
	    smtpd_reply(state, "501 5.5.4 %s",
			strncasecmp(param, "SIZE=", 5) == 0 ? "Bad message size syntax" :
			strncasecmp(param, "RET=", 4) == 0 ? "Bad RET parameter syntax" :
			strncasecmp(param, "ENVID=", 6) == 0 ? "Bad ENVID parameter syntax" :
			"Bad parameter syntax");
	    goto done;
	}
	if (strncasecmp(param, "SIZE=", 5) == 0) {
	    char   *end;

	    errno = 0;
	    size = strtol(param + 5, &end, 10);
	    if (param[5] == 0 || *end != 0 || size < 0 || errno == ERANGE
		|| !alldig(param + 5)) {
		smtpd_reply(state, "501 5.5.4 Bad message size syntax");
		goto done;
	    }
	} else if (strncasecmp(param, "BODY=", 5) == 0) {
	    if (strcasecmp(param + 5, "7BIT") != 0
		&& strcasecmp(param + 5, "8BITMIME") != 0) {
		smtpd_reply(state, "555 5.5.4 Unsupported option: %s", param);
		goto done;
	    }
	} else if (strncasecmp(param, "AUTH=", 5) == 0) {
	    /* Kept after a login, else accepted and ignored, as Postfix. */
	    smtpd_sasl_mail_auth(state, param + 5);
	} else if (strncasecmp(param, "RET=", 4) == 0) {
	    if (ret != 0 || (strcasecmp(param + 4, "FULL") != 0
			     && strcasecmp(param + 4, "HDRS") != 0)) {
		smtpd_reply(state, "501 5.5.4 Bad RET parameter syntax");
		goto done;
	    }
	    ret = strcasecmp(param + 4, "FULL") == 0 ? "FULL" : "HDRS";
	} else if (strncasecmp(param, "ENVID=", 6) == 0) {
	    if (envid != 0 || smtpd_xtext_decode(param + 6, decoded) < 0
		|| vstring_len(decoded) == 0 || vstring_len(decoded) > 100
		|| !allprint(vstring_str(decoded))) {
		smtpd_reply(state, "501 5.5.4 Bad ENVID parameter syntax");
		goto done;
	    }
	    envid = mystrdup(vstring_str(decoded));
	} else {
	    smtpd_reply(state, "555 5.5.4 Unsupported option: %s", param);
	    goto done;
	}
    }
    if (smtpd_limit_message(state) < 0) {
	smtpd_reply(state, "450 4.7.1 Error: too much mail from %s", state->addr);
	goto done;
    }
    if (var_message_size_limit > 0 && size > var_message_size_limit) {
	smtpd_log_reject(state, "MAIL", "552 5.3.4 Message size exceeds fixed limit");
	smtpd_reply(state, "552 5.3.4 Message size exceeds fixed limit");
	goto done;
    }
    if (smtpd_check_queue_space(state, size) != SMTPD_CHECK_OK) {
	smtpd_log_reject(state, "MAIL", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
	goto done;
    }
    state->sender = smtpd_canonical_addr(vstring_str(addr));
    state->sender_given = mystrdup(vstring_str(addr));
    if (!var_smtpd_delay_reject && smtpd_check_mail(state) != SMTPD_CHECK_OK) {
	smtpd_log_reject(state, "MAIL", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
	myfree(state->sender);
	myfree(state->sender_given);
	state->sender = state->sender_given = 0;
	goto done;
    }
    if (smtpd_milter_mail(state, vstring_str(addr), params) != SMTPD_CHECK_OK) {
	smtpd_reply(state, "%s", vstring_str(state->reply));
	myfree(state->sender);
	state->sender = 0;
	goto done;
    }
    if (smtpd_proxy_mail(state, vstring_str(addr), params) != SMTPD_CHECK_OK) {
	smtpd_reply(state, "%s", vstring_str(state->reply));
	smtpd_proxy_close(state);
	myfree(state->sender);
	state->sender = 0;
	goto done;
    }
    state->msg_size = size;
    state->dsn_ret = ret;
    state->dsn_envid = envid;
    envid = 0;
    /* A before-queue filter's refusal was the client's; its OK is ours. */
    smtpd_reply(state, "250 2.1.0 Ok");

done:
    myfree(params);
    myfree(envid);
    vstring_free(decoded);
    vstring_free(addr);
}

/* notify_mask - RFC 3461 NOTIFY value as DSN_NOTIFY_* bits, -1 if bad */
static int notify_mask(const char *value)
{
    char   *copy = mystrdup(value);
    char   *cp = copy, *tok;
    int     mask = 0;

    while ((tok = mystrtok(&cp, ",")) != 0) {
	if (strcasecmp(tok, "NEVER") == 0)
	    mask |= DSN_NOTIFY_NEVER;
	else if (strcasecmp(tok, "SUCCESS") == 0)
	    mask |= DSN_NOTIFY_SUCCESS;
	else if (strcasecmp(tok, "FAILURE") == 0)
	    mask |= DSN_NOTIFY_FAILURE;
	else if (strcasecmp(tok, "DELAY") == 0)
	    mask |= DSN_NOTIFY_DELAY;
	else
	    mask = -1;
	if (mask < 0)
	    break;
    }
    myfree(copy);
    if (mask == 0 || ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
	return (-1);
    return (mask);
}

/* open_queue_file - create the queue file at the first recipient */
static int open_queue_file(SMTPD_STATE *state)
{
    QUEUE_WRITER *qw;
    SMTPD_XFORWARD *xf = &state->xforward;
    VSTRING *buf;
    VSTRING *sender = vstring_alloc(100);
    int     ret;

    /* canonical(5), masquerading: what the queue file records. */
    if (smtpd_rewrite_envelope(state, ADDR_REWRITE_ENV_SENDER, state->sender, sender) < 0) {
	smtpd_reply(state, "451 4.3.0 Error: queue file write error");
	vstring_free(sender);
	return (-1);
    }
    if ((qw = queue_writer_open(MAIL_QUEUE_INCOMING)) == 0) {
	int     err = errno;

	msg_warn("%s: create queue file in %s: %s", state->namaddr,
		 MAIL_QUEUE_INCOMING, strerror(err));
	if (queue_writer_status(err) == QUEUE_WRITER_STAT_NOSPACE)
	    smtpd_reply(state, "452 4.3.1 Insufficient system storage");
	else
	    smtpd_reply(state, "451 4.3.0 Error: queue file write error");
	vstring_free(sender);
	return (-1);
    }
    state->qw = qw;
    state->queue_id = mystrdup(queue_writer_id(qw));
    queue_writer_sender(qw, vstring_str(sender));
    queue_writer_attr(qw, "client_name", state->name);
    queue_writer_attr(qw, "client_address", state->addr);
    queue_writer_attr(qw, "client_port", state->port);
    if (state->helo_name)
	queue_writer_attr(qw, "helo_name", state->helo_name);
    queue_writer_attr(qw, "protocol", state->protocol);
    if (state->dsn_envid)
	queue_writer_attr(qw, "dsn_envid", state->dsn_envid);
    if (state->dsn_ret)
	queue_writer_attr(qw, "dsn_ret", state->dsn_ret);
    /* XFORWARD: where the mail came from before the content filter. */
    if (xf->name)
	queue_writer_attr(qw, "log_client_name", xf->name);
    if (xf->addr)
	queue_writer_attr(qw, "log_client_address", xf->addr);
    if (xf->port)
	queue_writer_attr(qw, "log_client_port", xf->port);
    if (xf->helo)
	queue_writer_attr(qw, "log_helo_name", xf->helo);
    if (xf->proto)
	queue_writer_attr(qw, "log_protocol", xf->proto);
    queue_writer_attr(qw, "log_ident", xf->ident ? xf->ident : state->queue_id);
    queue_writer_attr(qw, "rewrite_context", xf->source ? xf->source : "remote");
    smtpd_sasl_queue_attrs(state, qw);
    buf = vstring_alloc(100);
    /* With a before-queue filter the file is only a spool: the filter queues. */
    vstring_sprintf(buf, "%s: client=%s", state->proxy ? "NOQUEUE" : state->queue_id,
		    state->namaddr);
    vstring_strcat(buf, smtpd_sasl_log_info(state));
    if (xf->ident)
	vstring_sprintf_append(buf, ", orig_queue_id=%s", xf->ident);
    if (xf->name || xf->addr)
	vstring_sprintf_append(buf, ", orig_client=%s[%s]", xf->name ? xf->name : "unknown",
			       xf->addr ? xf->addr : "unknown");
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
    /* sender_bcc_maps, always_bcc (a before-queue filter's smtpd adds them). */
    ret = state->proxy ? SMTPD_FWD_OK : smtpd_forward_open_bcc(state, vstring_str(sender));
    vstring_free(sender);
    if (ret != SMTPD_FWD_OK) {
	if (ret < 0)
	    smtpd_reply(state, "451 4.3.0 Error: queue file write error");
	else
	    smtpd_reply(state, "%s", vstring_str(state->reply));
	queue_writer_abort(state->qw);
	state->qw = 0;
	myfree(state->queue_id);
	state->queue_id = 0;
	return (-1);
    }
    return (0);
}

void    smtpd_rcpt_cmd(SMTPD_STATE *state, char *args)
{
    VSTRING *addr;
    VSTRING *decoded;
    char   *rest, *param;
    int     notify = 0;
    char   *orcpt = 0;
    char   *params = 0;

    if (state->sender == 0) {
	smtpd_reply(state, "503 5.5.1 Error: need MAIL command");
	return;
    }
    if (state->bdat_state != SMTPD_BDAT_NONE) {
	smtpd_reply(state, "503 5.5.1 Error: RCPT after BDAT");
	return;
    }
    if (strncasecmp(args, "TO:", 3) != 0) {
	smtpd_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>");
	return;
    }
    addr = vstring_alloc(100);
    if (smtpd_addr_envelope(args + 3, addr, &rest) < 0 || vstring_len(addr) == 0) {
	smtpd_reply(state, "501 5.1.3 Bad recipient address syntax");
	vstring_free(addr);
	return;
    }
    state->rcpt_tried++;
    if (var_smtpd_rcpt_limit > 0 && state->rcpt_count >= var_smtpd_rcpt_limit) {
	smtpd_reply(state, "452 4.5.3 Error: too many recipients");
	/* The first smtpd_recipient_overshoot_limit of these are no errors. */
	if (state->rcpt_overshoot++ < var_smtpd_rcpt_overlim)
	    state->error_count--;
	vstring_free(addr);
	return;
    }
    decoded = vstring_alloc(100);
    params = mystrdup(rest ? rest : "");
    while ((param = mystrtok(&rest, " \t")) != 0) {
	if (param_bad(param)) {
	    smtpd_reply(state, "501 5.5.4 %s",
			strncasecmp(param, "NOTIFY=", 7) == 0 ?
			"Error: Bad NOTIFY parameter syntax" :
			strncasecmp(param, "ORCPT=", 6) == 0 ?
			"Error: Bad ORCPT parameter syntax" : "Bad parameter syntax");
	    goto done;
	}
	if (strncasecmp(param, "NOTIFY=", 7) == 0) {
	    if (notify != 0 || (notify = notify_mask(param + 7)) < 0) {
		smtpd_reply(state, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
		goto done;
	    }
	} else if (strncasecmp(param, "ORCPT=", 6) == 0) {
	    char   *semi = strchr(param + 6, ';');

	    if (orcpt != 0 || semi == 0 || !atom(param + 6, semi - (param + 6))
		|| smtpd_xtext_decode(semi + 1, decoded) < 0
		|| vstring_len(decoded) == 0 || vstring_len(decoded) > 500
		|| !allprint(vstring_str(decoded))) {
		smtpd_reply(state, "501 5.5.4 Error: Bad ORCPT parameter syntax");
		goto done;
	    }
	    *semi = 0;
	    {
		VSTRING *tmp = vstring_alloc(100);

		vstring_sprintf(tmp, "%s;%s", param + 6, vstring_str(decoded));
		orcpt = vstring_export(tmp);
	    }
	} else {
	    smtpd_reply(state, "555 5.5.4 Unsupported option: %s", param);
	    goto done;
	}
    }
    if (smtpd_limit_rcpt(state) < 0) {
	smtpd_reply(state, "450 4.7.1 Error: too many recipients from %s", state->addr);
	goto done;
    }
    myfree(state->recipient);
    myfree(state->rcpt_given);
    state->recipient = smtpd_canonical_addr(vstring_str(addr));
    state->rcpt_given = mystrdup(vstring_str(addr));
    if (smtpd_check_rcpt(state) != SMTPD_CHECK_OK
	|| smtpd_forward_expand(state) != SMTPD_FWD_OK) {
	smtpd_log_reject(state, "RCPT", vstring_str(state->reply));
	smtpd_reply(state, "%s", vstring_str(state->reply));
	goto done;
    }
    if (smtpd_milter_rcpt(state, vstring_str(addr), params) != SMTPD_CHECK_OK
	|| smtpd_proxy_rcpt(state, vstring_str(addr), params) != SMTPD_CHECK_OK) {
	smtpd_reply(state, "%s", vstring_str(state->reply));
	goto done;
    }

    if (state->qw == 0 && open_queue_file(state) < 0)
	goto done;
    if (smtpd_forward_write_rcpt(state, notify, orcpt) < 0) {
	int     err = queue_writer_errno(state->qw);

	msg_warn("%s: write queue file: %s", state->queue_id, strerror(err));
	if (queue_writer_status(err) == QUEUE_WRITER_STAT_NOSPACE)
	    smtpd_reply(state, "452 4.3.1 Insufficient system storage");
	else
	    smtpd_reply(state, "451 4.3.0 Error: queue file write error");
	goto done;
    }
    if (state->rcpt_count++ == 0)
	state->first_rcpt = mystrdup(state->recipient);
    myfree(state->last_rcpt);
    state->last_rcpt = mystrdup(state->recipient);
    smtpd_reply(state, "250 2.1.5 Ok");

done:
    myfree(params);
    myfree(orcpt);
    vstring_free(decoded);
    vstring_free(addr);
}
