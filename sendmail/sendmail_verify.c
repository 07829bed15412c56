/*
 * NAME
 *	sendmail_verify - sendmail -bv: verify recipients, mail a report
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	void sm_verify(SM_MESSAGE *msg);
 * DESCRIPTION
 *	sm_verify() does what Postfix's sendmail -bv does: it reads no
 *	message; it hands postdrop a probe from the sender to the
 *	command-line recipients, with the attribute user_verify=1
 *	(maildrop_file.h) and Postfix's text:
 *
 *	    From: SENDER		(not for the null sender)
 *	    Subject: probe
 *	    To:	RCPT1,
 *		RCPT2
 *
 *	and prints "Mail Delivery Status Report will be mailed to
 *	<SENDER>." on standard output. pickup gives the probe the usual
 *	cleanup (rewriting, aliases, BCC, checks); qmgr has each recipient
 *	tried up to the RCPT reply, without delivery
 *	(DEL_REQ_FLAG_USER_VERIFY), and the bounce service mails the sender
 *	the delivery status report (bounce(8)).
 * DIAGNOSTICS
 *	As sm_enqueue(); "-t option cannot be used with -bv" (Postfix's
 *	words).
 * SEE ALSO
 *	sendmail(1), pickup(8), qmgr(8), bounce(8)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "global/mail_conf.h"
#include "global/maildrop_file.h"
#include "sendmail.h"

void    sm_verify(SM_MESSAGE *msg)
{
    SM_DROP *drop;
    VSTRING *line = vstring_alloc(100);

    if (msg->extract)
	sm_fatal("-t option cannot be used with -bv");
    if (msg->rcpts->argc == 0)
	sm_fatal("%s(%ld): Recipient addresses must be specified on the command "
		 "line or via the -t option", msg->sender, (long) msg->uid);
    drop = sm_drop_open(msg, 0);
    sm_drop_envelope(drop, msg, msg->rcpts);
    if (*msg->sender) {
	vstring_sprintf(line, "From: %s", msg->sender);
	sm_drop_rec(drop, MAILDROP_REC_LINE, vstring_str(line), vstring_len(line));
    }
    sm_drop_rec(drop, MAILDROP_REC_LINE, "Subject: probe", strlen("Subject: probe"));
    for (size_t i = 0; i < msg->rcpts->argc; i++) {
	vstring_sprintf(line, "%s\t%s%s", i == 0 ? "To:" : "", msg->rcpts->argv[i],
			i + 1 < msg->rcpts->argc ? "," : "");
	sm_drop_rec(drop, MAILDROP_REC_LINE, vstring_str(line), vstring_len(line));
    }
    sm_drop_rec(drop, MAILDROP_REC_END, "", 0);
    if (sm_drop_close(drop) != 0)
	sm_fatal("%s(%ld): unable to execute %s/postdrop -r: Application error",
		 msg->sender, (long) msg->uid, mail_conf_str(VAR_COMMAND_DIRECTORY));
    printf("Mail Delivery Status Report will be mailed to <%s>.\n", msg->sender);
    if (fflush(stdout) != 0)
	sm_fatal("write to standard output: %s", strerror(errno));
    vstring_free(line);
}
