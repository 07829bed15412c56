/*
 * NAME
 *	test_xsasl - SASL servers: base64, security options, the AUTH
 *	exchange, and the Dovecot client's reading of odd replies
 * DESCRIPTION
 *	The AUTH exchange (xsasl_smtp.c) runs against a scripted server
 *	type; the Dovecot client (xsasl_dovecot.c) against a child process
 *	that speaks the server side of Dovecot's protocol from a script,
 *	for what a real Dovecot rarely says: tab escapes, replies of other
 *	requests, a temporary failure, a lost connection, a wrong version.
 *	The real Dovecot and Cyrus SASL are in the integration tests
 *	(test_smtpd_sasl.py).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "unit.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "global/xsasl_server.h"
#include "global/xsasl_smtp.h"

/* Base64 and options. */

UNIT_TEST(base64_round_trip)
{
    VSTRING *enc = vstring_alloc(10), *dec = vstring_alloc(10);
    const char *cases[] = {"", "a", "ab", "abc", "\0alice\0secret", 0};
    size_t  lens[] = {0, 1, 2, 3, 13};

    for (int i = 0; cases[i]; i++) {
	xsasl_base64_encode(cases[i], lens[i], enc);
	EXPECT_INT(xsasl_base64_decode(vstring_str(enc), dec), 0);
	EXPECT_INT(vstring_len(dec), lens[i]);
	EXPECT(memcmp(vstring_str(dec), cases[i], lens[i]) == 0);
    }
    xsasl_base64_encode("\0bob\0pw2", 8, enc);
    EXPECT_STR(vstring_str(enc), "AGJvYgBwdzI=");
    vstring_free(enc);
    vstring_free(dec);
}

UNIT_TEST(base64_strict)
{
    VSTRING *dec = vstring_alloc(10);
    const char *bad[] = {"!!!", "abc", "ab=c", "====", "a===", "YW Jj", "YWJj\n", "=YWJ", 0};

    for (int i = 0; bad[i]; i++)
	EXPECT_INT(xsasl_base64_decode(bad[i], dec), -1);
    EXPECT_INT(xsasl_base64_decode("YQ==", dec), 0);
    EXPECT_STR(vstring_str(dec), "a");
    EXPECT_INT(xsasl_base64_decode("YWI=", dec), 0);
    EXPECT_STR(vstring_str(dec), "ab");
    vstring_free(dec);
}

UNIT_TEST(security_flags)
{
    EXPECT_INT(xsasl_security_flags(""), 0);
    EXPECT_INT(xsasl_security_flags("noanonymous"), XSASL_SEC_NOANONYMOUS);
    EXPECT_INT(xsasl_security_flags("noplaintext, noanonymous\tnodictionary"),
	       XSASL_SEC_NOPLAINTEXT | XSASL_SEC_NOANONYMOUS | XSASL_SEC_NODICTIONARY);
    EXPECT_INT(xsasl_security_flags("NoActive mutual_auth forward_secrecy"),
	       XSASL_SEC_NOACTIVE | XSASL_SEC_MUTUAL_AUTH | XSASL_SEC_FORWARD_SECRECY);
}

/* The AUTH exchange against a scripted server type. */

typedef struct SCRIPT_SERVER {
    XSASL_SERVER server;
    const char **steps;			/* "MORE text", "DONE", "FAIL why", "TEMP why" */
    int     next;
    VSTRING *seen;			/* what the client sent, "|"-separated */
} SCRIPT_SERVER;

static int script_step(SCRIPT_SERVER *s, const char *input, VSTRING *reply)
{
    const char *step = s->steps[s->next++];

    vstring_sprintf_append(s->seen, "%s|", input ? input : "(none)");
    vstring_strcpy(reply, step + 5);
    if (strncmp(step, "MORE", 4) == 0)
	return (XSASL_AUTH_MORE);
    if (strncmp(step, "DONE", 4) == 0)
	return (XSASL_AUTH_DONE);
    if (strncmp(step, "TEMP", 4) == 0)
	return (XSASL_AUTH_TEMP);
    return (XSASL_AUTH_FAIL);
}

static int script_first(XSASL_SERVER *xp, const char *mech, const char *init, VSTRING *reply)
{
    (void) mech;
    return (script_step((SCRIPT_SERVER *) xp, init, reply));
}

static int script_next(XSASL_SERVER *xp, const char *resp, VSTRING *reply)
{
    return (script_step((SCRIPT_SERVER *) xp, resp, reply));
}

static const char *script_user(XSASL_SERVER *xp)
{
    (void) xp;
    return ("bob\nx");
}

typedef struct IO_CTX {
    VSTRING *replies;			/* what the exchange answered */
    const char **inputs;		/* the client's lines; "LONG", "LOST" */
    int     next;
} IO_CTX;

static void io_reply(void *ctx, const char *text)
{
    vstring_sprintf_append(((IO_CTX *) ctx)->replies, "%s\n", text);
}

