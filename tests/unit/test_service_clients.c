/*
 * NAME
 *	test_service_clients - service clients and readers on the wire
 * DESCRIPTION
 *	A forked fake service listens on public/flush, private/bounce or
 *	private/verify in a temporary queue directory, reads the request
 *	either as raw pairs (the wire form, byte for byte) or with the
 *	service's own reader (flush_request_read, bounce_request_read,
 *	verify_request_read), writes what it got to a file and answers
 *	with a chosen reply; the test checks both sides, and that the
 *	fake service got a whole request (its exit status).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "util/attr.h"
#include "util/vstream.h"
#include "util/vstring.h"
#include "global/flush_client.h"
#include "global/bounce_client.h"
#include "global/verify_clnt.h"
#include "unit.h"

static char dir[] = "/tmp/test_service_clients.XXXXXX";

/* A reader writes what it got to fp; 0 when it got a whole request. */
typedef int (*READER) (VSTREAM *, FILE *);

static int raw_reader(VSTREAM *s, FILE *fp)
{
    ATTR   *a = attr_alloc();
    int     ok = attr_recv(s, a, 1000, 100) == 1;

    for (size_t i = 0; ok && i < attr_count(a); i++)
	fprintf(fp, "%s=%s\n", attr_name(a, i), attr_value(a, i));
    attr_free(a);
    return (ok ? 0 : -1);
}

static int flush_reader(VSTREAM *s, FILE *fp)
{
    FLUSH_REQUEST req;
    VSTRING *why = vstring_alloc(10);
    int     got = flush_request_read(s, &req, why);

    if (got > 0)
	fprintf(fp, "%s site=%s queue_id=%s\n", req.request,
		req.site ? req.site : "(none)", req.queue_id ? req.queue_id : "(none)");
    flush_request_free(&req);
    vstring_free(why);
    return (got > 0 ? 0 : -1);
}

static int bounce_reader(VSTREAM *s, FILE *fp)
{
    BOUNCE_REQUEST req;
    VSTRING *why = vstring_alloc(10);
    int     got = bounce_request_read(s, &req, why);

    if (got > 0)
	fprintf(fp, "%s %s %s\n", req.request, req.queue_name, req.queue_id);
    bounce_request_free(&req);
    vstring_free(why);
    return (got > 0 ? 0 : -1);
}

static int verify_reader(VSTREAM *s, FILE *fp)
{
    VERIFY_REQUEST req;
    VSTRING *why = vstring_alloc(10);
    int     got = verify_request_read(s, &req, why);

    if (got > 0)
	fprintf(fp, "%s %s %d \"%s\"\n", req.request, req.address, req.addr_status,
		req.reason);
    verify_request_free(&req);
    vstring_free(why);
    return (got > 0 ? 0 : -1);
}

/*
 * fake_service - answer one request with the reply pairs ("name",
 * "value", ..., NULL), write what the reader got to out. The child exits
 * 0 when its reader got a whole request.
 */
static pid_t fake_service(const char *path, READER reader, const char **reply,
			          const char *out)
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
	int     ok;

	vstream_set_timeout(s, 10);
	ok = reader(s, fp) == 0;
	fclose(fp);
	for (; reply[0]; reply += 2)
	    attr_add(a, reply[0], reply[1]);
	attr_send(s, a);
	vstream_close(s);
	_exit(ok ? 0 : 1);
    }
    close(lfd);
    return (pid);
}

/* reaped - the fake service's exit status */
static int reaped(pid_t pid)
{
    int     status;

    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
	return (-1);
    return (WEXITSTATUS(status));
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

static const char *status_0[] = {ATTR_NAME_STATUS, "0", 0};
static const char *status_4[] = {ATTR_NAME_STATUS, "4", 0};

UNIT_TEST(flush_send_site_deny)
{
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", raw_reader, status_4, "req.txt");
    EXPECT_INT(flush_send_site("example.com"), FLUSH_STAT_DENY);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "request=send_site\nsite=example.com\n");
}

UNIT_TEST(flush_add_ok)
{
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", raw_reader, status_0, "req.txt");
    EXPECT_INT(flush_add("example.com", "72C22A73A21"), FLUSH_STAT_OK);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "request=add\nsite=example.com\nqueue_id=72C22A73A21\n");
}

UNIT_TEST(flush_service_reader)
{
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", flush_reader, status_0, "req.txt");
    EXPECT_INT(flush_add("example.com", "72C22A73A21"), FLUSH_STAT_OK);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "add site=example.com queue_id=72C22A73A21\n");
    pid = fake_service("public/flush", flush_reader, status_0, "req.txt");
    EXPECT_INT(flush_purge(), FLUSH_STAT_OK);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "purge site=(none) queue_id=(none)\n");
}

UNIT_TEST(flush_unreachable)
{
    setup();
    unlink("public/flush");
    EXPECT_INT(flush_purge(), FLUSH_STAT_FAIL);
}

