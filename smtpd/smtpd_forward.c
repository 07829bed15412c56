/*
 * NAME
 *	smtpd_forward - virtual aliases, SRS bounces and address verification
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_forward_init(void);
 *	int smtpd_forward_destination(SMTPD_STATE *state);
 *	int smtpd_forward_rcpt_check(SMTPD_STATE *state);
 *	int smtpd_forward_unlisted(SMTPD_STATE *state);
 *	int smtpd_forward_unverified(SMTPD_STATE *state, const char *addr,
 *				     int is_sender);
 *	int smtpd_forward_expand(SMTPD_STATE *state);
 *	int smtpd_forward_write_rcpt(SMTPD_STATE *state, int notify,
 *				     const char *orcpt);
 *	int smtpd_forward_open_bcc(SMTPD_STATE *state, const char *sender);
 * DESCRIPTION
 *	The RCPT-time side of forwarding (lib/global/virtual_alias.c, lib/global/srs.c,
 *	lib/global/verify_clnt.c), kept apart from the rest of the access policy.
 *	Each check returns SMTPD_FWD_DUNNO (no opinion), SMTPD_FWD_OK or
 *	SMTPD_FWD_REJECT with the reply in state->reply.
 *
 *	smtpd_forward_init() reads virtual_alias_maps/_domains and the
 *	SRS parameters, once per process, before privileges are dropped.
 *
 *	smtpd_forward_destination() is part of the relay check: with SRS
 *	on, an SRS address of srs_domain is a destination of ours (the
 *	bounce of forwarded mail goes back to its sender through us).
 *
 *	smtpd_forward_rcpt_check() runs after the restriction lists
 *	accepted a recipient: a forged or expired SRS address of
 *	srs_domain gets "550 5.1.1 <addr>: Recipient address rejected:
 *	...", whatever the lists said.
 *
 *	smtpd_forward_unlisted() is the virtual alias part of
 *	reject_unlisted_recipient (smtpd_reject_unlisted_recipient): an
 *	address with an alias, or a valid SRS address, is a known
 *	recipient (SMTPD_FWD_OK: no recipient table of its address class
 *	is asked); a virtual_alias_maps error gets "451 4.3.0 <addr>:
 *	Temporary lookup failure"; otherwise SMTPD_FWD_DUNNO, and the
 *	caller asks the table of the address class (addr_class(3)): for
 *	the virtual alias class, there is none left to ask. Aliases open
 *	relaying for themselves only: their targets get no favour.
 *
 *	smtpd_forward_unverified() implements reject_unverified_recipient
 *	and reject_unverified_sender with Postfix's replies: it asks the
 *	verify service, waiting address_verify_poll_delay between at most
 *	address_verify_poll_count questions while a probe is under way;
 *	deliverable addresses pass; unknown or deferred ones get
 *	unverified_*_defer_code (450) "unverified address: reason";
 *	undeliverable ones unverified_*_reject_code (450 by default)
 *	"undeliverable address: reason" when 5xx, "unverified address"
 *	when 4xx; unverified_*_reject_reason replaces the reason. A verify
 *	service failure answers per unverified_*_tempfail_action with
 *	"address verification problem": at once for defer and reject;
 *	for defer_if_permit the reply is set and SMTPD_FWD_DEFER_IF_PERMIT
 *	returned, for the caller to give it only if the request would
 *	otherwise be accepted. The null sender is not verified,
 *	nor are SRS addresses of srs_domain or addresses of virtual alias
 *	domains without an alias: other checks answer for those. An alias
 *	is verified through its targets (the verify service probes them,
 *	as Postfix's cleanup would expand the probe).
 *
 *	smtpd_forward_expand() computes the queue file recipients of the
 *	accepted RCPT: a valid SRS address becomes the sender it stands
 *	for, then virtual aliasing expands it (1:N, recursive). A table
 *	error or a limit gets 451 (SMTPD_FWD_REJECT). smtpd_forward_write_rcpt()
 *	writes them, each with the RCPT address as its original recipient
 *	(and, when the client sent no ORCPT, "rfc822;" and that address
 *	as ORCPT, as Postfix records it), skipping pairs the message
 *	already holds; it returns what queue_writer_rcpt() returns.
 *
 *	Automatic BCC recipients, as Postfix's cleanup adds them to mail
 *	that enters from outside: smtpd_forward_expand() also looks up the
 *	recipient (after canonical(5), before virtual aliasing) in
 *	recipient_bcc_maps, and smtpd_forward_write_rcpt() adds the
 *	result; smtpd_forward_open_bcc(), called when the queue file is
 *	created (at the first accepted recipient), adds the sender's
 *	sender_bcc_maps result (not for the null sender) and always_bcc.
 *	A table gives one address (the first, when it lists more); a BCC
 *	address is rewritten and aliased as a recipient is, and written
 *	with NOTIFY=NEVER (the sender hears nothing about it), once per
 *	message. receive_override_options = no_address_mappings turns BCC
 *	off. A table error answers "451 4.3.0 <addr>: Temporary lookup
 *	failure" (SMTPD_FWD_REJECT); a write error returns -1.
 * DIAGNOSTICS
 *	"warning: verify service failure".
 * SEE ALSO
 *	virtual_alias(3), srs(3), verify_clnt(3), verify(8)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/addr_rewrite.h"
#include "global/mail_addr.h"
#include "global/mail_addr_find.h"
#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "global/queue_writer.h"
#include "global/virtual_alias.h"
#include "global/srs.h"
#include "global/verify_clnt.h"
#include "smtpd.h"

static VIRTUAL_ALIAS *fwd_alias;	/* virtual_alias_maps/_domains */
static SRS *fwd_srs;			/* NULL: SRS off */