static int io_read(void *ctx, VSTRING *buf, long limit)
{
    IO_CTX *io = ctx;
    const char *in = io->inputs[io->next++];

    (void) limit;
    if (in == 0 || strcmp(in, "LOST") == 0)
	return (XSASL_SMTP_READ_LOST);
    if (strcmp(in, "LONG") == 0) {
	vstring_strcpy(buf, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	return (XSASL_SMTP_READ_LONG);
    }
    vstring_strcpy(buf, in);
    return (XSASL_SMTP_READ_OK);
}

static int exchange(const char **steps, const char **inputs, const char *init,
		            VSTRING *replies, VSTRING *seen)
{
    SCRIPT_SERVER s;
    IO_CTX ctx = {replies, inputs, 0};
    XSASL_SMTP_IO io = {io_reply, io_read, &ctx};

    memset(&s, 0, sizeof(s));
    s.server.first = script_first;
    s.server.next = script_next;
    s.server.username = script_user;
    s.steps = steps;
    s.seen = seen;
    vstring_reset(replies);
    vstring_reset(seen);
    return (xsasl_smtp_auth(&s.server, &io, "host[192.0.2.1]", "LOGIN", init, 100));
}

UNIT_TEST(auth_exchange_outcomes)
{
    VSTRING *replies = vstring_alloc(100), *seen = vstring_alloc(100);

    {
	const char *steps[] = {"MORE VXNlcm5hbWU6", "MORE UGFzc3dvcmQ6", "DONE "};
	const char *in[] = {"Ym9i", "cHcy", 0};

	EXPECT_INT(exchange(steps, in, 0, replies, seen), XSASL_AUTH_DONE);
	EXPECT_STR(vstring_str(replies), "334 VXNlcm5hbWU6\n334 UGFzc3dvcmQ6\n"
		   "235 2.7.0 Authentication successful\n");
	EXPECT_STR(vstring_str(seen), "(none)|Ym9i|cHcy|");
    }
    {
	const char *steps[] = {"FAIL (reason unavailable)"};

	EXPECT_INT(exchange(steps, 0, "=", replies, seen), XSASL_AUTH_FAIL);
	EXPECT_STR(vstring_str(replies),
		   "535 5.7.8 Error: authentication failed: (reason unavailable)\n");
	EXPECT_STR(vstring_str(seen), "=|");
    }
    {
	const char *steps[] = {"TEMP generic failure"};

	EXPECT_INT(exchange(steps, 0, "x", replies, seen), XSASL_AUTH_FAIL);
	EXPECT_STR(vstring_str(replies),
		   "454 4.7.0 Temporary authentication failure: generic failure\n");
    }
    {
	const char *steps[] = {"MORE "};
	const char *in[] = {"*"};

	EXPECT_INT(exchange(steps, in, 0, replies, seen), XSASL_AUTH_FAIL);
	EXPECT_STR(vstring_str(replies), "334 \n501 5.7.0 Authentication aborted\n");
    }
    {
	const char *steps[] = {"MORE "};
	const char *in[] = {"LONG"};

	EXPECT_INT(exchange(steps, in, 0, replies, seen), XSASL_AUTH_FAIL);
	EXPECT_STR(vstring_str(replies), "334 \n500 5.5.6 SASL response limit exceeded\n");
    }
    {
	const char *steps[] = {"MORE "};
	const char *in[] = {"LOST"};

	/* No reply: the caller ends the session. */
	EXPECT_INT(exchange(steps, in, 0, replies, seen), XSASL_SMTP_LOST);
	EXPECT_STR(vstring_str(replies), "334 \n");
    }
    vstring_free(replies);
    vstring_free(seen);
}

/* The Dovecot client against a scripted auth server. */

static char sock_path[108];

/*
 * dovecot_peer - a child that accepts one connection, checks the
 * handshake and the requests (want[i] must start each line read), and
 * writes say[i] after reading line i (the handshake counts as line 0).
 */
static pid_t dovecot_peer(const char **want, const char **say)
{
    struct sockaddr_un sun;
    int     lfd;
    pid_t   pid;

    snprintf(sock_path, sizeof(sock_path), "/tmp/test-xsasl-%ld", (long) getpid());
    unlink(sock_path);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, sock_path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0 || listen(lfd, 1) < 0)
	msg_fatal("test socket: %m");
    if ((pid = fork()) == 0) {
	int     fd = accept(lfd, 0, 0);
	VSTREAM *s = vstream_fdopen(fd);
	VSTRING *line = vstring_alloc(100);
	int     bad = 0;

	vstream_set_timeout(s, 10);
	for (int i = 0; want[i]; i++) {
	    if (vstream_get_line(s, line, 10000) != VSTREAM_LINE) {
		bad = 1;
		break;
	    }
	    if (strncmp(vstring_str(line), want[i], strlen(want[i])) != 0) {
		fprintf(stderr, "peer: got \"%s\", want \"%s\"\n", vstring_str(line), want[i]);
		bad = 1;
	    }
	    if (say[i] && *say[i]) {
		vstream_fputs(s, say[i]);
		vstream_fflush(s);
	    } else if (say[i] == 0) {
		break;				/* hang up */
	    }
	}
	_exit(bad);
    }
    close(lfd);
    return (pid);
}

