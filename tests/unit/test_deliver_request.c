/*
 * NAME
 *	test_deliver_request - delivery requests and replies on the wire
 * DESCRIPTION
 *	qmgr's side sends a request over a socketpair, the agent's side
 *	reads it, records results and answers; qmgr reads the answers.
 *	Also: refused requests and replies, and Postfix's delay notation.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <regex.h>
#include <unistd.h>

#include "unit.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"
#include "util/msg.h"
#include "global/deliver_request.h"

static DELIVER_REQUEST *sample_request(void)
{
    DELIVER_REQUEST *req = mycalloc(1, sizeof(*req));

    req->queue_name = mystrdup("active");
    req->queue_id = mystrdup("72C22A73A21");
    req->data_offset = 345;
    req->data_size = 2810;
    req->sender = mystrdup("a@b.test");
    req->nexthop = mystrdup("[127.0.0.1]:2525");
    req->transport = mystrdup("relay");
    req->dsn_envid = mystrdup("env\001id");
    req->dsn_ret = DSN_RET_HDRS;
    req->client_name = mystrdup("localhost");
    req->client_addr = mystrdup("127.0.0.1");
    req->helo_name = mystrdup("client.test");
    req->sasl_username = mystrdup("");
    req->arrival_time = 1795423585.25;
    req->active_time = 1795423585.5;
    req->flags = DEL_REQ_FLAG_RECORD;
    req->rcpt_count = 2;
    req->rcpt = mycalloc(2, sizeof(RECIPIENT));
    req->rcpt[0].address = mystrdup("u1@example.com");
    req->rcpt[0].orig_addr = mystrdup("alias@example.com");
    req->rcpt[0].dsn_orcpt = mystrdup("rfc822;alias@example.com");
    req->rcpt[0].dsn_notify = 6;
    req->rcpt[0].offset = 120;
    req->rcpt[1].address = mystrdup("u2@example.com");
    req->rcpt[1].orig_addr = mystrdup("");
    req->rcpt[1].dsn_orcpt = mystrdup("");
    req->rcpt[1].offset = 160;
    return (req);
}

static void pair(VSTREAM **a, VSTREAM **b)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	abort();
    *a = vstream_fdopen(sv[0]);
    *b = vstream_fdopen(sv[1]);
    vstream_set_timeout(*a, 5);
    vstream_set_timeout(*b, 5);
}

UNIT_TEST(request_round_trip)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *sent = sample_request();
    DELIVER_REQUEST *got;

    pair(&qmgr, &agent);
    EXPECT_INT(deliver_request_send(qmgr, sent), 0);
    got = deliver_request_read(agent);
    EXPECT(got != 0);
    if (got == 0)
	return;
    EXPECT_STR(got->queue_name, "active");
    EXPECT_STR(got->queue_id, "72C22A73A21");
    EXPECT_INT(got->data_offset, 345);
    EXPECT_INT(got->data_size, 2810);
    EXPECT_STR(got->sender, "a@b.test");
    EXPECT_STR(got->nexthop, "[127.0.0.1]:2525");
    EXPECT_STR(got->transport, "relay");
    EXPECT_STR(got->dsn_envid, "env\001id");
    EXPECT_INT(got->dsn_ret, DSN_RET_HDRS);
    EXPECT_STR(got->client_addr, "127.0.0.1");
    EXPECT_STR(got->helo_name, "client.test");
    EXPECT_INT(got->flags, DEL_REQ_FLAG_RECORD);
    EXPECT(got->arrival_time > 1795423585.24 && got->arrival_time < 1795423585.26);
    EXPECT(got->active_time > 1795423585.49 && got->active_time < 1795423585.51);
    EXPECT_INT(got->rcpt_count, 2);
    EXPECT_STR(got->rcpt[0].address, "u1@example.com");
    EXPECT_STR(got->rcpt[0].orig_addr, "alias@example.com");
    EXPECT_STR(got->rcpt[0].dsn_orcpt, "rfc822;alias@example.com");
    EXPECT_INT(got->rcpt[0].dsn_notify, 6);
    EXPECT_INT(got->rcpt[0].offset, 120);
    EXPECT_STR(got->rcpt[1].address, "u2@example.com");
    EXPECT_STR(got->rcpt[1].orig_addr, "");
    EXPECT_INT(got->rcpt[1].offset, 160);

    /* Agent: one delivered, one failed; answer. */
    DSN_RESULT ok = {.status = "2.0.0", .action = 'd',
	.reason = "250 2.0.0 Ok: queued as X", .relay = "mx[127.0.0.1]:2525",
    .conn_setup = 0.25, .xmit = 0.5, .conn_reuse = 2};
    DSN_RESULT bad = {.status = "5.1.1", .action = 'f',
	.reason = "host mx[127.0.0.1] said: 550 5.1.1 no", .relay = "mx[127.0.0.1]:2525",
    .remote_mta = "mx", .diag = "550 5.1.1 no"};

    deliver_result(got, 0, &ok);
    deliver_result(got, 1, &bad);
    EXPECT_INT(deliver_request_done(agent, got), 0);

    EXPECT_INT(deliver_reply_read(qmgr, sent), 0);
    EXPECT(sent->rcpt[0].have_result);
    EXPECT(sent->rcpt[1].have_result);
    EXPECT_STR(sent->rcpt[0].result.status, "2.0.0");
    EXPECT_INT(sent->rcpt[0].result.action, 'd');
    EXPECT_STR(sent->rcpt[0].result.reason, "250 2.0.0 Ok: queued as X");
    EXPECT_STR(sent->rcpt[0].result.relay, "mx[127.0.0.1]:2525");
    EXPECT(sent->rcpt[0].result.remote_mta == 0);
    EXPECT_INT(sent->rcpt[0].result.conn_reuse, 2);
    EXPECT(sent->rcpt[0].result.xmit > 0.49 && sent->rcpt[0].result.xmit < 0.51);
    EXPECT_STR(sent->rcpt[1].result.status, "5.1.1");
    EXPECT_INT(sent->rcpt[1].result.action, 'f');
    EXPECT_STR(sent->rcpt[1].result.remote_mta, "mx");
    EXPECT_STR(sent->rcpt[1].result.diag, "550 5.1.1 no");

    deliver_request_free(got);
    deliver_request_free(sent);
    vstream_close(qmgr);
    vstream_close(agent);
}

