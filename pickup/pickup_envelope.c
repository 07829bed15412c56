/*
 * NAME
 *	pickup_envelope - the sender and recipients of a local message
 * SYNOPSIS
 *	#include "pickup.h"
 *
 *	void pickup_envelope(PICKUP_STATE *st);
 *	int pickup_envelope_add_rcpt(PICKUP_STATE *st, const char *addr);
 * DESCRIPTION
 *	pickup_envelope() writes the envelope of the queue file as
 *	Postfix's cleanup writes that of local mail:
 *
 *	The sender and each recipient get the canonical form (@$myorigin
 *	for an address without a domain, and the rest of addr_rewrite(3)'s
 *	first step), then canonical_maps, sender_canonical_maps or
 *	recipient_canonical_maps and masquerade_domains for their class.
 *	The null sender stays empty. The log lines of the message show the
 *	sender so rewritten, and the last recipient (as rewritten, before
 *	virtual aliasing) as "to=".
 *
 *	A recipient then goes through virtual_alias_maps; each target is
 *	written with the recipient as given to sendmail as its original
 *	recipient (orig_to= in the log, as Postfix logs "orig_to=<user>"
 *	for "sendmail user"), with sendmail's DSN NOTIFY (and "rfc822;" and
 *	that address as ORCPT, when NOTIFY was given). A (target,
 *	original) pair is written once.
 *
 *	Automatic BCC recipients (auto_bcc(3)): recipient_bcc_maps for each
 *	recipient (as rewritten, before aliasing), sender_bcc_maps for the
 *	sender (not the null sender) and always_bcc, each rewritten and
 *	aliased as a recipient, with NOTIFY=NEVER, once per message.
 *
 *	A probe of sendmail -bv gets the attribute user_verify=1: qmgr
 *	then tries its recipients without delivering it, and the sender
 *	gets a delivery status report.
 *
 *	receive_override_options = no_address_mappings leaves out the
 *	tables, masquerading, virtual aliases and BCC; the canonical form
 *	stays, as in Postfix.
 *
 *	The milters (non_smtpd_milters, pickup_milter.c) see the sender
 *	and each recipient, as rewritten, the way Postfix's cleanup shows
 *	them local mail.
 *
 *	pickup_envelope_add_rcpt() adds a recipient that a milter asked
 *	for: rewritten and aliased as above, its own original recipient.
 *	It returns 0, or -1 after a table error (logged).
 * DIAGNOSTICS
 *	A table that cannot be read, or an alias expansion that fails,
 *	makes the outcome PICKUP_OUT_RETRY, with a warning: the message
 *	stays in maildrop/ for a later wakeup.
 * SEE ALSO
 *	addr_rewrite(3), virtual_alias(3), auto_bcc(3)
 */
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "global/input_transp.h"
#include "global/queue_file.h"
#include "pickup.h"

/* rewrite - an envelope address as Postfix's cleanup rewrites it */
static int rewrite(PICKUP_STATE *st, int class, const char *addr, VSTRING *out)
{
    int     flags = st->mappings ? 0 : ADDR_REWRITE_CANON_ONLY;

    if (addr_rewrite(pickup_conf.rewrite, class | flags, addr, out) < 0) {
	msg_warn("%s: <%s>: table lookup failed; trying again later", st->queue_id, addr);
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	return (-1);
    }
    return (0);
}

/* write_bcc - one BCC address, rewritten and aliased, NOTIFY=NEVER */
static void write_bcc(PICKUP_STATE *st, const char *bcc)
{
    VSTRING *canon;

    if (*bcc == 0)
	return;
    canon = vstring_alloc(100);
    if (rewrite(st, ADDR_REWRITE_ENV_RCPT, bcc, canon) == 0) {
	switch (auto_bcc_write(st->qw, pickup_conf.alias, st->written, vstring_str(canon))) {
	case AUTO_BCC_OK:
	    break;
	case AUTO_BCC_RETRY:
	    msg_warn("%s: BCC address <%s>: table lookup or alias expansion failed; "
		     "trying again later", st->queue_id, bcc);
	    pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	    break;
	default:
	    pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	    break;
	}
    }
    vstring_free(canon);
}