/*
 * The recipients of the current RCPT (smtpd_forward_expand) and the
 * pairs the current message already holds (for duplicate removal),
 * tied to the queue ID they belong to.
 */
static VIRTUAL_ALIAS_RESULT *fwd_rcpt;
static VIRTUAL_ALIAS_RESULT *fwd_msg;
static char *fwd_msg_id;
static VSTRING *fwd_rcpt_bcc;		/* the recipient's BCC, or empty */

static MAPS *fwd_sender_bcc_maps;	/* sender_bcc_maps, or NULL */
static MAPS *fwd_rcpt_bcc_maps;		/* recipient_bcc_maps, or NULL */

static MAPS *fwd_maps(const char *param)
{
    const char *value = mail_conf_str(param);

    return (*value ? maps_create(param, value, DICT_FLAG_DEFAULT) : 0);
}

void    smtpd_forward_init(void)
{
    fwd_alias = virtual_alias_create();
    fwd_srs = srs_from_conf();
    fwd_sender_bcc_maps = fwd_maps(VAR_SENDER_BCC_MAPS);
    fwd_rcpt_bcc_maps = fwd_maps(VAR_RECIPIENT_BCC_MAPS);
    fwd_rcpt_bcc = vstring_alloc(100);
}

/* fwd_msg_sync - the message's set of written pairs, new per queue file */
static void fwd_msg_sync(SMTPD_STATE *state)
{
    if (fwd_msg_id == 0 || state->queue_id == 0 || strcmp(fwd_msg_id, state->queue_id) != 0) {
	if (fwd_msg)
	    virtual_alias_result_free(fwd_msg);
	fwd_msg = virtual_alias_result_alloc();
	myfree(fwd_msg_id);
	fwd_msg_id = mystrdup(state->queue_id ? state->queue_id : "");
    }
}

/* fwd_bcc_find - the BCC address of addr in maps, internal form, in bcc */
static int fwd_bcc_find(MAPS *maps, const char *addr, VSTRING *bcc)
{
    const char *value;
    char   *copy;
    char   *bp;
    const char *first;

    vstring_truncate(bcc, 0);
    if (maps == 0 || *addr == 0)
	return (0);
    if ((value = maps_find_addr(maps, addr, MAPS_ADDR_DEFAULT)) == 0)
	return (maps->error ? -1 : 0);
    bp = copy = mystrdup(value);
    if ((first = mystrtok(&bp, ", \t\r\n")) != 0)
	mail_addr_internalize(bcc, first);
    myfree(copy);
    return (0);
}

/* fwd_reject - format a reply; 4xx codes get a 4.x.x status, 5xx 5.x.x */

static int fwd_reject(SMTPD_STATE *state, long code, const char *dsn,
		              const char *fmt,...) __attribute__((format(printf, 4, 5)));

static int fwd_reject(SMTPD_STATE *state, long code, const char *dsn,
		              const char *fmt,...)
{
    va_list ap;

    vstring_sprintf(state->reply, "%ld %c%s ", code, code >= 500 ? '5' : '4', dsn + 1);
    va_start(ap, fmt);
    vstring_vsprintf_append(state->reply, fmt, ap);
    va_end(ap);
    return (SMTPD_FWD_REJECT);
}