UNIT_TEST(partial_results)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *sent = sample_request();
    DELIVER_REQUEST *got;

    pair(&qmgr, &agent);
    EXPECT_INT(deliver_request_send(qmgr, sent), 0);
    got = deliver_request_read(agent);
    EXPECT(got != 0);
    if (got == 0)
	return;
    DSN_RESULT later = {.status = "4.4.1", .action = 'x', .reason = "connect refused"};

    deliver_result(got, 1, &later);
    EXPECT_INT(deliver_request_done(agent, got), 0);
    EXPECT_INT(deliver_reply_read(qmgr, sent), 0);
    EXPECT(!sent->rcpt[0].have_result);
    EXPECT(sent->rcpt[1].have_result);
    EXPECT_STR(sent->rcpt[1].result.relay, "none");
    EXPECT_INT(sent->rcpt[1].result.action, 'x');
    deliver_request_free(got);
    deliver_request_free(sent);
    vstream_close(qmgr);
    vstream_close(agent);
}

/* send_raw - write an attribute list as given */
static void send_raw(VSTREAM *s, const char **pairs)
{
    ATTR   *a = attr_alloc();

    for (; pairs[0]; pairs += 2)
	attr_add(a, pairs[0], pairs[1]);
    attr_send(s, a);
    attr_free(a);
}