/* write_targets - a rewritten recipient through virtual aliasing */
static int write_targets(PICKUP_STATE *st, const char *canon, const char *orig)
{
    VIRTUAL_ALIAS_RESULT *res = virtual_alias_result_alloc();
    VSTRING *why = vstring_alloc(100);
    VSTRING *orcpt = vstring_alloc(100);
    int     ret = 0;

    if (!st->mappings || !virtual_alias_changes(pickup_conf.alias)) {
	(void) virtual_alias_result_add(res, canon, canon);
    } else if (virtual_alias_expand(pickup_conf.alias, canon, res, why) != VIRTUAL_ALIAS_OK) {
	msg_warn("%s: %s: %s; trying again later", st->queue_id, canon, vstring_str(why));
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	ret = -1;
    }
    if (st->notify)
	vstring_sprintf(orcpt, "rfc822;%s", orig);
    for (size_t i = 0; ret == 0 && i < res->count; i++) {
	const char *target = res->targets[i].address;

	if (virtual_alias_result_add(st->written, target, orig))
	    (void) queue_writer_rcpt(st->qw, target, orig, st->notify,
				     st->notify ? vstring_str(orcpt) : (char *) 0);
    }
    virtual_alias_result_free(res);
    vstring_free(why);
    vstring_free(orcpt);
    return (ret);
}

/* add_rcpt - one recipient: rewritten, shown to the milters, aliased, BCC */
static int add_rcpt(PICKUP_STATE *st, const char *given, int from_milter)
{
    VSTRING *canon = vstring_alloc(100);
    VSTRING *bcc = vstring_alloc(100);
    int     ret = -1;

    if (rewrite(st, ADDR_REWRITE_ENV_RCPT, given, canon) < 0)
	goto out;
    if (!from_milter) {
	myfree(st->last_rcpt);
	st->last_rcpt = mystrdup(vstring_str(canon));
	pickup_milter_rcpt(st, vstring_str(canon));
    }
    if (st->mappings && auto_bcc_rcpt(pickup_conf.bcc, vstring_str(canon), bcc) < 0) {
	msg_warn("%s: <%s>: recipient_bcc_maps lookup failed; trying again later",
		 st->queue_id, vstring_str(canon));
	pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	goto out;
    }
    if (write_targets(st, vstring_str(canon), given) < 0)
	goto out;
    if (st->mappings)
	write_bcc(st, vstring_str(bcc));
    ret = 0;
out:
    vstring_free(canon);
    vstring_free(bcc);
    return (ret);
}

int     pickup_envelope_add_rcpt(PICKUP_STATE *st, const char *addr)
{
    return (add_rcpt(st, addr, 1));
}

void    pickup_envelope(PICKUP_STATE *st)
{
    VSTRING *buf = vstring_alloc(100);

    st->mappings = !(pickup_conf.input_transp & INPUT_TRANSP_ADDRESS_MAPPING);
    st->written = virtual_alias_result_alloc();
    if (rewrite(st, ADDR_REWRITE_ENV_SENDER, st->given_sender, buf) < 0) {
	vstring_free(buf);
	return;
    }
    st->sender = mystrdup(vstring_str(buf));
    queue_writer_sender(st->qw, st->sender);
    queue_writer_attr(st->qw, "rewrite_context", st->gateway ? "remote" : "local");
    if (st->envid)
	queue_writer_attr(st->qw, "dsn_envid", st->envid);
    if (st->ret)
	queue_writer_attr(st->qw, "dsn_ret", st->ret);
    if (st->user_verify)
	queue_writer_attr(st->qw, "user_verify", "1");
    pickup_milter_mail(st);
    for (size_t i = 0; i < st->rcpts->argc && st->outcome < PICKUP_OUT_DEFER; i++)
	(void) add_rcpt(st, st->rcpts->argv[i], 0);

    /* The sender's BCC and always_bcc, once the recipients are known. */
    if (st->mappings && st->outcome < PICKUP_OUT_DEFER) {
	if (auto_bcc_sender(pickup_conf.bcc, st->sender, buf) < 0) {
	    msg_warn("%s: <%s>: sender_bcc_maps lookup failed; trying again later",
		     st->queue_id, st->sender);
	    pickup_outcome(st, PICKUP_OUT_RETRY, (char *) 0);
	} else {
	    write_bcc(st, vstring_str(buf));
	    write_bcc(st, auto_bcc_always(pickup_conf.bcc));
	}
    }
    if (st->outcome < PICKUP_OUT_DEFER)
	pickup_milter_data(st);
    vstring_free(buf);
}
