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
 *	What happens to the message, as Postfix's cleanup does it for
 *	local mail (pickup_message.c):
 *	- the sender and the recipients without "@" get "@$myorigin"
 *	  (not with sendmail -G); recipients go through
 *	  virtual_alias_maps, and duplicates are dropped;
 *	- our Received: header comes first ("Received: by HOST (Postfix,
 *	  from userid UID) id QUEUEID; DATE");
 *	- Bcc: and Resent-Bcc: headers are removed;
 *	- at the end of the headers Message-Id:, Date: and From: are added
 *	  when missing (Resent-Message-Id:, Resent-Date: and
 *	  Resent-From: instead when the message has Resent- headers);
 *	  From: is "Full Name <sender>", or MAILER-DAEMON for the null
 *	  sender;
 *	- a header longer than header_size_limit is cut there.
 *
 *	pickup trusts nothing in a maildrop file: it belongs to the user
 *	who submitted it. A file that is not a regular file with one link,
 *	or whose records are out of order or malformed, is moved to
 *	corrupt/ with a warning. A file without its completeness mark is
 *	being written and is left alone.
 *
 *	Privileges: runs as mail_owner (master.cf unpriv), chrooted when
 *	master.cf says so; virtual_alias_maps are opened before.
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
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/mail_trigger.h"
#include "global/qmgr_trigger.h"
#include "global/virtual_alias.h"
#include "pickup.h"

VIRTUAL_ALIAS *pickup_alias;

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

/* pickup_pre_init - as root, before chroot: the alias tables */
static void pickup_pre_init(const char *service, char **argv)
{
    (void) service;
    (void) argv;
    pickup_alias = virtual_alias_create();
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
