/*
 * NAME
 *	testd - a tiny daemon for master's integration tests
 * SYNOPSIS
 *	testd [skeleton options] [trigger FILE] [crash]
 * DESCRIPTION
 *	Built on the mail_server skeletons so tests can drive master
 *	without the real daemons.
 *
 *	Single server (default): greets each client with
 *	"220 testd service=NAME pid=PID uid=UID gid=GID" and answers
 *	one line per command: "PARAM name" -> "250 value" (the expanded
 *	parameter), "LOG text" -> logs text at info level and "250 ok",
 *	"QUIT" -> "221 bye" and close, anything else -> "250 ok".
 *
 *	With "trigger FILE": a trigger server that appends every trigger
 *	it receives to FILE, one line "service bytes" per trigger.
 *
 *	With "crash": exits with status 1 right after initialization
 *	(for throttling tests).
 * DIAGNOSTICS
 *	None beyond the skeleton's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"

static const char *trigger_file;

static void serve(VSTREAM *client, const char *service, char **argv)
{
    VSTRING *line = vstring_alloc(100);

    (void) argv;
    vstream_fprintf(client, "220 testd service=%s pid=%ld uid=%ld gid=%ld\r\n",
		    service, (long) getpid(), (long) getuid(), (long) getgid());
    vstream_fflush(client);
    vstream_set_timeout(client, 60);
    while (vstream_get_line(client, line, 1000) != VSTREAM_EOF) {
	char   *cmd = vstring_str(line);

	cmd[strcspn(cmd, "\r")] = 0;
	if (strcasecmp(cmd, "QUIT") == 0) {
	    vstream_fputs(client, "221 bye\r\n");
	    break;
	} else if (strncasecmp(cmd, "LOG ", 4) == 0) {
	    msg_info("%s", cmd + 4);
	    vstream_fputs(client, "250 ok\r\n");
	} else if (strncasecmp(cmd, "PARAM ", 6) == 0) {
	    const char *raw = mail_conf_raw(cmd + 6);
	    char   *value = mail_conf_expand(raw ? raw : "");

	    vstream_fprintf(client, "250 %s\r\n", value);
	    free(value);
	} else {
	    vstream_fputs(client, "250 ok\r\n");
	}
	vstream_fflush(client);
    }
    vstream_fflush(client);
    vstring_free(line);
}

static void trigger(char *buf, ssize_t len, const char *service, char **argv)
{
    int     fd;
    VSTRING *rec = vstring_alloc(64);

    (void) argv;
    vstring_sprintf(rec, "%s %.*s\n", service, (int) len, buf);
    if ((fd = open(trigger_file, O_WRONLY | O_APPEND | O_CREAT, 0666)) >= 0) {
	if (write(fd, vstring_str(rec), vstring_len(rec)) < 0)
	    msg_warn("write %s: %m", trigger_file);
	close(fd);
    }
    vstring_free(rec);
}

static void crash_init(const char *service, char **argv)
{
    (void) service;
    for (; *argv; argv++)
	if (strcmp(*argv, "crash") == 0)
	    exit(1);
}

int     main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts = {0};

    opts.post_init = crash_init;
    for (int i = 1; i < argc - 1; i++)
	if (strcmp(argv[i], "trigger") == 0)
	    trigger_file = argv[i + 1];
    if (trigger_file) {
	trigger_server_main(argc, argv, trigger, &opts);
    } else {
	single_server_main(argc, argv, serve, &opts);
    }
    return (0);
}