/* fwd_srs_status - srs_reverse() of the recipient, reversed into buf */

static int fwd_srs_status(SMTPD_STATE *state, VSTRING *buf)
{
    if (fwd_srs == 0 || state->recipient == 0)
	return (SRS_NOT_SRS);
    return (srs_reverse(fwd_srs, state->recipient, buf, time((time_t *) 0)));
}

int     smtpd_forward_destination(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);
    int     rc = fwd_srs_status(state, buf);

    vstring_free(buf);
    return (rc == SRS_NOT_SRS ? SMTPD_FWD_DUNNO : SMTPD_FWD_OK);
}

int     smtpd_forward_rcpt_check(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);
    int     rc = fwd_srs_status(state, buf);
    int     ret = SMTPD_FWD_DUNNO;

    vstring_free(buf);
    switch (rc) {
    case SRS_OK:
    case SRS_NOT_SRS:
	break;
    case SRS_ERR_TEMP:
	ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure",
			 state->recipient);
	break;
    default:
	ret = fwd_reject(state, 550, "5.1.1", "<%s>: Recipient address rejected: %s",
			 state->recipient, srs_strerror(rc));
	break;
    }
    return (ret);
}

int     smtpd_forward_unlisted(SMTPD_STATE *state)
{
    VSTRING *buf;
    int     rc;

    if (state->recipient == 0)
	return (SMTPD_FWD_DUNNO);
    buf = vstring_alloc(100);
    rc = fwd_srs_status(state, buf);
    vstring_free(buf);
    if (rc == SRS_OK)
	return (SMTPD_FWD_OK);
    switch (virtual_alias_rcpt_check(fwd_alias, state->recipient)) {
    case VIRTUAL_ALIAS_FOUND:
	return (SMTPD_FWD_OK);
    case VIRTUAL_ALIAS_RETRY:
	return (fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure",
			   state->recipient));
    default:
	return (SMTPD_FWD_DUNNO);
    }
}

/* fwd_tempfail_code - unverified_*_tempfail_action as a reply code */

static long fwd_tempfail_code(const char *action)
{
    if (strcasecmp(action, "reject") == 0)
	return (550);
    if (strcasecmp(action, "defer") == 0 || strcasecmp(action, "defer_if_permit") == 0)
	return (450);
    return (0);				/* permit, dunno */
}

/* The unverified_sender_* and unverified_recipient_* parameters. */
static const struct unverified_params {
    const char *tempfail_action;
    const char *defer_code;
    const char *reject_code;
    const char *reject_reason;
}       unverified_params[2] = {
    {VAR_UNVERIFIED_RECIPIENT_TEMPFAIL_ACTION, VAR_UNVERIFIED_RECIPIENT_DEFER_CODE,
    VAR_UNVERIFIED_RECIPIENT_REJECT_CODE, VAR_UNVERIFIED_RECIPIENT_REJECT_REASON},
    {VAR_UNVERIFIED_SENDER_TEMPFAIL_ACTION, VAR_UNVERIFIED_SENDER_DEFER_CODE,
    VAR_UNVERIFIED_SENDER_REJECT_CODE, VAR_UNVERIFIED_SENDER_REJECT_REASON},
};