UNIT_TEST(flush_reply_without_status)
{
    static const char *no_status[] = {"answer", "0", 0};
    static const char *bad_status[] = {ATTR_NAME_STATUS, "zero", 0};
    pid_t   pid;

    setup();
    pid = fake_service("public/flush", raw_reader, no_status, "req.txt");
    EXPECT_INT(flush_refresh(), FLUSH_STAT_FAIL);
    EXPECT_INT(reaped(pid), 0);
    pid = fake_service("public/flush", raw_reader, bad_status, "req.txt");
    EXPECT_INT(flush_refresh(), FLUSH_STAT_FAIL);
    EXPECT_INT(reaped(pid), 0);
    unlink("public/flush");
}

UNIT_TEST(bounce_flush_request)
{
    pid_t   pid;

    setup();
    pid = fake_service("private/bounce", raw_reader, status_0, "req.txt");
    EXPECT_INT(bounce_flush("active", "72C22A73A21"), 0);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "request=flush\nqueue_name=active\nqueue_id=72C22A73A21\n");
    unlink("private/bounce");
    EXPECT_INT(bounce_warn("active", "72C22A73A21"), -1);
}

UNIT_TEST(bounce_service_reader)
{
    pid_t   pid;

    setup();
    pid = fake_service("private/bounce", bounce_reader, status_4, "req.txt");
    EXPECT_INT(bounce_success("deferred", "72C22A73A21"), 4);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "success deferred 72C22A73A21\n");
    unlink("private/bounce");
}

UNIT_TEST(verify_query_and_update)
{
    static const char *answer[] = {ATTR_NAME_STATUS, "0", VERIFY_ATTR_ADDR_STATUS, "2",
    VERIFY_ATTR_REASON, "550 5.1.1 no such user", 0};
    static const char *nonsense[] = {ATTR_NAME_STATUS, "0", VERIFY_ATTR_ADDR_STATUS, "9", 0};
    VSTRING *why = vstring_alloc(10);
    int     addr_status = -1;
    pid_t   pid;

    setup();
    pid = fake_service("private/verify", verify_reader, answer, "req.txt");
    EXPECT_INT(verify_clnt_query("u@example.com", &addr_status, why), VERIFY_STAT_OK);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_INT(addr_status, VERIFY_ADDR_BOUNCE);
    EXPECT_STR(vstring_str(why), "550 5.1.1 no such user");
    EXPECT_STR(slurp("req.txt"), "query u@example.com -1 \"\"\n");

    pid = fake_service("private/verify", verify_reader, status_0, "req.txt");
    EXPECT_INT(verify_clnt_update("u@example.com", VERIFY_ADDR_DEFER, "4.4.1 later"),
	       VERIFY_STAT_OK);
    EXPECT_INT(reaped(pid), 0);
    EXPECT_STR(slurp("req.txt"), "update u@example.com 1 \"4.4.1 later\"\n");

    /* An address status the client does not know is a failure. */
    pid = fake_service("private/verify", verify_reader, nonsense, "req.txt");
    EXPECT_INT(verify_clnt_query("u@example.com", &addr_status, why), VERIFY_STAT_FAIL);
    EXPECT_INT(reaped(pid), 0);

    /* The service's reader refuses an update it cannot store. */
    pid = fake_service("private/verify", verify_reader, status_0, "req.txt");
    EXPECT_INT(verify_clnt_update("u@example.com", VERIFY_ADDR_TODO, ""), VERIFY_STAT_OK);
    EXPECT_INT(reaped(pid), 1);
    EXPECT_STR(slurp("req.txt"), "");
    unlink("private/verify");
    vstring_free(why);
}

/* entries - what a folder holds besides . and .., or -1 */
static int entries(const char *path)
{
    DIR    *dp = opendir(path);
    struct dirent *de;
    int     n = 0;

    if (dp == 0)
	return (-1);
    while ((de = readdir(dp)) != 0)
	if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
	    n++;
    closedir(dp);
    return (n);
}

/*
 * Runs last: the clients leave nothing in the queue directory (every
 * socket is gone with the test that made it), and the temporary queue
 * directory is removed.
 */
UNIT_TEST(nothing_left_behind)
{
    setup();
    EXPECT_INT(entries("public"), 0);
    EXPECT_INT(entries("private"), 0);
    EXPECT_INT(unlink("req.txt"), 0);
    EXPECT_INT(entries("."), 2);
    EXPECT_INT(rmdir("public"), 0);
    EXPECT_INT(rmdir("private"), 0);
    EXPECT_INT(chdir("/"), 0);
    EXPECT_INT(rmdir(dir), 0);
    EXPECT(access(dir, F_OK) < 0 && errno == ENOENT);
}

int     main(void)
{
    return (unit_run());
}