UNIT_TEST(bad_requests_refused)
{
    VSTREAM *qmgr, *agent;
    const char *traversal[] = {DELIVER_ATTR_QUEUE_NAME, "active",
	DELIVER_ATTR_QUEUE_ID, "../../etc/passwd",
    DELIVER_ATTR_RECIPIENT, "a@b", 0};
    const char *no_rcpt[] = {DELIVER_ATTR_QUEUE_NAME, "active",
    DELIVER_ATTR_QUEUE_ID, "ABC", 0};
    const char *no_id[] = {DELIVER_ATTR_QUEUE_NAME, "active",
    DELIVER_ATTR_RECIPIENT, "a@b", 0};
    const char *bad_num[] = {DELIVER_ATTR_QUEUE_NAME, "active", DELIVER_ATTR_QUEUE_ID, "ABC",
    DELIVER_ATTR_DATA_OFFSET, "-5", DELIVER_ATTR_RECIPIENT, "a@b", 0};
    const char *orphan[] = {DELIVER_ATTR_QUEUE_NAME, "active", DELIVER_ATTR_QUEUE_ID, "ABC",
    DELIVER_ATTR_OFFSET, "5", DELIVER_ATTR_RECIPIENT, "a@b", 0};
    const char *empty_rcpt[] = {DELIVER_ATTR_QUEUE_NAME, "active",
    DELIVER_ATTR_QUEUE_ID, "ABC", DELIVER_ATTR_RECIPIENT, "", 0};
    const char *twice[] = {DELIVER_ATTR_QUEUE_NAME, "active", DELIVER_ATTR_QUEUE_ID, "ABC",
	DELIVER_ATTR_RECIPIENT, "a@b", DELIVER_ATTR_OFFSET, "5",
    DELIVER_ATTR_OFFSET, "6", 0};
    const char *bad_notify[] = {DELIVER_ATTR_QUEUE_NAME, "active", DELIVER_ATTR_QUEUE_ID,
    "ABC", DELIVER_ATTR_RECIPIENT, "a@b", DELIVER_ATTR_DSN_NOTIFY, "16", 0};
    const char *unknown[] = {DELIVER_ATTR_QUEUE_NAME, "active", DELIVER_ATTR_QUEUE_ID, "ABC",
	"future_thing", "x", DELIVER_ATTR_RECIPIENT, "a@b", "future_rcpt_thing", "y",
    DELIVER_ATTR_RECIPIENT, "c@d", DELIVER_ATTR_OFFSET, "77", 0};
    const char **refused[] = {traversal, no_rcpt, no_id, bad_num, orphan, empty_rcpt,
    twice, bad_notify, 0};

    /* A refused request leaves the stream unusable: one pair each. */
    for (const char ***cp = refused; *cp; cp++) {
	pair(&qmgr, &agent);
	send_raw(qmgr, *cp);
	EXPECT(deliver_request_read(agent) == 0);
	vstream_close(qmgr);
	vstream_close(agent);
    }

    /* Unknown names are skipped, at the top and inside a group. */
    pair(&qmgr, &agent);
    send_raw(qmgr, unknown);
    DELIVER_REQUEST *ok = deliver_request_read(agent);

    EXPECT(ok != 0);
    if (ok) {
	EXPECT_INT(ok->rcpt_count, 2);
	EXPECT_STR(ok->rcpt[0].address, "a@b");
	EXPECT_STR(ok->rcpt[0].orig_addr, "");
	EXPECT_INT(ok->rcpt[0].offset, 0);
	EXPECT_STR(ok->rcpt[1].address, "c@d");
	EXPECT_INT(ok->rcpt[1].offset, 77);
	EXPECT_STR(ok->sender, "");
	EXPECT_STR(ok->nexthop, "");
    }
    deliver_request_free(ok);

    /* A clean end of file is not a request either. */
    vstream_close(qmgr);
    EXPECT(deliver_request_read(agent) == 0);
    vstream_close(agent);
}

/*
 * The bytes qmgr sends: the integration tests (test_smtp.py) and
 * processes of the previous build speak exactly this.
 */
UNIT_TEST(request_wire_form)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *req = sample_request();
    static const char want[] =
    "flags\0" "2\0" "queue_name\0" "active\0" "queue_id\0" "72C22A73A21\0"
    "data_offset\0" "345\0" "data_size\0" "2810\0"
    "nexthop\0" "[127.0.0.1]:2525\0" "transport\0" "relay\0" "sender\0" "a@b.test\0"
    "dsn_envid\0" "env\001id\0" "dsn_ret\0" "2\0" "client_name\0" "localhost\0"
    "client_address\0" "127.0.0.1\0" "helo_name\0" "client.test\0"
    "sasl_username\0" "\0" "arrival_time\0" "1795423585.250000\0"
    "active_time\0" "1795423585.500000\0" "rcpt_count\0" "2\0"
    "recipient\0" "u1@example.com\0" "original_recipient\0" "alias@example.com\0"
    "offset\0" "120\0" "dsn_notify\0" "6\0" "dsn_orig_rcpt\0" "rfc822;alias@example.com\0"
    "recipient\0" "u2@example.com\0" "original_recipient\0" "\0"
    "offset\0" "160\0" "dsn_notify\0" "0\0" "dsn_orig_rcpt\0" "\0" "\0";
    char    got[sizeof(want) + 16];
    ssize_t n;
    size_t  len = 0;

    pair(&qmgr, &agent);
    EXPECT_INT(deliver_request_send(qmgr, req), 0);
    vstream_close(qmgr);
    while (len < sizeof(got)
	   && (n = read(vstream_fileno(agent), got + len, sizeof(got) - len)) > 0)
	len += (size_t) n;
    EXPECT_INT(len, sizeof(want) - 1);
    EXPECT(len == sizeof(want) - 1 && memcmp(got, want, len) == 0);
    vstream_close(agent);
    deliver_request_free(req);
}