int     smtpd_forward_unverified(SMTPD_STATE *state, const char *addr, int is_sender)
{
    const struct unverified_params *params = &unverified_params[is_sender ? 1 : 0];
    const char *class = is_sender ? "Sender address" : "Recipient address";
    const char *dsn = is_sender ? "4.1.7" : "4.1.1";
    VSTRING *why;
    long    poll_count = mail_conf_int(VAR_ADDRESS_VERIFY_POLL_COUNT);
    long    poll_delay = mail_conf_time(VAR_ADDRESS_VERIFY_POLL_DELAY);
    long    code = 0;
    int     status = VERIFY_ADDR_TODO;
    int     rc;
    int     ret = SMTPD_FWD_DUNNO;
    const char *action;

    if (addr == 0 || *addr == 0)
	return (SMTPD_FWD_DUNNO);

    /*
     * An SRS address of ours is checked by its hash, and an address of
     * a virtual alias domain without an alias (or whose lookup failed)
     * is answered by reject_unlisted_recipient. An alias is probed:
     * the verify service sends the probe to its targets.
     */
    why = vstring_alloc(100);
    if ((fwd_srs && srs_reverse(fwd_srs, addr, why, time((time_t *) 0)) != SRS_NOT_SRS)
	|| ((rc = virtual_alias_rcpt_check(fwd_alias, addr)) == VIRTUAL_ALIAS_UNKNOWN
	    || rc == VIRTUAL_ALIAS_RETRY)) {
	vstring_free(why);
	return (SMTPD_FWD_DUNNO);
    }
    for (long count = 0;;) {
	rc = verify_clnt_query(addr, &status, why);
	if (rc != VERIFY_STAT_OK || status != VERIFY_ADDR_TODO)
	    break;
	if (++count >= poll_count)
	    break;
	sleep((unsigned) poll_delay);
    }
    if (rc != VERIFY_STAT_OK) {
	msg_warn("%s service failure", mail_conf_str(VAR_ADDRESS_VERIFY_SERVICE_NAME));
	action = mail_conf_str(params->tempfail_action);
	if ((code = fwd_tempfail_code(action)) != 0) {
	    ret = fwd_reject(state, code, dsn, "<%s>: %s rejected: address verification problem",
			     addr, class);
	    if (strcasecmp(action, "defer_if_permit") == 0)
		ret = SMTPD_FWD_DEFER_IF_PERMIT;
	}
    } else {
	const char *alt;

	switch (status) {
	case VERIFY_ADDR_TODO:
	case VERIFY_ADDR_DEFER:
	    code = mail_conf_int(params->defer_code);
	    break;
	case VERIFY_ADDR_BOUNCE:
	    code = mail_conf_int(params->reject_code);
	    break;
	default:
	    code = 0;
	    break;
	}
	if (code >= 400 && *(alt = mail_conf_str(params->reject_reason)) != 0)
	    vstring_strcpy(why, alt);
	if (code >= 400 && code < 500)
	    ret = fwd_reject(state, code, dsn, "<%s>: %s rejected: unverified address: %.250s",
			     addr, class, vstring_str(why));
	else if (code >= 500)
	    ret = fwd_reject(state, code, dsn, "<%s>: %s rejected: undeliverable address: %s",
			     addr, class, vstring_str(why));
    }
    vstring_free(why);
    return (ret);
}

int     smtpd_forward_expand(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *canon = vstring_alloc(100);
    const char *start = state->recipient;
    int     ret = SMTPD_FWD_OK;

    if (fwd_rcpt)
	virtual_alias_result_free(fwd_rcpt);
    fwd_rcpt = virtual_alias_result_alloc();
    vstring_truncate(fwd_rcpt_bcc, 0);
    /* receive_override_options = no_address_mappings: as received. */
    if (var_input_transp & INPUT_TRANSP_ADDRESS_MAPPING) {
	vstring_free(buf);
	vstring_free(why);
	vstring_free(canon);
	return (ret);
    }
    if (fwd_srs_status(state, buf) == SRS_OK)
	start = vstring_str(buf);
    /* canonical(5) comes before virtual aliasing, as in Postfix's cleanup. */
    if (smtpd_rewrite_envelope(state, ADDR_REWRITE_ENV_RCPT, start, canon) < 0) {
	ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure",
			 state->recipient);
    } else if (virtual_alias_expand(fwd_alias, vstring_str(canon), fwd_rcpt, why)
	       != VIRTUAL_ALIAS_OK) {
	if (strncmp(vstring_str(why), "4.3.0", 5) == 0)
	    ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure",
			     state->recipient);
	else
	    ret = fwd_reject(state, 451, "4.6.0", "<%s>: Alias expansion error",
			     state->recipient);
    } else if (fwd_rcpt->count == 0 && strcmp(vstring_str(canon), state->recipient) != 0) {
	/* Rewritten and not an alias: the new address is the recipient. */
	(void) virtual_alias_result_add(fwd_rcpt, vstring_str(canon), state->recipient);
    }
    if (ret == SMTPD_FWD_OK
	&& fwd_bcc_find(fwd_rcpt_bcc_maps, vstring_str(canon), fwd_rcpt_bcc) < 0)
	ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure",
			 state->recipient);
    vstring_free(buf);
    vstring_free(why);
    vstring_free(canon);
    return (ret);
}

