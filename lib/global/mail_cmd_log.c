/*
 * NAME
 *	mail_cmd_log - where a command's log lines go
 * DESCRIPTION
 *	See mail_cmd_log.h.
 */
#include <fcntl.h>
#include <unistd.h>

#include "util/msg.h"
#include "global/mail_conf.h"
#include "global/maillog.h"
#include "global/mail_cmd_log.h"

void    mail_cmd_log_init(const char *prog)
{
    const char *file = maillog_file();
    int     fd;

    msg_init(mail_conf_str(VAR_SYSLOG_NAME), prog);
    if (*file && (fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC
			      | (geteuid() == 0 ? O_CREAT : 0), 0644)) >= 0)
	msg_to_fd(fd);
    else
	msg_to_syslog(mail_conf_str(VAR_SYSLOG_FACILITY));
}