static int peer_status(pid_t pid)
{
    int     status;

    waitpid(pid, &status, 0);
    unlink(sock_path);
    return (WIFEXITED(status) ? WEXITSTATUS(status) : 99);
}

static const XSASL_SERVER_PARAMS dc_params = {
    "smtp", "", "noanonymous", 1, "mx.test", "192.0.2.1", "1234", "192.0.2.2", "25",
};

UNIT_TEST(dovecot_exchange_and_odd_replies)
{
    const char *want[] = {"VERSION\t1\t0", "CPID\t",
	"AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=192.0.2.2\trip=192.0.2.1\tsecured\tresp=AGJvYgB4",
	"AUTH\t2\tLOGIN\tservice=smtp\tnologin\tlip=192.0.2.2\trip=192.0.2.1\tsecured",
	"CONT\t2\tYm9i",
    "AUTH\t3\tPLAIN", 0};
    const char *say[] = {"",
	"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
	"MECH\tANONYMOUS\tanonymous\nMECH\tSECRET\tprivate\nSPID\t1\nCUID\t1\nCOOKIE\tx\nDONE\n",
	/* A reply of another request first, then ours with escapes. */
	"FAIL\t9\treason=not ours\nFAIL\t1\treason=bad\001tpassword\001lhere\tuser=bob\n",
	"CONT\t2\tVXNlcm5hbWU6\n",
	"FAIL\t2\ttemp\treason=try later\n",
    0};
    pid_t   pid = dovecot_peer(want, say);
    XSASL_SERVER_IMPL *impl = xsasl_dovecot_init(sock_path);
    VSTRING *why = vstring_alloc(10), *reply = vstring_alloc(10);
    XSASL_SERVER *s = xsasl_server_create(impl, &dc_params, why);

    EXPECT(s != 0);
    if (s == 0) {
	kill(pid, SIGKILL);
	peer_status(pid);
	return;
    }
    /* noanonymous and private: neither ANONYMOUS nor SECRET. */
    EXPECT_STR(xsasl_server_mechs(s), "PLAIN LOGIN");
    EXPECT_INT(xsasl_server_first(s, "FOO", 0, reply), XSASL_AUTH_FAIL);
    EXPECT_STR(vstring_str(reply), "Invalid authentication mechanism");
    EXPECT_INT(xsasl_server_first(s, "plain", "!!!!", reply), XSASL_AUTH_FAIL);
    EXPECT_STR(vstring_str(reply), "Invalid base64 data in initial response");
    EXPECT_INT(xsasl_server_first(s, "plain", "AGJvYgB4", reply), XSASL_AUTH_FAIL);
    EXPECT_STR(vstring_str(reply), "bad?password?here");
    EXPECT_STR(xsasl_server_username(s), "bob");
    EXPECT_INT(xsasl_server_first(s, "LOGIN", 0, reply), XSASL_AUTH_MORE);
    EXPECT_STR(vstring_str(reply), "VXNlcm5hbWU6");
    EXPECT_INT(xsasl_server_next(s, "Ym9i", reply), XSASL_AUTH_TEMP);
    EXPECT_STR(vstring_str(reply), "try later");
    /* The peer hangs up after this request: a temporary failure. */
    EXPECT_INT(xsasl_server_first(s, "PLAIN", 0, reply), XSASL_AUTH_TEMP);
    EXPECT_STR(vstring_str(reply), "Connection lost to authentication server");
    xsasl_server_free(s);
    EXPECT_INT(peer_status(pid), 0);
    vstring_free(why);
    vstring_free(reply);
}

UNIT_TEST(dovecot_wrong_version_and_no_socket)
{
    const char *want[] = {"VERSION\t1\t0", 0};
    const char *say[] = {"VERSION\t2\t0\nDONE\n", 0};
    pid_t   pid = dovecot_peer(want, say);
    XSASL_SERVER_IMPL *impl = xsasl_dovecot_init(sock_path);
    VSTRING *why = vstring_alloc(10);

    EXPECT(xsasl_server_create(impl, &dc_params, why) == 0);
    EXPECT(strstr(vstring_str(why), "unsupported protocol version 2") != 0);
    peer_status(pid);
    impl = xsasl_dovecot_init("/nonexistent/auth");
    EXPECT(xsasl_server_create(impl, &dc_params, why) == 0);
    EXPECT_STR(vstring_str(why), "Connect to Dovecot auth socket '/nonexistent/auth' "
	       "failed: No such file or directory");
    vstring_free(why);
}

int     main(void)
{
    msg_init("test_xsasl", "test_xsasl");
    return (unit_run());
}
