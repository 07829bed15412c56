/*
 * NAME
 *	pickup - turn locally submitted mail into queue files
 * SYNOPSIS
 *	pickup [generic daemon options]	(master.cf: public/pickup, wakeup 60)
 * DESCRIPTION
 *	A trigger server (mail_server.h): postdrop wakes it through
 *	public/pickup after each message, and master every wakeup
 *	seconds. Each time, pickup looks at every complete file of
 *	maildrop/ (maildrop_file.h) and writes a queue file into
 *	incoming/ with queue_writer (the same code and durability rule as
 *	smtpd), then removes the maildrop file and wakes qmgr. A crash in
 *	between leaves both files: the message may go out twice, never
 *	zero times.
 *
 *	What happens to the message is what Postfix's cleanup does to
 *	local mail (pickup.h lists the files that do it):
 *	- the sender and the recipients are rewritten (canonical form,
 *	  @$myorigin, canonical_maps, sender_canonical_maps,
 *	  recipient_canonical_maps, masquerade_domains: addr_rewrite(3));
 *	  recipients go through virtual_alias_maps, and duplicates are
 *	  dropped; always_bcc, sender_bcc_maps and recipient_bcc_maps add
 *	  their recipients (auto_bcc(3));
 *	- our Received: header comes first ("Received: by HOST (Postfix,
 *	  from userid UID) id QUEUEID; DATE");
 *	- every header, ours included, goes through header_checks, the
 *	  headers of message_drop_headers (Bcc:, Resent-Bcc:, ...) are
 *	  removed, the addresses of the others are rewritten as the
 *	  envelope's are;
 *	- at the end of the headers Message-Id:, Date: and From: are added
 *	  when missing (Resent-Message-Id:, Resent-Date: and
 *	  Resent-From: instead when the message has Resent- headers);
 *	  From: is "Full Name <sender>", or MAILER-DAEMON for the null
 *	  sender; not for sendmail -G (gateway) mail, unless
 *	  always_add_missing_headers says so, and its headers are then
 *	  rewritten only with remote_header_rewrite_domain set;
 *	- a header longer than header_size_limit is cut there;
 *	- body lines go through body_checks; hopcount_limit Received:
 *	  headers make a mail loop;
 *	- non_smtpd_milters see the message (pickup_milter.c);
 *	- content_filter, or a FILTER action, is recorded.
 *	A 5xx refusal (header_checks or body_checks REJECT, a milter, a
 *	mail loop) returns the message to its sender (pickup_bounce.c), as
 *	Postfix's cleanup does, since sendmail has long returned; a 4xx
 *	refusal leaves the file in maildrop/ for a later wakeup.
 *	receive_override_options is honoured as by smtpd.
 *
 *	pickup trusts nothing in a maildrop file: it belongs to the user
 *	who submitted it. A file that is not a regular file with one link,
 *	or whose records are out of order or malformed, is moved to
 *	corrupt/ with a warning. A file without its completeness mark is
 *	being written and is left alone.
 *
 *	Privileges: runs as mail_owner (master.cf unpriv), chrooted when
 *	master.cf says so; the tables are opened before.
 * DIAGNOSTICS
 *	Postfix's log lines: "QUEUEID: uid=UID from=<sender>", then
 *	"QUEUEID: message-id=<id>". Warnings for files that cannot be
 *	used; a queue file that cannot be written leaves the maildrop
 *	file for the next wakeup.
 * SEE ALSO
 *	sendmail(1), postdrop(1), pickup(8), qmgr(8)
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/stringops.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"
#include "global/input_transp.h"
#include "global/virtual_alias.h"
#include "pickup.h"

PICKUP_CONF pickup_conf;

/* pickup_service - look at every file of maildrop/ */
static void pickup_service(char *buf, ssize_t len, const char *service, char **argv)
{
    DIR    *dir;
    struct dirent *de;
    int     queued = 0;
    int     status;

    (void) buf;
    (void) len;
    (void) service;
    (void) argv;
    if ((dir = opendir(MAIL_QUEUE_MAILDROP)) == 0) {
	msg_warn("open %s: %s", MAIL_QUEUE_MAILDROP, strerror(errno));
	return;
    }
    while ((de = readdir(dir)) != 0) {
	if (!mail_queue_id_ok(de->d_name))
	    continue;
	status = pickup_file(de->d_name);
	if (status == PICKUP_QUEUED)
	    queued++;
	else if (status == PICKUP_RETRY)
	    break;				/* the queue is sick: later */
    }
    closedir(dir);
    if (queued > 0)
	(void) mail_trigger("public", mail_conf_str(VAR_QUEUE_SERVICE_NAME),
			    (char[]) {QMGR_REQ_SCAN_INCOMING}, 1);
}

/* pickup_pre_init - as root, before chroot: the tables */
static void pickup_pre_init(const char *service, char **argv)
{
    PICKUP_CONF *pc = &pickup_conf;

    (void) service;
    (void) argv;
    pc->input_transp = input_transp_mask(VAR_RECEIVE_OVERRIDE_OPTIONS,
				       mail_conf_str(VAR_RECEIVE_OVERRIDE_OPTIONS));
    pc->alias = virtual_alias_create();
    pc->rewrite = addr_rewrite_create();
    pc->bcc = auto_bcc_create();
    if (!(pc->input_transp & INPUT_TRANSP_HEADER_BODY))
	pc->checks = hbc_maps_create(VAR_HEADER_CHECKS, VAR_BODY_CHECKS, HBC_FLAG_REDIRECT);
    pc->drop_headers = argv_split_list(mail_conf_str(VAR_MESSAGE_DROP_HEADERS));
    pc->always_add = mail_conf_bool(VAR_ALWAYS_ADD_MISSING_HEADERS);
    pc->hopcount_limit = mail_conf_int(VAR_HOPCOUNT_LIMIT);
    pc->header_limit = mail_conf_int(VAR_HEADER_SIZE_LIMIT);
    pc->body_limit = mail_conf_int(VAR_BODY_CHECKS_SIZE_LIMIT);
    pc->content_filter = mystrdup(mail_conf_str(VAR_CONTENT_FILTER));
    pickup_milter_init();
}

int     main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
	.pre_init = pickup_pre_init,
	.unlimited = 1,
    };

    trigger_server_main(argc, argv, pickup_service, &opts);
    return (0);
}
