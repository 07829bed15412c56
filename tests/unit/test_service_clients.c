/*
 * NAME
 *	test_service_clients - flush_client and bounce_client on the wire
 * DESCRIPTION
 *	A forked fake service listens on public/flush or private/bounce in
 *	a temporary queue directory, records the request it got and answers
 *	with a chosen status; the test checks both sides.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/attr.h"
#include "util/vstream.h"
#include "global/flush_client.h"
#include "global/bounce_client.h"
#include "unit.h"

static char dir[] = "/tmp/test_service_clients.XXXXXX";

/* fake_service - answer one request with status, write it to out */
static pid_t fake_service(const char *path, const char *status, const char *out)
{
    struct sockaddr_un sun;
    int     lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t   pid;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    unlink(path);
    if (bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0 || listen(lfd, 5) < 0) {
	perror("bind");
	exit(1);
    }
    if ((pid = fork()) == 0) {
	int     fd = accept(lfd, 0, 0);
	VSTREAM *s = vstream_fdopen(fd);
	ATTR   *a = attr_alloc();
	FILE   *fp = fopen(out, "w");

	vstream_set_timeout(s, 10);
	if (attr_recv(s, a, 1000, 100) == 1)
	    for (size_t i = 0; i < attr_count(a); i++)
		fprintf(fp, "%s=%s\n", attr_name(a, i), attr_value(a, i));
	fclose(fp);
	attr_reset(a);
	attr_add(a, ATTR_NAME_STATUS, status);
	attr_send(s, a);
	vstream_close(s);
	_exit(0);
    }
    close(lfd);
    return (pid);
}

static char *slurp(const char *path)
{
    static char buf[1000];
    FILE   *fp = fopen(path, "r");
    size_t  n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

    buf[n] = 0;
    if (fp)
	fclose(fp);
    return (buf);
}

static void setup(void)
{
    static int done;

    if (done++)
	return;
    if (mkdtemp(dir) == 0 || chdir(dir) < 0)
	exit(1);
    mkdir("public", 0700);
    mkdir("private", 0700);
    mail_conf_set("ipc_timeout", "10s");
}

UNIT_TEST(flush_send_site_deny)
{
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", "4", "req.txt");
    EXPECT_INT(flush_send_site("example.com"), FLUSH_STAT_DENY);
    waitpid(pid, 0, 0);
    EXPECT_STR(slurp("req.txt"), "request=send_site\nsite=example.com\n");
}

UNIT_TEST(flush_add_ok)
{
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", "0", "req.txt");
    EXPECT_INT(flush_add("example.com", "72C22A73A21"), FLUSH_STAT_OK);
    waitpid(pid, 0, 0);
    EXPECT_STR(slurp("req.txt"), "request=add\nsite=example.com\nqueue_id=72C22A73A21\n");
}

UNIT_TEST(flush_unreachable)
{
    setup();
    unlink("public/flush");
    EXPECT_INT(flush_purge(), FLUSH_STAT_FAIL);
}

UNIT_TEST(bounce_flush_request)
{
    pid_t   pid;

    setup();
    pid = fake_service("private/bounce", "0", "req.txt");
    EXPECT_INT(bounce_flush("active", "72C22A73A21"), 0);
    waitpid(pid, 0, 0);
    EXPECT_STR(slurp("req.txt"), "request=flush\nqueue_name=active\nqueue_id=72C22A73A21\n");
    unlink("private/bounce");
    EXPECT_INT(bounce_warn("active", "72C22A73A21"), -1);
}

UNIT_TEST(cleanup)
{
    setup();
    unlink("req.txt");
    rmdir("public");
    rmdir("private");
    if (chdir("/") == 0)
	rmdir(dir);
}

int     main(void)
{
    return (unit_run());
}