UNIT_TEST(reply_wire_form)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *req = sample_request();
    DSN_RESULT bad = {.status = "5.1.1", .action = 'f', .reason = "550 no",
    .relay = "mx[192.0.2.1]:25", .diag = "550 no", .conn_setup = 0.5, .flags = 2};
    static const char want[] =
    "rcpt_index\0" "1\0" "dsn_status\0" "5.1.1\0" "dsn_action\0" "f\0"
    "reason\0" "550 no\0" "relay\0" "mx[192.0.2.1]:25\0" "diag\0" "550 no\0"
    "conn_setup\0" "0.500000\0" "xmit\0" "0.000000\0" "conn_reuse\0" "0\0"
    "dsn_flags\0" "2\0" "status\0" "0\0" "\0";
    char    got[sizeof(want) + 16];
    ssize_t n;
    size_t  len = 0;

    pair(&qmgr, &agent);
    req->flags = 0;
    deliver_result(req, 1, &bad);
    EXPECT_INT(deliver_request_done(agent, req), 0);
    vstream_close(agent);
    while (len < sizeof(got)
	   && (n = read(vstream_fileno(qmgr), got + len, sizeof(got) - len)) > 0)
	len += (size_t) n;
    EXPECT_INT(len, sizeof(want) - 1);
    EXPECT(len == sizeof(want) - 1 && memcmp(got, want, len) == 0);
    vstream_close(qmgr);
    deliver_request_free(req);
}

UNIT_TEST(bad_replies_refused)
{
    VSTREAM *qmgr, *agent;
    DELIVER_REQUEST *req = sample_request();
    const char *bad_index[] = {DELIVER_ATTR_RCPT_INDEX, "2", DELIVER_ATTR_DSN_STATUS, "2.0.0",
    DELIVER_ATTR_DSN_ACTION, "d", ATTR_NAME_STATUS, "0", 0};
    const char *bad_status[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS, "2.0",
    DELIVER_ATTR_DSN_ACTION, "d", ATTR_NAME_STATUS, "0", 0};
    const char *bad_action[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS, "2.0.0",
    DELIVER_ATTR_DSN_ACTION, "q", ATTR_NAME_STATUS, "0", 0};
    const char *no_status[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS, "2.0.0",
    DELIVER_ATTR_DSN_ACTION, "d", 0};
    const char *agent_error[] = {ATTR_NAME_STATUS, "1", 0};
    const char *no_action[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS, "2.0.0",
    ATTR_NAME_STATUS, "0", 0};
    const char *same_index[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS,
	"2.0.0", DELIVER_ATTR_DSN_ACTION, "d", DELIVER_ATTR_RCPT_INDEX, "0",
	DELIVER_ATTR_DSN_STATUS, "5.0.0", DELIVER_ATTR_DSN_ACTION, "f",
    ATTR_NAME_STATUS, "0", 0};
    const char *orphan[] = {DELIVER_ATTR_DSN_STATUS, "2.0.0", DELIVER_ATTR_RCPT_INDEX, "0",
    DELIVER_ATTR_DSN_STATUS, "2.0.0", DELIVER_ATTR_DSN_ACTION, "d", ATTR_NAME_STATUS, "0", 0};
    const char *half_good[] = {DELIVER_ATTR_RCPT_INDEX, "0", DELIVER_ATTR_DSN_STATUS, "2.0.0",
	DELIVER_ATTR_DSN_ACTION, "d", DELIVER_ATTR_RCPT_INDEX, "1",
	DELIVER_ATTR_DSN_STATUS, "9.9.9",
    DELIVER_ATTR_DSN_ACTION, "d", ATTR_NAME_STATUS, "0", 0};
    const char **refused[] = {bad_index, bad_status, bad_action, no_status, agent_error,
    no_action, same_index, orphan, half_good, 0};

    for (const char ***cp = refused; *cp; cp++) {
	pair(&qmgr, &agent);
	send_raw(agent, *cp);
	EXPECT_INT(deliver_reply_read(qmgr, req), -1);
	EXPECT(!req->rcpt[0].have_result && !req->rcpt[1].have_result);
	vstream_close(qmgr);
	vstream_close(agent);
    }
    pair(&qmgr, &agent);
    vstream_close(agent);
    EXPECT_INT(deliver_reply_read(qmgr, req), -1);
    vstream_close(qmgr);
    deliver_request_free(req);
}