/* fwd_write_bcc - one BCC recipient, rewritten and aliased, NOTIFY=NEVER */
static int fwd_write_bcc(SMTPD_STATE *state, const char *bcc)
{
    VIRTUAL_ALIAS_RESULT *res;
    VSTRING *canon;
    VSTRING *why;
    int     ret = SMTPD_FWD_OK;

    if (*bcc == 0 || (var_input_transp & INPUT_TRANSP_ADDRESS_MAPPING))
	return (SMTPD_FWD_OK);
    canon = vstring_alloc(100);
    why = vstring_alloc(100);
    res = virtual_alias_result_alloc();
    if (smtpd_rewrite_envelope(state, ADDR_REWRITE_ENV_RCPT, bcc, canon) < 0
	|| virtual_alias_expand(fwd_alias, vstring_str(canon), res, why) != VIRTUAL_ALIAS_OK) {
	msg_warn("%s: BCC address <%s>: table lookup or alias expansion failed",
		 state->queue_id, bcc);
	ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure", bcc);
    } else {
	if (res->count == 0)
	    (void) virtual_alias_result_add(res, vstring_str(canon), vstring_str(canon));
	for (size_t i = 0; i < res->count && ret == SMTPD_FWD_OK; i++) {
	    const char *target = res->targets[i].address;

	    if (virtual_alias_result_add(fwd_msg, target, vstring_str(canon))
		&& queue_writer_rcpt(state->qw, target, vstring_str(canon),
				     DSN_NOTIFY_NEVER, (char *) 0) < 0)
		ret = -1;
	}
    }
    virtual_alias_result_free(res);
    vstring_free(canon);
    vstring_free(why);
    return (ret);
}

int     smtpd_forward_write_rcpt(SMTPD_STATE *state, int notify, const char *orcpt)
{
    VSTRING *orcpt_buf = 0;
    int     ret = 0;

    fwd_msg_sync(state);
    if (fwd_rcpt == 0 || fwd_rcpt->count == 0) {
	if (queue_writer_rcpt(state->qw, state->recipient, (char *) 0, notify, orcpt) < 0)
	    return (-1);
	return (fwd_write_bcc(state, vstring_str(fwd_rcpt_bcc)) == SMTPD_FWD_OK ? 0 : -1);
    }

    /*
     * A rewritten recipient keeps the address it was received as in an
     * ORCPT of its own when the client gave none, as Postfix records it:
     * the DSN then says "Original-Recipient: rfc822;alias".
     */
    if (orcpt == 0 && (fwd_rcpt->count > 1
		       || strcasecmp(fwd_rcpt->targets[0].address, state->recipient) != 0)) {
	orcpt_buf = vstring_alloc(100);
	vstring_sprintf(orcpt_buf, "rfc822;%s", state->recipient);
	orcpt = vstring_str(orcpt_buf);
    }
    for (size_t i = 0; i < fwd_rcpt->count; i++) {
	const char *target = fwd_rcpt->targets[i].address;

	if (!virtual_alias_result_add(fwd_msg, target, state->recipient))
	    continue;
	if ((ret = queue_writer_rcpt(state->qw, target, state->recipient, notify, orcpt)) < 0)
	    break;
    }
    if (orcpt_buf)
	vstring_free(orcpt_buf);
    if (ret >= 0 && fwd_write_bcc(state, vstring_str(fwd_rcpt_bcc)) != SMTPD_FWD_OK)
	ret = -1;
    return (ret < 0 ? -1 : 0);
}

int     smtpd_forward_open_bcc(SMTPD_STATE *state, const char *sender)
{
    VSTRING *bcc;
    int     ret;

    if (var_input_transp & INPUT_TRANSP_ADDRESS_MAPPING)
	return (SMTPD_FWD_OK);
    fwd_msg_sync(state);
    bcc = vstring_alloc(100);
    if (fwd_bcc_find(fwd_sender_bcc_maps, sender, bcc) < 0) {
	ret = fwd_reject(state, 451, "4.3.0", "<%s>: Temporary lookup failure", sender);
    } else if ((ret = fwd_write_bcc(state, vstring_str(bcc))) == SMTPD_FWD_OK) {
	vstring_strcpy(bcc, mail_conf_str(VAR_ALWAYS_BCC));
	ret = fwd_write_bcc(state, vstring_str(bcc));
    }
    vstring_free(bcc);
    return (ret);
}
