/*
 * NAME
 *	postlog - log a line the way the mail system does
 * SYNOPSIS
 *	postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text ...]
 * DESCRIPTION
 *	Logs text (the arguments joined with spaces, or else each line
 *	of standard input) where the mail system logs: maillog_file when
 *	it is set and may be written, else syslog (mail_cmd_log(3)). The
 *	tag is syslog_name/postlog unless -t gives another; lines look
 *	like "Dec  7 14:23:45 host TAG[PID]: text". When standard error
 *	is a terminal the line is shown there too, as "TAG: text".
 *
 *	-p priority: info (default), warn or warning, error, fatal,
 *	panic; the level word is put before the text ("warning: ...") and,
 *	as in Postfix, postlog does not exit for fatal or panic. -i is
 *	accepted (the PID is always logged). -c names the configuration
 *	folder.
 *
 *	Debian installs Postfix's postlog without set-group-id: it
 *	reaches maillog_file through the postlog service. Here the
 *	file is written directly, or syslog is used by those who may not.
 * DIAGNOSTICS
 *	"postlog: fatal: bad severity: \"NAME\"", exit 1 (as Postfix).
 * SEE ALSO
 *	postfix(1), postconf(5) maillog_file, syslog_name
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_cmd_log.h"

/* level - a -p priority name, or -1 */
static int level(const char *name)
{
    static const struct {
	const char *name;
	int     level;
    } names[] = {
	{"info", MSG_INFO}, {"warn", MSG_WARN}, {"warning", MSG_WARN},
	{"error", MSG_ERROR}, {"fatal", MSG_FATAL}, {"panic", MSG_PANIC},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	if (strcasecmp(names[i].name, name) == 0)
	    return (names[i].level);
    return (-1);
}

/* log_text - one line at a level, without exiting for fatal */
static void log_text(int lvl, const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vprintf(lvl, fmt, ap);
    va_end(ap);
}

int     main(int argc, char **argv)
{
    const char *config_dir = 0;
    const char *tag = 0;
    const char *priority = "info";
    int     lvl;
    int     ch;

    msg_init("postfix", "postlog");
    msg_to_stderr(1);
    msg_stderr_command_style(1);
    while ((ch = getopt(argc, argv, "c:ip:t:v")) != -1) {
	switch (ch) {
	case 'c':
	    config_dir = optarg;
	    break;
	case 'i':
	    break;
	case 'p':
	    priority = optarg;
	    break;
	case 't':
	    tag = optarg;
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    msg_fatal("usage: postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]");
	}
    }
    if ((lvl = level(priority)) < 0)
	msg_fatal("bad severity: \"%s\"", priority);
    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
	msg_fatal("setenv: %s", strerror(errno));
    mail_conf_read(config_dir);
    mail_cmd_log_init("postlog");
    msg_to_stderr(isatty(2));
    if (tag)
	msg_tag(tag);

    if (optind < argc) {
	VSTRING *text = vstring_alloc(100);

	for (int i = optind; i < argc; i++)
	    vstring_sprintf_append(text, "%s%s", i > optind ? " " : "", argv[i]);
	log_text(lvl, "%s", vstring_str(text));
	vstring_free(text);
    } else {
	VSTREAM *in = vstream_fdopen(0);
	VSTRING *line = vstring_alloc(100);
	int     ret;

	while ((ret = vstream_get_line(in, line, 4000)) != VSTREAM_EOF) {
	    log_text(lvl, "%s", vstring_str(line));
	    /* One log line per input line: the rest of a long one goes. */
	    if (ret == VSTREAM_LONG) {
		VSTRING *rest = vstring_alloc(100);

		while (vstream_get_line(in, rest, 4000) == VSTREAM_LONG)
		     /* void */ ;
		vstring_free(rest);
	    }
	}
	vstring_free(line);
	vstream_release(in);
    }
    exit(0);
}