static const char *fmt(double secs)
{
    static VSTRING *buf;

    if (buf == 0)
	buf = vstring_alloc(16);
    vstring_reset(buf);
    deliver_format_delay(buf, secs);
    return (vstring_str(buf));
}

UNIT_TEST(delay_notation)
{
    EXPECT_STR(fmt(0), "0");
    EXPECT_STR(fmt(-1), "0");
    EXPECT_STR(fmt(0.004), "0");
    EXPECT_STR(fmt(0.005), "0.01");
    EXPECT_STR(fmt(0.03), "0.03");
    EXPECT_STR(fmt(0.083), "0.08");
    EXPECT_STR(fmt(0.1), "0.1");
    EXPECT_STR(fmt(0.156), "0.16");
    EXPECT_STR(fmt(1), "1");
    EXPECT_STR(fmt(1.04), "1");
    EXPECT_STR(fmt(1.25), "1.2");
    EXPECT_STR(fmt(3.5), "3.5");
    EXPECT_STR(fmt(12.7), "12");
    EXPECT_STR(fmt(4000.2), "4000");
}

/* logged - what deliver_log() writes, as one line */
static const char *logged(DELIVER_REQUEST *req, RECIPIENT *rcpt, DSN_RESULT *res)
{
    static char buf[2048];
    char    path[] = "/tmp/test_deliver_log.XXXXXX";
    int     fd = mkstemp(path);
    ssize_t n;

    msg_init("postfix", "smtp");
    msg_to_fd(fd);
    deliver_log(req, rcpt, res);
    msg_to_fd(-1);
    fd = open(path, O_RDONLY);
    n = read(fd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return (buf);
}

static int matches(const char *text, const char *pattern)
{
    regex_t re;
    int     ok;

    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
	return (0);
    ok = regexec(&re, text, 0, 0, 0) == 0;
    regfree(&re);
    return (ok);
}

UNIT_TEST(log_line)
{
    DELIVER_REQUEST *req = sample_request();
    struct timeval tv;
    const char *line;

    gettimeofday(&tv, 0);
    req->arrival_time = tv.tv_sec + tv.tv_usec / 1e6 - 1.25;
    req->active_time = req->arrival_time + 0.5;
    DSN_RESULT ok = {.status = "2.0.0", .action = 'd', .reason = "250 2.0.0 Ok: queued as X",
    .relay = "mx.example.com[192.0.2.1]:25", .conn_setup = 0.25, .xmit = 0.125, .conn_reuse = 3};

    line = logged(req, req->rcpt + 0, &ok);
    EXPECT(matches(line, "^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]{8} [^ ]+ postfix/smtp\\[[0-9]+\\]: "
		   "72C22A73A21: to=<u1@example.com>, orig_to=<alias@example.com>, "
		   "relay=mx.example.com\\[192.0.2.1\\]:25, conn_use=3, delay=1\\.[2-4], "
		   "delays=0.5/0.[3-5][0-9]?/0.25/0.13, dsn=2.0.0, status=sent "
		   "\\(250 2.0.0 Ok: queued as X\\)\n$"));
    if (!matches(line, "delays=0.5/0.[3-5][0-9]?/0.25/0.13, dsn"))
	printf("      got: %s", line);

    DSN_RESULT later = {.status = "4.4.1", .action = 'x',
    .reason = "connect to mx[192.0.2.1]:25: Connection refused"};

    line = logged(req, req->rcpt + 1, &later);
    EXPECT(matches(line, ": 72C22A73A21: to=<u2@example.com>, relay=none, delay=1\\.[2-4], "
		   "delays=0.5/0.[7-9][0-9]?/0/0, dsn=4.4.1, status=deferred "
		   "\\(connect to mx\\[192.0.2.1\\]:25: Connection refused\\)\n$"));
    if (!matches(line, "relay=none, delay=1\\.[2-4], "))
	printf("      got: %s", line);
    deliver_request_free(req);
}

int     main(void)
{
    return (unit_run());
}
